/**
 * Page load from the Navigation Timing Level 2 entry. Its times are relative to the
 * entry's own `startTime` (0 for the document's navigation): there is no
 * `navigationStart` on `PerformanceNavigationTiming`.
 */

import { ms, pageUrl } from './page';
import type { PageLoadEvent } from './types';

const span = (from: number, to: number): number => (to > 0 && from > 0 && to >= from ? to - from : 0);

export const collectPageLoad = (push: (e: PageLoadEvent) => void, traceId?: string): void => {
  const measure = (): void => {
    const entries = performance.getEntriesByType ? performance.getEntriesByType('navigation') : [];
    const nav = entries[0] as PerformanceNavigationTiming | undefined;
    if (!nav || nav.loadEventEnd <= 0) return;
    const since = (x: number): number => ms(Math.max(0, x - nav.startTime)) || 0;
    push({
      type: 'page_load',
      t: Date.now(),
      url: pageUrl(),
      nav: nav.type,
      dns: ms(span(nav.domainLookupStart, nav.domainLookupEnd)) || 0,
      connect: ms(span(nav.connectStart, nav.connectEnd)) || 0,
      tls: ms(nav.secureConnectionStart > 0 ? span(nav.secureConnectionStart, nav.connectEnd) : 0) || 0,
      ttfb: since(nav.responseStart),
      response: ms(span(nav.responseStart, nav.responseEnd)) || 0,
      dom_interactive: since(nav.domInteractive),
      dom_content_loaded: since(nav.domContentLoadedEventEnd),
      load: since(nav.loadEventEnd),
      transfer_size: typeof nav.transferSize === 'number' ? nav.transferSize : undefined,
      trace_id: traceId,
    });
  };
  // loadEventEnd is only set once every load handler has returned: read it a task later.
  if (document.readyState === 'complete') setTimeout(measure, 0);
  else addEventListener('load', () => setTimeout(measure, 0), { once: true });
};
