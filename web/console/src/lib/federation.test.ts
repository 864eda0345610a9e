// Unit tests of src/lib/federation.ts (Vitest): parsing fl-cloud's /rounds, chart series, ε bar.
import { describe, expect, it } from 'vitest';
import { completedRounds, epsilonBar, parseRounds, roundSeries } from './federation';

const doc = {
  items: [
    { round: 0, kind: 'kfed', outcome: 'completed', participants: ['a', 'b'], missing: [], dropouts: 0, bytes_received: 512, centroid_shift: null, duration_ms: 20 },
    { round: 1, kind: 'lloyd', outcome: 'retry', participants: ['a'], missing: ['b'], dropouts: 1, bytes_received: 100, centroid_shift: null },
    { round: 2, kind: 'lloyd', outcome: 'completed', participants: ['a', 'b'], missing: [], dropouts: 0, bytes_received: 200, centroid_shift: 0.25, epsilon_total: 0.5 },
  ],
  epsilon_spent: 0.5,
  epsilon_budget: 2,
};

describe('parseRounds', () => {
  it('reads rows and the DP fields', () => {
    const r = parseRounds(doc);
    expect(r.rows.map((x) => [x.round, x.participants, x.dropouts, x.bytes, x.shift])).toEqual([
      [0, 2, 0, 512, undefined],
      [1, 1, 1, 100, undefined],
      [2, 2, 0, 200, 0.25],
    ]);
    expect(r.epsilonSpent).toBe(0.5);
    expect(r.epsilonBudget).toBe(2);
    expect(completedRounds(r.rows)).toBe(2);
  });
  it('treats a null budget as DP off and survives junk', () => {
    expect(parseRounds({ items: [], epsilon_spent: 0, epsilon_budget: null }).epsilonBudget).toBeUndefined();
    expect(parseRounds(null).rows).toEqual([]);
    expect(parseRounds({ items: [null, 3, { kind: 'lloyd', missing: ['x', 'y'] }] }).rows).toEqual([
      expect.objectContaining({ round: 0, kind: 'lloyd', outcome: '?', participants: 0, dropouts: 2 }),
    ]);
  });
});

describe('roundSeries', () => {
  it('aligns bytes and shift per row with gaps as null', () => {
    const s = roundSeries(parseRounds(doc).rows);
    expect(s.x).toEqual([1, 2, 3]);
    expect(s.labels).toEqual(['0 (k-FED)', '1', '2']);
    expect(s.bytes).toEqual([512, 100, 200]);
    expect(s.shift).toEqual([null, null, 0.25]);
  });
});

describe('epsilonBar', () => {
  it('is absent without a budget, clamps and flags overspend', () => {
    expect(epsilonBar(0.3, undefined)).toBeUndefined();
    expect(epsilonBar(0.5, 2)).toEqual({ fraction: 0.25, over: false });
    expect(epsilonBar(3, 2)).toEqual({ fraction: 1, over: true });
    expect(epsilonBar(undefined, 2)).toEqual({ fraction: 0, over: false });
  });
});
