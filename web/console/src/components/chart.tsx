// A uPlot line chart for aligned series. x = unix seconds by default; with `xLabels` the x values
// are categories (e.g. round numbers) labelled by those strings. A series with `right: true` uses
// a second y axis on the right (its own scale and label). Re-created when the data changes; sized
// to its container width.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface LineSeries {
  label: string;
  values: (number | null)[];
  colour: string;
  right?: boolean; // plot on the right-hand axis
}

export interface ChartProps {
  times: number[];
  series: LineSeries[];
  height?: number;
  yLabel?: string;
  y2Label?: string;
  xLabels?: string[];
  xLabel?: string;
  formatY?: (v: number) => string;
}

export function LineChart({ times, series, height = 260, yLabel, y2Label, xLabels, xLabel, formatY }: ChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const right = series.some((s) => s.right);
    const axes: uPlot.Axis[] = [
      xLabels
        ? { label: xLabel, splits: () => times, values: (_u, ticks) => ticks.map((t) => xLabels[Math.round(t) - 1] ?? '') }
        : xLabel
          ? { label: xLabel }
          : {},
      // uPlot merges options key by key: never pass an explicit `undefined` (it would erase a default).
      formatY ? { label: yLabel, scale: 'y', values: (_u, ticks) => ticks.map(formatY), size: 70 } : { label: yLabel, scale: 'y' },
    ];
    if (right) axes.push({ label: y2Label, scale: 'y2', side: 1, grid: { show: false } });
    const opts: uPlot.Options = {
      width: Math.max(320, el.clientWidth || 800),
      height,
      scales: { x: { time: !xLabels }, y: {}, ...(right ? { y2: {} } : {}) },
      series: [
        xLabels ? { label: xLabel ?? 'x', value: (_u, v) => (v == null ? '—' : (xLabels[Math.round(v) - 1] ?? '')) } : {},
        ...series.map((s) => {
          const o: uPlot.Series = { label: s.label, stroke: s.colour, width: 2, scale: s.right ? 'y2' : 'y', spanGaps: true, points: { show: times.length < 40, size: 6 } };
          if (!s.right && formatY) o.value = (_u, v) => (v == null ? '—' : formatY(v));
          return o;
        }),
      ],
      axes,
      legend: { show: true },
    };
    const plot = new uPlot(opts, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const onResize = () => plot.setSize({ width: Math.max(320, el.clientWidth), height });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      plot.destroy();
    };
  }, [times, series, height, yLabel, y2Label, xLabels, xLabel, formatY]);
  return <div class="chart" ref={ref} />;
}
