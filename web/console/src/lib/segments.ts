// Segment helpers: an RFM code per segment (recency/frequency/monetary ranked 1..5 across the
// current segments, R5 = most recent), top features from the explanation, and tolerant parsers
// for segments/history and segments/projection. Pure (segments.test.ts).

export interface Explanation {
  feature: string;
  z?: number;
  segment_value?: number;
  population_value?: number;
}
export interface Segment {
  id: number;
  label: string;
  weight?: number;
  size?: number;
  customers?: number;
  rfm?: string;
  centroid?: Record<string, number>;
  explanation?: Explanation[];
}

function score(values: number[], v: number, higherIsBetter: boolean): number {
  // Rank among the segments → 1..5 (ties share the better score).
  const n = values.length;
  if (n <= 1) return 3;
  const better = values.filter((x) => (higherIsBetter ? x > v : x < v)).length;
  return Math.max(1, Math.min(5, 5 - Math.floor((better * 5) / n)));
}

/** id → "R4 F2 M5"; a segment that already has `rfm` keeps it; no centroid → "—". */
export function rfmCodes(segs: Segment[]): Map<number, string> {
  const out = new Map<number, string>();
  const withC = segs.filter((s) => s.centroid && ['recency_days', 'frequency', 'monetary'].every((k) => typeof s.centroid![k] === 'number'));
  const rec = withC.map((s) => s.centroid!.recency_days);
  const fre = withC.map((s) => s.centroid!.frequency);
  const mon = withC.map((s) => s.centroid!.monetary);
  for (const s of segs) {
    if (typeof s.rfm === 'string' && s.rfm) out.set(s.id, s.rfm);
    else if (withC.includes(s)) {
      const c = s.centroid!;
      out.set(s.id, `R${score(rec, c.recency_days, false)} F${score(fre, c.frequency, true)} M${score(mon, c.monetary, true)}`);
    } else out.set(s.id, '—');
  }
  return out;
}

/** "monetary ↑ (z 1.8)" for each explanation entry, at most n. */
export function topFeatures(s: Segment, n = 3): string[] {
  return (s.explanation ?? []).slice(0, n).map((e) => {
    const z = typeof e.z === 'number' ? e.z : 0;
    return `${e.feature} ${z >= 0 ? '↑' : '↓'} (z ${z.toFixed(1)})`;
  });
}

export interface HistorySeries {
  times: number[]; // unix seconds (uPlot's x axis)
  series: { id: string; label: string; values: (number | null)[] }[];
}

function tsSeconds(p: Record<string, unknown>): number | null {
  for (const k of ['ts_ms', 't_ms', 'time_ms', 'at_ms']) if (typeof p[k] === 'number') return (p[k] as number) / 1000;
  for (const k of ['ts', 't', 'time', 'at']) {
    const v = p[k];
    if (typeof v === 'number') return v > 1e11 ? v / 1000 : v;
    if (typeof v === 'string') {
      const ms = Date.parse(v);
      if (Number.isFinite(ms)) return ms / 1000;
    }
  }
  return null;
}

/**
 * Accepts segment's {"samples": [{"t_ms", "sizes": {"<id>": n}}]} (also "items"/"points"/"history",
 * ts/ts_ms/RFC 3339 times, and sizes as [{id,label,size|customers|weight}])
 * and returns aligned columns for uPlot.
 */
export function parseHistory(doc: unknown): HistorySeries {
  const d = (doc ?? {}) as Record<string, unknown>;
  const list = (Array.isArray(doc) ? doc : d.samples ?? d.items ?? d.points ?? d.history ?? []) as Record<string, unknown>[];
  const rows: { t: number; sizes: Map<string, number> }[] = [];
  const labels = new Map<string, string>();
  for (const p of Array.isArray(list) ? list : []) {
    if (!p || typeof p !== 'object') continue;
    const t = tsSeconds(p);
    if (t === null) continue;
    const sizes = new Map<string, number>();
    const segs = p.segments ?? p.sizes ?? p.items;
    if (Array.isArray(segs)) {
      for (const s of segs as Record<string, unknown>[]) {
        const id = String(s.id ?? s.segment_id ?? s.label);
        const v = s.size ?? s.customers ?? s.count ?? s.weight;
        if (typeof v === 'number') sizes.set(id, v);
        if (typeof s.label === 'string') labels.set(id, s.label);
      }
    } else if (segs && typeof segs === 'object') {
      for (const [id, v] of Object.entries(segs as Record<string, unknown>)) if (typeof v === 'number') sizes.set(id, v);
    }
    rows.push({ t, sizes });
  }
  rows.sort((a, b) => a.t - b.t);
  const ids = [...new Set(rows.flatMap((r) => [...r.sizes.keys()]))];
  return {
    times: rows.map((r) => r.t),
    series: ids.map((id) => ({ id, label: labels.get(id) ?? `segment ${id}`, values: rows.map((r) => r.sizes.get(id) ?? null) })),
  };
}

/** The newest sample's customers per segment id (empty when there is no history). */
export function latestSizes(h: HistorySeries): Map<string, number> {
  const out = new Map<string, number>();
  const last = h.times.length - 1;
  if (last < 0) return out;
  for (const s of h.series) if (s.values[last] != null) out.set(s.id, s.values[last] as number);
  return out;
}

export interface ProjPoint {
  x: number;
  y: number;
  segment: string;
  customer?: string;
  label?: string;
}

/** segment's projection {"points": [...], "centroids": [{segment, label, x, y}]} → both lists. */
export function parseProjectionDoc(doc: unknown): { points: ProjPoint[]; centroids: ProjPoint[] } {
  const d = (doc ?? {}) as Record<string, unknown>;
  return { points: parseProjection(doc), centroids: Array.isArray(d.centroids) ? parseProjection(d.centroids) : [] };
}

/** Accepts {"points"|"items": [{x,y,segment|segment_id,customer|customer_id}] or [[x,y,seg]]} or a bare list. */
export function parseProjection(doc: unknown): ProjPoint[] {
  const d = (doc ?? {}) as Record<string, unknown>;
  const list = (Array.isArray(doc) ? doc : d.points ?? d.items ?? []) as unknown[];
  const out: ProjPoint[] = [];
  for (const p of Array.isArray(list) ? list : []) {
    if (Array.isArray(p) && typeof p[0] === 'number' && typeof p[1] === 'number') {
      out.push({ x: p[0], y: p[1], segment: String(p[2] ?? '') });
    } else if (p && typeof p === 'object') {
      const o = p as Record<string, unknown>;
      const xy = Array.isArray(o.xy) ? (o.xy as number[]) : [o.x as number, o.y as number];
      if (typeof xy[0] !== 'number' || typeof xy[1] !== 'number') continue;
      out.push({
        x: xy[0],
        y: xy[1],
        segment: o.segment == null && o.segment_id == null ? '' : String(o.segment ?? o.segment_id),
        label: typeof o.label === 'string' ? o.label : undefined,
        customer: typeof o.customer_id === 'string' ? o.customer_id : typeof o.customer === 'string' ? o.customer : undefined,
      });
    }
  }
  return out;
}

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c'];

export function colourFor(key: string, keys: string[]): string {
  const i = keys.indexOf(key);
  return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
}
