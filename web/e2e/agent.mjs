// agent.mjs: takes one call on the agent desk with headless Chromium, the way an agent would:
// signs in, goes available, waits for the ring, reads the screen-pop, answers with the A key,
// checks that the caller's audio really arrives (WebAudio level of the remote track), talks,
// hangs up, and saves the wrap-up. A WAV file plays the part of the agent's microphone.
//
// Environment:
//   SAMBUNG_URL              base URL of the server, e.g. http://127.0.0.1:8080
//   SAMBUNG_AGENT_NAME       agent to sign in as
//   SAMBUNG_AGENT_PASSWORD   their password
//   SAMBUNG_AGENT_WAV        WAV file the fake microphone plays (required; what the caller hears)
//   SAMBUNG_EXPECT           JSON object data-field -> text the screen-pop must contain
//                            (case-insensitive), e.g. {"intent":"billing","language":"en"}; default {}
//   SAMBUNG_DISPOSITION      disposition code to save (default: the first one offered)
//   SAMBUNG_RING_TIMEOUT_MS  how long to wait for a ring after going available (default 30000)
//   SAMBUNG_TALK_MS          how long to stay on the call after it connects (default 3000)
//   SAMBUNG_TALK_UNTIL_FILE  stay on the call until this file exists instead (SAMBUNG_TALK_MS at most)
//   SAMBUNG_LEVEL_THRESHOLD  RMS the caller's audio must exceed at some point (default 0.01)
//   SAMBUNG_TRANSFER_CHECK   "0" skips trying a transfer the server refuses (default: tried)
//   SAMBUNG_DROP_SOCKET      "1": mid-call, cut the softphone's WebSocket (both ends, as a network
//                            blip would) and check that the page reconnects, the call carries on
//                            with its audio, and the new socket controls it (the hang-up)
//   SAMBUNG_CONSULT_AGENT    sign-in name: instead of hanging up, consult that agent (a warm
//                            transfer), hear them, and complete the transfer
//   SAMBUNG_CONSULTED        "1": the ring is another agent's consult; while consulted, hold, keys
//                            and transfer wait; once the transfer completes the caller is ours
//   SAMBUNG_LANDING          the page sign-in lands on (default /agent/); the script then opens
//                            /agent/ (a supervisor takes calls there too)
//   SAMBUNG_PCI_FILE         once the call connects, press Pause recording (card details), check
//                            the page says so, and create this file (its text: ms since the epoch);
//                            then wait for SAMBUNG_PCI_FILE.done, press Resume recording, and check
//   SAMBUNG_HEARD_WAV        file to save what the agent heard on the call (16 kHz WAV), before
//                            hanging up; FILE.json gets {"start": ms since the epoch of its first sample}
//   SAMBUNG_ARTIFACTS        directory for screenshots (created if missing)
//   CHROMIUM                 browser binary (default /usr/bin/chromium; nothing is ever downloaded)
//   SAMBUNG_E2E_TIMEOUT_MS   hard limit for the whole run (default: ring timeout + talk + 60000)
//
// Run the browser and the server in one network namespace holding only lo (see
// the shared testing notes, PEERS.md; internal/testenv.InNetns does it), or ICE may pick the
// machine's other interface.
//
// Output: one JSON line per check, {"check","ok","detail"}; the call handled is reported as
// {"check":"call-id","ok":true,"detail":"c..."}. Exit status 0 only if every check passed.

import { report, check, assert, watch, millis, envBase, envFile, envLogin, cleanPage, configured } from './checks.mjs';
import { launch, run, shoot, captureHeard, saveHeard, signIn } from './browser.mjs';
import { mkdir, writeFile, access } from 'node:fs/promises';

const stepTimeoutMs = 10_000;
const levelWindowMs = 10_000;

