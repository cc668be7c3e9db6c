// Bans: the addresses blocked now by rules' block_ip or by hand (or, with ?all=1 in the
// hash, the latest 500 bans, lifted and expired ones too), what block_ip does on this host
// (picket.yaml's response.block_ip.mode), and for admins a ban by hand and lifting one.
// Addresses come from hostile logs and reasons from rules or people: text only.
import { get, post, request, seg, errorText, isAdmin } from './api.js';
import { h, append, clear, fmtCount, fmtDuration, fmtRel, fmtTime, parseTs, poll, toast } from './dom.js';
import * as stream from './stream.js';

const REFRESH_MS = 10000;
const CONFIRM_MS = 6000;
// [value sent as "for", label]; '' leaves the length to the escalating default.
const DURATIONS = [['', 'Rule default (escalating)'], ['15m', '15 minutes'], ['1h', '1 hour'], ['1d', '1 day'], ['7d', '7 days'], ['other', 'Other…']];
// What rules' block_ip does in each mode: [headline, explanation].
const MODES = {
  enforce: ['enforce', 'rules\' block_ip bans go to the firewall (nftables)'],
  'dry-run': ['dry-run', 'rules\' bans are recorded, the firewall is untouched'],
  off: ['off', 'rules\' block_ip does nothing'],
};
// Kept while the module stays loaded: coming back to a bare #/bans keeps the view.
const saved = { all: false };

const str = (v) => (v == null ? '' : String(v));
// 'running', 'lifted' or 'expired' (at the browser's clock).
export function banState(b, now = Date.now()) {
  if (b.lifted != null) return 'lifted';
  const exp = parseTs(b.expires);
  return exp && exp.getTime() <= now ? 'expired' : 'running';
}
const fromQuery = (q) => (q.toString() ? q.get('all') === '1' : saved.all);
function ago(ts) {
  const d = parseTs(ts);
  return d ? h('time', { datetime: str(ts), title: fmtTime(ts), text: fmtRel(ts) }) : h('span', { class: 'faint', text: str(ts) || '—' });
}

