// floor.js: the supervisor floor (GET /api/v1/floor): the queues, the agents and the live
// calls, reloaded on every live call and agent event; and stepping into a call with an agent:
// listen, whisper or barge over a WebRTC leg of the supervisor's own
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

const agentStates = {
  offline: 'Offline', available: 'Available', ringing: 'Ringing', on_call: 'On a call', wrap_up: 'Wrap-up', away: 'Away',
};

/** head is a table's header row; a name starting with # heads a column of numbers. */
const head = (names) => h('thead', {}, h('tr', {}, names.map((name) => (name.startsWith('#')
  ? h('th', { scope: 'col', class: 'num' }, name.slice(1))
  : h('th', { scope: 'col' }, name)))));

/** seconds reads a number of seconds as "4:05". */
const seconds = (s) => duration(new Date(0).toISOString(), new Date(Math.max(0, s) * 1000).toISOString());

/**
 * mountFloor renders the queues, the agents and the live calls into their containers, keeps them
 * current from live events, and runs the supervisor's monitoring: status (an element for what
 * they hear), audio (plays it).
 */
export function mountFloor({ queues: queuesBox, agents: agentsBox, container, status, notice, audio, live, onTranscript }) {
  let queues = [];
  let agents = [];
  let calls = [];
  let loadedAt = Date.now();
  let iceServers = [];
  let monitor = null; // {callId, mode, media}
  let loading = null;
  let busy = false;
  let acting = false; // A supervisor action is on its way.

  let again = false; // An event came while loading: what it changed may not be in that answer.

  async function load() {
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      try {
        const res = (await get('/floor')) || {};
        queues = res.queues || [];
        agents = res.agents || [];
        calls = res.calls || [];
        iceServers = res.ice_servers || [];
        loadedAt = Date.now();
        if (monitor && !calls.some((c) => c.call_id === monitor.callId && c.agent)) {
          end('The call with the agent has ended.');
        }
        renderQueues();
        renderAgents();
        render();
        document.body.dataset.floorLoaded = String(loadedAt); // For tests: when the floor last changed.
      } catch (err) {
        container.replaceChildren(h('p', { class: 'message message-error', role: 'alert' },
          `Could not load the floor: ${err.message}`));
      } finally {
        for (const box of [queuesBox, agentsBox, container]) box.setAttribute('aria-busy', 'false');
        loading = null;
        if (again) {
          again = false;
          load();
        }
      }
    })();
    return loading;
  }

  function renderQueues() {
    if (!queues.length) {
      queuesBox.replaceChildren(h('div', { class: 'empty' }, h('strong', {}, 'No queues are configured.'),
        h('p', {}, 'Queues come from agents.queues in the configuration.')));
      return;
    }
    queuesBox.replaceChildren(h('div', { class: 'table-wrap' },
      h('table', { class: 'floor-queues' },
        h('caption', { class: 'visually-hidden' }, 'Queues'),
        head(['Queue', '#Waiting', 'Longest wait', 'Answered in time today', 'Abandoned today', '#Calls back']),
        h('tbody', {}, queues.map((q) => {
          const pct = q.answered_today ? Math.round((100 * q.answered_in_time_today) / q.answered_today) : null;
          const target = q.service_level ? ` within ${seconds(q.service_level)}` : '';
          return h('tr', { dataset: { queue: q.name } },
            h('th', { scope: 'row' }, q.name),
            h('td', { class: 'num', dataset: { field: 'waiting' } }, String(q.waiting)),
            h('td', { class: 'mono', dataset: { wait: q.waiting ? String(q.longest_wait) : '' } },
              q.waiting ? seconds(q.longest_wait) : '—'),
            h('td', {}, pct === null ? '—' : `${pct}% (${q.answered_in_time_today} of ${q.answered_today}${target})`),
            h('td', {}, q.abandoned_today ? `${q.abandoned_today} (after ${seconds(q.average_abandon_wait)} on average)` : '0'),
            h('td', { class: 'num' }, String(q.callbacks)));
        })))));
  }

  function renderAgents() {
    if (!agents.length) {
      agentsBox.replaceChildren(h('div', { class: 'empty' }, h('strong', {}, 'No agents yet.'),
        h('p', {}, 'Users with the agent role appear here once they sign in to the agent desk.')));
      return;
    }
    const now = new Date().toISOString();
    agentsBox.replaceChildren(h('div', { class: 'table-wrap' },
      h('table', { class: 'floor-agents' },
        h('caption', { class: 'visually-hidden' }, 'Agents'),
        head(['Agent', 'State', 'For', 'Call', '#Calls today', 'Average handle time', 'Set']),
        h('tbody', {}, agents.map((a) => h('tr', { dataset: { agent: a.name, state: a.state } },
          h('th', { scope: 'row' }, a.display_name && a.display_name !== a.name ? `${a.display_name} (${a.name})` : a.name),
          h('td', { dataset: { field: 'state' } }, (agentStates[a.state] || a.state) + (a.reason ? ` (${a.reason})` : '')),
          h('td', { class: 'mono', dataset: { since: a.since || '' } }, duration(a.since, now)),
          h('td', {}, callOf(a)),
          h('td', { class: 'num' }, String(a.handled_today)),
          h('td', { class: 'mono' }, a.handled_today ? seconds(a.average_handle_time) : '—'),
          h('td', {}, agentActions(a))))))));
  }

  // agentActions are a supervisor's buttons for an agent: a state, or signing them out. An agent
  // with a call (ringing, on it, wrapping it up) keeps their state until it is over.
  function agentActions(a) {
    const busy = ['ringing', 'on_call', 'wrap_up'].includes(a.state);
    const who = a.display_name || a.name;
    const buttons = [['available', 'Available'], ['away', 'Away'], ['offline', 'Offline']]
      .filter(([state]) => state !== a.state)
      .map(([state, label]) => h('button', {
        class: 'button button-secondary button-small', type: 'button', disabled: busy || acting,
        'aria-label': `Set ${who} ${label.toLowerCase()}`, dataset: { set: state },
        on: { click: () => act(`/agents/${a.agent_id}/state`, { state }, `${who} is now ${label.toLowerCase()}.`) },
      }, label));
    if (a.state !== 'offline') {
      buttons.push(h('button', {
        class: 'button button-small', type: 'button', disabled: busy || acting, 'aria-label': `Sign ${who} out`,
        dataset: { set: 'logout' },
        on: { click: () => act(`/agents/${a.agent_id}/logout`, undefined, `${who} is signed out.`) },
      }, 'Sign out'));
    }
    return h('div', { class: 'floor-actions', role: 'group', 'aria-label': `Set ${who}` }, buttons);
  }

  // moveControl lets a supervisor send a waiting call to another queue or to an available agent.
  function moveControl(c) {
    const options = [
      ...queues.filter((q) => q.name !== c.queue).map((q) => h('option', { value: `queue:${q.name}` }, `Queue ${q.name}`)),
      ...agents.filter((a) => a.state === 'available').map((a) => h('option', { value: `agent:${a.name}` },
        `Agent ${a.display_name || a.name}`)),
    ];
    if (!options.length) return '—';
    const select = h('select', { 'aria-label': `Move the call of ${c.from || 'the caller'} to` }, options);
    return h('div', { class: 'floor-actions' }, select, h('button', {
      class: 'button button-secondary button-small', type: 'button', disabled: acting,
      on: {
        click: () => {
          const [kind, name] = select.value.split(/:(.*)/s);
          act(`/calls/${encodeURIComponent(c.call_id)}/move`, kind === 'queue' ? { queue: name } : { agent: name },
            `The call of ${c.from || 'the caller'} goes to ${kind} ${name}.`);
        },
      },
    }, 'Move'));
  }

  // act runs one supervisor action and says how it went; the floor reloads on the events it causes.
  async function act(path, body, done) {
    if (acting) return;
    acting = true;
    try {
      await post(path, body);
      notice.textContent = done;
      notice.dataset.state = 'ok';
    } catch (err) {
      notice.textContent = `Not done: ${err.message}`;
      notice.dataset.state = 'error';
    } finally {
      acting = false;
      load();
    }
  }

  function callOf(a) {
    const c = a.call_id && calls.find((x) => x.call_id === a.call_id);
    if (!c) return a.call_id ? 'a call' : '—';
    return [c.from, c.intent, c.language].filter(Boolean).join(' · ');
  }

  // mood says how the caller sounds: the score over the call, "angry", and the last few
  // utterances' scores, oldest first, so a turn for the worse shows.
  function mood(s) {
    if (!s || (!s.score && !s.angry && !(s.trend || []).length)) return '—';
    const num = (v) => (v > 0 ? '+' : v < 0 ? '−' : '') + Math.abs(v).toFixed(1);
    const parts = [num(s.score || 0)];
    if (s.angry) parts.push('angry');
    const trend = (s.trend || []).slice(-3);
    if (trend.length > 1) parts.push(`(${trend.map(num).join(' → ')})`);
    return parts.join(' ');
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
        h('thead', {}, h('tr', {}, ['Caller', 'Tier', 'Language', 'Intent', 'Mood', 'In IVR', 'State', 'For', 'Supervisors', 'Step in, move or read']
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
      h('td', { class: 'floor-mood', dataset: { angry: c.sentiment && c.sentiment.angry ? 'true' : 'false' } }, mood(c.sentiment)),
      h('td', { class: 'mono' }, c.in_ivr ? seconds(c.in_ivr) : '—'),
      h('td', {}, c.agent ? `${label} ${c.agent}` : label),
      h('td', { class: 'mono', dataset: { since: c.since || '' } }, duration(c.since, now)),
      h('td', {}, others || '—'),
      h('td', {}, c.agent ? actions(c, mine) : moveControl(c), transcriptButton(c)));
  }

  function transcriptButton(c) {
    if (!onTranscript) return '';
    return h('button', {
      class: 'button button-secondary button-small', type: 'button', dataset: { action: 'transcript' },
      'aria-label': `Transcript of the call of ${c.from || 'the caller'}`,
      on: { click: () => onTranscript(c) },
    }, 'Transcript');
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
    for (const box of [agentsBox, container]) {
      for (const td of box.querySelectorAll('td[data-since]')) td.textContent = duration(td.dataset.since, now);
    }
    const elapsed = (Date.now() - loadedAt) / 1000;
    for (const td of queuesBox.querySelectorAll('td[data-wait]')) {
      if (td.dataset.wait) td.textContent = seconds(Number(td.dataset.wait) + elapsed);
    }
  }, 1000);

  let timer = 0;
  if (live) {
    const soon = () => {
      clearTimeout(timer);
      timer = setTimeout(load, 150); // A burst of events reloads once, well within a second.
    };
    // A line the agent said changes nothing on the floor; the caller's may change their mood.
    live.on('call.event', (ev) => {
      if (ev && ev.kind === 'transcript' && ev.data && ev.data.speaker !== 'caller') return;
      soon();
    });
    live.on('agent.event', soon);
    live.on('hello', () => load()); // Back after a disconnect: what changed meanwhile.
  }
  window.addEventListener('pagehide', () => { if (monitor) leave(true); });
  return load();
}
