// Tests for segment helpers (segments.ts): RFM codes, top features, history/projection parsing.
import { describe, expect, it } from 'vitest';
import { colourFor, latestSizes, parseHistory, parseProjection, parseProjectionDoc, rfmCodes, topFeatures, type Segment } from './segments';
import { pickFederateCloud, svcPath } from './api';

const seg = (id: number, r: number, f: number, m: number): Segment => ({ id, label: `s${id}`, centroid: { recency_days: r, frequency: f, monetary: m } });

describe('rfmCodes', () => {
  it('ranks recency (fewer days is better), frequency and monetary across segments', () => {
    const codes = rfmCodes([seg(1, 2, 10, 500), seg(2, 90, 1, 20), seg(3, 30, 5, 100)]);
    expect(codes.get(1)).toBe('R5 F5 M5');
    expect(codes.get(2)).toBe('R2 F2 M2');
    expect(codes.get(3)).toBe('R4 F4 M4');
  });
  it('keeps a given rfm, and marks segments without a centroid', () => {
    const codes = rfmCodes([{ id: 1, label: 'a', rfm: '555' }, { id: 2, label: 'b' }, seg(3, 1, 1, 1)]);
    expect(codes.get(1)).toBe('555');
    expect(codes.get(2)).toBe('—');
    expect(codes.get(3)).toBe('R3 F3 M3');
  });
});

describe('topFeatures', () => {
  it('names the first explanation features with direction and z', () => {
    const s: Segment = { id: 1, label: 'x', explanation: [{ feature: 'monetary', z: 1.84 }, { feature: 'recency_days', z: -0.9 }, { feature: 'a', z: 0 }, { feature: 'b', z: 1 }] };
    expect(topFeatures(s)).toEqual(['monetary ↑ (z 1.8)', 'recency_days ↓ (z -0.9)', 'a ↑ (z 0.0)']);
    expect(topFeatures({ id: 2, label: 'y' })).toEqual([]);
  });
});

describe('parseHistory', () => {
  it('aligns per-segment sizes over sorted times (array form)', () => {
    const h = parseHistory({
      items: [
        { ts_ms: 2000, segments: [{ id: 1, label: 'a', size: 5 }, { id: 2, label: 'b', size: 7 }] },
        { ts_ms: 1000, segments: [{ id: 1, label: 'a', size: 3 }] },
      ],
    });
    expect(h.times).toEqual([1, 2]);
    expect(h.series).toEqual([
      { id: '1', label: 'a', values: [3, 5] },
      { id: '2', label: 'b', values: [null, 7] },
    ]);
  });
  it('accepts map form and RFC 3339 times, skips points without a time', () => {
    const h = parseHistory({ points: [{ ts: '1970-01-01T00:00:10Z', sizes: { '4': 9 } }, { sizes: { '4': 1 } }] });
    expect(h.times).toEqual([10]);
    expect(h.series[0]).toEqual({ id: '4', label: 'segment 4', values: [9] });
  });
  it("reads strata-segment's samples document", () => {
    const h = parseHistory({ samples: [{ t_ms: 5000, events: 10, model_version: 1, sizes: { '3': 4, '7': 6 } }, { t_ms: 9000, sizes: { '7': 8 } }] });
    expect(h.times).toEqual([5, 9]);
    expect([...latestSizes(h)]).toEqual([['7', 8]]);
    expect(latestSizes(parseHistory(null)).size).toBe(0);
    expect(h.series).toEqual([
      { id: '3', label: 'segment 3', values: [4, null] },
      { id: '7', label: 'segment 7', values: [6, 8] },
    ]);
  });
  it('is empty for junk', () => {
    expect(parseHistory(null)).toEqual({ times: [], series: [] });
    expect(parseHistory({ items: 'x' })).toEqual({ times: [], series: [] });
  });
});

describe('parseProjection', () => {
  it('reads objects, xy pairs and tuples', () => {
    expect(
      parseProjection({ points: [{ x: 1, y: 2, segment: 3, customer_id: 'c1' }, { xy: [4, 5], segment_id: 6 }, [7, 8, 9], { x: 'bad' }] }),
    ).toEqual([
      { x: 1, y: 2, segment: '3', customer: 'c1' },
      { x: 4, y: 5, segment: '6', customer: undefined },
      { x: 7, y: 8, segment: '9' },
    ]);
    expect(parseProjection(undefined)).toEqual([]);
  });
  it("reads strata-segment's projection document with centroids", () => {
    const p = parseProjectionDoc({
      axes: ['pc1', 'pc2'],
      points: [{ customer: 'c1', x: 0.5, y: -1, segment: 2 }, { customer: 'c2', x: 1, y: 1, segment: null }],
      centroids: [{ segment: 2, label: 'mainstream', x: 0, y: 0 }],
    });
    expect(p.points).toEqual([
      { x: 0.5, y: -1, segment: '2', label: undefined, customer: 'c1' },
      { x: 1, y: 1, segment: '', label: undefined, customer: 'c2' },
    ]);
    expect(p.centroids).toEqual([{ x: 0, y: 0, segment: '2', label: 'mainstream', customer: undefined }]);
  });
  it('gives stable colours per segment key', () => {
    expect(colourFor('b', ['a', 'b'])).not.toBe(colourFor('a', ['a', 'b']));
    expect(colourFor('zz', ['a'])).toBe(colourFor('a', ['a']));
  });
});

describe('api helpers', () => {
  it('builds proxied upstream paths with encoded parts', () => {
    expect(svcPath('identify', 'gallery', 'Ann Lee')).toBe('api/v1/svc/identify/gallery/Ann%20Lee');
    expect(svcPath('notify', 'events', '01H', 'snapshot.jpg')).toBe('api/v1/svc/notify/events/01H/snapshot.jpg');
  });
  it('picks the cloud federate aggregator', () => {
    const fed = (name: string, extra = {}) => ({ name, type: 'federate', ...extra });
    expect(pickFederateCloud([fed('fl-edge-1'), fed('fl-cloud')])?.name).toBe('fl-cloud');
    expect(pickFederateCloud([fed('a', { role: 'edge' }), fed('b', { role: 'cloud' })])?.name).toBe('b');
    expect(pickFederateCloud([fed('x', { tier: 'fog' }), fed('y', { tier: 'cloud' })])?.name).toBe('y');
    expect(pickFederateCloud([fed('x')])?.name).toBe('x');
    expect(pickFederateCloud([{ name: 'n', type: 'notify' }])).toBeUndefined();
  });
});
