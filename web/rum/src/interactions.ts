/** Clicks and form submits, sampled, identified by element identity only (never typed text). */

import { identify, interactiveTarget } from './identity';
import { pageUrl } from './page';
import type { InteractionEvent } from './types';

export const collectInteractions = (rate: number, push: (e: InteractionEvent) => void): void => {
  if (rate <= 0) return;
  const listen = (type: 'click' | 'submit'): void => {
    document.addEventListener(
      type,
      (ev: Event) => {
        if (Math.random() >= rate) return;
        const el = type === 'click' ? interactiveTarget(ev.target) : ev.target instanceof Element ? ev.target : null;
        if (!el) return;
        push({ type: 'interaction', t: Date.now(), url: pageUrl(), kind: type, target: identify(el) });
      },
      { capture: true, passive: true },
    );
  };
  listen('click');
  listen('submit');
};
