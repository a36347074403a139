// Draws the chart payloads the server embeds (see fanzwatch/server/dash/charts.py) with uPlot.
import uPlot from 'uplot';
import { fmt, fmtAxis } from './format';

export interface SeriesData {
  label: string;
  values: (number | null)[];
  breaks: number[];
  dashed: boolean;
}

export interface ChartData {
  title: string;
  unit: string;
  kind: 'line' | 'spark';
  x: number[];
  series: SeriesData[];
  thresholds: { value: number; color: string }[];
  min: number | null;
  max: number | null;
  band: [number, number] | null;
  marks: number | null;
  points: number;
}

// Okabe-Ito: distinguishable with the common colour-vision deficiencies.
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#8C6D1F'];
const THRESHOLD_COLORS: Record<string, string> = {
  green: '#1a7f37',
  yellow: '#b08800',
  red: '#cf222e',
  blue: '#0969da',
};
const MARK_COLOR = '#cf222e';

const charts = new Map<HTMLElement, { plot: uPlot; observer: ResizeObserver }>();

function thresholdHook(data: ChartData) {
  return (u: uPlot) => {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.lineWidth = 1.5 * uPlot.pxRatio;
    ctx.setLineDash([6 * uPlot.pxRatio, 4 * uPlot.pxRatio]);
    for (const t of data.thresholds) {
      const y = u.valToPos(t.value, 'y', true);
      if (!Number.isFinite(y) || y < top || y > top + height) continue;
      ctx.strokeStyle = THRESHOLD_COLORS[t.color] ?? '#57606a';
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + width, y);
      ctx.stroke();
    }
    ctx.restore();
  };
}

// Room for the longest tick label (uPlot's default is a fixed 50 px).
function axisSize(u: uPlot, values: string[] | null, axisIdx: number): number {
  const axis = u.axes[axisIdx];
  const longest = (values ?? []).reduce((n, v) => Math.max(n, String(v).length), 0);
  const gap = (axis.ticks?.size ?? 10) + (axis.gap ?? 5);
  return Math.ceil(gap + longest * 7.2 + 6);
}

function options(data: ChartData, width: number, height: number): uPlot.Options {
  const spark = data.kind === 'spark';
  const series: uPlot.Series[] = [{ label: 'time' }];
  data.series.forEach((s, i) => {
    const isMarks = data.marks === i;
    const inBand = data.band !== null && (data.band[0] === i || data.band[1] === i);
    const color = isMarks ? MARK_COLOR : inBand ? '#8c959f' : PALETTE[i % PALETTE.length];
    series.push({
      label: s.label,
      stroke: color,
      width: inBand ? 1 : 1.75,
      dash: s.dashed ? [5, 4] : undefined,
      spanGaps: false,
      value: (_u: uPlot, v: number | null) => fmt(v, data.unit),
      points: isMarks ? { show: true, size: 8, fill: MARK_COLOR, stroke: MARK_COLOR } : { show: false },
      paths: isMarks ? () => null : undefined,
    });
  });
  const yRange = (_u: uPlot, lo: number | null, hi: number | null): uPlot.Range.MinMax => {
    let a = data.min ?? lo ?? 0;
    let b = data.max ?? hi ?? 1;
    if (lo !== null && data.min !== null) a = Math.min(a, lo);
    if (hi !== null && data.max !== null) b = Math.max(b, hi);
    if (a === b) b = a === 0 ? 1 : a + Math.abs(a) * 0.1;
    return [a, b + (b - a) * 0.05];
  };
  return {
    width,
    height,
    series,
    bands: data.band ? [{ series: [data.band[1] + 1, data.band[0] + 1], fill: 'rgba(9, 105, 218, 0.10)' }] : [],
    scales: { x: { time: true }, y: { range: yRange } },
    legend: { show: !spark, live: true },
    cursor: { show: !spark, points: { show: false } },
    axes: spark
      ? [{ show: false }, { show: false }]
      : [
          { stroke: '#57606a', grid: { stroke: '#eaeef2', width: 1 }, ticks: { stroke: '#d0d7de' } },
          {
            stroke: '#57606a',
            grid: { stroke: '#eaeef2', width: 1 },
            ticks: { stroke: '#d0d7de' },
            size: axisSize,
            values: (_u: uPlot, ticks: number[]) => ticks.map((t) => fmtAxis(t, data.unit)),
          },
        ],
    hooks: { draw: [thresholdHook(data)] },
  };
}

function draw(figure: HTMLElement): void {
  const script = figure.querySelector('script[type="application/json"]');
  const canvas = figure.querySelector<HTMLElement>('.chart-canvas');
  if (!script || !canvas) return;
  const data = JSON.parse(script.textContent ?? '{}') as ChartData;
  const height = Number(figure.dataset.height ?? '200');
  // null from the server means "no point at this x": undefined, which uPlot draws across;
  // the series' breaks are real gaps: null, where uPlot lifts the pen.
  const columns = [
    data.x,
    ...data.series.map((s) => {
      const values: (number | null | undefined)[] = s.values.map((v) => (v === null ? undefined : v));
      for (const i of s.breaks) values[i] = null;
      return values;
    }),
  ] as uPlot.AlignedData;
  const width = Math.max(160, canvas.clientWidth);
  canvas.textContent = '';
  const plot = new uPlot(options(data, width, height), columns, canvas);
  const observer = new ResizeObserver(() => {
    const w = Math.max(160, canvas.clientWidth);
    if (Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height });
  });
  observer.observe(canvas);
  charts.set(figure, { plot, observer });
  figure.dataset.drawn = 'true';
  figure.dataset.points = String(data.points);
  figure.dataset.series = String(data.series.length);
}

export function drawCharts(root: ParentNode): void {
  root.querySelectorAll<HTMLElement>('figure[data-chart]').forEach((figure) => {
    if (figure.dataset.drawn !== 'true') draw(figure);
  });
}

export function destroyCharts(root: ParentNode): void {
  for (const [figure, { plot, observer }] of charts) {
    if (root.contains(figure)) {
      observer.disconnect();
      plot.destroy();
      charts.delete(figure);
    }
  }
}
