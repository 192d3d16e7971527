// agent.js: the agent desk: a softphone in the page. It keeps the agent's state, rings for
// offered calls with the caller's context, carries the call's audio over WebRTC, and takes the
// wrap-up. The protocol is docs/softphone.md.

import { startShell, showPageError } from '../shell.js';
import { connectSoftphone } from '../softphone.js';
import { CallMedia } from '../call-media.js';
import { Ringer, audioContext, unlockAudio } from '../ringer.js';
import { h } from '../dom.js';
import { bindTransfer } from '../transfer.js';
import { deskView, endedWords, setByAgent, fillSelect, labelOf } from '../desk-view.js';

const $ = (id) => document.getElementById(id);

const withdrawnWords = {
  caller_hangup: 'The caller hung up before you answered.',
  ring_no_answer: 'The call went unanswered and moved on.',
  declined: 'You declined the call; it goes to the next agent.',
};

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
const { render, renderRing, renderCard, renderMedia, tick } = deskView(desk, { phone: () => phone, transfer: () => transfer });

/** newCall is the page's record of one call. */
function newCall(id) {
  return {
    id, contact: {}, deadline: '', ringTimeoutMs: 0, offeredAt: Date.now(), connectedAt: 0,
    muted: false, held: false, holdPending: false, digits: '', media: null, ended: '', saving: false,
    consultFrom: '', // another agent consulting this one: the caller is theirs until consult.joined
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
  if (typeof c.pci === 'boolean') call.pci = c.pci;
  if (typeof c.muted === 'boolean') call.muted = c.muted;
  call.consultFrom = (c.consult && c.consult.from) || '';

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
  call.consultFrom = (m.consult && m.consult.from) || '';
  desk.call = call;
  $('wrapup-saved').textContent = '';
  setPhase('ringing');
  const c = call.contact || {};
  const who = (c.caller && (c.caller.name || c.caller.number)) || 'unknown caller';
  if (call.consultFrom) {
    announce(`${call.consultFrom} asks to talk to you about a call from ${who}. Press A to answer, D to decline.`);
  } else if (c.callback_to) {
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

// onJoined: the agent who consulted this one completed the transfer; the caller is ours now.
function onJoined(m) {
  const call = desk.call;
  if (!call || call.id !== m.call_id) return;
  const from = call.consultFrom;
  call.consultFrom = '';
  if (m.contact) call.contact = m.contact;
  announce(`${from || 'The other agent'} put the caller through to you.`);
  render();
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

function onPCI(m) {
  const call = desk.call;
  if (!call || call.id !== m.call_id) return;
  call.pci = Boolean(m.on);
  call.pciPending = false;
  const by = m.by ? ` by ${m.by}` : '';
  announce(call.pci ? `Recording paused${by}: take the card details. Keys the caller presses are masked.`
    : `Recording resumed${by}.`);
  render();
}

function onEnded(m) {
  const call = desk.call;
  if (!call || call.id !== m.call_id) return;
  endCall(call, m.reason || 'failed');
  $('supervisor-notice').textContent = '';
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
  } else if (m.ref === 'pci') {
    call.pciPending = false;
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
  if (!call || desk.phase !== 'connected' || call.holdPending || call.consultFrom) return;
  if (send({ type: 'hold', call_id: call.id, on: !call.held })) call.holdPending = true;
  render();
}

function togglePCI() {
  const call = desk.call;
  if (!call || desk.phase !== 'connected' || call.pciPending || call.consultFrom) return;
  if (send({ type: 'pci', call_id: call.id, on: !call.pci })) call.pciPending = true;
  render();
}

function dtmf(digit) {
  const call = desk.call;
  if (!call || desk.phase !== 'connected' || call.consultFrom || !/^[0-9*#]$/.test(digit)) return;
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

function announce(text) {
  const el = $('announcer');
  el.textContent = '';
  // A fresh text node after a clear makes screen readers speak a repeated sentence too.
  setTimeout(() => {
    el.textContent = text;
  }, 50);
}

// onSupervisor shows whether a supervisor can be heard on the call: whispering to this agent,
// or barged in (the caller hears them too). One who only listens is not announced.
function onSupervisor(m) {
  const text = { whisper: `${m.supervisor} is whispering to you; the caller does not hear them.`,
    barge: `${m.supervisor} has joined the call; the caller hears them too.` }[m.mode] || '';
  $('supervisor-notice').textContent = text;
}

// onLoggedOut: a supervisor signed this agent out. The desk has ended the session; the page
// says who, stops reconnecting, and goes to the sign-in page.
function onLoggedOut(m) {
  phone.close();
  showError(`${m.by || 'A supervisor'} signed you out. Sign in again to take calls.`);
  setTimeout(() => window.location.assign('/login?next=/agent/'), 3000);
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
    p: () => togglePCI(),
    t: () => desk.phase === 'connected' && !desk.call.consultFrom && transfer.focus(),
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
  get('consultFrom', () => (desk.call ? desk.call.consultFrom : ''));
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
  phone.on('consult.joined', onJoined);
  phone.on('call.held', onHeld);
  phone.on('call.pci', onPCI);
  phone.on('call.ended', onEnded);
  phone.on('consult.state', (m) => {
    if (desk.call && desk.call.id === m.call_id) transfer.consultState(m);
  });
  phone.on('wrapup.saved', onSaved);
  phone.on('supervisor', onSupervisor);
  phone.on('logged_out', onLoggedOut);
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
  $('pci').addEventListener('click', togglePCI);
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
