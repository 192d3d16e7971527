// qa-review.js: one call under review on the quality page: the recording's player (speed,
// progress, a waveform of the caller's and the agent's channels that seeks when clicked), and the
// call's timeline and transcript in step with playback, each line a button that seeks to when it
// was said (GET /api/v1/calls/{id}, /recording, /recording/peaks; docs/qa.md).

import { get } from './api.js';
import { h } from './dom.js';

/** clock reads seconds as "1:05". */
export function clock(s) {
  const t = Math.max(0, Math.floor(s || 0));
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
}

// What each timeline entry says, for people; entries not named here are left out.
const said = {
  'call.answered': () => 'Answered',
  'recording.started': () => 'Recording started',
  'ivr.step': (d) => `IVR step ${d.step || ''}`.trim(),
  'ivr.intent': (d) => `Intent ${d.intent || ''}${d.confidence ? ` (${Math.round(d.confidence * 100)}%)` : ''}`,
  'call.queued': (d) => `Queued${d.queue ? ` in ${d.queue}` : ''}`,
  'agent.connected': (d) => `Agent ${d.agent || ''} connected`,
  'agent.hold': () => 'On hold',
  'agent.unhold': () => 'Off hold',
  'agent.transferred': (d) => `Transferred${d.queue ? ` to ${d.queue}` : d.to_number ? ` to ${d.to_number}` : ''}`,
  'supervisor.joined': (d) => `Supervisor ${d.supervisor || ''} joined (${d.mode || ''})`,
  'pci.paused': (d) => `Recording paused for card details${d.by ? ` by ${d.by}` : ''}`,
  'pci.resumed': () => 'Recording resumed',
  'agent.ended': (d) => `Agent left (${(d.reason || '').replaceAll('_', ' ')})`,
  'call.ended': (d) => `Call ended (${(d.reason || '').replaceAll('_', ' ')})`,
};

/**
 * lines turns a call's timeline into what the review shows, each with its offset (s) into the
 * recording: entries (the timeline) and words (the transcript: what the caller told the IVR and
 * what each side said with the agent).
 */
export function lines(events) {
  const start = events.find((e) => e.kind === 'recording.started');
  const zero = Date.parse(start ? start.at : (events[0] || {}).at) || 0;
  const off = (t) => Math.max(0, (Date.parse(t) - zero) / 1000);
  const entries = [];
  const words = [];
  let stream = 0; // When the IVR's recognition stream began, for its offsets.
  let spoke = null; // When the utterance the IVR heard next began.
  for (const e of events) {
    const d = e.data || {};
    if (e.kind === 'asr.started') stream = Date.parse(e.at);
    if (e.kind === 'asr.heard' && stream && Number.isFinite(d.start_ms)) spoke = (stream - zero) / 1000 + d.start_ms / 1000;
    if (e.kind === 'ivr.heard' && d.text) {
      const keys = d.text.startsWith('#');
      words.push({ at: spoke ?? off(e.at), speaker: 'caller', who: 'Caller (IVR)', text: keys ? '(pressed keys)' : d.text, angry: !!d.angry });
      spoke = null;
    } else if (e.kind === 'transcript' && d.text) {
      const agent = d.speaker === 'agent';
      words.push({ at: off(d.start || e.at), speaker: agent ? 'agent' : 'caller', who: agent ? 'Agent' : 'Caller', text: d.text, angry: !agent && !!d.angry });
    } else if (said[e.kind]) {
      entries.push({ at: off(e.at), text: said[e.kind](d) });
    }
  }
  words.sort((a, b) => a.at - b.at);
  return { entries, words };
}

/**
 * mountReview runs the review panel: panel (shown once a call opens), title, audio (the <audio>),
 * speed (a <select>), progress (an <output>), canvas (the waveform), timeline and transcript
 * (lists). It returns open(callId), which resolves with the call once it is shown.
 */