async function readConfig() {
  const base = envBase();
  const { name, password } = envLogin('SAMBUNG_AGENT');
  const wav = await envFile('SAMBUNG_AGENT_WAV', 'the WAV file the fake microphone plays');
  let expect = {};
  try {
    expect = JSON.parse(process.env.SAMBUNG_EXPECT || '{}');
  } catch {
    throw new Error('SAMBUNG_EXPECT must be a JSON object data-field -> expected text');
  }
  if (!expect || typeof expect !== 'object' || Array.isArray(expect)) throw new Error('SAMBUNG_EXPECT must be a JSON object');
  const threshold = Number(process.env.SAMBUNG_LEVEL_THRESHOLD || 0.01);
  return {
    base, name, password, wav, expect,
    disposition: process.env.SAMBUNG_DISPOSITION || '',
    ringTimeoutMs: millis('SAMBUNG_RING_TIMEOUT_MS', 30_000),
    talkMs: millis('SAMBUNG_TALK_MS', 3_000),
    talkUntil: process.env.SAMBUNG_TALK_UNTIL_FILE || '',
    threshold: Number.isFinite(threshold) ? threshold : 0.01,
    artifacts: process.env.SAMBUNG_ARTIFACTS || '',
    dropSocket: process.env.SAMBUNG_DROP_SOCKET === '1',
    transferCheck: process.env.SAMBUNG_TRANSFER_CHECK !== '0',
    consultAgent: process.env.SAMBUNG_CONSULT_AGENT || '',
    consulted: process.env.SAMBUNG_CONSULTED === '1',
    landing: process.env.SAMBUNG_LANDING || '/agent/',
    heardWav: process.env.SAMBUNG_HEARD_WAV || '',
    pciFile: process.env.SAMBUNG_PCI_FILE || '',
  };
}

// sockets passes the page's softphone WebSockets through to the server, keeping the latest
// so that a test can cut it: the page sees its socket close, and the server sees its end go.
function routeSockets(context) {
  const seen = { count: 0, latest: null };
  seen.ready = context.routeWebSocket(/\/api\/v1\/softphone$/, (ws) => {
    const server = ws.connectToServer();
    seen.count += 1;
    seen.latest = { ws, server };
  });
  seen.cut = async () => {
    const { ws, server } = seen.latest || {};
    assert(ws, 'no softphone socket to cut');
    seen.latest = null;
    await Promise.allSettled([ws.close({ code: 4000, reason: 'e2e: network blip' }), server.close({ code: 4000, reason: 'e2e: network blip' })]);
  };
  return seen;
}

// level waits for the remote (caller's) audio to exceed the threshold and describes it.
async function remoteLevel(page, cfg) {
  const started = Date.now();
  let peak = 0;
  while (Date.now() - started < levelWindowMs) {
    const level = await phone(page, () => window.sambungSoftphone.remoteLevel());
    peak = Math.max(peak, level);
    if (peak > cfg.threshold) break;
    await page.waitForTimeout(100);
  }
  const media = await phone(page, () => window.sambungSoftphone.media);
  const states = media ? `ice ${media.ice}, connection ${media.connection}` : 'no media';
  assert(peak > cfg.threshold, `peak RMS ${peak.toFixed(4)} <= ${cfg.threshold} within ${levelWindowMs} ms (${states})`);
  return `peak RMS ${peak.toFixed(4)} after ${Date.now() - started} ms (${states})`;
}

const phone = (page, expr) => page.evaluate(expr);

// talk stays on the call for cfg.talkMs, or until cfg.talkUntil exists if sooner.
async function talk(page, cfg) {
  const until = Date.now() + cfg.talkMs;
  if (!cfg.talkUntil) return page.waitForTimeout(cfg.talkMs);
  while (Date.now() < until) {
    if (await access(cfg.talkUntil).then(() => true, () => false)) return undefined;
    await page.waitForTimeout(250);
  }
  return undefined;
}

// pciPause pauses the recording for card details with the button, tells the test, waits for
// it to have the caller key the card number, and resumes.
async function pciPause(page, cfg) {
  const button = page.locator('#pci');
  const paused = await check('Pause recording: the button is pressed and the page says keys are masked', async () => {
    await button.click();
    await page.locator('#pci[aria-pressed="true"]').waitFor();
    const notice = page.locator('#pci-notice');
    await notice.filter({ hasText: /masked/i }).waitFor();
    await writeFile(cfg.pciFile, String(Date.now()));
    return (await notice.innerText()).trim();
  });
  if (!paused) return false;
  await shoot(page, cfg.artifacts, 'agent-pci');
  return check('Resume recording, once the caller has keyed the card number', async () => {
    const done = `${cfg.pciFile}.done`;
    const until = Date.now() + 60_000;
    while (!(await access(done).then(() => true, () => false))) {
      assert(Date.now() < until, `no ${done} within 60 s`);
      await page.waitForTimeout(200);
    }
    await button.click();
    await page.locator('#pci[aria-pressed="false"]').waitFor();
    assert((await page.locator('#pci-notice').innerText()).trim() === '', 'the paused notice stays after resuming');
    return (await button.innerText()).trim();
  });
}

// pageError is the text of the page's error area, for failure details.
async function pageError(page) {
  const text = await page.locator('#page-error').innerText().catch(() => '');
  return text.trim() ? ` (page says: ${text.trim()})` : '';
}

