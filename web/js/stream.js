// Live updates: Server-Sent Events on /api/stream, with polling every 5 s while the
// stream is down, and a retry of the stream with backoff.
import { get } from './api.js';

const NAMES = ['alert', 'alert_status', 'event', 'metrics', 'rules', 'config', 'bans', 'incidents', 'lagged'];
const subs = new Map(); // name → Set(fn); plus 'state'
let es = null;
let state = 'connecting';
let pollTimer = null;
let retryTimer = null;
let retryDelay = 5000;
let seen = new Map(); // alert id → last_seen|status|count, for polling
let started = false;
let seeded = false; // first poll only learns what exists (the page already loaded it)

export function on(name, fn) {
  if (!subs.has(name)) subs.set(name, new Set());
  subs.get(name).add(fn);
  return () => subs.get(name).delete(fn);
}
function emit(name, data) {
  const set = subs.get(name);
  if (!set) return;
  for (const fn of Array.from(set)) {
    try { fn(data); } catch (err) { console.error('stream handler', name, err); }
  }
}
function setState(s) {
  if (state === s) return;
  state = s;
  emit('state', s);
}
export function streamState() { return state; }
// Lets other modules share app-wide news (e.g. fresh alert counts) through the same hub.
export const publish = emit;

export function start() {
  if (started) return;
  started = true;
  connect();
  // Learn which alerts exist now, so that polling after a stream drop reports the alerts
  // raised while the stream was down instead of taking them for old ones.
  setTimeout(() => { if (!seeded) seed(); }, 1500);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && !es) { clearTimeout(retryTimer); connect(); }
  });
}

function connect() {
  retryTimer = null;
  if (typeof EventSource === 'undefined') { startPolling(); return; }
  let src;
  try { src = new EventSource('/api/stream', { withCredentials: true }); } catch (_) { startPolling(); scheduleRetry(); return; }
  es = src;
  src.onopen = () => {
    retryDelay = 5000;
    stopPolling();
    setState('live');
  };
  src.onerror = () => {
    // The browser retries by itself while CONNECTING; poll meanwhile. CLOSED (HTTP error,
    // e.g. 401 or 404) means it gave up: retry ourselves, and let polling find a 401.
    startPolling();
    if (src.readyState === EventSource.CLOSED) {
      src.close();
      if (es === src) es = null;
      scheduleRetry();
    }
  };
  for (const name of NAMES) {
    src.addEventListener(name, (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch (_) { return; }
      if (name === 'alert' && data && data.id != null) seen.set(data.id, alertSig(data));
      emit(name, data);
    });
  }
}

function scheduleRetry() {
  if (retryTimer) return;
  retryTimer = setTimeout(connect, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 60000);
}

const alertSig = (a) => a.last_seen + '|' + a.status + '|' + a.count;

function startPolling() {
  if (state !== 'offline') setState('polling');
  if (pollTimer) return;
  pollTimer = setInterval(poll, 5000);
  poll();
}
function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

async function seed() {
  try {
    const list = await get('/api/alerts', { limit: 50 });
    if (seeded) return;
    for (const a of Array.isArray(list && list.items) ? list.items : []) if (a && a.id != null && !seen.has(a.id)) seen.set(a.id, alertSig(a));
    seeded = true;
  } catch (_) { /* the first poll seeds instead */ }
}

let polling = false;
async function poll() {
  if (polling) return;
  polling = true;
  try {
    const m = await get('/api/metrics');
    if (!es || es.readyState !== EventSource.OPEN) setState('polling');
    emit('metrics', m);
    const list = await get('/api/alerts', { limit: 50 });
    const items = Array.isArray(list && list.items) ? list.items.slice().reverse() : [];
    for (const a of items) {
      const sig = alertSig(a);
      const old = seen.get(a.id);
      if (old === sig) continue;
      seen.set(a.id, sig);
      if (old === undefined && !seeded) continue;
      if (old !== undefined && old.split('|')[1] !== a.status) emit('alert_status', { id: a.id, status: a.status });
      // Unknown until now: raised while polling (the stream would have said `new`).
      else emit('alert', old === undefined ? { ...a, new: true } : a);
    }
    seeded = true;
    if (seen.size > 2000) seen = new Map(Array.from(seen).slice(-1000));
  } catch (_) {
    // server unreachable: keep trying; a 401 already redirected to the login page
    setState('offline');
  } finally {
    polling = false;
  }
}
