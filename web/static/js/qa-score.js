// qa-score.js: what QA makes of the call under review: the scorecard (yes/no and 1-5 questions
// by section; QA fills and saves it, PUT /api/v1/calls/{id}/evaluation), the evaluations saved
// (each section's score), and comments at points of the recording (POST .../comments). An agent
// reads the same, for their own calls, without the form (docs/qa.md).

import { get, post, put } from './api.js';
import { h } from './dom.js';
import { clock } from './qa-review.js';

/**
 * mountScore runs the scorecard and comments of the review: box (the scorecard's container),
 * comments (the list), commentForm, canEdit (QA: fill the form and comment), playhead() (the
 * player's time, s), seek(s).
 */
export function mountScore({ box, comments, commentForm, canEdit, playhead, seek }) {
  let callId = '';
  let cards = [];

  async function open(id) {
    callId = id;
    box.hidden = false;
    commentForm.hidden = !canEdit;
    if (!cards.length) cards = ((await get('/scorecards')) || {}).scorecards || [];
    const review = await get(`/calls/${encodeURIComponent(id)}/review`);
    renderComments(review.comments || []);
    comments.closest('[hidden]')?.removeAttribute('hidden');
    const parts = [h('h3', {}, 'Scorecard')];
    for (const e of review.evaluations || []) parts.push(evaluation(e));
    if (!(review.evaluations || []).length) {
      parts.push(h('p', { class: 'muted', dataset: { field: 'no-evaluation' } }, 'Not scored yet.'));
    }
    if (canEdit && cards.length) parts.push(form(cards[0], (review.evaluations || [])[0]));
    box.replaceChildren(...parts);
  }

  function evaluation(e) {
    const result = e.result || {};
    return h('div', { class: 'evaluation', dataset: { evaluation: String(e.id), failed: e.failed ? 'true' : 'false' } },
      h('p', { class: 'evaluation-score' },
        h('strong', { dataset: { field: 'score' } }, `${Math.round(e.score)} / 100`),
        e.failed ? h('span', { class: 'transcript-angry' }, ' failed on a must-have item') : '',
        ` by ${e.evaluator}`),
      h('ul', { class: 'evaluation-sections' }, (result.sections || []).map((s) => h('li', {},
        `${s.title}: ${s.score < 0 ? 'not applicable' : Math.round(s.score)}`))),
      e.notes ? h('p', {}, e.notes) : '');
  }

  function form(card, mine) {
    let f;
    try {
      f = typeof card.form === 'string' ? JSON.parse(card.form) : card.form;
    } catch {
      return h('p', { class: 'message message-error' }, 'This scorecard cannot be read.');
    }
    const given = (mine && mine.answers) || {};
    const status = h('p', { class: 'scorecard-status', role: 'status', 'aria-live': 'polite' });
    const fields = (f.sections || []).map((sec, si) => h('fieldset', { class: 'scorecard-section' },
      h('legend', {}, sec.title),
      (sec.questions || []).map((q) => question(q, si, given[q.id] || {}))));
    const el = h('form', { class: 'scorecard', dataset: { scorecard: String(card.id) }, novalidate: true },
      h('p', { class: 'muted' }, `${f.title || card.name} (version ${card.version})`),
      ...fields,
      h('div', { class: 'field' }, h('label', { for: 'scorecard-notes' }, 'Notes for the agent'),
        h('textarea', { id: 'scorecard-notes', name: 'notes', rows: '3', maxlength: '4000' }, (mine && mine.notes) || '')),
      h('button', { class: 'button', type: 'submit' }, 'Save scorecard'),
      status);
    el.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const answers = {};
      for (const sec of f.sections || []) {
        for (const q of sec.questions || []) {
          const v = (new FormData(el)).get(`q-${q.id}`);
          if (v === 'na') answers[q.id] = { na: true };
          else if (q.kind === 'scale' && v) answers[q.id] = { scale: Number(v) };
          else if (v === 'yes' || v === 'no') answers[q.id] = { yes: v === 'yes' };
        }
      }
      status.textContent = 'Saving…';
      try {
        const saved = await put(`/calls/${encodeURIComponent(callId)}/evaluation`, {
          scorecard_id: card.id, answers, notes: String((new FormData(el)).get('notes') || ''),
        });
        status.textContent = `Saved: ${Math.round(saved.score)} / 100${saved.failed ? ', failed on a must-have item' : ''}.`;
        status.dataset.score = String(saved.score);
        await open(callId);
        box.querySelector('.scorecard-status').textContent = status.textContent;
        box.querySelector('.scorecard-status').dataset.score = String(saved.score);
      } catch (err) {
        status.textContent = `Not saved: ${err.message}`;
      }
    });
    return el;
  }

  function question(q, si, given) {
    const name = `q-${q.id}`;
    const choices = q.kind === 'scale'
      ? [['1', '1'], ['2', '2'], ['3', '3'], ['4', '4'], ['5', '5'], ['na', 'N/A']]
      : [['yes', 'Yes'], ['no', 'No'], ['na', 'N/A']];
    const current = given.na ? 'na' : q.kind === 'scale' ? String(given.scale || '') : given.yes === true ? 'yes' : given.yes === false ? 'no' : '';
    return h('div', { class: 'scorecard-question', role: 'radiogroup', 'aria-label': q.text, dataset: { question: q.id } },
      h('span', { class: 'scorecard-text' }, q.text, q.auto_fail ? h('span', { class: 'transcript-angry' }, ' (must-have)') : ''),
      h('span', { class: 'scorecard-choices' }, choices.map(([value, label]) => h('label', {},
        h('input', { type: 'radio', name, value, checked: current === value }), ` ${label}`))));
  }

  function renderComments(list) {
    comments.replaceChildren(...list.map((c) => h('li', {},
      h('button', { class: 'review-line', type: 'button', dataset: { at: String(c.at_ms / 1000) }, on: { click: () => seek(c.at_ms / 1000) } },
        h('span', { class: 'mono review-at' }, clock(c.at_ms / 1000)), h('strong', {}, `${c.author}:`), ' ',
        h('span', { dataset: { field: 'comment' } }, c.text)))));
    if (!list.length) comments.replaceChildren(h('li', { class: 'muted' }, 'No comments yet.'));
  }

  commentForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const input = commentForm.querySelector('input');
    const text = input.value.trim();
    if (!text || !callId) return;
    try {
      await post(`/calls/${encodeURIComponent(callId)}/comments`, { at_ms: Math.round(playhead() * 1000), text });
      input.value = '';
      const review = await get(`/calls/${encodeURIComponent(callId)}/review`);
      renderComments(review.comments || []);
    } catch (err) {
      input.setCustomValidity(err.message);
      input.reportValidity();
      input.setCustomValidity('');
    }
  });

  return { open };
}
