// Charts: the Overview's activity timeline and small line charts on canvas (crisp on
// HiDPI: the backing store follows devicePixelRatio), and the host history's time-series
// line charts in inline SVG. All are redrawn when their box resizes.
import { h, fmtCompact, fmtBytes, fmtTime, parseTs, SEVERITIES } from './dom.js';

const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
let palette = null;
function colors() {
  if (palette) return palette;
  const cs = getComputedStyle(document.documentElement);
  const v = (n, d) => (cs.getPropertyValue(n) || '').trim() || d;
  palette = {
    grid: v('--border', '#22304a'), text: v('--muted', '#8b99b3'), faint: v('--faint', '#5d6b85'),
    events: v('--events', '#3a5a86'), accent: v('--accent', '#4c9aff'),
    low: v('--sev-low', '#86a0c4'), medium: v('--sev-medium', '#f2b134'),
    high: v('--sev-high', '#ff6a3d'), critical: v('--sev-critical', '#ff2e7e'),
  };
  return palette;
}

function fit(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.floor(canvas.clientWidth)), ht = Math.max(1, Math.floor(canvas.clientHeight));
  const bw = Math.round(w * dpr), bh = Math.round(ht * dpr);
  if (canvas.width !== bw) canvas.width = bw;
  if (canvas.height !== bh) canvas.height = bh;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, ht);
  return { ctx, w, h: ht };
}

// Calls draw() (once per frame at most) when the box resizes or the pixel ratio changes.
function watch(box, draw) {
  let raf = 0;
  const schedule = () => { if (!raf) raf = requestAnimationFrame(() => { raf = 0; draw(); }); };
  const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(schedule) : null;
  if (ro) ro.observe(box); else window.addEventListener('resize', schedule);
  let mq = null;
  const onDpr = () => { schedule(); listenDpr(); };
  const listenDpr = () => {
    if (mq) mq.removeEventListener('change', onDpr);
    mq = matchMedia('(resolution: ' + (window.devicePixelRatio || 1) + 'dppx)');
    mq.addEventListener('change', onDpr);
  };
  listenDpr();
  return () => {
    cancelAnimationFrame(raf);
    if (ro) ro.disconnect(); else window.removeEventListener('resize', schedule);
    if (mq) mq.removeEventListener('change', onDpr);
  };
}

