// Fetch wrapper for the Picket API (web/API.md): JSON in and out, the CSRF header on every
// state-changing request, 401 → /login.html, and one error type carrying the server's
// {"error": {code, message, details}} shape.

let csrf = null;
let session = null;

export class ApiError extends Error {
  constructor(status, code, message, details, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = Array.isArray(details) ? details : [];
    this.retryAfter = retryAfter;
  }
}

// A hint (no secret) that this browser has a session, so the login page only asks the
// server when it may be worth it (a 401 there is logged by the browser as an error).
const HINT = 'picket.signed-in';
export function sessionHint(on) {
  try {
    if (on === undefined) return localStorage.getItem(HINT) === '1';
    if (on) localStorage.setItem(HINT, '1'); else localStorage.removeItem(HINT);
  } catch (_) { /* storage disabled */ }
  return !!on;
}

export function setSession(s) {
  session = s || null;
  csrf = s && typeof s.csrf === 'string' ? s.csrf : null;
  sessionHint(!!session);
}
export function getSession() { return session; }
export function isAdmin() { return !!(session && session.user && session.user.role === 'admin'); }

let redirecting = false;
export function toLogin() {
  if (redirecting) return;
  redirecting = true;
  sessionHint(false);
  location.assign('/login.html');
}

// Build "?a=1&b=2" from an object, skipping empty values; every value is encoded.
export function qs(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(v)));
  }
  return parts.length ? '?' + parts.join('&') : '';
}

// Path segment from data: always encoded.
export function seg(value) { return encodeURIComponent(String(value)); }

async function parseError(res) {
  let body = null;
  try { body = await res.json(); } catch (_) { /* not JSON */ }
  const e = body && body.error ? body.error : {};
  const code = typeof e.code === 'string' ? e.code : 'http_' + res.status;
  let message = typeof e.message === 'string' && e.message ? e.message : (res.statusText || 'request failed') + ' (HTTP ' + res.status + ')';
  const ra = res.headers.get('Retry-After');
  return new ApiError(res.status, code, message, e.details, ra);
}

// request(method, path, {body, raw, contentType, noRedirect, signal})
export async function request(method, path, opts = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (opts.raw !== undefined) {
    body = opts.raw;
    headers['Content-Type'] = opts.contentType || 'text/plain; charset=utf-8';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store', signal: opts.signal });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Cannot reach the Picket server. Check that it is running.', []);
  }
  if (res.status === 401 && !opts.noRedirect) {
    toLogin();
    throw new ApiError(401, 'unauthenticated', 'Signed out', []);
  }
  if (!res.ok) throw await parseError(res);
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  if (!type.includes('json')) return res.text();
  return res.json();
}

export const get = (path, params, opts) => request('GET', path + qs(params), opts);
export const post = (path, body, opts) => request('POST', path, { ...opts, body });
export const put = (path, body, opts) => request('PUT', path, { ...opts, body });
export const patch = (path, body, opts) => request('PATCH', path, { ...opts, body });

export async function loadSession() {
  const s = await get('/api/session');
  setSession(s);
  return s;
}

export async function logout() {
  try { await request('POST', '/api/logout', { noRedirect: true }); } catch (_) { /* go anyway */ }
  setSession(null);
  toLogin();
}

// A one-line human message for any error, details included ("3:5 unknown key").
export function errorText(err) {
  if (!err) return 'Unknown error';
  if (!(err instanceof ApiError)) return String(err.message || err);
  let msg = err.message;
  if (err.code === 'rate_limited' && err.retryAfter && !/\d\s*s\b/.test(msg)) msg += ' (retry in ' + err.retryAfter + ' s)';
  if (err.code === 'forbidden' && session && !isAdmin()) msg += ' — your role is read-only';
  return msg;
}