export function mountReview({ panel, title, audio, speed, progress, canvas, timeline, transcript, status }) {
  let peaks = null;
  let items = [];
  let current = -1;

  speed.addEventListener('change', () => { audio.playbackRate = Number(speed.value) || 1; });
  audio.addEventListener('timeupdate', tick);
  audio.addEventListener('loadedmetadata', tick);
  audio.addEventListener('ratechange', () => { speed.value = String(audio.playbackRate); });
  canvas.addEventListener('click', (e) => {
    const rect = canvas.getBoundingClientRect();
    seek(((e.clientX - rect.left) / rect.width) * duration());
  });
  window.addEventListener('resize', draw);

  function duration() {
    return Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : (peaks ? peaks.duration_ms / 1000 : 0);
  }

  function seek(s) {
    audio.currentTime = Math.min(Math.max(0, s), duration() || s);
    tick();
  }

  function tick() {
    const now = audio.currentTime || 0;
    progress.value = `${clock(now)} / ${clock(duration())}`;
    progress.textContent = progress.value;
    progress.dataset.seconds = now.toFixed(2);
    // The line being said: the last one that began by now.
    let at = -1;
    items.forEach((it, i) => { if (it.at <= now + 0.05) at = i; });
    if (at !== current) {
      if (items[current]) items[current].el.removeAttribute('aria-current');
      if (items[at]) items[at].el.setAttribute('aria-current', 'true');
      current = at;
    }
    draw();
  }

  function draw() {
    const ctx = canvas.getContext('2d');
    const width = canvas.clientWidth || 600;
    const height = canvas.clientHeight || 96;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (!peaks) return;
    const style = getComputedStyle(canvas);
    const colours = [style.getPropertyValue('--wave-caller').trim() || '#0d5c63', style.getPropertyValue('--wave-agent').trim() || '#8a4b00'];
    const half = height / 2;
    peaks.channels.forEach((ch, c) => {
      ctx.fillStyle = colours[c];
      const mid = half * c + half / 2;
      const n = ch.length;
      for (let i = 0; i < n; i++) {
        const amp = Math.max(1, (ch[i] / 32768) * (half / 2 - 1));
        ctx.fillRect((i / n) * width, mid - amp, Math.max(1, width / n), amp * 2);
      }
    });
    const d = duration();
    if (d > 0) {
      ctx.fillStyle = style.getPropertyValue('--text').trim() || '#1b2430';
      ctx.fillRect(((audio.currentTime || 0) / d) * width, 0, 2, height);
    }
  }

  // list shows rows in container; tracked ones are the lines playback highlights as it goes.
  function list(container, rows, render, tracked) {
    container.replaceChildren(...rows.map((row) => {
      const button = h('button', { class: 'review-line', type: 'button', dataset: { at: row.at.toFixed(2) },
        on: { click: () => { seek(row.at); audio.play().catch(() => {}); } } },
      h('span', { class: 'mono review-at' }, clock(row.at)), ' ', ...render(row));
      const li = h('li', { dataset: { speaker: row.speaker || '' } }, button);
      if (tracked) items.push({ at: row.at, el: li });
      return li;
    }));
  }

  async function open(callId) {
    panel.hidden = false;
    status.textContent = 'Loading the call…';
    items = [];
    current = -1;
    peaks = null;
    const path = `/calls/${encodeURIComponent(callId)}`;
    const res = await get(path);
    const c = res.call || {};
    title.textContent = `Call from ${c.from || 'unknown'} · ${new Date(c.started_at).toLocaleString()}`;
    const { entries, words } = lines(res.events || []);
    list(timeline, entries, (r) => [r.text], false);
    list(transcript, words, (r) => [h('strong', {}, `${r.who}:`), ' ', r.text, r.angry ? h('span', { class: 'transcript-angry' }, ' angry') : ''], true);
    audio.src = `/api/v1${path}/recording`;
    audio.playbackRate = Number(speed.value) || 1;
    try {
      peaks = await get(`${path}/recording/peaks?n=600`);
      status.textContent = words.length ? '' : 'No transcript for this call.';
    } catch (err) {
      status.textContent = `The recording cannot be shown: ${err.message}`;
    }
    tick();
    panel.scrollIntoView({ block: 'start' });
    return c;
  }

  return { open };
}
