// Safe DOM building and formatting. Every piece of API data goes into the page through
// textContent or setAttribute here; nothing is ever parsed as HTML.

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'indeterminate', 'selected', 'tabIndex', 'readOnly', 'multiple']);

// h('tag', {class, text, on: {click}, dataset: {...}, attr: value}, ...children)
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = String(v);
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) { if (dv !== undefined && dv !== null) el.dataset[dk] = String(dv); }
      else if (PROPS.has(k)) el[k] = v;
      else if (/^on/i.test(k) || k === 'style' || k === 'srcdoc' || k === 'innerHTML') throw new Error('unsafe attribute ' + k);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
export function $(sel, root = document) { return root.querySelector(sel); }
export function $$(sel, root = document) { return Array.from(root.querySelectorAll(sel)); }

export function debounce(fn, ms) {
  let t = null;
  const d = (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}

// Calls fn at most once per ms, the last call always honoured (a steady stream of calls,
// which would starve a debounce, still runs fn every ms).
export function throttle(fn, ms) {
  let t = null, last = 0, args = null;
  const run = () => { t = null; last = Date.now(); const a = args; args = null; fn(...a); };
  const d = (...a) => {
    args = a;
    if (t) return;
    t = setTimeout(run, Math.max(0, last + ms - Date.now()));
  };
  d.cancel = () => { clearTimeout(t); t = null; args = null; };
  return d;
}

// ---------- formatting ----------
export const NOT_MEASURED = 'not yet measured';
const pad = (n, w = 2) => String(n).padStart(w, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function parseTs(ts) {
  if (typeof ts !== 'string' && typeof ts !== 'number') return null;
  const d = new Date(ts);
  return isNaN(d.getTime()) ? null : d;
}
export function fmtTime(ts) {
  const d = parseTs(ts);
  if (!d) return ts == null ? '—' : String(ts);
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}
export function fmtTimeShort(ts) {
  const d = parseTs(ts);
  if (!d) return ts == null ? '—' : String(ts);
  const now = new Date();
  const hms = pad(d.getHours()) + ':' + pad(d.getMinutes());
  if (d.toDateString() === now.toDateString()) return hms + ':' + pad(d.getSeconds());
  return MONTHS[d.getMonth()] + ' ' + d.getDate() + ' ' + hms;
}
export function fmtRel(ts) {
  const d = parseTs(ts);
  if (!d) return '—';
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 0) return fmtTimeShort(ts);
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ago';
  return Math.floor(s / 86400) + ' d ago';
}
export function fmtDuration(sec) {
  if (sec === null || sec === undefined || !isFinite(sec)) return NOT_MEASURED;
  sec = Math.max(0, Math.floor(sec));
  if (sec < 60) return sec + ' s';
  const m = Math.floor(sec / 60) % 60, hr = Math.floor(sec / 3600) % 24, d = Math.floor(sec / 86400);
  if (d) return d + ' d ' + hr + ' h';
  if (hr) return hr + ' h ' + m + ' min';
  return m + ' min';
}
const NF = new Intl.NumberFormat('en-US');
export function fmtCount(n) {
  if (n === null || n === undefined) return NOT_MEASURED;
  if (typeof n !== 'number') return String(n);
  return NF.format(n);
}
export function fmtCompact(n) {
  if (n >= 1e9) return (n / 1e9).toFixed(n >= 1e10 ? 0 : 1) + 'G';
  if (n >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + 'M';
  if (n >= 1e4) return (n / 1e3).toFixed(0) + 'k';
  if (n >= 1e3) return (n / 1e3).toFixed(1) + 'k';
  if (n > 0 && n < 100 && !Number.isInteger(n)) return String(Math.round(n * 10) / 10); // axis ticks like 2.5
  return String(Math.round(n));
}
export function fmtBytes(b) {
  if (typeof b !== 'number' || !isFinite(b)) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return (b >= 100 || i === 0 ? b.toFixed(0) : b.toFixed(1)) + ' ' + u[i];
}
export function fmtPct(v) { return typeof v === 'number' && isFinite(v) ? v.toFixed(v < 10 ? 1 : 0) + '%' : NOT_MEASURED; }

// Sets el's text to a value or to "not yet measured" (styled) when the API gave null.
export function setMeasured(el, value, fmt = fmtCount) {
  const missing = value === null || value === undefined;
  el.textContent = missing ? NOT_MEASURED : fmt(value);
  el.classList.toggle('unmeasured', missing);
}

export function timeEl(ts, short) {
  const t = h('time', { text: short ? fmtTimeShort(ts) : fmtTime(ts), title: ts == null ? null : String(ts) });
  if (parseTs(ts)) t.setAttribute('datetime', String(ts));
  return t;
}

// ---------- badges ----------
export const SEVERITIES = ['low', 'medium', 'high', 'critical'];
export const STATUSES = ['open', 'acknowledged', 'resolved', 'ignored'];
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
export function sevBadge(sev) {
  const known = SEVERITIES.includes(sev);
  return h('span', { class: 'sev ' + (known ? 'sev-' + sev : 'sev-low'), title: 'Severity: ' + String(sev) },
    h('span', { class: 'sev-word', text: known ? cap(sev) : String(sev) }));
}
export function statusBadge(st) {
  const known = STATUSES.includes(st) || ['active', 'disabled', 'failed'].includes(st);
  return h('span', { class: 'status ' + (known ? 'status-' + st : ''), text: String(st) });
}
export function icon(name, extra) { return h('span', { class: 'ic' + (extra ? ' ' + extra : ''), 'data-icon': name, 'aria-hidden': 'true' }); }

// group {"src_ip": "1.2.3.4"} → pills
export function groupPills(group) {
  const wrap = h('span', { class: 'kv-inline' });
  if (group && typeof group === 'object') {
    for (const [k, v] of Object.entries(group)) {
      const val = typeof v === 'string' ? v : JSON.stringify(v);
      wrap.appendChild(h('span', { class: 'kv-pill', title: k + '=' + val }, h('span', { class: 'k', text: k + '=' }), val));
    }
  }
  return wrap;
}

// ATT&CK id → technique URL (T1110.001 → T1110/001). Anything else gives null.
export function mitreUrl(id) {
  const m = /^(T\d{4})(?:\.(\d{3}))?$/.exec(String(id));
  if (!m) return null;
  return 'https://attack.mitre.org/techniques/' + encodeURIComponent(m[1]) + '/' + (m[2] ? encodeURIComponent(m[2]) + '/' : '');
}
export function mitreLinks(ids) {
  const wrap = h('span', { class: 'mitre-list' });
  for (const id of Array.isArray(ids) ? ids : []) {
    const url = mitreUrl(id);
    wrap.appendChild(url
      ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: String(id), title: 'MITRE ATT&CK ' + id })
      : h('span', { class: 'mono', text: String(id) }));
  }
  return wrap;
}

