// Events: filterable, server-paged table. Pages load as the list scrolls; at most
// MAX_ROWS rows stay in the DOM (the newest ones are dropped as older pages arrive).
import { get, errorText } from './api.js';
import { h, append, clear, debounce, fmtCount, fmtTime, timeEl, openPanel, closePanel, fieldList, emptyRow } from './dom.js';
import * as stream from './stream.js';

export const EVENT_TYPES = ['FAILED_LOGIN', 'INVALID_USER', 'LOGIN_SUCCESS', 'ROOT_LOGIN', 'PREAUTH_DISCONNECT', 'SUDO', 'SU_FAILED', 'SU_SUCCESS',
  'USER_ADDED', 'USER_DELETED', 'USER_MODIFIED', 'PASSWORD_CHANGED', 'GROUP_ADDED', 'GROUP_DELETED', 'GROUP_MEMBER_ADDED', 'GROUP_MEMBER_REMOVED',
  'SERVICE_FAILED', 'PACKAGE_INSTALLED', 'PACKAGE_REMOVED', 'PACKAGE_UPGRADED', 'SEGFAULT', 'OOM_KILL', 'FIREWALL_DROP',
  'PROCESS_STARTED', 'PORT_OPENED', 'PORT_CLOSED', 'FILE_CHANGED', 'LOG_DELETED', 'LOG_TRUNCATED',
  'NEW_DEVICE', 'DEVICE_JOINED', 'DEVICE_LEFT', 'DEVICE_IP_CHANGED', 'DEVICE_MAC_CHANGED', 'TRAFFIC_PEAK'];
const FIELD_ORDER = ['id', 'ts', 'type', 'host', 'program', 'pid', 'src_ip', 'src_host', 'src_port', 'user', 'target_user', 'method', 'outcome',
  'command', 'package', 'version', 'process', 'path', 'source'];
const PAGE = 200;
const MAX_ROWS = 2000;
const COLS = 7;

