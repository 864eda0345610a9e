// Federation page logic (pure, unit-tested in federation.test.ts): normalises fl-cloud's
// GET /api/v1/rounds document (docs/services/federate.md) into table rows, per-round chart series
// and the ε spent-vs-budget bar.
//
//   const doc = parseRounds(await getJson(svcPath('fl-cloud', 'rounds')));
//   const s = roundSeries(doc.rows);  const bar = epsilonBar(doc.epsilonSpent, doc.epsilonBudget);

export interface RoundRow {
  round: number;
  kind: string;
  outcome: string;
  participants: number;
  dropouts: number;
  bytes?: number;
  shift?: number;
  epsilonRound?: number;
  epsilonTotal?: number;
  suppressed?: number;
  durationMs?: number;
}

export interface RoundsDoc {
  rows: RoundRow[];
  epsilonSpent?: number;
  epsilonBudget?: number; // undefined: central DP is off
}

type Obj = Record<string, unknown>;

function n(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
function len(v: unknown): number | undefined {
  return Array.isArray(v) ? v.length : n(v);
}

export function parseRounds(doc: unknown): RoundsDoc {
  const d = (doc && typeof doc === 'object' ? doc : {}) as Obj;
  const items = Array.isArray(d.items) ? (d.items as unknown[]) : [];
  const rows: RoundRow[] = [];
  for (const it of items) {
    if (!it || typeof it !== 'object') continue;
    const r = it as Obj;
    rows.push({
      round: n(r.round) ?? rows.length,
      kind: typeof r.kind === 'string' ? r.kind : '?',
      outcome: typeof r.outcome === 'string' ? r.outcome : '?',
      participants: len(r.participants) ?? 0,
      dropouts: n(r.dropouts) ?? len(r.missing) ?? 0,
      bytes: n(r.bytes_received),
      shift: n(r.centroid_shift),
      epsilonRound: n(r.epsilon_round),
      epsilonTotal: n(r.epsilon_total),
      suppressed: n(r.suppressed_segments),
      durationMs: n(r.duration_ms),
    });
  }
  return { rows, epsilonSpent: n(d.epsilon_spent), epsilonBudget: n(d.epsilon_budget) };
}

/** Chart series: one x per row (its position, so retried round ids never collide). */
export function roundSeries(rows: RoundRow[]): { x: number[]; labels: string[]; bytes: (number | null)[]; shift: (number | null)[] } {
  return {
    x: rows.map((_, i) => i + 1),
    labels: rows.map((r) => `${r.round}${r.kind === 'kfed' ? ' (k-FED)' : ''}`),
    bytes: rows.map((r) => r.bytes ?? null),
    shift: rows.map((r) => r.shift ?? null),
  };
}

export function completedRounds(rows: RoundRow[]): number {
  return rows.filter((r) => r.outcome === 'completed').length;
}

/** The ε bar: filled fraction in [0, 1]; `over` when the spend exceeds the budget. */
export function epsilonBar(spent: number | undefined, budget: number | undefined): { fraction: number; over: boolean } | undefined {
  if (budget === undefined || !(budget > 0)) return undefined;
  const s = Math.max(0, spent ?? 0);
  return { fraction: Math.min(1, s / budget), over: s > budget * (1 + 1e-9) };
}
