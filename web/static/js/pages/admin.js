// admin.js: administration: users, the add-user form and the live audit log.

import { startShell, showPageError } from '../shell.js';
import { mountUsers } from '../users-table.js';
import { mountUserForm } from '../user-form.js';
import { mountAuditLog } from '../audit-log.js';
import { get, post } from '../api.js';
import { h } from '../dom.js';

async function main() {
  const { user, live } = await startShell();
  const users = mountUsers({
    container: document.getElementById('users'),
    status: document.getElementById('users-status'),
    self: user.name,
  });
  mountUserForm({
    form: document.getElementById('user-form'),
    error: document.getElementById('user-form-error'),
    status: document.getElementById('user-form-status'),
    onCreated: (created) => users.add(created),
  });
  mountAuditLog({
    container: document.getElementById('audit'),
    live,
  });
  await mountScorecards();
}

// mountScorecards lists the scorecards and saves a new one, or a new version, from its JSON.
async function mountScorecards() {
  const $ = (id) => document.getElementById(id);
  const form = $('scorecard-form');
  const editor = $('scorecard-json');
  let cards = [];
  const show = () => $('scorecards').replaceChildren(...cards.map((c) => h('li', {},
    h('button', { class: 'button button-secondary button-small', type: 'button', on: { click: () => edit(c) } },
      `${c.name} (version ${c.version})`))));
  const edit = (c) => {
    $('scorecard-name').value = c.name;
    editor.value = JSON.stringify(c.form, null, 2);
  };
  cards = ((await get('/scorecards')) || {}).scorecards || [];
  show();
  if (cards.length) edit(cards[0]);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('scorecard-error').textContent = '';
    $('scorecard-status').textContent = '';
    let parsed;
    try {
      parsed = JSON.parse(editor.value);
    } catch (err) {
      $('scorecard-error').textContent = `The form is not JSON: ${err.message}`;
      return;
    }
    try {
      const saved = await post('/scorecards', { name: $('scorecard-name').value, form: parsed });
      $('scorecard-status').textContent = `Saved ${saved.name}, version ${saved.version}.`;
      cards = ((await get('/scorecards')) || {}).scorecards || [];
      show();
    } catch (err) {
      $('scorecard-error').textContent = err.message;
    }
  });
}

main().catch(showPageError);
