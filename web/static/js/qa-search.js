// qa-search.js: finding calls to review on the quality page: a form of filters read into
// GET /api/v1/qa/calls, a table of what it finds (newest first, a page at a time), and a Review
// button on each row (docs/qa.md). An agent's search is their own calls, whatever they ask.

import { get } from './api.js';
import { h } from './dom.js';
import { timeElement } from './format.js';
import { clock } from './qa-review.js';

const resolutions = { ivr: 'IVR', agent: 'Agent', abandoned: 'Abandoned' };

/** query turns the filter form into the search's query string. */
function query(form) {
  const q = new URLSearchParams();
  const data = new FormData(form);
  const day = (name, end) => {
    const v = data.get(name);
    if (!v) return;
    const d = new Date(`${v}T00:00:00`); // The user's own midnight.
    if (end) d.setDate(d.getDate() + 1);
    q.set(name === 'from_day' ? 'since' : 'until', d.toISOString().replace(/\.\d+Z$/, 'Z'));
  };
  day('from_day', false);
  day('to_day', true);
  for (const name of ['agent', 'queue', 'intent', 'language', 'mood', 'resolution', 'disposition', 'csat_max', 'from']) {
    const v = String(data.get(name) || '').trim();
    if (v) q.set(name, v);
  }
  const min = Number(data.get('min_seconds'));
  if (min > 0) q.set('min_duration', `${min}s`);
  if (data.get('recorded')) q.set('recorded', '1');
  return q;
}

/**
 * mountSearch runs the search: form (the filters), results (where the table goes), summary (how
 * many were found), more (the next page's button), onReview(call) (a row's Review).
 */
export function mountSearch({ form, results, summary, more, onReview }) {
  let next = '';
  let shown = [];
  let params = null;

  async function run(append) {
    form.setAttribute('aria-busy', 'true');
    more.disabled = true;
    try {
      const q = new URLSearchParams(params);
      if (append) q.set('before', next);
      else q.set('count', '1');
      const res = await get(`/qa/calls?${q}`);
      shown = append ? shown.concat(res.calls || []) : (res.calls || []);
      next = res.next || '';
      if (!append) summary.textContent = res.total === 1 ? '1 call found.' : `${res.total ?? shown.length} calls found.`;
      render();
    } catch (err) {
      summary.textContent = `The search failed: ${err.message}`;
    } finally {
      form.setAttribute('aria-busy', 'false');
      more.disabled = !next;
      more.hidden = !next;
    }
  }

  function render() {
    if (!shown.length) {
      results.replaceChildren(h('div', { class: 'empty' }, h('strong', {}, 'No calls match.'),
        h('p', {}, 'Widen the dates or clear a filter.')));
      return;
    }
    const head = ['Started', 'Caller', 'Agent', 'Queue', 'Intent', 'Language', 'Mood', 'Duration', 'Disposition', 'CSAT', 'Resolved by', ''];
    results.replaceChildren(h('div', { class: 'table-wrap' }, h('table', { class: 'qa-results' },
      h('caption', { class: 'visually-hidden' }, 'Calls found, newest first'),
      h('thead', {}, h('tr', {}, head.map((name) => h('th', { scope: 'col' }, name)))),
      h('tbody', {}, shown.map(row)))));
  }

  function row(c) {
    const mood = c.angry ? 'angry' : typeof c.sentiment === 'number' ? c.sentiment.toFixed(2) : '—';
    return h('tr', { dataset: { callId: c.id, intent: c.intent || '' } },
      h('td', { class: 'nowrap' }, timeElement(c.started_at)),
      h('td', { class: 'mono' }, c.from || '—'),
      h('td', {}, c.agent || '—'),
      h('td', {}, c.queue || '—'),
      h('td', {}, c.intent || '—'),
      h('td', {}, c.language || '—'),
      h('td', { dataset: { angry: c.angry ? 'true' : 'false' } }, mood),
      h('td', { class: 'mono' }, c.duration_ms != null ? clock(c.duration_ms / 1000) : 'live'),
      h('td', {}, (c.disposition || '—').replaceAll('_', ' ')),
      h('td', { class: 'num' }, c.csat ? String(c.csat) : '—'),
      h('td', {}, resolutions[c.resolution] || '—'),
      h('td', {}, h('button', { class: 'button button-secondary button-small', type: 'button', dataset: { action: 'review' },
        'aria-label': `Review the call from ${c.from || 'unknown'}`, on: { click: () => onReview(c) } }, 'Review')));
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    params = query(form);
    run(false);
  });
  form.addEventListener('reset', () => setTimeout(() => form.requestSubmit(), 0));
  more.addEventListener('click', () => run(true));
  params = query(form);
  return run(false);
}
