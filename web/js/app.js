// App shell: session, hash router, navigation, top bar metrics, global keys.
import { loadSession, logout, get, errorText, isAdmin } from './api.js';
import { h, clear, setMeasured, fmtDuration, closeTopPanel, closeAllPanels, throttle, toast } from './dom.js';
import * as stream from './stream.js';
import { startPopups } from './alert-popup.js';

// Pages are loaded when first visited: the first load carries only the shell and the
// page shown (login + Overview ≈ 140 KB instead of every page's code up front).
const PAGES = {
  overview: () => import('./page-overview.js'),
  alerts: () => import('./page-alerts.js'),
  events: () => import('./page-events.js'),
  rules: () => import('./page-rules.js'),
  audit: () => import('./page-audit.js'),
  settings: () => import('./page-settings.js'),
  processes: () => import('./page-processes.js'),
  ports: () => import('./page-ports.js'),
  config: () => import('./page-config.js'), incidents: () => import('./page-incidents.js'),
  devices: () => import('./page-devices.js'),
  bans: () => import('./page-bans.js'),
};
const TITLES = {
  overview: 'Overview', alerts: 'Alerts', events: 'Events', rules: 'Rules', audit: 'Audit log', settings: 'Settings',
  processes: 'Processes', ports: 'Ports', config: 'Config', incidents: 'Incidents', devices: 'Devices', bans: 'Bans',
};

const main = document.getElementById('main');
const sidebar = document.getElementById('sidebar');
const menuToggle = document.getElementById('menu-toggle');
let current = null; // {name, page}

function parseHash() {
  let raw = location.hash.replace(/^#\/?/, '');
  let query = '';
  const qi = raw.indexOf('?');
  if (qi >= 0) { query = raw.slice(qi + 1); raw = raw.slice(0, qi); }
  const parts = raw.split('/').filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch (_) { return p; } });
  return { name: parts[0] || 'overview', params: parts.slice(1), query: new URLSearchParams(query) };
}

