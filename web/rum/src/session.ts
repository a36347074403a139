/**
 * A random per-tab session id. sessionStorage is per tab and dies with it; where it
 * is unavailable (sandboxed frames, privacy modes) the id lives in memory for the
 * page. No cookies, nothing derived from the user or the device.
 */

const KEY = 'fanz_rum_sid';
const SAMPLED_KEY = 'fanz_rum_sampled';

const randomHex = (bytes: number): string => {
  const buf = new Uint8Array(bytes);
  if (typeof crypto !== 'undefined' && crypto.getRandomValues) {
    crypto.getRandomValues(buf);
  } else {
    for (let i = 0; i < bytes; i++) buf[i] = Math.floor(Math.random() * 256);
  }
  let out = '';
  for (let i = 0; i < bytes; i++) out += (buf[i] + 256).toString(16).slice(1);
  return out;
};

const storage = (): Storage | null => {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
};

export const sessionId = (): string => {
  const store = storage();
  try {
    const existing = store && store.getItem(KEY);
    if (existing && /^[0-9a-f]{32}$/.test(existing)) return existing;
    const fresh = randomHex(16);
    if (store) store.setItem(KEY, fresh);
    return fresh;
  } catch {
    return randomHex(16);
  }
};

/** Whether this tab reports: decided once per tab so a session is all-or-nothing. */
export const sessionSampled = (rate: number): boolean => {
  const store = storage();
  try {
    const kept = store && store.getItem(SAMPLED_KEY);
    if (kept === '1' || kept === '0') return kept === '1';
    const yes = Math.random() < rate;
    if (store) store.setItem(SAMPLED_KEY, yes ? '1' : '0');
    return yes;
  } catch {
    return Math.random() < rate;
  }
};
