// Settings: who is signed in, sign out. Intervals and notifications arrive later.
import { getSession, logout } from './api.js';
import { h, append, fieldList } from './dom.js';

export function mount(main) {
  const s = getSession() || {};
  const u = s.user || {};
  const admin = u.role === 'admin';
  append(main, [
    h('div', { class: 'page-head' }, h('div', null, h('h1', { text: 'Settings' }), h('p', { class: 'page-sub', text: 'Your session and this dashboard.' }))),
    h('div', { class: 'settings-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'acct-h' },
        h('div', { class: 'card-head' }, h('h2', { id: 'acct-h', text: 'Signed in' })),
        fieldList([
          ['User', h('span', { id: 'settings-user', text: String(u.name ?? '') })],
          ['Role', h('span', { id: 'settings-role', text: String(u.role ?? '') })],
          ['Permissions', admin ? 'Can change alert status, rules and imports.' : 'Read-only: can look at everything, change nothing.'],
        ]),
        h('button', { type: 'button', class: 'btn btn-danger', id: 'settings-logout', text: 'Sign out', on: { click: () => logout() } })),
      h('section', { class: 'card', 'aria-labelledby': 'later-h' },
        h('div', { class: 'card-head' }, h('h2', { id: 'later-h', text: 'Collection and notifications' })),
        h('p', { class: 'muted', text: 'Collection intervals, notification channels and retention settings arrive with later work. Until then they are set in the configuration file and on the command line.' })),
      h('section', { class: 'card', 'aria-labelledby': 'keys-h' },
        h('div', { class: 'card-head' }, h('h2', { id: 'keys-h', text: 'Keyboard' })),
        fieldList([
          [h('span', { class: 'kbd', text: '/' }), 'Focus the search box on list pages'],
          [h('span', { class: 'kbd', text: 'Esc' }), 'Close the open detail panel or menu'],
          [h('span', { class: 'kbd', text: 'Ctrl S' }), 'Save in the rule editor'],
        ]))),
  ]);
  return {};
}
