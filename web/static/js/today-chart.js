// today-chart.js: today's queued calls by hour (GET /api/v1/floor/today) as a stacked bar chart:
// answered within the service level, answered late, abandoned; with the service level of each
// hour above its bar. A table with the same numbers is there for screen readers.

import { get } from './api.js';
import { h } from './dom.js';

const svgNS = 'http://www.w3.org/2000/svg';
const width = 720;
const height = 200;
const top = 18; // room for the service-level labels
const bottom = 20; // room for the hours
const series = [
  { key: 'in_time', label: 'Answered in time', cls: 'bar-in-time' },
  { key: 'late', label: 'Answered late', cls: 'bar-late' },
  { key: 'abandoned', label: 'Abandoned', cls: 'bar-abandoned' },
];

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** mountTodayChart draws today's chart into container, and again on call events and every 30 s. */
export function mountTodayChart({ container, live }) {
  let timer = 0;
  async function load() {
    try {
      const { hours = [] } = (await get('/floor/today')) || {};
      draw(hours.map((x) => ({ hour: x.hour, in_time: x.answered_in_time, late: x.answered - x.answered_in_time,
        abandoned: x.abandoned, answered: x.answered })));
    } catch (err) {
      container.replaceChildren(h('p', { class: 'message message-error', role: 'alert' },
        `Could not load today's figures: ${err.message}`));
    } finally {
      container.setAttribute('aria-busy', 'false');
    }
  }

  function draw(hours) {
    const total = (x) => x.in_time + x.late + x.abandoned;
    const max = Math.max(1, ...hours.map(total));
    const step = width / 24;
    const scale = (height - top - bottom) / max;
    const bars = [];
    for (const x of hours) {
      let y = height - bottom;
      for (const s of series) {
        const n = x[s.key];
        if (!n) continue;
        const hgt = n * scale;
        y -= hgt;
        bars.push(svg('rect', { x: x.hour * step + 3, y, width: step - 6, height: hgt, class: s.cls },
          svg('title', {}, `${String(x.hour).padStart(2, '0')}:00, ${s.label.toLowerCase()}: ${n}`)));
      }
      if (x.answered) {
        const pct = Math.round((100 * x.in_time) / x.answered);
        bars.push(svg('text', { x: x.hour * step + step / 2, y: y - 4, class: 'chart-label', 'text-anchor': 'middle' }, `${pct}%`));
      }
      if (x.hour % 3 === 0) {
        bars.push(svg('text', { x: x.hour * step + step / 2, y: height - 5, class: 'chart-axis', 'text-anchor': 'middle' },
          String(x.hour).padStart(2, '0')));
      }
    }
    const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'today-chart', 'aria-hidden': 'true' },
      svg('line', { x1: 0, x2: width, y1: height - bottom, y2: height - bottom, class: 'chart-axis-line' }), ...bars);
    const legend = h('p', { class: 'chart-legend', 'aria-hidden': 'true' },
      series.map((s) => h('span', { class: `legend-key ${s.cls}` }, s.label)), ' · the percentage is the service level of the hour');
    const busy = hours.filter((x) => total(x));
    const table = h('table', { class: 'visually-hidden' },
      h('caption', {}, "Today's queued calls by hour"),
      h('thead', {}, h('tr', {}, ['Hour', 'Answered in time', 'Answered late', 'Abandoned'].map((n) => h('th', { scope: 'col' }, n)))),
      h('tbody', {}, busy.map((x) => h('tr', {}, h('th', { scope: 'row' }, `${String(x.hour).padStart(2, '0')}:00`),
        h('td', {}, String(x.in_time)), h('td', {}, String(x.late)), h('td', {}, String(x.abandoned))))));
    container.replaceChildren(busy.length ? h('div', { class: 'chart-wrap' }, chart, legend, table)
      : h('div', { class: 'empty' }, h('strong', {}, 'No calls queued today yet.'),
        h('p', {}, 'Each hour gets a bar: answered in time, answered late, abandoned.')));
  }

  if (live) {
    live.on('call.event', (e) => {
      if (!['agent.connected', 'call.ended'].includes(e.kind)) return;
      clearTimeout(timer);
      timer = setTimeout(load, 1000);
    });
  }
  setInterval(load, 30_000);
  return load();
}
