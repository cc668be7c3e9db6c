// Devices: what LAN discovery found (GET /api/devices), online first, each coloured by its
// state (online or offline, new: first seen within 24 h, untrusted), with a filter, a
// search and, for admins, a one-click trust switch per row. One device (#/devices/ID): its
// fields, its history newest first, and for admins trust, name and risk (PATCH; audited).
// Under the list, the busiest addresses, and in the detail the device's traffic (both from
// traffic.js, which says whether the counts are routed traffic per LAN device or only this
// host's own). Live: LAN alerts (rules lan-*) and LAN events on the stream refresh what is
// shown, in place, and so does a poll every 15 s (discovery runs on an interval; traffic
// is asked for at most that often). Names are typed by people, hostnames come from DNS and
// vendors from the IEEE registry: text only.
import { get, patch, seg, isAdmin, errorText } from './api.js';
import { h, append, clear, debounce, toast, fmtCount, fmtRel, fmtTime, parseTs, timeEl, openPanel, closePanel, fieldList, emptyRow, poll } from './dom.js';
import { isLanAlert, isLanEvent } from './lan.js';
import { topTraffic, deviceTraffic } from './traffic.js';
import * as stream from './stream.js';

const REFRESH_MS = 15000; // discovery runs every few minutes; the stream covers the rest
const NEW_MS = 24 * 3600e3; // "new": first seen within the last 24 hours
const MAX_NAME = 64; // the server's limit
const FILTERS = ['all', 'online', 'offline', 'new', 'untrusted'];
const LABEL = { all: 'All', online: 'Online', offline: 'Offline', new: 'New', untrusted: 'Untrusted' };
const PASSES = {
  all: () => true,
  online: (d) => !!d.online,
  offline: (d) => !d.online,
  new: (d) => isNew(d),
  untrusted: (d) => !d.trusted,
};
// History kinds: [label, icon].
const KINDS = {
  NEW_DEVICE: ['New device', 'plus'],
  DEVICE_JOINED: ['Back online', 'check'],
  DEVICE_LEFT: ['Went offline', 'cross'],
  DEVICE_IP_CHANGED: ['Address changed', 'refresh'],
  DEVICE_MAC_CHANGED: ['Address taken over', 'warn'],
  HOSTNAME_CHANGED: ['Hostname changed', 'refresh'],
  CHANGED: ['Changed by a person', 'user'],
};
// Where a hostname came from.
const SOURCES = { dns: 'reverse DNS', mdns: 'mDNS', netbios: 'NetBIOS' };
// Kept while the module stays loaded: coming back to a bare #/devices keeps the filter,
// and each traffic view its range.
const saved = { filter: 'all', topRange: '1h', deviceRange: '24h' };

const str = (v) => (v == null ? '' : String(v));
const text = (v) => (typeof v === 'string' && v.trim() !== '' ? v : null);
const fromQuery = (q) => (FILTERS.includes(q.get('filter')) ? q.get('filter') : saved.filter);
function isNew(d, now = Date.now()) {
  const t = parseTs(d.first_seen);
  return !!t && now - t.getTime() < NEW_MS;
}
// What a person calls the device: its name, else its DNS name, else its maker.
const title = (d) => text(d.name) ?? text(d.hostname) ?? text(d.vendor) ?? (d.randomized ? 'Randomized MAC' : 'Unknown device');
function vendorCell(d) {
  if (text(d.vendor)) return h('span', { text: d.vendor });
  return d.randomized
    ? h('span', { class: 'faint', title: 'A locally administered (randomized) MAC: no maker to look up, and it may change', text: 'randomized MAC' })
    : h('span', { class: 'faint', title: 'This MAC\'s maker is not in the IEEE registry Picket has', text: 'unknown' });
}
// 198.51.100.7 → a number to sort by; anything else after every IPv4 address.
function ipKey(ip) {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(str(ip));
  return m ? ((+m[1] * 256 + +m[2]) * 256 + +m[3]) * 256 + +m[4] : Infinity;
}
// Online first, then by address, then by MAC.
const order = (a, b) => (b.online ? 1 : 0) - (a.online ? 1 : 0) || (ipKey(a.ip) - ipKey(b.ip) || 0)
  || str(a.ip).localeCompare(str(b.ip)) || str(a.mac).localeCompare(str(b.mac)) || Number(a.id) - Number(b.id);