async function takeCall(page, seen, sockets, cfg) {
  const reached = await check('sign in lands on /agent/', async () => {
    const path = await signIn(page, cfg.base, cfg.name, cfg.password);
    assert(path === cfg.landing, `landed on ${page.url()}, not ${cfg.landing}`);
    if (path !== '/agent/') await page.goto(cfg.base + '/agent/');
    return page.url();
  });
  if (!reached) return;

  const connected = await check('softphone connects', async () => {
    await page.locator('#softphone-status[data-state="connected"]').waitFor();
    // hello fills the disposition list; wait for it so a later check is not racing it.
    await page.waitForFunction(() => document.querySelectorAll('#disposition option').length > 1);
    return (await page.locator('#softphone-status').innerText()).trim();
  });
  if (!connected) return;

  const available = await check('goes available', async () => {
    const current = await phone(page, () => window.sambungSoftphone.state);
    if (current !== 'available') await page.locator('#state-available').click();
    await page.waitForFunction(() => ['available', 'ringing'].includes(window.sambungSoftphone.state))
      .catch(async () => {
        throw new Error(`state is ${await phone(page, () => window.sambungSoftphone.state)}${await pageError(page)}`);
      });
    return (await page.locator('#agent-state').innerText()).trim();
  });
  if (!available) return;

  const rang = await check('call rings', async () => {
    await page.waitForFunction(() => window.sambungSoftphone.phase === 'ringing', null, { timeout: cfg.ringTimeoutMs })
      .catch(async () => {
        throw new Error(`no ring within ${cfg.ringTimeoutMs} ms${await pageError(page)}`);
      });
    await page.locator('#phase-ringing').waitFor();
    const title = await page.title();
    assert(/incoming call/i.test(title), `title did not change: "${title}"`);
    return `${(await page.locator('#phase-ringing').innerText()).replace(/\s+/g, ' ').trim()} | title "${title}"`;
  });
  if (!rang) return;
  const callId = await phone(page, () => window.sambungSoftphone.callId);
  report('call-id', Boolean(callId), callId || 'no call id');
  await shoot(page, cfg.artifacts, 'agent-ring');

  await check('ring is announced', async () => {
    await page.waitForFunction(() => /incoming call|call back|asks to talk/i.test(document.getElementById('announcer').textContent));
    return (await page.locator('#announcer').textContent()).trim();
  });

  for (const [field, want] of Object.entries(cfg.expect)) {
    await check(`screen-pop: ${field} contains "${want}"`, async () => {
      const el = page.locator(`#contact [data-field="${field}"]`).first();
      const needle = String(want).toLowerCase();
      // call.context may still be on its way: wait a little for the text to appear.
      await page.waitForFunction(([f, n]) => {
        const node = document.querySelector(`#contact [data-field="${f}"]`);
        return node && node.textContent.toLowerCase().includes(n);
      }, [field, needle], { timeout: 5000 }).catch(() => {});
      assert((await el.count()) > 0, `no element with data-field="${field}"`);
      const text = (await el.innerText()).replace(/\s+/g, ' ').trim();
      assert(text.toLowerCase().includes(needle), `reads "${text.slice(0, 200)}"`);
      return text.slice(0, 200);
    });
  }

  const answered = await check('answer with the A key', async () => {
    await page.locator('body').focus().catch(() => {});
    await page.keyboard.press('a');
    try {
      await page.waitForFunction(() => ['connecting', 'connected'].includes(window.sambungSoftphone.phase), null, { timeout: 2000 });
      return 'A key';
    } catch {
      await page.getByRole('button', { name: 'Answer' }).click();
      await page.waitForFunction(() => ['connecting', 'connected'].includes(window.sambungSoftphone.phase), null, { timeout: 2000 });
      return 'the A key did nothing; the Answer button did';
    }
  });
  if (!answered) return;

  const inCall = await check('call.connected is shown', async () => {
    await page.waitForFunction(() => window.sambungSoftphone.phase === 'connected', null, { timeout: 15_000 })
      .catch(async () => {
        throw new Error(`phase ${await phone(page, () => window.sambungSoftphone.phase)}${await pageError(page)}`);
      });
    const status = page.locator('#call-status');
    await status.filter({ hasText: cfg.consulted ? /consult with/i : /connected/i }).waitFor();
    return (await status.innerText()).trim();
  });
  if (!inCall) return;

  await check(`${cfg.consulted ? 'the consulting agent\'s' : 'caller'} audio arrives (remote level)`, () => remoteLevel(page, cfg));
  await shoot(page, cfg.artifacts, 'agent-call');
  if (cfg.consulted && !(await consulted(page, cfg))) return;

  if (cfg.pciFile && !(await pciPause(page, cfg))) return;

  if (cfg.dropSocket) {
    await page.waitForTimeout(cfg.talkMs / 2);
    const back = await check('softphone socket cut mid-call: the page reconnects', async () => {
      const before = sockets.count;
      await sockets.cut();
      await page.locator('#softphone-status:not([data-state="connected"])').waitFor();
      await page.locator('#softphone-status[data-state="connected"]').waitFor({ timeout: 15_000 });
      assert(sockets.count > before, `the page shows connected, but opened no new socket (${sockets.count})`);
      return `socket ${sockets.count} of the page; status "${(await page.locator('#softphone-status').innerText()).trim()}"`;
    });
    if (!back) return;
    await check('the call carries on after the reconnect', async () => {
      await page.waitForTimeout(1000); // hello has been handled
      const [phase, id] = await phone(page, () => [window.sambungSoftphone.phase, window.sambungSoftphone.callId]);
      assert(phase === 'connected' && id === callId, `phase ${phase}, call ${id} (was ${callId})${await pageError(page)}`);
      return `phase ${phase}, call ${id}; ${await remoteLevel(page, cfg)}`;
    });
    await page.waitForTimeout(cfg.talkMs / 2);
  } else {
    await talk(page, cfg);
  }

  if (cfg.heardWav) {
    await check('save what the agent heard', async () => {
      const { start, seconds } = await saveHeard(page, cfg.heardWav);
      await writeFile(`${cfg.heardWav}.json`, JSON.stringify({ start }));
      return `${seconds.toFixed(1)} s from ${new Date(start).toISOString()}`;
    });
  }

  if (cfg.consultAgent) {
    if (!(await consultAgent(page, cfg))) return;
  } else if (cfg.transferCheck) await check('transfer: the queues are offered, and a refused transfer says why', async () => {
    await page.locator('body').focus().catch(() => {});
    await page.keyboard.press('t');
    const focused = await phone(page, () => document.activeElement && document.activeElement.id);
    assert(focused === 'transfer-to', `the T key focused "${focused}", not the transfer choice`);
    const queues = await page.locator('#transfer-to option').evaluateAll((os) => os.map((o) => o.value).filter((v) => v && v !== 'agent' && v !== 'number'));
    assert(queues.length > 0, 'no queue to transfer to');
    await page.getByLabel('To', { exact: true }).selectOption('agent');
    await page.getByLabel("Agent's sign-in name").fill('nobody-by-that-name');
    await page.getByRole('button', { name: 'Transfer' }).click();
    const error = page.locator('#transfer-error');
    await error.filter({ hasText: /no agent called/i }).waitFor();
    const phase = await phone(page, () => window.sambungSoftphone.phase);
    assert(phase === 'connected', `after the refused transfer the page is in phase ${phase}`);
    const refused = (await error.innerText()).trim();
    // A consult with a number nobody answers: the page shows it, and the agent is back with
    // the caller.
    await page.getByLabel('To', { exact: true }).selectOption('number');
    await page.getByLabel('Number', { exact: true }).fill('+62 21 5550');
    await page.getByRole('button', { name: 'Talk to them first' }).click();
    // The panel says "Calling …" only until the dial fails, which may be at once.
    await error.filter({ hasText: /did not answer|back with the caller/i }).waitFor({ timeout: 30_000 });
    const said = (await page.locator('#consult-status').textContent()).trim();
    assert(/calling/i.test(said), `the consult panel said "${said}", not that it was calling`);
    assert(await page.locator('#consult').isHidden(), 'the consult panel stays open after the consult ended');
    const after = await phone(page, () => window.sambungSoftphone.phase);
    assert(after === 'connected', `after the consult the page is in phase ${after}`);
    await phone(page, () => document.activeElement && document.activeElement.blur()); // The keys are the desk's again.
    return `queues ${queues.join(', ')}; "${refused}"; consult: "${(await error.innerText()).trim()}"`;
  });

  const hungUp = cfg.consultAgent || await check('hang up with Escape', async () => {
    await page.locator('body').focus().catch(() => {});
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => window.sambungSoftphone.phase === 'wrapup', null, { timeout: stepTimeoutMs })
      .catch(async () => {
        throw new Error(`phase ${await phone(page, () => window.sambungSoftphone.phase)}${await pageError(page)}`);
      });
    return (await page.locator('#ended-reason').innerText()).trim();
  });
  if (!hungUp) return;

  await check('wrap-up: save', async () => {
    const select = page.getByLabel('Disposition');
    const options = await select.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    const code = cfg.disposition || options[0];
    assert(options.includes(code), `disposition "${code}" is not offered (offered: ${options.join(', ')})`);
    await select.selectOption(code);
    await page.getByLabel('Notes').fill('e2e');
    await shoot(page, cfg.artifacts, 'agent-wrapup');
    await page.getByRole('button', { name: 'Save wrap-up' }).click();
    const saved = page.locator('#wrapup-saved');
    await saved.filter({ hasText: callId }).waitFor()
      .catch(async () => {
        throw new Error(`no confirmation${await pageError(page)}`);
      });
    const phase = await phone(page, () => window.sambungSoftphone.phase);
    assert(phase === 'waiting', `after saving the page is in phase ${phase}`);
    return (await saved.innerText()).trim();
  });

  await cleanPage(seen);
}

