/**
 * W3C Trace Context for the page: one trace per page view, continued by the backend.
 *
 * The page view's trace id is the server-rendered page's own (`<meta name="traceparent"
 * content="00-<trace>-<span>-<flags>">`, which `fanzwatch.sdk.current_traceparent()`
 * fills in), else a new random one. `fetch` and `XMLHttpRequest` calls to the page's
 * origin, and to the configured `traceOrigins`, get a `traceparent` header with that
 * trace id and a new span id, so the backend's server spans join the page view's trace;
 * the page-load event carries the id, so a RUM page view links to the backend trace.
 * Other origins get nothing: a new header would need their CORS approval.
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

/** The page view's trace id: the page's own (meta tag) or a new one. */
export const pageTraceId = (): string => {
  const meta = document.querySelector('meta[name="traceparent"]');
  const m = meta ? TRACEPARENT.exec((meta.getAttribute('content') || '').trim().toLowerCase()) : null;
  return m && m[1] !== ZERO_TRACE ? m[1] : newId(16);
};

const traceparent = (traceId: string): string => `00-${traceId}-${newId(8)}-01`;

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
export const propagateTrace = (traceId: string, origins: string[]): void => {
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
            headers.set('traceparent', traceparent(traceId));
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
        setHeader.call(this, 'traceparent', traceparent(traceId));
      }
    } catch {
      // Telemetry never breaks the page.
    }
    return send.call(this, body);
  };
};
