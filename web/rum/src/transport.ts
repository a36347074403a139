/**
 * Batching and sending. Events wait in memory and leave in one POST when the page
 * is hidden (`visibilitychange` → hidden, `pagehide`), or earlier when the batch is
 * full. `navigator.sendBeacon` survives the page going away; where it is missing or
 * refuses (quota), `fetch(..., {keepalive: true})` takes over. Bodies are
 * `text/plain` so the cross-origin POST needs no CORS preflight.
 */

import type { RumConfig } from './config';
import { pageUrl } from './page';
import type { Batch, RumEvent } from './types';

/** sendBeacon and keepalive fetch share a 64 KiB in-flight budget; stay well under it. */
const MAX_BODY_CHARS = 60000;

export class Transport {
  private queue: RumEvent[] = [];
  private readonly url: string;

  constructor(
    private readonly config: RumConfig,
    private readonly sid: string,
    private readonly fetchFn: typeof fetch | undefined = typeof fetch === 'function' ? fetch.bind(window) : undefined,
  ) {
    this.url = config.key
      ? config.endpoint + (config.endpoint.indexOf('?') < 0 ? '?' : '&') + 'k=' + encodeURIComponent(config.key)
      : config.endpoint;
  }

  push(event: RumEvent): void {
    this.queue.push(event);
    if (this.queue.length >= this.config.maxBatch) this.flush();
  }

  /** Send everything queued, split into bodies that fit the beacon budget. */
  flush(): void {
    while (this.queue.length) {
      let take = this.queue.length;
      let body = this.encode(this.queue.slice(0, take));
      while (body.length > MAX_BODY_CHARS && take > 1) {
        take = Math.ceil(take / 2);
        body = this.encode(this.queue.slice(0, take));
      }
      this.queue.splice(0, take);
      if (body.length <= MAX_BODY_CHARS) this.send(body);
    }
  }

  private encode(events: RumEvent[]): string {
    const batch: Batch = {
      v: 1,
      sid: this.sid,
      platform: this.config.platform,
      sent: Date.now(),
      url: pageUrl(),
      events,
    };
    return JSON.stringify(batch);
  }

  private send(body: string): void {
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(this.url, body)) return;
    } catch {
      // fall through to fetch
    }
    if (!this.fetchFn) return;
    try {
      this.fetchFn(this.url, {
        method: 'POST',
        body,
        keepalive: true,
        credentials: 'omit',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      }).catch(() => undefined);
    } catch {
      // Telemetry never breaks the page.
    }
  }
}
