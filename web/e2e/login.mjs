// login.mjs: signs in to a running Sambung server with headless Chromium, once per role,
// and checks what a user meets: the landing page, its heading, the header, the live
// connection, a clean console, signing out, a wrong password, ?next= and a forbidden page.
//
// Environment:
//   SAMBUNG_URL        base URL of the server, e.g. http://127.0.0.1:8080
//   SAMBUNG_LOGINS     JSON: {"agent":{"name","password"},"supervisor":{...},"qa":{...},"admin":{...}}
//   SAMBUNG_ARTIFACTS  directory for screenshots (created if missing)
//   CHROMIUM           browser binary (default /usr/bin/chromium; nothing is ever downloaded)
//   SAMBUNG_E2E_TIMEOUT_MS  hard limit for the whole run (default 90000)
//
// Output: one JSON line per check, {"check","ok","detail"}. Exit status 0 only if every check passed.

import { report, check, assert, watch, envBase } from './checks.mjs';
import { launch, run, fillSignIn } from './browser.mjs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

const overallTimeoutMs = Number(process.env.SAMBUNG_E2E_TIMEOUT_MS) || 90_000;
const stepTimeoutMs = 10_000;

const roles = [
  { role: 'agent', landing: '/agent/', h1: 'Agent desk' },
  { role: 'supervisor', landing: '/supervisor/', h1: 'Supervisor floor' },
  { role: 'qa', landing: '/qa/', h1: 'Quality review' },
  { role: 'admin', landing: '/admin/', h1: 'Administration' },
];

function readConfig() {
  const base = envBase();
  let logins;
  try {
    logins = JSON.parse(process.env.SAMBUNG_LOGINS || '');
  } catch {
    throw new Error('SAMBUNG_LOGINS must be a JSON object role -> {"name","password"}');
  }
  for (const { role } of roles) {
    const l = logins && logins[role];
    if (!l || typeof l.name !== 'string' || typeof l.password !== 'string') {
      throw new Error(`SAMBUNG_LOGINS has no name and password for role ${role}`);
    }
  }
  const artifacts = process.env.SAMBUNG_ARTIFACTS || '';
  return { base, logins, artifacts };
}

async function newPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(stepTimeoutMs);
  page.setDefaultNavigationTimeout(stepTimeoutMs);
  return { page, seen: watch(page) };
}

// signIn signs in with a role's login on the sign-in form page shows.
const signIn = (page, { name, password }) => fillSignIn(page, name, password);

const path = (page) => new URL(page.url()).pathname;

async function roleChecks(context, cfg, { role, landing, h1 }) {
  await context.clearCookies();
  const { page, seen } = await newPage(context);
  const login = cfg.logins[role];
  try {
    const reached = await check(`${role}: sign in lands on ${landing}`, async () => {
      await page.goto(cfg.base + '/login');
      await signIn(page, login);
      assert(path(page) === landing, `landed on ${page.url()}`);
      return page.url();
    });
    if (!reached) return;

    await check(`${role}: heading reads "${h1}"`, async () => {
      const heads = page.locator('h1');
      assert((await heads.count()) === 1, `found ${await heads.count()} h1 elements`);
      const text = (await heads.first().innerText()).trim();
      assert(text === h1, `h1 is "${text}"`);
      return text;
    });

    await check(`${role}: header shows the signed-in user`, async () => {
      const res = await context.request.get(cfg.base + '/api/v1/me');
      assert(res.status() === 200, `/api/v1/me answered ${res.status()}`);
      const { user } = await res.json();
      assert(user && user.name === login.name, `/api/v1/me names ${user && user.name}`);
      assert(user.role === role, `/api/v1/me says role ${user.role}`);
      const shown = user.display_name || user.name;
      const header = page.locator('header');
      await header.getByText(shown, { exact: true }).first().waitFor();
      await header.getByRole('button', { name: 'Sign out' }).waitFor();
      return `${shown} (${user.role})`;
    });

    await check(`${role}: live indicator connects`, async () => {
      const status = page.locator('header .live-status[data-state="connected"]');
      await status.waitFor();
      const text = (await status.locator('[data-live-text]').innerText()).trim();
      assert(/live/i.test(text), `indicator reads "${text}"`);
      return text;
    });

    if (role === 'admin') await adminChecks(page, cfg, seen);

    // Let the page finish loading its panels before judging the console.
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]')).catch(() => {});
    await check(`${role}: no page or console errors`, async () => {
      const errors = seen.summary();
      assert(errors.length === 0, errors.join(' | '));
      return 'clean';
    });

    if (cfg.artifacts) {
      await check(`${role}: screenshot`, async () => {
        const file = join(cfg.artifacts, `${role}.png`);
        await page.screenshot({ path: file, fullPage: true });
        return file;
      });
    }

    await check(`${role}: sign out returns to /login`, async () => {
      await Promise.all([
        page.waitForURL((u) => u.pathname === '/login'),
        page.locator('header').getByRole('button', { name: 'Sign out' }).click(),
      ]);
      const res = await context.request.get(cfg.base + '/api/v1/me');
      assert(res.status() === 401, `after signing out /api/v1/me answered ${res.status()}`);
      return page.url();
    });
  } finally {
    await page.close().catch(() => {});
  }
}

