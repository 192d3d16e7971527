// supervisor.mjs: steps into a call on the supervisor floor with headless Chromium, the way a
// supervisor would: signs in, waits for the call with an agent to show under "On the floor now",
// presses Listen, then Whisper, then Barge, each for a while, and Leave; and saves what the page
// heard with the times of each mode, for the Go test to check whose voice is where. A WAV file
// plays the part of the supervisor's microphone.
//
// Environment:
//   SAMBUNG_URL                  base URL of the server
//   SAMBUNG_SUPERVISOR_NAME      supervisor to sign in as
//   SAMBUNG_SUPERVISOR_PASSWORD  their password
//   SAMBUNG_SUPERVISOR_WAV       WAV file the fake microphone plays (required)
//   SAMBUNG_HEARD_WAV            file to save what the supervisor heard (16 kHz WAV); FILE.json
//                                gets {"start": ms since the epoch of its first sample,
//                                "modes": [{"mode", "from", "to"}] (ms since the epoch),
//                                "seen": {"agent:NAME:STATE" | "call:ID:STATE" | "queue:NAME:WAITING":
//                                ms since the epoch when the floor first showed it}}
//   SAMBUNG_READY_FILE           created once the floor is loaded and watched
//   SAMBUNG_DONE_FILE            created once the supervisor has left the call
//   SAMBUNG_SET_AWAY             an agent's sign-in name: first set them away from the floor
//   SAMBUNG_WAIT_ALERT           an alert kind (angry_caller, ...): instead of stepping into a
//                                call, wait for that alert to show on the page, and stop there
//   SAMBUNG_TRANSCRIPT           with SAMBUNG_WAIT_ALERT: a JSON object {"caller": regex,
//                                "agent": regex}: open the angry caller's transcript and wait,
//                                live, for a line of each side said with the agent matching
//                                its pattern (case-insensitive); then create SAMBUNG_DONE_FILE
//   SAMBUNG_MODE_MS              how long to stay in each mode (default 8000)
//   SAMBUNG_CALL_TIMEOUT_MS      how long to wait for a call with an agent (default 90000)
//   SAMBUNG_ARTIFACTS            directory for screenshots
//   CHROMIUM                     browser binary (default /usr/bin/chromium)
//
// Output: one JSON line per check, {"check","ok","detail"}; exit status 0 only if all passed.

import { check, assert, watch, millis, envBase, envFile, envLogin, cleanPage, configured } from './checks.mjs';
import { launch, run, shoot, captureHeard, saveHeard, signIn } from './browser.mjs';
import { mkdir, writeFile } from 'node:fs/promises';

const stepTimeoutMs = 10_000;

async function readConfig() {
  const base = envBase();
  const { name, password } = envLogin('SAMBUNG_SUPERVISOR');
  const wav = await envFile('SAMBUNG_SUPERVISOR_WAV', 'the WAV file the fake microphone plays');
  const heardWav = process.env.SAMBUNG_HEARD_WAV || '';
  const readyFile = process.env.SAMBUNG_READY_FILE || '';
  const doneFile = process.env.SAMBUNG_DONE_FILE || '';
  const setAway = process.env.SAMBUNG_SET_AWAY || '';
  const waitAlert = process.env.SAMBUNG_WAIT_ALERT || '';
  const transcript = process.env.SAMBUNG_TRANSCRIPT ? JSON.parse(process.env.SAMBUNG_TRANSCRIPT) : null;
  if (!heardWav && !waitAlert) throw new Error('SAMBUNG_HEARD_WAV must name the file for what the supervisor heard');
  return {
    base, name, password, wav, heardWav, readyFile, doneFile, setAway, waitAlert, transcript,
    modeMs: millis('SAMBUNG_MODE_MS', 8_000),
    callTimeoutMs: millis('SAMBUNG_CALL_TIMEOUT_MS', 90_000),
    artifacts: process.env.SAMBUNG_ARTIFACTS || '',
  };
}

