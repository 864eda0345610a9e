// Cameras: one card per roof service — its latest frame (roof's snapshot.jpg, refreshed every
// few seconds through the console proxy) and its /stats counters (frames read/forwarded, the
// forwarded ratio, bytes sent vs raw frames).
import { useEffect, useState } from 'preact/hooks';
import { apiFetch, getJson, svcPath } from '../lib/api';
import { ErrorBox, NeedService, useInterval } from '../components/common';
import { formatBytes, formatDuration, formatPercent } from '../lib/format';
import { errorText } from '../lib/problem';
import type { ServiceInfo } from '../lib/types';

const REFRESH_MS = 3000;

interface RoofStats {
  camera?: string;
  frames_captured?: number;
  frames_changed?: number;
  frames_forwarded?: number;
  frames_skipped_unchanged?: number;
  frames_skipped_rate_cap?: number;
  frames_dropped_queue_full?: number;
  bytes_forwarded?: number;
  raw_bytes_equivalent?: number;
  jpeg_bytes_equivalent_estimate?: number;
  fog_errors?: number;
  eof?: boolean;
  forward_fps_now?: number;
  fog_round_trip_ms?: { p50?: number; p95?: number; p99?: number };
}

function Camera({ svc }: { svc: ServiceInfo }) {
  const [stats, setStats] = useState<RoofStats | null>(null);
  const [img, setImg] = useState('');
  const [error, setError] = useState('');
  const [imgError, setImgError] = useState('');

  const refresh = () => {
    getJson<RoofStats>(svcPath(svc.name, 'stats')).then(
      (s) => {
        setStats(s);
        setError('');
      },
      (e) => setError(errorText(e)),
    );
    // Fetched as a blob (not <img src>) so the bearer token goes along.
    apiFetch(svcPath(svc.name, 'snapshot.jpg')).then(
      async (r) => {
        const url = URL.createObjectURL(await r.blob());
        setImg((old) => {
          if (old) URL.revokeObjectURL(old);
          return url;
        });
        setImgError('');
      },
      (e) => setImgError(errorText(e)),
    );
  };
  useEffect(refresh, [svc.name]);
  useInterval(refresh, REFRESH_MS);

  const s = stats ?? {};
  const ratio = s.frames_captured ? (s.frames_forwarded ?? 0) / s.frames_captured : undefined;
  const saved = s.raw_bytes_equivalent !== undefined && s.bytes_forwarded !== undefined ? s.raw_bytes_equivalent - s.bytes_forwarded : undefined;
  return (
    <div class="card camera" data-service={svc.name}>
      <h2>
        {s.camera ?? svc.name} <span class="muted small">({svc.name}{svc.node ? ` on ${svc.node}` : ''})</span>
      </h2>
      <div class="snapshot">{img ? <img src={img} alt={`latest frame of ${svc.name}`} /> : <div class="noimg">{imgError || 'no frame yet'}</div>}</div>
      <ErrorBox error={error} />
      {stats && (
        <table class="kv">
          <tbody>
            <tr><th>Frames read</th><td>{s.frames_captured ?? '—'}</td></tr>
            <tr><th>Changed</th><td>{s.frames_changed ?? '—'}</td></tr>
            <tr><th>Forwarded</th><td>{s.frames_forwarded ?? '—'} ({formatPercent(ratio)})</td></tr>
            <tr><th>Skipped unchanged / rate cap</th><td>{s.frames_skipped_unchanged ?? '—'} / {s.frames_skipped_rate_cap ?? '—'}</td></tr>
            <tr><th>Dropped (queue full)</th><td>{s.frames_dropped_queue_full ?? '—'}</td></tr>
            <tr><th>Bytes sent</th><td>{formatBytes(s.bytes_forwarded)}</td></tr>
            <tr><th>Raw frames would be</th><td>{formatBytes(s.raw_bytes_equivalent)}</td></tr>
            <tr><th>Saved vs raw</th><td>{formatBytes(saved)} ({formatPercent(s.raw_bytes_equivalent ? (saved ?? 0) / s.raw_bytes_equivalent : undefined)})</td></tr>
            <tr><th>All frames as JPEG (est.)</th><td>{formatBytes(s.jpeg_bytes_equivalent_estimate)}</td></tr>
            <tr><th>Fog round trip p50 / p95</th><td>{formatDuration(s.fog_round_trip_ms?.p50)} / {formatDuration(s.fog_round_trip_ms?.p95)}</td></tr>
            <tr><th>Fog errors</th><td>{s.fog_errors ?? '—'}</td></tr>
            <tr><th>Source</th><td>{s.eof ? 'ended' : 'capturing'}</td></tr>
          </tbody>
        </table>
      )}
    </div>
  );
}

export function CamerasPage() {
  return (
    <section>
      <h1>Cameras</h1>
      <NeedService type="roof" what="The cameras page">
        {(roofs) => (
          <div class="grid">
            {roofs.map((r) => (
              <Camera svc={r} key={r.name} />
            ))}
          </div>
        )}
      </NeedService>
    </section>
  );
}
