// alerts-panel.js: the supervisors' alerts as they come (live "alert" events): a call about to
// miss its service level, a caller turning negative or angry, a long hold, an agent away too
// long. Newest first; the page keeps the last 50 it has seen (docs/supervisor.md).

import { h } from './dom.js';
import { timeElement } from './format.js';

const keep = 50;

const kindLabels = {
  service_level: 'Service level',
  angry_caller: 'Angry caller',
  negative_caller: 'Caller turning negative',
  long_hold: 'Long hold',
  away_too_long: 'Away too long',
};

/** mountAlerts shows the alerts that arrive on live in container (a list) and empty (shown while none). */
export function mountAlerts({ container, empty, live }) {
  live.on('alert', (a) => {
    const item = h('li', { class: 'alert-item', dataset: { kind: a.kind || '', callId: a.call_id || '' } },
      h('strong', {}, kindLabels[a.kind] || a.kind || 'Alert'),
      ' ',
      h('span', {}, a.text || ''),
      ' ',
      timeElement(a.at));
    container.prepend(item);
    while (container.children.length > keep) container.lastElementChild.remove();
    empty.hidden = true;
  });
}