const hex = (s) => s.toLowerCase().replace(/[^0-9a-f]/g, '');
function matchesQuery(d, q) {
  if (!q) return true;
  const lq = q.toLowerCase();
  if ([d.name, d.hostname, d.ip, d.mac, d.vendor, d.interface].some((v) => str(v).toLowerCase().includes(lq))) return true;
  if (!d.vendor && (d.randomized ? 'randomized mac' : 'unknown').includes(lq)) return true;
  // A MAC typed as b8-27-eb, b827.eb… or b827eb.
  return /^[0-9a-f:.\- ]+$/i.test(q) && hex(q).length >= 4 && hex(str(d.mac)).includes(hex(q));
}
// "3 min ago", the exact time on hover.
function ago(ts) {
  return parseTs(ts) ? h('time', { class: 'rel', datetime: str(ts), title: fmtTime(ts), dataset: { ts: str(ts) }, text: fmtRel(ts) })
    : h('span', { class: 'faint', text: str(ts) || '—' });
}
function badges(d) {
  return h('span', { class: 'dev-badges' },
    d.online ? h('span', { class: 'dev-badge dev-badge-online', title: 'Seen in the latest discovery rounds', text: 'online' })
      : h('span', { class: 'dev-badge dev-badge-offline', title: 'Not seen lately', text: 'offline' }),
    isNew(d) ? h('span', { class: 'dev-badge dev-badge-new', title: 'First seen ' + fmtTime(d.first_seen), text: 'new' }) : null,
    d.trusted ? null : h('span', { class: 'dev-badge dev-badge-untrusted', title: 'Not marked as trusted: its changes raise alerts', text: 'untrusted' }));
}
function riskBadge(r) {
  if (typeof r !== 'number') return h('span', { class: 'faint', text: '—' });
  const level = r >= 70 ? 'high' : r >= 30 ? 'medium' : 'low';
  return h('span', { class: 'dev-risk', dataset: { level }, title: 'Risk ' + r + ' of 100 (set by a person)', text: String(r) });
}

