/** Core Web Vitals (LCP, INP, CLS) and FCP, TTFB from the web-vitals library, with attribution. */

import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals/attribution';
import type { MetricWithAttribution } from 'web-vitals/attribution';
import { selectorOf } from './identity';
import { bareUrl, clip, ms, pageUrl } from './page';
import type { VitalAttribution, VitalEvent } from './types';

/** web-vitals' own selectors include class names; ours are text- and class-free. */
const generateTarget = (node: Node | null): string | undefined =>
  node && node.nodeType === 1 ? selectorOf(node as Element) : undefined;

const attribution = (m: MetricWithAttribution): VitalAttribution => {
  switch (m.name) {
    case 'LCP': {
      const a = m.attribution;
      return {
        target: clip(a.target, 256),
        url: bareUrl(a.url),
        ttfb: ms(a.timeToFirstByte),
        resource_load_delay: ms(a.resourceLoadDelay),
        resource_load_duration: ms(a.resourceLoadDuration),
        element_render_delay: ms(a.elementRenderDelay),
      };
    }
    case 'INP': {
      const a = m.attribution;
      return {
        target: clip(a.interactionTarget, 256),
        interaction_type: a.interactionType,
        load_state: a.loadState,
        input_delay: ms(a.inputDelay),
        processing_duration: ms(a.processingDuration),
        presentation_delay: ms(a.presentationDelay),
      };
    }
    case 'CLS': {
      const a = m.attribution;
      return {
        target: clip(a.largestShiftTarget, 256),
        load_state: a.loadState,
        largest_shift_value: typeof a.largestShiftValue === 'number' ? a.largestShiftValue : undefined,
        largest_shift_time: ms(a.largestShiftTime),
      };
    }
    case 'FCP': {
      const a = m.attribution;
      return { load_state: a.loadState, ttfb: ms(a.timeToFirstByte), first_byte_to_fcp: ms(a.firstByteToFCP) };
    }
    case 'TTFB': {
      const a = m.attribution;
      return {
        waiting: ms(a.waitingDuration),
        cache: ms(a.cacheDuration),
        dns: ms(a.dnsDuration),
        connection: ms(a.connectionDuration),
        request: ms(a.requestDuration),
      };
    }
  }
};

export const collectVitals = (push: (e: VitalEvent) => void): void => {
  const report = (m: MetricWithAttribution): void => {
    const value = m.name === 'CLS' ? m.value : ms(m.value);
    if (value === undefined || !isFinite(value)) return;
    push({
      type: 'vital',
      t: Date.now(),
      url: pageUrl(),
      name: m.name,
      value,
      rating: m.rating,
      id: clip(m.id, 64),
      nav: m.navigationType,
      attribution: attribution(m),
    });
  };
  const opts = { generateTarget };
  onLCP(report, opts);
  onINP(report, opts);
  onCLS(report, opts);
  onFCP(report, opts);
  onTTFB(report, opts);
};
