/**
 * The beacon wire format (version 1). The server's pydantic models in
 * `fanzwatch.rum.models` are the authority; keep both in step.
 *
 * Times inside events are milliseconds (the browser's unit); `t` is the client's
 * `Date.now()` when the event happened and `sent` the client's `Date.now()` at send,
 * so the server can place events in time without trusting the client's clock.
 */

export type VitalName = 'LCP' | 'INP' | 'CLS' | 'FCP' | 'TTFB';

export interface VitalAttribution {
  target?: string;
  url?: string;
  load_state?: string;
  interaction_type?: string;
  ttfb?: number;
  resource_load_delay?: number;
  resource_load_duration?: number;
  element_render_delay?: number;
  first_byte_to_fcp?: number;
  input_delay?: number;
  processing_duration?: number;
  presentation_delay?: number;
  waiting?: number;
  cache?: number;
  dns?: number;
  connection?: number;
  request?: number;
  largest_shift_value?: number;
  largest_shift_time?: number;
}

export interface VitalEvent {
  type: 'vital';
  t: number;
  url: string;
  name: VitalName;
  value: number;
  rating?: string;
  id?: string;
  nav?: string;
  attribution?: VitalAttribution;
}

export interface PageLoadEvent {
  type: 'page_load';
  t: number;
  url: string;
  nav?: string;
  dns: number;
  connect: number;
  tls: number;
  ttfb: number;
  response: number;
  dom_interactive: number;
  dom_content_loaded: number;
  load: number;
  transfer_size?: number;
  /** The page view's W3C trace id (32 hex): the backend spans of its calls share it. */
  trace_id?: string;
}

export interface ElementIdentity {
  tag: string;
  id?: string;
  data?: string;
  selector?: string;
}

export interface InteractionEvent {
  type: 'interaction';
  t: number;
  url: string;
  kind: 'click' | 'submit';
  target: ElementIdentity;
}

export interface ErrorEvent {
  type: 'error';
  t: number;
  url: string;
  kind: 'error' | 'unhandledrejection';
  message: string;
  source?: string;
  line?: number;
  col?: number;
  stack?: string;
}

export type RumEvent = VitalEvent | PageLoadEvent | InteractionEvent | ErrorEvent;

export interface Batch {
  v: 1;
  sid: string;
  platform: string;
  sent: number;
  url: string;
  events: RumEvent[];
}