export function mount(main, ctx) {
  const admin = isAdmin();
  const st = {
    filter: fromQuery(ctx.query), q: '', items: new Map(), rows: new Map(), sigs: new Map(), errorRows: new Map(),
    busy: new Set(), errors: new Map(), keep: new Set(), flash: new Set(),
    loaded: false, token: 0, detailId: null, alive: true,
  };
  saved.filter = st.filter;
  const cols = 8;

  // ----- header, filter, search -----
  const countEl = (id) => h('b', { id, text: '…' });
  const counts = { total: countEl('devices-count-total'), online: countEl('devices-count-online'), new: countEl('devices-count-new') };
  const devicesWord = h('span', { text: ' devices' });
  const headCounts = h('p', { class: 'page-sub', id: 'devices-counts', 'aria-live': 'polite' },
    counts.total, devicesWord, ' · ', counts.online, ' online · ', counts.new, ' new today');
  const filterCounts = {};
  const filter = h('div', { class: 'seg', id: 'devices-filter', role: 'group', 'aria-label': 'Devices shown' },
    FILTERS.map((f) => {
      filterCounts[f] = h('span', { class: 'faint' });
      return h('button', { type: 'button', dataset: { filter: f }, 'aria-pressed': String(f === st.filter), on: { click: () => setFilter(f) } },
        LABEL[f], filterCounts[f]);
    }));
  const search = h('input', { type: 'search', id: 'devices-search', 'data-search': '', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'Name, address, MAC or vendor…  ( / )', 'aria-label': 'Search devices' });
  const refreshBtn = h('button', { type: 'button', id: 'devices-refresh', class: 'btn', 'data-icon': 'refresh', text: 'Refresh', on: { click: () => refreshNow() } });
  const stale = h('p', { class: 'snapshot-error', id: 'devices-stale', role: 'status', hidden: true });
  const tbody = h('tbody');
  const table = h('table', { class: 'data', id: 'devices-table' },
    h('thead', null, h('tr', null,
      h('th', { class: 'dev-state', text: 'State' }), h('th', { text: 'Device' }), h('th', { text: 'Address' }), h('th', { class: 'hide-sm', text: 'Vendor' }),
      h('th', { class: 'hide-sm', text: 'First seen' }), h('th', { text: 'Last seen' }), h('th', { class: 'num', text: 'Risk' }),
      h('th', { text: 'Trusted' }))),
    tbody);
  const shown = h('span', { id: 'devices-shown' });
  tbody.appendChild(emptyRow(cols, 'Loading…'));
  const traffic = topTraffic({ range: saved.topRange, onRange: (k) => { saved.topRange = k; } });

  append(main, [
    h('div', { class: 'page-head' },
      h('div', null, h('h1', { text: 'Devices' }), headCounts),
      h('span', { class: 'spacer' }), refreshBtn),
    h('div', { class: 'toolbar' }, h('div', { class: 'grow' }, search), filter),
    stale,
    h('div', { class: 'table-wrap' }, table),
    h('div', { class: 'more-row' }, shown),
    traffic.el,
  ]);

  // ----- filter and search -----
  const listHash = () => '#/devices' + (st.filter !== 'all' ? '?filter=' + st.filter : '');
  function setFilter(f) {
    if (f === st.filter) return;
    st.filter = saved.filter = f;
    st.keep.clear();
    if (!st.detailId && location.hash !== listHash()) history.replaceState(null, '', listHash());
    for (const b of filter.children) b.setAttribute('aria-pressed', String(b.dataset.filter === f));
    render();
  }
  search.addEventListener('input', () => {
    const v = search.value.trim();
    if (v === st.q) return;
    st.q = v;
    st.keep.clear();
    render();
  });
  const emptyText = () => {
    if (!st.items.size) return 'No devices found yet. Picket looks for them on the local network every lan.interval_secs (5 min by default); `picket devices scan` looks now.';
    if (st.q) return 'No ' + (st.filter === 'all' ? '' : LABEL[st.filter].toLowerCase() + ' ') + 'device matches "' + st.q + '".';
    return { online: 'No device is online.', offline: 'Every device is online.', new: 'No device was first seen in the last 24 hours.',
      untrusted: 'Every device is trusted.' }[st.filter] || 'No devices.';
  };

  // ----- list: one answer holds every device; rows are updated in place -----
  async function load() {
    const my = ++st.token;
    try {
      const answer = await get('/api/devices');
      if (!st.alive || my !== st.token) return;
      const d = answer && typeof answer === 'object' ? answer : {};
      const items = (Array.isArray(d.items) ? d.items : []).filter((x) => x && typeof x === 'object' && x.id != null);
      const fresh = new Map(items.map((x) => [String(x.id), x]));
      if (st.loaded) for (const id of fresh.keys()) if (!st.items.has(id)) st.flash.add(id);
      st.items = fresh;
      st.loaded = true;
      stale.hidden = true;
      // The server's counts; the list's own when it gave none.
      const num = (v, fallback) => (typeof v === 'number' ? v : fallback);
      const total = num(d.total, items.length);
      counts.total.textContent = fmtCount(total);
      devicesWord.textContent = total === 1 ? ' device' : ' devices';
      counts.online.textContent = fmtCount(num(d.online, items.filter((x) => x.online).length));
      counts.new.textContent = fmtCount(num(d.new_today, items.filter((x) => isNew(x)).length));
      render();
    } catch (err) {
      if (!st.alive || my !== st.token) return;
      if (st.loaded) {
        stale.hidden = false;
        stale.textContent = 'Could not refresh (' + errorText(err) + '); showing the last list, retrying every 15 s.';
      } else {
        st.rows.clear();
        st.sigs.clear();
        clear(tbody).appendChild(h('tr', { class: 'empty-row', id: 'devices-load-error' },
          h('td', { colspan: cols, class: 'empty' }, 'Could not load the devices: ' + errorText(err))));
      }
    }
  }
  // The traffic is asked for at most every 15 s however often this runs; the button forces it.
  const refreshSoon = debounce(() => {
    load();
    traffic.refresh();
    if (st.detailId) { loadDetail(st.detailId); if (panel) panel.traffic.refresh(); }
  }, 400);
  function refreshNow() {
    load();
    traffic.refresh(true);
    if (st.detailId) { loadDetail(st.detailId); if (panel) panel.traffic.refresh(true); }
  }

  function render() {
    if (!st.loaded) return;
    const all = Array.from(st.items.values());
    for (const f of FILTERS) filterCounts[f].textContent = ' ' + fmtCount(all.filter(PASSES[f]).length);
    const list = all.filter((d) => (st.keep.has(String(d.id)) || PASSES[st.filter](d)) && matchesQuery(d, st.q)).sort(order);
    // The rows wanted, in order: each device's, and under it its refused change if any.
    const focused = document.activeElement;
    const want = [];
    for (const d of list) {
      want.push(upsertRow(d));
      const e = errorRow(String(d.id));
      if (e) want.push(e);
    }
    const keep = new Set(want);
    for (const el of Array.from(tbody.children)) if (!keep.has(el)) el.remove();
    for (const [id, tr] of st.rows) if (!keep.has(tr)) { st.rows.delete(id); st.sigs.delete(id); }
    want.forEach((tr, k) => {
      const at = tbody.children[k];
      if (at !== tr) tbody.insertBefore(tr, at || null);
    });
    // A row moved up or down loses the focus of a button in it: give it back.
    if (focused && focused !== document.activeElement && tbody.contains(focused)) focused.focus({ preventScroll: true });
    if (!list.length) tbody.appendChild(emptyRow(cols, emptyText()));
    shown.textContent = st.items.size ? 'Showing ' + fmtCount(list.length) + ' of ' + fmtCount(st.items.size) : '';
  }
  // The row of device d, made or brought up to date (only when something shown changed).
  function upsertRow(d) {
    const id = String(d.id);
    let tr = st.rows.get(id);
    if (!tr) {
      tr = h('tr', { class: 'clickable dev-row', dataset: { deviceId: id } });
      tr.addEventListener('click', (e) => { if (!e.target.closest('button, a')) openDetail(id); });
      st.rows.set(id, tr);
    }
    tr.classList.toggle('selected', st.detailId === id);
    const sig = JSON.stringify([d, isNew(d), st.busy.has(id), st.errors.get(id) || '']);
    if (st.sigs.get(id) !== sig) {
      st.sigs.set(id, sig);
      fillRow(tr, d);
    }
    if (st.flash.delete(id)) { tr.classList.remove('flash'); void tr.offsetWidth; tr.classList.add('flash'); }
    return tr;
  }
  // The line under a row saying why its change was refused (until dismissed or retried).
  function errorRow(id) {
    const msg = st.errors.get(id);
    const had = st.errorRows.get(id);
    if (!msg) { st.errorRows.delete(id); return null; }
    if (had && had.msg === msg) return had.tr;
    const tr = h('tr', { class: 'dev-error-row', dataset: { errorFor: id } },
      h('td', { colspan: cols },
        h('span', { class: 'dev-trust-error', id: 'devices-error-' + id, role: 'alert', text: msg }),
        h('button', { type: 'button', class: 'btn btn-sm btn-ghost', text: 'Dismiss', on: { click: () => dismiss(id) } })));
    if (had) had.tr.replaceWith(tr);
    st.errorRows.set(id, { tr, msg });
    return tr;
  }
  function dismiss(id) {
    st.errors.delete(id);
    render();
    const sw = st.rows.get(id) && st.rows.get(id).querySelector('button[data-trust]');
    if (sw) sw.focus({ preventScroll: true });
  }
  function fillRow(tr, d) {
    const id = String(d.id), fresh = isNew(d);
    Object.assign(tr.dataset, { state: d.online ? 'online' : 'offline', new: String(fresh), trusted: String(!!d.trusted) });
    tr.classList.toggle('dev-online', !!d.online);
    tr.classList.toggle('dev-offline', !d.online);
    tr.classList.toggle('dev-new', fresh);
    tr.classList.toggle('dev-untrusted', !d.trusted);
    tr.classList.toggle('has-error', !!st.errors.get(id));
    // The same control keeps the keyboard focus across the redraw.
    const f = document.activeElement;
    const refocus = f && tr.contains(f) ? (f.dataset.trust != null ? 'button[data-trust]' : '.dev-title') : null;
    const mac = str(d.mac);
    tr.replaceChildren(
      h('td', { class: 'dev-state' }, badges(d)),
      h('td', { class: 'cell-title dev-cell' },
        h('button', { type: 'button', class: 'linklike dev-title', text: title(d), title: title(d), 'aria-label': 'Open device ' + title(d) + ' (' + mac + ')',
          on: { click: () => openDetail(id) } }),
        h('span', { class: 'rule-id dev-mac', title: d.randomized ? 'A randomized MAC' : 'MAC address', text: mac })),
      h('td', { class: 'mono nowrap', title: d.interface != null ? 'On ' + str(d.interface) : null }, d.ip != null ? str(d.ip) : h('span', { class: 'faint', text: '—' })),
      h('td', { class: 'hide-sm cell-ellip' }, vendorCell(d)),
      h('td', { class: 'hide-sm nowrap' }, ago(d.first_seen)),
      h('td', { class: 'nowrap' }, ago(d.last_seen)),
      h('td', { class: 'num' }, riskBadge(d.risk_score)),
      h('td', { class: 'dev-trust-cell' }, trustControl(d, 'row')),
    );
    if (refocus) { const again = tr.querySelector(refocus); if (again) again.focus({ preventScroll: true }); }
  }
  // An admin's one-click switch; what a viewer sees instead is the word.
  function trustControl(d, where) {
    const id = String(d.id), on = !!d.trusted;
    if (!admin) return h('span', { class: 'dev-trust-word' + (on ? ' is-on' : ''), text: on ? 'trusted' : 'untrusted' });
    const busy = st.busy.has(id);
    const sw = h('button', { type: 'button', class: 'switch', role: 'switch', id: where === 'detail' ? 'device-trust' : null,
      'aria-checked': String(on), 'aria-busy': busy ? 'true' : null, 'aria-disabled': busy ? 'true' : null, dataset: { trust: id },
      'aria-describedby': where === 'row' && st.errors.has(id) ? 'devices-error-' + id : null,
      'aria-label': 'Trusted: ' + title(d), title: on ? 'Trusted: its changes are recorded, not alerted. Click to untrust.' : 'Click to trust this device',
      on: { click: (e) => { e.stopPropagation(); setTrust(id, !on); } } });
    // The row's column says what the switch means; the detail names its state.
    if (where === 'row') return sw;
    return h('span', { class: 'dev-trust' }, sw, h('span', { class: 'dev-trust-word' + (on ? ' is-on' : ''), 'aria-hidden': 'true', text: on ? 'trusted' : 'untrusted' }));
  }

  // ----- changes (admins) -----
  function setTrust(id, trusted) {
    const d = st.items.get(id) || (panel && panel.current && String(panel.current.id) === id ? panel.current : null);
    const name = d ? title(d) : 'device ' + id;
    return change(id, { trusted }, trusted ? 'Trusted ' + name : 'No longer trusted: ' + name);
  }
  // PATCH device id; true when the server took it. The answer is shown at once (the row,
  // the detail), the server's refusal inline (the row for trust, the detail's error line).
  async function change(id, body, message) {
    if (st.busy.has(id)) return false;
    const inDetail = () => panel && st.detailId === id ? panel : null;
    st.busy.add(id);
    st.errors.delete(id);
    let p = inDetail();
    if (p) { p.busy = true; if (p.controls) { p.controls.error(''); p.controls.update(); } }
    render();
    try {
      const d = await patch('/api/devices/' + seg(id), body);
      if (!st.alive) return true;
      st.token++; // a list answer already on its way predates this change
      if (d && d.id != null) {
        st.items.set(String(d.id), d);
        if ('trusted' in body) st.keep.add(String(d.id)); // stays shown under this filter until it changes
        p = inDetail();
        if (p && p.current) renderDetail({ ...p.current, ...d, history: p.current.history });
      }
      toast(message + '.', 'ok');
      refreshSoon();
      return true;
    } catch (err) {
      if (!st.alive) return false;
      const msg = 'Not changed: ' + errorText(err);
      if ('trusted' in body) st.errors.set(id, msg);
      p = inDetail();
      if (p && p.controls) p.controls.error(msg);
      return false;
    } finally {
      st.busy.delete(id);
      if (st.alive) {
        render();
        p = inDetail();
        if (p) { p.busy = false; if (p.controls) p.controls.update(); }
      }
    }
  }

  // ----- one device (a slide-over panel, #/devices/ID) -----
  // The controls are made once per panel and only updated afterwards: a live update never
  // replaces what a person is typing.
  let panel = null;
  function openDetail(id) {
    id = String(id);
    if (location.hash !== '#/devices/' + seg(id)) history.replaceState(null, '', '#/devices/' + seg(id));
    const reuse = panel && st.detailId === id;
    st.detailId = id;
    for (const [rid, tr] of st.rows) tr.classList.toggle('selected', rid === id);
    if (!reuse) {
      const d = st.items.get(id);
      if (panel) panel.traffic.destroy(); // replaced silently: onDetailClosed does not run
      panel = openPanel({ id: 'device-detail', title: d ? title(d) : 'Device ' + id, label: 'device details', onClose: onDetailClosed });
      panel.el.dataset.deviceId = id;
      panel.current = null;
      panel.sig = null;
      panel.busy = false;
      panel.controls = admin ? adminControls(id) : null;
      panel.content = h('div', { class: 'detail-content' }, h('p', { class: 'loading', text: 'Loading…' }));
      // Made once per panel and moved into each redraw of the content (its chart stays).
      panel.traffic = deviceTraffic(id, { range: saved.deviceRange, onRange: (k) => { saved.deviceRange = k; } });
      panel.body.append(
        panel.controls ? panel.controls.el : h('p', { class: 'notice', id: 'device-readonly', text: 'Read-only: your role cannot change devices.' }),
        panel.content);
    }
    loadDetail(id);
    panel.traffic.refresh(!reuse);
  }
  function onDetailClosed() {
    st.detailId = null;
    if (panel) panel.traffic.destroy();
    panel = null;
    for (const tr of st.rows.values()) tr.classList.remove('selected');
    if (/^#\/devices\/./.test(location.hash)) history.replaceState(null, '', listHash());
  }
  async function loadDetail(id) {
    const p = panel;
    try {
      const d = await get('/api/devices/' + seg(id));
      if (!st.alive || panel !== p || st.detailId !== id || !d) return;
      renderDetail(d);
    } catch (err) {
      if (!st.alive || panel !== p || st.detailId !== id) return;
      if (!p.current) clear(p.content).appendChild(h('div', { class: 'error-box', id: 'device-load-error', text: 'Could not load device ' + id + ': ' + errorText(err) }));
      else if (p.controls) p.controls.error('Could not refresh: ' + errorText(err));
    }
  }

  function adminControls(id) {
    const trustSlot = h('span', { class: 'dev-trust-slot' });
    const name = h('input', { type: 'text', id: 'device-name', maxlength: String(MAX_NAME), autocomplete: 'off', spellcheck: 'false',
      placeholder: 'e.g. Reception printer (empty: no name)', 'aria-describedby': 'device-error' });
    const nameSave = h('button', { type: 'submit', id: 'device-name-save', class: 'btn btn-sm', text: 'Save name', disabled: true });
    const risk = h('input', { type: 'number', id: 'device-risk', class: 'dev-risk-input', min: '0', max: '100', step: '1', inputmode: 'numeric', 'aria-describedby': 'device-error' });
    const riskSave = h('button', { type: 'submit', id: 'device-risk-save', class: 'btn btn-sm', text: 'Set risk', disabled: true });
    const err = h('p', { id: 'device-error', class: 'inc-error', role: 'alert', hidden: true });
    // What the server holds; an input differing from it has been edited and is left alone.
    const synced = { name: null, risk: null };
    const cur = () => panel && panel.current;
    function error(msg) { err.textContent = msg; err.hidden = !msg; }
    function update() {
      const d = cur(), busy = !d || (panel && panel.busy);
      nameSave.disabled = busy || name.value.trim() === str(d && d.name);
      riskSave.disabled = busy || risk.value.trim() === '' || risk.value.trim() === str(d && d.risk_score);
      name.readOnly = risk.readOnly = !!busy && !!d;
    }
    // Brings the inputs to the device's values unless a person changed them.
    function sync(d) {
      const n = str(d.name), r = str(d.risk_score);
      if (synced.name === null || (name.value.trim() === synced.name && document.activeElement !== name)) name.value = n;
      if (synced.risk === null || (risk.value.trim() === synced.risk && document.activeElement !== risk)) risk.value = r;
      synced.name = n;
      synced.risk = r;
      const had = document.activeElement && trustSlot.contains(document.activeElement);
      trustSlot.replaceChildren(trustControl(d, 'detail'));
      if (had) { const sw = trustSlot.querySelector('button'); if (sw) sw.focus({ preventScroll: true }); }
      update();
    }
    for (const el of [name, risk]) el.addEventListener('input', () => { update(); if (!err.hidden) error(''); });
    const saveName = async (e) => {
      e.preventDefault();
      const v = name.value.trim();
      if (!cur() || v === str(cur().name)) return;
      if (await change(id, { name: v }, v ? 'Named ' + v : 'Name cleared')) { name.value = v; synced.name = v; update(); }
    };
    const saveRisk = async (e) => {
      e.preventDefault();
      const v = risk.value.trim();
      if (!cur()) return;
      if (!/^\d+$/.test(v)) { error('Risk: enter a whole number from 0 to 100.'); risk.focus(); return; }
      // The range is the server's to check: its message is shown here when it refuses.
      if (await change(id, { risk_score: Number(v) }, 'Risk set to ' + Number(v))) { risk.value = String(Number(v)); synced.risk = risk.value; update(); }
    };
    const el = h('div', { class: 'inc-actions dev-actions', id: 'device-actions' },
      h('div', { class: 'dev-control' }, h('span', { class: 'dev-control-label', id: 'device-trust-label', text: 'Trusted' }), trustSlot,
        h('span', { class: 'faint dev-hint', text: 'A trusted device\'s changes are recorded but raise no alerts.' })),
      h('form', { class: 'dev-control', novalidate: true, on: { submit: saveName } },
        h('label', { class: 'dev-control-label', for: 'device-name', text: 'Name' }), name, nameSave),
      h('form', { class: 'dev-control', novalidate: true, on: { submit: saveRisk } },
        h('label', { class: 'dev-control-label', for: 'device-risk', text: 'Risk (0–100)' }), risk, riskSave),
      err);
    return { el, update, error, sync };
  }

  function renderDetail(d) {
    if (!panel || st.detailId !== String(d.id)) return;
    const p = panel, id = String(d.id);
    p.current = d;
    Object.assign(p.el.dataset, { deviceId: id, state: d.online ? 'online' : 'offline', trusted: String(!!d.trusted) });
    // The list follows what the detail learnt.
    if (st.items.has(id)) {
      const { history: _h, ...dev } = d;
      if (JSON.stringify(st.items.get(id)) !== JSON.stringify(dev)) { st.items.set(id, dev); render(); }
    }
    if (p.controls) p.controls.sync(d);
    const sig = JSON.stringify([d, isNew(d)]);
    if (p.sig === sig) return; // unchanged: keep the elements
    p.sig = sig;
    p.heading.textContent = title(d);
    const top = p.body.scrollTop;
    const ip = d.ip != null ? h('span', null, h('span', { class: 'mono', text: str(d.ip) }), ' ',
      h('a', { href: '#/events?src_ip=' + encodeURIComponent(str(d.ip)), class: 'inc-related', text: 'events →' })) : null;
    const fields = fieldList([
      ['State', badges(d)],
      ['Name', text(d.name) ? h('span', { id: 'device-name-text', text: d.name }) : h('span', { id: 'device-name-text', class: 'faint', text: 'not named' })],
      ['Hostname', text(d.hostname) ? h('span', null, h('span', { class: 'mono', text: str(d.hostname) }),
        Object.hasOwn(SOURCES, str(d.hostname_source)) ? h('span', { class: 'faint', text: ' · ' + SOURCES[d.hostname_source] }) : null) : null],
      ['Vendor', vendorCell(d)],
      ['MAC', h('span', null, h('span', { class: 'mono', text: str(d.mac) }), d.randomized ? h('span', { class: 'faint', text: ' · locally administered (randomized)' }) : null)],
      ['Address', ip],
      ['Interface', d.interface != null ? str(d.interface) : null, 'mono'],
      ['Trusted', d.trusted ? 'yes' : 'no'],
      ['Risk', h('span', { id: 'device-risk-text' }, riskBadge(d.risk_score), ' of 100')],
      ['First seen', h('span', null, timeEl(d.first_seen), ' (', ago(d.first_seen), ')')],
      ['Last seen', h('span', null, timeEl(d.last_seen), ' (', ago(d.last_seen), ')')],
      ['Device id', id, 'mono'],
    ]);
    fields.id = 'device-fields';
    const hist = (Array.isArray(d.history) ? d.history : []).filter((e) => e && typeof e === 'object');
    const focused = document.activeElement;
    p.content.replaceChildren(
      fields,
      h('h3', { class: 'section-title', text: 'History (' + hist.length + (hist.length >= 500 ? ', the latest' : '') + ')' }),
      hist.length ? h('ol', { id: 'device-history', class: 'inc-timeline dev-history' }, hist.map(historyItem))
        : h('p', { class: 'muted', id: 'device-history-empty', text: 'Nothing recorded yet.' }),
      p.traffic.el,
    );
    // Moving the traffic section drops the focus of its range buttons or chart: give it back.
    if (focused && focused !== document.activeElement && p.traffic.el.contains(focused)) focused.focus({ preventScroll: true });
    p.body.scrollTop = top;
  }
  function historyItem(e) {
    const kind = str(e.kind);
    const [label, icon] = KINDS[kind] || [kind || 'Entry', 'flag'];
    return h('li', { dataset: { kind } },
      h('span', { class: 'tl-icon', 'data-icon': icon, 'aria-hidden': 'true' }),
      h('div', { class: 'tl-main' },
        h('div', { class: 'tl-head' }, h('span', { class: 'tl-kind', title: kind, text: label }), h('span', { class: 'tl-time' }, timeEl(e.ts, true))),
        h('span', { class: 'tl-text', text: str(e.detail) })));
  }

  // ----- live -----
  const offs = [
    stream.on('alert', (a) => { if (isLanAlert(a)) refreshSoon(); }),
    stream.on('event', (e) => { if (isLanEvent(e)) refreshSoon(); }),
    stream.on('lagged', () => refreshSoon()),
    poll(() => refreshSoon(), REFRESH_MS),
  ];
  const tick = setInterval(() => {
    for (const t of document.querySelectorAll('#devices-table time.rel, #device-detail time.rel')) t.textContent = fmtRel(t.dataset.ts);
    render(); // a device stops being new after 24 h
  }, 30000);

  load();
  traffic.refresh(true);
  if (ctx.params[0]) openDetail(ctx.params[0]);

  return {
    update(nctx) {
      if (nctx.params[0]) { openDetail(nctx.params[0]); return true; }
      if (st.detailId) closePanel('device-detail');
      const f = nctx.query.get('filter');
      if (FILTERS.includes(f) && f !== st.filter) setFilter(f);
      return true;
    },
    unmount() {
      st.alive = false;
      st.token++;
      refreshSoon.cancel();
      clearInterval(tick);
      offs.forEach((f) => f());
      traffic.destroy();
      if (panel) panel.traffic.destroy();
      closePanel('device-detail', true);
    },
  };
}
