// Federation: the rounds of the federated cloud aggregator (first federate service with role
// cloud, else the first federate): the current round, ε spent vs the DP budget (a bar), a uPlot
// chart of bytes received and centroid shift per round, and the rounds table (participants,
// dropouts, ε, bytes, shift). There is no per-round SSQ: the aggregator cannot compute it from
// what nodes send (docs/services/federate.md).
import { useMemo } from 'preact/hooks';
import { getJson, pickFederateCloud, svcPath } from '../lib/api';
import { ErrorBox, useInterval, useLoad, useServices } from '../components/common';
import { LineChart, type LineSeries } from '../components/chart';
import { formatBytes, formatDuration, formatNumber } from '../lib/format';
import { completedRounds, epsilonBar, parseRounds, roundSeries, type RoundsDoc } from '../lib/federation';

type Row = Record<string, unknown>;

function EpsilonBar({ doc }: { doc: RoundsDoc }) {
  const bar = epsilonBar(doc.epsilonSpent, doc.epsilonBudget);
  if (!bar) return <p class="muted small">Central differential privacy is off (no ε budget).</p>;
  return (
    <div class="epsilon">
      <span>
        ε spent <strong>{formatNumber(doc.epsilonSpent ?? 0, 3)}</strong> of {formatNumber(doc.epsilonBudget, 3)}
      </span>
      <div class={`epsbar${bar.over ? ' over' : ''}`} title={`${(bar.fraction * 100).toFixed(0)} % of the budget`}>
        <div style={{ width: `${(bar.fraction * 100).toFixed(1)}%` }} />
      </div>
    </div>
  );
}

function RoundsChart({ doc }: { doc: RoundsDoc }) {
  const key = JSON.stringify(doc.rows.map((r) => [r.round, r.bytes, r.shift]));
  const data = useMemo(() => {
    const s = roundSeries(doc.rows);
    const series: LineSeries[] = [
      { label: 'bytes received', values: s.bytes, colour: '#2563eb' },
      { label: 'centroid shift', values: s.shift, colour: '#d97706', right: true },
    ];
    return { s, series };
  }, [key]);
  if (doc.rows.length === 0) return null;
  return (
    <div class="card">
      <h2>Per round</h2>
      <LineChart times={data.s.x} xLabels={data.s.labels} xLabel="round" series={data.series} height={220} yLabel="bytes" y2Label="centroid shift" formatY={formatBytes} />
    </div>
  );
}

function Rounds({ svc }: { svc: string }) {
  const rounds = useLoad(() => getJson<unknown>(svcPath(svc, 'rounds')).then(parseRounds), [svc]);
  const cur = useLoad(() => getJson<Row>(svcPath(svc, 'round')), [svc]);
  useInterval(() => {
    rounds.reload();
    cur.reload();
  }, 5000);
  const doc = rounds.data;
  const rows = doc?.rows ?? [];
  return (
    <>
      <ErrorBox error={rounds.error || cur.error} />
      {cur.data && (
        <p class="muted">
          Current round {String(cur.data.round ?? '—')} ({String(cur.data.kind ?? '?')}, {String(cur.data.state ?? '?')}) · model v{String(cur.data.model_version ?? '—')} ·{' '}
          {completedRounds(rows)} completed · secure {String(cur.data.secure ?? false)} · encoding {String(cur.data.update_encoding ?? 'f64')} · nodes{' '}
          {Array.isArray(cur.data.nodes) ? cur.data.nodes.length : '—'}
        </p>
      )}
      {doc && <EpsilonBar doc={doc} />}
      {doc && <RoundsChart doc={doc} />}
      <table class="rounds">
        <thead>
          <tr>
            <th>Round</th>
            <th>Kind</th>
            <th>Outcome</th>
            <th>Participants</th>
            <th>Dropouts</th>
            <th>Bytes received</th>
            <th>Centroid shift</th>
            <th class="nocase">ε ROUND</th>
            <th class="nocase">ε TOTAL</th>
            <th>Suppressed</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr class={`round ${r.outcome}`}>
              <td>{r.round}</td>
              <td>{r.kind}</td>
              <td>{r.outcome}</td>
              <td>{r.participants}</td>
              <td>{r.dropouts}</td>
              <td>{formatBytes(r.bytes)}</td>
              <td>{formatNumber(r.shift, 3)}</td>
              <td>{formatNumber(r.epsilonRound, 3)}</td>
              <td>{formatNumber(r.epsilonTotal, 3)}</td>
              <td>{r.suppressed ?? '—'}</td>
              <td>{formatDuration(r.durationMs)}</td>
            </tr>
          ))}
          {doc && rows.length === 0 && (
            <tr>
              <td colSpan={11} class="muted">
                No rounds yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}

export function FederationPage() {
  const s = useServices();
  const fed = s.data ? pickFederateCloud(s.data) : undefined;
  return (
    <section>
      <h1>Federation</h1>
      {s.error && <ErrorBox error={`cannot list services: ${s.error}`} />}
      {s.data && !fed && (
        <div class="missing">
          <strong>No federate service.</strong> The federation page needs a service of type <code>federate</code> (the cloud aggregator), but the
          console has none configured (it knows: {s.data.map((x) => `${x.name} (${x.type})`).join(', ') || 'nothing'}).
        </div>
      )}
      {fed && (
        <>
          <p class="muted">
            Aggregator <code>{fed.name}</code>
            {fed.node ? ` on ${fed.node}` : ''}
          </p>
          <Rounds svc={fed.name} />
        </>
      )}
    </section>
  );
}
