// agent.js: the agent desk: a softphone in the page. It keeps the agent's state, rings for
// offered calls with the caller's context, carries the call's audio over WebRTC, and takes the
// wrap-up. The protocol is docs/softphone.md.

import { startShell, showPageError } from '../shell.js';
import { connectSoftphone } from '../softphone.js';
import { CallMedia } from '../call-media.js';
import { Ringer, audioContext, unlockAudio, audioBlocked } from '../ringer.js';
import { renderContact, tickDeadline, clockDuration } from '../contact-card.js';
import { h } from '../dom.js';
import { bindTransfer } from '../transfer.js';

const $ = (id) => document.getElementById(id);

const stateNames = {
  offline: 'Offline', available: 'Available', ringing: 'Ringing', on_call: 'On a call',
  wrap_up: 'Wrap-up', away: 'Away',
};
const withdrawnWords = {
  caller_hangup: 'The caller hung up before you answered.',
  ring_no_answer: 'The call went unanswered and moved on.',
  declined: 'You declined the call; it goes to the next agent.',
};
const endedWords = {
  caller_hangup: 'The caller hung up.',
  agent_hangup: 'You hung up.',
  no_answer: 'The customer did not answer the call back.',
  busy: 'The customer was busy.',
  cancelled: 'You stopped the call back.',
  dial_failed: 'The call back could not be placed.',
  transferred: 'You transferred the call.',
  failed: 'The call failed.',
};
const setByAgent = ['available', 'away', 'offline'];

// The page's one picture of the desk. phase: waiting, ringing, connecting (answered, media not
// yet flowing), connected, wrapup.
const desk = {
  agent: { state: 'offline', reason: '', since: '' },
  awayReasons: [],
  dispositions: [],
  iceServers: [],
  phase: 'waiting',
  call: null,
};

let phone = null;
let transfer = null;
const ringer = new Ringer();

/** newCall is the page's record of one call. */
function newCall(id) {
  return {
    id, contact: {}, deadline: '', ringTimeoutMs: 0, offeredAt: Date.now(), connectedAt: 0,
    muted: false, held: false, holdPending: false, digits: '', media: null, ended: '', saving: false,
  };
}

// ---------- Messages from the server ----------

function onHello(m) {
  desk.awayReasons = Array.isArray(m.away_reasons) ? m.away_reasons : [];
  desk.dispositions = Array.isArray(m.dispositions) ? m.dispositions : [];
  desk.iceServers = Array.isArray(m.ice_servers) ? m.ice_servers : [];
  transfer.setQueues(Array.isArray(m.queues) ? m.queues : []);
  fillSelect($('away-reason'), desk.awayReasons, null);
  fillSelect($('disposition'), desk.dispositions, 'Choose a disposition');
  if (m.agent) setAgent(m.agent);
  restoreCall(m.call, m.agent && m.agent.state);
  render();
}

// restoreCall brings the page in line with the call the server says is in progress (after a
// reload or a reconnect). The shape of hello.call is not fixed by docs/softphone.md; this reads
// {call_id, state, contact, deadline, ring_timeout_ms, held, muted} and falls back on the agent's
// state when `state` is absent.
function restoreCall(c, agentState) {
  const here = desk.call;
  if (!c || !c.call_id) {
    if (here && desk.phase !== 'wrapup') {
      // The server no longer has our call: it ended while we were away.
      endCall(here, '');
      if (agentState === 'wrap_up') setPhase('wrapup');
      else toWaiting();
    }
    return;
  }
  const state = c.state || agentState || 'ringing';
  let call = here && here.id === c.call_id ? here : null;
  if (!call) {
    if (here) endCall(here, '');
    call = newCall(c.call_id);
    desk.call = call;
  }
  if (c.contact) call.contact = c.contact;
  if (c.deadline) call.deadline = c.deadline;
  if (c.ring_timeout_ms) call.ringTimeoutMs = c.ring_timeout_ms;
  if (typeof c.held === 'boolean') call.held = c.held;
  if (typeof c.muted === 'boolean') call.muted = c.muted;

  if (state === 'ringing' || state === 'offered') {
    if (desk.phase !== 'connecting') setPhase('ringing');
  } else if (state === 'wrap_up' || state === 'ended') {
    endCall(call, c.reason || '');
    setPhase('wrapup');
  } else {
    // On a call. A live leg carries on by itself; a page that lost it (a reload) offers anew
    // with `restart`, which the server answers with call.sdp.
    if (!call.connectedAt) call.connectedAt = Date.parse(c.connected_at || '') || Date.now();
    if (!call.media || call.media.closed) reconnectMedia(call);
    setPhase('connected');
  }
}

