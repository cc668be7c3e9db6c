// Incidents: alerts grouped by address or user. The list (Active / Closed / All with their
// counts, severity, search, paging; newest activity first) and one incident's detail
// (#/incidents/ID): its fields, its timeline oldest first, its alerts with their evidence.
// Admins close, reopen, take, release and annotate it. Live: the stream's `incidents`
// and `alert` messages refresh what is shown, in place. Every text shown came from a log,
// another detector or a person: text only.
import { get, patch, seg, isAdmin, getSession, errorText } from './api.js';
import {
  h, append, clear, debounce, toast, fmtCount, fmtRel, fmtTime, parseTs, timeEl, sevBadge, groupPills,
  openPanel, closePanel, fieldList, emptyRow, poll, SEVERITIES,
} from './dom.js';
import * as stream from './stream.js';

const PAGE = 50;
const MAX_REFRESH = 500; // the API's largest page: a refresh re-reads at most this many
const REFRESH_MS = 15000; // besides the stream, for when it is down
const FILTERS = ['active', 'closed', 'all'];
const LABEL = { active: 'Active', closed: 'Closed', all: 'All' };
// Timeline kinds: [label, icon].
const KINDS = {
  alert: ['Alert', 'alerts'], action: ['Action', 'bans'], note: ['Note', 'note'],
  status: ['Status', 'flag'], owner: ['Owner', 'user'],
};
const MAX_NOTE = 4000;
// Kept while the module stays loaded: coming back to a bare #/incidents keeps the filter.
const saved = { status: 'active' };

const str = (v) => (v == null ? '' : String(v));
const fromQuery = (q) => (FILTERS.includes(q.get('status')) ? q.get('status') : saved.status);
function statusBadge(s) {
  const known = s === 'active' || s === 'closed';
  return h('span', { class: 'status' + (s === 'active' ? ' status-open' : s === 'closed' ? ' status-resolved' : ''),
    text: known ? LABEL[s] : str(s) || '?' });
}
// "3 min ago", the exact time on hover.
function ago(ts) {
  return parseTs(ts) ? h('time', { class: 'rel', datetime: str(ts), title: fmtTime(ts), dataset: { ts: str(ts) }, text: fmtRel(ts) })
    : h('span', { class: 'faint', text: str(ts) || '—' });
}
const dash = () => h('span', { class: 'faint', text: '—' });
// What an incident is about, in a few words: "ssh-brute-force · 203.0.113.9".
const subject = (i) => [i.type, i.ip ?? i.user ?? i.target].filter((x) => x != null && x !== '').map(String).join(' · ') || 'Incident ' + str(i.id);

