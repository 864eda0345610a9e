// Overview → tier-map layout: nodes in three columns (roof/edge, fog, cloud), services stacked in
// each node box, and one arrow per link with its label. Pure geometry in SVG user units; the
// Home page only draws what this returns (layout.test.ts checks placement and arrow endpoints).
import type { Overview, OverviewLink, OverviewNode, OverviewService } from './types';
import { formatByteRate, formatMsgRate, formatDuration } from './format';

export const COLUMNS = [
  { key: 'roof', title: 'Roof / edge', tiers: ['roof', 'edge'] },
  { key: 'fog', title: 'Fog', tiers: ['fog'] },
  { key: 'cloud', title: 'Cloud', tiers: ['cloud'] },
] as const;

export const GEOM = { width: 1160, colWidth: 250, colGap: 185, top: 56, nodeGap: 26, header: 30, row: 26, pad: 8 };

export interface ServiceBox {
  service: OverviewService;
  x: number;
  y: number; // row centre
}
export interface NodeBox {
  node: OverviewNode;
  column: number;
  x: number;
  y: number;
  w: number;
  h: number;
  services: ServiceBox[];
}
export interface LinkArrow {
  link: OverviewLink;
  path: string;
  labelX: number;
  labelY: number;
  label: string[]; // lines: "1.2 KiB/s · 3 msg/s", "p50 3 ms · p95 9 ms"
}
export interface TierMap {
  width: number;
  height: number;
  columns: { title: string; x: number; w: number }[];
  nodes: NodeBox[];
  arrows: LinkArrow[];
  unplaced: string[]; // link endpoints that name no tier, node or service
}

export function columnOf(tier: string): number {
  const i = COLUMNS.findIndex((c) => (c.tiers as readonly string[]).includes(tier));
  return i < 0 ? 2 : i;
}

interface Anchor {
  column: number;
  left: number;
  right: number;
  y: number;
}

export function layoutTierMap(ov: Overview | null): TierMap {
  const g = GEOM;
  const columns = COLUMNS.map((c, i) => ({ title: c.title, x: 20 + i * (g.colWidth + g.colGap), w: g.colWidth }));
  const nodes: NodeBox[] = [];
  const nextY = [g.top, g.top, g.top];
  for (const node of ov?.nodes ?? []) {
    const column = columnOf(node.tier);
    const x = columns[column].x;
    const y = nextY[column];
    const services = (node.services ?? []).map((service, i) => ({
      service,
      x: x + g.pad,
      y: y + g.header + g.row * i + g.row / 2,
    }));
    const h = g.header + g.row * Math.max(services.length, 1) + g.pad;
    nodes.push({ node, column, x, y, w: g.colWidth, h, services });
    nextY[column] = y + h + g.nodeGap;
  }
  const height = Math.max(...nextY, g.top + 80) + 10;

  // Endpoint names: a tier (roof, fog, ...), a service name, or a node name.
  const anchors = new Map<string, Anchor>();
  for (const nb of nodes) {
    anchors.set(nb.node.name, { column: nb.column, left: nb.x, right: nb.x + nb.w, y: nb.y + g.header / 2 });
    for (const sb of nb.services)
      anchors.set(sb.service.name, { column: nb.column, left: nb.x, right: nb.x + nb.w, y: sb.y });
  }
  const tierAnchor = (name: string): Anchor | undefined => {
    const inTier = nodes.filter((n) => n.node.tier === name);
    if (inTier.length === 0) return undefined;
    const top = Math.min(...inTier.map((n) => n.y));
    const bottom = Math.max(...inTier.map((n) => n.y + n.h));
    return { column: inTier[0].column, left: inTier[0].x, right: inTier[0].x + g.colWidth, y: (top + bottom) / 2 };
  };
  const find = (name: string) => anchors.get(name) ?? tierAnchor(name);

  const arrows: LinkArrow[] = [];
  const unplaced: string[] = [];
  for (const link of ov?.links ?? []) {
    const a = find(link.src);
    const b = find(link.dst);
    if (!a || !b) {
      if (!a) unplaced.push(link.src);
      if (!b) unplaced.push(link.dst);
      continue;
    }
    let path: string, lx: number, ly: number;
    if (a.column !== b.column) {
      const forward = a.column < b.column;
      const x1 = forward ? a.right : a.left;
      const x2 = forward ? b.left : b.right;
      const mx = (x1 + x2) / 2;
      path = `M${x1},${a.y} C${mx},${a.y} ${mx},${b.y} ${x2},${b.y}`;
      lx = mx;
      ly = (a.y + b.y) / 2;
    } else {
      // Same column: a loop beside the column, into the gap (left of the last column).
      const left = a.column === COLUMNS.length - 1;
      const x = left ? a.left : a.right;
      const bulge = left ? -46 : 46;
      path = `M${x},${a.y} C${x + bulge},${a.y} ${x + bulge},${b.y} ${x},${b.y}`;
      // Label in the middle of the gap, below the loop: clear of tier-to-tier labels, which sit
      // above their curve's midpoint.
      lx = x + (left ? -g.colGap / 2 : g.colGap / 2);
      ly = Math.max(a.y, b.y) + 70;
    }
    arrows.push({ link, path, labelX: lx, labelY: ly, label: linkLabel(link) });
  }
  return { width: g.width, height, columns, nodes, arrows, unplaced };
}

export function linkLabel(l: OverviewLink): string[] {
  const lat =
    l.latency_ms_p50 == null && l.latency_ms_p95 == null
      ? 'latency —'
      : `p50 ${formatDuration(l.latency_ms_p50)} · p95 ${formatDuration(l.latency_ms_p95)}`;
  return [`${l.src} → ${l.dst}`, `${formatByteRate(l.bytes_per_s ?? 0)} · ${formatMsgRate(l.messages_per_s ?? 0)}`, lat];
}

/** Counts of services by state, for the page header. */
export function stateCounts(ov: Overview | null): Record<string, number> {
  const out: Record<string, number> = { ready: 0, failing: 0, down: 0 };
  for (const n of ov?.nodes ?? []) for (const s of n.services ?? []) out[s.state] = (out[s.state] ?? 0) + 1;
  return out;
}
