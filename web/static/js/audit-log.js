// audit-log.js: the admin's audit log: the last 50 events from GET /api/v1/audit, with
// new ones from the live socket put on top as they happen.

import { get } from './api.js';
import { h } from './dom.js';
import { timeElement } from './format.js';

const keep = 200; // Rows kept on screen; older ones are in the store.

/** mountAuditLog renders the audit table into container and follows live "audit" events. */
export function mountAuditLog({ container, live }) {
  const tbody = h('tbody');
  const seen = new Set();
  let pending = []; // Live events that arrive before the first load finishes.
  let loaded = false;

  function prepend(event, fresh) {
    const key = event.id ?? `${event.at}|${event.action}|${event.target}`;
    if (seen.has(key)) return;
    seen.add(key);
    const tr = row(event);
    if (fresh) tr.classList.add('is-new');
    tbody.prepend(tr);
    while (tbody.rows.length > keep) tbody.lastElementChild.remove();
    if (!tbody.isConnected) container.replaceChildren(table(tbody));
  }

  live.on('audit', (event) => {
    if (loaded) prepend(event, true);
    else pending.push(event);
  });

  (async () => {
    container.setAttribute('aria-busy', 'true');
    try {
      const { events = [] } = (await get('/audit?limit=50')) || {};
      // Oldest first into prepend, so the newest ends on top whatever order the server used.
      [...events].sort(newestFirst).reverse().forEach((e) => prepend(e, false));
      loaded = true;
      pending.forEach((e) => prepend(e, true));
      pending = [];
      if (!tbody.rows.length) container.replaceChildren(emptyState());
    } catch (err) {
      container.replaceChildren(h('p', { class: 'message message-error', role: 'alert' },
        `Could not load the audit log: ${err.message}`));
    } finally {
      container.setAttribute('aria-busy', 'false');
    }
  })();
}

function newestFirst(a, b) {
  const ta = Date.parse(a.at) || 0;
  const tb = Date.parse(b.at) || 0;
  if (ta !== tb) return tb - ta;
  const ia = Number(a.id);
  const ib = Number(b.id);
  return Number.isFinite(ia) && Number.isFinite(ib) ? ib - ia : String(b.id).localeCompare(String(a.id));
}

function emptyState() {
  return h('div', { class: 'empty' },
    h('strong', {}, 'No audit events yet.'),
    h('p', {}, 'Sign-ins, user changes and other administrative actions will be recorded here.'));
}

function table(tbody) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden' }, 'Audit events, newest first'),
      h('thead', {}, h('tr', {},
        ['Time', 'Actor', 'Action', 'Target', 'From', 'Outcome'].map((n) => h('th', { scope: 'col' }, n)))),
      tbody));
}

function row(event) {
  return h('tr', { dataset: { auditId: event.id ?? '' } },
    h('td', { class: 'nowrap' }, timeElement(event.at)),
    h('td', {}, event.actor || h('span', { class: 'muted' }, 'anonymous')),
    h('td', {}, h('span', { class: 'mono' }, event.action || '—'), detail(event.detail)),
    h('td', {}, event.target || '—'),
    h('td', { class: 'mono nowrap' }, event.remote_addr || '—'),
    h('td', {}, outcomeTag(event.outcome)));
}

function detail(value) {
  if (!value || typeof value !== 'object') return null;
  const parts = Object.entries(value)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  return parts.length ? h('span', { class: 'detail' }, parts.join(' · ')) : null;
}

function outcomeTag(outcome) {
  const text = outcome || '—';
  const tone = /^(ok|success|succeeded|allowed|done)$/i.test(text) ? 'tag-ok'
    : /(fail|denied|error|reject|throttl|forbidden)/i.test(text) ? 'tag-bad' : '';
  return h('span', { class: `tag ${tone}`.trim() }, text);
}
