// checks.mjs: what every e2e script here reports and how. One JSON line per check,
// {"check","ok","detail"}; finish() exits 0 only if every check passed and at least one ran.

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
