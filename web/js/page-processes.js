// Processes: the newest process-table snapshot (taken server-side every 10 s), searched
// and sorted by the server. Names, command lines and paths are whatever a process chose:
// text only, through h() / textContent.
import { get, errorText } from './api.js';
import { h, append, clear, debounce, fmtCount, fmtBytes, fmtTime, fmtTimeShort, openPanel, fieldList, emptyRow, setSnapshotTime, poll } from './dom.js';

const COLS = 8;
const REFRESH_MS = 10000;
// [value, label, aria-sort of its column] — the server's orders (src/web/api_host.rs).
const SORTS = [['cpu', 'CPU', 'descending'], ['rss', 'Memory', 'descending'], ['pid', 'PID', 'ascending'], ['started', 'Start time (newest)', 'descending']];
const SUSPECT_DIRS = ['/tmp/', '/var/tmp/', '/dev/shm/'];
// Kept while the module stays loaded, so leaving and coming back keeps the view.
const saved = { q: '', sort: 'cpu', kernel: false };

// Reasons to look twice: [badge text, explanation].
export function processFlags(p) {
  const f = [];
  if (p.exe_deleted === true) f.push(['deleted exe', 'The executable was deleted or replaced after the process started']);
  const exe = typeof p.exe === 'string' ? p.exe : '';
  const dir = SUSPECT_DIRS.find((d) => exe.startsWith(d));
  if (dir) f.push(['runs from ' + dir.slice(0, -1), 'The executable lives under ' + dir + ', a world-writable directory']);
  return f;
}
const flagBadges = (fl) => fl.map(([t, why]) => h('span', { class: 'flag-badge', title: why, text: t }));

function startedEl(sec) {
  if (typeof sec !== 'number' || !isFinite(sec)) return '—';
  const ms = sec * 1000;
  return h('time', { datetime: new Date(ms).toISOString(), title: fmtTime(ms), text: fmtTimeShort(ms) });
}
const cpuText = (v) => (typeof v === 'number' && isFinite(v) ? v.toFixed(1) + '%' : '—');
const str = (v) => (v == null ? '' : String(v));