function niceMax(v, min) {
  v = Math.max(v, min);
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
const pad2 = (n) => String(n).padStart(2, '0');
function tickLabel(d, spanS) {
  if (spanS > 2 * 86400) return (d.getMonth() + 1) + '/' + d.getDate() + (spanS < 8 * 86400 ? ' ' + pad2(d.getHours()) + 'h' : '');
  return pad2(d.getHours()) + ':' + pad2(d.getMinutes());
}

// Stacked activity timeline: events as a muted area (left axis), alerts by severity as
// coloured stacked bars on top (right axis).
export function timelineChart(box) {
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Activity timeline' });
  const tip = h('div', { class: 'chart-tip', hidden: true });
  box.append(canvas, tip);
  let data = { bucket_s: 900, buckets: [] };
  let hover = -1;
  let geom = null;

  function draw() {
    const c = colors();
    const { ctx, w, h: ht } = fit(canvas);
    const bs = Array.isArray(data.buckets) ? data.buckets : [];
    const L = 46, R = 34, T = 22, B = 24;
    const pw = Math.max(10, w - L - R), ph = Math.max(10, ht - T - B);
    const n = bs.length;
    let evMax = 0, alMax = 0, evSum = 0, alSum = 0;
    for (const b of bs) {
      const e = +b.events || 0;
      const a = SEVERITIES.reduce((s, k) => s + (+(b.alerts && b.alerts[k]) || 0), 0);
      evMax = Math.max(evMax, e); alMax = Math.max(alMax, a); evSum += e; alSum += a;
    }
    const eTop = niceMax(evMax, 4), aTop = niceMax(alMax, 4);
    canvas.setAttribute('aria-label', 'Activity timeline: ' + evSum + ' events and ' + alSum + ' alerts in ' + n + ' intervals');
    ctx.font = FONT;
    ctx.lineWidth = 1;
    // grid + axis labels
    for (let i = 0; i <= 4; i++) {
      const y = Math.round(T + ph - (ph * i) / 4) + 0.5;
      ctx.strokeStyle = c.grid;
      ctx.globalAlpha = i === 0 ? 1 : 0.6;
      ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(L + pw, y); ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.fillStyle = c.text; ctx.textBaseline = 'middle';
      ctx.textAlign = 'right'; ctx.fillText(fmtCompact((eTop * i) / 4), L - 6, y);
      ctx.fillStyle = c.faint; ctx.textAlign = 'left';
      const av = (aTop * i) / 4;
      if (Number.isInteger(av)) ctx.fillText(String(av), L + pw + 6, y);
    }
    ctx.fillStyle = c.faint; ctx.textAlign = 'left'; ctx.textBaseline = 'top';
    ctx.fillText('events', 4, 0);
    ctx.textAlign = 'right'; ctx.fillText('alerts', w - 2, 0);
    geom = { L, pw, n };
    if (!n) {
      ctx.fillStyle = c.text; ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
      ctx.fillText('No activity recorded yet', L + pw / 2, T + ph / 2);
      return;
    }
    const bw = pw / n;
    const x = (i) => L + bw * i + bw / 2;
    // hover column
    if (hover >= 0 && hover < n) { ctx.fillStyle = 'rgba(140,196,255,0.08)'; ctx.fillRect(L + bw * hover, T, bw, ph); }
    // events area
    const ey = (v) => T + ph - (ph * v) / eTop;
    ctx.beginPath();
    ctx.moveTo(x(0), T + ph);
    bs.forEach((b, i) => ctx.lineTo(x(i), ey(+b.events || 0)));
    ctx.lineTo(x(n - 1), T + ph);
    ctx.closePath();
    const grad = ctx.createLinearGradient(0, T, 0, T + ph);
    grad.addColorStop(0, c.events); grad.addColorStop(1, 'rgba(58,90,134,0.15)');
    ctx.fillStyle = grad; ctx.globalAlpha = 0.75; ctx.fill(); ctx.globalAlpha = 1;
    ctx.beginPath();
    bs.forEach((b, i) => (i ? ctx.lineTo(x(i), ey(+b.events || 0)) : ctx.moveTo(x(i), ey(+b.events || 0))));
    ctx.strokeStyle = '#5b86c0'; ctx.lineWidth = 1.5; ctx.stroke();
    // alert bars
    const barW = Math.max(1.5, Math.min(bw * 0.62, 18));
    bs.forEach((b, i) => {
      let base = T + ph;
      for (const sev of SEVERITIES) {
        const v = +(b.alerts && b.alerts[sev]) || 0;
        if (!v) continue;
        const hh = Math.max(2, (ph * v) / aTop);
        ctx.fillStyle = c[sev];
        ctx.fillRect(x(i) - barW / 2, base - hh, barW, hh);
        base -= hh;
      }
    });
    // time ticks
    const t0 = parseTs(bs[0].t), t1 = parseTs(bs[n - 1].t);
    const span = t0 && t1 ? (t1 - t0) / 1000 : 0;
    const ticks = Math.max(2, Math.min(8, Math.floor(pw / 90)));
    ctx.fillStyle = c.text; ctx.textBaseline = 'top'; ctx.textAlign = 'center';
    let lastX = -1e9;
    for (let k = 0; k < ticks; k++) {
      const i = Math.round((k * (n - 1)) / (ticks - 1 || 1));
      const d = parseTs(bs[i].t);
      if (!d) continue;
      const tx = Math.min(Math.max(x(i), L + 18), L + pw - 18);
      if (tx - lastX < 50) continue;
      lastX = tx;
      ctx.fillText(tickLabel(d, span), tx, T + ph + 6);
    }
  }

  function showTip(i, px) {
    const b = data.buckets[i];
    if (!b) { tip.hidden = true; return; }
    const rows = [h('div', { class: 't', text: new Date(b.t).toLocaleString() }),
      h('div', { class: 'r' }, h('i', { class: 'swatch' }), 'Events: ' + (+b.events || 0))];
    for (const sev of SEVERITIES) {
      const v = +(b.alerts && b.alerts[sev]) || 0;
      if (v) rows.push(h('div', { class: 'r' }, h('span', { class: 'sev sev-' + sev }), sev + ': ' + v));
    }
    tip.replaceChildren(...rows);
    tip.hidden = false;
    const bw = box.clientWidth;
    const tw = tip.offsetWidth;
    tip.style.left = Math.max(0, Math.min(px + 12, bw - tw - 4)) + 'px';
    tip.style.top = '8px';
  }
  function onMove(e) {
    if (!geom || !geom.n) return;
    const r = canvas.getBoundingClientRect();
    const px = e.clientX - r.left;
    const i = Math.floor(((px - geom.L) / geom.pw) * geom.n);
    const ni = i >= 0 && i < geom.n ? i : -1;
    if (ni !== hover) { hover = ni; draw(); }
    if (ni >= 0) showTip(ni, px); else tip.hidden = true;
  }
  function onLeave() { hover = -1; tip.hidden = true; draw(); }
  canvas.addEventListener('mousemove', onMove);
  canvas.addEventListener('mouseleave', onLeave);
  const unwatch = watch(box, draw);
  return {
    set(d) { data = d && typeof d === 'object' ? d : { buckets: [] }; draw(); },
    destroy() { unwatch(); canvas.removeEventListener('mousemove', onMove); },
  };
}

// Small line chart of [[ts, value], ...] on a 0–100 scale.
export function sparkChart(box, colorVar) {
  const canvas = h('canvas', { role: 'img', 'aria-label': 'chart' });
  box.appendChild(canvas);
  let series = [];
  function draw() {
    const c = colors();
    const color = colorVar ? (getComputedStyle(document.documentElement).getPropertyValue(colorVar).trim() || c.accent) : c.accent;
    const { ctx, w, h: ht } = fit(canvas);
    const T = 3, B = 3;
    const ph = ht - T - B;
    ctx.strokeStyle = c.grid; ctx.lineWidth = 1;
    for (const f of [0, 0.5, 1]) {
      const y = Math.round(T + ph * f) + 0.5;
      ctx.globalAlpha = f === 1 ? 1 : 0.45;
      ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(w, y); ctx.stroke();
    }
    ctx.globalAlpha = 1;
    const pts = (Array.isArray(series) ? series : []).filter((p) => Array.isArray(p) && typeof p[1] === 'number');
    if (pts.length < 2) {
      ctx.fillStyle = c.faint; ctx.font = FONT; ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
      ctx.fillText(pts.length ? 'collecting…' : 'no data yet', w / 2, ht / 2);
      return;
    }
    const n = pts.length;
    const x = (i) => (w * i) / (n - 1);
    const y = (v) => T + ph - (ph * Math.max(0, Math.min(100, v))) / 100;
    ctx.beginPath();
    pts.forEach((p, i) => (i ? ctx.lineTo(x(i), y(p[1])) : ctx.moveTo(x(i), y(p[1]))));
    ctx.strokeStyle = color; ctx.lineWidth = 1.6; ctx.lineJoin = 'round'; ctx.stroke();
    ctx.lineTo(w, T + ph); ctx.lineTo(0, T + ph); ctx.closePath();
    ctx.globalAlpha = 0.16; ctx.fillStyle = color; ctx.fill(); ctx.globalAlpha = 1;
    canvas.setAttribute('aria-label', 'last hour, now ' + pts[n - 1][1].toFixed(1) + '%');
  }
  const unwatch = watch(box, draw);
  return { set(s) { series = s || []; draw(); }, destroy: unwatch };
}

// ---------- time-series line chart (inline SVG) ----------
// Several series over one time axis, for the Overview's host history: y axis in the
// chart's unit (%, bytes, bytes/s, a number), time ticks in local time, a gap where a
// series is missing or the points stop, and a cursor (pointer, or arrow keys once the
// chart has focus) with a tooltip of every series' value. Names go in as text only.
const SVGNS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  return el;
}
export const SERIES_COLORS = ['#4c9aff', '#35c48b', '#f2b134', '#b08cff', '#ff6a3d', '#2ec4d6', '#ff2e7e', '#9ccc65', '#86a0c4', '#e0a3ff'];
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// A value in a unit: 'pct', 'bytes', 'bps' (bytes/s), 'pps' (packets/s) or 'num'.
export function fmtUnit(v, unit) {
  if (typeof v !== 'number' || !isFinite(v)) return '—';
  if (unit === 'pct') return v.toFixed(v < 10 ? 1 : 0) + '%';
  if (unit === 'bytes') return fmtBytes(v);
  if (unit === 'bps') return fmtBytes(v) + '/s';
  if (unit === 'pps') return fmtCompact(v) + ' pkt/s';
  return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : fmtCompact(v);
}

