// Shared UI pieces: the async-load hook, an interval hook, the services list hook, an error box,
// and the "service missing" notice pages show when /api/v1/services lacks what they need.
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { errorText } from '../lib/problem';
import type { ServiceInfo } from '../lib/types';

/** Bumped after a login so every page reloads with the new token. */
export const AuthEpoch = createContext(0);

export interface Loaded<T> {
  data: T | undefined;
  error: string;
  loading: boolean;
  reload: () => void;
}

export function useLoad<T>(fn: (() => Promise<T>) | null, deps: unknown[]): Loaded<T> {
  const epoch = useContext(AuthEpoch);
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    if (!fn) return;
    let live = true;
    setLoading(true);
    fn().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError('');
        setLoading(false);
      },
      (e) => {
        if (!live) return;
        setError(errorText(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick, epoch, fn === null]);
  return { data, error, loading, reload };
}

export function useInterval(fn: () => void, ms: number): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const id = setInterval(() => ref.current(), ms);
    return () => clearInterval(id);
  }, [ms]);
}

export const Services = createContext<Loaded<ServiceInfo[]>>({ data: undefined, error: '', loading: true, reload: () => {} });

export function useServices(): Loaded<ServiceInfo[]> {
  return useContext(Services);
}

export function ErrorBox({ error }: { error: string }) {
  return error ? (
    <div class="error" role="alert">
      {error}
    </div>
  ) : null;
}

/** Renders children with the services of `type`, or a notice naming what is missing. */
export function NeedService({
  type,
  what,
  children,
}: {
  type: string;
  what: string;
  children: (svcs: ServiceInfo[]) => ComponentChildren;
}) {
  const s = useServices();
  if (s.error) return <ErrorBox error={`cannot list services: ${s.error}`} />;
  if (!s.data) return <p class="muted">Loading services…</p>;
  const found = s.data.filter((x) => x.type === type);
  if (found.length === 0)
    return (
      <div class="missing">
        <strong>No {type} service.</strong> {what} needs a service of type <code>{type}</code>, but the console has none
        configured (it knows: {s.data.map((x) => `${x.name} (${x.type})`).join(', ') || 'nothing'}).
      </div>
    );
  return <>{children(found)}</>;
}

export function StateDot({ state }: { state: string }) {
  return <span class={`dot ${state}`} title={state} />;
}
