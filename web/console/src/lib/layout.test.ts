// Tests for the overview → tier-map layout (layout.ts).
import { describe, expect, it } from 'vitest';
import { columnOf, GEOM, layoutTierMap, linkLabel, stateCounts } from './layout';
import type { Overview } from './types';

const ov: Overview = {
  generated_at_ms: 1,
  nodes: [
    { name: 'cloud-1', tier: 'cloud', services: [{ name: 'identify', type: 'identify', state: 'ready' }, { name: 'notify', type: 'notify', state: 'failing', detail: 'db' }] },
    { name: 'roof-1', tier: 'roof', services: [{ name: 'roof', type: 'roof', state: 'ready' }] },
    { name: 'shop-1', tier: 'edge', services: [{ name: 'segment', type: 'segment', state: 'down' }] },
    { name: 'fog-1', tier: 'fog', services: [{ name: 'detect', type: 'detect', state: 'ready' }] },
  ],
  links: [
    { src: 'roof', dst: 'fog', bytes_per_s: 2048, messages_per_s: 2, latency_ms_p50: 3.2, latency_ms_p95: 9.9 },
    { src: 'identify', dst: 'notify', bytes_per_s: 0, messages_per_s: 0 },
    { src: 'fog', dst: 'cloud' },
    { src: 'ghost', dst: 'fog' },
  ],
};

describe('layoutTierMap', () => {
  const m = layoutTierMap(ov);
  const node = (n: string) => m.nodes.find((x) => x.node.name === n)!;

  it('puts roof and edge in the first column, fog in the second, cloud in the third', () => {
    expect(columnOf('roof')).toBe(0);
    expect(columnOf('edge')).toBe(0);
    expect(columnOf('fog')).toBe(1);
    expect(columnOf('cloud')).toBe(2);
    expect(node('roof-1').column).toBe(0);
    expect(node('shop-1').column).toBe(0);
    expect(node('fog-1').column).toBe(1);
    expect(node('cloud-1').column).toBe(2);
    expect(node('roof-1').x).toBeLessThan(node('fog-1').x);
    expect(node('fog-1').x).toBeLessThan(node('cloud-1').x);
  });

  it('stacks nodes of one column without overlap and sizes boxes by their services', () => {
    const a = node('roof-1'), b = node('shop-1');
    expect(b.y).toBeGreaterThanOrEqual(a.y + a.h);
    expect(node('cloud-1').h).toBe(GEOM.header + 2 * GEOM.row + GEOM.pad);
    const [s1, s2] = node('cloud-1').services;
    expect(s2.y - s1.y).toBe(GEOM.row);
    expect(m.height).toBeGreaterThan(b.y + b.h);
  });

  it('draws tier-to-tier arrows from the right edge of the source to the left edge of the target', () => {
    const a = m.arrows.find((x) => x.link.src === 'roof')!;
    const r = node('roof-1'), f = node('fog-1');
    expect(a.path.startsWith(`M${r.x + r.w},`)).toBe(true);
    expect(a.path.endsWith(`${f.x},${f.y + f.h / 2}`)).toBe(true);
    expect(a.labelX).toBeGreaterThan(r.x + r.w);
    expect(a.labelX).toBeLessThan(f.x);
  });

  it('draws a same-column link between the two service rows as a loop into the gap', () => {
    const a = m.arrows.find((x) => x.link.src === 'identify')!;
    const [id, no] = node('cloud-1').services;
    const left = node('cloud-1').x; // the last column loops on its left
    expect(a.path.startsWith(`M${left},${id.y}`)).toBe(true);
    expect(a.path.endsWith(`${left},${no.y}`)).toBe(true);
    expect(a.labelX).toBeLessThan(left);
    const first = layoutTierMap({ nodes: [{ name: 'r', tier: 'roof', services: [{ name: 'a', type: 'x', state: 'ready' }, { name: 'b', type: 'x', state: 'ready' }] }], links: [{ src: 'a', dst: 'b' }] });
    const right = first.nodes[0].x + first.nodes[0].w;
    expect(first.arrows[0].path.startsWith(`M${right},`)).toBe(true);
    expect(first.arrows[0].labelX).toBeGreaterThan(right);
  });

  it('keeps every column inside the drawing', () => {
    const last = m.columns[m.columns.length - 1];
    expect(last.x + last.w).toBeLessThanOrEqual(m.width);
  });

  it('reports endpoints it cannot place and draws the rest', () => {
    expect(m.arrows).toHaveLength(3);
    expect(m.unplaced).toEqual(['ghost']);
  });

  it('is empty for a missing overview', () => {
    const e = layoutTierMap(null);
    expect(e.nodes).toEqual([]);
    expect(e.arrows).toEqual([]);
    expect(e.columns).toHaveLength(3);
  });
});

describe('labels and counts', () => {
  it('labels links with rates and latency percentiles', () => {
    expect(linkLabel(ov.links[0])).toEqual(['roof → fog', '2 KiB/s · 2 msg/s', 'p50 3.2 ms · p95 9.9 ms']);
    expect(linkLabel(ov.links[2])).toEqual(['fog → cloud', '0 B/s · 0 msg/s', 'latency —']);
  });
  it('counts services by state', () => {
    expect(stateCounts(ov)).toEqual({ ready: 3, failing: 1, down: 1 });
  });
});
