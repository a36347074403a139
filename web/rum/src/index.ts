/**
 * fanz-rum.js: Real User Monitoring for the FANZ platforms.
 *
 * Include once per page:
 *   <script src="/rum/fanz-rum.js" data-platform="fanz-1" async></script>
 * Options (`window.fanzRum = {...}` or `data-*`): endpoint, platform, key,
 * sampleRate (tabs that report), interactionSampleRate (clicks/submits sent),
 * maxBatch (events per early flush), tracing (traceparent on fetch/XHR, default on),
 * traceOrigins (other origins that get it; comma-separated as data-trace-origins),
 * traceSampleRate (page views whose trace is sampled, default 1; see tracecontext.ts).
 */

import { readConfig } from './config';
import type { RumUserConfig } from './config';
import { collectErrors } from './errors';
import { collectInteractions } from './interactions';
import { collectPageLoad } from './pageload';
import { sessionId, sessionSampled } from './session';
import { PageTraces, propagateTrace, trackViews } from './tracecontext';
import { Transport } from './transport';
import { collectVitals } from './vitals';

declare global {
  interface Window {
    fanzRum?: RumUserConfig & { started?: boolean; flush?: () => void };
  }
}

const start = (): void => {
  const user = window.fanzRum;
  if (user && user.started) return; // included twice: keep the first
  const script = document.currentScript as HTMLScriptElement | null;
  const config = readConfig(script, user);
  const state = (window.fanzRum = { ...(user || {}), started: true });
  // Every tab propagates the trace (sampled out of RUM or not): backend traces stay whole.
  // The transport keeps the unpatched fetch, so beacons carry no traceparent.
  const transportFetch = typeof fetch === 'function' ? fetch.bind(window) : undefined;
  // One trace per page view (SPA route changes too), each sampled at traceSampleRate.
  const traces = config.tracing ? new PageTraces(config.traceSampleRate) : undefined;
  if (traces) {
    propagateTrace(traces, config.traceOrigins);
    trackViews(traces);
  }
  // The page load is the first view: linked to its trace when that trace is recorded.
  const traceId = traces && traces.current.sampled ? traces.current.traceId : undefined;
  if (!sessionSampled(config.sampleRate)) return;

  const transport = new Transport(config, sessionId(), transportFetch);
  const push = transport.push.bind(transport);
  collectErrors(push);
  collectVitals(push);
  collectPageLoad(push, traceId);
  collectInteractions(config.interactionSampleRate, push);

  // Registered after web-vitals' own listeners (window, capture phase), so the
  // final LCP, INP and CLS reports are queued before this flush runs.
  const flush = (): void => transport.flush();
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush();
  });
  addEventListener('pagehide', flush);
  state.flush = flush;
};

try {
  start();
} catch {
  // Telemetry never breaks the page.
}
