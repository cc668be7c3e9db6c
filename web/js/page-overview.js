// Overview: metric cards, activity timeline, live alert feed, and the host's metrics
// history (CPU, load, memory, disks, disk I/O, network) over a range kept in the hash
// (#/overview?range=24h). Series names come from the host (mounts, interfaces): text only.
import { get, seg, errorText } from './api.js';
import { h, append, clear, setMeasured, fmtCount, fmtPct, fmtBytes, fmtRel, fmtTime, parseTs, sevBadge, statusBadge, groupPills, throttle, poll, NOT_MEASURED } from './dom.js';
import { timelineChart, lineChart, fmtUnit, SERIES_COLORS } from './charts.js';
import { isLanAlert, isLanEvent } from './lan.js';
import * as stream from './stream.js';

const RANGES = [
  { key: '6h', label: '6 h', ms: 6 * 3600e3, bucket: 300 },
  { key: '24h', label: '24 h', ms: 24 * 3600e3, bucket: 900 },
  { key: '7d', label: '7 d', ms: 7 * 86400e3, bucket: 3600 },
];
const FEED_MAX = 30;
let rangeKey = '24h';

// Host history ranges: `points` gives round point widths (10 s, 5 min, 30 min, 2 h, 1 day);
// `every` is the refresh period (0: on demand, the Refresh button).
const HOST_RANGES = [
  { key: '1h', label: '1 h', since: '1h', s: 3600, points: 360, every: 10e3 },
  { key: '24h', label: '24 h', since: '24h', s: 86400, points: 288, every: 60e3 },
  { key: '7d', label: '7 d', since: '7d', s: 7 * 86400, points: 336, every: 0 },
  { key: '30d', label: '30 d', since: '30d', s: 30 * 86400, points: 360, every: 0 },
  { key: '1y', label: '1 y', since: '365d', s: 365 * 86400, points: 365, every: 0 },
];
const hostSaved = { range: '1h', loopback: false };
const MAX_DEVICES = 5; // disk I/O and network draw the busiest few; the rest are named
const hostRange = (key) => HOST_RANGES.find((r) => r.key === key) || HOST_RANGES[0];
// The URL wins when it names a range; a bare #/overview keeps the last one.
const rangeFromQuery = (q) => (q && q.get('range') ? hostRange(q.get('range')).key : hostSaved.range);
// 300 → "5 min"; with words, a single unit is named ("hour", "day").
const fmtSpan = (s, words) => {
  const [n, unit, word] = s >= 86400 ? [s / 86400, ' d', 'day'] : s >= 3600 ? [s / 3600, ' h', 'hour'] : s >= 60 ? [s / 60, ' min', 'minute'] : [s, ' s', 'second'];
  return words && n === 1 ? word : +n.toFixed(1) + unit;
};
// What one stored value is ("10 s samples", "1-minute averages", "hourly averages"), and
// what one drawn point is when that is coarser.
function resolutionText(res, range, sampleS) {
  const tier = res >= 3600 ? 'hourly averages' : res >= 60 ? '1-minute averages' : (sampleS > 0 ? sampleS : 10) + ' s samples';
  const step = Math.max(range.s / range.points, res);
  const text = tier.charAt(0).toUpperCase() + tier.slice(1);
  return step > Math.max(res, sampleS || 10) * 1.5 ? text + ' · one point per ' + fmtSpan(step, true) : text;
}

