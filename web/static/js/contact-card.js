// contact-card.js: the screen-pop: what the IVR learned about the caller (the contact context,
// version 1, in docs/softphone.md), laid out so an agent takes it in at a glance. Every fact
// sits in an element with a stable data-field, which tests read.

import { h } from './dom.js';

const svgNS = 'http://www.w3.org/2000/svg';

let languageNames = null;
try {
  languageNames = new Intl.DisplayNames(['en'], { type: 'language' });
} catch {
  languageNames = null; // An old browser: show the code alone.
}

/**
 * renderContact fills container with the contact context. Fields that are absent read
 * "Unknown" (or are left out, for lists). deadline overrides contact.deadline (the offer's).
 */
export function renderContact(container, contact, { deadline } = {}) {
  const c = contact || {};
  const caller = c.caller || {};
  const customer = c.customer || {};
  const tier = c.tier || customer.tier || '';
  const due = deadline || c.deadline || '';
  const transcriptBox = container.querySelector('[data-field="transcript"]');
  const stuckToBottom = !transcriptBox
    || transcriptBox.scrollHeight - transcriptBox.scrollTop - transcriptBox.clientHeight < 24;

  const parts = [
    h('div', { class: 'contact-head' },
      h('div', { class: 'contact-who' },
        h('strong', { class: 'contact-name', dataset: { field: 'caller-name' } },
          caller.name || customer.name || 'Unknown caller'),
        h('span', { class: 'contact-number mono', dataset: { field: 'caller-number' } }, caller.number || 'No number')),
      h('span', { class: 'contact-badges' },
        tierBadge(tier),
        c.sentiment && c.sentiment.angry ? h('span', { class: 'tag tag-bad' }, 'Angry') : null),
      deadlineBox(due)),
    h('dl', { class: 'contact-facts' },
      fact('Intent', 'intent', intentText(c.intent), slots(c.intent)),
      fact('Language', 'language', languageText(c.language), switches(c.language)),
      fact('Sentiment', 'sentiment', sentiment(c.sentiment)),
      fact('Queue', 'queue', c.queue ? [c.queue, c.priority !== undefined ? ` · priority ${c.priority}` : ''] : 'Unknown'),
      fact('Customer', 'customer', customer.id || customer.name
        ? [customer.name || customer.id, customer.id && customer.name ? h('span', { class: 'muted' }, ` (${customer.id})`) : '']
        : 'Not identified'),
      fact('Skills', 'skills', Array.isArray(c.skills) && c.skills.length
        ? c.skills.map((s) => h('span', { class: 'tag' }, s)) : 'None'),
    ),
    section('IVR path', h('ol', { class: 'contact-path', dataset: { field: 'path' } },
      list(c.path).length ? list(c.path).map((step) => h('li', {}, step)) : h('li', { class: 'muted' }, 'No menu steps'))),
    section('Transcript', transcript(c.transcript)),
    list(c.failures).length ? section('Failures', h('ul', { class: 'contact-list', dataset: { field: 'failures' } },
      list(c.failures).map((f) => h('li', {},
        h('span', { class: 'tag tag-warn' }, f.reason || 'failed'), ' at ', h('strong', {}, f.step || '?'), ' ',
        clock(f.at))))) : h('div', { dataset: { field: 'failures' }, hidden: true }),
    section('Previous contacts', history(c.history)),
    list(c.disclosures).length ? section('Disclosures', h('ul', { class: 'contact-list muted', dataset: { field: 'disclosures' } },
      list(c.disclosures).map((d) => h('li', {}, d.text || '', d.language ? ` (${d.language})` : '')))) : null,
  ];
  container.replaceChildren(...parts.filter(Boolean));

  const box = container.querySelector('[data-field="transcript"]');
  if (box && stuckToBottom) box.scrollTop = box.scrollHeight;
  tickDeadline(container);
}

/** tickDeadline refreshes the countdown in container; call it every second. */
export function tickDeadline(container) {
  const el = container.querySelector('[data-field="deadline"]');
  if (!el || !el.dataset.deadline) return;
  const left = Date.parse(el.dataset.deadline) - Date.now();
  if (!Number.isFinite(left)) return;
  const text = el.querySelector('.deadline-time');
  if (left >= 0) {
    text.textContent = `${clockDuration(left)} left`;
    el.dataset.level = left < 30000 ? 'bad' : left < 120000 ? 'warn' : 'ok';
  } else {
    text.textContent = `over by ${clockDuration(-left)}`;
    el.dataset.level = 'over';
  }
}

function fact(label, field, value, extra = null) {
  return h('div', { class: 'contact-fact' },
    h('dt', {}, label),
    h('dd', {}, h('span', { dataset: { field } }, value), extra));
}

function section(title, body) {
  return h('section', { class: 'contact-section' }, h('h3', {}, title), body);
}

function list(v) {
  return Array.isArray(v) ? v : [];
}

function tierBadge(tier) {
  if (!tier) return h('span', { class: 'tag', dataset: { field: 'tier' } }, 'Standard');
  const vip = /^vip$/i.test(tier);
  return h('span', { class: vip ? 'tag tag-vip' : 'tag tag-brand', dataset: { field: 'tier', tier: tier.toLowerCase() } },
    vip ? 'VIP' : tier[0].toUpperCase() + tier.slice(1));
}

function deadlineBox(due) {
  if (!due) return h('span', { class: 'contact-deadline', dataset: { field: 'deadline' } }, 'No deadline');
  return h('span', { class: 'contact-deadline', dataset: { field: 'deadline', deadline: due }, title: `Service deadline ${clock(due).textContent}` },
    h('span', { class: 'visually-hidden' }, 'Service deadline: '),
    h('span', { class: 'deadline-time' }, ''));
}

