// supervisor.js: the supervisor floor: the header and the calls table.

import { startShell, showPageError } from '../shell.js';
import { mountCallsTable } from '../calls-table.js';

async function main() {
  const { live } = await startShell();
  await mountCallsTable({
    container: document.getElementById('calls'),
    refresh: document.getElementById('calls-refresh'),
    live,
    label: 'Recent calls',
    empty: {
      title: 'No calls yet.',
      text: 'Calls appear here as they arrive, with their outcome and the node that handled them.',
    },
  });
}

main().catch(showPageError);
