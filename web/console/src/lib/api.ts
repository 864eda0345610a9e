// The console's API client: same-origin fetch with the bearer token from sessionStorage, JSON
// helpers, readable errors (problem.ts), a 401 hook that opens the login box, and the
// /api/v1/services list with helpers to pick the upstream a page needs.
import { ApiError, problemMessage } from './problem';
import type { ServiceInfo } from './types';

const TOKEN_KEY = 'strata.console.token';
type Listener = () => void;
const authListeners = new Set<Listener>();

export function getToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}
export function setToken(t: string): void {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lives only as long as this call */
  }
}
/** Called whenever an answer is 401 (the app shows the login box). */
export function onAuthRequired(l: Listener): () => void {
  authListeners.add(l);
  return () => authListeners.delete(l);
}
export function authRequired(): void {
  for (const l of authListeners) l();
}

export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const t = getToken();
  return t ? { ...extra, Authorization: `Bearer ${t}` } : extra;
}

export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = authHeaders((init.headers as Record<string, string>) ?? {});
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401) authRequired();
  if (!res.ok) {
    const body = await res.text().catch(() => '');
    throw new ApiError(res.status, problemMessage(res.status, res.statusText, res.headers.get('content-type') ?? '', body));
  }
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await apiFetch(path)).json()) as T;
}

export async function sendJson<T>(method: string, path: string, body: unknown): Promise<T | null> {
  const res = await apiFetch(path, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return text ? (JSON.parse(text) as T) : null;
}

/** URL of a proxied upstream route: svcPath("notify", "events", "01H…", "snapshot.jpg"). */
export function svcPath(service: string, ...parts: string[]): string {
  return `api/v1/svc/${encodeURIComponent(service)}/${parts.map(encodeURIComponent).join('/')}`;
}

export async function fetchServices(): Promise<ServiceInfo[]> {
  const doc = await getJson<{ services?: ServiceInfo[] }>('api/v1/services');
  return Array.isArray(doc.services) ? doc.services : [];
}

export function servicesOfType(all: ServiceInfo[], type: string): ServiceInfo[] {
  return all.filter((s) => s.type === type);
}

/** The federated cloud aggregator: type federate with role/name/tier saying cloud, else the first federate. */
export function pickFederateCloud(all: ServiceInfo[]): ServiceInfo | undefined {
  const fed = servicesOfType(all, 'federate');
  return (
    fed.find((s) => s.role === 'cloud') ??
    fed.find((s) => /cloud/.test(s.name)) ??
    fed.find((s) => s.tier === 'cloud') ??
    fed[0]
  );
}