function percent(x) {
  return typeof x === 'number' && Number.isFinite(x) ? `${Math.round(x * 100)}%` : '';
}

function intentText(intent) {
  if (!intent || !intent.name) return 'Unknown';
  const p = percent(intent.confidence);
  return [h('strong', {}, intent.name), p ? h('span', { class: 'confidence' }, ` ${p}`) : null];
}

function slots(intent) {
  const s = intent && intent.slots;
  if (!s || typeof s !== 'object' || !Object.keys(s).length) return null;
  return h('span', { class: 'detail', dataset: { field: 'slots' } },
    Object.entries(s).map(([k, v]) => `${k}: ${v}`).join(' · '));
}

function languageName(code) {
  if (!code) return '';
  try {
    const name = languageNames && languageNames.of(code);
    return name && name !== code ? name : '';
  } catch {
    return '';
  }
}

function languageText(lang) {
  if (!lang || !lang.code) return 'Unknown';
  const name = languageName(lang.code);
  const p = percent(lang.confidence);
  return [h('strong', {}, name || lang.code), name ? h('span', { class: 'muted' }, ` (${lang.code})`) : null,
    p ? h('span', { class: 'confidence' }, ` ${p}`) : null];
}

function switches(lang) {
  const list = lang && Array.isArray(lang.switches) ? lang.switches : [];
  if (!list.length) return null;
  return h('span', { class: 'detail' },
    list.map((s) => `switched ${s.from || '?'} → ${s.to || '?'}${s.how ? ` (${s.how})` : ''}`).join('; '));
}

function sentiment(s) {
  if (!s || typeof s.score !== 'number') return 'Unknown';
  const trend = list(s.trend).filter((x) => typeof x === 'number');
  const points = trend.length ? trend : [s.score];
  const last = points[points.length - 1];
  const prev = points.length > 1 ? points[points.length - 2] : last;
  const delta = last - prev;
  const arrow = delta > 0.05 ? ['↑', 'improving'] : delta < -0.05 ? ['↓', 'worsening'] : ['→', 'steady'];
  const mood = s.score <= -0.3 ? 'negative' : s.score >= 0.3 ? 'positive' : 'neutral';
  return h('span', { class: 'sentiment', dataset: { mood, angry: s.angry ? 'true' : 'false' } },
    h('strong', {}, `${s.score > 0 ? '+' : ''}${s.score.toFixed(2)}`),
    ` ${mood}`,
    s.angry ? h('span', { class: 'tag tag-bad' }, 'angry') : null,
    h('span', { class: 'sentiment-trend', title: `Trend: ${arrow[1]}` },
      sparkline(points),
      h('span', { 'aria-hidden': 'true' }, arrow[0]),
      h('span', { class: 'visually-hidden' }, `trend ${arrow[1]}`)));
}

// sparkline draws scores in [-1, 1] as a small line with the zero line behind it.
function sparkline(points) {
  const w = 64;
  const hgt = 18;
  const svg = document.createElementNS(svgNS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(hgt));
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('aria-hidden', 'true');
  const y = (v) => ((1 - Math.max(-1, Math.min(1, v))) / 2) * (hgt - 2) + 1;
  const zero = document.createElementNS(svgNS, 'line');
  zero.setAttribute('x1', '0');
  zero.setAttribute('x2', String(w));
  zero.setAttribute('y1', String(y(0)));
  zero.setAttribute('y2', String(y(0)));
  zero.setAttribute('class', 'sparkline-zero');
  svg.append(zero);
  const step = points.length > 1 ? (w - 2) / (points.length - 1) : 0;
  const line = document.createElementNS(svgNS, 'polyline');
  line.setAttribute('points', points.map((v, i) => `${(1 + i * step).toFixed(1)},${y(v).toFixed(1)}`).join(' '));
  line.setAttribute('class', 'sparkline-line');
  svg.append(line);
  return svg;
}

function transcript(lines) {
  const items = list(lines);
  return h('ol', { class: 'transcript', dataset: { field: 'transcript' }, tabindex: '0', 'aria-label': 'Transcript so far' },
    items.length ? items.map((l) => h('li', { dataset: { speaker: l.speaker || 'caller' } },
      clock(l.at),
      h('span', { class: 'speaker' }, l.speaker || 'caller'),
      h('span', { class: 'said' }, l.text || ''),
      l.intent ? h('span', { class: 'tag' }, `${l.intent}${percent(l.confidence) ? ' ' + percent(l.confidence) : ''}`) : null))
      : h('li', { class: 'muted' }, 'Nothing said yet'));
}

function history(items) {
  const rows = list(items);
  return h('ul', { class: 'contact-list', dataset: { field: 'history' } },
    rows.length ? rows.map((x) => h('li', {},
      clock(x.at, true), ' ',
      h('span', { class: x.outcome === 'completed' ? 'tag tag-ok' : 'tag tag-warn' }, x.outcome || 'unknown'),
      x.intent ? [' ', h('strong', {}, x.intent)] : null,
      x.disposition ? [' → ', x.disposition] : null,
      x.call_id ? h('span', { class: 'detail mono' }, x.call_id) : null))
      : h('li', { class: 'muted' }, 'First contact'));
}

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayAndTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function clock(value, withDay = false) {
  const t = document.createElement('time');
  const d = value ? new Date(value) : null;
  if (!d || Number.isNaN(d.getTime())) {
    t.textContent = '';
    return t;
  }
  t.dateTime = d.toISOString();
  t.textContent = (withDay ? dayAndTime : timeOfDay).format(d);
  return t;
}

/** clockDuration reads milliseconds as "4:05" or "1:02:03". */
export function clockDuration(ms) {
  let s = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  const seconds = String(s - minutes * 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}
