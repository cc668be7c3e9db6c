// Traffic per address for the Devices page: what the counts are (the traffic reader's
// status: traffic this host routes, per LAN device, or only its own, per remote), the
// addresses that moved the most bytes (GET /api/traffic) and one device's series and
// totals (GET /api/traffic/devices/{id}), each with a 1 h / 24 h / 7 d switch. It owns no
// route and no poll: page-devices.js places the pieces and calls refresh(), which asks
// the server at most every 15 s unless forced. Names, hostnames and vendors come from
// people, DNS and the network: text only.
import { get, seg, errorText } from './api.js';
import { h, emptyRow, fmtBytes, fmtCount, fmtRel, fmtTime, parseTs } from './dom.js';
import { lineChart, fmtUnit, SERIES_COLORS } from './charts.js';

export const RANGES = [
  { key: '1h', label: '1 h', text: 'hour', s: 3600 },
  { key: '24h', label: '24 h', text: '24 hours', s: 86400 },
  { key: '7d', label: '7 d', text: '7 days', s: 7 * 86400 },
];
const range = (key) => RANGES.find((r) => r.key === key) || RANGES[0];
const REFETCH_MS = 14000; // the page polls every 15 s; a refresh asked sooner is dropped
const TOP_LIMIT = 20;
const OFF_TEXT = 'Traffic accounting is off (traffic.interval_secs: 0) or has not read yet: nothing is counted.';
const str = (v) => (v == null ? '' : String(v));
const text = (v) => (typeof v === 'string' && v.trim() !== '' ? v : null);
const num = (v) => (typeof v === 'number' && isFinite(v) ? v : 0);
// What the Devices list calls it: its name, else its DNS name, else its maker, else what
// its MAC says (a locally administered one is randomized).
const randomized = (mac) => /^[0-9a-f]{2}/i.test(str(mac)) && (parseInt(str(mac).slice(0, 2), 16) & 2) === 2;
const deviceTitle = (d) => text(d.name) ?? text(d.hostname) ?? text(d.vendor) ?? (randomized(d.mac) ? 'Randomized MAC' : 'Unknown device');

// What the counts are, in words: {view: forwarded|host|off, source, text, note}.
export function describe(status) {
  const s = status && typeof status === 'object' ? status : null;
  if (!s || (s.view !== 'forwarded' && s.view !== 'host')) return { view: 'off', source: '', text: OFF_TEXT, note: '' };
  const source = str(s.source), tcp = source === 'sockets';
  const words = s.view === 'forwarded'
    ? 'This host routes traffic: bytes and packets per LAN device (connection tracking).'
    : (s.forwarding === true
      ? 'This host routes traffic, but without connection tracking only its own traffic is counted: each address\'s traffic with this host'
      : 'This host does not route traffic: only each address\'s traffic with this host is counted')
      + (tcp ? '. Only TCP connections are counted.' : ' (connection tracking).');
  return { view: s.view, source, text: words, note: str(s.note) };
}
// Fills a statement element (a p.notice) with describe(status) and when it was read.
function showMode(el, status) {
  const m = describe(status);
  Object.assign(el.dataset, { view: m.view, source: m.source });
  const updated = status && parseTs(status.updated);
  const every = status && num(status.interval_secs) > 0 ? 'read every ' + status.interval_secs + ' s' : '';
  const when = updated ? [every ? every + ', last ' : 'last read ', h('time', { datetime: str(status.updated), title: fmtTime(status.updated), text: fmtRel(status.updated) })] : every;
  const sig = JSON.stringify([m, every, updated ? fmtRel(status.updated) : '']);
  if (el.dataset.sig === sig) return;
  el.dataset.sig = sig;
  const detail = m.note || when ? h('span', { class: 'traffic-note' }, m.note, m.note && when ? ' · ' : null, when) : null;
  el.replaceChildren(h('b', { text: m.text }), detail);
}
function modeEl(id) {
  return h('p', { class: 'notice traffic-mode', id, 'aria-live': 'polite', text: 'Loading…' });
}
// The 1 h / 24 h / 7 d buttons.
function rangeSwitch(id, key, pick) {
  const el = h('div', { class: 'seg', id, role: 'group', 'aria-label': 'Traffic over the last' },
    RANGES.map((r) => h('button', { type: 'button', text: r.label, title: 'The last ' + r.text, dataset: { range: r.key },
      'aria-pressed': String(r.key === key), on: { click: () => pick(r.key) } })));
  return { el, set: (k) => { for (const b of el.children) b.setAttribute('aria-pressed', String(b.dataset.range === k)); } };
}
// One request at a time per piece; a newer one wins, an older answer is dropped.
function fetcher(ask, show, fail) {
  let last = 0, token = 0, alive = true;
  return {
    async refresh(force) {
      if (!alive || (!force && Date.now() - last < REFETCH_MS)) return;
      last = Date.now();
      const my = ++token;
      try {
        const d = await ask();
        if (alive && my === token) show(d && typeof d === 'object' ? d : {});
      } catch (err) {
        if (alive && my === token) fail(err);
      }
    },
    stop() { alive = false; token++; },
  };
}

