// Draws the chart payloads the server embeds (see fanzwatch/server/dash/charts.py) with uPlot.
import uPlot from 'uplot';
import { fmt, fmtAxis } from './format';

export interface SeriesData {
  label: string;
  values: (number | null)[];
  breaks: number[];
  dashed: boolean;
  isolated: number[];
}

export interface ChartData {
  title: string;
  unit: string;
  kind: 'line' | 'spark';
  x: number[];
  range: [number, number] | null;
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
// Axis labels are drawn and measured in this font, so "does it fit" is exact.
const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
const LINE_HEIGHT = 14;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let measurer: CanvasRenderingContext2D | null = null;
function textWidth(text: string): number {
  if (measurer === null) {
    measurer = document.createElement('canvas').getContext('2d');
    if (measurer) measurer.font = AXIS_FONT;
  }
  const lines = text.split('\n');
  return Math.max(...lines.map((l) => (measurer ? measurer.measureText(l).width : l.length * 7)));
}

export interface LabelBox {
  text: string;
  left: number;
  right: number;
}

// What each plot last drew on its time axis (CSS pixels from the canvas' left edge):
// the browser tests check that no label runs off the chart.
const drawnLabels = new WeakMap<uPlot, LabelBox[]>();

// Money carries its currency, as on the server's tables: "83.84 USD".
function withCurrency(shown: string, unit: string, label: string): string {
  if ((unit !== 'currency' && unit !== 'money') || shown === '–') return shown;
  const code = label.split(' ', 1)[0];
  return /^[A-Z]{3}$/.test(code) ? `${shown} ${code}` : shown;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

// Time labels in UTC (the tables say UTC too): "14:05" ("14:05:30" when ticks are under a
// minute apart), with the day under the first
// label of each day; days only when the ticks are a day or more apart. A label that
// would run off either edge of the chart is left out rather than cut.
function timeLabels(u: uPlot, splits: number[], _axisIdx: number, _space: number, incr: number): (string | null)[] {
  let lastDay = '';
  const boxes: LabelBox[] = [];
  const out = splits.map((t) => {
    const d = new Date(t * 1000);
    const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
    let label: string;
    if (incr >= 86400) label = day;
    else {
      const seconds = incr < 60 ? `:${two(d.getUTCSeconds())}` : '';
      const hm = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}${seconds}`;
      label = day !== lastDay ? `${hm}\n${day}` : hm;
    }
    const centre = u.valToPos(t, 'x') + u.bbox.left / uPlot.pxRatio;
    const half = textWidth(label) / 2;
    if (centre - half < 0 || centre + half > u.width) return null;
    if (incr < 86400) lastDay = day;
    boxes.push({ text: label, left: centre - half, right: centre + half });
    return label;
  });
  drawnLabels.set(u, boxes);
  return out;
}

function labelBoxes(plot: uPlot): LabelBox[] {
  return drawnLabels.get(plot) ?? [];
}

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
  const widest = (values ?? []).reduce((n, v) => Math.max(n, v === null ? 0 : textWidth(String(v))), 0);
  const gap = (axis.ticks?.size ?? 10) + (axis.gap ?? 5);
  return Math.ceil(gap + widest + 8);
}

// Room for two lines of time labels under the plot.
function timeAxisSize(u: uPlot, values: string[] | null, axisIdx: number): number {
  const axis = u.axes[axisIdx];
  const lines = (values ?? []).reduce((n, v) => Math.max(n, v === null ? 0 : String(v).split('\n').length), 1);
  return (axis.ticks?.size ?? 10) + (axis.gap ?? 5) + lines * LINE_HEIGHT + 4;
}

// The x axis is the range the page chose; without one, the data's span (padded when
// there is a single x, which uPlot would otherwise stretch over years).
function xRange(data: ChartData): uPlot.Range.MinMax {
  if (data.range) return [data.range[0], data.range[1]];
  const xs = data.x;
  if (xs.length === 0) return [0, 1];
  const lo = xs[0];
  const hi = xs[xs.length - 1];
  return lo === hi ? [lo - 300, hi + 300] : [lo, hi];
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
      value: (_u: uPlot, v: number | null) => withCurrency(fmt(v, data.unit), data.unit, s.label),
      // A point with no neighbour has no line to show it: drawn as a dot.
      points: isMarks
        ? { show: true, size: 8, fill: MARK_COLOR, stroke: MARK_COLOR }
        : {
            show: s.isolated.length > 0,
            size: 7,
            fill: color,
            stroke: color,
            filter: () => s.isolated,
          },
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
    padding: [8, 12, 0, 0],
    scales: { x: { time: true, range: () => xRange(data) }, y: { range: yRange } },
    legend: { show: !spark, live: true },
    cursor: { show: !spark, points: { show: false } },
    axes: spark
      ? [{ show: false }, { show: false }]
      : [
          {
            stroke: '#57606a',
            font: AXIS_FONT,
            grid: { stroke: '#eaeef2', width: 1 },
            ticks: { stroke: '#d0d7de' },
            size: timeAxisSize,
            values: timeLabels,
          },
          {
            stroke: '#57606a',
            font: AXIS_FONT,
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
  // Read by the browser tests: the plot (its scales) and where its time labels went.
  (figure as HTMLElement & { fanzdash?: object }).fanzdash = { plot, labels: () => labelBoxes(plot) };
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