// adminChecks exercise the administration page: the users table, adding a user through the
// form, that user showing up live in the audit log, and the Disable button.
async function adminChecks(page, cfg, seen) {
  await check('admin: users table lists every role', async () => {
    const table = page.locator('#users table');
    await table.waitFor();
    for (const { role } of roles) {
      await table.locator('tbody tr', { hasText: cfg.logins[role].name }).first().waitFor();
    }
    return `${await table.locator('tbody tr').count()} users`;
  });

  await check('admin: audit log shows events', async () => {
    const rows = page.locator('#audit table tbody tr');
    await rows.first().waitFor();
    return `${await rows.count()} events`;
  });

  const name = `e2e${Date.now().toString(36)}`;
  await check('admin: add user through the form', async () => {
    const before = await page.locator('#audit table tbody tr').count();
    const form = page.locator('#user-form');
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.getByLabel('Display name').fill('E2E Tester');
    await form.getByLabel('Role').selectOption('agent');
    await form.getByLabel('Password').fill('correct horse battery staple 42');
    await form.getByRole('button', { name: 'Add user' }).click();
    const formError = form.locator('#user-form-error');
    await Promise.race([
      page.locator(`#users tbody tr[data-user="${name}"]`).waitFor(),
      formError.filter({ hasText: /\S/ }).waitFor().then(async () => {
        throw new Error(`form says: ${await formError.innerText()}`);
      }),
    ]);
    // The creation is audited, and the audit event arrives over the socket.
    await page.waitForFunction(
      (n) => document.querySelectorAll('#audit table tbody tr').length > n,
      before,
      { timeout: stepTimeoutMs },
    ).catch(() => {
      throw new Error('no live audit event appeared after adding a user');
    });
    const top = (await page.locator('#audit table tbody tr').first().innerText()).replace(/\s+/g, ' ');
    return `added ${name}; newest audit row: ${top}`;
  });

  await check('admin: a scorecard with a mistake is refused, naming it; fixed, it saves as a new version', async () => {
    const form = page.locator('#scorecard-form');
    await page.locator('#scorecards button', { hasText: 'Call quality (version 1)' }).waitFor();
    const editor = form.getByLabel('Form (JSON)');
    const good = await editor.inputValue();
    await editor.fill(good.replace('"kind": "scale"', '"kind": "stars"'));
    await form.getByRole('button', { name: 'Save scorecard' }).click();
    const error = page.locator('#scorecard-error');
    await error.filter({ hasText: /stars/ }).waitFor();
    const said = (await error.innerText()).trim();
    assert(/sections\[\d+\]\.questions\[\d+\]/.test(said), `the error does not say where: ${said}`);
    // The browser logs the refusal (a 400) it was meant to get: that one is not a page error.
    const refused = seen.consoleErrors.findIndex((m) => m.includes('400 (Bad Request)'));
    if (refused >= 0) seen.consoleErrors.splice(refused, 1);
    await editor.fill(good);
    await form.getByRole('button', { name: 'Save scorecard' }).click();
    await page.locator('#scorecard-status').filter({ hasText: 'version 2' }).waitFor();
    await page.locator('#scorecards button', { hasText: 'Call quality (version 2)' }).waitFor();
    return `refused: ${said}`;
  });

  await check('admin: disable the new user', async () => {
    const row = page.locator(`#users tbody tr[data-user="${name}"]`);
    await row.getByRole('button', { name: `Disable ${name}` }).click();
    await row.getByText('Disabled', { exact: true }).waitFor();
    await row.getByRole('button', { name: `Enable ${name}` }).waitFor();
    return `${name} disabled`;
  });
}