// consulted: the ring was another agent's consult. Until they complete the transfer the caller is
// theirs (hold and keys wait); then the caller is ours, heard, and the buttons work.
async function consulted(page, cfg) {
  const label = await check('consulted: the ring said who asks; hold and keys wait', async () => {
    const from = await phone(page, () => window.sambungSoftphone.consultFrom);
    assert(from, 'the page does not know it is consulted');
    assert(await page.locator('#hold').isDisabled(), 'hold works while consulted');
    assert(await page.locator('#dtmf-pad button').first().isDisabled(), 'the keypad works while consulted');
    return `${from}: "${(await page.locator('#call-status').innerText()).trim()}"`;
  });
  if (!label) return false;
  return check('consulted: the transfer completes and the caller is ours', async () => {
    await page.waitForFunction(() => window.sambungSoftphone.consultFrom === '', null, { timeout: cfg.ringTimeoutMs })
      .catch(async () => {
        throw new Error(`still consulted${await pageError(page)}`);
      });
    const status = page.locator('#call-status');
    await status.filter({ hasText: /^connected$/i }).waitFor();
    assert(await page.locator('#hold').isEnabled(), 'hold still waits after the transfer');
    const contact = (await page.locator('#contact').innerText()).replace(/\s+/g, ' ');
    return `"${(await status.innerText()).trim()}"; ${await remoteLevel(page, cfg)}; card: ${contact.slice(0, 120)}`;
  });
}

