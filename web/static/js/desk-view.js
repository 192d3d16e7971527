// desk-view.js: draws the agent desk (pages/agent.js) from the page's one picture of it: the
// agent's state, the ring, the call in progress, the contact card, the audio and the timers.

import { audioBlocked } from './ringer.js';
import { renderContact, tickDeadline, clockDuration } from './contact-card.js';
import { h } from './dom.js';

const $ = (id) => document.getElementById(id);

export const stateNames = {
  offline: 'Offline', available: 'Available', ringing: 'Ringing', on_call: 'On a call',
  wrap_up: 'Wrap-up', away: 'Away',
};
export const endedWords = {
  caller_hangup: 'The caller hung up.',
  agent_hangup: 'You hung up.',
  no_answer: 'The customer did not answer the call back.',
  busy: 'The customer was busy.',
  cancelled: 'You stopped the call back.',
  dial_failed: 'The call back could not be placed.',
  transferred: 'You transferred the call.',
  consult_ended: 'The consult ended; the caller stays with the other agent.',
  failed: 'The call failed.',
};
export const setByAgent = ['available', 'away', 'offline'];

/**
 * deskView draws desk (agent.js's picture: agent, phase, call, choices). phone() and transfer()
 * are the page's softphone connection and transfer form. It returns the drawing functions.
 */