export function mount(main, ctx) {
  const admin = isAdmin();
  const st = { all: fromQuery(ctx.query), data: null, last: null, alive: true, token: 0, ctl: null,
    confirm: null, confirmTimer: 0, busy: new Set(), mode: null, modeSeen: false, dryTouched: false };
  const cols = admin ? 7 : 6;

  // ----- header -----
  const modeLine = h('p', { id: 'bans-mode', class: 'bans-mode', 'aria-live': 'polite', dataset: { mode: '' },
    title: 'response.block_ip.mode in picket.yaml. Bans by hand are enforced unless marked dry-run.' }, 'Response mode: loading…');
  const views = h('div', { class: 'seg', id: 'bans-view', role: 'group', 'aria-label': 'Bans shown' },
    [['running', 'Running'], ['history', 'History']].map(([v, label]) => h('button', { type: 'button', dataset: { view: v },
      'aria-pressed': String((v === 'history') === st.all), title: v === 'history' ? 'The latest 500 bans, lifted and expired ones too' : 'Bans in force now',
      text: label, on: { click: () => setView(v === 'history') } })));
  const refreshBtn = h('button', { type: 'button', id: 'bans-refresh', class: 'btn', 'data-icon': 'refresh', text: 'Refresh', on: { click: () => load(true) } });
  const stale = h('p', { class: 'snapshot-error', role: 'status', hidden: true });
  const tbody = h('tbody');
  const info = h('span', { id: 'bans-count' });
  const wrap = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Bans' }, h('table', { class: 'data', id: 'bans-table' },
    h('thead', null, h('tr', null, h('th', { text: 'Address' }), h('th', { text: 'Mode' }), h('th', { text: 'Reason' }),
      h('th', { text: 'By' }), h('th', { class: 'hide-sm', text: 'Since' }), h('th', { text: 'Until' }), admin ? h('th', { class: 'num', text: 'Action' }) : null)),
    tbody));
  const form = admin ? blockForm() : null;

  append(main, [
    h('div', { class: 'page-head' },
      h('div', null, h('h1', { text: 'Bans' }), modeLine),
      h('span', { class: 'spacer' }), views, refreshBtn),
    form ? form.el : null,
    stale,
    wrap,
    h('div', { class: 'more-row' }, info),
  ]);
  tbody.appendChild(h('tr', { class: 'empty-row' }, h('td', { colspan: cols, class: 'empty loading', text: 'Loading…' })));

  // ----- view (Running / History), kept in the hash -----
  function setView(all) {
    if (all !== st.all) {
      st.all = saved.all = all;
      for (const b of views.children) b.setAttribute('aria-pressed', String((b.dataset.view === 'history') === all));
      history.replaceState(null, '', '#/bans' + (all ? '?all=1' : ''));
      st.data = null;
      st.last = null;
      clear(tbody).appendChild(h('tr', { class: 'empty-row' }, h('td', { colspan: cols, class: 'empty loading', text: 'Loading…' })));
      info.textContent = '';
    }
    load(true);
  }

  // ----- mode line -----
  function renderMode(mode) {
    if (st.modeSeen && mode === st.mode) return; // aria-live: announced when it changes only
    st.mode = mode;
    const m = MODES[mode];
    modeLine.dataset.mode = m ? mode : 'unknown';
    modeLine.replaceChildren(h('span', { class: 'bans-mode-label', text: 'Rules\' block_ip: ' }),
      h('b', { text: m ? m[0] : str(mode) || '?' }), ': ' + (m ? m[1] : 'unknown mode'));
    // The form's dry-run box follows the host's mode until the admin sets it.
    if (form && !st.dryTouched && !st.modeSeen && m) form.setDry(mode !== 'enforce');
    st.modeSeen = true;
  }

  // ----- table -----
  function timeLeft(b, state) {
    if (state === 'lifted') return h('span', { class: 'ban-ended', title: 'Lifted ' + fmtTime(b.lifted) }, 'lifted ', ago(b.lifted));
    if (state === 'expired') return h('span', { class: 'ban-ended', title: 'Expired ' + fmtTime(b.expires), text: 'expired' });
    const exp = parseTs(b.expires);
    if (!exp) return h('span', { class: 'faint', text: '—' });
    return h('time', { datetime: str(b.expires), title: 'Until ' + fmtTime(b.expires), text: fmtDuration((exp.getTime() - Date.now()) / 1000) + ' left' });
  }
  function modeBadge(mode) {
    const known = mode === 'enforce' || mode === 'dry-run';
    return h('span', { class: 'ban-mode' + (known ? ' ban-mode-' + mode : ''), title: mode === 'enforce' ? 'In the firewall' : mode === 'dry-run' ? 'Recorded only: the firewall is untouched' : null, text: str(mode) || '?' });
  }
  function unblockBtn(ip) {
    const confirming = st.confirm === ip, busy = st.busy.has(ip);
    // aria-disabled, not disabled: a keyboard user's focus stays on the button meanwhile.
    return h('button', { type: 'button', class: 'btn btn-sm' + (confirming ? ' btn-danger' : ''), dataset: { unblock: ip, confirm: confirming ? '1' : null },
      'aria-disabled': busy ? 'true' : null, 'aria-label': (confirming ? 'Confirm: unblock ' : 'Unblock ') + ip, title: confirming ? 'Click again to lift every ban of ' + ip : 'Lift the bans of ' + ip,
      text: busy ? 'Unblocking…' : confirming ? 'Confirm unblock' : 'Unblock', on: { click: () => unblockClick(ip) } });
  }
  function row(b) {
    const state = banState(b), ip = str(b.ip), reason = str(b.reason), rule = b.by_user == null;
    return h('tr', { dataset: { banId: str(b.id), ip, mode: str(b.mode), state }, class: state === 'running' ? null : 'ban-past' },
      h('td', { class: 'cell-ellip mono', title: ip, text: ip }),
      h('td', null, modeBadge(b.mode)),
      h('td', { class: 'cell-ellip ban-reason', title: reason || null },
        rule && reason ? h('a', { href: '#/rules/' + seg(reason), title: 'The rule that asked for this ban', text: reason }) : reason || h('span', { class: 'faint', text: '—' })),
      h('td', { class: 'cell-ellip', title: rule ? 'A rule\'s response (block_ip)' : 'By hand, by ' + str(b.by_user) },
        rule ? h('span', { class: 'type-tag', text: 'rule' }) : str(b.by_user)),
      h('td', { class: 'nowrap hide-sm' }, ago(b.created)),
      h('td', { class: 'nowrap' }, timeLeft(b, state)),
      admin ? h('td', { class: 'num nowrap' }, state === 'running' ? unblockBtn(ip) : null) : null);
  }
  function render() {
    const items = (Array.isArray(st.data && st.data.items) ? st.data.items : []).filter((b) => b && typeof b === 'object');
    // Focus stays on the same control across a redraw (a refresh every 10 s).
    const f = document.activeElement;
    const hadFocus = !!f && tbody.contains(f);
    const focusIp = hadFocus && f.dataset ? f.dataset.unblock : null;
    const frag = document.createDocumentFragment();
    for (const b of items) frag.appendChild(row(b));
    clear(tbody).appendChild(frag);
    if (!items.length) {
      tbody.appendChild(h('tr', { class: 'empty-row', id: 'bans-empty' }, h('td', { colspan: cols, class: 'empty' },
        h('p', { class: 'bans-empty-title', text: st.all ? 'No bans recorded yet' : 'No bans running' }),
        h('p', { class: 'faint', text: 'Rules with response: [block_ip] ban the addresses they catch' + (admin ? '; you can block one by hand above.' : '.') }))));
    }
    if (hadFocus) {
      // The same address's button, or (its ban gone) the table itself.
      const again = focusIp && tbody.querySelector('button[data-unblock="' + CSS.escape(focusIp) + '"]');
      (again || wrap).focus({ preventScroll: true });
    }
    const running = items.filter((b) => banState(b) === 'running');
    const enforced = running.filter((b) => b.mode === 'enforce').length;
    info.textContent = !items.length ? ''
      : st.all ? fmtCount(items.length) + (items.length === 1 ? ' ban' : ' bans') + (items.length >= 500 ? ' (the latest 500)' : '') + ' · ' + fmtCount(running.length) + ' running'
      : fmtCount(items.length) + (items.length === 1 ? ' running ban' : ' running bans') + ' · ' + fmtCount(enforced) + ' in the firewall · ' + fmtCount(items.length - enforced) + ' dry-run';
  }
  // The times move on between refreshes whose data did not change.
  function retime() {
    for (const tr of tbody.querySelectorAll('tr[data-ban-id]')) {
      const b = (st.data.items || []).find((x) => x && str(x.id) === tr.dataset.banId);
      if (!b) continue;
      const state = banState(b);
      if (state !== tr.dataset.state) { render(); return; }
      tr.children[4].replaceChildren(ago(b.created));
      tr.children[5].replaceChildren(timeLeft(b, state));
    }
  }

  // ----- data: one request at a time -----
  async function load(force) {
    if (st.ctl) {
      if (!force) return; // a refresh tick while a request is on its way: skip it
      st.ctl.abort();
    }
    const my = ++st.token;
    const ctl = st.ctl = new AbortController();
    wrap.setAttribute('aria-busy', 'true');
    try {
      const d = await get('/api/bans', st.all ? { all: 1 } : null, { signal: ctl.signal });
      if (!st.alive || my !== st.token) return;
      stale.hidden = true;
      renderMode(d && d.mode);
      const text = JSON.stringify(d);
      if (text === st.last) { retime(); return; } // unchanged: keep the rows (and any selection)
      st.last = text;
      st.data = d && typeof d === 'object' ? d : {};
      render();
    } catch (err) {
      if (!st.alive || my !== st.token || (err && err.name === 'AbortError')) return;
      const msg = errorText(err);
      if (st.data) {
        stale.hidden = false;
        stale.textContent = 'Could not refresh (' + msg + '); showing the last list, retrying every 10 s.';
      } else {
        clear(tbody).appendChild(h('tr', { class: 'empty-row', id: 'bans-error' }, h('td', { colspan: cols, class: 'empty bans-error' },
          h('p', { text: 'Could not load the bans: ' + msg }),
          h('button', { type: 'button', class: 'btn btn-sm', text: 'Retry', on: { click: () => load(true) } }))));
        info.textContent = '';
      }
    } finally {
      if (my === st.token) { st.ctl = null; wrap.removeAttribute('aria-busy'); }
    }
  }

  // ----- unblock: a two-step button -----
  function setConfirm(ip) {
    clearTimeout(st.confirmTimer);
    st.confirm = ip;
    if (ip) st.confirmTimer = setTimeout(() => { st.confirm = null; redrawButtons(); }, CONFIRM_MS);
    redrawButtons();
  }
  function redrawButtons() {
    if (!st.alive) return;
    for (const old of tbody.querySelectorAll('button[data-unblock]')) {
      const had = document.activeElement === old;
      const b = unblockBtn(old.dataset.unblock);
      old.replaceWith(b);
      if (had) b.focus({ preventScroll: true });
    }
  }
  async function unblockClick(ip) {
    if (st.busy.has(ip)) return;
    if (st.confirm !== ip) { setConfirm(ip); return; }
    setConfirm(null);
    st.busy.add(ip);
    redrawButtons();
    try {
      // Colons stay as they are (legal in a path): the server does not percent-decode path segments.
      const r = await request('DELETE', '/api/bans/' + seg(ip).replace(/%3A/gi, ':'));
      const n = r && typeof r.lifted === 'number' ? r.lifted : null;
      toast('Unblocked ' + ip + (n == null ? '' : ' (' + n + (n === 1 ? ' running ban' : ' running bans') + ' lifted)') + '.', 'ok');
    } catch (err) {
      toast('Could not unblock ' + ip + ': ' + errorText(err), 'error');
    } finally {
      st.busy.delete(ip);
      if (st.alive) { redrawButtons(); load(true); }
    }
  }

  // ----- block by hand (admins) -----
  function blockForm() {
    const ip = h('input', { type: 'text', id: 'ban-ip', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off', inputmode: 'text',
      placeholder: '203.0.113.7 or 2001:db8::7', 'aria-describedby': 'ban-error' });
    const dur = h('select', { id: 'ban-for' }, DURATIONS.map(([v, label]) => h('option', { value: v, text: label })));
    const custom = h('input', { type: 'text', id: 'ban-for-custom', class: 'w-s', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. 90m, 12h, 30d', 'aria-label': 'Ban length' });
    const customField = h('label', { class: 'field', hidden: true }, h('span', { text: 'Length' }), custom);
    const reason = h('input', { type: 'text', id: 'ban-reason', maxlength: '200', autocomplete: 'off', placeholder: 'Optional; shown here and in the audit log' });
    const dry = h('input', { type: 'checkbox', id: 'ban-dry-run' });
    const submit = h('button', { type: 'submit', id: 'ban-submit', class: 'btn btn-primary' });
    const error = h('p', { id: 'ban-error', class: 'ban-error', role: 'alert', hidden: true });
    const label = () => { submit.textContent = dry.checked ? 'Record (dry-run)' : 'Block in the firewall'; };
    dur.addEventListener('change', () => { customField.hidden = dur.value !== 'other'; if (!customField.hidden) custom.focus(); });
    dry.addEventListener('change', () => { st.dryTouched = true; label(); });
    label();
    const showError = (msg, field) => {
      error.textContent = msg;
      error.hidden = !msg;
      for (const el of [ip, custom]) { if (el === field) el.setAttribute('aria-invalid', 'true'); else el.removeAttribute('aria-invalid'); }
    };
    let sending = false;
    const el = h('form', { class: 'card ban-form', id: 'ban-form', novalidate: true, 'aria-labelledby': 'ban-form-title', on: { submit: async (e) => {
      e.preventDefault();
      if (sending) return;
      const body = { ip: ip.value.trim(), dry_run: dry.checked };
      if (!body.ip) { showError('Enter an IPv4 or IPv6 address.', ip); ip.focus(); return; }
      const len = dur.value === 'other' ? custom.value.trim() : dur.value;
      if (dur.value === 'other' && !len) { showError('Enter a length such as 90m, 12h or 30d, or pick one.', custom); custom.focus(); return; }
      if (len) body.for = len;
      if (reason.value.trim()) body.reason = reason.value.trim();
      sending = true;
      submit.setAttribute('aria-disabled', 'true');
      showError('');
      try {
        const r = await post('/api/bans', body);
        toast(str(r && r.message) || 'Blocked ' + body.ip + '.', 'ok');
        ip.value = '';
        reason.value = '';
        if (st.alive) load(true);
      } catch (err) {
        const field = err && err.status === 400 ? (/^for\b/.test(err.message) ? custom : /^reason\b/.test(err.message) ? null : ip) : err && err.status === 409 ? ip : null;
        showError(errorText(err), field);
        if (field && field.offsetParent) field.focus();
      } finally {
        sending = false;
        submit.removeAttribute('aria-disabled');
      }
    } } },
    h('h2', { id: 'ban-form-title', text: 'Block an address' }),
    h('div', { class: 'ban-form-row' },
      h('label', { class: 'field ban-ip' }, h('span', { text: 'Address' }), ip),
      h('label', { class: 'field' }, h('span', { text: 'For' }), dur),
      customField,
      h('label', { class: 'field grow' }, h('span', { text: 'Reason' }), reason),
      h('label', { class: 'check-label ban-dry', title: 'Record the ban without touching the firewall' }, dry, 'Dry-run'),
      submit),
    error);
    return { el, setDry(on) { dry.checked = on; label(); } };
  }

  const stop = poll(() => load(false), REFRESH_MS);
  // A ban made or lifted anywhere (a rule, another admin, the CLI through a rule's
  // daemon) shows at once; the poll remains for when the stream is down.
  const offBans = stream.on('bans', () => load(true));
  const offLagged = stream.on('lagged', () => load(false));
  load(true);

  return {
    update(nctx) {
      setView(fromQuery(nctx.query));
      return true;
    },
    onEscape() {
      if (!st.confirm) return false;
      setConfirm(null);
      return true;
    },
    unmount() {
      st.alive = false;
      st.token++;
      if (st.ctl) st.ctl.abort();
      clearTimeout(st.confirmTimer);
      stop();
      offBans();
      offLagged();
    },
  };
}
