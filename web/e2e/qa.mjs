// qa.mjs: reviews a call on the quality page with headless Chromium, the way QA staff would:
// signs in, filters the calls by intent, opens the one found, plays it (the page reports
// progress), clicks a transcript line (the player seeks there), scores it on the scorecard and
// leaves a comment at the playhead. As the agent (SAMBUNG_ROLE=agent), it opens the same call
// from their own list and reads the score and the comment QA left.
//
// Environment:
//   SAMBUNG_URL            base URL of the server
//   SAMBUNG_QA_NAME        user to sign in as
//   SAMBUNG_QA_PASSWORD    their password
//   SAMBUNG_ROLE           qa (default) or agent
//   SAMBUNG_INTENT         the intent to filter by (QA)
//   SAMBUNG_CALL_ID        the call the review must be of
//   SAMBUNG_COMMENT        the comment QA leaves, and the agent must read
//   SAMBUNG_EXPECT_SCORE   the agent: the score (out of 100, rounded) they must be shown
//   SAMBUNG_AGENT          QA: the sign-in name of the call's agent (default agent), whose scores
//                          they then look up
//   SAMBUNG_ARTIFACTS      directory for screenshots
//   CHROMIUM               browser binary (default /usr/bin/chromium)
//
// Output: one JSON line per check, {"check","ok","detail"}; the score saved is reported as
// {"check":"score","ok":true,"detail":"NN"}. Exit status 0 only if all passed.

import { report, check, assert, watch, envBase, envLogin, cleanPage, configured } from './checks.mjs';
import { launch, run, shoot, signIn } from './browser.mjs';
import { mkdir } from 'node:fs/promises';

const stepTimeoutMs = 15_000;

async function readConfig() {
  const base = envBase();
  const { name, password } = envLogin('SAMBUNG_QA');
  const role = process.env.SAMBUNG_ROLE || 'qa';
  const callId = process.env.SAMBUNG_CALL_ID || '';
  if (!callId) throw new Error('SAMBUNG_CALL_ID must name the call to review');
  return {
    base, name, password, role, callId,
    intent: process.env.SAMBUNG_INTENT || '',
    comment: process.env.SAMBUNG_COMMENT || 'Good empathy here.',
    expectScore: process.env.SAMBUNG_EXPECT_SCORE || '',
    agent: process.env.SAMBUNG_AGENT || 'agent',
    artifacts: process.env.SAMBUNG_ARTIFACTS || '',
  };
}

const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

