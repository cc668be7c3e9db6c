// Pages whose data arrives with later work: a calm explanation, not an error. None is
// routed here today (app.js's PAGES); a page added to the navigation before its code
// points here, with its [title, lead, text] in INFO, or gets the generic words.
import { h } from './dom.js';

const INFO = {};

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
