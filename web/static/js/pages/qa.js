// qa.js: quality review: the header and the list of recorded calls.

import { startShell, showPageError } from '../shell.js';
import { mountCallsTable } from '../calls-table.js';

async function main() {
  const { live } = await startShell();
  await mountCallsTable({
    container: document.getElementById('calls'),
    refresh: document.getElementById('calls-refresh'),
    live,
    label: 'Recorded calls',
    empty: {
      title: 'No recorded calls yet.',
      text: 'Recorded calls will be listed here, ready to play back, review and score.',
      icon: '/static/img/recording.svg',
    },
  });
}

main().catch(showPageError);
