// supervisor.js: the supervisor floor: the header, the live calls (to step into), and the
// calls table.

import { startShell, showPageError } from '../shell.js';
import { mountCallsTable } from '../calls-table.js';
import { mountFloor } from '../floor.js';
import { mountAlerts } from '../alerts-panel.js';
import { mountHeatMap } from '../heatmap.js';
import { mountTodayChart } from '../today-chart.js';
import { mountTranscript } from '../transcript-panel.js';

async function main() {
  const { live } = await startShell();
  mountAlerts({ container: document.getElementById('alerts'), empty: document.getElementById('alerts-empty'), live });
  const transcript = mountTranscript({
    panel: document.getElementById('transcript-panel'),
    title: document.getElementById('transcript-title'),
    list: document.getElementById('transcript'),
    status: document.getElementById('transcript-status'),
    close: document.getElementById('transcript-close'),
    live,
  });
  await mountFloor({
    queues: document.getElementById('floor-queues'),
    agents: document.getElementById('floor-agents'),
    container: document.getElementById('floor'),
    status: document.getElementById('floor-status'),
    notice: document.getElementById('floor-notice'),
    audio: document.getElementById('floor-audio'),
    live,
    onTranscript: (call) => transcript.show(call),
  });
  mountHeatMap({ container: document.getElementById('heatmap') });
  mountTodayChart({ container: document.getElementById('today'), live });
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
