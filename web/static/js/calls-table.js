// calls-table.js: the list of calls from GET /api/v1/calls, with an empty state that says
// what will appear. Used by the supervisor floor and quality review.

import { get } from './api.js';
import { h } from './dom.js';
import { timeElement, duration } from './format.js';

/**
 * mountCallsTable renders calls into container and reloads on refresh clicks and on live
 * "call.event" events. empty: {title, text, icon} for when there are none.
 */
export function mountCallsTable({ container, refresh, live, empty, label }) {
  let loading = null;

  async function load() {
    if (loading) return loading;
    container.setAttribute('aria-busy', 'true');
    if (refresh) refresh.disabled = true;
    loading = (async () => {
      try {
        const { calls = [] } = (await get('/calls')) || {};
        container.replaceChildren(calls.length ? table(calls, label) : emptyState(empty));
      } catch (err) {
        container.replaceChildren(h('p', { class: 'message message-error', role: 'alert' },
          `Could not load calls: ${err.message}`));
      } finally {
        container.setAttribute('aria-busy', 'false');
        if (refresh) refresh.disabled = false;
        loading = null;
      }
    })();
    return loading;
  }

  if (refresh) refresh.addEventListener('click', load);
  if (live) {
    let timer = 0;
    live.on('call.event', () => {
      clearTimeout(timer);
      timer = setTimeout(load, 500); // A burst of call events reloads once.
    });
  }
  return load();
}

function emptyState({ title, text, icon = '/static/img/calls.svg' }) {
  return h('div', { class: 'empty' },
    h('img', { src: icon, alt: '' }),
    h('strong', {}, title),
    text ? h('p', {}, text) : null);
}

function table(calls, label) {
  const head = ['Started', 'Direction', 'From', 'To', 'Duration', 'Outcome', 'Node'];
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden' }, label || 'Calls'),
      h('thead', {}, h('tr', {}, head.map((name) => h('th', { scope: 'col' }, name)))),
      h('tbody', {}, [...calls].sort(newestFirst).map(row))));
}

function newestFirst(a, b) {
  return (Date.parse(b.started_at) || 0) - (Date.parse(a.started_at) || 0);
}

function row(call) {
  const end = call.ended_at || (call.answered_at ? new Date().toISOString() : null);
  return h('tr', { dataset: { callId: call.id } },
    h('td', { class: 'nowrap' }, timeElement(call.started_at)),
    h('td', {}, call.direction || '—'),
    h('td', { class: 'mono' }, call.from || '—'),
    h('td', { class: 'mono' }, call.to || '—'),
    h('td', { class: 'nowrap' }, duration(call.answered_at || call.started_at, end)),
    h('td', {}, outcomeTag(call)),
    h('td', { class: 'mono' }, call.node || '—'));
}

function outcomeTag(call) {
  if (!call.ended_at) return h('span', { class: 'tag tag-brand' }, call.answered_at ? 'In progress' : 'Ringing');
  const outcome = call.outcome || 'ended';
  const tone = /answer|complet|handled|resolv/i.test(outcome) ? 'tag-ok'
    : /abandon|miss|fail|reject|busy|error/i.test(outcome) ? 'tag-bad' : '';
  return h('span', { class: `tag ${tone}`.trim(), title: call.end_reason || null }, outcome.replaceAll('_', ' '));
}
