// Canvas charts: the Overview's activity timeline and small line charts. Crisp on HiDPI
// (the backing store follows devicePixelRatio) and redrawn when their box resizes.
import { h, fmtCompact, parseTs, SEVERITIES } from './dom.js';

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
