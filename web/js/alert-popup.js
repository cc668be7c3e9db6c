// Pop-ups for new alerts, on every page: a toast linking to the alert for each alert the
// live stream says was just raised (`new`), at or above the severity chosen on the
// Settings page, and optionally a short beep (WebAudio, no audio file). The choices live
// in this browser (localStorage): pop-ups from high up by default, sound off.
// Titles and group values come from hostile logs: text only, through h().
import { h, SEVERITIES, sevBadge } from './dom.js';
import * as stream from './stream.js';

const KEY_MIN = 'picket.popup.min';
const KEY_SOUND = 'picket.popup.sound';
export const POPUP_LEVELS = ['off', ...SEVERITIES];
const SHOW_MS = 15000;

function read(key) { try { return localStorage.getItem(key); } catch (_) { return null; } }
function write(key, v) { try { if (v == null) localStorage.removeItem(key); else localStorage.setItem(key, v); } catch (_) { /* private mode */ } }

// {min: 'off'|'low'|…|'critical', sound: bool}
export function popupPrefs() {
  const min = read(KEY_MIN);
  return { min: POPUP_LEVELS.includes(min) ? min : 'high', sound: read(KEY_SOUND) === '1' };
}
export function setPopupPrefs(p) {
  if (p.min !== undefined && POPUP_LEVELS.includes(p.min)) write(KEY_MIN, p.min);
  if (p.sound !== undefined) write(KEY_SOUND, p.sound ? '1' : null);
}

let audio = null;
// A 0.25 s tone. Browsers start audio only after a gesture on the page; until then it is
// silently skipped (the Settings page's "Play sound" is such a gesture).
export function beep() {
  const AC = window.AudioContext || window.webkitAudioContext;
  if (!AC) return false;
  try {
    if (!audio) audio = new AC();
    if (audio.state === 'suspended') audio.resume().catch(() => {});
    const t = audio.currentTime;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'sine';
    osc.frequency.setValueAtTime(880, t);
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.2, t + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start(t);
    osc.stop(t + 0.3);
    return true;
  } catch (_) { return false; }
}

const shown = new Set();

function onAlert(a) {
  if (!a || a.new !== true || a.id == null || shown.has(a.id)) return;
  const p = popupPrefs();
  if (p.min === 'off' || SEVERITIES.indexOf(a.severity) < SEVERITIES.indexOf(p.min)) return;
  shown.add(a.id);
  if (shown.size > 1000) shown.delete(shown.values().next().value);
  showPopup(a);
  if (p.sound) beep();
}

export function showPopup(a) {
  const area = document.getElementById('toast');
  if (!area) return;
  const group = Object.entries(a.group && typeof a.group === 'object' ? a.group : {})
    .map(([k, v]) => k + '=' + (typeof v === 'string' ? v : JSON.stringify(v))).join(' ');
  const sev = SEVERITIES.includes(a.severity) ? a.severity : 'low';
  const el = h('div', { class: 'toast popup popup-' + sev, dataset: { alertId: a.id, severity: sev } });
  const dismiss = () => el.remove();
  const link = h('a', { class: 'popup-title', href: '#/alerts/' + encodeURIComponent(String(a.id)), text: String(a.title ?? a.rule ?? 'Alert'), on: { click: dismiss } });
  el.append(
    h('div', { class: 'popup-head' }, sevBadge(sev), h('span', { class: 'popup-kind', text: 'New alert' }),
      h('button', { type: 'button', class: 'icon-btn popup-close', 'data-icon': 'close', 'aria-label': 'Dismiss', title: 'Dismiss', on: { click: dismiss } })),
    link,
    group ? h('div', { class: 'popup-group mono', text: group }) : null);
  area.appendChild(el);
  while (area.children.length > 4) area.removeChild(area.firstChild);
  setTimeout(dismiss, SHOW_MS);
}

let started = false;
export function startPopups() {
  if (started) return;
  started = true;
  stream.on('alert', onAlert);
}
