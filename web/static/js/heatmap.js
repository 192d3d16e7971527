// heatmap.js: what the IVR could not resolve (GET /api/v1/floor/heatmap): the calls that went to
// agents or were abandoned over the last week, by intent and hour of the day, as a grid whose
// colour deepens with the count. Reloaded every minute (it is history, not the live floor).

import { get } from './api.js';
import { h } from './dom.js';

const reloadMs = 60_000;

/** mountHeatMap draws the heat map into container and keeps it current. */
export function mountHeatMap({ container }) {
  async function load() {
    try {
      const hm = (await get('/floor/heatmap?days=7')) || {};
      draw(hm);
    } catch (err) {
      container.replaceChildren(h('p', { class: 'message message-error', role: 'alert' },
        `Could not load the heat map: ${err.message}`));
    } finally {
      container.setAttribute('aria-busy', 'false');
    }
  }

  function draw(hm) {
    const intents = hm.intents || [];
    if (!intents.length) {
      container.replaceChildren(h('div', { class: 'empty' }, h('strong', {}, 'Nothing unresolved in the last 7 days.'),
        h('p', {}, 'Calls the IVR passes to agents, or that are abandoned waiting, show here by intent and hour.')));
      return;
    }
    const cells = new Map((hm.cells || []).map((c) => [`${c.intent} ${c.hour}`, c]));
    const max = Math.max(1, ...(hm.cells || []).map((c) => c.escalated + c.abandoned));
    const hours = [...Array(24).keys()];
    container.replaceChildren(h('div', { class: 'table-wrap' },
      h('table', { class: 'heatmap' },
        h('caption', { class: 'visually-hidden' }, 'Calls the IVR could not resolve, by intent and hour of the day'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Intent'),
          hours.map((hr) => h('th', { scope: 'col', class: 'heat-hour' }, String(hr).padStart(2, '0'))))),
        h('tbody', {}, intents.map((intent) => h('tr', { dataset: { intent } },
          h('th', { scope: 'row' }, intent),
          hours.map((hr) => {
            const c = cells.get(`${intent} ${hr}`);
            const n = c ? c.escalated + c.abandoned : 0;
            const label = c ? `${intent}, ${String(hr).padStart(2, '0')}:00: ${c.escalated} to agents, ${c.abandoned} abandoned` : '';
            const heat = n ? 0.15 + (0.85 * n) / max : 0;
            const td = h('td', {
              class: `heat-cell${n ? ' heat-on' : ''}${heat > 0.55 ? ' hot' : ''}`, title: label || null,
              'aria-label': label || `${intent}, ${hr}:00: none`, dataset: { hour: String(hr), count: String(n) },
            }, n ? String(n) : '');
            // Through the CSSOM: the page's CSP refuses style attributes.
            if (n) td.style.setProperty('--heat', heat.toFixed(2));
            return td;
          })))))));
  }

  setInterval(load, reloadMs);
  return load();
}