async function stepIn(page, seen, cfg) {
  const reached = await check('sign in lands on /supervisor/', async () => {
    const path = await signIn(page, cfg.base, cfg.name, cfg.password);
    assert(path === '/supervisor/', `landed on ${page.url()}`);
    return page.url();
  });
  if (!reached) return;

  const watching = await check('the floor loads: queues, agents, calls', async () => {
    for (const id of ['floor-queues', 'floor-agents', 'floor']) await page.locator(`#${id}[aria-busy="false"]`).waitFor();
    const queues = await page.locator('#floor-queues tr[data-queue]').count();
    const agents = await page.locator('#floor-agents tr[data-agent]').count();
    assert(queues > 0 && agents > 0, `${queues} queues and ${agents} agents on the floor`);
    if (cfg.setAway) {
      const agentRow = page.locator(`#floor-agents tr[data-agent="${cfg.setAway}"]`);
      await agentRow.locator('button[data-set="away"]').click();
      await page.locator(`#floor-agents tr[data-agent="${cfg.setAway}"][data-state="away"]`).waitFor();
      await page.locator('#floor-notice').filter({ hasText: /is now away/i }).waitFor();
    }
    await page.evaluate(watchFloor);
    if (cfg.readyFile) await writeFile(cfg.readyFile, String(Date.now()));
    return `${queues} queues, ${agents} agents`;
  });
  if (!watching) return;

  if (cfg.waitAlert) {
    await check(`the ${cfg.waitAlert} alert shows on the page`, async () => {
      const item = page.locator(`#alerts li[data-kind="${cfg.waitAlert}"]`).first();
      await item.waitFor({ timeout: cfg.callTimeoutMs });
      assert(await page.locator('#alerts-empty').isHidden(), '"No alerts" still shows beside an alert');
      return (await item.innerText()).replace(/\s+/g, ' ').trim();
    });
    if (cfg.waitAlert === 'angry_caller') {
      await check('the call shows the caller angry, and how long they spent in the IVR', async () => {
        const row = page.locator('#floor tr[data-call-id]').filter({ has: page.locator('td.floor-mood[data-angry="true"]') });
        await row.first().waitFor({ timeout: cfg.callTimeoutMs });
        return (await row.first().innerText()).replace(/\s+/g, ' ').trim();
      });
    }
    if (cfg.transcript) await readTranscript(page, cfg);
    await shoot(page, cfg.artifacts, 'supervisor-alert');
    await cleanPage(seen);
    return;
  }

  const row = page.locator('#floor tr[data-state="talking"]').first();
  const found = await check('the call with the agent shows on the floor, live', async () => {
    await row.waitFor({ timeout: cfg.callTimeoutMs });
    return (await row.innerText()).replace(/\s+/g, ' ').trim();
  });
  if (!found) return;
  await shoot(page, cfg.artifacts, 'supervisor-floor');

  const status = page.locator('#floor-status');
  const modes = [];
  for (const [mode, label, said] of [['listen', 'Listen', /listening to/i], ['whisper', 'Whisper', /whispering/i],
    ['barge', 'Barge', /both hear you/i]]) {
    const ok = await check(`${label}: the page says so and the button is pressed`, async () => {
      await row.locator(`button[data-mode="${mode}"]`).click();
      await status.filter({ hasText: said }).waitFor({ timeout: 20_000 }).catch(async () => {
        throw new Error(`status "${(await status.innerText()).trim()}"`);
      });
      const pressed = await page.locator(`#floor tr[data-state="talking"] button[data-mode="${mode}"]`).getAttribute('aria-pressed');
      assert(pressed === 'true', `${label} is not shown pressed (aria-pressed ${pressed})`);
      const from = Date.now();
      await page.waitForTimeout(cfg.modeMs);
      modes.push({ mode, from, to: Date.now() });
      return (await status.innerText()).trim();
    });
    if (!ok) break;
    if (mode === 'barge') await shoot(page, cfg.artifacts, 'supervisor-barge');
  }

  await check('save what the supervisor heard', async () => {
    const { start, seconds } = await saveHeard(page, cfg.heardWav);
    const seen = await page.evaluate(() => window.sambungFloorSeen);
    await writeFile(`${cfg.heardWav}.json`, JSON.stringify({ start, modes, seen }));
    return `${seconds.toFixed(1)} s; modes ${modes.map((m) => m.mode).join(', ')}`;
  });

  await check('Leave: the page says so, and the call goes on', async () => {
    await row.locator('button[data-mode="leave"]').click();
    await status.filter({ hasText: /you left/i }).waitFor();
    await page.locator('#floor button[data-mode="leave"]').waitFor({ state: 'detached' });
    const still = await page.locator('#floor tr[data-state="talking"]').count();
    assert(still === 1, `${still} calls with an agent after leaving`);
    if (cfg.doneFile) await writeFile(cfg.doneFile, String(Date.now()));
    return (await status.innerText()).trim();
  });

  await cleanPage(seen);
}

