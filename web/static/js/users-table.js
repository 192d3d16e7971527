// users-table.js: the admin's list of users, with a Disable or Enable button per row.

import { get, post } from './api.js';
import { h } from './dom.js';
import { roleLabel } from './format.js';

/**
 * mountUsers loads GET /api/v1/users into container; status is a role="status" region for
 * what the buttons did; self is the signed-in admin's name (no button to lock yourself out).
 * It returns {add(user), reload()}.
 */
export function mountUsers({ container, status, self }) {
  const tbody = h('tbody');
  const rows = new Map(); // name -> <tr>

  function render(user, { fresh = false } = {}) {
    const tr = row(user, self, toggle);
    if (fresh) tr.classList.add('is-new');
    const old = rows.get(user.name);
    if (old) old.replaceWith(tr);
    else tbody.append(tr);
    rows.set(user.name, tr);
  }

  async function toggle(user, button) {
    const action = user.disabled ? 'enable' : 'disable';
    button.disabled = true;
    say('');
    try {
      const { user: updated } = await post(`/users/${encodeURIComponent(user.name)}/${action}`);
      render(updated);
      say(`${updated.name} is now ${updated.disabled ? 'disabled' : 'active'}.`);
      const next = rows.get(updated.name).querySelector('button');
      if (next) next.focus(); // Keep the keyboard where it was.
    } catch (err) {
      button.disabled = false;
      say(`Could not ${action} ${user.name}: ${err.message}`, true);
    }
  }

  function say(text, bad = false) {
    status.textContent = text;
    status.className = text ? `message ${bad ? 'message-error' : 'message-ok'}` : 'message';
  }

  async function reload() {
    container.setAttribute('aria-busy', 'true');
    try {
      const { users = [] } = (await get('/users')) || {};
      tbody.replaceChildren();
      rows.clear();
      users.forEach((u) => render(u));
      container.replaceChildren(table(tbody));
    } catch (err) {
      container.replaceChildren(h('p', { class: 'message message-error', role: 'alert' },
        `Could not load users: ${err.message}`));
    } finally {
      container.setAttribute('aria-busy', 'false');
    }
  }

  reload();
  return {
    add(user) {
      render(user, { fresh: true });
      if (!tbody.isConnected) container.replaceChildren(table(tbody));
    },
    reload,
  };
}

function table(tbody) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden' }, 'Users'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Name'),
        h('th', { scope: 'col' }, 'Display name'),
        h('th', { scope: 'col' }, 'Role'),
        h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      tbody));
}

function row(user, self, toggle) {
  let action;
  if (user.name === self) {
    action = h('span', { class: 'muted' }, 'You');
  } else {
    const verb = user.disabled ? 'Enable' : 'Disable';
    action = h('button', {
      type: 'button',
      class: `button button-small ${user.disabled ? 'button-secondary' : 'button-danger'}`,
      'aria-label': `${verb} ${user.name}`,
    }, verb);
    action.addEventListener('click', () => toggle(user, action));
  }
  return h('tr', { dataset: { user: user.name } },
    h('th', { scope: 'row', class: 'mono' }, user.name),
    h('td', {}, user.display_name || '—'),
    h('td', {}, h('span', { class: 'tag tag-brand' }, roleLabel(user.role))),
    h('td', {}, user.disabled
      ? h('span', { class: 'tag tag-bad' }, 'Disabled')
      : h('span', { class: 'tag tag-ok' }, 'Active')),
    h('td', { class: 'actions' }, action));
}
