// The live stream: GET api/v1/stream (SSE) read with fetch() so it can send the bearer token;
// parsed by SseParser; `overview` and `alert` events go to subscribers. Reconnects with backoff
// (1 s doubling to 15 s); a 401 opens the login box and waits for a new token (reconnect()).
import { SseParser } from './sse';
import { authHeaders, authRequired } from './api';
import type { Alert, Overview } from './types';

type Handler<T> = (v: T) => void;
const overviewHandlers = new Set<Handler<Overview>>();
const alertHandlers = new Set<Handler<Alert>>();
const statusHandlers = new Set<Handler<string>>();
let lastOverview: Overview | null = null;
let status = 'connecting';
let controller: AbortController | null = null;
let backoff = 1000;
let timer: ReturnType<typeof setTimeout> | null = null;

function setStatus(s: string) {
  status = s;
  for (const h of statusHandlers) h(s);
}

export function subscribeOverview(h: Handler<Overview>): () => void {
  overviewHandlers.add(h);
  if (lastOverview) h(lastOverview);
  return () => overviewHandlers.delete(h);
}
export function subscribeAlerts(h: Handler<Alert>): () => void {
  alertHandlers.add(h);
  return () => alertHandlers.delete(h);
}
export function subscribeStatus(h: Handler<string>): () => void {
  statusHandlers.add(h);
  h(status);
  return () => statusHandlers.delete(h);
}

function dispatch(event: string, data: string) {
  let doc: unknown;
  try {
    doc = JSON.parse(data);
  } catch {
    return; // a malformed event is skipped, the stream goes on
  }
  if (event === 'overview') {
    lastOverview = doc as Overview;
    for (const h of overviewHandlers) h(lastOverview);
  } else if (event === 'alert') {
    for (const h of alertHandlers) h(doc as Alert);
  }
}

async function run(signal: AbortSignal) {
  const res = await fetch('api/v1/stream', { headers: authHeaders({ Accept: 'text/event-stream' }), signal, cache: 'no-store' });
  if (res.status === 401) {
    setStatus('login required');
    authRequired();
    return false;
  }
  if (!res.ok || !res.body) throw new Error(`stream: HTTP ${res.status}`);
  setStatus('live');
  backoff = 1000;
  const parser = new SseParser();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const ev of parser.push(value)) dispatch(ev.event, ev.data);
  }
  return true;
}

export function connect(): void {
  controller?.abort();
  if (timer) clearTimeout(timer);
  const c = new AbortController();
  controller = c;
  setStatus('connecting');
  run(c.signal).then(
    (again) => again && !c.signal.aborted && schedule(c),
    () => !c.signal.aborted && schedule(c),
  );
}

function schedule(c: AbortController) {
  if (controller !== c) return;
  setStatus(`reconnecting in ${Math.round(backoff / 1000)} s`);
  timer = setTimeout(connect, backoff);
  backoff = Math.min(backoff * 2, 15000);
}

/** After a new token: drop the old connection and open a fresh one. */
export function reconnect(): void {
  backoff = 1000;
  connect();
}
