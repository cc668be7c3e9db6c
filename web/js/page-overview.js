// Overview: metric cards, activity timeline, live alert feed, host CPU/memory/disk charts.
import { get, seg, errorText } from './api.js';
import { h, append, clear, setMeasured, fmtCount, fmtPct, fmtBytes, fmtRel, sevBadge, statusBadge, groupPills, throttle, NOT_MEASURED } from './dom.js';
import { timelineChart, sparkChart } from './charts.js';
import * as stream from './stream.js';

const RANGES = [
  { key: '6h', label: '6 h', ms: 6 * 3600e3, bucket: 300 },
  { key: '24h', label: '24 h', ms: 24 * 3600e3, bucket: 900 },
  { key: '7d', label: '7 d', ms: 7 * 86400e3, bucket: 3600 },
];
const FEED_MAX = 30;
let rangeKey = '24h';

export function mount(main) {
  const cleanups = [];
  const card = (label, id, tone, href, sub) => {
    const value = h('div', { class: 'm-value', id, text: '…' });
    const kids = [h('div', { class: 'm-label', text: label }), value, sub ? h('div', { class: 'm-sub', text: sub }) : null];
    const el = href ? h('a', { class: 'metric', href }, kids) : h('div', { class: 'metric' }, kids);
    if (tone) el.style.setProperty('--tone', tone);
    return { el, value };
  };
  const cards = {
    events_today: card('Events today', 'ov-events-today', 'var(--accent)', '#/events?since=' + encodeURIComponent('24h')),
    alerts_open: card('Open alerts', 'ov-open-alerts', 'var(--sev-high)', '#/alerts'),
    alerts_new_today: card('New alerts today', 'ov-new-alerts', 'var(--sev-medium)', '#/alerts'),
    events_total: card('Events stored', 'ov-events-total', 'var(--events)'),
    devices: card('Devices', 'ov-devices', 'var(--st-acknowledged)', null, 'on the network'),
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
  const host = {};
  const spark = (key, label, colorVar) => {
    const v = h('span', { class: 'v', text: '…' });
    const sub = h('div', { class: 'spark-sub' });
    const box = h('div', { class: 'chart-box' });
    const el = h('div', { class: 'spark' }, h('div', { class: 'spark-head' }, h('h3', { text: label }), v), sub, box);
    host[key] = { v, sub, chart: sparkChart(box, colorVar) };
    return el;
  };

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
      h('section', { class: 'span-2', 'aria-label': 'Host resources' },
        h('div', { class: 'host-charts' },
          spark('cpu', 'CPU', '--accent'), spark('mem', 'Memory', '--st-acknowledged'), spark('disk', 'Disk', '--sev-medium')))),
  ]);

  const timeline = timelineChart(tlBox);
  cleanups.push(() => timeline.destroy(), () => Object.values(host).forEach((x) => x.chart.destroy()));

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
    for (const k of ['events_today', 'alerts_open', 'alerts_new_today', 'events_total', 'devices', 'security_score']) {
      if (k === 'alerts_open' && Date.now() - countsAt < 7000) continue; // a fresher count came from /api/alerts/counts
      setMeasured(cards[k].value, m[k]);
    }
    const hs = m.host, series = m.series || {};
    if (!hs || typeof hs !== 'object') {
      for (const x of Object.values(host)) { setMeasured(x.v, null); x.sub.textContent = 'host collector not running'; }
    } else {
      setMeasured(host.cpu.v, hs.cpu_percent, fmtPct);
      host.cpu.sub.textContent = 'last hour';
      const memPct = typeof hs.mem_used === 'number' && hs.mem_total > 0 ? (100 * hs.mem_used) / hs.mem_total : null;
      setMeasured(host.mem.v, memPct, fmtPct);
      host.mem.sub.textContent = memPct === null ? NOT_MEASURED : fmtBytes(hs.mem_used) + ' of ' + fmtBytes(hs.mem_total);
      const disks = Array.isArray(hs.disk) ? hs.disk.filter((d) => d && d.total > 0) : [];
      const root = disks.find((d) => d.mount === '/') || disks[0];
      setMeasured(host.disk.v, root ? (100 * root.used) / root.total : null, fmtPct);
      host.disk.sub.textContent = disks.length ? disks.map((d) => String(d.mount) + ' ' + Math.round((100 * d.used) / d.total) + '%').join(' · ') : NOT_MEASURED;
      host.disk.sub.title = disks.map((d) => String(d.mount) + ': ' + fmtBytes(d.used) + ' of ' + fmtBytes(d.total)).join('\n');
    }
    host.cpu.chart.set(series.cpu_percent);
    host.mem.chart.set(series.mem_percent);
    host.disk.chart.set(series.disk_percent);
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

  let countsAt = 0;
  const reloadTimelineSoon = throttle(loadTimeline, 5000);
  cleanups.push(
    stream.on('metrics', applyMetrics),
    stream.on('counts', (c) => {
      if (!c || typeof c.open !== 'number') return;
      countsAt = Date.now();
      setMeasured(cards.alerts_open.value, c.open);
    }),
    stream.on('lagged', () => { loadFeed(); reloadTimelineSoon(); }),
    stream.on('alert', (a) => { upsert(a, true); reloadTimelineSoon(); }),
    stream.on('alert_status', (s) => {
      if (!s || s.id == null) return;
      const li = feed.querySelector('li[data-alert-id="' + CSS.escape(String(s.id)) + '"] .status');
      if (li) li.replaceWith(statusBadge(s.status));
    }),
    () => reloadTimelineSoon.cancel(),
  );
  const tick = setInterval(() => {
    for (const t of feed.querySelectorAll('.feed-time')) t.textContent = fmtRel(t.dataset.ts);
  }, 30000);
  const tlTimer = setInterval(loadTimeline, 60000);
  cleanups.push(() => clearInterval(tick), () => clearInterval(tlTimer));

  get('/api/metrics').then((m) => alive && applyMetrics(m)).catch((err) => {
    for (const c of Object.values(cards)) c.value.textContent = '—';
    tlError.hidden = false; tlError.textContent = errorText(err);
  });
  loadTimeline();
  loadFeed();

  return { unmount() { alive = false; cleanups.forEach((f) => f()); } };
}
