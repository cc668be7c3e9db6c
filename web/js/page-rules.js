// Rules: the list (with files that do not compile), enable toggles, import/export, and
// the editor (line-numbered textarea; validate, run tests, save).
import { get, put, patch, post, request, seg, isAdmin, errorText, ApiError } from './api.js';
import { h, append, clear, debounce, throttle, toast, fmtCount, sevBadge, statusBadge, mitreLinks, emptyRow, fieldList } from './dom.js';
import * as stream from './stream.js';

const YAML_TEMPLATE = `# What this rule detects and why.
id: my-new-rule
title: My new rule
description: >
  Five failed SSH logins from one address within a minute.
severity: medium
tags: [ssh]
match:
  type: [FAILED_LOGIN, INVALID_USER]
  where:
    program: sshd
threshold: { count: 5, within: 60s, group_by: [src_ip] }
suppress: 10m
tests:
  - name: five failures in a minute fire
    lines: |
      2026-11-21T10:00:01+00:00 web sshd[100]: Failed password for root from 203.0.113.9 port 40001 ssh2
      2026-11-21T10:00:05+00:00 web sshd[100]: Failed password for root from 203.0.113.9 port 40001 ssh2
      2026-11-21T10:00:09+00:00 web sshd[100]: Failed password for root from 203.0.113.9 port 40001 ssh2
      2026-11-21T10:00:12+00:00 web sshd[100]: Failed password for root from 203.0.113.9 port 40001 ssh2
      2026-11-21T10:00:20+00:00 web sshd[100]: Failed password for root from 203.0.113.9 port 40001 ssh2
    expect: { alerts: 1, group: { src_ip: 203.0.113.9 }, count: 5 }
  - name: one failure does not
    lines: |
      2026-11-21T10:00:01+00:00 web sshd[100]: Failed password for root from 203.0.113.9 port 40001 ssh2
    expect: { alerts: 0 }
`;
const RHAI_TEMPLATE = `// What this rule detects and why.
const META = #{
    id: "my-new-rule",
    title: "My new rule",
    severity: "medium",
    types: ["FAILED_LOGIN"],
    suppress: "30m",
    tests: [
        #{
            name: "one failure fires",
            lines: \`2026-11-21T10:00:01+00:00 web sshd[100]: Failed password for root from 203.0.113.9 port 40001 ssh2
\`,
            expect: #{ alerts: 1, group: #{ src_ip: "203.0.113.9" } },
        },
    ],
};

fn on_event(ev) {
    if ev.src_ip == () { return; }
    alert(#{ group: #{ src_ip: ev.src_ip } });
}
`;

export function mount(main, ctx) {
  const id = ctx.params[0];
  return id ? mountEditor(main, ctx, id) : mountList(main, ctx);
}

function posText(e) {
  if (e.line == null) return '';
  return e.line + (e.column != null ? ':' + e.column : '');
}

