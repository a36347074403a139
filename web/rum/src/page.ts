/** Page URLs as sent: origin and path only. Query strings and fragments never leave the browser. */

export const pageUrl = (): string => location.origin + location.pathname;

/** A resource URL without its query string or fragment, at most `max` characters. */
export const bareUrl = (raw: string | undefined, max = 512): string | undefined => {
  if (!raw) return undefined;
  const cut = raw.split(/[?#]/, 1)[0];
  return cut.length > max ? cut.slice(0, max) : cut;
};

export const clip = (s: string | undefined, max: number): string | undefined =>
  s === undefined ? undefined : s.length > max ? s.slice(0, max) : s;

/** A finite, non-negative number rounded to 0.1 ms, or undefined. */
export const ms = (n: number | undefined): number | undefined =>
  typeof n === 'number' && isFinite(n) && n >= 0 ? Math.round(n * 10) / 10 : undefined;
