/**
 * W3C Trace Context for the page: one trace per page view, continued by the backend.
 *
 * A page view is the document's load and, in a single-page app, every route change
 * (`history.pushState`/`replaceState` to another path, back and forward between paths)
 * and every restore from the back/forward cache; a change of only the query string or
 * the fragment stays in the same view. The first view's trace is the server-rendered
 * page's own (`<meta name="traceparent" content="00-<trace>-<span>-<flags>">`, which
 * `fanzwatch.sdk.current_traceparent()` fills in), with the server's sampling decision;
 * without it, and for every later view, a new random trace, sampled with probability
 * `traceSampleRate` (default 1). `fetch` and `XMLHttpRequest` calls to the page's origin,
 * and to the configured `traceOrigins`, get a `traceparent` header with the current view's
 * trace id, a new span id and the view's sampled flag (`01`, or `00`: the backend's
 * parent-based sampler records nothing of that view), so the backend's server spans join
 * the view's trace; the page-load event carries the first view's id when it is sampled,
 * so a RUM page view links to the backend trace. Other origins get nothing: a new header
 * would need their CORS approval.
 */

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);

const hex = (bytes: number): string => {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  let out = '';
  for (let i = 0; i < buf.length; i++) out += (buf[i] < 16 ? '0' : '') + buf[i].toString(16);
  return out;
};

const newId = (bytes: number): string => {
  for (;;) {
    const id = hex(bytes);
    if (/[^0]/.test(id)) return id; // all-zero ids are invalid
  }
};

/** A page view's trace: its id and whether it is sampled. */
export interface ViewTrace {
  traceId: string;
  sampled: boolean;
}

const decide = (rate: number): boolean => rate >= 1 || (rate > 0 && Math.random() < rate);

/** The first view's trace: the page's own (meta tag, with its sampled flag) or a new one. */
export const firstViewTrace = (rate: number): ViewTrace => {
  const meta = document.querySelector('meta[name="traceparent"]');
  const m = meta ? TRACEPARENT.exec((meta.getAttribute('content') || '').trim().toLowerCase()) : null;
  if (m && m[1] !== ZERO_TRACE) return { traceId: m[1], sampled: (parseInt(m[3], 16) & 1) === 1 };
  return { traceId: newId(16), sampled: decide(rate) };
};

/** The current page view's trace; `newView` starts the next one. */
export class PageTraces {
  current: ViewTrace;
  private readonly rate: number;

  constructor(rate: number) {
    this.rate = rate;
    this.current = firstViewTrace(rate);
  }

  newView(): void {
    this.current = { traceId: newId(16), sampled: decide(this.rate) };
  }

  header(): string {
    return `00-${this.current.traceId}-${newId(8)}-${this.current.sampled ? '01' : '00'}`;
  }
}

/** A new view on every SPA route change (another path) and every back/forward-cache restore. */
export const trackViews = (traces: PageTraces): void => {
  let path = location.pathname;
  const changed = (): void => {
    try {
      if (location.pathname !== path) {
        path = location.pathname;
        traces.newView();
      }
    } catch {
      // Telemetry never breaks the page.
    }
  };
  const h = typeof history !== 'undefined' ? history : null;
  if (h) {
    for (const name of ['pushState', 'replaceState'] as const) {
      const native = h[name];
      if (typeof native !== 'function') continue;
      h[name] = function (this: History, ...args: Parameters<History['pushState']>): void {
        const out = native.apply(this, args);
        changed();
        return out;
      };
    }
  }
  addEventListener('popstate', changed);
  addEventListener('pageshow', (e: PageTransitionEvent) => {
    if (e.persisted) {
      path = location.pathname;
      traces.newView();
    }
  });
};

/** Whether a request to `raw` gets the header: same origin, or one of `origins`. */
const traced = (raw: string | URL, origins: string[]): boolean => {
  try {
    const origin = new URL(String(raw), location.href).origin;
    return origin === location.origin || origins.indexOf(origin) >= 0;
  } catch {
    return false;
  }
};

const hasHeader = (headers: HeadersInit | undefined, name: string): boolean => {
  if (!headers) return false;
  if (headers instanceof Headers) return headers.has(name);
  if (Array.isArray(headers)) return headers.some((h) => String(h[0]).toLowerCase() === name);
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
};

/** Patch `fetch` and `XMLHttpRequest` once; an app's own traceparent is left alone. */
export const propagateTrace = (traces: PageTraces, origins: string[]): void => {
  const nativeFetch = window.fetch;
  if (typeof nativeFetch === 'function') {
    window.fetch = function (input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      try {
        const isRequest = typeof Request !== 'undefined' && input instanceof Request;
        const url = isRequest ? (input as Request).url : (input as string | URL);
        const own = init && init.headers;
        if (traced(url, origins) && !hasHeader(own, 'traceparent')) {
          const headers = new Headers(own || (isRequest ? (input as Request).headers : undefined));
          if (!headers.has('traceparent')) {
            headers.set('traceparent', traces.header());
            return nativeFetch.call(this, input, { ...(init || {}), headers });
          }
        }
      } catch {
        // Telemetry never breaks the page: send the call untouched.
      }
      return nativeFetch.call(this, input, init);
    };
  }
  const xhr = typeof XMLHttpRequest !== 'undefined' ? XMLHttpRequest.prototype : null;
  if (!xhr) return;
  const urls = new WeakMap<XMLHttpRequest, string>();
  const own = new WeakSet<XMLHttpRequest>();
  const open = xhr.open;
  const setHeader = xhr.setRequestHeader;
  const send = xhr.send;
  xhr.open = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]): void {
    urls.set(this, String(url));
    own.delete(this);
    return (open as (...a: unknown[]) => void).call(this, method, url, ...rest);
  };
  xhr.setRequestHeader = function (this: XMLHttpRequest, name: string, value: string): void {
    if (String(name).toLowerCase() === 'traceparent') own.add(this);
    return setHeader.call(this, name, value);
  };
  xhr.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null): void {
    try {
      const url = urls.get(this);
      if (url !== undefined && !own.has(this) && traced(url, origins)) {
        setHeader.call(this, 'traceparent', traces.header());
      }
    } catch {
      // Telemetry never breaks the page.
    }
    return send.call(this, body);
  };
};