// consultAgent: a warm transfer to cfg.consultAgent from the transfer form. The page rings them,
// the two talk (their audio arrives) with the caller on hold, and completing it ends the call here.
async function consultAgent(page, cfg) {
  const talking = await check(`consult ${cfg.consultAgent}: they answer and are heard`, async () => {
    await page.locator('body').focus().catch(() => {});
    await page.keyboard.press('t');
    await page.getByLabel('To', { exact: true }).selectOption('agent');
    await page.getByLabel("Agent's sign-in name").fill(cfg.consultAgent);
    await page.getByRole('button', { name: 'Talk to them first' }).click();
    const status = page.locator('#consult-status');
    await status.filter({ hasText: /talking with/i }).waitFor({ timeout: cfg.ringTimeoutMs })
      .catch(async () => {
        throw new Error(`the consult says "${(await status.textContent()).trim()}"; ` +
          `"${(await page.locator('#transfer-error').textContent()).trim()}"${await pageError(page)}`);
      });
    return `"${(await status.textContent()).trim()}"; ${await remoteLevel(page, cfg)}`;
  });
  if (!talking) return false;
  await page.waitForTimeout(cfg.talkMs / 2);
  return check('complete the transfer: the call ends here', async () => {
    await page.getByRole('button', { name: 'Complete transfer' }).click();
    await page.waitForFunction(() => window.sambungSoftphone.phase === 'wrapup', null, { timeout: stepTimeoutMs });
    const reason = (await page.locator('#ended-reason').innerText()).trim();
    assert(/transferred/i.test(reason), `ended: "${reason}"`);
    return reason;
  });
}

async function main(cfg) {
  if (cfg.artifacts) await mkdir(cfg.artifacts, { recursive: true });
  const context = await launch({ name: 'agent', stepMs: stepTimeoutMs, wav: cfg.wav });
  if (cfg.heardWav) await captureHeard(context);
  const sockets = routeSockets(context);
  await sockets.ready;
  const page = await context.newPage();
  page.setDefaultTimeout(stepTimeoutMs);
  page.setDefaultNavigationTimeout(stepTimeoutMs);
  const seen = watch(page);
  await takeCall(page, seen, sockets, cfg);
}

const cfg = await configured(readConfig);

await run(Number(process.env.SAMBUNG_E2E_TIMEOUT_MS) || cfg.ringTimeoutMs + cfg.talkMs + 60_000, () => main(cfg));