export function mount(main, ctx) {
  const admin = isAdmin();
  const me = str(getSession() && getSession().user && getSession().user.name);
  const st = {
    status: fromQuery(ctx.query), sev: new Set(SEVERITIES), q: '', cursor: null, token: 0,
    items: new Map(), sigs: new Map(), detailId: null, alive: true,
  };
  saved.status = st.status;
  const cols = 9;

  // ----- header, filters -----
  const countEls = {};
  const tabs = h('div', { id: 'incidents-tabs', class: 'tabs', role: 'tablist', 'aria-label': 'Incident status' },
    FILTERS.map((s) => {
      countEls[s] = h('span', { class: 'tab-count', id: 'incidents-count-' + s, text: '…' });
      return h('button', { type: 'button', role: 'tab', dataset: { status: s }, 'aria-selected': String(s === st.status),
        on: { click: () => setStatus(s) } }, s === 'all' ? h('span', { text: LABEL[s] }) : statusBadge(s), countEls[s]);
    }));
  const search = h('input', { type: 'search', id: 'incidents-search', 'data-search': '', autocomplete: 'off',
    placeholder: 'Search an address, user, type, rule, target or owner…  ( / )', 'aria-label': 'Search incidents' });
  const sevSeg = h('div', { class: 'seg sev-filter', id: 'incidents-sev', role: 'group', 'aria-label': 'Severity filter' },
    SEVERITIES.map((s) => h('button', { type: 'button', class: 'sev sev-' + s, 'aria-pressed': 'true', dataset: { sev: s }, text: s,
      title: 'Show ' + s + ' incidents', on: { click: (e) => toggleSev(s, e.currentTarget) } })));
  const refreshBtn = h('button', { type: 'button', id: 'incidents-refresh', class: 'btn', 'data-icon': 'refresh', text: 'Refresh', on: { click: () => reload() } });
  const tbody = h('tbody');
  const table = h('table', { class: 'data', id: 'incidents-table' },
    h('thead', null, h('tr', null,
      h('th', { text: 'Status' }), h('th', { text: 'Severity' }), h('th', { text: 'Incident' }), h('th', { text: 'Address' }),
      h('th', { class: 'hide-sm', text: 'User' }), h('th', { class: 'num', text: 'Alerts' }),
      h('th', { class: 'hide-sm', text: 'First seen' }), h('th', { text: 'Last seen' }), h('th', { class: 'hide-sm', text: 'Owner' }))),
    tbody);
  const moreInfo = h('span', { id: 'incidents-shown' });
  const moreBtn = h('button', { type: 'button', id: 'incidents-more', class: 'btn btn-sm', text: 'Load more', hidden: true, on: { click: () => load(false) } });
  const headCounts = h('p', { class: 'page-sub', id: 'incidents-counts', 'aria-live': 'polite' }, 'Alerts that share an address or a user, grouped.');

  append(main, [
    h('div', { class: 'page-head' }, h('div', null, h('h1', { text: 'Incidents' }), headCounts)),
    tabs,
    h('div', { class: 'toolbar' }, h('div', { class: 'grow' }, search), sevSeg, refreshBtn),
    h('div', { class: 'table-wrap' }, table),
    h('div', { class: 'more-row' }, moreInfo, moreBtn),
  ]);

  // ----- filters -----
  const listHash = () => '#/incidents' + (st.status !== 'active' ? '?status=' + st.status : '');
  function setStatus(s) {
    if (s === st.status) return;
    st.status = saved.status = s;
    if (!st.detailId && location.hash !== listHash()) history.replaceState(null, '', listHash());
    for (const b of tabs.children) b.setAttribute('aria-selected', String(b.dataset.status === s));
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
  const sevParam = () => (st.sev.size === SEVERITIES.length ? '' : Array.from(st.sev).join(','));
  const params = (limit, cursor) => ({ status: st.status === 'all' ? '' : st.status, severity: sevParam(), q: st.q, limit, cursor });
  const emptyText = () => {
    const what = st.status === 'all' ? 'incidents' : st.status + ' incidents';
    return st.q || sevParam() ? 'No ' + what + ' match these filters.' : 'No ' + what + '. Alerts that share an address or a user are grouped here.';
  };

  // ----- counts -----
  async function loadCounts() {
    try {
      const c = await get('/api/incidents/counts');
      if (!st.alive || !c) return;
      const a = typeof c.active === 'number' ? c.active : null, cl = typeof c.closed === 'number' ? c.closed : null;
      countEls.active.textContent = a == null ? '—' : fmtCount(a);
      countEls.closed.textContent = cl == null ? '—' : fmtCount(cl);
      countEls.all.textContent = a == null || cl == null ? '—' : fmtCount(a + cl);
      headCounts.textContent = a == null ? 'Alerts that share an address or a user, grouped.'
        : fmtCount(a) + ' active · ' + fmtCount(cl ?? 0) + ' closed';
    } catch (_) { /* the list shows the error */ }
  }

  // ----- list -----
  function reload() {
    st.cursor = null;
    st.items.clear();
    st.sigs.clear();
    clear(tbody);
    return load(true);
  }
  // first: the first page (replacing what is shown); otherwise the next page.
  async function load(first) {
    const token = ++st.token;
    moreBtn.disabled = true;
    if (first) tbody.appendChild(emptyRow(cols, 'Loading…'));
    try {
      const page = await get('/api/incidents', params(PAGE, first ? '' : st.cursor));
      if (token !== st.token || !st.alive) return;
      if (first) clear(tbody);
      for (const i of Array.isArray(page && page.items) ? page.items : []) {
        if (!i || i.id == null || st.items.has(String(i.id))) continue;
        tbody.appendChild(upsertRow(i));
      }
      st.cursor = page && page.next_cursor ? page.next_cursor : null;
      showEmpty();
    } catch (err) {
      if (token !== st.token || !st.alive) return;
      if (first) clear(tbody);
      tbody.appendChild(emptyRow(cols, 'Could not load the incidents: ' + errorText(err)));
    } finally {
      if (token === st.token) settleList();
    }
  }
  function settleList() {
    moreBtn.disabled = false;
    moreBtn.hidden = !st.cursor;
    moreInfo.textContent = st.items.size ? 'Showing ' + fmtCount(st.items.size) + (st.cursor ? '' : ' — all') : '';
  }
  // The "nothing here" row when the list is empty (replacing "Loading…" or an error).
  function showEmpty() {
    const old = tbody.querySelector('tr.empty-row');
    if (old) old.remove();
    if (!st.items.size) tbody.appendChild(emptyRow(cols, emptyText()));
  }
  // Re-reads what is shown (as many rows as are loaded) and updates the rows in place:
  // the same elements stay, so the selection, the focus and the scroll position stay.
  async function refresh() {
    if (!st.alive) return;
    const token = ++st.token;
    try {
      const n = Math.min(MAX_REFRESH, Math.max(PAGE, st.items.size));
      const page = await get('/api/incidents', params(n, ''));
      if (token !== st.token || !st.alive) return;
      const items = (Array.isArray(page && page.items) ? page.items : []).filter((i) => i && i.id != null);
      const keep = new Set(items.map((i) => String(i.id)));
      for (const id of Array.from(st.items.keys())) if (!keep.has(id)) removeRow(id);
      const old = tbody.querySelector('tr.empty-row');
      if (old) old.remove();
      const focused = document.activeElement;
      items.forEach((i, k) => {
        const isNew = !st.items.has(String(i.id));
        const tr = upsertRow(i);
        const at = tbody.children[k];
        if (at !== tr) tbody.insertBefore(tr, at || null);
        if (isNew) { tr.classList.remove('flash'); void tr.offsetWidth; tr.classList.add('flash'); }
      });
      // A row moved up or down loses the focus of a button in it: give it back.
      if (focused && focused !== document.activeElement && tbody.contains(focused)) focused.focus({ preventScroll: true });
      st.cursor = page && page.next_cursor ? page.next_cursor : null;
      showEmpty();
    } catch (err) {
      // Keep the rows shown; the next message or tick tries again.
      if (token === st.token && st.alive && !st.items.size) {
        clear(tbody).appendChild(emptyRow(cols, 'Could not load the incidents: ' + errorText(err)));
      }
    } finally {
      if (token === st.token) settleList();
    }
  }
  const refreshSoon = debounce(() => { refresh(); loadCounts(); }, 400);

  function rowFor(id) { return tbody.querySelector('tr[data-incident-id="' + CSS.escape(String(id)) + '"]'); }
  // The row of incident i, made or brought up to date (only when it changed).
  function upsertRow(i) {
    const id = String(i.id);
    const sig = JSON.stringify(i);
    let tr = rowFor(id);
    st.items.set(id, i);
    if (!tr) {
      tr = h('tr', { class: 'clickable', dataset: { incidentId: id } });
      tr.addEventListener('click', () => openDetail(id));
    } else if (st.sigs.get(id) === sig) {
      return tr;
    }
    st.sigs.set(id, sig);
    fillRow(tr, i);
    return tr;
  }
  function fillRow(tr, i) {
    const id = String(i.id);
    tr.dataset.status = str(i.status);
    tr.dataset.severity = str(i.severity);
    tr.classList.toggle('selected', st.detailId === id);
    tr.replaceChildren(
      h('td', null, statusBadge(i.status)),
      h('td', null, sevBadge(i.severity)),
      h('td', { class: 'cell-title' }, h('button', { type: 'button', class: 'linklike inc-type', text: str(i.type) || '(no type)',
        'aria-label': 'Open incident ' + id + ': ' + subject(i) }),
      h('span', { class: 'rule-id inc-sub', title: 'Rule ' + str(i.rule) + (i.target != null ? ', target ' + str(i.target) : '') },
        h('span', { class: 'inc-rule', text: str(i.rule) }), i.target != null ? ' · ' + str(i.target) : null)),
      h('td', { class: 'mono cell-ellip', title: i.ip != null ? str(i.ip) : null }, i.ip != null ? str(i.ip) : dash()),
      h('td', { class: 'hide-sm cell-ellip', title: i.user != null ? str(i.user) : null }, i.user != null ? str(i.user) : dash()),
      h('td', { class: 'num', text: fmtCount(i.alerts ?? 0) }),
      h('td', { class: 'hide-sm nowrap' }, timeEl(i.timestamp, true)),
      h('td', { class: 'nowrap' }, ago(i.last_seen)),
      h('td', { class: 'hide-sm cell-ellip', title: i.owner != null ? str(i.owner) : 'Nobody' }, i.owner != null && i.owner !== '' ? str(i.owner) : dash()),
    );
  }
  function removeRow(id) {
    st.items.delete(String(id));
    st.sigs.delete(String(id));
    const tr = rowFor(id);
    if (tr) tr.remove();
  }
  // Whether incident i belongs in the list shown (after a change made here).
  function matches(i) {
    if (st.status !== 'all' && i.status !== st.status) return false;
    return st.sev.size === SEVERITIES.length || st.sev.has(i.severity);
  }

  // ----- detail panel -----
  // The action buttons and the note box are made once per panel and only updated
  // afterwards: a live update never replaces what a person is about to press or typing.
  let panel = null;
  function openDetail(id) {
    id = String(id);
    for (const tr of tbody.querySelectorAll('tr.selected')) tr.classList.remove('selected');
    const tr = rowFor(id);
    if (tr) tr.classList.add('selected');
    if (location.hash !== '#/incidents/' + seg(id)) history.replaceState(null, '', '#/incidents/' + seg(id));
    const reuse = panel && st.detailId === id;
    st.detailId = id;
    if (!reuse) {
      const i = st.items.get(id);
      panel = openPanel({ id: 'incident-detail', title: i ? subject(i) : 'Incident ' + id, label: 'incident details', onClose: onDetailClosed });
      panel.el.dataset.incidentId = id;
      panel.current = null;
      panel.sig = null;
      panel.busy = false;
      panel.content = h('div', { class: 'detail-content' });
      panel.controls = admin ? adminControls() : null;
      panel.body.append(...[
        panel.controls ? panel.controls.el : h('p', { class: 'notice', id: 'incident-readonly', text: 'Read-only: your role cannot change incidents.' }),
        panel.content].filter(Boolean));
      panel.content.appendChild(h('p', { class: 'loading', text: 'Loading…' }));
    }
    loadDetail(id);
  }
  function onDetailClosed() {
    st.detailId = null;
    panel = null;
    for (const tr of tbody.querySelectorAll('tr.selected')) tr.classList.remove('selected');
    if (/^#\/incidents\/./.test(location.hash)) history.replaceState(null, '', listHash());
  }
  async function loadDetail(id) {
    const p = panel;
    try {
      const d = await get('/api/incidents/' + seg(id));
      if (!st.alive || panel !== p || st.detailId !== id || !d) return;
      renderDetail(d);
    } catch (err) {
      if (!st.alive || panel !== p || st.detailId !== id) return;
      if (!p.current) clear(p.content).appendChild(h('div', { class: 'error-box', id: 'incident-load-error', text: 'Could not load incident ' + id + ': ' + errorText(err) }));
      else p.controls && p.controls.error('Could not refresh: ' + errorText(err));
    }
  }
  const refreshDetailSoon = debounce(() => { if (st.detailId) loadDetail(st.detailId); }, 400);

  function adminControls() {
    const btn = (id, text, title, fn, cls) => h('button', { type: 'button', id, class: 'btn btn-sm' + (cls ? ' ' + cls : ''), text, title, disabled: true, on: { click: fn } });
    const close = btn('incident-close', 'Close', 'Close this incident', () => change({ status: 'closed' }, 'Closed'), 'btn-primary');
    const reopen = btn('incident-reopen', 'Reopen', 'Make this incident active again', () => change({ status: 'active' }, 'Reopened'));
    const assign = btn('incident-assign', 'Assign to me', 'Make ' + (me || 'yourself') + ' the owner', () => change({ owner: me }, 'Assigned to ' + me));
    const unassign = btn('incident-unassign', 'Clear owner', 'Nobody owns this incident', () => change({ owner: '' }, 'Owner cleared'));
    const note = h('textarea', { id: 'incident-note', class: 'inc-note', rows: '3', maxlength: String(MAX_NOTE), placeholder: 'What you found, what you did…',
      'aria-label': 'Note', 'aria-describedby': 'incident-error' });
    const add = btn('incident-note-add', 'Add note', 'Add the note to the timeline', () => addNote());
    const err = h('p', { id: 'incident-error', class: 'inc-error', role: 'alert', hidden: true });
    note.addEventListener('input', () => { update(); if (!err.hidden) error(''); });
    note.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); addNote(); } });
    function error(msg) { err.textContent = msg; err.hidden = !msg; }
    function update() {
      const i = panel && panel.current, busy = !i || panel.busy;
      close.hidden = !!i && i.status === 'closed';
      reopen.hidden = !i || i.status !== 'closed';
      close.disabled = reopen.disabled = busy;
      const owner = i ? str(i.owner) : '';
      assign.disabled = busy || !me || owner === me;
      assign.title = owner === me ? 'You own this incident' : 'Make ' + (me || 'yourself') + ' the owner';
      unassign.disabled = busy || !owner;
      add.disabled = busy || !note.value.trim();
      note.readOnly = !!(panel && panel.busy);
    }
    async function addNote() {
      const text = note.value.trim();
      if (!text) { error('Write a note first.'); note.focus(); return; }
      if (text.length > MAX_NOTE) { error('A note has at most ' + MAX_NOTE + ' characters.'); return; }
      if (await change({ note: text }, 'Note added')) { note.value = ''; update(); }
    }
    const el = h('div', { class: 'inc-actions', id: 'incident-actions' },
      h('div', { class: 'detail-actions', role: 'group', 'aria-label': 'Incident actions' }, close, reopen, assign, unassign),
      h('div', { class: 'inc-note-box' }, note, h('div', { class: 'inc-note-row' },
        h('span', { class: 'faint', text: 'Ctrl+Enter adds it. Shown to everyone, kept in the audit log.' }), add)),
      err);
    return { el, update, error };
  }
  // PATCH the incident shown; true when the server took it.
  async function change(body, message) {
    const p = panel;
    if (!p || p.busy || !p.current) return false;
    const id = String(p.current.id);
    p.busy = true;
    p.controls.error('');
    p.controls.update();
    const had = document.activeElement;
    try {
      const updated = await patch('/api/incidents/' + seg(id), body);
      if (!st.alive) return true;
      toast(message + '.', 'ok');
      if (updated && updated.id != null) {
        if (!matches(updated)) { removeRow(id); showEmpty(); settleList(); }
        else if (st.items.has(id)) upsertRow(updated);
      }
      if (panel === p) {
        p.busy = false;
        await loadDetail(id);
      }
      refreshSoon();
      return true;
    } catch (err) {
      if (panel === p) p.controls.error('Not changed: ' + errorText(err));
      return false;
    } finally {
      if (panel === p) {
        p.busy = false;
        p.controls.update();
        // The pressed button may be hidden or disabled now: keep the keyboard in the panel
        // (Close ↔ Reopen, a note added → the note box).
        if (had && p.controls.el.contains(had) && (had.hidden || had.disabled)) {
          const next = { 'incident-close': 'incident-reopen', 'incident-reopen': 'incident-close', 'incident-note-add': 'incident-note' }[had.id];
          const el = (next && p.controls.el.querySelector('#' + next)) || p.controls.el.querySelector('button:not([hidden]):not(:disabled)');
          if (el && !el.hidden && !el.disabled) el.focus({ preventScroll: true });
        }
      }
    }
  }

  function renderDetail(d) {
    if (!panel || st.detailId !== String(d.id)) return;
    const sig = JSON.stringify(d);
    const p = panel;
    p.current = d;
    p.el.dataset.incidentId = String(d.id);
    p.el.dataset.status = str(d.status);
    p.el.dataset.owner = str(d.owner);
    if (p.controls) p.controls.update();
    if (p.sig === sig) return; // unchanged: keep the elements (and any open evidence)
    p.sig = sig;
    p.heading.textContent = subject(d);
    const scroller = p.body, top = scroller.scrollTop;
    const openEvidence = new Set(Array.from(p.content.querySelectorAll('details[data-alert-id][open]')).map((x) => x.dataset.alertId));
    const first = !p.content.querySelector('#incident-fields');
    const rule = d.rule != null ? h('a', { href: '#/rules/' + seg(d.rule), class: 'mono', text: str(d.rule) }) : null;
    const ip = d.ip != null ? h('span', null, h('span', { class: 'mono', text: str(d.ip) }), ' ',
      h('a', { href: '#/events?src_ip=' + encodeURIComponent(str(d.ip)), class: 'inc-related', text: 'events →' })) : null;
    const fields = fieldList([
      ['Status', statusBadge(d.status)],
      ['Severity', sevBadge(d.severity)],
      ['Type', d.type != null ? str(d.type) : null, 'mono'],
      ['Address', ip],
      ['User', d.user != null ? str(d.user) : null],
      ['Target', d.target != null ? str(d.target) : null],
      ['Rule', rule],
      ['Source log', d.source_log != null ? str(d.source_log) : null, 'mono'],
      ['Alerts', fmtCount(d.alerts ?? 0)],
      ['First seen', timeEl(d.timestamp)],
      ['Last seen', h('span', null, timeEl(d.last_seen), ' (', ago(d.last_seen), ')')],
      ['Closed', d.closed != null ? timeEl(d.closed) : null],
      ['Owner', d.owner != null && d.owner !== '' ? h('span', { id: 'incident-owner', text: str(d.owner) }) : h('span', { id: 'incident-owner', class: 'faint', text: 'nobody' })],
      ['Incident id', String(d.id), 'mono'],
    ]);
    fields.id = 'incident-fields';
    const tl = Array.isArray(d.timeline) ? d.timeline.filter((e) => e && typeof e === 'object') : [];
    const alerts = Array.isArray(d.alert_list) ? d.alert_list.filter((a) => a && typeof a === 'object') : [];
    p.content.replaceChildren(
      fields,
      h('h3', { class: 'section-title', text: 'Timeline (' + tl.length + ')' }),
      tl.length ? h('ol', { id: 'incident-timeline', class: 'inc-timeline' }, tl.map(entry))
        : h('p', { class: 'muted', id: 'incident-timeline-empty', text: 'Nothing on the timeline yet.' }),
      h('h3', { class: 'section-title', text: 'Alerts (' + alerts.length + ')' }),
      alerts.length ? h('ul', { id: 'incident-alerts', class: 'inc-alerts' }, alerts.map((a, k) => alertItem(a, first ? k === 0 : openEvidence.has(String(a.id)))))
        : h('p', { class: 'muted', text: 'No alerts recorded.' }),
    );
    scroller.scrollTop = top;
  }
  function entry(e) {
    const kind = str(e.kind);
    const [label, icon] = KINDS[kind] || [kind || 'Entry', 'flag'];
    const text = str(e.text);
    const body = e.alert != null
      ? h('a', { href: '#/alerts/' + seg(e.alert), class: 'tl-text', title: 'Open alert ' + e.alert, text: text || 'Alert ' + e.alert })
      : h('span', { class: 'tl-text' + (kind === 'note' ? ' tl-note' : ''), text });
    return h('li', { dataset: { kind, entryId: e.id, alertId: e.alert ?? null } },
      h('span', { class: 'tl-icon', 'data-icon': icon, 'aria-hidden': 'true' }),
      h('div', { class: 'tl-main' },
        h('div', { class: 'tl-head' }, h('span', { class: 'tl-kind', text: label }),
          e.actor != null && e.actor !== '' ? h('span', { class: 'tl-actor', title: 'By', text: str(e.actor) }) : null,
          h('span', { class: 'tl-time' }, timeEl(e.ts, true))),
        body));
  }
  function alertItem(a, open) {
    const ev = Array.isArray(a.evidence) ? a.evidence : [];
    const id = str(a.id);
    return h('li', { dataset: { alertId: id, severity: str(a.severity) } },
      h('div', { class: 'inc-alert-head' }, sevBadge(a.severity),
        h('a', { href: '#/alerts/' + seg(id), class: 'inc-alert-title', text: str(a.title) || str(a.rule) || 'Alert ' + id }),
        h('span', { class: 'count-badge', title: 'events counted', text: '×' + fmtCount(a.count ?? 0) })),
      h('div', { class: 'inc-alert-meta' },
        h('span', { class: 'mono', title: 'Rule', text: str(a.rule) }),
        h('span', { title: 'Last seen' }, 'last ', ago(a.last_seen)),
        a.status != null ? h('span', { class: 'faint', title: 'Alert status', text: str(a.status) }) : null,
        groupPills(a.group)),
      ev.length ? h('details', { class: 'inc-evidence', dataset: { alertId: id }, open },
        h('summary', { text: 'Evidence (' + ev.length + (ev.length === 1 ? ' line)' : ' lines)') }),
        h('ul', { class: 'evidence' }, ev.map((line) => h('li', { text: typeof line === 'string' ? line : JSON.stringify(line) })))) : null);
  }

  // ----- live -----
  const offs = [
    stream.on('incidents', (m) => {
      refreshSoon();
      const ids = Array.isArray(m && m.ids) ? m.ids.map(String) : [];
      if (st.detailId && ids.includes(st.detailId)) refreshDetailSoon();
    }),
    stream.on('alert', (a) => {
      refreshSoon();
      // A known alert of the incident shown counted more events.
      if (st.detailId && panel && panel.current && a && a.id != null
        && (panel.current.alert_list || []).some((x) => x && String(x.id) === String(a.id))) refreshDetailSoon();
    }),
    stream.on('alert_status', () => { if (st.detailId) refreshDetailSoon(); }),
    stream.on('lagged', () => { refreshSoon(); if (st.detailId) refreshDetailSoon(); }),
    poll(() => { refreshSoon(); if (st.detailId) refreshDetailSoon(); }, REFRESH_MS),
  ];
  const tick = setInterval(() => {
    for (const t of document.querySelectorAll('#incidents-table time.rel, #incident-detail time.rel')) t.textContent = fmtRel(t.dataset.ts);
  }, 30000);

  loadCounts();
  reload();
  if (ctx.params[0]) openDetail(ctx.params[0]);

  return {
    update(nctx) {
      if (nctx.params[0]) { openDetail(nctx.params[0]); return true; }
      if (st.detailId) closePanel('incident-detail');
      const s = nctx.query.get('status');
      if (FILTERS.includes(s) && s !== st.status) setStatus(s);
      return true;
    },
    unmount() {
      st.alive = false;
      st.token++;
      refreshSoon.cancel();
      refreshDetailSoon.cancel();
      onSearch.cancel();
      clearInterval(tick);
      offs.forEach((f) => f());
      closePanel('incident-detail', true);
    },
  };
}
