// Config: the security score (parts, trend), check results by category (filter and search
// in the hash; rows expand), check files that do not compile. Evidence is from host files:
// text only, control characters escaped.
import { get, post, isAdmin, errorText } from './api.js';
import { h, append, debounce, throttle, toast, fmtTime, fmtRel, fmtDuration, fmtTimeShort, sevBadge, fieldList, poll, NOT_MEASURED } from './dom.js';
import { sparkChart } from './charts.js';
import * as stream from './stream.js';

const ORDER = ['FAIL', 'WARN', 'ERROR', 'PASS', 'NOT_APPLICABLE'];
const SEV = ['critical', 'high', 'medium', 'low'];
const BADGE = { FAIL: ['status-failed', 'FAIL'], WARN: ['cfg-warn', 'WARN', 'warn'], ERROR: ['cfg-error', 'ERROR', 'warn'],
  PASS: ['status-resolved', 'PASS'], NOT_APPLICABLE: ['status-ignored', 'N/A'] }; // [classes, label, icon]
const FILTERS = ['all', 'failing', ...ORDER.map((s) => s.toLowerCase())];
const saved = { status: 'all', q: '' };

const str = (v) => (v == null ? '' : String(v));
const num = (v) => (typeof v === 'number' && isFinite(v) ? String(Math.round(v * 10) / 10) : null);
export const level = (v) => (typeof v !== 'number' ? 'none' : v >= 80 ? 'ok' : v >= 50 ? 'warn' : 'bad');
// eslint-disable-next-line no-control-regex
const CTRL = /[\0-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const visible = (v) => str(v).replace(CTRL, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
// {file, line, detail} → "file:line: detail" (as Picket's Evidence prints it); file and
// line may be absent.
export function evidenceLine(e) {
  if (!e || typeof e !== 'object') return visible(e);
  const d = str(e.detail), f = e.file == null || (e.line == null && d.includes(e.file)) ? '' : str(e.file) + (e.line != null ? ':' + e.line : '');
  return visible(f && d ? f + ': ' + d : f || d);
}
const rank = (list, v) => (list.indexOf(v) + list.length + 1) % (list.length + 1); // unknown → last
const cmp = (a, b) => rank(ORDER, a.status) - rank(ORDER, b.status) || rank(SEV, a.severity) - rank(SEV, b.severity) || str(a.title).localeCompare(str(b.title));
function badge(s) {
  const [cls, text, icon] = BADGE[s] || ['', str(s)];
  return h('span', { class: 'status ' + cls, 'data-icon': icon, title: s === 'NOT_APPLICABLE' ? 'Not applicable' : null, text });
}
const when = (ts) => h('time', { datetime: str(ts), text: fmtTime(ts) + ' (' + fmtRel(ts) + ')' });
// The URL wins when it has a query; a bare #/config restores the last filter.
function fromQuery(q) {
  if (!q.toString()) return { ...saved };
  const s = str(q.get('status')).toLowerCase();
  return { status: FILTERS.includes(s) ? s : 'all', q: str(q.get('q')) };
}

export function mount(main, ctx) {
  const admin = isAdmin();
  const st = { ...fromQuery(ctx.query), data: null, open: new Set(), alive: true, token: 0, histRan: null };
  let uid = 0;
  const runBtn = admin ? h('button', { type: 'button', id: 'config-run', class: 'btn btn-primary', 'data-icon': 'refresh', text: 'Run checks now', on: { click: () => run() } }) : null;
  const stale = h('p', { class: 'snapshot-error', role: 'status', hidden: true });
  const errBox = h('section', { class: 'error-box', id: 'config-errors-box', hidden: true });
  const formula = h('p');
  const formulaBox = h('details', { class: 'cfg-formula', id: 'config-formula' }, h('summary', { text: 'How the score is computed' }), formula);
  const scoreBody = h('div', { class: 'cfg-head' });
  const trend = h('div', { class: 'chart-box cfg-trend', id: 'config-trend', 'aria-hidden': 'true' });
  const trendSub = h('p', { class: 'faint', id: 'config-trend-sub' });
  const top = h('div', { class: 'cfg-top', hidden: true },
    h('section', { class: 'card', id: 'config-score', 'aria-label': 'Security score' }, scoreBody, formulaBox),
    h('section', { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', { text: 'Score, last 30 days' })), trendSub, trend));
  const chart = sparkChart(trend, '--accent');
  const filter = h('div', { class: 'seg cfg-filter', id: 'config-filter', role: 'group', 'aria-label': 'Status filter' });
  const counts = {};
  for (const f of FILTERS) {
    counts[f] = h('span', { class: 'faint' });
    filter.appendChild(h('button', { type: 'button', dataset: { status: f }, 'aria-pressed': String(f === st.status), title: f === 'failing' ? 'FAIL and WARN' : null,
      on: { click: () => setFilter(f, st.q) } }, f === 'all' ? 'All' : f === 'failing' ? 'Failing' : BADGE[f.toUpperCase()][1], counts[f]));
  }
  const search = h('input', { type: 'search', id: 'config-search', 'data-search': '', value: st.q, autocomplete: 'off', spellcheck: 'false',
    placeholder: 'Title, id, evidence…  ( / )', 'aria-label': 'Search checks' });
  const results = h('div', { id: 'config-results' }, h('p', { class: 'loading', text: 'Loading…' }));
  append(main, [
    h('div', { class: 'page-head' },
      h('div', null, h('h1', { text: 'Config' }), h('p', { class: 'page-sub', text: 'Configuration checks of this host and its security score' + (admin ? '' : ' (read-only)') })),
      h('span', { class: 'spacer' }), runBtn),
    stale, errBox, top,
    h('div', { class: 'toolbar' }, filter, h('div', { class: 'grow' }, search)),
    results,
  ]);

  // ----- filter and search -----
  function setFilter(status, q) {
    if (status === st.status && q === st.q) return;
    Object.assign(saved, { status, q });
    Object.assign(st, { status, q });
    for (const b of filter.children) b.setAttribute('aria-pressed', String(b.dataset.status === status));
    const p = new URLSearchParams();
    if (status !== 'all') p.set('status', status);
    if (q) p.set('q', q);
    history.replaceState(null, '', '#/config' + (p.toString() ? '?' + p : ''));
    render();
  }
  const onSearch = debounce(() => setFilter(st.status, search.value.trim()), 200);
  search.addEventListener('input', onSearch);
  function matches(r) {
    const f = st.status, q = st.q.toLowerCase();
    if (f === 'failing' ? r.status !== 'FAIL' && r.status !== 'WARN' : f !== 'all' && r.status !== f.toUpperCase()) return false;
    return !q || [r.title, r.id, ...(Array.isArray(r.evidence) ? r.evidence.map(evidenceLine) : [])].some((x) => str(x).toLowerCase().includes(q));
  }

  // ----- score, errors -----
  function renderScore() {
    const d = st.data;
    const s = d.score && typeof d.score === 'object' ? d.score : {};
    const v = typeof s.score === 'number' ? s.score : null;
    const gauge = h('div', { class: 'cfg-gauge lv-' + level(v), dataset: { level: level(v) } },
      h('span', { id: 'config-score-value', class: 'cfg-score' + (v == null ? ' unmeasured' : ''), text: v == null ? NOT_MEASURED : num(v) }),
      v == null ? null : h('span', { class: 'cfg-of', text: 'of 100' }));
    gauge.style.setProperty('--p', Math.max(0, Math.min(100, v || 0)));
    const oa = s.open_alerts && typeof s.open_alerts === 'object' ? SEV.filter((k) => Number(s.open_alerts[k]) > 0) : null;
    scoreBody.replaceChildren(gauge, fieldList([
      ['Checks score', h('span', { id: 'config-checks-score', text: num(s.checks_score) ?? '—' })],
      ['Alert penalty', h('span', { id: 'config-alert-penalty', text: (s.alert_penalty > 0 ? '−' : '') + (num(s.alert_penalty) ?? '—') })],
      ['Open alerts', !oa ? '—' : oa.length ? h('a', { href: '#/alerts', class: 'cfg-oa' }, oa.map((k) => h('span', null, sevBadge(k), ' ' + s.open_alerts[k]))) : 'none'],
      ['Last ran', h('span', { id: 'config-ran-at', dataset: { ranAt: str(d.ran_at) } }, d.ran_at ? when(d.ran_at) : h('span', { class: 'unmeasured', text: 'never' }))],
      ['Runs', d.interval_s > 0 ? 'every ' + fmtDuration(d.interval_s) : d.interval_s === 0 ? 'on demand only' : '—'],
    ]));
    formula.textContent = str(d.formula);
    formulaBox.hidden = !d.formula;
    top.hidden = false;
  }
  function renderErrors() {
    const errs = Array.isArray(st.data.errors) ? st.data.errors : [];
    errBox.hidden = !errs.length;
    errBox.replaceChildren(h('h2', null, h('span', { class: 'ic', 'data-icon': 'warn' }), errs.length + ' check file' + (errs.length === 1 ? ' does' : 's do') + ' not compile'),
      h('ul', { id: 'config-errors' }, errs.map((e) => h('li', { class: 'mono', text: e && typeof e === 'object'
        ? [e.file ?? '?', e.line, e.column].filter((x) => x != null).join(':') + ': ' + str(e.message) : str(e) }))));
  }

  // ----- trend (charts.js: a 0–100 line chart) -----
  function renderTrend(points) {
    const pts = (Array.isArray(points) ? points : []).filter((p) => p && typeof p.score === 'number');
    const sc = pts.map((p) => p.score);
    chart.set(pts.map((p) => [p.t, p.score]));
    trendSub.textContent = pts.length ? 'since ' + fmtTimeShort(pts[0].t) + ' · now ' + num(sc[sc.length - 1]) + ' · low ' + num(Math.min(...sc)) + ' · high ' + num(Math.max(...sc)) : 'no runs yet';
  }
  async function loadHistory() {
    try {
      const res = await get('/api/config/history', { since: new Date(Date.now() - 30 * 86400e3).toISOString() });
      if (st.alive) renderTrend(res && res.points);
    } catch (err) {
      if (!st.alive) return;
      st.histRan = null; // retried with the next refresh
      trendSub.textContent = 'history unavailable: ' + errorText(err);
    }
  }

  // ----- results -----
  function render() {
    const d = st.data;
    if (!d) return;
    const list = (Array.isArray(d.results) ? d.results : []).filter((r) => r && typeof r === 'object');
    const n = { all: list.length, failing: 0 };
    for (const r of list) {
      const k = str(r.status).toLowerCase();
      n[k] = (n[k] || 0) + 1;
      if (k === 'fail' || k === 'warn') n.failing++;
    }
    for (const f of FILTERS) counts[f].textContent = ' ' + (n[f] || 0);
    const focus = document.activeElement.closest && results.contains(document.activeElement) ? document.activeElement.closest('li[data-check-id]') : null;
    const cats = (Array.isArray(d.categories) ? d.categories : []).map(str);
    for (const r of list) if (!cats.includes(str(r.category))) cats.push(str(r.category));
    const groups = [];
    for (const c of cats) {
      const all = list.filter((r) => str(r.category) === c);
      const shown = all.filter(matches).sort(cmp);
      if (shown.length) groups.push(group(c, all, shown));
    }
    results.replaceChildren(...(groups.length ? groups : [h('p', { class: 'card empty', id: 'config-empty',
      text: list.length ? 'No check matches this filter.' : d.ran_at ? 'No checks are loaded.' : 'The checks have not run yet.' })]));
    const again = focus && results.querySelector('li[data-check-id="' + CSS.escape(focus.dataset.checkId) + '"] .cfg-row');
    if (again) again.focus({ preventScroll: true });
  }
  function group(c, all, shown) {
    const n = {};
    for (const r of all) n[r.status] = (n[r.status] || 0) + 1;
    const hid = 'cfg-g' + ++uid;
    return h('section', { class: 'cfg-group', dataset: { category: c }, 'aria-labelledby': hid },
      h('div', { class: 'card-head cfg-group-head' }, h('h2', { id: hid, text: c === 'ssh' ? 'SSH' : c.charAt(0).toUpperCase() + c.slice(1) || 'Other' }),
        ORDER.filter((s) => n[s]).map((s) => h('span', { class: 'cfg-count', dataset: { st: s }, text: n[s] + ' ' + BADGE[s][1] })),
        shown.length < all.length ? h('span', { class: 'cfg-count', text: '(' + shown.length + ' shown)' }) : null),
      h('ul', { class: 'table-wrap cfg-list' }, shown.map(item)));
  }
  function item(r) {
    const id = str(r.id), open = st.open.has(id), did = 'cfg-d' + ++uid;
    const det = h('div', { class: 'cfg-detail', id: did, hidden: !open }, open ? detail(r) : null);
    const row = h('button', { type: 'button', class: 'cfg-row', 'aria-expanded': String(open), 'aria-controls': did },
      badge(r.status), sevBadge(r.severity), h('span', { class: 'cfg-title', text: str(r.title) || id }), h('span', { class: 'cfg-id', text: id }));
    row.addEventListener('click', () => {
      const now = !st.open.delete(id);
      if (now) st.open.add(id);
      if (now && !det.firstChild) append(det, detail(r));
      row.setAttribute('aria-expanded', String(now));
      det.hidden = !now;
    });
    return h('li', { dataset: { checkId: id, status: str(r.status) } }, row, det);
  }
  function detail(r) {
    const ev = Array.isArray(r.evidence) ? r.evidence : [];
    const rem = str(r.remediation).split('`'); // `code` spans, balanced ones only
    return [
      r.description ? h('p', { text: str(r.description) }) : null,
      h('h3', { text: 'Evidence' }),
      ev.length ? h('ul', { class: 'evidence cfg-evidence' }, ev.map((e) => h('li', { text: evidenceLine(e) }))) : h('p', { class: 'faint', text: 'None recorded.' }),
      r.remediation ? [h('h3', { text: 'Remediation' }), h('p', { class: 'cfg-remediation' }, rem.length % 2 ? rem.map((p, i) => (i % 2 ? h('code', { text: p }) : p)) : rem.join('`'))] : null,
      r.since ? h('p', { class: 'muted cfg-since' }, str(r.status) + ' since ', when(r.since)) : null,
    ];
  }
  results.addEventListener('keydown', (e) => {
    if (!e.target.classList.contains('cfg-row') || !/^Arrow(Up|Down)$/.test(e.key)) return;
    const rows = Array.from(results.querySelectorAll('.cfg-row'));
    const next = rows[rows.indexOf(e.target) + (e.key === 'ArrowDown' ? 1 : -1)];
    if (next) { e.preventDefault(); next.focus(); }
  });

  // ----- data -----
  let last = null;
  function show(d) {
    stale.hidden = true;
    const text = JSON.stringify(d);
    if (text === last) return; // unchanged: keep the page (and any text selected in it) as it is
    last = text;
    st.data = d && typeof d === 'object' ? d : {};
    renderScore();
    renderErrors();
    render();
    if (st.histRan !== str(st.data.ran_at)) { st.histRan = str(st.data.ran_at); loadHistory(); }
  }
  async function load() {
    const my = ++st.token;
    try {
      const d = await get('/api/config');
      if (st.alive && my === st.token) show(d);
    } catch (err) {
      if (!st.alive || my !== st.token) return;
      const msg = errorText(err);
      if (st.data) { stale.hidden = false; stale.textContent = 'Could not refresh (' + msg + '); showing the last results, retrying every 15 s.'; }
      else results.replaceChildren(h('div', { class: 'error-box', id: 'config-load-error' }, h('p', { text: 'Could not load the configuration checks: ' + msg }),
        h('button', { type: 'button', class: 'btn', text: 'Retry', on: { click: () => load() } })));
    }
  }
  async function run() {
    runBtn.disabled = true;
    runBtn.textContent = 'Running…';
    try {
      const d = await post('/api/config/run');
      if (!st.alive) return;
      st.token++; // a GET still on its way is older than this answer
      show(d);
      const bad = st.data.results ? st.data.results.filter((r) => r && /^(FAIL|WARN)$/.test(r.status)).length : 0;
      toast('Checks ran: ' + (bad || 'none') + ' failing.', 'ok');
    } catch (err) {
      if (st.alive) toast('Checks not run: ' + errorText(err), 'error');
    } finally {
      runBtn.disabled = false;
      runBtn.textContent = 'Run checks now';
    }
  }

  // Runs happen on a timer, on check file changes and on other admins' demand: the stream's
  // config message says so, and a poll every 15 s covers a stream that does not.
  const loadSoon = throttle(load, 1000);
  const tick = setInterval(() => { if (st.data && !document.hidden) renderScore(); }, 30000);
  const cleanups = [
    stream.on('config', () => loadSoon()),
    stream.on('lagged', () => loadSoon()),
    poll(load, 15000),
    () => loadSoon.cancel(), () => onSearch.cancel(), () => clearInterval(tick), () => chart.destroy(),
  ];
  load();

  return {
    update(nctx) {
      const q = fromQuery(nctx.query);
      search.value = q.q;
      setFilter(q.status, q.q);
      return true;
    },
    onEscape() {
      const b = document.activeElement;
      if (!b.classList.contains('cfg-row') || b.getAttribute('aria-expanded') !== 'true') return false;
      b.click();
      return true;
    },
    unmount() { st.alive = false; st.token++; cleanups.forEach((f) => f()); },
  };
}
