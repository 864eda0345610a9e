// Human-readable formatters for the console: bytes, rates, durations, times, ratios.
// Pure functions; every page uses them and format.test.ts pins their output.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

function isNum(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n);
}

/** 0 → "0 B", 1536 → "1.5 KiB", 10 MiB → "10 MiB"; non-numbers → "—". */
export function formatBytes(n: unknown): string {
  if (!isNum(n)) return '—';
  const neg = n < 0;
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const s = u === 0 ? String(Math.round(v)) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${neg ? '-' : ''}${trimZeros(s)} ${UNITS[u]}`;
}

function trimZeros(s: string): string {
  const t = s.includes('.') ? s.replace(/\.?0+$/, '') : s;
  return t === '-0' ? '0' : t;
}

/** Bytes per second: "1.5 KiB/s". */
export function formatByteRate(n: unknown): string {
  return isNum(n) ? `${formatBytes(n)}/s` : '—';
}

/** Messages per second: 0.25 → "0.25 msg/s", 12.345 → "12.3 msg/s". */
export function formatMsgRate(n: unknown): string {
  if (!isNum(n)) return '—';
  const s = n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
  return `${trimZeros(s)} msg/s`;
}

/** Milliseconds: 0.42 → "0.42 ms", 850 → "850 ms", 1500 → "1.5 s", 200000 → "3 m 20 s", 7.5 h → "7 h 30 m". */
export function formatDuration(ms: unknown): string {
  if (!isNum(ms)) return '—';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 10) return `${trimZeros(ms.toFixed(2))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${trimZeros(s.toFixed(s < 10 ? 2 : 1))} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m - h * 60} m`;
  const d = Math.floor(h / 24);
  return `${d} d ${h - d * 24} h`;
}

/** A ratio in [0, 1] as a percentage: 0.1234 → "12.3 %". */
export function formatPercent(r: unknown): string {
  if (!isNum(r)) return '—';
  const p = r * 100;
  return `${trimZeros(p.toFixed(p >= 10 ? 1 : 2))} %`;
}

/** A plain number with up to `digits` decimals: 3.14159 → "3.14". */
export function formatNumber(n: unknown, digits = 2): string {
  if (!isNum(n)) return '—';
  return trimZeros(n.toFixed(digits));
}

/** Epoch ms or an RFC 3339 string → epoch ms (NaN when unparsable). */
export function toMillis(t: unknown): number {
  if (isNum(t)) return t;
  if (typeof t === 'string' && t) return Date.parse(t);
  return NaN;
}

/** Epoch ms or an RFC 3339 string → "2026-11-30 12:56:00" in UTC (stable across machines). */
export function formatTime(t: unknown): string {
  const ms = toMillis(t);
  if (!Number.isFinite(ms)) return '—';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '').replace('Z', '');
}

/** "12 s ago" relative to `now` (ms). */
export function formatAgo(t: unknown, now: number): string {
  const ms = toMillis(t);
  if (!Number.isFinite(ms)) return '—';
  const d = now - ms;
  return d < 1000 ? 'just now' : `${formatDuration(d).replace(/ \d+ (s|m|h)$/, '')} ago`;
}
