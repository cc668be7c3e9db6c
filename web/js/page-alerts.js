// Alerts: status tabs with counts, severity filter, search, paging, bulk status changes,
// detail panel with evidence, live insertion of new alerts from the stream.
import { get, post, patch, seg, isAdmin, errorText } from './api.js';
import {
  h, append, clear, debounce, toast, fmtCount, timeEl, sevBadge, statusBadge, groupPills, mitreLinks,
  openPanel, closePanel, fieldList, emptyRow, SEVERITIES, STATUSES,
} from './dom.js';
import * as stream from './stream.js';

const LABEL = { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved', ignored: 'Ignored' };
const VERB = { open: 'Reopen', acknowledged: 'Acknowledge', resolved: 'Resolve', ignored: 'Ignore' };
const PAST = { open: 'Reopened', acknowledged: 'Acknowledged', resolved: 'Resolved', ignored: 'Ignored' };
const PAGE = 50;

export function mount(main, ctx) {
  const admin = isAdmin();
  const st = {
    status: STATUSES.includes(ctx.query.get('status')) ? ctx.query.get('status') : 'open',
    sev: new Set(SEVERITIES), q: ctx.query.get('q') || '', cursor: null, token: 0, loading: false,
    items: new Map(), selected: new Set(), detailId: null,
  };
  const cleanups = [];
  const cols = admin ? 8 : 7;

  // ----- header, tabs, toolbar -----
  const tabs = h('div', { id: 'alerts-tabs', class: 'tabs', role: 'tablist', 'aria-label': 'Alert status' });
  const countEls = {};
  for (const s of STATUSES) {
    countEls[s] = h('span', { class: 'tab-count', text: '…' });
    tabs.appendChild(h('button', { type: 'button', role: 'tab', dataset: { status: s }, 'aria-selected': String(s === st.status),
      on: { click: () => setTab(s) } }, h('span', { class: 'status status-' + s, text: LABEL[s] }), countEls[s]));
  }
  const search = h('input', { type: 'search', id: 'alerts-search', 'data-search': '', placeholder: 'Search title, rule, group values…  ( / )',
    'aria-label': 'Search alerts', value: st.q, autocomplete: 'off' });
  const sevSeg = h('div', { class: 'seg sev-filter', role: 'group', 'aria-label': 'Severity filter' });
  for (const s of SEVERITIES) {
    sevSeg.appendChild(h('button', { type: 'button', class: 'sev sev-' + s, 'aria-pressed': 'true', dataset: { sev: s }, text: s,
      title: 'Show ' + s + ' alerts', on: { click: (e) => toggleSev(s, e.currentTarget) } }));
  }
  const refreshBtn = h('button', { type: 'button', class: 'btn', 'data-icon': 'refresh', text: 'Refresh', on: { click: () => reload() } });

  // ----- bulk bar -----
  const selectAll = h('input', { type: 'checkbox', id: 'alerts-select-all', 'aria-label': 'Select all shown alerts' });
  const selCount = h('span', { class: 'sel-count', text: 'None selected' });
  const bulkBtns = STATUSES.filter((s) => s !== 'open').map((s) => h('button', { type: 'button', class: 'btn btn-sm', dataset: { bulk: s }, text: VERB[s], disabled: true,
    on: { click: () => bulk(s) } }));
  const bulkbar = admin ? h('div', { class: 'bulkbar admin-only' },
    h('label', { class: 'check-label' }, selectAll, h('span', { text: 'Select all' })), selCount, bulkBtns) : null;

  const tbody = h('tbody');
  const table = h('table', { class: 'data', id: 'alerts-table' },
    h('thead', null, h('tr', null,
      admin ? h('th', { class: 'cell-check' }, h('span', { class: 'sr-only', text: 'Select' })) : null,
      h('th', { text: 'Severity' }), h('th', { text: 'Alert' }), h('th', { class: 'hide-sm', text: 'Group' }),
      h('th', { class: 'num', text: 'Count' }), h('th', { class: 'hide-sm', text: 'First seen' }), h('th', { text: 'Last seen' }),
      h('th', { class: 'hide-sm', text: 'Status' }))),
    tbody);
  const moreInfo = h('span');
  const moreBtn = h('button', { type: 'button', class: 'btn btn-sm', text: 'Load more', hidden: true, on: { click: () => load(false) } });

  append(main, [
    h('div', { class: 'page-head' }, h('div', null, h('h1', { text: 'Alerts' }),
      h('p', { class: 'page-sub', text: admin ? 'Triage what the rules raised. Select rows to change several at once.' : 'Read-only view of what the rules raised.' }))),
    tabs,
    h('div', { class: 'toolbar' }, h('div', { class: 'grow' }, search), sevSeg, refreshBtn),
    bulkbar,
    h('div', { class: 'table-wrap' }, table),
    h('div', { class: 'more-row' }, moreInfo, moreBtn),
  ]);

  // ----- behaviour -----
  const listHash = () => '#/alerts' + (st.status !== 'open' ? '?status=' + st.status : '');
  function setTab(s) {
    if (s === st.status) return;
    st.status = s;
    if (!st.detailId && location.hash !== listHash()) history.replaceState(null, '', listHash());
    for (const b of tabs.children) b.setAttribute('aria-selected', String(b.dataset.status === s));
    for (const b of bulkBtns) b.hidden = b.dataset.bulk === s;
    reload();
  }
  function toggleSev(s, btn) {
    if (st.sev.has(s) && st.sev.size === 1) { for (const x of SEVERITIES) st.sev.add(x); } // last one off → all on
    else if (st.sev.has(s)) st.sev.delete(s); else st.sev.add(s);
    for (const b of sevSeg.children) b.setAttribute('aria-pressed', String(st.sev.has(b.dataset.sev)));
    btn.focus();
    reload();
  }
  const onSearch = debounce(() => { const v = search.value.trim(); if (v !== st.q) { st.q = v; reload(); } }, 300);
  search.addEventListener('input', onSearch);
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') { onSearch.cancel(); st.q = search.value.trim(); reload(); } });
  for (const b of bulkBtns) b.hidden = b.dataset.bulk === st.status;

  function sevParam() { return st.sev.size === SEVERITIES.length ? '' : Array.from(st.sev).join(','); }

  function reload() {
    st.cursor = null;
    st.items.clear();
    st.selected.clear();
    clear(tbody);
    updateSelection();
    return load(true);
  }

  async function load(first) {
    const token = first ? ++st.token : st.token;
    st.loading = true;
    moreBtn.disabled = true;
    if (first) tbody.appendChild(emptyRow(cols, 'Loading…'));
    try {
      const page = await get('/api/alerts', { status: st.status, severity: sevParam(), q: st.q, limit: PAGE, cursor: first ? '' : st.cursor });
      if (token !== st.token) return;
      if (first) clear(tbody);
      const items = Array.isArray(page && page.items) ? page.items : [];
      for (const a of items) {
        if (a == null || a.id == null || st.items.has(String(a.id))) continue;
        st.items.set(String(a.id), a);
        tbody.appendChild(row(a));
      }
      st.cursor = page && page.next_cursor ? page.next_cursor : null;
      if (!st.items.size) tbody.appendChild(emptyRow(cols, st.q || sevParam() ? 'No ' + st.status + ' alerts match these filters.' : 'No ' + st.status + ' alerts.'));
    } catch (err) {
      if (token !== st.token) return;
      if (first) clear(tbody);
      tbody.appendChild(emptyRow(cols, 'Could not load alerts: ' + errorText(err)));
    } finally {
      if (token === st.token) {
        st.loading = false;
        moreBtn.disabled = false;
        moreBtn.hidden = !st.cursor;
        moreInfo.textContent = st.items.size ? 'Showing ' + fmtCount(st.items.size) + (st.cursor ? '' : ' — all') : '';
        updateSelection();
      }
    }
  }

  function row(a) {
    const id = String(a.id);
    const tr = h('tr', { class: 'clickable', dataset: { alertId: id } });
    fillRow(tr, a);
    tr.addEventListener('click', (e) => {
      if (e.target.closest('.cell-check')) return;
      openDetail(id);
    });
    return tr;
  }
  function fillRow(tr, a) {
    const id = String(a.id);
    const cells = [];
    if (admin) {
      const cb = h('input', { type: 'checkbox', class: 'alert-select', checked: st.selected.has(id), 'aria-label': 'Select alert ' + String(a.title ?? id),
        on: { change: (e) => { if (e.target.checked) st.selected.add(id); else st.selected.delete(id); updateSelection(); } } });
      cells.push(h('td', { class: 'cell-check' }, cb));
    }
    cells.push(
      h('td', null, sevBadge(a.severity)),
      h('td', { class: 'cell-title' }, h('button', { type: 'button', class: 'linklike alert-title', text: a.title ?? '(untitled)' }),
        h('span', { class: 'rule-id', text: a.rule ?? '' })),
      h('td', { class: 'hide-sm' }, groupPills(a.group)),
      h('td', { class: 'num', text: fmtCount(a.count ?? 0) }),
      h('td', { class: 'hide-sm nowrap' }, timeEl(a.first_seen, true)),
      h('td', { class: 'nowrap' }, timeEl(a.last_seen, true)),
      h('td', { class: 'hide-sm' }, statusBadge(a.status)),
    );
    tr.replaceChildren(...cells);
    tr.dataset.status = String(a.status ?? '');
    tr.classList.toggle('selected', st.detailId === id);
  }
  function rowFor(id) { return tbody.querySelector('tr[data-alert-id="' + CSS.escape(String(id)) + '"]'); }

  function updateSelection() {
    if (!admin) return;
    for (const id of Array.from(st.selected)) if (!st.items.has(id)) st.selected.delete(id);
    const n = st.selected.size, total = st.items.size;
    selCount.textContent = n ? n + ' selected' : 'None selected';
    selectAll.checked = n > 0 && n === total;
    selectAll.indeterminate = n > 0 && n < total;
    for (const b of bulkBtns) b.disabled = n === 0;
  }
  if (admin) {
    selectAll.addEventListener('change', () => {
      if (selectAll.checked) for (const id of st.items.keys()) st.selected.add(id); else st.selected.clear();
      for (const cb of tbody.querySelectorAll('input.alert-select')) cb.checked = st.selected.has(cb.closest('tr').dataset.alertId);
      updateSelection();
    });
  }

  async function bulk(status) {
    const ids = Array.from(st.selected).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
    if (!ids.length) return;
    for (const b of bulkBtns) b.disabled = true;
    try {
      const r = await post('/api/alerts/status', { ids, status });
      const n = r && typeof r.updated === 'number' ? r.updated : ids.length;
      toast(PAST[status] + ' ' + n + ' alert' + (n === 1 ? '' : 's') + '.', 'ok');
      for (const id of ids) {
        const key = String(id);
        const a = st.items.get(key);
        if (a) a.status = status;
        if (status !== st.status) removeRow(key);
        else { const tr = rowFor(key); if (tr && a) fillRow(tr, a); }
        if (st.detailId === key && a) renderDetail(a);
      }
      st.selected.clear();
      for (const cb of tbody.querySelectorAll('input.alert-select')) cb.checked = false;
      ctx.refreshCounts(true);
    } catch (err) {
      toast('Status not changed: ' + errorText(err), 'error');
    } finally {
      updateSelection();
    }
  }
  function removeRow(id) {
    st.items.delete(String(id));
    st.selected.delete(String(id));
    const tr = rowFor(id);
    if (tr) tr.remove();
    if (!st.items.size && !tbody.children.length) tbody.appendChild(emptyRow(cols, 'No ' + st.status + ' alerts.'));
    moreInfo.textContent = st.items.size ? 'Showing ' + fmtCount(st.items.size) : '';
  }

  // ----- detail panel -----
  // The status buttons are made once per panel and only updated afterwards: a live update
  // of the alert (its count, its status) never replaces the button a person (or a browser
  // test) is about to press. They are there for every role; a viewer's are disabled.
  let panel = null;
  function openDetail(id) {
    id = String(id);
    const a = st.items.get(id);
    for (const tr of tbody.querySelectorAll('tr.selected')) tr.classList.remove('selected');
    const tr = rowFor(id);
    if (tr) tr.classList.add('selected');
    if (location.hash !== '#/alerts/' + seg(id)) history.replaceState(null, '', '#/alerts/' + seg(id));
    const reuse = panel && st.detailId === id;
    st.detailId = id;
    if (!reuse) {
      panel = openPanel({ id: 'alert-detail', title: a ? (a.title ?? '') : 'Alert ' + id, label: 'alert details', onClose: onDetailClosed });
      panel.el.dataset.alertId = id;
      panel.current = null;
      panel.busy = false;
      panel.buttons = STATUSES.map((s) => h('button', { type: 'button', class: 'btn btn-sm' + (s === 'resolved' ? ' btn-primary' : ''),
        dataset: { setStatus: s }, text: VERB[s], disabled: true, 'aria-pressed': 'false', title: admin ? 'Mark as ' + s : 'Read-only role',
        on: admin ? { click: () => { if (panel && panel.current) setStatus(panel.current, s); } } : null }));
      panel.content = h('div', { class: 'detail-content' });
      // append() would turn a null into the text "null": only real nodes.
      panel.body.append(...[
        h('div', { class: 'detail-actions', role: 'group', 'aria-label': 'Set status' }, h('span', { class: 'lbl', text: 'Set status:' }), panel.buttons),
        admin ? null : h('p', { class: 'notice', id: 'alert-readonly', text: 'Read-only: your role cannot change alert status.' }),
        panel.content].filter(Boolean));
    }
    if (a) renderDetail(a); else if (!reuse) panel.content.appendChild(h('p', { class: 'loading', text: 'Loading…' }));
    get('/api/alerts/' + seg(id)).then((full) => {
      if (st.detailId !== id || !full) return;
      if (st.items.has(id)) st.items.set(id, full);
      renderDetail(full);
    }).catch((err) => {
      if (st.detailId !== id || !panel) return;
      if (!panel.current) clear(panel.content).appendChild(h('div', { class: 'error-box', text: errorText(err) }));
    });
  }
  function onDetailClosed() {
    st.detailId = null;
    panel = null;
    for (const tr of tbody.querySelectorAll('tr.selected')) tr.classList.remove('selected');
    if (/^#\/alerts\/./.test(location.hash)) history.replaceState(null, '', listHash());
  }
  function updateButtons() {
    if (!panel) return;
    const cur = panel.current;
    for (const b of panel.buttons) {
      const s = b.dataset.setStatus, here = !!cur && cur.status === s;
      b.disabled = !admin || !cur || panel.busy || here;
      b.setAttribute('aria-pressed', String(here));
      b.title = !admin ? 'Read-only role' : here ? 'Already ' + s : 'Mark as ' + s;
    }
  }
  function renderDetail(a) {
    if (!panel || st.detailId !== String(a.id)) return;
    panel.current = a;
    panel.heading.textContent = a.title ?? '(untitled)';
    panel.el.dataset.alertId = String(a.id);
    panel.el.dataset.status = String(a.status ?? '');
    updateButtons();
    const body = clear(panel.content);
    const rule = a.rule != null ? h('a', { href: '#/rules/' + seg(a.rule), class: 'mono', text: String(a.rule) }) : null;
    const g = a.group && typeof a.group === 'object' ? a.group : {};
    let related = null;
    if (typeof g.src_ip === 'string') related = '#/events?src_ip=' + encodeURIComponent(g.src_ip);
    else { const v = Object.values(g).find((x) => typeof x === 'string' && x); if (v) related = '#/events?q=' + encodeURIComponent(v); }
    body.appendChild(fieldList([
      ['Severity', sevBadge(a.severity)],
      ['Status', statusBadge(a.status)],
      ['Rule', rule],
      ['ATT&CK', Array.isArray(a.mitre) && a.mitre.length ? mitreLinks(a.mitre) : null],
      ['Group', Object.keys(g).length ? groupPills(g) : null],
      ['Count', fmtCount(a.count ?? 0)],
      ['First seen', timeEl(a.first_seen)],
      ['Last seen', timeEl(a.last_seen)],
      ['Response', Array.isArray(a.response) && a.response.length ? a.response.map(String).join(', ') : null, 'mono'],
      ['Key', a.key != null ? String(a.key) : null, 'mono'],
      ['Alert id', String(a.id), 'mono'],
    ]));
    if (related) body.appendChild(h('p', null, h('a', { href: related, text: 'Show related events →' })));
    const ev = Array.isArray(a.evidence) ? a.evidence : [];
    body.appendChild(h('h3', { class: 'section-title', text: 'Evidence (' + ev.length + ')' }));
    body.appendChild(ev.length
      ? h('ul', { class: 'evidence' }, ev.map((line) => h('li', { text: typeof line === 'string' ? line : JSON.stringify(line) })))
      : h('p', { class: 'muted', text: 'No evidence lines recorded.' }));
  }
  async function setStatus(a, status) {
    const id = String(a.id);
    const p = panel;
    if (!p || p.busy) return;
    p.busy = true;
    updateButtons();
    try {
      const updated = await patch('/api/alerts/' + seg(id), { status });
      const na = updated && updated.id != null ? updated : { ...a, status };
      toast('Alert ' + id + ' is now ' + status + '.', 'ok');
      if (na.status !== st.status) removeRow(id);
      else { st.items.set(id, na); const tr = rowFor(id); if (tr) fillRow(tr, na); }
      p.busy = false;
      renderDetail(na);
      const ae = document.activeElement;
      if (panel === p && (!ae || ae === document.body || ae.disabled)) { // the pressed button is disabled now
        const b = p.buttons.find((x) => !x.disabled);
        if (b) b.focus({ preventScroll: true });
      }
      ctx.refreshCounts(true);
    } catch (err) {
      p.busy = false;
      toast('Status not changed: ' + errorText(err), 'error');
      if (panel === p) updateButtons();
    }
  }

  // ----- live -----
  function matches(a) {
    if (a.status !== st.status) return false;
    if (!st.sev.has(a.severity) && st.sev.size !== SEVERITIES.length) return false;
    if (st.q) {
      const q = st.q.toLowerCase();
      const hay = [a.title, a.rule, ...Object.values(a.group || {})].map((x) => String(x ?? '').toLowerCase());
      if (!hay.some((x) => x.includes(q))) return false;
    }
    return true;
  }
  function liveAlert(a) {
    if (!a || a.id == null) return;
    const id = String(a.id);
    const tr = rowFor(id);
    if (matches(a)) {
      st.items.set(id, a);
      const empty = tbody.querySelector('tr.empty-row');
      if (empty) empty.remove();
      const nr = tr || row(a);
      if (tr) fillRow(tr, a);
      tbody.prepend(nr);
      nr.classList.remove('flash'); void nr.offsetWidth; nr.classList.add('flash');
      moreInfo.textContent = 'Showing ' + fmtCount(st.items.size);
      updateSelection();
    } else if (tr && a.status !== st.status) removeRow(id);
    if (st.detailId === id) renderDetail(a);
  }
  cleanups.push(stream.on('alert', liveAlert));
  cleanups.push(stream.on('alert_status', (s) => {
    if (!s || s.id == null) return;
    const id = String(s.id);
    const a = st.items.get(id);
    if (a) {
      a.status = s.status;
      if (s.status !== st.status) removeRow(id);
      else { const tr = rowFor(id); if (tr) fillRow(tr, a); }
    } else if (s.status === st.status) {
      // Moved into the tab shown (e.g. reopened elsewhere): fetch it to list it.
      const token = st.token;
      get('/api/alerts/' + seg(id)).then((full) => { if (token === st.token && full && full.status === st.status) liveAlert(full); }).catch(() => {});
    }
    if (st.detailId === id && panel && panel.current && panel.current.status !== s.status) renderDetail({ ...panel.current, status: s.status });
  }));
  cleanups.push(stream.on('lagged', () => { if (!st.selected.size) reload(); }));
  cleanups.push(stream.on('counts', (c) => {
    if (!c) return;
    for (const s of STATUSES) countEls[s].textContent = typeof c[s] === 'number' ? fmtCount(c[s]) : '—';
  }));

  ctx.refreshCounts(true);
  reload();
  if (ctx.params[0]) openDetail(ctx.params[0]);

  return {
    update(nctx) {
      if (nctx.params[0]) { openDetail(nctx.params[0]); return true; }
      if (st.detailId) closePanel('alert-detail');
      const qs = nctx.query.get('status');
      if (STATUSES.includes(qs) && qs !== st.status) setTab(qs);
      return true;
    },
    unmount() { st.token++; cleanups.forEach((f) => f()); closePanel('alert-detail', true); },
  };
}
