// Segments: the segment table of a strata-segment service (label, size, RFM code, top features),
// segment sizes over time (uPlot, segments/history), a 2-D projection of customers coloured by
// segment (SVG scatter, segments/projection), and a customer lookup (profile, segment, explanation).
import { useMemo, useState } from 'preact/hooks';
import { getJson, svcPath } from '../lib/api';
import { ErrorBox, NeedService, useLoad, useInterval } from '../components/common';
import { LineChart } from '../components/chart';
import { colourFor, latestSizes, parseHistory, parseProjectionDoc, type HistorySeries, rfmCodes, topFeatures, type Segment, type Explanation } from '../lib/segments';
import { formatNumber, formatPercent } from '../lib/format';
import { errorText } from '../lib/problem';
import type { ServiceInfo } from '../lib/types';

interface SegmentsDoc {
  items?: Segment[];
  model_version?: number;
  customers?: number;
}
interface CustomerDoc {
  customer_id: string;
  profile?: Record<string, number>;
  segment?: Segment & { distance?: number; confidence?: number };
  model_version?: number;
}

function Scatter({ svc, keys }: { svc: string; keys: string[] }) {
  const proj = useLoad(() => getJson<unknown>(`${svcPath(svc, 'segments', 'projection')}?limit=1000`), [svc]);
  const { points: pts, centroids } = useMemo(() => parseProjectionDoc(proj.data), [proj.data]);
  if (proj.error) return <ErrorBox error={`projection: ${proj.error}`} />;
  if (pts.length === 0) return <p class="muted">{proj.loading ? 'Loading projection…' : 'No projection points yet.'}</p>;
  const all = [...pts, ...centroids];
  const xs = all.map((p) => p.x), ys = all.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const W = 520, H = 360, m = 12;
  const sx = (x: number) => m + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * m);
  const sy = (y: number) => H - m - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * m);
  const segKeys = keys.length ? keys : [...new Set(pts.map((p) => p.segment))];
  return (
    <svg class="scatter" viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label="customer projection">
      <rect x={0} y={0} width={W} height={H} class="plotbg" />
      {pts.map((p) => (
        <circle cx={sx(p.x)} cy={sy(p.y)} r={3} fill={colourFor(p.segment, segKeys)} fill-opacity={0.7}>
          <title>{`${p.customer ?? 'customer'} — segment ${p.segment}`}</title>
        </circle>
      ))}
      {centroids.map((c) => (
        <g class="centroid">
          <circle cx={sx(c.x)} cy={sy(c.y)} r={7} fill={colourFor(c.segment, segKeys)} stroke="#111" stroke-width={2} />
          <text x={sx(c.x) + (sx(c.x) > W / 2 ? -10 : 10)} y={sy(c.y) + 4} text-anchor={sx(c.x) > W / 2 ? 'end' : 'start'} class="centroidlabel">
            {c.label ?? `#${c.segment}`}
          </text>
        </g>
      ))}
    </svg>
  );
}

function History({ h, error, loading, keys, labels }: { h: HistorySeries; error: string; loading: boolean; keys: string[]; labels: Map<string, string> }) {
  const series = useMemo(
    () => h.series.map((s) => ({ label: labels.get(s.id) ?? s.label, values: s.values, colour: colourFor(s.id, keys.length ? keys : h.series.map((x) => x.id)) })),
    [h, keys.join(','), labels],
  );
  if (error) return <ErrorBox error={`history: ${error}`} />;
  if (h.times.length === 0) return <p class="muted">{loading ? 'Loading history…' : 'No history yet.'}</p>;
  return <LineChart times={h.times} series={series} yLabel="customers" />;
}

