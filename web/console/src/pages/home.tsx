// Home: the tier map. Nodes of the roof/edge, fog and cloud tiers with their services and health
// (ready / failing / down), and SVG arrows for the metered links labelled with bytes/s, msgs/s and
// p50/p95 latency — redrawn on every `overview` event of the live stream.
import { useEffect, useState } from 'preact/hooks';
import { subscribeOverview } from '../lib/stream';
import { layoutTierMap, stateCounts, GEOM } from '../lib/layout';
import { formatTime } from '../lib/format';
import type { Overview } from '../lib/types';

export function HomePage() {
  const [ov, setOv] = useState<Overview | null>(null);
  useEffect(() => subscribeOverview(setOv), []);
  if (!ov) return <p class="muted">Waiting for the first overview from the live stream…</p>;
  const map = layoutTierMap(ov);
  const counts = stateCounts(ov);
  return (
    <section>
      <h1>Tier map</h1>
      <p class="muted">
        {counts.ready} ready · {counts.failing} failing · {counts.down} down — updated {formatTime(ov.generated_at_ms)} UTC
      </p>
      <svg class="tiermap" viewBox={`0 0 ${map.width} ${map.height}`} width="100%" role="img" aria-label="tier map">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
        </defs>
        {map.columns.map((c) => (
          <g>
            <rect x={c.x - 8} y={8} width={c.w + 16} height={map.height - 12} rx={10} class="column" />
            <text x={c.x + c.w / 2} y={34} class="coltitle" text-anchor="middle">
              {c.title}
            </text>
          </g>
        ))}
        {map.nodes.map((n) => (
          <g class="node" data-node={n.node.name}>
            <rect x={n.x} y={n.y} width={n.w} height={n.h} rx={6} class="nodebox" />
            <text x={n.x + 10} y={n.y + 20} class="nodename">
              {n.node.name}
            </text>
            {n.services.map((s) => (
              <g class={`svc ${s.service.state}`} data-service={s.service.name}>
                <title>
                  {`${s.service.name} (${s.service.type}) — ${s.service.state}${s.service.detail ? `: ${s.service.detail}` : ''}`}
                </title>
                <circle cx={s.x + 8} cy={s.y} r={6} class={`state ${s.service.state}`} />
                <text x={s.x + 22} y={s.y + 5} class="svcname">
                  {s.service.name}
                </text>
                <text x={s.x + GEOM.colWidth - 2 * GEOM.pad - 4} y={s.y + 5} class="svcstate" text-anchor="end">
                  {s.service.state}
                </text>
              </g>
            ))}
          </g>
        ))}
        {map.arrows.map((a) => (
          <g class="link">
            <path d={a.path} class="linkpath" marker-end="url(#arrow)" />
            {a.label.map((line, i) => (
              <text x={a.labelX} y={a.labelY - 34 + i * 13} text-anchor="middle" class={i === 0 ? 'linkname' : 'linklabel'}>
                {line}
              </text>
            ))}
          </g>
        ))}
      </svg>
      {map.unplaced.length > 0 && <p class="muted">Links to unknown endpoints: {map.unplaced.join(', ')}</p>}
      <details>
        <summary>Services ({ov.nodes.reduce((n, x) => n + x.services.length, 0)})</summary>
        <table>
          <thead>
            <tr>
              <th>Service</th>
              <th>Type</th>
              <th>Node</th>
              <th>Tier</th>
              <th>State</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {ov.nodes.flatMap((n) =>
              n.services.map((s) => (
                <tr>
                  <td>{s.name}</td>
                  <td>{s.type}</td>
                  <td>{n.name}</td>
                  <td>{n.tier}</td>
                  <td>
                    <span class={`badge ${s.state}`}>{s.state}</span>
                  </td>
                  <td class="detail">{s.detail}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </details>
    </section>
  );
}
