// webcall.mjs: calls the IVR from a browser with headless Chromium, the way a customer would:
// first through the widget another site embeds (the button opens the call page in a small
// window), then on the click-to-call page itself: no sign-in, Call, the IVR's audio arrives,
// keys on the page's keypad, and a hang-up (or the IVR's). A WAV file plays the customer's
// microphone. The protocol is docs/webcall.md.
//
// Environment:
//   SAMBUNG_URL              base URL of the server, e.g. http://127.0.0.1:8080
//   SAMBUNG_CALLER_WAV       WAV file the fake microphone plays (required; what the IVR hears)
//   SAMBUNG_LINE             line to call (?line= and the widget's data-line); default: the
//                            server's first web line
//   SAMBUNG_KEYS             digits to press on the page's keypad (0-9 * #), by clicking its buttons
//   SAMBUNG_KEYS_AFTER_MS    wait after `answered` before pressing them (default 3000)
//   SAMBUNG_STAY_MS          how long to stay on the call after the keys (default 20000); a call
//                            the IVR ends sooner is reported, not failed
//   SAMBUNG_WAIT_END         "1": wait (up to SAMBUNG_STAY_MS) for the server to end the call,
//                            and fail if it does not, instead of hanging up with the button
//   SAMBUNG_LEVEL_THRESHOLD  RMS the IVR's audio must exceed within 10 s (default 0.01)
//   SAMBUNG_ARTIFACTS        directory for screenshots (created if missing)
//   CHROMIUM                 browser binary (default /usr/bin/chromium; nothing is ever downloaded)
//   SAMBUNG_E2E_TIMEOUT_MS   hard limit for the whole run (default: keys wait + stay + 90000)
//
// Run the browser and the server in one network namespace holding only lo (see the shared
// testing notes, PEERS.md; internal/testenv.InNetns does it), or ICE may pick the machine's
// other interface.
//
// Output: one JSON line per check, {"check","ok","detail"}; the call placed is reported as
// {"check":"call-id","ok":true,"detail":"c..."}. Exit status 0 only if every check passed.

import { report, check, assert, watch, millis, envBase, envFile, cleanPage, configured } from './checks.mjs';
import { launch, run, shoot } from './browser.mjs';
import { mkdir } from 'node:fs/promises';

const stepTimeoutMs = 10_000;
const connectTimeoutMs = 20_000;
const levelWindowMs = 10_000;

async function readConfig() {
  const base = envBase();
  const wav = await envFile('SAMBUNG_CALLER_WAV', 'the WAV file the fake microphone plays');
  const keys = process.env.SAMBUNG_KEYS || '';
  if (!/^[0-9*#]*$/.test(keys)) throw new Error(`SAMBUNG_KEYS may hold only 0-9, * and #, not "${keys}"`);
  const threshold = Number(process.env.SAMBUNG_LEVEL_THRESHOLD || 0.01);
  return {
    base, wav, keys,
    line: (process.env.SAMBUNG_LINE || '').trim(),
    keysAfterMs: millis('SAMBUNG_KEYS_AFTER_MS', 3_000),
    stayMs: millis('SAMBUNG_STAY_MS', 20_000),
    waitEnd: process.env.SAMBUNG_WAIT_END === '1',
    threshold: Number.isFinite(threshold) ? threshold : 0.01,
    artifacts: process.env.SAMBUNG_ARTIFACTS || '',
  };
}

const callPage = (cfg) => `${cfg.base}/call/${cfg.line ? `?line=${encodeURIComponent(cfg.line)}` : ''}`;
const web = (page, expr) => page.evaluate(expr);
const phase = (page) => web(page, () => window.sambungWebCall.phase);

// said is what the page shows in its status and error area, for failure details.
async function said(page) {
  const [status, error] = await Promise.all([
    page.locator('#call-status').innerText().catch(() => ''),
    page.locator('#call-error').innerText().catch(() => ''),
  ]);
  const parts = [status.trim() && `status "${status.trim()}"`, error.trim() && `error "${error.trim()}"`].filter(Boolean);
  return parts.length ? ` (page says: ${parts.join('; ')})` : '';
}

// widget embeds widget.js in a blank page, clicks its button, and checks the window it opens.
async function widget(context, cfg) {
  const page = await context.newPage();
  const seen = watch(page);
  try {
    await check('widget: the button opens the call page in a popup', async () => {
      const attrs = `src="${cfg.base}/widget.js"${cfg.line ? ` data-line="${cfg.line.replace(/"/g, '&quot;')}"` : ''} data-label="Call us"`;
      await page.setContent(`<!doctype html><html lang="en"><head><title>Shop</title></head><body><p>A shop.</p><script ${attrs}></script></body></html>`);
      const button = page.getByRole('button', { name: 'Call us' });
      await button.waitFor();
      const leaks = await page.evaluate(() => document.querySelectorAll('style, link[rel="stylesheet"]').length);
      assert(leaks === 0, `the widget added ${leaks} stylesheet(s) to the page`);
      const api = await page.evaluate(() => typeof (window.SambungWidget && window.SambungWidget.open));
      assert(api === 'function', `window.SambungWidget.open is ${api}`);
      const [popup] = await Promise.all([context.waitForEvent('page'), button.click()]);
      const want = callPage(cfg);
      try {
        await popup.waitForURL((u) => u.href === want, { timeout: stepTimeoutMs });
        const size = await popup.evaluate(() => `${window.innerWidth}x${window.innerHeight}`);
        return `${popup.url()} (${size})`;
      } catch {
        throw new Error(`the popup is at ${popup.url()}, not ${want}`);
      } finally {
        await popup.close().catch(() => {});
      }
    });
    await cleanPage(seen, 'widget: no page errors or console errors');
  } finally {
    await page.close().catch(() => {});
  }
}