function Lookup({ svc }: { svc: string }) {
  const [id, setId] = useState('');
  const [doc, setDoc] = useState<CustomerDoc | null>(null);
  const [error, setError] = useState('');
  const look = (e: Event) => {
    e.preventDefault();
    if (!id.trim()) return;
    getJson<CustomerDoc>(svcPath(svc, 'customers', id.trim())).then(
      (d) => {
        setDoc(d);
        setError('');
      },
      (err) => {
        setDoc(null);
        setError(errorText(err));
      },
    );
  };
  const seg = doc?.segment;
  return (
    <div class="card lookup">
      <h2>Customer lookup</h2>
      <form onSubmit={look}>
        <input name="customer" placeholder="customer id" value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} />
        <button type="submit">Look up</button>
      </form>
      <ErrorBox error={error} />
      {doc && seg && (
        <div class="customer" data-customer={doc.customer_id}>
          <p>
            <strong>{doc.customer_id}</strong> is in segment <strong class="seglabel">{seg.label}</strong> (#{seg.id}) — confidence {formatPercent(seg.confidence)}, distance{' '}
            {formatNumber(seg.distance)}
          </p>
          <Explain items={seg.explanation ?? []} />
          {doc.profile && (
            <table class="kv profile">
              <tbody>
                {Object.entries(doc.profile).map(([k, v]) => (
                  <tr>
                    <th>{k}</th>
                    <td>{formatNumber(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </div>
  );
}

function Explain({ items }: { items: Explanation[] }) {
  if (items.length === 0) return null;
  return (
    <ul class="explain">
      {items.map((e) => (
        <li>
          <strong>{e.feature}</strong>: segment {formatNumber(e.segment_value)} vs everyone {formatNumber(e.population_value)} (z {formatNumber(e.z, 1)})
        </li>
      ))}
    </ul>
  );
}

function SegmentView({ svc }: { svc: string }) {
  const segs = useLoad(() => getJson<SegmentsDoc>(svcPath(svc, 'segments')), [svc]);
  useInterval(segs.reload, 10000);
  const items = segs.data?.items ?? [];
  const rfm = rfmCodes(items);
  const keys = items.map((s) => String(s.id));
  const labels = useMemo(() => new Map(items.map((s) => [String(s.id), s.label])), [segs.data]);
  const hist = useLoad(() => getJson<unknown>(svcPath(svc, 'segments', 'history')), [svc, segs.data?.model_version]);
  const h = useMemo(() => parseHistory(hist.data), [hist.data]);
  // Size = customers per segment from the newest history sample; else the model's (decayed) weight.
  const sizes = latestSizes(h);
  const sizeOf = (s: Segment) => sizes.get(String(s.id)) ?? s.size ?? s.customers ?? s.weight ?? 0;
  const total = items.reduce((n, s) => n + sizeOf(s), 0);
  return (
    <>
      <ErrorBox error={segs.error} />
      <p class="muted">
        {segs.data ? `${segs.data.customers ?? 0} customers · model v${segs.data.model_version ?? 0} · ${items.length} segments` : 'Loading…'}
      </p>
      <table class="segments">
        <thead>
          <tr>
            <th />
            <th>Segment</th>
            <th>Size</th>
            <th>RFM</th>
            <th>Top features</th>
          </tr>
        </thead>
        <tbody>
          {items.map((s) => (
            <tr data-segment={s.id}>
              <td>
                <span class="swatch" style={{ background: colourFor(String(s.id), keys) }} />
              </td>
              <td>
                {s.label} <span class="muted">#{s.id}</span>
              </td>
              <td>
                {formatNumber(sizeOf(s), 0)} <span class="muted">({formatPercent(total ? sizeOf(s) / total : undefined)})</span>
              </td>
              <td>
                <code>{rfm.get(s.id)}</code>
              </td>
              <td class="small">{topFeatures(s).join(', ')}</td>
            </tr>
          ))}
          {segs.data && items.length === 0 && (
            <tr>
              <td colSpan={5} class="muted">
                No model yet: the service is still warming up (it needs events).
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div class="twocol">
        <div class="card">
          <h2>Sizes over time</h2>
          <History h={h} error={hist.error} loading={hist.loading} keys={keys} labels={labels} />
        </div>
        <div class="card">
          <h2>Customers (2-D projection)</h2>
          <Scatter svc={svc} keys={keys} />
        </div>
      </div>
      <Lookup svc={svc} />
    </>
  );
}

export function SegmentsPage() {
  const [pick, setPick] = useState('');
  return (
    <section>
      <h1>Segments</h1>
      <NeedService type="segment" what="The segments page">
        {(list: ServiceInfo[]) => {
          const svc = list.find((s) => s.name === pick)?.name ?? list[0].name;
          return (
            <>
              {list.length > 1 && (
                <label class="filters">
                  Service{' '}
                  <select value={svc} onChange={(e) => setPick((e.target as HTMLSelectElement).value)}>
                    {list.map((s) => (
                      <option value={s.name}>
                        {s.name}
                        {s.node ? ` (${s.node})` : ''}
                      </option>
                    ))}
                  </select>
                </label>
              )}
              <SegmentView svc={svc} key={svc} />
            </>
          );
        }}
      </NeedService>
    </section>
  );
}
