// Pages whose data arrives with later work: a calm explanation, not an error.
import { h } from './dom.js';

const INFO = {
  devices: ['Devices', 'Arrives with network device discovery', 'Devices seen on the local network, new arrivals and address changes will be listed here.'],
};

export function mount(main, ctx) {
  const [title, lead, text] = INFO[ctx.name] || ['Not yet available', 'Arrives with later work', ''];
  main.append(h('section', { class: 'placeholder', id: 'placeholder', dataset: { page: ctx.name } },
    h('span', { class: 'big-icon', 'data-icon': ctx.name, 'aria-hidden': 'true' }),
    h('h1', { text: title }),
    h('p', { class: 'lead', text: lead + '.' }),
    h('p', { text: text }),
    h('p', null, h('a', { href: '#/overview', text: 'Back to the overview' }))));
  return {};
}
