/**
 * Configuration from the snippet: `window.fanzRum = {...}` set before the script,
 * or `data-*` attributes on the script tag (the object wins where both are given).
 *
 *   <script src="https://watch.example/rum/fanz-rum.js" async
 *           data-platform="fanz-1" data-key="pk_live_..." data-sample-rate="0.5"
 *           data-trace-origins="https://api.fanz-1.example" data-trace-sample-rate="0.25"></script>
 */

export interface RumConfig {
  /** Where batches are POSTed; defaults to /api/v1/analytics/batch on the script's origin. */
  endpoint: string;
  /** The FANZ platform slug this page belongs to. */
  platform: string;
  /** Optional public key; sent in the query string because sendBeacon cannot set headers. */
  key?: string;
  /** Fraction of tabs (sessions) that report at all, 0..1. */
  sampleRate: number;
  /** Fraction of clicks and form submits reported by a reporting tab, 0..1. */
  interactionSampleRate: number;
  /** Flush early when this many events are queued. */
  maxBatch: number;
  /** Add W3C traceparent to fetch/XHR calls (same origin and traceOrigins). */
  tracing: boolean;
  /** Other origins whose calls get traceparent (their CORS must allow the header). */
  traceOrigins: string[];
  /** Fraction of page views whose trace is sampled (traceparent flag 01; else 00), 0..1. */
  traceSampleRate: number;
}

export interface RumUserConfig {
  endpoint?: string;
  platform?: string;
  key?: string;
  sampleRate?: number;
  interactionSampleRate?: number;
  maxBatch?: number;
  tracing?: boolean;
  traceOrigins?: string[];
  traceSampleRate?: number;
}

const BATCH_PATH = '/api/v1/analytics/batch';

const rate = (raw: unknown, fallback: number): number => {
  const n = typeof raw === 'string' ? parseFloat(raw) : typeof raw === 'number' ? raw : NaN;
  return n >= 0 && n <= 1 ? n : fallback;
};

const positiveInt = (raw: unknown, fallback: number, max: number): number => {
  const n = typeof raw === 'string' ? parseInt(raw, 10) : typeof raw === 'number' ? raw : NaN;
  return n >= 1 && n <= max ? Math.floor(n) : fallback;
};

const origins = (raw: unknown): string[] => {
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [];
  const out: string[] = [];
  for (const item of list.slice(0, 20)) {
    try {
      const origin = new URL(String(item).trim()).origin;
      if (origin !== 'null') out.push(origin);
    } catch {
      // not a URL: ignored
    }
  }
  return out;
};

export const readConfig = (script: HTMLScriptElement | null, user: RumUserConfig | undefined): RumConfig => {
  const data = script ? script.dataset : ({} as DOMStringMap);
  const u = user || {};
  const base = script && script.src ? script.src : location.href;
  let endpoint = u.endpoint || data.endpoint || BATCH_PATH;
  try {
    endpoint = new URL(endpoint, base).href;
  } catch {
    endpoint = BATCH_PATH;
  }
  const key = u.key || data.key;
  return {
    endpoint,
    platform: u.platform || data.platform || 'other',
    key: key || undefined,
    sampleRate: rate(u.sampleRate !== undefined ? u.sampleRate : data.sampleRate, 1),
    interactionSampleRate: rate(
      u.interactionSampleRate !== undefined ? u.interactionSampleRate : data.interactionSampleRate,
      0.1,
    ),
    maxBatch: positiveInt(u.maxBatch !== undefined ? u.maxBatch : data.maxBatch, 50, 200),
    tracing: u.tracing !== undefined ? u.tracing !== false : data.tracing !== 'off' && data.tracing !== 'false',
    traceOrigins: origins(u.traceOrigins !== undefined ? u.traceOrigins : data.traceOrigins),
    traceSampleRate: rate(u.traceSampleRate !== undefined ? u.traceSampleRate : data.traceSampleRate, 1),
  };
};
