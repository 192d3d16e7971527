// transcript-panel.js: the live transcript of one call on the supervisor floor. It begins
// with what the call's timeline holds (GET /api/v1/calls/{id}): what the caller said to the
// IVR ("ivr.heard") and what each side has said since an agent took the call ("transcript",
// when asr.agent_calls is on), then adds each new line as its live "call.event" arrives
// (docs/supervisor.md).

import { get } from './api.js';
import { h } from './dom.js';
import { timeElement } from './format.js';

/** line turns one timeline entry into a transcript line, or null for entries that are not one. */
function line(kind, data, at, agentName) {
  if (!data || !data.text) return null;
  if (kind === 'ivr.heard') {
    // Keys show as keys only: what a caller types may be a card number.
    const text = data.text.startsWith('#') ? '(pressed keys)' : data.text;
    return { speaker: 'caller', source: 'ivr', who: 'Caller (to the IVR)', text, at, angry: !!data.angry };
  }
  if (kind !== 'transcript') return null;
  const agent = data.speaker === 'agent';
  return {
    speaker: agent ? 'agent' : 'caller',
    source: 'call',
    who: agent ? `Agent${agentName ? ` ${agentName}` : ''}` : 'Caller',
    text: data.text,
    at: data.start || at,
    angry: !agent && !!data.angry,
  };
}

/**
 * mountTranscript runs the transcript panel: title (the panel's heading), list (an ordered list,
 * the lines), status (what is shown and whether it is live), close (a button that stops it).
 * It returns show(call): follow call ({call_id, from, agent}) in place of the one before.
 */
export function mountTranscript({ title, list, status, close, panel, live }) {
  let current = null; // {id, agent, ended}

  function add(l) {
    if (!l) return;
    const item = h('li', { class: 'transcript-line', dataset: { speaker: l.speaker, source: l.source, angry: l.angry ? 'true' : 'false' } },
      timeElement(l.at), ' ',
      h('strong', {}, `${l.who}:`), ' ',
      h('span', { class: 'transcript-text' }, l.text),
      l.angry ? h('span', { class: 'transcript-angry' }, ' angry') : '');
    list.append(item);
    list.scrollTop = list.scrollHeight;
  }

  function say(text) {
    status.textContent = text;
  }

  async function show(call) {
    const id = call.call_id;
    // Live lines that arrive while the timeline loads wait, and those it already holds are dropped.
    current = { id, agent: call.agent || '', ended: false, seen: new Set(), pending: [] };
    const mine = current;
    panel.hidden = false;
    title.textContent = `Transcript: ${call.from || 'caller'}${call.agent ? ` with ${call.agent}` : ''}`;
    list.replaceChildren();
    say('Loading the transcript…');
    try {
      const res = await get(`/calls/${encodeURIComponent(id)}`);
      if (current !== mine) return;
      for (const e of res.events || []) {
        mine.seen.add(e.id);
        add(line(e.kind, e.data, e.at, mine.agent));
        if (e.kind === 'call.ended') mine.ended = true;
      }
      const pending = mine.pending;
      mine.pending = null;
      for (const ev of pending) if (!mine.seen.has(ev.id)) follow(ev);
      say(mine.ended ? 'The call has ended.' : 'Live: new lines appear as they are said.');
      if (!list.children.length && !mine.ended) {
        say('Live: nothing said yet. Lines appear as they are said (both sides once an agent has the call, when transcripts are on).');
      }
    } catch (err) {
      if (current !== mine) return;
      mine.pending = null;
      say(`Could not load the transcript: ${err.message}`);
    }
    panel.scrollIntoView({ block: 'nearest' });
  }

  function follow(ev) {
    if (ev.kind === 'agent.connected' && ev.data && ev.data.agent) current.agent = ev.data.agent;
    if (ev.kind === 'call.ended') {
      current.ended = true;
      say('The call has ended.');
      return;
    }
    add(line(ev.kind, ev.data, new Date().toISOString(), current.agent));
  }

  live.on('call.event', (ev) => {
    if (!current || !ev || ev.call_id !== current.id) return;
    if (current.pending) current.pending.push(ev);
    else follow(ev);
  });

  close.addEventListener('click', () => {
    current = null;
    panel.hidden = true;
  });

  return { show };
}
