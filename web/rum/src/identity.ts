/**
 * Element identity for clicks and submits: tag, id, a `data-rum` name and a short
 * structural selector. Never text content, values, classes, names or hrefs: those
 * can carry what a user typed or who they are.
 */

import type { ElementIdentity } from './types';

const SAFE_ID = /^[A-Za-z][\w-]{0,63}$/;
const SAFE_DATA = /^[\w.:-]{1,64}$/;
const INTERACTIVE = 'a,button,input,select,textarea,summary,label,[role=button],[role=link],[data-rum]';

const part = (el: Element): string => {
  const tag = el.tagName.toLowerCase();
  if (el.id && SAFE_ID.test(el.id)) return tag + '#' + el.id;
  const data = el.getAttribute('data-rum');
  if (data && SAFE_DATA.test(data)) return tag + '[data-rum="' + data + '"]';
  const parent = el.parentElement;
  if (!parent) return tag;
  let index = 1;
  for (let sib = el.previousElementSibling; sib; sib = sib.previousElementSibling) {
    if (sib.tagName === el.tagName) index++;
  }
  return index > 1 ? tag + ':nth-of-type(' + index + ')' : tag;
};

/** A selector of at most four steps, stopping at the first element with an id. */
export const selectorOf = (el: Element | null): string | undefined => {
  const parts: string[] = [];
  for (let node = el; node && node.nodeType === 1 && parts.length < 4; node = node.parentElement) {
    const p = part(node);
    parts.unshift(p);
    if (p.indexOf('#') > 0 || node.tagName === 'BODY') break;
  }
  const sel = parts.join('>');
  return sel ? sel.slice(0, 256) : undefined;
};

export const interactiveTarget = (target: EventTarget | null): Element | null => {
  const el = target instanceof Element ? target : null;
  return el ? el.closest(INTERACTIVE) || el : null;
};

export const identify = (el: Element): ElementIdentity => {
  const id: ElementIdentity = { tag: el.tagName.toLowerCase().slice(0, 32) };
  if (el.id && SAFE_ID.test(el.id)) id.id = el.id;
  const data = el.getAttribute('data-rum');
  if (data && SAFE_DATA.test(data)) id.data = data;
  const sel = selectorOf(el);
  if (sel) id.selector = sel;
  return id;
};
