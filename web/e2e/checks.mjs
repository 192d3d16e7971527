// checks.mjs: what every e2e script here reports and how. One JSON line per check,
// {"check","ok","detail"}; finish() exits 0 only if every check passed and at least one ran.

import { access } from 'node:fs/promises';
import { resolve } from 'node:path';

let failed = 0;
let passed = 0;

/** report prints one check's outcome. */
export function report(check, ok, detail = '') {
  if (ok) passed += 1;
  else failed += 1;
  process.stdout.write(JSON.stringify({ check, ok: Boolean(ok), detail: String(detail) }) + '\n');
}

/** check runs fn and reports its outcome; fn returns a detail string or throws. */
export async function check(name, fn) {
  try {
    const detail = await fn();
    report(name, true, detail ?? '');
    return true;
  } catch (err) {
    report(name, false, err && err.message ? err.message.split('\n')[0] : String(err));
    return false;
  }
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/**
 * configured resolves with what read (a script's reading of its environment) returns; if it
 * throws, the script reports a failed "configuration" check and exits.
 */
export async function configured(read) {
  try {
    return await read();
  } catch (err) {
    report('configuration', false, err.message);
    process.exit(1);
  }
}

/** envLogin reads PREFIX_NAME and PREFIX_PASSWORD, a login to sign in with. */
export function envLogin(prefix) {
  const name = process.env[`${prefix}_NAME`] || '';
  const password = process.env[`${prefix}_PASSWORD`] || '';
  if (!name || !password) throw new Error(`${prefix}_NAME and ${prefix}_PASSWORD must be set`);
  return { name, password };
}

/** envBase reads SAMBUNG_URL, the server's base URL, without a trailing slash. */
export function envBase() {
  const base = (process.env.SAMBUNG_URL || '').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base)) throw new Error('SAMBUNG_URL must be set to the server base URL (http://host:port)');
  return base;
}

/** envFile reads environment variable name as a file that must be readable (a fake microphone's WAV). */
export async function envFile(name, what) {
  const path = process.env[name] || '';
  if (!path) throw new Error(`${name} must name ${what}`);
  try {
    await access(path);
  } catch {
    throw new Error(`${name}: ${path} cannot be read`);
  }
  return resolve(path);
}

/** cleanPage is the check that the page seen (watch) threw nothing and logged no error. */
export function cleanPage(seen, name = 'no page errors or console errors') {
  return check(name, async () => {
    const errors = seen.summary();
    assert(errors.length === 0, errors.join(' | '));
    return 'clean';
  });
}

/** millis reads environment variable name as a number of milliseconds, or fallback. */
export function millis(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number of milliseconds, not "${raw}"`);
  return n;
}

/** watch records a page's uncaught errors and console errors: summary() lists them, reset() forgets them. */
export function watch(page) {
  const seen = { pageErrors: [], consoleErrors: [] };
  page.on('pageerror', (err) => seen.pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.consoleErrors.push(msg.text());
  });
  seen.reset = () => {
    seen.pageErrors.length = 0;
    seen.consoleErrors.length = 0;
  };
  seen.summary = () => [...seen.pageErrors.map((m) => `pageerror: ${m}`), ...seen.consoleErrors.map((m) => `console: ${m}`)];
  return seen;
}

/** finish exits: 0 only if every check passed and at least one ran. */
export function finish() {
  if (passed === 0 && failed === 0) report('run', false, 'no checks ran');
  process.exit(failed === 0 ? 0 : 1);
}
