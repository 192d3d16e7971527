// admin.js: administration: users, the add-user form and the live audit log.

import { startShell, showPageError } from '../shell.js';
import { mountUsers } from '../users-table.js';
import { mountUserForm } from '../user-form.js';
import { mountAuditLog } from '../audit-log.js';

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
}

main().catch(showPageError);