function onAgentState(m) {
  setAgent(m);
  render();
}

function onOffer(m) {
  if (!m.call_id) return;
  if (desk.call && desk.call.id !== m.call_id && (desk.phase === 'connecting' || desk.phase === 'connected')) {
    showError(`A second call (${m.call_id}) was offered while you are on one; it was not shown.`);
    return;
  }
  if (desk.call && desk.call.id !== m.call_id) endCall(desk.call, '');
  const call = desk.call && desk.call.id === m.call_id ? desk.call : newCall(m.call_id);
  call.contact = m.contact || call.contact;
  call.deadline = m.deadline || (m.contact && m.contact.deadline) || '';
  call.ringTimeoutMs = Number(m.ring_timeout_ms) || 0;
  call.offeredAt = Date.now();
  call.phone = m.phone === true;
  desk.call = call;
  $('wrapup-saved').textContent = '';
  setPhase('ringing');
  const c = call.contact || {};
  const who = (c.caller && (c.caller.name || c.caller.number)) || 'unknown caller';
  if (c.callback_to) {
    announce(`Call back ${who} at ${c.callback_to}${c.intent && c.intent.name ? `, about ${c.intent.name}` : ''}. Press A to call them, D to decline.`);
  } else {
    announce(`Incoming call from ${who}${c.intent && c.intent.name ? `, about ${c.intent.name}` : ''}. Press A to answer, D to decline.`);
  }
  render();
}

function onWithdrawn(m) {
  const call = desk.call;
  if (!call || call.id !== m.call_id || desk.phase === 'wrapup') return;
  endCall(call, '');
  const words = withdrawnWords[m.reason] || 'The call stopped ringing.';
  toWaiting(words);
  announce(words);
}

function onSDP(m) {
  const call = desk.call;
  if (!call || call.id !== m.call_id || !call.media) return;
  call.media.accept(m.sdp).catch((err) => showError(`Could not use the server's audio answer: ${err.message}`));
}

function onConnected(m) {
  const call = desk.call;
  if (!call || call.id !== m.call_id) return;
  if (!call.connectedAt) call.connectedAt = Date.now();
  setPhase('connected');
  const c = call.contact || {};
  announce(`Connected to ${(c.caller && (c.caller.name || c.caller.number)) || 'the caller'}.`);
}

function onContext(m) {
  const call = desk.call;
  if (!call || call.id !== m.call_id || !m.contact) return;
  call.contact = m.contact;
  if (m.contact.deadline && !call.deadline) call.deadline = m.contact.deadline;
  renderCard();
  renderRing();
}

function onHeld(m) {
  const call = desk.call;
  if (!call || call.id !== m.call_id) return;
  call.held = Boolean(m.on);
  call.holdPending = false;
  announce(call.held ? 'The caller is on hold.' : 'The caller is back.');
  render();
}

function onEnded(m) {
  const call = desk.call;
  if (!call || call.id !== m.call_id) return;
  endCall(call, m.reason || 'failed');
  transfer.reset();
  setPhase('wrapup');
  announce(`Call ended. ${endedWords[m.reason] || ''} Choose a disposition and save the wrap-up.`);
  $('disposition').focus();
}

function onSaved(m) {
  const call = desk.call;
  const label = labelOf(desk.dispositions, m.disposition);
  $('wrapup-saved').textContent = `Wrap-up saved for ${m.call_id}: ${label}.`;
  announce(`Wrap-up saved: ${label}.`);
  if (call && call.id === m.call_id) {
    desk.call = null;
    toWaiting();
  }
}

