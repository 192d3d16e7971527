// qa.js: quality review: the calls the sampling policy chose for this reviewer, the search, and
// the call under review (player, transcript, timeline, comments, scorecard). An agent sees the
// same page for their own calls, with the scores QA gave them.

import { startShell, showPageError } from '../shell.js';
import { mountSearch } from '../qa-search.js';
import { mountReview } from '../qa-review.js';
import { mountScore } from '../qa-score.js';
import { get } from '../api.js';
import { h } from '../dom.js';
import { timeElement } from '../format.js';

async function main() {
  const { user } = await startShell();
  const $ = (id) => document.getElementById(id);
  if (user.role === 'agent') {
    $('qa-intro').textContent = 'Your calls: listen back, read the transcript, and see how QA scored them.';
    $('f-agent-field').hidden = true;
    $('search-hint').textContent = 'Your own calls only. Every filter is optional. Newest first.';
  }
  const review = mountReview({
    panel: $('review-panel'),
    title: $('review-title'),
    status: $('review-status'),
    audio: $('review-audio'),
    speed: $('review-speed'),
    progress: $('review-progress'),
    canvas: $('review-wave'),
    timeline: $('review-timeline'),
    transcript: $('review-transcript'),
  });
  const audio = $('review-audio');
  const score = mountScore({
    box: $('scorecard-box'),
    comments: $('review-comments'),
    commentForm: $('review-comment-form'),
    canEdit: user.role !== 'agent',
    playhead: () => audio.currentTime || 0,
    seek: (s) => { audio.currentTime = s; audio.play().catch(() => {}); },
  });
  const open = async (id) => {
    try {
      await review.open(id);
      await score.open(id);
      if (location.hash !== `#call=${id}`) history.replaceState(null, '', `#call=${encodeURIComponent(id)}`);
      $('review-title').focus();
    } catch (err) {
      $('review-status').textContent = `Could not open the call: ${err.message}`;
    }
  };
  await mountSearch({
    form: $('qa-filters'),
    results: $('qa-results'),
    summary: $('qa-summary'),
    more: $('qa-more'),
    onReview: (c) => open(c.id),
  });
  if (user.role === 'agent') {
    await showScores($, open, '');
  } else {
    await showQueue($, open);
    // Searching for an agent's calls also shows their scores over time.
    $('qa-filters').addEventListener('submit', () => {
      const agent = $('f-agent').value.trim();
      if (agent) showScores($, open, agent).catch(() => { $('scores-panel').hidden = true; });
      else $('scores-panel').hidden = true;
    });
  }
  const linked = /^#call=(.+)$/.exec(location.hash);
  if (linked) await open(decodeURIComponent(linked[1]));
}

// showQueue lists the calls sampling chose for this reviewer, each with why.
async function showQueue($, open) {
  const { reviews = [] } = (await get('/qa/reviews')) || {};
  if (!reviews.length) return;
  $('queue-panel').hidden = false;
  const reasons = { angry: 'angry caller', low_csat: 'low CSAT', long: 'long call', agent_minimum: "the agent's quota", random: 'at random' };
  $('review-queue').replaceChildren(h('ol', { class: 'review-list panel-body' }, reviews.map((c) => h('li', { dataset: { callId: c.id } },
    h('button', { class: 'review-line', type: 'button', on: { click: () => open(c.id) } },
      timeElement(c.started_at), ' ', h('strong', {}, c.from || 'unknown'), ` · ${c.queue || 'no queue'} · ${c.intent || 'no intent'} · `,
      `chosen for ${reasons[c.reason] || c.reason}`)))));
}

// showScores shows the scores QA gave an agent, oldest first, and their average: the agent
// signed in (agent ''), or the one named.
async function showScores($, open, agent) {
  const { scores = [], average } = (await get(`/qa/scores${agent ? `?agent=${encodeURIComponent(agent)}` : ''}`)) || {};
  $('scores-panel').hidden = false;
  $('scores-title').textContent = agent ? `Scores of ${agent}` : 'Your scores';
  const none = agent ? `No call of ${agent}'s has been scored yet.` : 'No call of yours has been scored yet.';
  $('scores-average').textContent = scores.length ? `Average ${Math.round(average)} / 100 over ${scores.length} reviewed calls.` : none;
  $('scores').replaceChildren(...scores.map((s) => h('li', { dataset: { callId: s.call_id } },
    h('button', { class: 'review-line', type: 'button', on: { click: () => open(s.call_id) } },
      timeElement(s.at), ' ', h('strong', { dataset: { field: 'score' } }, `${Math.round(s.score)} / 100`),
      s.failed ? ' (failed on a must-have item)' : '', ` by ${s.evaluator}`))));
}

main().catch(showPageError);
