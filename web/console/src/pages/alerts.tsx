// Alerts: notify's alert log, newest first, with new `alert` events from the live stream
// prepended without a reload (deduplicated by alert_id, lib/alerts.ts). Each alert shows its crop,
// identity decision and score, camera, type, time, per-hop bytes/latency, an Acknowledge button
// (POST .../events/{id}/ack) and "Add to gallery" (the crop → identify's gallery, two clicks).
import { useEffect, useReducer, useState } from 'preact/hooks';
import { apiFetch, getJson, sendJson, svcPath } from '../lib/api';
import { ackedBy, alertReducer, distinct, emptyAlerts, filterAlerts, isAcked, alertTime } from '../lib/alerts';
import { subscribeAlerts } from '../lib/stream';
import { formatBytes, formatDuration, formatNumber, formatTime } from '../lib/format';
import { errorText } from '../lib/problem';
import { ErrorBox, NeedService, useServices } from '../components/common';
import { AuthImage } from '../components/thumb';
import type { Alert, ServiceInfo } from '../lib/types';

const WINDOWS: [string, number][] = [
  ['any time', 0],
  ['last 15 min', 15 * 60e3],
  ['last hour', 60 * 60e3],
  ['last 24 h', 24 * 60 * 60e3],
];

function Identity({ a }: { a: Alert }) {
  const id = a.identity;
  if (!id || !id.status) return <span class="muted">—</span>;
  const score = id.score == null ? '' : ` · score ${formatNumber(id.score)}${id.threshold != null ? ` / ${formatNumber(id.threshold)}` : ''}`;
  return (
    <span class={`ident ${id.status}`}>
      {id.status === 'known' ? `known: ${id.name}` : id.status === 'unknown' ? `unknown${id.name ? ` (closest ${id.name})` : ''}` : id.status}
      <span class="muted">{score}</span>
    </span>
  );
}

function Hops({ a }: { a: Alert }) {
  const hops = Array.isArray(a.hops) ? a.hops : [];
  if (hops.length === 0 && a.latency_ms?.end_to_end == null) return null;
  return (
    <div class="hops">
      {hops.map((h) => (
        <span class="hop">
          {h.node}: {formatBytes(h.bytes)} · {formatDuration(h.latency_ms)}
        </span>
      ))}
      {a.latency_ms?.end_to_end != null && <span class="hop total">end to end {formatDuration(a.latency_ms.end_to_end)}</span>}
    </div>
  );
}