async function findAndOpen(page, cfg) {
  const landing = cfg.role === 'agent' ? '/agent/' : '/qa/';
  const reached = await check(`sign in lands on ${landing}`, async () => {
    const path = await signIn(page, cfg.base, cfg.name, cfg.password);
    assert(path === landing, `landed on ${page.url()}`);
    if (cfg.role === 'agent') {
      await page.goto(`${cfg.base}/qa/`);
      await page.locator('#qa-intro').filter({ hasText: /your calls/i }).waitFor();
    }
    return page.url();
  });
  if (!reached) return false;

  const listed = await check(cfg.intent ? `filter by intent ${cfg.intent}: only such calls, the call among them` : 'the call is in the list', async () => {
    if (cfg.intent) {
      await page.getByLabel('Intent').fill(cfg.intent);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.locator('#qa-summary').filter({ hasText: /found/ }).waitFor();
    }
    const row = page.locator(`#qa-results tr[data-call-id="${cfg.callId}"]`);
    await row.waitFor();
    if (cfg.intent) {
      const intents = await page.locator('#qa-results tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.intent));
      assert(intents.every((i) => i === cfg.intent), `rows of intents ${intents.join(', ')}`);
    }
    return `${await text(page.locator('#qa-summary'))} ${await text(row)}`;
  });
  if (!listed) return false;

  return check('Review: the player, the waveform, and the transcript of both sides', async () => {
    await page.locator(`#qa-results tr[data-call-id="${cfg.callId}"] button[data-action="review"]`).click();
    await page.locator('#review-panel').waitFor();
    await page.waitForFunction(() => {
      const a = document.getElementById('review-audio');
      return a && Number.isFinite(a.duration) && a.duration > 0;
    }, null, { timeout: stepTimeoutMs });
    const callers = await page.locator('#review-transcript li[data-speaker="caller"]').count();
    const agents = await page.locator('#review-transcript li[data-speaker="agent"]').count();
    assert(callers > 0 && agents > 0, `${callers} caller lines and ${agents} agent lines`);
    const drawn = await page.evaluate(() => {
      const c = document.getElementById('review-wave');
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
      return n;
    });
    assert(drawn > 1000, `the waveform has ${drawn} drawn pixels`);
    const status = await text(page.locator('#review-status'));
    assert(!/cannot|could not/i.test(status), `status "${status}"`);
    return `${await text(page.locator('#review-title'))}; ${callers} caller and ${agents} agent lines; ${await text(page.locator('#review-progress'))}`;
  });
}

async function listenAndSeek(page) {
  await check('a transcript line seeks there and plays: the progress moves on', async () => {
    const lines = page.locator('#review-transcript li button');
    const n = await lines.count();
    const target = lines.nth(n - 1);
    const at = Number(await target.getAttribute('data-at'));
    await target.click();
    const reached = await page.waitForFunction((want) => {
      const a = document.getElementById('review-audio');
      return !a.paused && Math.abs(a.currentTime - want) < 1.5 ? a.currentTime : null;
    }, at, { timeout: stepTimeoutMs }).then((h) => h.jsonValue());
    const before = Number(await page.locator('#review-progress').getAttribute('data-seconds'));
    await page.waitForTimeout(2000);
    const after = Number(await page.locator('#review-progress').getAttribute('data-seconds'));
    assert(after > before + 0.5, `progress went from ${before} to ${after} s in 2 s`);
    const current = await page.locator('#review-transcript li[aria-current="true"]').count();
    assert(current === 1, `${current} lines marked as being said`);
    return `line at ${at.toFixed(1)} s: the player at ${reached.toFixed(1)} s, then ${before.toFixed(1)} -> ${after.toFixed(1)} s; "${await text(page.locator('#review-progress'))}"`;
  });
}

// scoreIt fills the scorecard (every question at its best but one "no" that is not a must-have),
// saves it, and leaves a comment at the playhead.
async function scoreIt(page, cfg) {
  const saved = await check('scorecard: fill and save; the page shows the score', async () => {
    const form = page.locator('#scorecard-box form.scorecard');
    await form.waitFor();
    const questions = form.locator('.scorecard-question');
    const n = await questions.count();
    let no = false;
    for (let i = 0; i < n; i++) {
      const q = questions.nth(i);
      const mustHave = (await q.innerText()).includes('must-have');
      const choices = await q.locator('input[type="radio"]').evaluateAll((is) => is.map((x) => x.value));
      let pick = choices.includes('5') ? '5' : 'yes';
      if (!no && !mustHave && pick === 'yes') {
        pick = 'no';
        no = true;
      }
      await q.locator(`input[value="${pick}"]`).check();
    }
    await form.locator('textarea[name="notes"]').fill('Warm and clear; confirm the account next time.');
    await form.getByRole('button', { name: 'Save scorecard' }).click();
    const status = page.locator('#scorecard-box .scorecard-status[data-score]');
    await status.waitFor();
    const score = Number(await status.getAttribute('data-score'));
    assert(score > 50 && score < 100, `score ${score} after ${n} questions with one "no"`);
    await page.locator('#scorecard-box .evaluation [data-field="score"]').waitFor();
    report('score', true, String(score));
    return `${n} questions; ${await text(status)}`;
  });
  if (!saved) return;
  await check('a comment at the playhead shows in the list, at its time', async () => {
    await page.locator('#review-audio').evaluate((a) => a.pause());
    await page.getByLabel('Comment at the playhead').fill(cfg.comment);
    await page.getByRole('button', { name: 'Add comment' }).click();
    const item = page.locator('#review-comments li').filter({ hasText: cfg.comment });
    await item.waitFor();
    return text(item);
  });
}

// agentScores searches for the agent's calls, which shows their scores over time.
async function agentScores(page, cfg) {
  await check("searching for the agent's calls shows their scores, this call's among them", async () => {
    await page.getByLabel('Intent').fill('');
    await page.locator('#f-agent').fill(cfg.agent);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#scores-title').filter({ hasText: `Scores of ${cfg.agent}` }).waitFor();
    const item = page.locator(`#scores li[data-call-id="${cfg.callId}"]`);
    await item.waitFor();
    return `${await text(page.locator('#scores-average'))} ${await text(item)}`;
  });
}

// readScore checks the agent sees QA's score of their call, and the comment.
async function readScore(page, cfg) {
  await check("the agent sees QA's score and comment, and no form to change them", async () => {
    const score = page.locator('#scorecard-box .evaluation [data-field="score"]');
    await score.waitFor();
    const comment = page.locator('#review-comments li').filter({ hasText: cfg.comment });
    await comment.waitFor();
    assert(await page.locator('#scorecard-box form.scorecard').count() === 0, 'the agent is offered the scorecard form');
    assert(await page.locator('#review-comment-form').isHidden(), 'the agent is offered the comment form');
    const listed = page.locator(`#scores li[data-call-id="${cfg.callId}"] [data-field="score"]`);
    await listed.waitFor();
    if (cfg.expectScore) {
      for (const shown of [await text(score), await text(listed)]) {
        assert(shown === `${cfg.expectScore} / 100`, `shown "${shown}", QA saved ${cfg.expectScore}`);
      }
    }
    report('score', true, (await text(score)).split(' ')[0]);
    return `${await text(score)}; "${await text(comment)}"; among their scores: ${await text(listed)}`;
  });
}

async function main(cfg) {
  if (cfg.artifacts) await mkdir(cfg.artifacts, { recursive: true });
  const context = await launch({ name: `qa-${cfg.role}`, stepMs: stepTimeoutMs });
  const page = await context.newPage();
  page.setDefaultTimeout(stepTimeoutMs);
  const seen = watch(page);
  if (!(await findAndOpen(page, cfg))) return;
  await listenAndSeek(page);
  if (cfg.role === 'agent') await readScore(page, cfg);
  else {
    await scoreIt(page, cfg);
    await agentScores(page, cfg);
  }
  await shoot(page, cfg.artifacts, `qa-${cfg.role}-review`);
  await cleanPage(seen);
}

const cfg = await configured(readConfig);
await run(120_000, () => main(cfg));