// ---------- the busiest addresses (the list page) ----------
// onRange(key) is told the range picked (the page keeps it while loaded).
export function topTraffic({ range: key, onRange }) {
  let r = range(key), sig = '';
  const cols = 6;
  const mode = modeEl('traffic-mode');
  const error = h('p', { class: 'snapshot-error', id: 'traffic-error', role: 'status', hidden: true });
  const tbody = h('tbody', null, emptyRow(cols, 'Loading…'));
  const shown = h('span', { id: 'traffic-shown' });
  const overview = h('a', { id: 'traffic-overview-link', href: '#/overview?range=' + r.key, text: 'Per-interface throughput: Overview → Network' });
  const sw = rangeSwitch('traffic-range', r.key, (k) => {
    if (k === r.key) return;
    r = range(k);
    sw.set(k);
    overview.href = '#/overview?range=' + k;
    if (onRange) onRange(k);
    f.refresh(true);
  });
  const th = (label, cls, title) => h('th', { class: cls || null, title: title || null, text: label });
  const el = h('section', { class: 'traffic-top', id: 'traffic-top', 'aria-labelledby': 'traffic-h' },
    h('div', { class: 'card-head traffic-top-head' }, h('h2', { id: 'traffic-h', text: 'Traffic' }),
      h('span', { class: 'faint', id: 'traffic-what', text: 'the busiest addresses' }), h('span', { class: 'spacer' }), sw.el),
    mode, error,
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'traffic-table' },
      h('thead', null, h('tr', null,
        th('Address'), th('Scope', 'hide-sm'), th('Received', 'num', 'What this address received'), th('Sent', 'num', 'What this address sent'),
        th('Packets', 'num hide-sm', 'Received and sent'), th('Connections', 'num', 'Connections begun in the span'))),
      tbody)),
    h('div', { class: 'more-row traffic-foot' }, shown, overview));

  const f = fetcher(() => get('/api/traffic', { since: r.key, limit: TOP_LIMIT }), show, (err) => {
    error.hidden = false;
    error.textContent = 'Could not load the traffic (' + errorText(err) + ')' + (sig ? '; showing the last answer.' : '.');
    if (!sig) tbody.replaceChildren(emptyRow(cols, 'No traffic to show.'));
  });
  function show(d) {
    error.hidden = true;
    showMode(mode, d.status);
    const peers = (Array.isArray(d.peers) ? d.peers : []).filter((p) => p && typeof p === 'object' && p.addr != null);
    const next = JSON.stringify([r.key, describe(d.status).view, peers]);
    if (next === sig) return;
    sig = next;
    const focused = document.activeElement && tbody.contains(document.activeElement) ? document.activeElement.getAttribute('href') : null;
    tbody.replaceChildren(...peers.map(row));
    if (!peers.length) {
      tbody.appendChild(emptyRow(cols, describe(d.status).view === 'off' ? OFF_TEXT : 'No traffic counted in the last ' + r.text + '.'));
    }
    shown.textContent = peers.length ? (peers.length >= TOP_LIMIT ? 'The ' + TOP_LIMIT + ' busiest' : fmtCount(peers.length))
      + (peers.length === 1 ? ' address' : ' addresses') + ', most bytes first, over the last ' + r.text : '';
    if (focused) { const a = tbody.querySelector('a[href="' + CSS.escape(focused) + '"]'); if (a) a.focus({ preventScroll: true }); }
  }
  function row(p) {
    const dev = p.device && typeof p.device === 'object' && p.device.id != null ? p.device : null;
    const addr = str(p.addr), scope = str(p.scope);
    let who;
    if (dev) {
      const name = deviceTitle(dev);
      const more = [dev.hostname, dev.vendor].map(text).filter((v) => v && v !== name);
      who = h('span', { class: 'traffic-who' }, h('span', { class: 'traffic-dev-name', text: name }), more.length ? h('span', { class: 'faint', text: ' · ' + more.join(' · ') }) : null);
    } else {
      who = h('span', { class: 'traffic-who faint', text: scope === 'forwarded' ? 'not a known device' : 'not a LAN device' });
    }
    const label = dev ? 'Open device ' + deviceTitle(dev) + ' (' + addr + ')' : null;
    const packets = num(p.rx_packets) + num(p.tx_packets);
    return h('tr', { dataset: { addr, scope, deviceId: dev ? dev.id : null } },
      h('td', { class: 'cell-title traffic-peer' },
        dev ? h('a', { class: 'mono traffic-addr', href: '#/devices/' + seg(dev.id), 'aria-label': label, title: label, text: addr })
          : h('span', { class: 'mono traffic-addr', text: addr }),
        who),
      h('td', { class: 'hide-sm nowrap' }, scope === 'forwarded' ? h('span', { title: 'A LAN device whose traffic this host routes', text: 'routed' })
        : scope === 'host' ? h('span', { title: 'Its traffic with this host', text: 'with this host' }) : scope),
      h('td', { class: 'num nowrap', dataset: { k: 'rx' }, title: fmtCount(num(p.rx_bytes)) + ' bytes', text: fmtBytes(num(p.rx_bytes)) }),
      h('td', { class: 'num nowrap', dataset: { k: 'tx' }, title: fmtCount(num(p.tx_bytes)) + ' bytes', text: fmtBytes(num(p.tx_bytes)) }),
      h('td', { class: 'num nowrap hide-sm', dataset: { k: 'packets' }, title: fmtCount(num(p.rx_packets)) + ' received · ' + fmtCount(num(p.tx_packets)) + ' sent', text: fmtCount(packets) }),
      h('td', { class: 'num nowrap', dataset: { k: 'connections' }, text: fmtCount(num(p.connections)) }));
  }
  return { el, refresh: (force) => f.refresh(force), destroy: () => f.stop() };
}