function AddToGallery({ a, notify, identify, onDone }: { a: Alert; notify: string; identify: ServiceInfo | undefined; onDone: (msg: string) => void }) {
  const [open, setOpen] = useState(false);
  const [people, setPeople] = useState<string[]>([]);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  if (!identify) return <span class="muted small">no identify service: cannot enrol</span>;
  if (!a.snapshot_url) return null;
  const add = async (person: string) => {
    setBusy(true);
    try {
      const img = await (await apiFetch(svcPath(notify, 'events', a.alert_id, 'snapshot.jpg'))).blob();
      const r = await apiFetch(svcPath(identify.name, 'gallery', person), {
        method: 'POST',
        headers: { 'Content-Type': img.type || 'image/jpeg' },
        body: img,
      });
      const doc = await r.json().catch(() => ({}));
      onDone(`added the crop to ${person} (${doc.templates ?? '?'} template${doc.templates === 1 ? '' : 's'}${doc.face_found === false ? ', no face found: whole crop used' : ''})`);
      setOpen(false);
    } catch (e) {
      onDone(`could not add to the gallery: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };
  if (!open)
    return (
      <button
        class="secondary"
        onClick={() => {
          setOpen(true);
          getJson<{ people?: { name: string }[] }>(svcPath(identify.name, 'gallery') + '?limit=1000').then(
            (d) => setPeople((d.people ?? []).map((p) => p.name)),
            (e) => onDone(errorText(e)),
          );
        }}
      >
        Add to gallery
      </button>
    );
  return (
    <div class="addgallery">
      {people.map((p) => (
        <button class="secondary" disabled={busy} onClick={() => add(p)}>
          {p}
        </button>
      ))}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) add(name.trim());
        }}
      >
        <input placeholder="new person" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={busy || !name.trim()}>
          Add as new
        </button>
        <button type="button" class="link" onClick={() => setOpen(false)}>
          cancel
        </button>
      </form>
    </div>
  );
}

function AlertList({ notify, params }: { notify: ServiceInfo; params: Record<string, string> }) {
  const services = useServices();
  const identify = services.data?.find((s) => s.type === 'identify');
  const [state, dispatch] = useReducer(alertReducer, emptyAlerts);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const [camera, setCamera] = useState(params.camera ?? '');
  const [type, setType] = useState(params.type ?? '');
  const [windowMs, setWindowMs] = useState(0);
  const [fresh, setFresh] = useState<Set<string>>(new Set());

  const load = (before: string | null) => {
    const q = new URLSearchParams({ limit: '50' });
    if (before) q.set('before', before);
    getJson<{ events?: Alert[]; next?: string | null }>(`${svcPath(notify.name, 'events')}?${q}`).then(
      (d) => {
        dispatch({ kind: 'page', events: d.events ?? [], next: d.next ?? null, replace: !before });
        setError('');
      },
      (e) => setError(errorText(e)),
    );
  };
  useEffect(() => load(null), [notify.name]);
  useEffect(
    () =>
      subscribeAlerts((a) => {
        dispatch({ kind: 'live', event: a });
        setFresh((f) => new Set(f).add(a.alert_id));
      }),
    [],
  );

  const ack = async (a: Alert) => {
    try {
      const doc = await sendJson<Alert>('POST', svcPath(notify.name, 'events', a.alert_id, 'ack'), { by: 'operator' });
      dispatch({ kind: 'update', event: doc && doc.alert_id ? doc : { ...a, acknowledged: { by: 'operator', at_ms: Date.now() } } });
    } catch (e) {
      setNote(`acknowledge failed: ${errorText(e)}`);
    }
  };

  const shown = filterAlerts(state.items, { camera, type, sinceMs: windowMs ? Date.now() - windowMs : undefined });
  return (
    <>
      <div class="filters">
        <label>
          Camera{' '}
          <select value={camera} onChange={(e) => setCamera((e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {distinct(state.items, 'camera').map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          Type{' '}
          <select value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {distinct(state.items, 'event_type').map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          Time{' '}
          <select value={String(windowMs)} onChange={(e) => setWindowMs(Number((e.target as HTMLSelectElement).value))}>
            {WINDOWS.map(([l, ms]) => (
              <option value={String(ms)}>{l}</option>
            ))}
          </select>
        </label>
        <span class="muted">
          {shown.length} of {state.items.length} alerts
        </span>
      </div>
      <ErrorBox error={error} />
      {note && (
        <div class="note" onClick={() => setNote('')}>
          {note}
        </div>
      )}
      {shown.length === 0 && !error && <p class="muted">No alerts yet. New ones appear here as they happen.</p>}
      <ul class="alerts">
        {shown.map((a) => (
          <li class={`alert ${fresh.has(a.alert_id) ? 'fresh' : ''} ${isAcked(a) ? 'acked' : ''}`} key={a.alert_id} data-alert-id={a.alert_id}>
            <AuthImage
              src={a.snapshot_url ? svcPath(notify.name, 'events', a.alert_id, 'snapshot.jpg') : null}
              alt={`crop of alert ${a.alert_id}`}
              cls="crop"
            />
            <div class="body">
              <div class="head">
                <span class={`type ${a.event_type ?? ''}`}>{a.event_type ?? 'alert'}</span>
                <span class="camera">{a.camera}</span>
                <span class="muted">{formatTime(alertTime(a))} UTC</span>
                {a.phase && <span class="phase">{a.phase}</span>}
              </div>
              <div>
                <Identity a={a} />
                {a.zones && a.zones.length > 0 && <span class="muted"> · zones {a.zones.join(', ')}</span>}
                {a.score != null && <span class="muted"> · detection {formatNumber(a.score)}</span>}
                {a.track_id != null && <span class="muted"> · track {a.track_id}</span>}
              </div>
              <Hops a={a} />
              <div class="actions">
                {isAcked(a) ? (
                  <span class="badge ready">acknowledged{ackedBy(a) ? ` by ${ackedBy(a)}` : ''}</span>
                ) : (
                  <button onClick={() => ack(a)}>Acknowledge</button>
                )}
                <AddToGallery a={a} notify={notify.name} identify={identify} onDone={setNote} />
              </div>
            </div>
          </li>
        ))}
      </ul>
      {state.next && (
        <button class="secondary" onClick={() => load(state.next)}>
          Older alerts
        </button>
      )}
    </>
  );
}

export function AlertsPage({ params }: { params: Record<string, string> }) {
  return (
    <section>
      <h1>Alerts</h1>
      <NeedService type="notify" what="The alerts page">
        {(n) => <AlertList notify={n[0]} params={params} />}
      </NeedService>
    </section>
  );
}