// Round ticks from 0 to at least max: binary prefixes for bytes, decimal otherwise.
function yAxis(max, unit) {
  if (unit === 'pct') return { ticks: [0, 25, 50, 75, 100], label: (v) => v + '%' };
  const bin = unit === 'bytes' || unit === 'bps';
  const names = bin ? ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] : ['', 'k', 'M', 'G', 'T'];
  const base = bin ? 1024 : 1000;
  max = Math.max(max, bin ? 1024 : 1);
  let k = 0, div = 1;
  while (max / div >= base && k < names.length - 1) { div *= base; k++; }
  const m = max / div, raw = m / 4, p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((x) => x * p).find((x) => x >= raw - 1e-12);
  const ticks = [];
  for (let i = 0; i <= Math.ceil(m / step - 1e-9); i++) ticks.push(i * step * div);
  const unitText = (names[k] ? ' ' + names[k] : '') + (unit === 'bps' ? '/s' : unit === 'pps' ? ' pkt/s' : '');
  return { ticks, label: (v) => (v ? +(v / div).toFixed(2) + unitText : '0') };
}

// At most maxN ticks between from and to (ms), on local clock boundaries.
function timeTicks(from, to, maxN) {
  const span = to - from, out = [];
  if (span > 62 * 86400e3) {
    const every = [1, 2, 3, 6, 12].find((n) => span / (n * 30.4 * 86400e3) <= maxN) || 12;
    const d = new Date(from);
    d.setHours(0, 0, 0, 0); d.setDate(1); d.setMonth(d.getMonth() + 1);
    for (; d.getTime() <= to; d.setMonth(d.getMonth() + 1)) {
      if (d.getMonth() % every === 0) out.push({ t: d.getTime(), label: d.getMonth() ? MON[d.getMonth()] : String(d.getFullYear()) });
    }
    return out;
  }
  const steps = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].map((s) => s * 1000);
  const step = steps.find((s) => span / s <= maxN) || steps[steps.length - 1];
  if (step < 86400e3) {
    const off = new Date(from).getTimezoneOffset() * 60e3;
    for (let t = Math.ceil((from - off) / step) * step + off; t <= to; t += step) {
      const d = new Date(t);
      const midnight = !d.getHours() && !d.getMinutes() && span > 6 * 3600e3;
      out.push({ t, label: midnight ? MON[d.getMonth()] + ' ' + d.getDate() : pad2(d.getHours()) + ':' + pad2(d.getMinutes()) });
    }
  } else {
    const d = new Date(from);
    d.setHours(0, 0, 0, 0); d.setDate(d.getDate() + 1);
    for (; d.getTime() <= to; d.setDate(d.getDate() + step / 86400e3)) out.push({ t: d.getTime(), label: MON[d.getMonth()] + ' ' + d.getDate() });
  }
  return out;
}

