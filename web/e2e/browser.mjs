// browser.mjs: the headless Chromium every e2e script here drives, and the hard limit on a run.
// Nothing is ever downloaded: CHROMIUM names the binary (default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report, finish, check } from './checks.mjs';

let context = null;
let profile = '';

/**
 * launch starts Chromium on a fresh profile and returns its context, with stepMs as the default
 * timeout. wav, when given, is the fake microphone (and media may play without a gesture).
 */
export async function launch({ name, stepMs, wav = '', viewport = { width: 1280, height: 800 } }) {
  profile = await mkdtemp(join(tmpdir(), `sambung-${name}-e2e-`));
  const media = wav ? [
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${wav}`,
    '--autoplay-policy=no-user-gesture-required', '--allow-loopback-in-peer-connection',
  ] : [];
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...media,
    ],
    viewport,
    timeout: 30_000,
  });
  context.setDefaultTimeout(stepMs);
  return context;
}

/** shoot saves a screenshot of page as dir/name.png, as a check; without dir it does nothing. */
export async function shoot(page, dir, name) {
  if (!dir) return;
  await check(`screenshot: ${name}`, async () => {
    const file = join(dir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  });
}

/** closeBrowser closes the browser and removes its profile; it may run more than once. */
async function closeBrowser() {
  if (context) await context.close().catch(() => {});
  context = null;
  if (profile) await rm(profile, { recursive: true, force: true }).catch(() => {});
  profile = '';
}

/**
 * run runs main, reporting what it throws, closes the browser and exits (finish). Past limitMs
 * the run is reported failed and the process exits, taking any leftover child with it.
 */
export async function run(limitMs, main) {
  const deadline = setTimeout(() => {
    report('overall timeout', false, `not finished after ${limitMs / 1000} s`);
    const bail = setTimeout(() => process.exit(1), 5000); // a few seconds to close the browser
    closeBrowser().finally(() => {
      clearTimeout(bail);
      process.exit(1);
    });
  }, limitMs);
  try {
    await main();
  } catch (err) {
    report('run', false, err && err.message ? err.message.split('\n')[0] : String(err));
  } finally {
    await closeBrowser();
  }
  clearTimeout(deadline);
  finish();
}