function onError(m) {
  const what = m.ref ? ` (${m.ref})` : '';
  showError(`${m.message || 'The server refused a request.'}${what}`);
  const call = desk.call;
  if (!call) return;
  if (m.ref === 'answer' && desk.phase === 'connecting') {
    // The answer did not take: drop the leg; the call rings on until the server withdraws it.
    if (call.media) call.media.close();
    call.media = null;
    setPhase('ringing');
  } else if (m.ref === 'hold') {
    call.holdPending = false;
  } else if (m.ref === 'transfer' || (m.ref || '').startsWith('consult')) {
    transfer.failed(m.message || 'The transfer was refused.', m.ref);
  } else if (m.ref === 'wrapup') {
    call.saving = false;
  }
  render();
}

// ---------- What the agent does ----------

function send(message) {
  if (phone.send(message)) return true;
  showError('The softphone is not connected to the server; try again when it reconnects.');
  return false;
}

function setState(state) {
  clearError();
  const msg = { type: 'state', state };
  if (state === 'away') msg.reason = $('away-reason').value || undefined;
  send(msg);
}

async function answer() {
  const call = desk.call;
  if (!call || desk.phase !== 'ringing') return;
  if (call.phone) {
    announce('This call rings on your desk phone: pick it up there.');
    return;
  }
  clearError();
  ringer.stop();
  setPhase('connecting');
  const ctx = audioContext();
  if (ctx && ctx.state === 'suspended') ctx.resume().catch(() => {}); // This click is a gesture.
  const media = newMedia(call);
  try {
    const sdp = await media.offer();
    if (desk.call !== call || media.closed) return;
    if (!send({ type: 'answer', call_id: call.id, sdp })) throw new Error('not connected');
  } catch (err) {
    media.close();
    if (call.media === media) call.media = null;
    if (desk.call === call && desk.phase === 'connecting') {
      setPhase('ringing');
      if (err.message !== 'not connected') showError(`Could not answer: ${micProblem(err)}`);
    }
  }
}

function decline() {
  const call = desk.call;
  if (!call || desk.phase !== 'ringing') return;
  clearError();
  if (send({ type: 'decline', call_id: call.id })) {
    endCall(call, '');
    toWaiting(withdrawnWords.declined);
    announce('Call declined.');
  }
}

function hangup() {
  const call = desk.call;
  if (!call || (desk.phase !== 'connecting' && desk.phase !== 'connected')) return;
  clearError();
  send({ type: 'hangup', call_id: call.id });
  $('call-status').textContent = 'Hanging up…';
}

function toggleMute() {
  const call = desk.call;
  if (!call || desk.phase !== 'connected') return;
  call.muted = !call.muted;
  if (call.media) call.media.setMuted(call.muted);
  send({ type: 'mute', call_id: call.id, on: call.muted });
  announce(call.muted ? 'Microphone muted.' : 'Microphone on.');
  render();
}

function toggleHold() {
  const call = desk.call;
  if (!call || desk.phase !== 'connected' || call.holdPending) return;
  if (send({ type: 'hold', call_id: call.id, on: !call.held })) call.holdPending = true;
  render();
}