async function wrongPassword(context, cfg) {
  await context.clearCookies();
  const { page, seen } = await newPage(context);
  try {
    await page.goto(cfg.base + '/login');
    const { name } = cfg.logins.agent;
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Password', { exact: true }).fill('not-the-password-' + Date.now());
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/login'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const res = await answered;

    await check('wrong password: alert says "Wrong name or password."', async () => {
      assert(res.status() === 401, `login answered ${res.status()}`);
      const alert = page.getByRole('alert');
      await alert.filter({ hasText: 'Wrong name or password.' }).waitFor();
      return (await alert.innerText()).trim();
    });
    await check('wrong password: stays on /login, name kept, password cleared', async () => {
      assert(path(page) === '/login', `URL is ${page.url()}`);
      const kept = await page.getByLabel('Name', { exact: true }).inputValue();
      assert(kept === name, `name field holds "${kept}"`);
      const pw = await page.getByLabel('Password', { exact: true }).inputValue();
      assert(pw === '', 'password field was not cleared');
      const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
      assert(focused === 'password', `focus is on #${focused}`);
      return page.url();
    });
    await check('wrong password: no page errors', async () => {
      assert(seen.pageErrors.length === 0, seen.pageErrors.join(' | '));
      return 'clean';
    });
    if (cfg.artifacts) await page.screenshot({ path: join(cfg.artifacts, 'login-error.png') }).catch(() => {});
  } finally {
    await page.close().catch(() => {});
  }
}

async function nextRedirect(context, cfg) {
  await context.clearCookies();
  const { page, seen } = await newPage(context);
  try {
    const redirected = await check('signed out: /admin/ redirects to /login?next=/admin/', async () => {
      await page.goto(cfg.base + '/admin/');
      const u = new URL(page.url());
      assert(u.pathname === '/login', `landed on ${page.url()}`);
      assert(u.searchParams.get('next') === '/admin/', `next is ${u.searchParams.get('next')}`);
      return page.url();
    });
    if (!redirected) return;
    await check('signed out: signing in from there lands on /admin/', async () => {
      await signIn(page, cfg.logins.admin);
      assert(path(page) === '/admin/', `landed on ${page.url()}`);
      await page.locator('h1', { hasText: 'Administration' }).waitFor();
      const errors = seen.summary();
      assert(errors.length === 0, errors.join(' | '));
      return page.url();
    });
  } finally {
    await page.close().catch(() => {});
  }
}

async function forbidden(context, cfg) {
  await context.clearCookies();
  const { page } = await newPage(context);
  try {
    await page.goto(cfg.base + '/login');
    await signIn(page, cfg.logins.agent);
    await check('agent: /admin/ answers 403', async () => {
      const res = await page.goto(cfg.base + '/admin/');
      assert(res, 'no response');
      assert(res.status() === 403, `status ${res.status()} at ${page.url()}`);
      return `${res.status()} ${res.statusText()}`;
    });
  } finally {
    await page.close().catch(() => {});
  }
}

async function main() {
  let cfg;
  try {
    cfg = readConfig();
  } catch (err) {
    report('configuration', false, err.message);
    return;
  }
  if (cfg.artifacts) await mkdir(cfg.artifacts, { recursive: true });
  // The persistent context opens with a blank page; leave it be and use fresh ones.
  const context = await launch({ name: 'login', stepMs: stepTimeoutMs });
  // One broken part should not hide what the others would have found.
  const parts = [
    ...roles.map((r) => [r.role, () => roleChecks(context, cfg, r)]),
    ['wrong password', () => wrongPassword(context, cfg)],
    ['signed out', () => nextRedirect(context, cfg)],
    ['forbidden', () => forbidden(context, cfg)],
  ];
  for (const [name, part] of parts) {
    try {
      await part();
    } catch (err) {
      report(`${name}: run`, false, err && err.message ? err.message.split('\n')[0] : String(err));
    }
  }
}

await run(overallTimeoutMs, main);
