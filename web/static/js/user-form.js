// user-form.js: the admin's "Add user" form. The server checks everything; its message is
// shown next to the form.

import { post } from './api.js';
import { roleLabel } from './format.js';

/** mountUserForm posts the form to /api/v1/users and calls onCreated with the new user. */
export function mountUserForm({ form, error, status, onCreated }) {
  const submit = form.querySelector('button[type="submit"]');
  let busy = false;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    const data = new FormData(form);
    const body = {
      name: String(data.get('name') || '').trim(),
      display_name: String(data.get('display_name') || '').trim(),
      role: String(data.get('role') || ''),
      password: String(data.get('password') || ''),
    };
    error.textContent = '';
    status.textContent = '';

    const missing = [['name', 'a name'], ['display_name', 'a display name'], ['password', 'a password']]
      .find(([key]) => !body[key]);
    if (missing) {
      error.textContent = `Enter ${missing[1]}.`;
      form.elements[missing[0]].focus();
      return;
    }

    busy = true;
    submit.disabled = true;
    try {
      const answer = await post('/users', body);
      const user = (answer && answer.user) || body;
      onCreated(user);
      form.reset();
      status.textContent = `Added ${user.name} (${roleLabel(user.role)}).`;
      form.elements.name.focus();
    } catch (err) {
      error.textContent = err.message;
      const field = err.extra && err.extra.field;
      if (field && form.elements[field]) form.elements[field].focus();
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });
}