function dtmf(digit) {
  const call = desk.call;
  if (!call || desk.phase !== 'connected' || !/^[0-9*#]$/.test(digit)) return;
  if (send({ type: 'dtmf', call_id: call.id, digits: digit })) {
    call.digits += digit;
    $('dtmf-digits').textContent = call.digits;
  }
}

function saveWrapup(e) {
  e.preventDefault();
  const call = desk.call;
  if (!call || desk.phase !== 'wrapup' || call.saving) return;
  const disposition = $('disposition').value;
  if (!disposition) {
    $('wrapup-error').textContent = 'Choose a disposition before saving.';
    $('disposition').setAttribute('aria-invalid', 'true');
    $('disposition').focus();
    return;
  }
  $('wrapup-error').textContent = '';
  $('disposition').removeAttribute('aria-invalid');
  if (send({ type: 'wrapup', call_id: call.id, disposition, notes: $('notes').value })) call.saving = true;
  render();
}

// ---------- Media ----------

function newMedia(call) {
  if (call.media) call.media.close();
  const media = new CallMedia({
    callId: call.id,
    iceServers: desk.iceServers,
    audio: $('remote-audio'),
    audioContext,
    onRestart: (sdp) => send({ type: 'restart', call_id: call.id, sdp }),
    onState: () => renderMedia(),
  });
  media.setMuted(call.muted);
  call.media = media;
  return media;
}

// reconnectMedia gives a restored call a new leg (the old one went with the page).
async function reconnectMedia(call) {
  const media = newMedia(call);
  try {
    const sdp = await media.offer();
    if (desk.call === call && !media.closed) send({ type: 'restart', call_id: call.id, sdp });
  } catch (err) {
    showError(`Could not reconnect the call's audio: ${micProblem(err)}`);
  }
}

function endCall(call, reason) {
  ringer.stop();
  if (call.media) call.media.close();
  call.media = null;
  if (reason) call.ended = reason;
}

function micProblem(err) {
  if (err && err.name === 'NotAllowedError') return 'the browser may not use the microphone. Allow it for this site and try again.';
  if (err && err.name === 'NotFoundError') return 'no microphone was found. Plug one in and try again.';
  return err && err.message ? err.message : String(err);
}

// ---------- Drawing ----------

function setAgent(a) {
  desk.agent = { state: a.state || 'offline', reason: a.reason || '', since: a.since || new Date().toISOString() };
}

function setPhase(phase) {
  desk.phase = phase;
  if (phase === 'ringing') {
    const c = (desk.call && desk.call.contact) || {};
    ringer.start((c.caller && (c.caller.name || c.caller.number)) || '');
  } else {
    ringer.stop();
  }
  if (phase === 'wrapup' && desk.call) {
    $('notes').value = '';
    $('disposition').value = '';
    $('wrapup-error').textContent = '';
    desk.call.saving = false;
  }
  render();
}

function toWaiting(text = '') {
  desk.phase = 'waiting';
  desk.call = null;
  ringer.stop();
  $('waiting-text').textContent = text || "Calls offered to you will ring here, with the caller's context.";
  render();
}

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
    b.disabled = busy || phone.state !== 'connected';
  }
  $('away-reason').disabled = busy;
  $('waiting-title').textContent = agent.state === 'available' ? 'Waiting for calls'
    : agent.state === 'away' ? 'You are away' : agent.state === 'offline' ? 'You are offline' : 'Waiting for calls';

  // Call.
  if (call && (phase === 'connecting' || phase === 'connected')) {
    const status = $('call-status');
    if (status.textContent !== 'Hanging up…' || phase === 'connecting') {
      status.textContent = phase === 'connecting' ? 'Connecting…' : call.held ? 'On hold' : 'Connected';
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
    for (const id of ['mute', 'hold']) $(id).disabled = phase !== 'connected';
    hold.disabled = phase !== 'connected' || call.holdPending;
    $('dtmf-digits').textContent = call.digits;
    for (const b of $('dtmf-pad').querySelectorAll('button')) b.disabled = phase !== 'connected';
    transfer.disabled = phase !== 'connected';
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
  $('ring-label').textContent = c.callback_to ? 'Call back (you call the customer)'
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

function fillSelect(select, options, placeholder) {
  const current = select.value;
  const items = options.map((o) => h('option', { value: o.code }, o.label || o.code));
  if (placeholder) items.unshift(h('option', { value: '' }, placeholder));
  select.replaceChildren(...items);
  if (current && options.some((o) => o.code === current)) select.value = current;
}

function labelOf(list, code) {
  const found = list.find((o) => o.code === code);
  return found ? found.label || code : code || '';
}

function announce(text) {
  const el = $('announcer');
  el.textContent = '';
  // A fresh text node after a clear makes screen readers speak a repeated sentence too.
  setTimeout(() => {
    el.textContent = text;
  }, 50);
}

function showError(text) {
  $('page-error').textContent = text;
}

function clearError() {
  $('page-error').textContent = '';
}

function bindStatus() {
  const el = $('softphone-status');
  const words = $('softphone-status-text');
  phone.onState(({ state, retryInMs }) => {
    el.dataset.state = state;
    if (state === 'connected') words.textContent = 'Softphone connected';
    else if (state === 'connecting') words.textContent = 'Softphone connecting…';
    else words.textContent = `Softphone offline, retrying in ${Math.max(1, Math.round(retryInMs / 1000))} s`;
    if (desk.phase !== undefined) render();
  });
}

// ---------- Keyboard ----------

function typing(target) {
  if (!target || !(target instanceof Element)) return false;
  return Boolean(target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]'));
}

function onKey(e) {
  if (e.defaultPrevented) return;
  if (e.target instanceof Element && e.target.closest('#phase-wrapup') && e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    $('phase-wrapup').requestSubmit();
    return;
  }
  if (typing(e.target)) return;
  const key = e.key;
  if ((e.ctrlKey || e.metaKey) && key.toLowerCase() === 'e') {
    if (desk.phase === 'connecting' || desk.phase === 'connected') {
      e.preventDefault();
      hangup();
    }
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (key === 'Escape') {
    if (desk.phase === 'connecting' || desk.phase === 'connected') {
      e.preventDefault();
      hangup();
    }
    return;
  }
  // A button with focus handles Enter and Space itself.
  const action = {
    a: () => desk.phase === 'ringing' && answer(),
    d: () => desk.phase === 'ringing' && decline(),
    m: () => toggleMute(),
    h: () => toggleHold(),
    t: () => desk.phase === 'connected' && transfer.focus(),
  }[key.toLowerCase()];
  if (action) {
    e.preventDefault();
    action();
    return;
  }
  if (/^[0-9*#]$/.test(key) && desk.phase === 'connected') {
    e.preventDefault();
    dtmf(key);
  }
}

// ---------- Start ----------

function buildPad() {
  const pad = $('dtmf-pad');
  for (const d of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']) {
    pad.append(h('button', {
      class: 'button button-secondary dtmf-key', type: 'button', 'aria-label': `Send ${d === '*' ? 'star' : d === '#' ? 'hash' : d}`,
      on: { click: () => dtmf(d) },
    }, d));
  }
}

function exposeForTests() {
  const api = {};
  const get = (name, fn) => Object.defineProperty(api, name, { get: fn, enumerable: true });
  get('state', () => desk.agent.state);
  get('reason', () => desk.agent.reason);
  get('phase', () => desk.phase);
  get('callId', () => (desk.call ? desk.call.id : null));
  get('connection', () => phone.state);
  get('media', () => (desk.call && desk.call.media ? desk.call.media.states() : null));
  get('muted', () => Boolean(desk.call && desk.call.muted));
  get('held', () => Boolean(desk.call && desk.call.held));
  api.remoteLevel = () => (desk.call && desk.call.media ? desk.call.media.level() : 0);
  Object.freeze(api);
  Object.defineProperty(window, 'sambungSoftphone', { value: api, writable: false, configurable: false });
}

function main() {
  buildPad();
  unlockAudio();
  phone = connectSoftphone();
  transfer = bindTransfer({ send, current: () => (desk.phase === 'connected' ? desk.call : null) });
  exposeForTests();
  bindStatus();

  phone.on('hello', onHello);
  phone.on('agent.state', onAgentState);
  phone.on('offer', onOffer);
  phone.on('offer.withdrawn', onWithdrawn);
  phone.on('call.sdp', onSDP);
  phone.on('call.connected', onConnected);
  phone.on('call.context', onContext);
  phone.on('call.held', onHeld);
  phone.on('call.ended', onEnded);
  phone.on('consult.state', (m) => {
    if (desk.call && desk.call.id === m.call_id) transfer.consultState(m);
  });
  phone.on('wrapup.saved', onSaved);
  phone.on('error', onError);

  for (const s of setByAgent) $(`state-${s}`).addEventListener('click', () => setState(s));
  $('away-reason').addEventListener('change', () => {
    if (desk.agent.state === 'away') setState('away'); // A new reason while away takes effect now.
  });
  $('answer').addEventListener('click', answer);
  $('decline').addEventListener('click', decline);
  $('hangup').addEventListener('click', hangup);
  $('mute').addEventListener('click', toggleMute);
  $('hold').addEventListener('click', toggleHold);
  $('phase-wrapup').addEventListener('submit', saveWrapup);
  $('disposition').addEventListener('change', () => {
    $('wrapup-error').textContent = '';
    $('disposition').removeAttribute('aria-invalid');
  });
  document.addEventListener('keydown', onKey);
  setInterval(tick, 1000);
  window.addEventListener('beforeunload', (e) => {
    if (desk.phase === 'connecting' || desk.phase === 'connected') e.preventDefault(); // Leaving would drop the audio.
  });
  render();
}

main();
startShell().catch(showPageError);