// ======================= list =======================
function mountList(main) {
  let admin = isAdmin();
  const cleanups = [];
  let rules = [];
  let alive = true;
  let lastText = null; // the last /api/rules answer, to skip re-rendering an unchanged list

  const errorsBox = h('section', { class: 'error-box', id: 'rules-file-errors-box', hidden: true, 'aria-live': 'polite' });
  const readOnlyNote = h('p', { class: 'notice', id: 'rules-readonly', hidden: true,
    text: 'Picket runs its built-in rules, which cannot be changed here: start it with --rules DIR to edit, enable or import rules.' });
  const search = h('input', { type: 'search', id: 'rules-search', 'data-search': '', placeholder: 'Filter by id, title, tag…  ( / )', 'aria-label': 'Filter rules', autocomplete: 'off' });
  const tbody = h('tbody');
  const summary = h('p', { class: 'page-sub' });

  // import
  const fileIn = h('input', { type: 'file', id: 'rules-import-file', accept: '.yaml,.yml,.json,application/json,text/yaml', 'aria-label': 'Bundle file' });
  const replace = h('input', { type: 'checkbox', id: 'rules-import-replace' });
  const importBtn = h('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-icon': 'upload', id: 'rules-import', text: 'Import', disabled: true });
  const importResult = h('div', { id: 'rules-import-result', 'aria-live': 'polite' });
  fileIn.addEventListener('change', () => { importBtn.disabled = !fileIn.files.length; importResult.replaceChildren(); });
  importBtn.addEventListener('click', doImport);
  const importCard = admin ? h('details', { class: 'card import-card admin-only' },
    h('summary', { text: 'Import a rule bundle' }),
    h('p', { class: 'muted', text: 'A bundle made by Export or "picket rules export". All or nothing: every rule must compile, and ids that already exist are refused unless you replace them.' }),
    h('div', { class: 'row' }, fileIn, h('label', { class: 'check-label' }, replace, 'Replace existing rules with the same id'), importBtn),
    importResult) : null;

  append(main, [
    h('div', { class: 'page-head' },
      h('div', null, h('h1', { text: 'Rules' }), summary), h('span', { class: 'spacer' }),
      admin ? h('a', { href: '#/rules/new', id: 'rule-new', class: 'btn btn-primary admin-only', 'data-icon': 'plus', text: 'New rule' }) : null,
      h('a', { href: '/api/rules/export?format=yaml', class: 'btn', 'data-icon': 'download', download: 'picket-rules.yaml', id: 'rules-export', text: 'Export YAML' }),
      h('a', { href: '/api/rules/export?format=json', class: 'btn', 'data-icon': 'download', download: 'picket-rules.json', text: 'JSON' })),
    readOnlyNote,
    errorsBox,
    importCard,
    h('div', { class: 'toolbar' }, h('div', { class: 'grow' }, search)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'rules-table' },
      h('thead', null, h('tr', null, h('th', { text: 'Rule' }), h('th', { class: 'hide-sm', text: 'Kind' }), h('th', { text: 'Severity' }),
        h('th', { text: 'Enabled' }), h('th', { class: 'hide-sm', text: 'Status' }), h('th', { class: 'num', text: 'Hits' }), h('th', { class: 'hide-sm', text: 'Last error' }))),
      tbody)),
  ]);

  function render() {
    const q = search.value.trim().toLowerCase();
    clear(tbody);
    const shown = rules.filter((r) => !q || [r.id, r.title, r.file, ...(Array.isArray(r.tags) ? r.tags : []), ...(Array.isArray(r.mitre) ? r.mitre : [])]
      .some((x) => String(x ?? '').toLowerCase().includes(q)));
    for (const r of shown) tbody.appendChild(row(r));
    if (!shown.length) tbody.appendChild(emptyRow(7, rules.length ? 'No rule matches "' + search.value.trim() + '".' : 'No rules loaded.'));
  }
  function row(r) {
    const rid = String(r.id);
    const sw = h('button', { type: 'button', class: 'switch', role: 'switch', 'aria-checked': String(!!r.enabled), 'aria-label': 'Enabled: ' + rid,
      disabled: !admin, title: admin ? (r.enabled ? 'Disable' : 'Enable') + ' this rule' : isAdmin() ? 'The built-in rules cannot be changed' : 'Read-only role', dataset: { toggle: rid } });
    sw.addEventListener('click', (e) => { e.stopPropagation(); toggle(r, sw); });
    const tr = h('tr', { class: 'clickable', dataset: { ruleId: rid } },
      h('td', { class: 'cell-title' }, h('a', { href: '#/rules/' + seg(rid), class: 'rule-link', text: r.title ?? rid }), h('span', { class: 'rule-id', text: rid })),
      h('td', { class: 'hide-sm' }, h('span', { class: 'type-tag', text: r.kind ?? '' })),
      h('td', null, sevBadge(r.severity)),
      h('td', null, sw),
      h('td', { class: 'hide-sm' }, statusBadge(r.status)),
      h('td', { class: 'num', text: fmtCount(r.hits ?? 0) }),
      h('td', { class: 'hide-sm' }, r.last_error ? h('span', { class: 'rule-err', title: String(r.last_error), text: String(r.last_error) }) : h('span', { class: 'faint', text: '—' })));
    tr.addEventListener('click', (e) => { if (!e.target.closest('a,button')) location.hash = '#/rules/' + seg(rid); });
    return tr;
  }
  async function toggle(r, sw) {
    sw.disabled = true;
    try {
      const upd = await patch('/api/rules/' + seg(r.id), { enabled: !r.enabled });
      const hits = r.hits;
      Object.assign(r, upd && upd.id != null ? upd : { enabled: !r.enabled });
      if (typeof hits === 'number' && !(r.hits > hits)) r.hits = hits; // the PATCH answer counts no hits
      lastText = null; // the reload the file watcher triggers must re-render
      toast('Rule ' + r.id + (r.enabled ? ' enabled.' : ' disabled.'), 'ok');
      const tr = sw.closest('tr');
      if (tr) tr.replaceWith(row(r));
    } catch (err) {
      toast('Not changed: ' + errorText(err), 'error');
      sw.disabled = false;
    }
  }
  function renderErrors(errs) {
    errs = Array.isArray(errs) ? errs : [];
    errorsBox.hidden = !errs.length;
    if (!errs.length) return;
    errorsBox.replaceChildren(
      h('h2', null, h('span', { class: 'ic', 'data-icon': 'warn', 'aria-hidden': 'true' }),
        errs.length + (errs.length === 1 ? ' rule file does not compile' : ' rule files do not compile')),
      h('p', { text: 'The last good version of each keeps running. Fix the file and save it again.' }),
      h('ul', { id: 'rules-file-errors' }, errs.map((e) => h('li', null,
        h('span', { class: 'mono', text: String(e.file ?? '?') + (e.line != null ? ':' + posText(e) : '') }), ' — ', String(e.message ?? '')))));
  }
  async function load() {
    try {
      const res = await get('/api/rules', { limit: 500 });
      if (!alive) return;
      const text = JSON.stringify(res);
      if (text === lastText) return;
      lastText = text;
      rules = Array.isArray(res && res.items) ? res.items : [];
      const editable = !(res && res.editable === false);
      readOnlyNote.hidden = editable;
      if (!editable && admin) {
        admin = false; // built-in rule set: nothing can be saved, enabled or imported
        for (const el of main.querySelectorAll('.admin-only, #rule-new')) el.hidden = true;
      }
      renderErrors(res && res.errors);
      const active = rules.filter((r) => r.status === 'active').length;
      summary.textContent = rules.length + ' rules · ' + active + ' active' + (rules.length - active ? ' · ' + (rules.length - active) + ' disabled or failed' : '');
      render();
    } catch (err) {
      if (!alive) return;
      clear(tbody).appendChild(emptyRow(7, 'Could not load rules: ' + errorText(err)));
    }
  }
  async function doImport() {
    const f = fileIn.files[0];
    if (!f) return;
    importBtn.disabled = true;
    importResult.replaceChildren(h('p', { class: 'loading', text: 'Importing…' }));
    try {
      const text = await f.text();
      const json = /^\s*[[{]/.test(text);
      const res = await request('POST', '/api/rules/import?replace=' + (replace.checked ? 'true' : 'false'), {
        raw: text, contentType: json ? 'application/json' : 'application/yaml' });
      const got = Array.isArray(res && res.imported) ? res.imported.map(String) : [];
      toast('Imported ' + got.length + ' rule' + (got.length === 1 ? '' : 's') + '.', 'ok');
      fileIn.value = '';
      lastText = null;
      await load();
      // API.md promises rule ids; the server may answer with file paths: link what we can.
      const base = (x) => x.replace(/^.*[\\/]/, '');
      const ruleFor = (x) => rules.find((r) => r.id === x) || rules.find((r) => r.file === base(x));
      importResult.replaceChildren(h('p', { class: 'ok-yes', text: 'Imported ' + got.length + ' rule' + (got.length === 1 ? '' : 's') + ':' }),
        h('ul', { class: 'import-list' }, got.map((x) => {
          const r = ruleFor(x);
          return h('li', null, r ? h('a', { href: '#/rules/' + seg(r.id), class: 'mono', text: String(r.id) }) : h('span', { class: 'mono', text: base(x) }),
            r && r.file ? h('span', { class: 'faint', text: ' ' + String(r.file) }) : null);
        })));
    } catch (err) {
      const title = err instanceof ApiError && err.code === 'conflict' ? 'Not imported: these ids already exist (tick "Replace" to overwrite them).'
        : 'Not imported: ' + errorText(err);
      importResult.replaceChildren(h('div', { class: 'error-box' }, h('p', { text: title }),
        err.details && err.details.length ? h('ul', null, err.details.map((d) => h('li', null,
          d.line != null ? h('span', { class: 'mono', text: posText(d) + ' ' }) : null, String(d.message ?? JSON.stringify(d))))) : null));
      toast('Import failed.', 'error');
    } finally {
      importBtn.disabled = !fileIn.files.length;
    }
  }

  search.addEventListener('input', debounce(render, 120));
  const loadSoon = throttle(load, 1500);
  cleanups.push(stream.on('rules', () => loadSoon()), stream.on('lagged', () => loadSoon()), () => loadSoon.cancel());
  load();
  return { unmount() { alive = false; cleanups.forEach((f) => f()); } };
}

// ======================= editor =======================
function mountEditor(main, ctx, ruleId) {
  const admin = isAdmin();
  const isNew = ruleId === 'new';
  const cleanups = [];
  let alive = true;
  let original = '';
  let summary = null;
  let errorLines = new Set();

  const fileIn = h('input', { type: 'text', id: 'rule-file', spellcheck: 'false', autocomplete: 'off', 'aria-label': 'File name',
    placeholder: 'my-rule.yaml', readOnly: !isNew, value: isNew ? 'my-new-rule.yaml' : '' });
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const editor = h('textarea', { id: 'rule-editor', spellcheck: 'false', autocomplete: 'off', autocapitalize: 'off', wrap: 'off',
    'aria-label': 'Rule source', 'aria-describedby': 'rule-editor-hint' });
  const dirty = h('span', { class: 'dirty-dot', hidden: true, text: '● unsaved changes' });
  const errList = h('ul', { id: 'rule-errors', 'aria-live': 'polite' });
  const testList = h('ul', { id: 'rule-test-results', 'aria-live': 'polite' });
  const errHint = h('p', { class: 'muted', text: 'Validate to check the file.' });
  const testHint = h('p', { class: 'muted', text: 'Runs the cases in the rule\'s own tests: section.' });
  const info = h('div');
  const heading = h('h1', { text: isNew ? 'New rule' : ruleId });
  const validateBtn = h('button', { type: 'button', class: 'btn', id: 'rule-validate', 'data-icon': 'check', text: 'Validate', on: { click: () => validate() } });
  const testBtn = h('button', { type: 'button', class: 'btn', id: 'rule-test', text: '▶ Run tests', on: { click: () => runTests() } });
  const saveBtn = admin ? h('button', { type: 'button', class: 'btn btn-primary', id: 'rule-save', text: isNew ? 'Create' : 'Save', on: { click: () => save() } }) : null;
  const newBtn = admin ? h('a', { href: '#/rules/new', class: 'btn', id: 'rule-new', 'data-icon': 'plus', text: 'New rule' }) : null;
  const kindSeg = isNew ? h('div', { class: 'seg', role: 'group', 'aria-label': 'Rule language' },
    h('button', { type: 'button', 'aria-pressed': 'true', dataset: { kind: 'yaml' }, text: 'YAML', on: { click: () => setKind('yaml') } }),
    h('button', { type: 'button', 'aria-pressed': 'false', dataset: { kind: 'rhai' }, text: 'Rhai', on: { click: () => setKind('rhai') } })) : null;

  append(main, [
    h('div', { class: 'page-head' },
      h('a', { href: '#/rules', class: 'btn btn-ghost btn-sm', 'data-icon': 'back', text: 'Rules' }),
      h('div', null, heading), h('span', { class: 'spacer' }),
      newBtn, h('a', { href: '/api/rules/export?format=yaml', class: 'btn', 'data-icon': 'download', download: 'picket-rules.yaml', text: 'Export' }),
      validateBtn, testBtn, saveBtn),
    h('div', { class: 'toolbar' },
      h('div', { class: 'file-row' }, h('label', { for: 'rule-file', class: 'muted', text: 'File' }), fileIn, kindSeg, dirty)),
    admin ? null : h('p', { class: 'notice', text: 'Read-only role: you can validate and test edits here, but not save them.' }),
    h('div', { class: 'editor-layout' },
      h('div', null,
        h('div', { class: 'editor' }, gutter, editor),
        h('p', { id: 'rule-editor-hint', class: 'faint', text: 'Tab indents; press Esc then Tab to leave the editor. Ctrl+S saves.' })),
      h('aside', { class: 'side-panel' },
        h('section', { class: 'card', 'aria-labelledby': 'errs-h' }, h('div', { class: 'card-head' }, h('h2', { id: 'errs-h', text: 'Problems' })), errHint, errList),
        h('section', { class: 'card', 'aria-labelledby': 'tests-h' }, h('div', { class: 'card-head' }, h('h2', { id: 'tests-h', text: 'Tests' })), testHint, testList),
        h('section', { class: 'card', 'aria-labelledby': 'info-h' }, h('div', { class: 'card-head' }, h('h2', { id: 'info-h', text: 'Rule' })), info))),
  ]);

  // ----- gutter -----
  let lineCount = 0;
  function renderGutter() {
    const n = editor.value.split('\n').length;
    if (n !== lineCount) {
      const frag = document.createDocumentFragment();
      for (let i = 1; i <= n; i++) frag.appendChild(h('div', { dataset: { line: i }, class: errorLines.has(i) ? 'error' : null, text: i }));
      frag.appendChild(h('div', { class: 'gutter-pad' }));
      gutter.replaceChildren(frag);
      lineCount = n;
    }
    gutter.scrollTop = editor.scrollTop;
  }
  function markErrors(lines) {
    errorLines = new Set(lines);
    for (const d of gutter.children) d.classList.toggle('error', errorLines.has(Number(d.dataset.line)));
  }
  editor.addEventListener('scroll', () => { gutter.scrollTop = editor.scrollTop; });
  editor.addEventListener('input', () => { renderGutter(); dirty.hidden = editor.value === original; });
  let escArmed = false;
  editor.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { escArmed = true; return; }
    if (e.key === 'Tab' && !e.shiftKey && !escArmed && !e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault();
      if (!document.execCommand('insertText', false, '  ')) editor.setRangeText('  ', editor.selectionStart, editor.selectionEnd, 'end');
    }
    escArmed = false;
  });
  const onKey = (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') { e.preventDefault(); if (admin) save(); }
  };
  document.addEventListener('keydown', onKey);
  cleanups.push(() => document.removeEventListener('keydown', onKey));

  function gotoLine(line, column) {
    const lines = editor.value.split('\n');
    const l = Math.max(1, Math.min(line, lines.length));
    let pos = 0;
    for (let i = 0; i < l - 1; i++) pos += lines[i].length + 1;
    if (column > 0) pos += Math.min(column - 1, lines[l - 1].length);
    editor.focus();
    editor.setSelectionRange(pos, pos);
    const lh = 20;
    const target = (l - 1) * lh;
    if (target < editor.scrollTop || target > editor.scrollTop + editor.clientHeight - 2 * lh) editor.scrollTop = Math.max(0, target - editor.clientHeight / 3);
    gutter.scrollTop = editor.scrollTop;
  }

  function setKind(kind) {
    for (const b of kindSeg.children) b.setAttribute('aria-pressed', String(b.dataset.kind === kind));
    const untouched = editor.value === YAML_TEMPLATE || editor.value === RHAI_TEMPLATE || !editor.value.trim();
    if (untouched) { editor.value = kind === 'rhai' ? RHAI_TEMPLATE : YAML_TEMPLATE; original = editor.value; renderGutter(); }
    fileIn.value = fileIn.value.replace(/\.(ya?ml|rhai)$/i, '') + (kind === 'rhai' ? '.rhai' : '.yaml');
  }

  // ----- results -----
  function showErrors(errs, okText) {
    clear(errList);
    errs = Array.isArray(errs) ? errs : [];
    errHint.hidden = true;
    if (!errs.length) {
      errList.appendChild(h('li', { class: 'ok' }, h('span', { class: 'ic', 'data-icon': 'check', 'aria-hidden': 'true' }), okText || 'No problems found.'));
      markErrors([]);
      return;
    }
    const lines = [];
    for (const e of errs) {
      const line = Number.isInteger(e.line) && e.line > 0 ? e.line : null;
      const col = Number.isInteger(e.column) && e.column > 0 ? e.column : 0;
      if (line) lines.push(line);
      const btn = h('button', { type: 'button', title: line ? 'Go to line ' + line : null },
        line ? h('span', { class: 'pos', text: line + ':' + (col || 1) }) : null, String(e.message ?? 'error'));
      if (line) btn.addEventListener('click', () => gotoLine(line, col));
      errList.appendChild(h('li', { dataset: { line: line ?? undefined } }, btn));
    }
    markErrors(lines);
  }
  const body = () => ({ file: fileIn.value.trim(), source: editor.value });
  function checkFile() {
    if (!fileIn.value.trim()) { toast('Give the file a name, e.g. my-rule.yaml.', 'error'); fileIn.focus(); return false; }
    return true;
  }
  function busy(on) {
    for (const b of [validateBtn, testBtn, saveBtn]) if (b) b.disabled = on;
  }

  async function validate(quiet) {
    if (!checkFile()) return null;
    busy(true);
    try {
      const r = await post('/api/rules/validate', body());
      const errs = Array.isArray(r && r.errors) ? r.errors : [];
      const ok = !!(r && r.ok) && !errs.length;
      showErrors(errs, 'Valid: the rule compiles.');
      if (!quiet) toast(ok ? 'Valid.' : errs.length + ' problem' + (errs.length === 1 ? '' : 's') + ' found.', ok ? 'ok' : 'error');
      return ok;
    } catch (err) {
      if (err.details && err.details.length) showErrors(err.details);
      toast('Validation failed: ' + errorText(err), 'error');
      return null;
    } finally { busy(false); }
  }

  async function runTests() {
    if (!checkFile()) return;
    busy(true);
    testHint.hidden = true;
    clear(testList).appendChild(h('li', { class: 'loading', text: 'Running…' }));
    try {
      const r = await post('/api/rules/test', body());
      const cases = Array.isArray(r && r.cases) ? r.cases : [];
      clear(testList);
      const failed = cases.filter((c) => !c.ok).length;
      testList.appendChild(h('li', { class: 'summary', dataset: { ok: String(!!(r && r.ok)) } },
        h('span', { class: failed ? 'fail' : 'pass', text: failed ? 'FAIL' : 'PASS' }),
        h('span', { text: cases.length ? (cases.length - failed) + ' of ' + cases.length + ' cases passed' : 'This rule has no tests.' })));
      for (const c of cases) {
        testList.appendChild(h('li', { dataset: { ok: String(!!c.ok) } },
          h('span', { class: c.ok ? 'pass' : 'fail', text: c.ok ? '✓ pass' : '✗ fail' }),
          h('span', { text: String(c.name ?? '') }),
          c.message && !(c.ok && c.message === 'passed') ? h('span', { class: 'msg', text: String(c.message) }) : null));
      }
      showErrors([], 'Compiles.');
      toast(failed ? failed + ' test' + (failed === 1 ? '' : 's') + ' failed.' : 'All tests passed.', failed ? 'error' : 'ok');
    } catch (err) {
      clear(testList).appendChild(h('li', null, h('span', { class: 'fail', text: 'ERROR' }), h('span', { text: errorText(err) })));
      if (err.details && err.details.length) showErrors(err.details);
      toast('Tests not run: ' + errorText(err), 'error');
    } finally { busy(false); }
  }

  async function save() {
    if (!admin || !checkFile()) return;
    const ok = await validate(true);
    if (ok === null) return;
    if (!ok) { toast('Not saved: fix the problems first.', 'error'); const f = errList.querySelector('button'); if (f) f.focus(); return; }
    busy(true);
    try {
      const r = await put('/api/rules/' + (isNew ? 'new' : seg(ruleId)), body());
      original = editor.value;
      dirty.hidden = true;
      showErrors([], 'Saved. The rule reloads within a second.');
      toast('Saved ' + (r && r.file ? String(r.file) : fileIn.value) + '.', 'ok');
      if (r && r.id != null) {
        const hits = summary && typeof summary.hits === 'number' ? summary.hits : 0;
        summary = { ...r, hits: Math.max(hits, typeof r.hits === 'number' ? r.hits : 0) }; // the PUT answer counts no hits
        renderInfo();
        refreshInfo();
        if (isNew) { location.hash = '#/rules/' + seg(r.id); }
      }
    } catch (err) {
      if (err.details && err.details.length) showErrors(err.details);
      toast('Not saved: ' + errorText(err), 'error');
    } finally { busy(false); }
  }

  function renderInfo() {
    if (!summary) { info.replaceChildren(h('p', { class: 'muted', text: isNew ? 'Not saved yet.' : 'No details.' })); return; }
    const s = summary;
    heading.textContent = s.title ?? s.id ?? ruleId;
    info.replaceChildren(fieldList([
      ['Id', String(s.id ?? ''), 'mono'],
      ['Severity', sevBadge(s.severity)],
      ['Kind', String(s.kind ?? '')],
      ['Status', statusBadge(s.status)],
      ['Enabled', s.enabled ? 'yes' : 'no'],
      ['Hits', fmtCount(s.hits ?? 0)],
      ['ATT&CK', Array.isArray(s.mitre) && s.mitre.length ? mitreLinks(s.mitre) : null],
      ['Tags', Array.isArray(s.tags) && s.tags.length ? s.tags.map(String).join(', ') : null],
      ['Last error', s.last_error ? String(s.last_error) : null, 'mono'],
    ]));
  }

  async function load() {
    if (isNew) {
      editor.value = original = YAML_TEMPLATE;
      renderGutter();
      renderInfo();
      return;
    }
    editor.value = '';
    editor.placeholder = 'Loading…';
    try {
      let r;
      // A rule just created (or imported) is known once hot reload has read its file,
      // within a second or so: a 404 is retried for a few seconds before it is shown.
      for (let attempt = 0; ; attempt++) {
        try { r = await get('/api/rules/' + seg(ruleId)); break; } catch (err) {
          if (!(err instanceof ApiError && err.status === 404) || attempt >= 8 || !alive) throw err;
          await new Promise((res) => setTimeout(res, 500));
        }
      }
      if (!alive) return;
      const { source: _src, ...sum } = r || {};
      summary = sum;
      fileIn.value = String(r.file ?? '');
      editor.value = original = typeof r.source === 'string' ? r.source : '';
      editor.placeholder = '';
      renderGutter();
      renderInfo();
    } catch (err) {
      if (!alive) return;
      editor.placeholder = '';
      info.replaceChildren(h('div', { class: 'error-box', text: errorText(err) }));
      toast('Could not load rule: ' + errorText(err), 'error');
      busy(true);
    }
  }

  renderGutter();
  const refreshInfo = throttle(() => {
    if (isNew || !alive) return;
    get('/api/rules/' + seg(ruleId)).then((r) => {
      if (!alive || !r) return;
      const { source: _src, ...next } = r;
      if (JSON.stringify(next) === JSON.stringify(summary)) return;
      summary = next;
      renderInfo();
    }).catch(() => {});
  }, 1500);
  cleanups.push(stream.on('rules', () => refreshInfo()), () => refreshInfo.cancel());
  load();
  return { unmount() { alive = false; cleanups.forEach((f) => f()); } };
}
