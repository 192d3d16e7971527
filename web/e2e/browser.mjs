// browser.mjs: the headless Chromium every e2e script here drives, and the hard limit on a run.
// Nothing is ever downloaded: CHROMIUM names the binary (default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

// heardRate is the rate the pages' captures of what they hear are kept at.
const heardRate = 16000;

/**
 * captureHeard makes every page of context keep what it hears: the first remote audio track any
 * of its peer connections receives, from the moment it arrives, through WebAudio (for saveHeard).
 */
export async function captureHeard(context) {
  await context.addInitScript((rate) => {
    const Original = window.RTCPeerConnection;
    const heard = { chunks: [], start: 0, rate, track: null };
    window.sambungHeard = heard;
    function keep(track) {
      if (heard.track || track.kind !== 'audio') return;
      heard.track = track;
      const ctx = new AudioContext({ sampleRate: rate });
      ctx.resume().catch(() => {});
      const source = ctx.createMediaStreamSource(new MediaStream([track]));
      const tap = ctx.createScriptProcessor(4096, 1, 1);
      tap.onaudioprocess = (e) => {
        const data = e.inputBuffer.getChannelData(0);
        if (!heard.start) heard.start = Date.now() - (data.length / rate) * 1000;
        heard.chunks.push(Float32Array.from(data));
      };
      source.connect(tap);
      tap.connect(ctx.destination); // A processor runs only when connected; it outputs silence.
    }
    window.RTCPeerConnection = function RTCPeerConnection(...args) {
      const pc = new Original(...args);
      pc.addEventListener('track', (e) => keep(e.track));
      return pc;
    };
    window.RTCPeerConnection.prototype = Original.prototype;
    Object.setPrototypeOf(window.RTCPeerConnection, Original);
  }, heardRate);
}

/**
 * saveHeard writes what page has heard so far (captureHeard) to path as a 16-bit mono WAV, and
 * returns {start, seconds}: the wall-clock time of its first sample (ms since the epoch) and its
 * length.
 */
export async function saveHeard(page, path) {
  const { start, b64, n } = await page.evaluate(() => {
    const h = window.sambungHeard;
    if (!h || !h.start) return { start: 0, b64: '', n: 0 };
    const total = h.chunks.reduce((k, c) => k + c.length, 0);
    const pcm = new Int16Array(total);
    let i = 0;
    for (const c of h.chunks) for (const v of c) pcm[i++] = Math.max(-32768, Math.min(32767, Math.round(v * 32767)));
    let bin = '';
    const bytes = new Uint8Array(pcm.buffer);
    for (let j = 0; j < bytes.length; j += 0x8000) bin += String.fromCharCode(...bytes.subarray(j, j + 0x8000));
    return { start: h.start, b64: btoa(bin), n: total };
  });
  if (!n) throw new Error('the page heard nothing: no remote audio track arrived');
  const data = Buffer.from(b64, 'base64');
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(heardRate, 24);
  header.writeUInt32LE(heardRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  await writeFile(path, Buffer.concat([header, data]));
  return { start, seconds: n / heardRate };
}

/**
 * fillSignIn fills the sign-in form on page the way a person would (by its labels), submits it
 * and waits to leave /login.
 */
export async function fillSignIn(page, name, password) {
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login', { waitUntil: 'load' }),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

/** signIn opens the sign-in page, signs in, and resolves with the path it lands on. */
export async function signIn(page, base, name, password) {
  await page.goto(base + '/login');
  await fillSignIn(page, name, password);
  return new URL(page.url()).pathname;
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
