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
//   SAMBUNG_ARTIFACTS      directory for screenshots
//   CHROMIUM               browser binary (default /usr/bin/chromium)
//
// Output: one JSON line per check, {"check","ok","detail"}; the score saved is reported as
// {"check":"score","ok":true,"detail":"NN"}. Exit status 0 only if all passed.

import { check, assert, watch, envBase, envLogin, cleanPage, configured } from './checks.mjs';
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

async function main(cfg) {
  if (cfg.artifacts) await mkdir(cfg.artifacts, { recursive: true });
  const context = await launch({ name: `qa-${cfg.role}`, stepMs: stepTimeoutMs });
  const page = await context.newPage();
  page.setDefaultTimeout(stepTimeoutMs);
  const seen = watch(page);
  if (!(await findAndOpen(page, cfg))) return;
  await listenAndSeek(page);
  await shoot(page, cfg.artifacts, `qa-${cfg.role}-review`);
  await cleanPage(seen);
}

const cfg = await configured(readConfig);
await run(120_000, () => main(cfg));