export function mount(main, ctx) {
  const cleanups = [];
  const card = (label, id, tone, href, sub) => {
    const value = h('div', { class: 'm-value', id, text: '…' });
    const kids = [h('div', { class: 'm-label', text: label }), value, sub ? h('div', { class: 'm-sub' }, sub) : null];
    const el = href ? h('a', { class: 'metric', href }, kids) : h('div', { class: 'metric' }, kids);
    if (tone) el.style.setProperty('--tone', tone);
    return { el, value };
  };
  const devicesNew = h('span', { id: 'ov-devices-new', text: '…' });
  const cards = {
    events_today: card('Events today', 'ov-events-today', 'var(--accent)', '#/events?since=' + encodeURIComponent('24h')),
    alerts_open: card('Open alerts', 'ov-open-alerts', 'var(--sev-high)', '#/alerts'),
    alerts_new_today: card('New alerts today', 'ov-new-alerts', 'var(--sev-medium)', '#/alerts'),
    incidents_active: card('Active incidents', 'ov-active-incidents', 'var(--sev-critical)', '#/incidents'),
    events_total: card('Events stored', 'ov-events-total', 'var(--events)'),
    devices: card('Devices', 'ov-devices', 'var(--st-acknowledged)', '#/devices', [devicesNew, ' new today']),
    security_score: card('Security score', 'ov-score', 'var(--ok)', null, 'out of 100'),
  };

  // timeline
  const rangeSeg = h('div', { class: 'seg', role: 'group', 'aria-label': 'Time range' });
  const tlBox = h('div', { class: 'chart-box' });
  const tlError = h('p', { class: 'muted', hidden: true });
  const legend = h('div', { class: 'legend', 'aria-hidden': 'true' },
    h('span', null, h('i', { class: 'events' }), 'events'),
    ['low', 'medium', 'high', 'critical'].map((s) => h('span', null, h('span', { class: 'sev sev-' + s }), s + ' alerts')));
  // feed
  const feed = h('ul', { id: 'live-feed', 'aria-live': 'polite', 'aria-label': 'Latest alerts' });
  const feedEmpty = h('p', { class: 'empty', text: 'No alerts yet. New ones appear here as they are raised.', hidden: true });
  // host
  const hostSec = hostSection(ctx && ctx.query);

  append(main, [
    h('div', { class: 'page-head' },
      h('div', null, h('h1', { text: 'Overview' }), h('p', { class: 'page-sub', text: 'Security activity on this host' })),
      h('span', { class: 'spacer' })),
    h('section', { class: 'metric-grid', 'aria-label': 'Key figures' }, Object.values(cards).map((c) => c.el)),
    h('div', { class: 'ov-grid' },
      h('section', { class: 'card card-fill', 'aria-labelledby': 'tl-h' },
        h('div', { class: 'card-head' }, h('h2', { id: 'tl-h', text: 'Activity' }), h('span', { class: 'spacer' }), rangeSeg),
        tlBox, tlError, h('div', { class: 'card-head' }, legend)),
      h('section', { class: 'card', 'aria-labelledby': 'feed-h' },
        h('div', { class: 'card-head' }, h('h2', { id: 'feed-h', text: 'Live alerts' }), h('span', { class: 'spacer' }),
          h('a', { href: '#/alerts', class: 'btn btn-sm btn-ghost', text: 'All alerts' })),
        feed, feedEmpty),
      hostSec.el),
  ]);

  const timeline = timelineChart(tlBox);
  hostSec.start();
  cleanups.push(() => timeline.destroy(), () => hostSec.stop());

  for (const r of RANGES) {
    rangeSeg.appendChild(h('button', { type: 'button', text: r.label, 'aria-pressed': String(r.key === rangeKey), dataset: { range: r.key },
      on: { click: () => { rangeKey = r.key; for (const b of rangeSeg.children) b.setAttribute('aria-pressed', String(b.dataset.range === r.key)); loadTimeline(); } } }));
  }

  let alive = true;
  async function loadTimeline() {
    const r = RANGES.find((x) => x.key === rangeKey) || RANGES[1];
    try {
      const t = await get('/api/timeline', { since: new Date(Date.now() - r.ms).toISOString(), bucket: r.bucket });
      if (!alive) return;
      tlError.hidden = true;
      timeline.set(t);
    } catch (err) {
      if (!alive) return;
      tlError.hidden = false;
      tlError.textContent = 'Timeline unavailable: ' + errorText(err);
    }
  }

  function applyMetrics(m) {
    if (!m || typeof m !== 'object') return;
    for (const k of ['events_today', 'alerts_open', 'alerts_new_today', 'events_total', 'security_score']) {
      if (k === 'alerts_open' && Date.now() - countsAt < 7000) continue; // a fresher count came from /api/alerts/counts
      setMeasured(cards[k].value, m[k]);
    }
    hostSec.live(m);
  }

  function feedItem(a) {
    const li = h('li', { dataset: { alertId: a.id } },
      h('a', { class: 'feed-item', href: '#/alerts/' + seg(a.id) },
        sevBadge(a.severity),
        h('span', { class: 'feed-title', text: a.title ?? a.rule ?? 'alert', title: String(a.title ?? '') }),
        h('span', { class: 'feed-time', dataset: { ts: a.last_seen ?? a.first_seen ?? '' }, text: fmtRel(a.last_seen ?? a.first_seen), title: String(a.last_seen ?? '') }),
        h('span', { class: 'feed-meta' }, statusBadge(a.status), groupPills(a.group),
          a.count > 1 ? h('span', { class: 'count-badge', title: 'events counted', text: '×' + fmtCount(a.count) }) : null)));
    return li;
  }
  function upsert(a, flash) {
    if (!a || a.id == null) return;
    const old = feed.querySelector('li[data-alert-id="' + CSS.escape(String(a.id)) + '"]');
    if (old) old.remove();
    const li = feedItem(a);
    if (flash) li.classList.add('flash');
    feed.prepend(li);
    while (feed.children.length > FEED_MAX) feed.lastChild.remove();
    feedEmpty.hidden = true;
  }
  async function loadFeed() {
    try {
      const list = await get('/api/alerts', { limit: 15 });
      if (!alive) return;
      clear(feed);
      const items = Array.isArray(list && list.items) ? list.items : [];
      for (const a of items.slice().reverse()) upsert(a, false);
      feedEmpty.hidden = items.length > 0;
    } catch (err) {
      if (!alive) return;
      feedEmpty.hidden = false;
      feedEmpty.textContent = 'Alerts unavailable: ' + errorText(err);
    }
  }

  // Active incidents: /api/incidents/counts, again whenever the stream says incidents changed.
  async function loadIncidents() {
    try {
      const c = await get('/api/incidents/counts');
      if (alive) setMeasured(cards.incidents_active.value, c && typeof c.active === 'number' ? c.active : null);
    } catch (_) {
      if (alive) cards.incidents_active.value.textContent = '—';
    }
  }
  const loadIncidentsSoon = throttle(loadIncidents, 1000);

  // Devices on the LAN and how many are new today: /api/devices, again on LAN news from
  // the stream and with the timeline's minute.
  async function loadDevices() {
    try {
      const d = await get('/api/devices');
      if (!alive) return;
      setMeasured(cards.devices.value, d && typeof d.total === 'number' ? d.total : null);
      devicesNew.textContent = d && typeof d.new_today === 'number' ? fmtCount(d.new_today) : '—';
    } catch (_) {
      if (alive) { cards.devices.value.textContent = '—'; devicesNew.textContent = '—'; }
    }
  }
  const loadDevicesSoon = throttle(loadDevices, 1000);

  let countsAt = 0;
  const reloadTimelineSoon = throttle(loadTimeline, 5000);
  cleanups.push(
    stream.on('metrics', applyMetrics),
    stream.on('counts', (c) => {
      if (!c || typeof c.open !== 'number') return;
      countsAt = Date.now();
      setMeasured(cards.alerts_open.value, c.open);
    }),
    stream.on('lagged', () => { loadFeed(); reloadTimelineSoon(); loadIncidentsSoon(); loadDevicesSoon(); }),
    stream.on('incidents', () => loadIncidentsSoon()),
    stream.on('alert', (a) => { upsert(a, true); reloadTimelineSoon(); if (isLanAlert(a)) loadDevicesSoon(); }),
    stream.on('event', (e) => { if (isLanEvent(e)) loadDevicesSoon(); }),
    stream.on('alert_status', (s) => {
      if (!s || s.id == null) return;
      const li = feed.querySelector('li[data-alert-id="' + CSS.escape(String(s.id)) + '"] .status');
      if (li) li.replaceWith(statusBadge(s.status));
    }),
    () => reloadTimelineSoon.cancel(),
    () => loadIncidentsSoon.cancel(),
    () => loadDevicesSoon.cancel(),
  );
  const tick = setInterval(() => {
    for (const t of feed.querySelectorAll('.feed-time')) t.textContent = fmtRel(t.dataset.ts);
  }, 30000);
  const tlTimer = setInterval(() => { loadTimeline(); loadDevicesSoon(); }, 60000);
  cleanups.push(() => clearInterval(tick), () => clearInterval(tlTimer));

  get('/api/metrics').then((m) => alive && applyMetrics(m)).catch((err) => {
    for (const [k, c] of Object.entries(cards)) if (k !== 'incidents_active' && k !== 'devices') c.value.textContent = '—';
    tlError.hidden = false; tlError.textContent = errorText(err);
  });
  loadTimeline();
  loadFeed();
  loadIncidents();
  loadDevices();

  return {
    update(nctx) { hostSec.setRange(rangeFromQuery(nctx.query)); return true; },
    unmount() { alive = false; cleanups.forEach((f) => f()); },
  };
}

