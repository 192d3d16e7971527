// qa.js: quality review: the calls the sampling policy chose for this reviewer, the search, and
// the call under review (player, transcript, timeline, comments, scorecard). An agent sees the
// same page for their own calls, with the scores QA gave them.

import { startShell, showPageError } from '../shell.js';
import { mountSearch } from '../qa-search.js';
import { mountReview } from '../qa-review.js';

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
  const open = async (id) => {
    try {
      await review.open(id);
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
  const linked = /^#call=(.+)$/.exec(location.hash);
  if (linked) await open(decodeURIComponent(linked[1]));
}

main().catch(showPageError);