export function deskView(desk, { phone, transfer }) {
  function render() {
    const { phase, call, agent } = desk;
    $('call-panel').dataset.phase = phase;
    document.body.dataset.phase = phase;
    $('phase-waiting').hidden = phase !== 'waiting';
    $('phase-ringing').hidden = phase !== 'ringing';
    $('phase-call').hidden = phase !== 'connecting' && phase !== 'connected';
    $('phase-wrapup').hidden = phase !== 'wrapup';
    $('call-id').textContent = call ? call.id : '';
    $('call-subtitle').textContent = {
      waiting: 'Your calls, one at a time.', ringing: 'Answer or decline.', connecting: 'Connecting the audio.',
      connected: 'On the call.', wrapup: 'Wrap up the call.',
    }[phase];

    // Status.
    const stateEl = $('agent-state');
    stateEl.dataset.state = agent.state;
    const reason = agent.state === 'away' && agent.reason ? `: ${labelOf(desk.awayReasons, agent.reason)}` : '';
    stateEl.textContent = (stateNames[agent.state] || agent.state) + reason;
    const busy = !setByAgent.includes(agent.state) && agent.state !== 'wrap_up';
    for (const s of setByAgent) {
      const b = $(`state-${s}`);
      b.setAttribute('aria-pressed', String(agent.state === s));
      b.disabled = busy || phone().state !== 'connected';
    }
    $('away-reason').disabled = busy;
    $('waiting-title').textContent = agent.state === 'available' ? 'Waiting for calls'
      : agent.state === 'away' ? 'You are away' : agent.state === 'offline' ? 'You are offline' : 'Waiting for calls';

    // Call.
    if (call && (phase === 'connecting' || phase === 'connected')) {
      const status = $('call-status');
      if (status.textContent !== 'Hanging up…' || phase === 'connecting') {
        status.textContent = phase === 'connecting' ? 'Connecting…' : call.held ? 'On hold'
          : call.consultFrom ? `Consult with ${call.consultFrom}: the caller is on hold` : 'Connected';
      }
      status.dataset.state = phase === 'connecting' ? 'connecting' : call.held ? 'held' : 'connected';
      const mute = $('mute');
      mute.setAttribute('aria-pressed', String(call.muted));
      mute.setAttribute('aria-label', call.muted ? 'Unmute' : 'Mute');
      mute.firstChild.textContent = call.muted ? 'Unmute ' : 'Mute ';
      const hold = $('hold');
      hold.setAttribute('aria-pressed', String(call.held));
      hold.setAttribute('aria-label', call.held ? 'Resume' : 'Hold');
      hold.firstChild.textContent = call.holdPending ? (call.held ? 'Resuming… ' : 'Holding… ') : call.held ? 'Resume ' : 'Hold ';
      const pci = $('pci');
      pci.setAttribute('aria-pressed', String(Boolean(call.pci)));
      pci.setAttribute('aria-label', call.pci ? 'Resume recording' : 'Pause recording for card details');
      pci.firstChild.textContent = call.pciPending ? (call.pci ? 'Resuming… ' : 'Pausing… ')
        : call.pci ? 'Resume recording ' : 'Pause recording ';
      $('pci-notice').textContent = call.pci ? 'Recording paused: card details are kept nowhere. Keys are masked.' : '';
      for (const id of ['mute', 'hold']) $(id).disabled = phase !== 'connected';
      // Consulted, the caller is not yet ours: no hold, keys or transfer.
      const ours = phase === 'connected' && !call.consultFrom;
      hold.disabled = !ours || call.holdPending;
      pci.disabled = !ours || call.pciPending;
      $('dtmf-digits').textContent = call.digits;
      for (const b of $('dtmf-pad').querySelectorAll('button')) b.disabled = !ours;
      transfer().disabled = !ours;
    } else {
      $('call-status').textContent = 'Connecting…';
    }
    if (phase === 'wrapup' && call) {
      $('ended-reason').textContent = `Call ended. ${endedWords[call.ended] || ''}`.trim();
      $('wrapup-save').disabled = call.saving;
      $('wrapup-save').textContent = call.saving ? 'Saving…' : 'Save wrap-up';
    }
    renderRing();
    renderCard();
    renderMedia();
    tick();
  }

  function renderRing() {
    const call = desk.call;
    if (!call || desk.phase !== 'ringing') return;
    const c = call.contact || {};
    $('ring-name').textContent = (c.caller && c.caller.name) || (c.customer && c.customer.name) || 'Unknown caller';
    $('ring-number').textContent = c.callback_to || (c.caller && c.caller.number) || '';
    $('ring-label').textContent = call.consultFrom ? `Consult: ${call.consultFrom} asks to talk about this call`
      : c.callback_to ? 'Call back (you call the customer)'
        : call.phone ? 'Incoming call: pick up your desk phone' : 'Incoming call';
    $('answer').hidden = Boolean(call.phone);
    $('ring-intent').textContent = c.intent && c.intent.name ? `About ${c.intent.name}` : '';
    $('sound-hint').hidden = !audioBlocked();
  }

  let cardCallId = null;
  function renderCard() {
    const box = $('contact');
    const call = desk.call;
    if (!call) {
      if (cardCallId !== null) {
        // Keep the last caller's card visible (read-only) until the next call rings.
        box.classList.add('is-past');
        cardCallId = null;
      }
      return;
    }
    box.classList.remove('is-past');
    cardCallId = call.id;
    box.dataset.callId = call.id;
    renderContact(box, call.contact, { deadline: call.deadline });
  }

  function renderMedia() {
    const call = desk.call;
    const el = $('media-state');
    if (!call || !call.media) {
      el.textContent = '';
      return;
    }
    const s = call.media.states();
    el.textContent = `Audio: ${s.connection}${s.ice !== s.connection ? ` (ICE ${s.ice})` : ''}`;
    el.dataset.state = s.connection;
  }

  // tick refreshes everything that counts: time in state, the call timer, the ring countdown
  // and the service deadline.
  function tick() {
    const since = Date.parse(desk.agent.since);
    $('agent-since').textContent = Number.isFinite(since) ? `for ${clockDuration(Date.now() - since)}` : '';
    const call = desk.call;
    if (call && desk.phase === 'connected' && call.connectedAt) {
      $('call-timer').textContent = clockDuration(Date.now() - call.connectedAt);
    } else {
      $('call-timer').textContent = '';
    }
    if (call && desk.phase === 'ringing' && call.ringTimeoutMs) {
      const left = call.ringTimeoutMs - (Date.now() - call.offeredAt);
      $('ring-countdown').textContent = left > 0 ? `· rings for ${Math.ceil(left / 1000)} s more` : '';
    }
    if (desk.phase === 'ringing') $('sound-hint').hidden = !audioBlocked();
    tickDeadline($('contact'));
  }

  return { render, renderRing, renderCard, renderMedia, tick };
}

export function fillSelect(select, options, placeholder) {
  const current = select.value;
  const items = options.map((o) => h('option', { value: o.code }, o.label || o.code));
  if (placeholder) items.unshift(h('option', { value: '' }, placeholder));
  select.replaceChildren(...items);
  if (current && options.some((o) => o.code === current)) select.value = current;
}

export function labelOf(list, code) {
  const found = list.find((o) => o.code === code);
  return found ? found.label || code : code || '';
}
