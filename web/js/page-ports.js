// Ports: the newest snapshot of listening TCP and UDP sockets and their owners (taken
// server-side every 10 s). Process names and paths are attacker-controlled: text only.
import { get, post, request, errorText, isAdmin } from './api.js';
import { h, append, clear, debounce, fmtCount, emptyRow, setSnapshotTime, poll, toast } from './dom.js';

const COLS = 8;
const REFRESH_MS = 10000;
const saved = { q: '' };

// 'all' (every address), 'loopback' (this host only) or 'specific'.
export function addressScope(a) {
  const s = String(a ?? '').toLowerCase().replace(/^\[|\]$/g, '');
  if (s === '0.0.0.0' || s === '::' || s === '*' || s === '') return 'all';
  if (s === '::1' || s.startsWith('127.') || s.startsWith('::ffff:127.') || s === 'localhost') return 'loopback';
  return 'specific';
}
const str = (v) => (v == null ? '' : String(v));
const dash = (title) => h('span', { class: 'faint', text: '—', title: title || null });

export function mount(main, ctx) {
  const st = { q: ctx.query.has('q') ? ctx.query.get('q') : saved.q, token: 0, loaded: false };
  const search = h('input', { type: 'search', id: 'ports-search', 'data-search': '', value: st.q, autocomplete: 'off', spellcheck: 'false',
    placeholder: 'Protocol, address, port, process, user…  ( / )', 'aria-label': 'Search ports' });
  const snap = h('span', { id: 'snapshot-time', class: 'snapshot-time', 'aria-live': 'polite', text: 'loading…' });
  const status = h('p', { class: 'snapshot-error', role: 'status', hidden: true });
  const info = h('span');
  const tbody = h('tbody');

  append(main, [
    h('div', { class: 'page-head' },
      h('div', null, h('h1', { text: 'Ports' }), h('p', { class: 'page-sub' }, 'Listening sockets and the processes behind them, refreshed every 10 s · ', snap)),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'btn', 'data-icon': 'refresh', text: 'Refresh', on: { click: () => load() } })),
    h('form', { class: 'toolbar', role: 'search', on: { submit: (e) => { e.preventDefault(); apply(); } } },
      h('label', { class: 'field grow' }, h('span', { text: 'Search' }), search),
      h('button', { type: 'submit', class: 'sr-only', tabindex: '-1', text: 'Apply' })),
    status,
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Listening sockets' }, h('table', { class: 'data', id: 'ports-table' },
      h('thead', null, h('tr', null, h('th', { text: 'Proto' }), h('th', { text: 'Address' }), h('th', { class: 'num', text: 'Port' }),
        h('th', { text: 'Process' }), h('th', { class: 'num hide-sm', text: 'PID' }), h('th', { text: 'User' }), h('th', { class: 'hide-sm', text: 'Executable' }),
        h('th', { text: 'Expected', title: 'In the baseline (learned on the first run, edited here) or picket.yaml\'s port_allowlist; other ports raise new-listening-port alerts' }))),
      tbody)),
    h('div', { class: 'more-row' }, info),
  ]);

  function apply() {
    applySoon.cancel();
    const q = search.value.trim();
    if (q === st.q) return;
    st.q = saved.q = q;
    history.replaceState(null, '', '#/ports' + (q ? '?' + new URLSearchParams({ q }) : ''));
    load(true);
  }
  const applySoon = debounce(apply, 350);
  search.addEventListener('input', applySoon);

  function addressCell(p, scope) {
    const a = str(p.address);
    if (scope === 'all') {
      return h('td', { class: 'nowrap', title: a || null }, h('span', { class: 'addr-all', text: 'all addresses' }),
        a.includes(':') ? h('span', { class: 'faint', text: ' IPv6' }) : a ? h('span', { class: 'faint', text: ' IPv4' }) : null);
    }
    return h('td', { class: 'cell-ellip', title: a },
      h('span', { class: 'mono', text: a }),
      scope === 'loopback' ? h('span', { class: 'addr-local', text: 'loopback only', title: 'Reachable from this host only' }) : null);
  }
  function row(p) {
    const scope = addressScope(p.address);
    const proto = str(p.proto);
    return h('tr', { dataset: { port: str(p.port), proto, scope } },
      h('td', null, h('span', { class: 'type-tag', text: proto.toUpperCase() })),
      addressCell(p, scope),
      h('td', { class: 'num mono', text: str(p.port) }),
      h('td', { class: 'cell-ellip', title: p.process == null ? null : str(p.process) }, p.process == null ? dash('Owner not found') : str(p.process)),
      h('td', { class: 'num mono hide-sm' }, p.pid == null ? dash('Owner not found') : str(p.pid)),
      h('td', { class: 'cell-ellip', title: p.uid == null ? null : 'uid ' + p.uid }, p.user == null ? (p.uid == null ? dash() : 'uid ' + p.uid) : str(p.user)),
      h('td', { class: 'cell-ellip mono hide-sm', title: p.exe == null ? null : str(p.exe) }, p.exe == null ? dash() : str(p.exe)),
      expectedCell(p, proto));
  }

  // Baseline membership, and for admins the button that changes it (audited server-side).
  function expectedCell(p, proto) {
    const why = p.expected === 'baseline' || p.expected === 'allowlist' ? p.expected : null;
    const td = h('td', { class: 'nowrap', dataset: { expected: why || 'no' } },
      why ? h('span', { class: 'faint', text: why }) : h('span', { class: 'sev sev-medium', title: 'Not in the baseline nor the allowlist' }, h('span', { class: 'sev-word', text: 'unexpected' })));
    if (!isAdmin() || why === 'allowlist') return td;
    const port = Number(p.port);
    const btn = h('button', { type: 'button', class: 'btn btn-sm', dataset: { baseline: why ? 'remove' : 'add' },
      text: why ? 'Remove' : 'Expect',
      title: why ? 'Remove from the baseline: alert if it opens again' : 'Add to the baseline: no alert for this port' });
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        if (why) await request('DELETE', '/api/ports/baseline/' + encodeURIComponent(proto + '-' + port));
        else await post('/api/ports/baseline', { proto, port });
        toast((why ? 'Removed ' : 'Added ') + proto + '/' + port + (why ? ' from' : ' to') + ' the baseline.', 'ok');
        load(false);
      } catch (err) {
        btn.disabled = false;
        toast('Could not change the baseline: ' + errorText(err), 'error');
      }
    });
    td.append(' ', btn);
    return td;
  }

  async function load(fresh) {
    const my = ++st.token;
    if (fresh || !st.loaded) { st.loaded = false; clear(tbody).appendChild(emptyRow(COLS, 'Loading…')); info.textContent = ''; }
    try {
      const res = await get('/api/ports', { q: st.q });
      if (my !== st.token) return;
      const items = (Array.isArray(res && res.items) ? res.items : []).filter((p) => p && typeof p === 'object');
      items.sort((a, b) => (Number(a.port) || 0) - (Number(b.port) || 0) || str(a.proto).localeCompare(str(b.proto)) || str(a.address).localeCompare(str(b.address)));
      const frag = document.createDocumentFragment();
      for (const p of items) frag.appendChild(row(p));
      clear(tbody).appendChild(frag);
      if (!items.length) tbody.appendChild(emptyRow(COLS, st.q ? 'No listening sockets match this search.' : 'No listening sockets in the snapshot yet.'));
      st.loaded = true;
      status.hidden = true;
      setSnapshotTime(snap, res ? res.taken : null);
      const all = items.filter((p) => addressScope(p.address) === 'all').length;
      const local = items.filter((p) => addressScope(p.address) === 'loopback').length;
      info.textContent = fmtCount(items.length) + (items.length === 1 ? ' listening socket' : ' listening sockets') +
        (items.length ? ' · ' + fmtCount(all) + ' on all addresses · ' + fmtCount(local) + ' loopback only' : '');
    } catch (err) {
      if (my !== st.token) return;
      if (st.loaded) {
        status.hidden = false;
        status.textContent = 'Could not refresh (' + errorText(err) + '); showing the previous snapshot, retrying every 10 s.';
      } else {
        clear(tbody).appendChild(emptyRow(COLS, 'Could not load ports: ' + errorText(err)));
        snap.textContent = '';
      }
    }
  }

  const stop = poll(() => load(false), REFRESH_MS);
  load(true);
  return { unmount() { st.token++; stop(); applySoon.cancel(); } };
}