// ---------- one device (its detail panel) ----------
export function deviceTraffic(id, { range: key, onRange }) {
  let r = range(key), shownKey = '';
  const mode = modeEl('device-traffic-mode');
  const error = h('p', { class: 'snapshot-error', id: 'device-traffic-error', role: 'status', hidden: true });
  const total = (k, label, hint) => h('div', { class: 'traffic-total', title: hint },
    h('span', { class: 'traffic-total-label', text: label }), h('b', { dataset: { total: k }, text: '…' }));
  const totals = h('div', { class: 'traffic-totals', id: 'device-traffic-totals' },
    total('tx_bytes', 'Sent', 'What the device sent'), total('rx_bytes', 'Received', 'What the device received'),
    total('packets', 'Packets', 'Received and sent'), total('connections', 'Connections', 'Connections begun in the span'));
  const legend = h('div', { class: 'legend lc-legend', 'aria-hidden': 'true' });
  const box = h('div', { class: 'chart-box traffic-chart', id: 'device-traffic-chart' });
  const empty = h('p', { class: 'muted traffic-empty', id: 'device-traffic-empty', hidden: true });
  const addrs = h('p', { class: 'faint traffic-addrs', id: 'device-traffic-addrs' });
  const sw = rangeSwitch('device-traffic-range', r.key, (k) => {
    if (k === r.key) return;
    r = range(k);
    sw.set(k);
    if (onRange) onRange(k);
    f.refresh(true);
  });
  const el = h('section', { id: 'device-traffic', class: 'traffic-device', 'aria-labelledby': 'device-traffic-h' },
    h('div', { class: 'traffic-head' }, h('h3', { class: 'section-title', id: 'device-traffic-h', text: 'Traffic' }), h('span', { class: 'spacer' }), sw.el),
    mode, error, totals, legend, box, empty, addrs);
  const chart = lineChart(box, { unit: 'bps', label: 'Traffic of this device', legend });

  const f = fetcher(() => get('/api/traffic/devices/' + seg(id), { since: r.key }), show, (err) => {
    error.hidden = false;
    error.textContent = 'Could not load the traffic (' + errorText(err) + ')' + (shownKey ? '; showing the last answer.' : '.');
  });
  function show(d) {
    error.hidden = true;
    shownKey = r.key;
    showMode(mode, d.status);
    const t = d.totals && typeof d.totals === 'object' ? d.totals : {};
    const set = (k, v, title) => { const b = totals.querySelector('[data-total="' + k + '"]'); b.textContent = v; b.title = title || ''; };
    set('tx_bytes', fmtBytes(num(t.tx_bytes)), fmtCount(num(t.tx_bytes)) + ' bytes');
    set('rx_bytes', fmtBytes(num(t.rx_bytes)), fmtCount(num(t.rx_bytes)) + ' bytes');
    set('packets', fmtCount(num(t.rx_packets) + num(t.tx_packets)), fmtCount(num(t.rx_packets)) + ' received · ' + fmtCount(num(t.tx_packets)) + ' sent');
    set('connections', fmtCount(num(t.connections)));
    const list = (Array.isArray(d.addresses) ? d.addresses : []).map(str).filter(Boolean);
    addrs.textContent = list.length ? 'Counted under ' + list.join(', ') + ' (its current addresses; traffic under an address it had before is not included).'
      : 'This device has no known address: nothing can be counted for it.';
    const points = (Array.isArray(d.points) ? d.points : []).filter((p) => p && typeof p === 'object' && parseTs(p.ts));
    const off = describe(d.status).view === 'off';
    empty.hidden = points.length > 0;
    box.hidden = legend.hidden = !points.length;
    if (!points.length) {
      empty.textContent = off && list.length ? OFF_TEXT : list.length ? 'No traffic counted for this device in the last ' + r.text + '.' : 'No traffic to show.';
      chart.set(null);
      return;
    }
    chart.set(chartData(d, points));
  }
  // Bytes per second per bucket, received and sent; a bucket the server left out moved
  // nothing, so it is drawn as zero from `since` to now.
  function chartData(d, points) {
    const res = num(d.resolution_s) > 0 ? d.resolution_s : 60, step = res * 1000;
    const since = parseTs(d.since) ? parseTs(d.since).getTime() : Date.now() - r.s * 1000;
    const from = Math.floor(since / step) * step, to = since + r.s * 1000; // the server's now
    const at = new Map(points.map((p) => [Math.floor(parseTs(p.ts).getTime() / step) * step, p]));
    const last = Math.max(to, ...at.keys());
    const times = [], rows = [];
    for (let t = from; t <= last; t += step) { times.push(t); rows.push(at.get(t) || null); }
    const bytes = (k) => rows.map((p) => (p ? num(p[k]) : 0));
    const rx = bytes('rx_bytes'), tx = bytes('tx_bytes');
    const C = SERIES_COLORS;
    const per = res >= 3600 ? 'hourly average' : res >= 60 ? '1-minute average' : res + ' s average';
    const peak = Math.max(...rx, ...tx) / res;
    const sum = (v) => v.reduce((a, b) => a + b, 0);
    return {
      from, to: last, times,
      series: [
        { label: 'received', color: C[0], vals: rx.map((b) => b / res), fmt: (v, i) => fmtUnit(v, 'bps') + ' · ' + fmtBytes(rx[i]) },
        { label: 'sent', color: C[1], dash: true, vals: tx.map((b) => b / res), fmt: (v, i) => fmtUnit(v, 'bps') + ' · ' + fmtBytes(tx[i]) },
      ],
      extra: (i) => [rows[i] ? fmtCount(num(rows[i].rx_packets) + num(rows[i].tx_packets)) + ' packets · ' + fmtCount(num(rows[i].connections)) + ' connections' : 'nothing counted'],
      timeText: (t) => fmtTime(t).slice(0, 16) + ' · ' + per,
      summary: 'Traffic of this device over the last ' + r.text + ': received ' + fmtBytes(sum(rx)) + ', sent ' + fmtBytes(sum(tx)) + ', peak ' + fmtUnit(peak, 'bps') + ' (' + per + 's)',
    };
  }
  return {
    el,
    refresh: (force) => f.refresh(force),
    destroy() { f.stop(); chart.destroy(); },
  };
}
