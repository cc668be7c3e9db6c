// Audit log: who did what, when, from where; paged with next_cursor.
import { get, errorText } from './api.js';
import { h, append, clear, fmtCount, timeEl, emptyRow } from './dom.js';

const COLS = 7;

export function mount(main) {
  let cursor = null, token = 0, count = 0;
  const tbody = h('tbody');
  const moreInfo = h('span');
  const moreBtn = h('button', { type: 'button', class: 'btn btn-sm', text: 'Load more', hidden: true, on: { click: () => load(false) } });
  append(main, [
    h('div', { class: 'page-head' },
      h('div', null, h('h1', { text: 'Audit log' }), h('p', { class: 'page-sub', text: 'Sign-ins and every change made through the dashboard or the API.' })),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'btn', 'data-icon': 'refresh', text: 'Refresh', on: { click: () => load(true) } })),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'audit-table' },
      h('thead', null, h('tr', null, h('th', { text: 'Time' }), h('th', { text: 'User' }), h('th', { class: 'hide-sm', text: 'Address' }),
        h('th', { text: 'Action' }), h('th', { text: 'Target' }), h('th', { class: 'hide-sm', text: 'Detail' }), h('th', { text: 'Result' }))),
      tbody)),
    h('div', { class: 'more-row' }, moreInfo, moreBtn),
  ]);

  function row(a) {
    return h('tr', { dataset: { auditId: a.id ?? '' } },
      h('td', { class: 'nowrap' }, timeEl(a.ts)),
      h('td', { class: 'cell-ellip' }, a.user == null ? h('span', { class: 'faint', text: '—' }) : String(a.user)),
      h('td', { class: 'hide-sm mono nowrap', text: a.address ?? '' }),
      h('td', null, h('span', { class: 'type-tag', text: a.action ?? '' })),
      h('td', { class: 'cell-ellip', text: a.target ?? '' }),
      h('td', { class: 'hide-sm cell-ellip', title: a.detail == null ? null : String(a.detail), text: a.detail ?? '' }),
      h('td', null, a.ok
        ? h('span', { class: 'ok-yes' }, h('span', { class: 'ic', 'data-icon': 'check', 'aria-hidden': 'true' }), 'ok')
        : h('span', { class: 'ok-no' }, h('span', { class: 'ic', 'data-icon': 'cross', 'aria-hidden': 'true' }), 'failed')));
  }

  async function load(first) {
    const my = first ? ++token : token;
    moreBtn.disabled = true;
    if (first) { cursor = null; count = 0; clear(tbody).appendChild(emptyRow(COLS, 'Loading…')); }
    try {
      const page = await get('/api/audit', { limit: 100, cursor: first ? '' : cursor });
      if (my !== token) return;
      if (first) clear(tbody);
      const items = Array.isArray(page && page.items) ? page.items : [];
      for (const a of items) if (a && typeof a === 'object') { tbody.appendChild(row(a)); count++; }
      cursor = page && page.next_cursor ? page.next_cursor : null;
      if (!count) tbody.appendChild(emptyRow(COLS, 'Nothing recorded yet.'));
    } catch (err) {
      if (my !== token) return;
      if (first) clear(tbody);
      tbody.appendChild(emptyRow(COLS, 'Could not load the audit log: ' + errorText(err)));
    } finally {
      if (my === token) {
        moreBtn.disabled = false;
        moreBtn.hidden = !cursor;
        moreInfo.textContent = count ? 'Showing ' + fmtCount(count) + (cursor ? '' : ' — all') : '';
      }
    }
  }
  load(true);
  return { unmount() { token++; } };
}