let routeToken = 0;
async function route() {
  const r = parseHash();
  if (!PAGES[r.name]) { location.replace('#/overview'); return; }
  for (const a of document.querySelectorAll('#nav a[data-route]')) {
    if (a.dataset.route === r.name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  setMenu(false);
  document.title = TITLES[r.name] + ' · Picket';
  const ctx = { name: r.name, params: r.params, query: r.query, refreshCounts };
  if (current && current.name === r.name && current.page && typeof current.page.update === 'function') {
    if (current.page.update(ctx) !== false) return;
  }
  if (current && current.page && current.page.unmount) {
    try { current.page.unmount(); } catch (err) { console.error(err); }
  }
  const token = ++routeToken;
  current = { name: r.name, page: null };
  closeAllPanels();
  clear(main).appendChild(h('p', { class: 'loading', text: 'Loading…' }));
  main.scrollTop = 0;
  window.scrollTo(0, 0);
  let mod;
  try {
    mod = await PAGES[r.name]();
  } catch (err) {
    if (token !== routeToken) return;
    clear(main).appendChild(h('div', { class: 'error-box' }, h('p', { text: 'This page failed to load: ' + errorText(err) }),
      h('button', { type: 'button', class: 'btn', text: 'Reload', on: { click: () => location.reload() } })));
    return;
  }
  if (token !== routeToken) return; // another route won meanwhile
  clear(main);
  let page = null;
  try {
    page = mod.mount(main, ctx) || {};
  } catch (err) {
    console.error(err);
    main.appendChild(h('div', { class: 'error-box', text: 'This page failed to load: ' + errorText(err) }));
  }
  current = { name: r.name, page };
}

function setMenu(open) {
  sidebar.classList.toggle('open', open);
  menuToggle.setAttribute('aria-expanded', String(open));
}

// ---------- top bar ----------
const el = (id) => document.getElementById(id);
let uptimeBase = null; // {s, at}
function setOpenAlerts(n) {
  if (typeof n !== 'number') return;
  el('topbar-open-alerts').textContent = String(n);
  el('topbar-open-alerts').closest('.chip').classList.toggle('has-open', n > 0);
  const badge = el('nav-open-alerts');
  badge.textContent = String(n);
  badge.hidden = n === 0;
  badge.setAttribute('aria-label', n + ' open');
}
function renderUptime() {
  const u = el('topbar-uptime');
  if (!uptimeBase) { setMeasured(u, null); return; }
  setMeasured(u, uptimeBase.s + (Date.now() - uptimeBase.at) / 1000, fmtDuration);
}
function applyMetrics(m) {
  if (!m || typeof m !== 'object') return;
  setMeasured(el('topbar-devices'), m.devices);
  setMeasured(el('topbar-new-today'), m.devices_new_today);
  setMeasured(el('topbar-score'), m.security_score, (v) => String(v) + (typeof v === 'number' ? ' / 100' : ''));
  uptimeBase = typeof m.uptime_s === 'number' ? { s: m.uptime_s, at: Date.now() } : null;
  renderUptime();
  // The server computes metrics at most every 5 s: a snapshot can be older than the count
  // just fetched after a status change. /api/alerts/counts wins for a while.
  if (typeof m.alerts_open === 'number' && !countsFresh()) setOpenAlerts(m.alerts_open);
}
let countsAt = 0;
function countsFresh() { return Date.now() - countsAt < 7000; }
async function refreshCountsNow() {
  try {
    const c = await get('/api/alerts/counts');
    countsAt = Date.now();
    if (c && typeof c.open === 'number') setOpenAlerts(c.open);
    stream.publish('counts', c);
    return c;
  } catch (_) { return null; }
}
const refreshCountsSoon = throttle(refreshCountsNow, 500);
function refreshCounts(now) { if (now) return refreshCountsNow(); refreshCountsSoon(); return null; }

function setLive(state) {
  const s = el('live-state');
  s.dataset.state = state;
  const [label, title] = {
    live: ['Live', 'Live updates over the event stream'],
    polling: ['Polling', 'Stream unavailable: refreshing every 5 s, retrying the stream'],
    offline: ['Offline', 'Cannot reach the Picket server; retrying every 5 s'],
  }[state] || ['Connecting', 'Connecting to the event stream'];
  s.textContent = label;
  s.title = title;
}

// ---------- keys ----------
function isTyping(t) {
  return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
}
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    if (closeTopPanel()) { e.preventDefault(); return; }
    if (current && current.page && current.page.onEscape && current.page.onEscape()) { e.preventDefault(); return; }
    if (sidebar.classList.contains('open')) { setMenu(false); menuToggle.focus(); }
    return;
  }
  if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !isTyping(e.target)) {
    const s = main.querySelector('[data-search]');
    if (s) { e.preventDefault(); s.focus(); s.select(); }
  }
});

// ---------- start ----------
async function boot() {
  menuToggle.addEventListener('click', () => setMenu(!sidebar.classList.contains('open')));
  el('logout').addEventListener('click', () => logout());
  let s;
  try {
    s = await loadSession();
  } catch (err) {
    if (err && err.status === 401) return; // redirecting to the login page
    clear(main).appendChild(h('div', { class: 'error-box' },
      h('h2', { text: 'Cannot load your session' }), h('p', { text: errorText(err) }),
      h('button', { type: 'button', class: 'btn', text: 'Retry', on: { click: () => location.reload() } })));
    return;
  }
  const user = (s && s.user) || {};
  document.body.dataset.role = user.role === 'admin' ? 'admin' : 'viewer';
  const who = el('whoami');
  who.replaceChildren(String(user.name ?? ''), ' ', h('span', { class: 'role-badge', text: String(user.role ?? '') }));
  who.title = 'Signed in as ' + String(user.name ?? '') + ' (' + String(user.role ?? '') + ')';
  if (!isAdmin()) toast('Read-only session: you can look, not change.', 'info');

  stream.on('state', setLive);
  stream.on('metrics', applyMetrics);
  stream.on('alert', () => refreshCounts());
  stream.on('alert_status', () => refreshCounts());
  stream.on('lagged', () => refreshCounts());
  startPopups();
  stream.start();
  setLive(stream.streamState());
  setInterval(renderUptime, 30000);

  window.addEventListener('hashchange', route);
  route();
  get('/api/metrics').then(applyMetrics).catch(() => {});
  refreshCountsNow();
  get('/api/health').then((hl) => { if (hl && hl.version) el('version').textContent = 'Picket ' + String(hl.version); }).catch(() => {});
}

boot();