// ---------- toast ----------
export function toast(message, kind = 'info', ms) {
  const area = document.getElementById('toast');
  if (!area) return;
  const t = h('div', { class: 'toast ' + kind, text: message });
  area.appendChild(t);
  while (area.children.length > 4) area.removeChild(area.firstChild);
  setTimeout(() => t.remove(), ms || (kind === 'error' ? 7000 : 3500));
}

// ---------- slide-over panels (Escape closes the top one) ----------
const panels = [];
export function openPanel({ id, title, onClose, label }) {
  closePanel(id, true);
  const opener = document.activeElement;
  const closeBtn = h('button', { type: 'button', class: 'icon-btn', 'data-icon': 'close', 'aria-label': 'Close ' + (label || 'details'), title: 'Close (Esc)' });
  const heading = h('h2', { id: id + '-title', tabindex: '-1' });
  if (title instanceof Node) heading.appendChild(title); else heading.textContent = title || '';
  const body = h('div', { class: 'detail-body' });
  const el = h('aside', { id, class: 'detail', role: 'dialog', 'aria-labelledby': id + '-title' },
    h('div', { class: 'detail-head' }, heading, closeBtn), body);
  const entry = { id, el, opener, onClose };
  closeBtn.addEventListener('click', () => closePanel(id));
  panels.push(entry);
  // Below the sticky top bar, so its metrics and Sign out stay reachable.
  const bar = document.querySelector('.topbar');
  if (bar && getComputedStyle(bar).position === 'sticky') el.style.top = Math.max(0, Math.round(bar.getBoundingClientRect().bottom)) + 'px';
  document.body.appendChild(el);
  heading.focus({ preventScroll: true });
  return { el, body, heading, close: () => closePanel(id) };
}
export function closePanel(id, silent) {
  const i = panels.findIndex((p) => p.id === id);
  if (i < 0) return false;
  const [p] = panels.splice(i, 1);
  p.el.remove();
  if (!silent) {
    if (p.onClose) p.onClose();
    if (p.opener && document.contains(p.opener) && typeof p.opener.focus === 'function') p.opener.focus({ preventScroll: true });
  }
  return true;
}
export function closeTopPanel() {
  const p = panels[panels.length - 1];
  return p ? closePanel(p.id) : false;
}
export function closeAllPanels() { while (panels.length) closePanel(panels[panels.length - 1].id, true); }

// Field list: [[label, value|Node], ...] → <dl>
export function fieldList(rows) {
  const dl = h('dl', { class: 'fields' });
  for (const [k, v, cls] of rows) {
    if (v === undefined) continue;
    dl.appendChild(h('dt', null, k));
    dl.appendChild(h('dd', { class: cls || null }, v === null ? '—' : v));
  }
  return dl;
}

// Snapshot pages: "as of 10:15:02" (full time in the title), or "no snapshot yet".
export function setSnapshotTime(el, taken) {
  const d = parseTs(taken);
  el.classList.toggle('unmeasured', !d);
  if (!d) { el.replaceChildren(taken == null ? 'no snapshot yet' : 'as of ' + String(taken)); return; }
  el.replaceChildren('as of ', h('time', { datetime: String(taken), title: fmtTime(taken) + ' (' + fmtRel(taken) + ')', text: fmtTimeShort(taken) }));
}

// Calls fn every ms while the tab is visible, and at once on coming back to a tab left
// longer than that. Returns stop().
export function poll(fn, ms) {
  let last = Date.now();
  const run = () => { last = Date.now(); fn(); };
  const t = setInterval(() => { if (!document.hidden) run(); }, ms);
  const vis = () => { if (!document.hidden && Date.now() - last >= ms) run(); };
  document.addEventListener('visibilitychange', vis);
  return () => { clearInterval(t); document.removeEventListener('visibilitychange', vis); };
}

export function emptyRow(cols, text) {
  return h('tr', { class: 'empty-row' }, h('td', { colspan: cols, class: 'empty', text }));
}