// lineChart(box, {unit, label, empty, legend}) → {set(data), destroy()}.
// data: {from, to (ms), times: [ms] (ascending), series: [{label, color, vals: [number|null]
// (one per time), width, faint (drawn light, under the others), dash, tip (false: not in
// the tooltip), legend (text, or false), fmt(v, i)}], extra(i) → [text] (more tooltip
// lines), timeText(ms), empty (text when nothing is drawn)}.
export function lineChart(box, opts) {
  const root = svg('svg', { class: 'lc', 'aria-hidden': 'true' });
  const tip = h('div', { class: 'chart-tip', hidden: true, 'aria-live': 'polite' });
  box.append(root, tip);
  box.tabIndex = 0;
  box.classList.add('lc-box');
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', opts.label);
  let data = null, idx = -1, geom = null, legendKey = '';
  const hover = svg('g', { class: 'lc-hover' });

  function legend() {
    if (!opts.legend) return;
    const items = data ? data.series.filter((s) => s.legend !== false) : [];
    const key = JSON.stringify(items.map((s) => [s.legend || s.label, s.color, !!s.dash, !!s.faint]));
    if (key === legendKey) return;
    legendKey = key;
    opts.legend.replaceChildren(...items.map((s) => {
      const sw = h('i', { class: 'lc-swatch' + (s.dash ? ' dash' : '') + (s.faint ? ' faint' : '') });
      sw.style.color = s.color;
      return h('span', null, sw, String(s.legend || s.label));
    }));
  }

  function draw() {
    const w = box.clientWidth, ht = box.clientHeight;
    root.replaceChildren();
    geom = null;
    if (!w || !ht) return;
    root.setAttribute('viewBox', '0 0 ' + w + ' ' + ht);
    root.setAttribute('width', w);
    root.setAttribute('height', ht);
    const d = data || { series: [], times: [], from: 0, to: 1 };
    let max = 0, any = false;
    for (const s of d.series) for (const v of s.vals) if (v != null) { any = true; if (v > max) max = v; }
    const ax = yAxis(max, opts.unit);
    const labels = ax.ticks.map(ax.label);
    const L = Math.round(10 + 6.3 * Math.max(...labels.map((l) => l.length))), R = 10, T = 8, B = 20;
    const pw = Math.max(10, w - L - R), ph = Math.max(10, ht - T - B);
    const top = ax.ticks[ax.ticks.length - 1];
    const span = Math.max(1, d.to - d.from);
    const x = (t) => L + (pw * (t - d.from)) / span;
    const y = (v) => T + ph - (ph * Math.max(0, Math.min(top, v))) / top;
    ax.ticks.forEach((v, i) => {
      const yy = Math.round(y(v)) + 0.5;
      root.append(svg('line', { class: 'lc-grid' + (i ? '' : ' base'), x1: L, x2: L + pw, y1: yy, y2: yy }));
      const tx = svg('text', { class: 'lc-y', x: L - 6, y: yy, 'text-anchor': 'end', 'dominant-baseline': 'middle' });
      tx.textContent = labels[i];
      root.append(tx);
    });
    for (const k of timeTicks(d.from, d.to, Math.max(2, Math.floor(pw / 75)))) {
      const xx = x(k.t);
      const tx = svg('text', { class: 'lc-x', x: xx, y: T + ph + 14, 'text-anchor': xx < L + 22 ? 'start' : xx > L + pw - 22 ? 'end' : 'middle' });
      tx.textContent = k.label;
      root.append(svg('line', { class: 'lc-tick', x1: xx, x2: xx, y1: T + ph, y2: T + ph + 3 }), tx);
    }
    if (!any) {
      const tx = svg('text', { class: 'lc-empty', x: L + pw / 2, y: T + ph / 2, 'text-anchor': 'middle', 'dominant-baseline': 'middle' });
      tx.textContent = d.empty || opts.empty || 'No data';
      root.append(tx);
      return;
    }
    // A line breaks where a value is missing or the times jump (the monitor was stopped).
    const gap = d.gap || Infinity;
    const order = d.series.filter((s) => s.faint).concat(d.series.filter((s) => !s.faint));
    for (const s of order) {
      let path = '', run = 0;
      const dots = [];
      s.vals.forEach((v, i) => {
        if (v == null || (i && d.times[i] - d.times[i - 1] > gap)) { if (run === 1) dots.push(i - 1); run = 0; }
        if (v == null) return;
        path += (run ? 'L' : 'M') + x(d.times[i]).toFixed(1) + ' ' + y(v).toFixed(1);
        run++;
      });
      if (run === 1) dots.push(s.vals.length - 1);
      const attrs = { stroke: s.color, 'stroke-width': s.width || (s.faint ? 1 : 1.6), 'stroke-dasharray': s.dash ? '4 3' : null };
      const cls = 'lc-line' + (s.faint ? ' faint' : '');
      if (path) root.append(svg('path', { ...attrs, class: cls, d: path }));
      for (const i of dots) root.append(svg('circle', { class: 'lc-dot' + (s.faint ? ' faint' : ''), fill: s.color, cx: x(d.times[i]), cy: y(s.vals[i]), r: s.faint ? 1.5 : 2.5 }));
    }
    root.append(hover);
    geom = { L, T, pw, ph, x, y, w };
    showCursor();
  }

  function showCursor() {
    hover.replaceChildren();
    if (!geom || !data || idx < 0 || idx >= data.times.length) { tip.hidden = true; return; }
    const px = geom.x(data.times[idx]);
    hover.append(svg('line', { class: 'lc-cursor', x1: px, x2: px, y1: geom.T, y2: geom.T + geom.ph }));
    const rows = [h('div', { class: 't', text: (data.timeText || fmtTime)(data.times[idx]) })];
    for (const s of data.series) {
      const v = s.vals[idx];
      if (v == null) continue;
      if (!s.faint) hover.append(svg('circle', { cx: px, cy: geom.y(v), r: 3, fill: s.color }));
      if (s.tip === false) continue;
      const sw = h('i', { class: 'lc-swatch' + (s.dash ? ' dash' : '') });
      sw.style.color = s.color;
      rows.push(h('div', { class: 'r' }, sw, h('span', { class: 'lc-name', text: String(s.label) }), h('b', { text: s.fmt ? s.fmt(v, idx) : fmtUnit(v, opts.unit) })));
    }
    for (const line of data.extra ? data.extra(idx) || [] : []) rows.push(h('div', { class: 'r faint', text: line }));
    tip.replaceChildren(...rows);
    tip.hidden = false;
    const tw = tip.offsetWidth;
    tip.style.left = Math.max(0, px + 12 + tw > geom.w ? px - tw - 12 : px + 12) + 'px';
    tip.style.top = '4px';
  }
  // The point nearest to time t (binary search; times ascend).
  function nearest(t) {
    const ts = data ? data.times : [];
    if (!ts.length) return -1;
    let lo = 0, hi = ts.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (ts[mid] < t) lo = mid + 1; else hi = mid; }
    return lo > 0 && t - ts[lo - 1] < ts[lo] - t ? lo - 1 : lo;
  }
  function onPointer(e) {
    if (!geom) return;
    const r = root.getBoundingClientRect();
    idx = nearest(data.from + ((e.clientX - r.left - geom.L) / geom.pw) * (data.to - data.from));
    showCursor();
  }
  function onLeave() { if (document.activeElement !== box) { idx = -1; showCursor(); } }
  function onKey(e) {
    const n = data ? data.times.length : 0;
    if (!n) return;
    const step = { ArrowLeft: -1, ArrowRight: 1, PageUp: -10, PageDown: 10 }[e.key];
    if (step) idx = Math.max(0, Math.min(n - 1, (idx < 0 ? n : idx) + step));
    else if (e.key === 'Home') idx = 0;
    else if (e.key === 'End') idx = n - 1;
    else if (e.key === 'Escape' && idx >= 0) idx = -1;
    else return;
    e.preventDefault();
    e.stopPropagation();
    showCursor();
  }
  const onFocus = () => { if (idx < 0 && data && data.times.length) { idx = data.times.length - 1; showCursor(); } };
  const onBlur = () => { idx = -1; showCursor(); };
  root.addEventListener('pointermove', onPointer);
  root.addEventListener('pointerdown', onPointer);
  root.addEventListener('pointerleave', onLeave);
  box.addEventListener('keydown', onKey);
  box.addEventListener('focus', onFocus);
  box.addEventListener('blur', onBlur);
  const unwatch = watch(box, draw);
  return {
    set(d) {
      data = d && Array.isArray(d.times) ? d : null;
      const n = data ? data.times.length : 0;
      if (idx >= n) idx = n - 1;
      box.dataset.points = String(n);
      box.setAttribute('aria-label', (data && data.summary) || opts.label);
      legend();
      draw();
    },
    destroy() {
      unwatch();
      root.removeEventListener('pointermove', onPointer);
      root.removeEventListener('pointerdown', onPointer);
      root.removeEventListener('pointerleave', onLeave);
      box.removeEventListener('keydown', onKey);
      box.removeEventListener('focus', onFocus);
      box.removeEventListener('blur', onBlur);
    },
  };
}
