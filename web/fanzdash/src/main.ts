// FanzDash progressive enhancement: every page works as plain HTML; this adds
// charts (uPlot), pickers that apply as they change, in-place refresh, and
// sections loaded on demand.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { destroyCharts, drawCharts } from './charts';
import { enableTail, openTargetSpan } from './telemetry';

async function fetchPage(url: string): Promise<Document> {
  const response = await fetch(url, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
  const text = await response.text();
  return new DOMParser().parseFromString(text, 'text/html');
}

function enablePickers(): void {
  document.querySelectorAll<HTMLFormElement>('form[data-autosubmit]').forEach((form) => {
    form.addEventListener('change', () => form.requestSubmit());
  });
}

function loadFragments(root: ParentNode): void {
  root.querySelectorAll<HTMLElement>('[data-fragment]').forEach((slot) => {
    const url = slot.dataset.fragment;
    if (!url || slot.dataset.loading) return;
    slot.dataset.loading = 'true';
    slot.setAttribute('aria-busy', 'true');
    const status = document.createElement('p');
    status.className = 'muted';
    status.setAttribute('role', 'status');
    status.textContent = 'Loading…';
    slot.prepend(status);
    fetchPage(url)
      .then((doc) => {
        const part = doc.querySelector('#analysis');
        slot.replaceChildren(...(part ? Array.from(part.childNodes) : []));
        drawCharts(slot);
      })
      .catch(() => {
        status.textContent = 'Could not load this section: follow the link instead.';
      })
      .finally(() => slot.removeAttribute('aria-busy'));
  });
}

function startRefresh(): void {
  const seconds = Number(document.body.dataset.refresh ?? '0');
  if (!(seconds > 0)) return;
  let busy = false;
  window.setInterval(() => {
    const live = document.getElementById('live');
    if (busy || !live || document.hidden) return;
    busy = true;
    fetchPage(window.location.href)
      .then((doc) => {
        const fresh = doc.getElementById('live');
        if (!fresh) return;
        destroyCharts(live);
        live.replaceChildren(...Array.from(fresh.childNodes));
        const stamp = doc.querySelector('footer time');
        const current = document.querySelector('footer time');
        if (stamp && current) current.replaceWith(stamp);
        drawCharts(live);
        loadFragments(live);
      })
      .catch(() => undefined) // the next tick tries again; the page stays as it was
      .finally(() => {
        busy = false;
      });
  }, seconds * 1000);
}

function start(): void {
  document.documentElement.classList.add('js');
  drawCharts(document);
  enablePickers();
  loadFragments(document);
  startRefresh();
  openTargetSpan();
  enableTail();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
