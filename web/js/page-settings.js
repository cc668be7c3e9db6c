// Settings: who is signed in; pop-ups and sound for new alerts in this browser; the
// notification channels picket.yaml configures, their recent deliveries (failures
// highlighted, with the error as the server gave it) and, for admins, "Send test".
// Subjects and errors carry text from hostile logs and remote servers: text only.
import { getSession, logout, get, post, errorText, isAdmin } from './api.js';
import { h, append, clear, fieldList, fmtRel, fmtTime, parseTs, poll, sevBadge, toast } from './dom.js';
import { POPUP_LEVELS, popupPrefs, setPopupPrefs, beep } from './alert-popup.js';

const REFRESH_MS = 10000;
const str = (v) => (v == null ? '' : String(v));
const LEVEL_LABELS = { off: 'Off', low: 'Low and above', medium: 'Medium and above', high: 'High and above', critical: 'Critical only' };

function ago(ts) {
  const d = parseTs(ts);
  return d ? h('time', { datetime: str(ts), title: fmtTime(ts), text: fmtRel(ts) }) : h('span', { class: 'faint', text: str(ts) || '—' });
}

export function mount(main) {
  const s = getSession() || {};
  const u = s.user || {};
  const admin = isAdmin();
  const st = { alive: true, loading: false, testing: false };

  // ----- pop-ups and sound (this browser) -----
  const prefs = popupPrefs();
  const minSel = h('select', { id: 'popup-min', 'aria-describedby': 'popup-help' },
    POPUP_LEVELS.map((l) => h('option', { value: l, text: LEVEL_LABELS[l], selected: l === prefs.min })));
  minSel.addEventListener('change', () => setPopupPrefs({ min: minSel.value }));
  const sound = h('input', { type: 'checkbox', id: 'popup-sound', checked: prefs.sound });
  sound.addEventListener('change', () => {
    setPopupPrefs({ sound: sound.checked });
    if (sound.checked) beep(); // also lets the browser start audio (a gesture on the page)
  });
  const popupCard = h('section', { class: 'card', 'aria-labelledby': 'popup-h' },
    h('div', { class: 'card-head' }, h('h2', { id: 'popup-h', text: 'Pop-ups for new alerts' })),
    h('p', { class: 'muted', id: 'popup-help', text: 'A pop-up on every page of this dashboard when an alert is raised, linking to it. Kept in this browser only.' }),
    h('div', { class: 'form-row' }, h('label', { for: 'popup-min', text: 'Show for' }), minSel),
    h('div', { class: 'form-row' }, h('label', { class: 'check-label' }, sound, ' Play a sound'),
      h('button', { type: 'button', class: 'btn btn-sm', id: 'popup-sound-test', text: 'Play sound', on: { click: () => { if (!beep()) toast('This browser cannot play sounds.', 'error'); } } })));

  // ----- notification channels and deliveries -----
  const failures = h('span', { id: 'notify-failures', class: 'notify-failures', dataset: { count: '' } });
  const channelsBody = h('tbody');
  const deliveriesBody = h('tbody');
  const errBox = h('p', { id: 'notify-error', class: 'snapshot-error', role: 'status', hidden: true });
  const results = h('ul', { id: 'notify-test-result', class: 'notify-results', 'aria-live': 'polite' });
  const testAll = admin ? h('button', { type: 'button', class: 'btn', id: 'notify-test', text: 'Send test to all', on: { click: () => sendTest(null) } }) : null;
  const notifyCard = h('section', { class: 'card notify-card', 'aria-labelledby': 'notify-h' },
    h('div', { class: 'card-head' }, h('h2', { id: 'notify-h', text: 'Notification channels' }), h('span', { class: 'spacer' }), failures, testAll),
    h('p', { class: 'muted', text: 'Set in picket.yaml under notifications.channels. Where a channel sends is shown as a host or the recipients only; tokens and passwords never leave the server.' }),
    errBox,
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Notification channels' },
      h('table', { class: 'data', id: 'notify-channels' },
        h('thead', null, h('tr', null, h('th', { text: 'Channel' }), h('th', { text: 'Kind' }), h('th', { text: 'Sends to' }),
          h('th', { text: 'From severity' }), h('th', { class: 'hide-sm', text: 'Rate limit' }), h('th', { class: 'num hide-sm', text: 'Dropped' }),
          admin ? h('th', { class: 'num', text: 'Test' }) : null)),
        channelsBody)),
    results,
    h('h3', { class: 'notify-sub', text: 'Recent deliveries' }),
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Recent deliveries' },
      h('table', { class: 'data', id: 'notify-deliveries' },
        h('thead', null, h('tr', null, h('th', { text: 'When' }), h('th', { text: 'Channel' }), h('th', { text: 'Status' }),
          h('th', { class: 'num', text: 'Tries' }), h('th', { class: 'num hide-sm', text: 'Alerts' }), h('th', { text: 'Subject / error' }))),
        deliveriesBody)));

  append(main, [
    h('div', { class: 'page-head' }, h('div', null, h('h1', { text: 'Settings' }), h('p', { class: 'page-sub', text: 'Your session, pop-ups in this browser, and where alerts are sent.' }))),
    h('div', { class: 'settings-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'acct-h' },
        h('div', { class: 'card-head' }, h('h2', { id: 'acct-h', text: 'Signed in' })),
        fieldList([
          ['User', h('span', { id: 'settings-user', text: String(u.name ?? '') })],
          ['Role', h('span', { id: 'settings-role', text: String(u.role ?? '') })],
          ['Permissions', admin ? 'Can change alert status, rules and imports.' : 'Read-only: can look at everything, change nothing.'],
        ]),
        h('button', { type: 'button', class: 'btn btn-danger', id: 'settings-logout', text: 'Sign out', on: { click: () => logout() } })),
      popupCard,
      notifyCard,
      h('section', { class: 'card', 'aria-labelledby': 'keys-h' },
        h('div', { class: 'card-head' }, h('h2', { id: 'keys-h', text: 'Keyboard' })),
        fieldList([
          [h('span', { class: 'kbd', text: '/' }), 'Focus the search box on list pages'],
          [h('span', { class: 'kbd', text: 'Esc' }), 'Close the open detail panel or menu'],
          [h('span', { class: 'kbd', text: 'Ctrl S' }), 'Save in the rule editor'],
        ]))),
  ]);

  function renderChannels(channels) {
    clear(channelsBody);
    if (!channels.length) {
      channelsBody.appendChild(h('tr', { class: 'empty-row' }, h('td', { colspan: admin ? 7 : 6, class: 'empty', id: 'notify-none',
        text: 'No channel is configured: alerts show in this dashboard only.' })));
      return;
    }
    for (const c of channels) {
      const rl = c.rate_limit ? c.rate_limit.max + ' per ' + c.rate_limit.per_secs + ' s, digest every ' + c.digest_secs + ' s' : 'none';
      channelsBody.appendChild(h('tr', { dataset: { channel: str(c.name), kind: str(c.kind) } },
        h('td', { class: 'mono', text: str(c.name) }),
        h('td', { text: str(c.kind) }),
        h('td', { class: 'mono notify-target', text: str(c.target) }),
        h('td', null, sevBadge(c.min_severity)),
        h('td', { class: 'hide-sm', text: rl }),
        h('td', { class: 'num hide-sm' + (c.dropped ? ' notify-bad' : ''), text: String(c.dropped ?? 0) }),
        admin ? h('td', { class: 'num' }, h('button', { type: 'button', class: 'btn btn-sm', dataset: { testChannel: str(c.name) }, text: 'Send test',
          on: { click: () => sendTest(c.name) } })) : null));
    }
  }

  function renderDeliveries(rows) {
    clear(deliveriesBody);
    if (!rows.length) {
      deliveriesBody.appendChild(h('tr', { class: 'empty-row' }, h('td', { colspan: 6, class: 'empty', id: 'notify-no-deliveries', text: 'Nothing sent yet.' })));
      return;
    }
    for (const d of rows) {
      const status = str(d.status);
      deliveriesBody.appendChild(h('tr', { class: status === 'failed' ? 'notify-failed' : status === 'retrying' ? 'notify-retrying' : null,
        dataset: { deliveryId: d.id, status, channel: str(d.channel) } },
        h('td', null, ago(d.updated)),
        h('td', { class: 'mono', text: str(d.channel) }),
        h('td', null, h('span', { class: 'status status-' + (status === 'sent' ? 'active' : 'failed'), text: status })),
        h('td', { class: 'num', text: String(d.attempts ?? '') }),
        h('td', { class: 'num hide-sm', text: String(d.alerts ?? '') }),
        h('td', { class: 'notify-text' }, h('div', { class: 'notify-subject', text: str(d.subject) }),
          d.error ? h('div', { class: 'notify-error-text mono', text: str(d.error) }) : null)));
    }
  }

  async function load() {
    if (st.loading || !st.alive) return;
    st.loading = true;
    try {
      const r = await get('/api/notifications', { limit: 50 });
      if (!st.alive) return;
      errBox.hidden = true;
      renderChannels(Array.isArray(r.channels) ? r.channels : []);
      renderDeliveries(Array.isArray(r.deliveries) ? r.deliveries : []);
      const n = typeof r.failures === 'number' ? r.failures : 0;
      failures.dataset.count = String(n);
      failures.textContent = n ? n + ' failed in 24 h' : 'no failures in 24 h';
      failures.classList.toggle('notify-bad', n > 0);
    } catch (err) {
      if (!st.alive) return;
      errBox.hidden = false;
      errBox.textContent = 'Cannot load the notification channels: ' + errorText(err);
    } finally {
      st.loading = false;
    }
  }

  async function sendTest(channel) {
    if (st.testing) return;
    st.testing = true;
    const buttons = notifyCard.querySelectorAll('button[data-test-channel], #notify-test');
    for (const b of buttons) b.disabled = true;
    clear(results).appendChild(h('li', { class: 'muted', text: 'Sending…' }));
    try {
      const r = await post('/api/notifications/test', channel ? { channel } : {});
      clear(results);
      for (const x of Array.isArray(r.results) ? r.results : []) {
        results.appendChild(h('li', { class: x.ok ? 'notify-ok' : 'notify-bad', dataset: { channel: str(x.channel), ok: x.ok ? '1' : '0' } },
          h('span', { class: 'mono', text: str(x.channel) }), x.ok ? ': sent' : ': failed: ' + str(x.error)));
      }
    } catch (err) {
      clear(results).appendChild(h('li', { class: 'notify-bad', text: 'Test failed: ' + errorText(err) }));
    } finally {
      st.testing = false;
      for (const b of buttons) b.disabled = false;
      load();
    }
  }

  load();
  const stop = poll(load, REFRESH_MS);
  return { unmount() { st.alive = false; stop(); } };
}
