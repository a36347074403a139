// Number formatting for chart axes and legends; the same rules as the server's
// fanzwatch/server/dash/formatting.py, so a value reads the same in tables and charts.

function compact(v: number): string {
  const m = Math.abs(v);
  if (v === 0) return '0';
  if (m >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (m >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (m >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (m >= 100) return Math.round(v).toLocaleString('en-US');
  return `${+v.toPrecision(3)}`;
}

// Axis ticks: short, so labels fit beside the plot (money and counts as 1.2k).
export function fmtAxis(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  if (unit === 'currency' || unit === 'money' || unit === 'count' || unit === '') return compact(value);
  return fmt(value, unit);
}

export function fmt(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const v = value;
  switch (unit) {
    case 'ratio':
    case 'percent':
      return Math.abs(v) < 0.1 ? `${+(v * 100).toPrecision(3)}%` : `${(v * 100).toFixed(1)}%`;
    case 'seconds':
    case 's':
      if (Math.abs(v) < 1) return `${+(v * 1000).toPrecision(3)} ms`;
      return Math.abs(v) < 60 ? `${+v.toPrecision(3)} s` : `${(v / 60).toFixed(1)} min`;
    case 'bytes': {
      const units: [string, number][] = [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]];
      for (const [suffix, size] of units) if (Math.abs(v) >= size) return `${(v / size).toFixed(1)} ${suffix}`;
      return `${Math.round(v)} B`;
    }
    case 'currency':
    case 'money':
      return v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    case 'requests_per_second':
    case 'requests/s':
      return `${compact(v)} req/s`;
    case 'events_per_second':
      return `${compact(v)}/s`;
    default:
      return unit.endsWith('/s') ? `${compact(v)}/s` : compact(v);
  }
}
