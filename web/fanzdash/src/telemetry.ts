// Traces and logs: open the span a link points at (#span-<id>), and the logs page's
// live tail, polling /dash/logs/tail with the cursor of the newest row shown. Rows come
// rendered by the server (the same template as the search), so nothing is built from
// text here.

const TAIL_EVERY_MS = 2000;
const MAX_ROWS = 1000;

function fetchDoc(url: string): Promise<Document> {
  return fetch(url, { headers: { Accept: 'text/html' }, credentials: 'same-origin' }).then(async (response) => {
    const text = await response.text();
    if (!response.ok && response.status !== 503) throw new Error(`tail answered ${response.status}`);
    return new DOMParser().parseFromString(text, 'text/html');
  });
}

export function openTargetSpan(): void {
  const open = (): void => {
    const id = window.location.hash.slice(1);
    if (!id.startsWith('span-')) return;
    const row = document.getElementById(id);
    if (row instanceof HTMLDetailsElement) {
      row.open = true;
      row.scrollIntoView({ block: 'center' });
    }
  };
  open();
  window.addEventListener('hashchange', open);
}

export function enableTail(): void {
  const box = document.querySelector<HTMLElement>('[data-tail]');
  const rows = document.querySelector<HTMLElement>('[data-log-rows]');
  const toggle = box?.querySelector<HTMLButtonElement>('[data-tail-toggle]');
  const status = box?.querySelector<HTMLElement>('[data-tail-status]');
  if (!box || !rows || !toggle || !status) return;
  let cursor = box.dataset.cursor ?? '';
  let timer: number | undefined;
  let busy = false;
  let added = 0;
  toggle.hidden = false;

  const poll = (): void => {
    if (busy || document.hidden) return;
    busy = true;
    const url = `${box.dataset.tailUrl ?? ''}${(box.dataset.tailUrl ?? '').includes('?') ? '&' : '?'}after=${encodeURIComponent(cursor)}`;
    fetchDoc(url)
      .then((doc) => {
        const fresh = doc.getElementById('tail-rows');
        if (!fresh) {
          status.textContent = doc.getElementById('tail-error')?.textContent ?? 'The tail could not be read; retrying.';
          return;
        }
        cursor = fresh.dataset.cursor ?? cursor;
        const incoming = Array.from(fresh.children);
        incoming.forEach((row) => row.classList.add('tail-new'));
        rows.prepend(...incoming);
        while (rows.children.length > MAX_ROWS) rows.lastElementChild?.remove();
        added += incoming.length;
        document.querySelector('[data-logs-empty]')?.remove();
        status.textContent = `Tailing: ${added} new record${added === 1 ? '' : 's'} since you started.`;
      })
      .catch(() => {
        status.textContent = 'The tail could not be read; retrying.';
      })
      .finally(() => {
        busy = false;
      });
  };

  toggle.addEventListener('click', () => {
    const on = timer === undefined;
    toggle.setAttribute('aria-pressed', String(on));
    toggle.textContent = on ? 'Stop live tail' : 'Start live tail';
    if (on) {
      status.textContent = 'Tailing: waiting for new records…';
      poll();
      timer = window.setInterval(poll, TAIL_EVERY_MS);
    } else {
      window.clearInterval(timer);
      timer = undefined;
      status.textContent = `Stopped (${added} new record${added === 1 ? '' : 's'}).`;
    }
  });
}