export function mount(main, ctx) {
  const q0 = ctx.query;
  const st = {
    types: new Set((q0.get('type') || '').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean)),
    since: q0.get('since') || '', until: q0.get('until') || '', src_ip: q0.get('src_ip') || '', q: q0.get('q') || '',
    cursor: null, token: 0, loading: false, loaded: 0, dropped: 0, fresh: 0, detailId: null,
  };
  const cleanups = [];
  const events = new Map(); // id → event, only for rows in the DOM

  // ----- filters -----
  const search = h('input', { type: 'search', id: 'events-search', 'data-search': '', placeholder: 'Search raw line, user, address…  ( / )',
    'aria-label': 'Search events', value: st.q, autocomplete: 'off' });
  const typeBtn = h('button', { type: 'button', class: 'btn', 'aria-haspopup': 'true', 'aria-expanded': 'false', id: 'events-type-btn' });
  const typeMenu = h('div', { class: 'menu', hidden: true, role: 'group', 'aria-label': 'Event types' });
  const typeBoxes = EVENT_TYPES.map((t) => h('input', { type: 'checkbox', value: t, checked: st.types.has(t) }));
  typeMenu.append(
    ...EVENT_TYPES.map((t, i) => h('label', null, typeBoxes[i], t)),
    h('div', { class: 'menu-foot' },
      h('button', { type: 'button', class: 'btn btn-sm btn-ghost', text: 'Clear', on: { click: () => { typeBoxes.forEach((b) => { b.checked = false; }); onTypes(); } } }),
      h('button', { type: 'button', class: 'btn btn-sm', text: 'Done', on: { click: () => { setMenu(false); typeBtn.focus(); } } })),
  );
  const picker = h('div', { class: 'type-picker field' }, h('span', { text: 'Type' }), typeBtn, typeMenu);
  const since = h('input', { type: 'text', class: 'w-s', value: st.since, placeholder: '24h or RFC 3339', list: 'ev-rel', 'aria-label': 'Since', autocomplete: 'off' });
  const until = h('input', { type: 'text', class: 'w-s', value: st.until, placeholder: 'now', list: 'ev-rel', 'aria-label': 'Until', autocomplete: 'off' });
  const srcIp = h('input', { type: 'text', class: 'w-m', value: st.src_ip, placeholder: 'any', 'aria-label': 'Source address', autocomplete: 'off', spellcheck: 'false' });
  const datalist = h('datalist', { id: 'ev-rel' }, ['15m', '1h', '6h', '24h', '7d', '30d'].map((v) => h('option', { value: v })));
  const clearBtn = h('button', { type: 'button', class: 'btn btn-ghost', text: 'Clear filters', on: { click: clearFilters } });
  const freshBtn = h('button', { type: 'button', class: 'new-pill', hidden: true, on: { click: () => reload() } });

  const tbody = h('tbody');
  const table = h('table', { class: 'data', id: 'events-table' },
    h('thead', null, h('tr', null, h('th', { text: 'Time' }), h('th', { text: 'Type' }), h('th', { class: 'hide-sm', text: 'Host' }),
      h('th', { class: 'hide-sm', text: 'Program' }), h('th', { text: 'Source address' }), h('th', { text: 'User' }), h('th', { text: 'Line' }))),
    tbody);
  const moreInfo = h('span');
  const moreBtn = h('button', { type: 'button', class: 'btn btn-sm', text: 'Load older', hidden: true, on: { click: () => load(false) } });
  const sentinel = h('div', { class: 'more-row' }, moreInfo, moreBtn);
  const scroller = h('div', { class: 'table-wrap events-scroll', tabindex: '-1' }, table, sentinel);

  append(main, [
    h('div', { class: 'page-head' }, h('div', null, h('h1', { text: 'Events' }),
      h('p', { class: 'page-sub', text: 'Every normalized log event Picket stored, newest first.' })), h('span', { class: 'spacer' }), freshBtn),
    h('form', { class: 'toolbar', role: 'search', on: { submit: (e) => { e.preventDefault(); applyFilters(); } } },
      h('label', { class: 'field grow' }, h('span', { text: 'Search' }), search), picker,
      h('label', { class: 'field' }, h('span', { text: 'Since' }), since),
      h('label', { class: 'field' }, h('span', { text: 'Until' }), until),
      h('label', { class: 'field' }, h('span', { text: 'Source address' }), srcIp),
      clearBtn, h('button', { type: 'submit', class: 'sr-only', tabindex: '-1', text: 'Apply' }), datalist),
    scroller,
  ]);

  // ----- filter behaviour -----
  function typeLabel() {
    const n = st.types.size;
    typeBtn.textContent = n === 0 ? 'All types ▾' : n === 1 ? Array.from(st.types)[0] + ' ▾' : n + ' types ▾';
  }
  typeLabel();
  function setMenu(open) {
    typeMenu.hidden = !open;
    typeBtn.setAttribute('aria-expanded', String(open));
    if (open) (typeBoxes.find((b) => b.checked) || typeBoxes[0]).focus();
  }
  typeBtn.addEventListener('click', () => setMenu(typeMenu.hidden));
  const onTypes = debounce(() => {
    st.types = new Set(typeBoxes.filter((b) => b.checked).map((b) => b.value));
    typeLabel();
    reload();
  }, 350);
  typeMenu.addEventListener('change', onTypes);
  const outside = (e) => { if (!typeMenu.hidden && !picker.contains(e.target)) setMenu(false); };
  document.addEventListener('mousedown', outside);
  cleanups.push(() => document.removeEventListener('mousedown', outside));

  function applyFilters() {
    const n = { q: search.value.trim(), since: since.value.trim(), until: until.value.trim(), src_ip: srcIp.value.trim() };
    if (n.q === st.q && n.since === st.since && n.until === st.until && n.src_ip === st.src_ip) return;
    Object.assign(st, n);
    reload();
  }
  const applySoon = debounce(applyFilters, 350);
  search.addEventListener('input', applySoon);
  for (const i of [since, until, srcIp]) i.addEventListener('change', applyFilters);
  function clearFilters() {
    search.value = since.value = until.value = srcIp.value = '';
    typeBoxes.forEach((b) => { b.checked = false; });
    Object.assign(st, { q: '', since: '', until: '', src_ip: '', types: new Set() });
    typeLabel();
    reload();
  }
  function params() {
    return { type: Array.from(st.types).join(','), since: st.since, until: st.until, src_ip: st.src_ip, q: st.q };
  }
  function syncHash() {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params())) if (v) p.set(k, v);
    const s = p.toString();
    history.replaceState(null, '', '#/events' + (s ? '?' + s : ''));
  }

  // ----- loading -----
  function reload() {
    applySoon.cancel();
    st.cursor = null; st.loaded = 0; st.dropped = 0; st.fresh = 0;
    freshBtn.hidden = true;
    events.clear();
    clear(tbody);
    scroller.scrollTop = 0;
    syncHash();
    return load(true);
  }

  async function load(first) {
    if (!first && (st.loading || !st.cursor)) return;
    const token = first ? ++st.token : st.token;
    st.loading = true;
    moreBtn.disabled = true;
    if (first) tbody.appendChild(emptyRow(COLS, 'Loading…'));
    else moreInfo.textContent = 'Loading older events…';
    try {
      const page = await get('/api/events', { ...params(), limit: PAGE, cursor: first ? '' : st.cursor });
      if (token !== st.token) return;
      if (first) clear(tbody);
      const items = Array.isArray(page && page.items) ? page.items : [];
      const frag = document.createDocumentFragment();
      for (const ev of items) {
        if (!ev || typeof ev !== 'object') continue;
        const key = String(ev.id ?? ('x' + st.loaded));
        if (events.has(key)) continue;
        events.set(key, ev);
        frag.appendChild(row(ev, key));
        st.loaded++;
      }
      tbody.appendChild(frag);
      st.cursor = page && page.next_cursor ? page.next_cursor : null;
      trim();
      if (!events.size) tbody.appendChild(emptyRow(COLS, hasFilters() ? 'No events match these filters.' : 'No events stored yet.'));
    } catch (err) {
      if (token !== st.token) return;
      if (first) clear(tbody);
      tbody.appendChild(emptyRow(COLS, 'Could not load events: ' + errorText(err)));
      st.cursor = null;
    } finally {
      if (token === st.token) {
        st.loading = false;
        moreBtn.disabled = false;
        moreBtn.hidden = !st.cursor;
        const shown = events.size;
        moreInfo.textContent = shown
          ? 'Showing ' + fmtCount(shown) + (shown === 1 ? ' event' : ' events') + (st.dropped ? ' (' + fmtCount(st.dropped) + ' newer ones scrolled out)' : '') + (st.cursor ? '' : ' — end of results')
          : '';
      }
    }
  }
  function hasFilters() { return Object.values(params()).some(Boolean); }

  // Keep at most MAX_ROWS rows: drop the first (newest) ones and keep the view steady.
  function trim() {
    const rows = tbody.querySelectorAll('tr[data-event-id]');
    const excess = rows.length - MAX_ROWS;
    if (excess <= 0) return;
    let removedH = 0;
    for (let i = 0; i < excess; i++) {
      removedH += rows[i].offsetHeight;
      events.delete(rows[i].dataset.eventId);
      rows[i].remove();
    }
    st.dropped += excess;
    let top = tbody.querySelector('tr.dropped-row');
    if (!top) {
      top = h('tr', { class: 'dropped-row' }, h('td', { colspan: COLS, class: 'empty' }));
      tbody.prepend(top);
    }
    top.firstChild.replaceChildren(fmtCount(st.dropped) + ' newer events are no longer shown. ',
      h('button', { type: 'button', class: 'btn btn-sm', text: 'Back to newest', on: { click: () => reload() } }));
    scroller.scrollTop = Math.max(0, scroller.scrollTop - removedH);
  }

  function cell(v, cls) { return h('td', { class: cls || null, text: v == null ? '' : String(v) }); }
  function row(ev, key) {
    const tr = h('tr', { class: 'clickable', tabindex: '0', dataset: { eventId: key } },
      h('td', { class: 'nowrap' }, timeEl(ev.ts)),
      h('td', null, h('span', { class: 'type-tag', text: ev.type ?? '' })),
      cell(ev.host, 'hide-sm cell-ellip'), cell(ev.program, 'hide-sm cell-ellip'), cell(ev.src_ip ?? ev.src_host, 'mono nowrap'),
      cell(ev.user, 'cell-ellip'),
      h('td', { class: 'cell-line', title: typeof ev.line === 'string' ? ev.line.slice(0, 2000) : null, text: ev.line ?? '' }));
    return tr;
  }
  tbody.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-event-id]');
    if (tr && !e.target.closest('button')) openDetail(tr.dataset.eventId);
  });
  tbody.addEventListener('keydown', (e) => {
    const tr = e.target.closest('tr[data-event-id]');
    if (!tr || e.target !== tr) return;
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); openDetail(tr.dataset.eventId); }
    else if (e.key === 'ArrowDown' && tr.nextElementSibling) { e.preventDefault(); tr.nextElementSibling.focus(); }
    else if (e.key === 'ArrowUp' && tr.previousElementSibling && tr.previousElementSibling.dataset.eventId) { e.preventDefault(); tr.previousElementSibling.focus(); }
  });

  // infinite scroll
  const io = typeof IntersectionObserver !== 'undefined'
    ? new IntersectionObserver((ents) => { if (ents.some((x) => x.isIntersecting) && st.cursor && !st.loading) load(false); }, { root: scroller, rootMargin: '300px' })
    : null;
  if (io) { io.observe(sentinel); cleanups.push(() => io.disconnect()); }

  // ----- detail -----
  function openDetail(key) {
    const ev = events.get(key);
    if (!ev) return;
    for (const r of tbody.querySelectorAll('tr.selected')) r.classList.remove('selected');
    const tr = tbody.querySelector('tr[data-event-id="' + CSS.escape(key) + '"]');
    if (tr) tr.classList.add('selected');
    st.detailId = key;
    const p = openPanel({ id: 'event-detail', title: String(ev.type ?? 'Event') + ' · ' + fmtTime(ev.ts), label: 'event details',
      onClose: () => { st.detailId = null; for (const r of tbody.querySelectorAll('tr.selected')) r.classList.remove('selected'); } });
    const rows = [];
    const keys = [...FIELD_ORDER.filter((k) => k in ev), ...Object.keys(ev).filter((k) => !FIELD_ORDER.includes(k) && k !== 'line' && k !== 'extra')];
    for (const k of keys) {
      const v = ev[k];
      rows.push([k, k === 'ts' ? timeEl(v) : typeof v === 'string' ? v : JSON.stringify(v), k === 'ts' || k === 'type' ? null : 'mono']);
    }
    if (ev.extra && typeof ev.extra === 'object') {
      for (const [k, v] of Object.entries(ev.extra)) rows.push(['extra.' + k, typeof v === 'string' ? v : JSON.stringify(v), 'mono']);
    }
    const filters = h('div', { class: 'detail-actions' });
    const addFilter = (label, apply) => filters.appendChild(h('button', { type: 'button', class: 'btn btn-sm', text: label,
      on: { click: () => { apply(); closePanel('event-detail', true); st.detailId = null; reload(); } } }));
    if (typeof ev.src_ip === 'string') addFilter('Only this address', () => { st.src_ip = srcIp.value = ev.src_ip; });
    if (typeof ev.type === 'string' && EVENT_TYPES.includes(ev.type)) {
      addFilter('Only ' + ev.type, () => { st.types = new Set([ev.type]); typeBoxes.forEach((b) => { b.checked = b.value === ev.type; }); typeLabel(); });
    }
    if (typeof ev.user === 'string' && ev.user) addFilter('Search this user', () => { st.q = search.value = ev.user; });
    p.body.append(
      filters.children.length ? filters : '',
      h('h3', { class: 'section-title', text: 'Raw line' }),
      h('ul', { class: 'evidence' }, h('li', { text: ev.line ?? '' })),
      h('h3', { class: 'section-title', text: 'Fields' }),
      fieldList(rows),
      h('h3', { class: 'section-title', text: 'JSON' }),
      h('pre', { class: 'json', text: JSON.stringify(ev, null, 2) }),
    );
  }

  // ----- live: count new events, offer a refresh (the list itself stays still) -----
  cleanups.push(stream.on('event', (ev) => {
    if (!ev || (st.types.size && !st.types.has(ev.type))) return;
    if (st.src_ip && ev.src_ip !== st.src_ip) return;
    if (st.until) return;
    if (st.q) {
      const q = st.q.toLowerCase();
      if (![ev.line, ev.user, ev.src_ip].some((x) => typeof x === 'string' && x.toLowerCase().includes(q))) return;
    }
    st.fresh++;
    freshBtn.hidden = false;
    freshBtn.textContent = fmtCount(st.fresh) + ' new event' + (st.fresh === 1 ? '' : 's') + ' · show';
  }));

  reload();
  return {
    onEscape() { if (!typeMenu.hidden) { setMenu(false); typeBtn.focus(); return true; } return false; },
    unmount() { st.token++; cleanups.forEach((f) => f()); applySoon.cancel(); onTypes.cancel(); },
  };
}