export function mount(main, ctx) {
  const q0 = ctx.query;
  const st = {
    q: q0.has('q') ? q0.get('q') : saved.q,
    sort: SORTS.some((s) => s[0] === q0.get('sort')) ? q0.get('sort') : saved.sort,
    kernel: q0.has('kernel') ? q0.get('kernel') === '1' : saved.kernel,
    token: 0, items: [], byPid: new Map(), loaded: false, detailPid: null,
  };

  const search = h('input', { type: 'search', id: 'processes-search', 'data-search': '', value: st.q, autocomplete: 'off', spellcheck: 'false',
    placeholder: 'Name, command line, user, executable, PID…  ( / )', 'aria-label': 'Search processes' });
  const sortSel = h('select', { id: 'processes-sort', 'aria-label': 'Sort processes by' },
    SORTS.map(([v, label]) => h('option', { value: v, text: label, selected: v === st.sort })));
  const kernelBox = h('input', { type: 'checkbox', id: 'processes-kernel', checked: st.kernel });
  const kernelLabel = h('span', { text: 'Show kernel threads' });
  const snap = h('span', { id: 'snapshot-time', class: 'snapshot-time', 'aria-live': 'polite', text: 'loading…' });
  const status = h('p', { class: 'snapshot-error', role: 'status', hidden: true });
  const info = h('span');
  const tbody = h('tbody');
  const sortTh = (key, label, cls) => h('th', { class: cls || null, dataset: { sortKey: key } },
    h('button', { type: 'button', class: 'th-sort', text: label, title: 'Sort by ' + label, on: { click: () => setSort(key) } }));
  const thead = h('thead', null, h('tr', null,
    sortTh('pid', 'PID', 'num'), h('th', { text: 'User' }), h('th', { text: 'Name' }), sortTh('cpu', 'CPU %', 'num'),
    sortTh('rss', 'Memory', 'num hide-sm'), sortTh('started', 'Started', 'hide-sm'), h('th', { class: 'hide-sm', text: 'Executable' }),
    h('th', { text: 'Command line' })));

  append(main, [
    h('div', { class: 'page-head' },
      h('div', null, h('h1', { text: 'Processes' }), h('p', { class: 'page-sub' }, 'Running processes, refreshed every 10 s · ', snap)),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'btn', 'data-icon': 'refresh', text: 'Refresh', on: { click: () => load() } })),
    h('form', { class: 'toolbar', role: 'search', on: { submit: (e) => { e.preventDefault(); apply(); } } },
      h('label', { class: 'field grow' }, h('span', { text: 'Search' }), search),
      h('label', { class: 'field' }, h('span', { text: 'Sort by' }), sortSel),
      h('label', { class: 'check-label toolbar-check' }, kernelBox, kernelLabel),
      h('button', { type: 'submit', class: 'sr-only', tabindex: '-1', text: 'Apply' })),
    status,
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'processes-table' }, thead, tbody)),
    h('div', { class: 'more-row' }, info),
  ]);

  function remember() {
    Object.assign(saved, { q: st.q, sort: st.sort, kernel: st.kernel });
    const p = new URLSearchParams();
    if (st.q) p.set('q', st.q);
    if (st.sort !== 'cpu') p.set('sort', st.sort);
    if (st.kernel) p.set('kernel', '1');
    const s = p.toString();
    history.replaceState(null, '', '#/processes' + (s ? '?' + s : ''));
  }
  function markSort() {
    for (const th of thead.querySelectorAll('th[data-sort-key]')) {
      const s = SORTS.find((x) => x[0] === th.dataset.sortKey);
      if (th.dataset.sortKey === st.sort) th.setAttribute('aria-sort', s[2]); else th.removeAttribute('aria-sort');
    }
  }
  function setSort(key) {
    if (key === st.sort) return;
    st.sort = sortSel.value = key;
    markSort();
    remember();
    load(true);
  }
  function apply() {
    applySoon.cancel();
    const q = search.value.trim();
    if (q === st.q) return;
    st.q = q;
    remember();
    load(true);
  }
  const applySoon = debounce(apply, 350);
  search.addEventListener('input', applySoon);
  sortSel.addEventListener('change', () => setSort(sortSel.value));
  kernelBox.addEventListener('change', () => { st.kernel = kernelBox.checked; remember(); render(); });
  markSort();

  function row(p) {
    const fl = processFlags(p);
    const pid = str(p.pid);
    return h('tr', { class: 'clickable' + (fl.length ? ' flagged' : '') + (p.kernel_thread ? ' kthread' : '') + (pid === st.detailPid ? ' selected' : ''),
      tabindex: '0', dataset: { pid, flagged: fl.length ? '1' : null }, 'aria-label': 'Process ' + pid + ' ' + str(p.name) + (fl.length ? ', flagged: ' + fl.map((x) => x[0]).join(', ') : '') },
    h('td', { class: 'num mono', text: pid }),
    h('td', { class: 'cell-ellip cell-user', text: str(p.user), title: p.uid == null ? null : 'uid ' + p.uid }),
    h('td', { class: 'cell-name' }, h('span', { class: 'pname', text: str(p.name), title: str(p.name) }), flagBadges(fl)),
    h('td', { class: 'num nowrap', text: cpuText(p.cpu_percent) }),
    h('td', { class: 'num nowrap hide-sm', text: fmtBytes(p.rss) }),
    h('td', { class: 'nowrap hide-sm' }, startedEl(p.started)),
    h('td', { class: 'cell-ellip mono hide-sm', title: p.exe == null ? null : str(p.exe) }, p.exe == null ? h('span', { class: 'faint', text: '—' }) : str(p.exe)),
    h('td', { class: 'cell-line', title: typeof p.cmdline === 'string' ? p.cmdline.slice(0, 2000) : null, text: str(p.cmdline) }));
  }

  function render() {
    const focusedPid = document.activeElement && document.activeElement.closest && tbody.contains(document.activeElement)
      ? (document.activeElement.closest('tr[data-pid]') || {}).dataset?.pid : null;
    const shown = st.items.filter((p) => st.kernel || !p.kernel_thread);
    const hidden = st.items.length - shown.length;
    kernelLabel.textContent = 'Show kernel threads' + (hidden || st.kernel ? ' (' + fmtCount(st.items.filter((p) => p.kernel_thread).length) + ')' : '');
    const frag = document.createDocumentFragment();
    for (const p of shown) frag.appendChild(row(p));
    clear(tbody).appendChild(frag);
    if (!shown.length) tbody.appendChild(emptyRow(COLS, st.q ? 'No processes match this search.' : hidden ? 'Only kernel threads here: tick “Show kernel threads”.' : 'No processes in the snapshot yet.'));
    const flagged = shown.filter((p) => processFlags(p).length).length;
    info.textContent = fmtCount(shown.length) + (shown.length === 1 ? ' process' : ' processes') +
      (hidden ? ' (' + fmtCount(hidden) + (hidden === 1 ? ' kernel thread' : ' kernel threads') + ' hidden)' : '') + (flagged ? ' · ' + fmtCount(flagged) + ' flagged' : '');
    if (focusedPid) {
      const tr = tbody.querySelector('tr[data-pid="' + CSS.escape(focusedPid) + '"]');
      if (tr) tr.focus({ preventScroll: true });
    }
  }

  async function load(fresh) {
    const my = ++st.token;
    if (fresh || !st.loaded) { st.loaded = false; clear(tbody).appendChild(emptyRow(COLS, 'Loading…')); info.textContent = ''; }
    try {
      const res = await get('/api/processes', { q: st.q, sort: st.sort });
      if (my !== st.token) return;
      st.items = (Array.isArray(res && res.items) ? res.items : []).filter((p) => p && typeof p === 'object');
      st.byPid = new Map(st.items.map((p) => [str(p.pid), p]));
      st.loaded = true;
      status.hidden = true;
      setSnapshotTime(snap, res ? res.taken : null);
      render();
    } catch (err) {
      if (my !== st.token) return;
      if (st.loaded) { // keep the last good list, say it is stale
        status.hidden = false;
        status.textContent = 'Could not refresh (' + errorText(err) + '); showing the previous snapshot, retrying every 10 s.';
      } else {
        clear(tbody).appendChild(emptyRow(COLS, 'Could not load processes: ' + errorText(err)));
        snap.textContent = '';
      }
    }
  }

  // ----- detail -----
  function openDetail(pid) {
    const p = st.byPid.get(pid);
    if (!p) return;
    st.detailPid = pid;
    for (const r of tbody.querySelectorAll('tr.selected')) r.classList.remove('selected');
    const tr = tbody.querySelector('tr[data-pid="' + CSS.escape(pid) + '"]');
    if (tr) tr.classList.add('selected');
    const panel = openPanel({ id: 'process-detail', title: str(p.name) + ' · ' + pid, label: 'process details',
      onClose: () => {
        st.detailPid = null;
        for (const r of tbody.querySelectorAll('tr.selected')) r.classList.remove('selected');
        const back = tbody.querySelector('tr[data-pid="' + CSS.escape(pid) + '"]'); // the opener may have been re-rendered
        if (back) back.focus({ preventScroll: true });
      } });
    const fl = processFlags(p);
    const parent = st.byPid.get(str(p.ppid));
    const ppid = parent
      ? h('button', { type: 'button', class: 'linklike mono', text: str(p.ppid) + ' (' + str(parent.name) + ')', title: 'Show the parent process',
        on: { click: () => openDetail(str(p.ppid)) } })
      : str(p.ppid);
    panel.body.append(
      fl.length ? h('div', { class: 'detail-actions' }, fl.map(([t, why]) => h('span', { class: 'flag-badge', text: t + ': ' + why }))) : '',
      fieldList([
        ['PID', pid, 'mono'],
        ['Parent PID', ppid, 'mono'],
        ['User', str(p.user) + (p.uid == null ? '' : ' (uid ' + p.uid + ')')],
        ['Name', str(p.name), 'mono'],
        ['Executable', p.exe == null ? null : str(p.exe) + (p.exe_deleted ? ' (deleted)' : ''), 'mono'],
        ['Working directory', p.cwd == null ? null : str(p.cwd), 'mono'],
        ['Started', startedEl(p.started)],
        ['CPU', cpuText(p.cpu_percent)],
        ['Memory (RSS)', fmtBytes(p.rss)],
        ['Kernel thread', p.kernel_thread ? 'yes' : 'no'],
      ]),
      h('h3', { class: 'section-title', text: 'Command line' }),
      h('ul', { class: 'evidence' }, h('li', { id: 'process-cmdline', text: str(p.cmdline) || '(empty)' })),
    );
  }
  tbody.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-pid]');
    if (tr) openDetail(tr.dataset.pid);
  });
  tbody.addEventListener('keydown', (e) => {
    const tr = e.target.closest('tr[data-pid]');
    if (!tr || e.target !== tr) return;
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); openDetail(tr.dataset.pid); }
    else if (e.key === 'ArrowDown' && tr.nextElementSibling) { e.preventDefault(); tr.nextElementSibling.focus(); }
    else if (e.key === 'ArrowUp' && tr.previousElementSibling) { e.preventDefault(); tr.previousElementSibling.focus(); }
  });

  const stop = poll(() => load(false), REFRESH_MS);
  load(true);
  return { unmount() { st.token++; stop(); applySoon.cancel(); } };
}
