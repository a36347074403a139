/**
 * Uncaught errors and unhandled promise rejections, with stack. At most
 * `MAX_PER_PAGE` per page, and an identical error only once, so an error in a loop
 * cannot flood the endpoint.
 */

import { bareUrl, clip, pageUrl } from './page';
import type { ErrorEvent as RumErrorEvent } from './types';

const MAX_PER_PAGE = 25;

const describe = (reason: unknown): { message: string; stack?: string } => {
  if (reason instanceof Error) return { message: reason.name + ': ' + reason.message, stack: reason.stack };
  if (typeof reason === 'string') return { message: reason };
  try {
    return { message: 'non-Error rejection: ' + JSON.stringify(reason) };
  } catch {
    return { message: 'non-Error rejection' };
  }
};

export const collectErrors = (push: (e: RumErrorEvent) => void): void => {
  const seen: Record<string, true> = {};
  let count = 0;
  const report = (e: Omit<RumErrorEvent, 't' | 'url' | 'type'>): void => {
    const dedupe = e.kind + '|' + e.message + '|' + (e.source || '') + ':' + (e.line || 0);
    if (count >= MAX_PER_PAGE || seen[dedupe]) return;
    seen[dedupe] = true;
    count++;
    push({
      type: 'error',
      t: Date.now(),
      url: pageUrl(),
      ...e,
      message: clip(e.message, 1024) || 'unknown error',
      stack: clip(e.stack, 8192),
    });
  };
  addEventListener('error', (ev: Event) => {
    // Resource load errors do not bubble to window; this is a script error.
    const e = ev as globalThis.ErrorEvent;
    const err = e.error instanceof Error ? e.error : undefined;
    report({
      kind: 'error',
      message: err ? err.name + ': ' + err.message : String(e.message || 'Script error'),
      source: bareUrl(e.filename, 2048),
      line: e.lineno > 0 ? e.lineno : undefined,
      col: e.colno > 0 ? e.colno : undefined,
      stack: err ? err.stack : undefined,
    });
  });
  addEventListener('unhandledrejection', (ev: PromiseRejectionEvent) => {
    report({ kind: 'unhandledrejection', ...describe(ev.reason) });
  });
};
