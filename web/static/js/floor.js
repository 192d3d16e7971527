// floor.js: the supervisor floor's live calls (GET /api/v1/live/calls), and stepping into one
// with an agent: listen, whisper or barge over a WebRTC leg of the supervisor's own
// (POST /api/v1/calls/{id}/monitor; docs/supervisor.md).

import { get, post, del } from './api.js';
import { h } from './dom.js';
import { duration } from './format.js';
import { CallMedia } from './call-media.js';

const modes = [
  { mode: 'listen', label: 'Listen', hint: 'Hear the caller and the agent; nobody hears you.' },
  { mode: 'whisper', label: 'Whisper', hint: 'The agent hears you; the caller does not.' },
  { mode: 'barge', label: 'Barge', hint: 'Join the call: the caller and the agent both hear you.' },
];

const stateLabels = { queued: 'Waiting', talking: 'With', held: 'On hold with', consulting: 'Consulting, with' };

/**
 * mountFloor renders the live calls into container, keeps them current from live call events,
 * and runs the supervisor's monitoring: status (an element for what they hear), audio (plays it).
 */
export function mountFloor({ container, status, audio, live }) {
  let calls = [];
  let iceServers = [];
  let monitor = null; // {callId, mode, media}
  let loading = null;
  let busy = false;

  async function load() {
    if (loading) return loading;
    loading = (async () => {
      try {
        const res = (await get('/live/calls')) || {};
        calls = res.calls || [];
        iceServers = res.ice_servers || [];
        if (monitor && !calls.some((c) => c.call_id === monitor.callId && c.agent)) {
          end('The call with the agent has ended.');
        }
        render();
      } catch (err) {
        container.replaceChildren(h('p', { class: 'message message-error', role: 'alert' },
          `Could not load the live calls: ${err.message}`));
      } finally {
        container.setAttribute('aria-busy', 'false');
        loading = null;
      }
    })();
    return loading;
  }

  function render() {
    if (!calls.length) {
      container.replaceChildren(h('div', { class: 'empty' },
        h('strong', {}, 'No calls waiting or with an agent.'),
        h('p', {}, 'Calls appear here as they queue, with the agent who takes them.')));
      return;
    }
    const now = new Date().toISOString();
    container.replaceChildren(h('div', { class: 'table-wrap' },
      h('table', { class: 'floor-calls' },
        h('caption', { class: 'visually-hidden' }, 'Calls waiting or with an agent'),
        h('thead', {}, h('tr', {}, ['Caller', 'Tier', 'Language', 'Intent', 'State', 'For', 'Supervisors', 'Step in']
          .map((name) => h('th', { scope: 'col' }, name)))),
        h('tbody', {}, calls.map((c) => row(c, now))))));
  }

  function row(c, now) {
    const label = stateLabels[c.state] || c.state;
    const mine = monitor && monitor.callId === c.call_id;
    const others = (c.monitors || []).map((m) => `${m.supervisor} (${m.mode})`).join(', ');
    return h('tr', { dataset: { callId: c.call_id, state: c.state } },
      h('td', {}, c.from || '—'),
      h('td', {}, c.tier || '—'),
      h('td', {}, c.language || '—'),
      h('td', {}, c.intent || '—'),
      h('td', {}, c.agent ? `${label} ${c.agent}` : label),
      h('td', { class: 'mono', dataset: { since: c.since || '' } }, duration(c.since, now)),
      h('td', {}, others || '—'),
      h('td', {}, c.agent ? actions(c, mine) : '—'));
  }

  function actions(c, mine) {
    const who = `${c.from || 'the caller'} and ${c.agent}`;
    const buttons = modes.map(({ mode, label, hint }) => h('button', {
      class: 'button button-secondary button-small', type: 'button', title: hint,
      'aria-pressed': mine && monitor.mode === mode ? 'true' : 'false',
      'aria-label': `${label}: ${who}`, dataset: { mode },
      disabled: busy,
      on: { click: () => step(c, mode) },
    }, label));
    if (mine) {
      buttons.push(h('button', {
        class: 'button button-small', type: 'button', 'aria-label': `Leave the call of ${who}`,
        dataset: { mode: 'leave' }, disabled: busy, on: { click: () => leave() },
      }, 'Leave'));
    }
    return h('div', { class: 'floor-actions', role: 'group', 'aria-label': `Step into the call of ${who}` }, buttons);
  }

  async function step(c, mode) {
    if (busy) return;
    busy = true;
    render();
    const starting = !monitor || monitor.callId !== c.call_id;
    try {
      if (monitor && monitor.callId === c.call_id) {
        await post(`/calls/${encodeURIComponent(c.call_id)}/monitor/mode`, { mode });
        monitor.mode = mode;
        monitor.media.setMuted(mode === 'listen');
      } else {
        if (monitor) await leave(true);
        const media = new CallMedia({ callId: c.call_id, iceServers, audio, onState: () => watch(media) });
        media.setMuted(mode === 'listen');
        monitor = { callId: c.call_id, mode, media, who: `${c.from || 'the caller'} and ${c.agent}` };
        const sdp = await media.offer();
        const res = await post(`/calls/${encodeURIComponent(c.call_id)}/monitor`, { mode, sdp });
        await media.accept(res.sdp);
      }
      say();
    } catch (err) {
      if (starting) end(); // A mode that did not switch leaves the call as it was.
      status.textContent = `Could not ${mode}: ${err.message}`;
      status.dataset.state = 'error';
    } finally {
      busy = false;
      render();
    }
  }

  async function leave(quiet) {
    if (!monitor) return;
    const { callId } = monitor;
    try {
      await del(`/calls/${encodeURIComponent(callId)}/monitor`);
    } catch {
      // Gone already (the call ended): closing our side is all that is left.
    }
    end(quiet ? '' : 'You left the call.');
    render();
  }

  // watch ends the monitoring when the server closes the leg (the agent's part ended).
  function watch(media) {
    if (!monitor || monitor.media !== media) return;
    const { connection } = media.states();
    if (connection === 'connected') say();
    if (connection === 'closed' || connection === 'failed') {
      end('The call with the agent has ended.');
      render();
    }
  }

  function say() {
    if (!monitor) return;
    const connected = monitor.media.states().connection === 'connected';
    const text = {
      listen: `Listening to ${monitor.who}. Nobody hears you.`,
      whisper: `Whispering to the agent on the call of ${monitor.who}. The caller does not hear you.`,
      barge: `On the call with ${monitor.who}. Both hear you.`,
    }[monitor.mode];
    status.textContent = connected ? text : `Connecting to the call of ${monitor.who}…`;
    status.dataset.state = connected ? monitor.mode : 'connecting';
  }

  function end(text = '') {
    if (monitor) monitor.media.close();
    monitor = null;
    status.textContent = text;
    status.dataset.state = text ? 'ended' : '';
  }

  // Durations tick without a reload.
  setInterval(() => {
    const now = new Date().toISOString();
    for (const td of container.querySelectorAll('td[data-since]')) td.textContent = duration(td.dataset.since, now);
  }, 1000);

  let timer = 0;
  if (live) {
    live.on('call.event', () => {
      clearTimeout(timer);
      timer = setTimeout(load, 150); // A burst of events reloads once, well within a second.
    });
    live.on('hello', () => load()); // Back after a disconnect: what changed meanwhile.
  }
  window.addEventListener('pagehide', () => { if (monitor) leave(true); });
  return load();
}