// readTranscript opens the angry caller's transcript and waits for what each side says once
// the agent has the call, as the lines arrive.
async function readTranscript(page, cfg) {
  const opened = await check('Transcript: the panel opens with what the caller told the IVR', async () => {
    const row = page.locator('#floor tr[data-call-id]').filter({ has: page.locator('td.floor-mood[data-angry="true"]') }).first();
    await row.locator('button[data-action="transcript"]').click();
    await page.locator('#transcript-panel').waitFor();
    const ivr = page.locator('#transcript li[data-source="ivr"][data-angry="true"]').first();
    await ivr.waitFor({ timeout: cfg.callTimeoutMs });
    return (await ivr.innerText()).replace(/\s+/g, ' ').trim();
  });
  if (!opened) return;
  for (const speaker of ['caller', 'agent']) {
    await check(`Transcript: a line of the ${speaker} with the agent shows live`, async () => {
      const pattern = new RegExp(cfg.transcript[speaker], 'i');
      const item = page.locator(`#transcript li[data-source="call"][data-speaker="${speaker}"]`).filter({ hasText: pattern }).first();
      await item.waitFor({ timeout: cfg.callTimeoutMs });
      return (await item.innerText()).replace(/\s+/g, ' ').trim();
    });
  }
  await shoot(page, cfg.artifacts, 'supervisor-transcript');
  if (cfg.doneFile) await writeFile(cfg.doneFile, String(Date.now()));
}

// watchFloor runs in the page: it notes when the floor first shows each agent's state, each
// call's state and each queue's count of waiting calls (window.sambungFloorSeen), so that a
// test can tell how soon after an event the page showed it.
function watchFloor() {
  const seen = {};
  window.sambungFloorSeen = seen;
  const note = (key, at) => {
    if (!(key in seen)) seen[key] = at;
  };
  const look = () => {
    const at = Date.now();
    for (const tr of document.querySelectorAll('#floor-agents tr[data-agent]')) note(`agent:${tr.dataset.agent}:${tr.dataset.state}`, at);
    for (const tr of document.querySelectorAll('#floor tr[data-call-id]')) note(`call:${tr.dataset.callId}:${tr.dataset.state}`, at);
    for (const tr of document.querySelectorAll('#floor-queues tr[data-queue]')) {
      note(`queue:${tr.dataset.queue}:${tr.querySelector('[data-field="waiting"]').textContent}`, at);
    }
  };
  look();
  new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true });
}

async function main(cfg) {
  if (cfg.artifacts) await mkdir(cfg.artifacts, { recursive: true });
  const context = await launch({ name: 'supervisor', stepMs: stepTimeoutMs, wav: cfg.wav });
  await captureHeard(context);
  const page = await context.newPage();
  page.setDefaultTimeout(stepTimeoutMs);
  const seen = watch(page);
  await stepIn(page, seen, cfg);
}

const cfg = await configured(readConfig);

await run(Number(process.env.SAMBUNG_E2E_TIMEOUT_MS) || cfg.callTimeoutMs + 4 * cfg.modeMs + 60_000, () => main(cfg));