// remoteLevel waits for the IVR's audio to exceed the threshold and describes it.
async function remoteLevel(page, cfg) {
  const started = Date.now();
  let peak = 0;
  while (Date.now() - started < levelWindowMs) {
    peak = Math.max(peak, await web(page, () => window.sambungWebCall.remoteLevel()));
    if (peak > cfg.threshold) break;
    await page.waitForTimeout(100);
  }
  const media = await web(page, () => window.sambungWebCall.media);
  const states = media ? `ice ${media.ice}, connection ${media.connection}` : 'no media';
  assert(peak > cfg.threshold, `peak RMS ${peak.toFixed(4)} <= ${cfg.threshold} within ${levelWindowMs} ms (${states})`);
  return `peak RMS ${peak.toFixed(4)} after ${Date.now() - started} ms (${states})`;
}

// ended waits up to ms for the call to end; it returns the reason, or '' if the call goes on.
async function ended(page, ms) {
  try {
    await page.waitForFunction(() => ['ended', 'error'].includes(window.sambungWebCall.phase), null, { timeout: Math.max(1, ms) });
  } catch {
    return '';
  }
  return web(page, () => `${window.sambungWebCall.phase}: ${window.sambungWebCall.reason || 'no reason'}`);
}

async function call(page, seen, cfg) {
  const loaded = await check('the call page loads with no sign-in and shows the line', async () => {
    await page.goto(callPage(cfg));
    const path = new URL(page.url()).pathname;
    assert(path === '/call/', `landed on ${page.url()}`);
    await page.waitForFunction(() => document.getElementById('call-line').dataset.line !== '')
      .catch(async () => {
        throw new Error(`no line shown${await said(page)}`);
      });
    const [number, name] = await Promise.all([
      page.locator('#call-line').getAttribute('data-line'),
      page.locator('#call-line').innerText(),
    ]);
    const want = cfg.line.toLowerCase();
    assert(!want || number.toLowerCase() === want || name.trim().toLowerCase() === want, `shows line ${number} "${name}", not ${cfg.line}`);
    const title = await page.title();
    assert(/call us/i.test(title), `title "${title}"`);
    await page.locator('#call-button:not([disabled])').waitFor();
    return `line ${number} "${name.trim()}"`;
  });
  if (!loaded) return;
  await shoot(page, cfg.artifacts, 'webcall-ready');

  const connected = await check('Call connects (answered)', async () => {
    await page.locator('#call-button').click();
    await page.waitForFunction(() => window.sambungWebCall.phase === 'connected', null, { timeout: connectTimeoutMs })
      .catch(async () => {
        throw new Error(`phase ${await phase(page)}${await said(page)}`);
      });
    await page.locator('#call-status[data-state="connected"]').waitFor();
    await page.locator('#keypad button[data-digit="1"]:not([disabled])').waitFor();
    return (await page.locator('#call-status').innerText()).trim();
  });
  const callId = await web(page, () => window.sambungWebCall.callId);
  report('call-id', Boolean(callId), callId || 'no call id');
  if (!connected) return;
  const answeredAt = Date.now();

  await check("the IVR's audio arrives (remote level)", () => remoteLevel(page, cfg));
  await shoot(page, cfg.artifacts, 'webcall-call');

  let over = '';
  if (cfg.keys) {
    over = await ended(page, cfg.keysAfterMs - (Date.now() - answeredAt));
    await check(`keys ${cfg.keys} pressed on the keypad`, async () => {
      assert(!over, `the call ended before the keys (${over})`);
      for (const d of cfg.keys) {
        await page.locator(`#keypad button[data-digit="${d}"]`).click();
        await page.waitForTimeout(150); // A person's pace: one event per key on the IVR's side.
      }
      const [digits, shown] = await Promise.all([
        web(page, () => window.sambungWebCall.digits),
        page.locator('#call-digits').innerText(),
      ]);
      assert(digits === cfg.keys, `sent "${digits}"${await said(page)}`);
      assert(shown.trim() === cfg.keys, `the page shows "${shown.trim()}"`);
      return `sent and shown "${shown.trim()}"`;
    });
  }

  const stayedFrom = Date.now();
  if (!over) over = await ended(page, cfg.stayMs);
  const stayed = Date.now() - stayedFrom;
  if (cfg.waitEnd) {
    await check('the server ends the call', async () => {
      assert(over, `still ${await phase(page)} after ${cfg.stayMs} ms`);
      assert(over.startsWith('ended:'), `${over}${await said(page)}`);
      return `${over} after ${stayed} ms; "${(await page.locator('#call-status').innerText()).trim()}"`;
    });
  } else {
    await check('stays on the call', async () => {
      if (!over) return `${stayed} ms, still connected`;
      assert(over.startsWith('ended:'), `${over}${await said(page)}`);
      return `the call ended after ${stayed} ms (${over})`;
    });
    if (!over) {
      await check('hang up with the button', async () => {
        await page.getByRole('button', { name: 'Hang up' }).click();
        await page.waitForFunction(() => window.sambungWebCall.phase === 'ended', null, { timeout: stepTimeoutMs })
          .catch(async () => {
            throw new Error(`phase ${await phase(page)}${await said(page)}`);
          });
        // The server confirms with `ended` (reason hangup) before it closes the socket.
        const confirmed = await page.waitForFunction(() => window.sambungWebCall.serverReason !== '', null, { timeout: stepTimeoutMs })
          .then(() => web(page, () => window.sambungWebCall.serverReason)).catch(() => '');
        assert(confirmed === 'hangup', confirmed ? `the server ended it as "${confirmed}"` : 'the server never sent `ended`');
        return `reason ${confirmed}; "${(await page.locator('#call-status').innerText()).trim()}"`;
      });
    }
  }
  await shoot(page, cfg.artifacts, 'webcall-ended');

  await check('after the call, Call places a new one', async () => {
    const button = page.locator('#call-button');
    await button.waitFor({ state: 'visible' });
    assert(await button.isEnabled(), 'the Call button is disabled');
    const keys = await page.locator('#keypad button:not([disabled])').count();
    assert(keys === 0, `${keys} keypad buttons are still enabled`);
    return (await button.innerText()).trim();
  });

  await cleanPage(seen);
}

async function main(cfg) {
  if (cfg.artifacts) await mkdir(cfg.artifacts, { recursive: true });
  const context = await launch({ name: 'webcall', stepMs: stepTimeoutMs, wav: cfg.wav, viewport: { width: 380, height: 640 } });
  await widget(context, cfg);
  const page = await context.newPage();
  page.setDefaultTimeout(stepTimeoutMs);
  page.setDefaultNavigationTimeout(stepTimeoutMs);
  const seen = watch(page);
  await call(page, seen, cfg);
}

const cfg = await configured(readConfig);

await run(Number(process.env.SAMBUNG_E2E_TIMEOUT_MS) || cfg.keysAfterMs + cfg.stayMs + 90_000, () => main(cfg));