// ---------- host metrics history ----------
// The Host section: six charts of /api/metrics/history over the chosen range, refreshed
// every 10 s (1 h) or every minute (24 h), on demand otherwise; one request at a time. The
// CPU, memory and disk headings show the live figures of /api/metrics when there are some.
function hostSection(query) {
  const st = { range: rangeFromQuery(query), shown: null, data: null, updated: 0, live: undefined, uptime: 0, swapText: '', alive: true, ctl: null, token: 0, stopPoll: null };
  hostSaved.range = st.range;
  const note = h('span', { class: 'host-note', id: 'host-resolution', 'aria-live': 'polite' });
  const rangeSeg = h('div', { class: 'seg', id: 'host-range', role: 'group', 'aria-label': 'Host metrics range' },
    HOST_RANGES.map((r) => h('button', { type: 'button', text: r.label, 'aria-pressed': String(r.key === st.range), dataset: { range: r.key },
      on: { click: () => setRange(r.key) } })));
  const refresh = h('button', { type: 'button', id: 'host-refresh', class: 'btn btn-sm', 'data-icon': 'refresh', text: 'Refresh', on: { click: () => load(false) } });
  const error = h('p', { class: 'snapshot-error', id: 'host-error', role: 'status', hidden: true });
  const empty = h('p', { class: 'empty', id: 'host-empty', hidden: true });
  const loopback = h('input', { type: 'checkbox', id: 'host-loopback', checked: hostSaved.loopback,
    on: { change: () => { hostSaved.loopback = loopback.checked; render(); } } });
  const charts = {};
  const chart = (key, title, unit, tool) => {
    const v = h('span', { class: 'v', text: '…' }), sub = h('div', { class: 'spark-sub' });
    const legend = h('div', { class: 'legend lc-legend', 'aria-hidden': 'true' });
    const box = h('div', { class: 'chart-box', id: 'host-chart-' + key });
    const el = h('section', { class: 'spark hchart', id: 'host-' + key, 'aria-label': title },
      h('div', { class: 'spark-head' }, h('h3', { text: title }), tool, v), sub, legend, box);
    charts[key] = { v, sub, unit, title, chart: lineChart(box, { unit, label: title, legend }) };
    return el;
  };
  const grid = h('div', { class: 'host-grid', id: 'host-charts' },
    chart('cpu', 'CPU', 'pct'), chart('load', 'Load average', 'num'), chart('mem', 'Memory and swap', 'pct'),
    chart('disk', 'Disk used', 'pct'), chart('io', 'Disk I/O', 'bps'),
    chart('net', 'Network', 'bps', h('label', { class: 'lc-toggle', title: 'Show the loopback interface (lo)' }, loopback, 'loopback')));
  const el = h('section', { class: 'card span-2 host', id: 'host', 'aria-labelledby': 'host-h' },
    h('div', { class: 'card-head host-head' }, h('h2', { id: 'host-h', text: 'Host' }), note, h('span', { class: 'spacer' }), rangeSeg, refresh),
    error, empty, grid);

  function setRange(key) {
    key = hostRange(key).key;
    if (key === st.range) return;
    st.range = hostSaved.range = key;
    for (const b of rangeSeg.children) b.setAttribute('aria-pressed', String(b.dataset.range === key));
    history.replaceState(null, '', '#/overview' + (key === HOST_RANGES[0].key ? '' : '?range=' + key));
    schedule();
    load(true);
  }
  function schedule() {
    if (st.stopPoll) st.stopPoll();
    const every = hostRange(st.range).every;
    st.stopPoll = every ? poll(() => load(false), every) : null;
  }
  // One request at a time: a tick or a click while one runs is dropped; a range change
  // (force) cancels it.
  async function load(force) {
    if (st.ctl && !force) return;
    if (st.ctl) st.ctl.abort();
    const my = ++st.token, ctl = (st.ctl = new AbortController()), r = hostRange(st.range);
    el.setAttribute('aria-busy', 'true');
    try {
      const d = await get('/api/metrics/history', { since: r.since, points: r.points }, { signal: ctl.signal });
      if (!st.alive || my !== st.token) return;
      Object.assign(st, { data: d && typeof d === 'object' ? d : {}, shown: r, updated: Date.now() });
      error.hidden = true;
      render();
    } catch (err) {
      if (!st.alive || my !== st.token || (err && err.name === 'AbortError')) return;
      error.hidden = false;
      error.textContent = 'Host metrics unavailable: ' + errorText(err) + (st.data ? ' (showing the last answer)' : '');
      if (!st.data) { empty.hidden = false; empty.textContent = 'No host metrics to show.'; grid.hidden = true; }
    } finally {
      if (my === st.token) { st.ctl = null; el.removeAttribute('aria-busy'); }
    }
  }

  const off = () => (st.data && st.data.interval_s === 0) || (st.live === null && st.uptime >= 10);
  function emptyText(res) {
    if (off()) return 'Host metrics are off (metrics_interval_secs is 0 in picket.yaml, or picket run --metrics-interval 0).';
    return 'Metrics appear after the first samples' + (res >= 3600 ? ': hourly averages once the first full hour has passed (the 1 h and 24 h ranges show them sooner).'
      : res >= 60 ? ': 1-minute averages once the first full minute has passed.' : '.');
  }

  function render() {
    const d = st.data, r = st.shown;
    if (!d || !r) return;
    const res = typeof d.resolution_s === 'number' ? d.resolution_s : 0;
    const pts = (Array.isArray(d.points) ? d.points : []).filter((p) => p && p.v && typeof p.v === 'object' && parseTs(p.t));
    note.textContent = pts.length ? resolutionText(res, r, d.interval_s) + (off() ? ' · collection is off' : '') : '';
    note.dataset.resolution = String(res);
    note.title = 'Updated ' + fmtTime(st.updated) + (r.every ? '; refreshed every ' + fmtSpan(r.every / 1000, true) : '; refreshed on demand');
    grid.hidden = !pts.length;
    empty.hidden = !!pts.length;
    if (!pts.length) {
      empty.textContent = emptyText(res);
      for (const c of Object.values(charts)) c.chart.set(null);
      if (!st.live) for (const k of ['cpu', 'mem', 'disk']) setMeasured(charts[k].v, null);
      return;
    }
    const times = pts.map((p) => parseTs(p.t).getTime());
    const to = Math.max(st.updated, times[times.length - 1]), from = to - r.s * 1000;
    const step = Math.max(r.s / r.points, res) * 1000;
    const diffs = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
    const gap = 2.5 * Math.max(step, diffs.length ? diffs[diffs.length >> 1] : 0);
    const avg = res > 0 || step > 10e3 ? ' · ' + fmtSpan(step / 1000) + ' average' : '';
    const timeText = (t) => (step >= 60e3 ? fmtTime(t).slice(0, 16) : fmtTime(t)) + avg;
    const names = new Set();
    for (const p of pts) for (const k of Object.keys(p.v)) names.add(k);
    const col = (n) => pts.map((p) => (typeof p.v[n] === 'number' && isFinite(p.v[n]) ? p.v[n] : null));
    const last = (vals) => { for (let i = vals.length - 1; i >= 0; i--) if (vals[i] != null) return vals[i]; return null; };
    const peak = (vals) => vals.reduce((m, v) => (v != null && (m == null || v > m) ? v : m), null);
    const sum = (vals) => vals.reduce((s, v) => s + (v || 0), 0);
    const matching = (re) => [...new Set([...names].map((n) => re.exec(n)).filter(Boolean).map((m) => m[1]))];
    const show = (key, series, more) => {
      const c = charts[key], main = series.find((s) => !s.faint);
      const summary = c.title + ', last ' + r.label + (main ? ': latest ' + main.label + ' ' + fmtUnit(last(main.vals), c.unit) + ', peak ' + fmtUnit(peak(main.vals), c.unit) : ': no data');
      c.chart.set({ from, to, times, gap, timeText, series, summary, ...more });
    };
    const head = (key, value, sub) => { setMeasured(charts[key].v, value, (v) => fmtUnit(v, charts[key].unit)); if (sub != null) charts[key].sub.textContent = sub; };
    const C = SERIES_COLORS;

    // CPU: the total, and each core as a light line (in the tooltip when there are few).
    const cores = matching(/^cpu(\d+)$/).sort((a, b) => a - b);
    const coreVals = cores.map((n) => col('cpu' + n)), total = col('cpu');
    show('cpu', [{ label: 'total', color: C[0], vals: total, width: 2 },
      ...cores.map((n, i) => ({ label: 'cpu' + n, color: C[0], vals: coreVals[i], faint: true, tip: cores.length <= 8, legend: i ? false : 'per core' }))],
    { extra: cores.length > 8 ? (i) => {
      let best = -1;
      coreVals.forEach((vals, j) => { if (vals[i] != null && (best < 0 || vals[i] > coreVals[best][i])) best = j; });
      return best < 0 ? [] : ['busiest: cpu' + cores[best] + ' ' + fmtUnit(coreVals[best][i], 'pct')];
    } : null });
    charts.cpu.sub.textContent = (cores.length ? cores.length + (cores.length === 1 ? ' core' : ' cores') + ' · ' : '') + 'peak ' + fmtUnit(peak(total), 'pct') + ' in ' + r.label;
    if (!st.live) head('cpu', last(total));

    // Load average.
    const loads = ['1', '5', '15'].map((m) => col('load' + m));
    show('load', loads.map((vals, i) => ({ label: ['1 min', '5 min', '15 min'][i], color: C[i], vals })));
    head('load', last(loads[0]), '5 min ' + fmtUnit(last(loads[1]), 'num') + ' · 15 min ' + fmtUnit(last(loads[2]), 'num'));

    // Memory %, and swap as a share of the swap space (its bytes in the tooltip).
    const memPct = col('mem_percent'), memUsed = col('mem_used'), memTotal = col('mem_total');
    const swapUsed = col('swap_used'), swapTotal = col('swap_total');
    const swapPct = swapUsed.map((u, i) => (u != null && swapTotal[i] > 0 ? (100 * u) / swapTotal[i] : null));
    const hasSwap = swapPct.some((v) => v != null);
    show('mem', [{ label: 'memory', color: C[3], vals: memPct, fmt: (v, i) => fmtUnit(v, 'pct') + (memUsed[i] != null ? ' · ' + fmtBytes(memUsed[i]) : '') },
      ...(hasSwap ? [{ label: 'swap', color: C[2], vals: swapPct, fmt: (v, i) => fmtUnit(v, 'pct') + ' · ' + fmtBytes(swapUsed[i]) }] : [])]);
    st.swapText = hasSwap ? 'swap ' + fmtBytes(last(swapUsed)) + ' of ' + fmtBytes(last(swapTotal)) : 'no swap';
    if (!st.live) head('mem', last(memPct), last(memUsed) == null ? null : fmtBytes(last(memUsed)) + ' of ' + fmtBytes(last(memTotal)) + ' · ' + st.swapText);

    // Disk use per mount, / first.
    const mounts = matching(/^disk:(.*):used_percent$/).sort((a, b) => (a === '/' ? -1 : b === '/' ? 1 : a.localeCompare(b)));
    const mountPct = mounts.map((m) => col('disk:' + m + ':used_percent'));
    show('disk', mounts.map((m, i) => {
      const used = col('disk:' + m + ':used');
      return { label: m, color: C[(i + 2) % C.length], vals: mountPct[i], fmt: (v, j) => fmtUnit(v, 'pct') + (used[j] != null ? ' · ' + fmtBytes(used[j]) : '') };
    }), { empty: 'No disks measured' });
    if (!st.live) head('disk', mounts.length ? last(mountPct[0]) : null, mounts.map((m, i) => m + ' ' + fmtUnit(last(mountPct[i]), 'pct')).join(' · '));

    // Disk I/O and network: the busiest devices drawn (read/rx solid, write/tx dashed), the
    // others named; interfaces that moved nothing are listed as idle.
    const pairs = (key, prefix, a, b, devs, note) => {
      const vals = devs.map((dev) => [col(prefix + dev + ':' + a + '_bps'), col(prefix + dev + ':' + b + '_bps')]);
      const totals = vals.map(([x, y]) => sum(x) + sum(y));
      const busy = devs.map((dev, i) => i).filter((i) => totals[i] > 0).sort((i, j) => totals[j] - totals[i]);
      const drawn = busy.slice(0, MAX_DEVICES), idle = devs.filter((dev, i) => !(totals[i] > 0));
      const pps = (dev, dir) => col(prefix + dev + ':' + dir + '_pps');
      show(key, drawn.flatMap((i, k) => [a, b].map((dir, n) => {
        const packets = key === 'net' ? pps(devs[i], dir) : null;
        return { label: devs[i] + ' ' + dir, color: C[(2 * k + n) % C.length], dash: n === 1, vals: vals[i][n],
          fmt: (v, j) => fmtUnit(v, 'bps') + (packets && packets[j] != null ? ' · ' + fmtUnit(packets[j], 'pps') : '') };
      })), { empty: devs.length ? 'No ' + note + ' in ' + r.label : 'Rates appear after the second sample' });
      const now = [0, 1].map((n) => vals.reduce((s, v) => s + (v[n][v[n].length - 1] || 0), 0));
      const rest = busy.slice(MAX_DEVICES).map((i) => devs[i]);
      head(key, devs.length ? now[0] + now[1] : null, devs.length ? a + ' ' + fmtUnit(now[0], 'bps') + ' · ' + b + ' ' + fmtUnit(now[1], 'bps')
        + (rest.length ? ' · also ' + rest.join(', ') : '') + (idle.length ? ' · idle: ' + idle.join(', ') : '') : 'no rates yet');
      charts[key].sub.title = charts[key].sub.textContent;
    };
    pairs('io', 'io:', 'read', 'write', matching(/^io:(.*):(?:read|write)_bps$/).sort(), 'disk I/O');
    const ifs = matching(/^net:(.*):(?:rx|tx)_bps$/).sort();
    pairs('net', 'net:', 'rx', 'tx', ifs.filter((i) => i !== 'lo' || hostSaved.loopback), 'traffic');
  }

  // /api/metrics (every 5 s on the stream): the live CPU, memory and disk figures.
  function live(m) {
    st.uptime = typeof m.uptime_s === 'number' ? m.uptime_s : 0;
    const hs = m.host && typeof m.host === 'object' ? m.host : null;
    const had = !!st.live;
    st.live = hs;
    if (!hs) {
      if (had || !empty.hidden) render();
      if (!st.data) for (const k of ['cpu', 'mem', 'disk']) { setMeasured(charts[k].v, null); charts[k].sub.textContent = 'host collector not running'; }
      return;
    }
    setMeasured(charts.cpu.v, hs.cpu_percent, fmtPct);
    const memPct = typeof hs.mem_used === 'number' && hs.mem_total > 0 ? (100 * hs.mem_used) / hs.mem_total : null;
    setMeasured(charts.mem.v, memPct, fmtPct);
    charts.mem.sub.textContent = memPct === null ? NOT_MEASURED : fmtBytes(hs.mem_used) + ' of ' + fmtBytes(hs.mem_total) + (st.swapText ? ' · ' + st.swapText : '');
    const disks = Array.isArray(hs.disk) ? hs.disk.filter((d) => d && d.total > 0) : [];
    const root = disks.find((d) => d.mount === '/') || disks[0];
    setMeasured(charts.disk.v, root ? (100 * root.used) / root.total : null, fmtPct);
    charts.disk.sub.textContent = disks.length ? disks.map((d) => String(d.mount) + ' ' + Math.round((100 * d.used) / d.total) + '%').join(' · ') : NOT_MEASURED;
    charts.disk.sub.title = disks.map((d) => String(d.mount) + ': ' + fmtBytes(d.used) + ' of ' + fmtBytes(d.total)).join('\n');
  }

  return {
    el,
    live,
    setRange,
    start() { schedule(); load(true); },
    stop() {
      st.alive = false;
      if (st.ctl) st.ctl.abort();
      if (st.stopPoll) st.stopPoll();
      for (const c of Object.values(charts)) c.chart.destroy();
    },
  };
}
