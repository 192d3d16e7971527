// call.js: the click-to-call page (/call/): a customer calls a line from the browser, with no
// account. One WebSocket to /api/v1/webcall carries one call (docs/webcall.md); the audio is a
// CallMedia leg, as on the agent desk. The page never signs in: it is the public entrance.

import { connectSoftphone } from '../softphone.js';
import { CallMedia } from '../call-media.js';
import { audioContext, unlockAudio } from '../ringer.js';
import { clockDuration } from '../contact-card.js';

const $ = (id) => document.getElementById(id);

const socketPath = '/api/v1/webcall';
const helloTimeoutMs = 10000; // How long a Call click waits for a fresh socket's hello.
const hangupGraceMs = 5000;   // How long the server has to confirm a hang-up before the page closes the socket.
const keyFlashMs = 150;

const endedWords = {
  hangup: 'You hung up.',
  completed: 'The call is over. Thank you for calling.',
  media_failed: 'The sound connection failed. Please try again.',
  rejected: 'The call was not accepted. Please try again later.',
  connection_lost: 'The connection to the service was lost.',
};

const micErrors = ['NotAllowedError', 'NotFoundError', 'NotReadableError', 'OverconstrainedError', 'SecurityError', 'AbortError'];

// The page's one picture of itself. phase: idle, connecting (microphone and offer, until the
// answer), ringing (answer received, waiting for `answered`), connected, ended, error.
const page = {
  phase: 'idle',
  wanted: new URLSearchParams(location.search).get('line') || '',
  lines: null,        // From the latest hello; null until the first one.
  iceServers: [],
  line: null,         // The line this page calls: {number, name}.
  socket: null,       // The client from connectSoftphone; a new one for each call.
  ready: false,       // The socket said hello.
  used: false,        // A call went out on the socket: it is spent (one socket, one call).
  retryInMs: 0,       // While idle: the socket is down and retries in this long.
  call: null,         // The current or last call.
};

/** newCall is the page's record of one call; it stays after the call ends, for the page and tests. */
function newCall() {
  return { id: '', media: null, digits: '', muted: false, reason: '', serverReason: '', over: false, connectedAt: 0, endedAt: 0 };
}

const inCall = () => ['connecting', 'ringing', 'connected'].includes(page.phase);

// ---------- The socket ----------

// openSocket replaces the page's socket with a new one. Messages from an older socket are ignored.
function openSocket() {
  closeSocket();
  const client = connectSoftphone({ path: socketPath });
  page.socket = client;
  page.ready = false;
  page.used = false;
  const mine = (fn) => (m) => {
    if (page.socket === client) fn(m);
  };
  client.on('hello', mine(onHello));
  client.on('answer', mine(onAnswer));
  client.on('answered', mine(onAnswered));
  client.on('ended', mine(onEnded));
  client.on('error', mine(onError));
  client.onState(mine(onSocketState));
  return client;
}

function closeSocket() {
  if (page.socket) page.socket.close();
  page.socket = null;
  page.ready = false;
  page.retryInMs = 0;
}

// whenReady resolves once the socket has said hello.
function whenReady(client) {
  if (page.ready && page.socket === client) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('the service did not answer'));
    }, helloTimeoutMs);
    const off = client.on('hello', () => {
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

function onSocketState({ state, retryInMs }) {
  page.retryInMs = state === 'disconnected' ? retryInMs : 0;
  if (state !== 'disconnected') {
    render();
    return;
  }
  page.ready = false;
  if (inCall() && page.used) {
    // One socket carries one call: when it goes, so does the call.
    finishCall('connection_lost');
    closeSocket();
  } else if (page.used) {
    closeSocket(); // The server closed it after `ended`, as promised; the next call opens a new one.
  }
  // Otherwise the page is idle and the client retries by itself.
  render();
}

// ---------- Messages from the server ----------

function onHello(m) {
  page.lines = (Array.isArray(m.lines) ? m.lines : []).filter((l) => l && l.number);
  page.iceServers = Array.isArray(m.ice_servers) ? m.ice_servers : [];
  page.line = chooseLine();
  page.ready = true;
  if (!page.line && !inCall()) showError(noLine());
  render();
}

function onAnswer(m) {
  const call = page.call;
  if (!call || call.over || !call.media) return;
  if (m.call_id) call.id = m.call_id;
  call.media.callId = call.id;
  call.media.accept(m.sdp).catch((err) => {
    showError(`The call's sound could not be connected: ${err.message}`);
    hangup('error');
  });
  if (page.phase === 'connecting') setPhase('ringing');
}

function onAnswered(m) {
  const call = page.call;
  if (!call || call.over) return;
  if (m.call_id) call.id = m.call_id;
  if (!call.connectedAt) call.connectedAt = Date.now();
  setPhase('connected');
}

function onEnded(m) {
  const call = page.call;
  if (!call) return;
  if (m.call_id && !call.id) call.id = m.call_id;
  call.serverReason = m.reason || 'completed';
  if (call.over) {
    render(); // The page hung up first; the server confirms.
    return;
  }
  finishCall(call.serverReason);
}

function onError(m) {
  showError(m.message || 'The service refused the request.');
  const call = page.call;
  if (m.ref === 'call' && call && !call.over) finishCall('', 'error'); // The server closes the socket next.
}

// ---------- What the caller does ----------

async function placeCall() {
  if (inCall() || !page.line) return;
  clearError();
  const call = newCall();
  page.call = call;
  setPhase('connecting');
  $('hangup').focus();
  const ctx = audioContext();
  if (ctx && ctx.state === 'suspended') ctx.resume().catch(() => {}); // This click is a gesture.

  let client = page.socket;
  try {
    if (!client || !page.ready || page.used || client.state !== 'connected') client = openSocket();
    await whenReady(client);
  } catch (err) {
    if (page.call !== call || call.over) return;
    showError(`The service cannot be reached: ${err.message}. Check your connection and try again.`);
    finishCall('', 'error');
    return;
  }
  if (page.call !== call || call.over) return; // Hung up while the socket opened.
  const line = page.line;
  if (!line) {
    showError(noLine());
    finishCall('', 'error');
    return;
  }

  const media = new CallMedia({
    callId: '', // The server names the call in its answer.
    iceServers: page.iceServers,
    audio: $('remote-audio'),
    audioContext,
    onRestart: () => {}, // docs/webcall.md has no restart: a lost leg ends with media_failed.
  });
  media.setMuted(call.muted);
  call.media = media;
  let sdp = '';
  try {
    if (!navigator.mediaDevices || !window.RTCPeerConnection) {
      throw Object.assign(new Error('this browser cannot place calls from a page served without https'), { name: 'SecurityError' });
    }
    sdp = await media.offer();
  } catch (err) {
    const micFailed = micErrors.includes(err && err.name) || !media.mic; // getUserMedia threw.
    if (page.call !== call || call.over) return;
    showError(micFailed ? `The microphone is not available: ${micProblem(err)}` : `The call's sound could not be started: ${err.message || err}`);
    finishCall('', micFailed ? 'idle' : 'error'); // After a microphone problem the unused socket stays for the next try.
    return;
  }
  if (page.call !== call || call.over || media.closed) return;
  if (!client.send({ type: 'call', sdp, line: line.number })) {
    showError('The connection to the service closed before the call went out. Please try again.');
    finishCall('', 'error');
    return;
  }
  page.used = true;
}

// hangup ends the call from the page: the server is told (if the call went out) and the
// audio stops now, without waiting for the server's `ended`.
function hangup(phase = 'ended') {
  const call = page.call;
  if (!call || call.over || !inCall()) return;
  const client = page.socket;
  const told = page.used && client && client.send({ type: 'hangup' });
  finishCall(phase === 'error' ? '' : 'hangup', phase);
  if (told) {
    setTimeout(() => {
      if (page.socket === client) closeSocket();
    }, hangupGraceMs);
  } else if (page.used) {
    closeSocket();
  }
}

// finishCall ends the call on the page: the audio stops and the page shows why.
function finishCall(reason, phase = 'ended') {
  const call = page.call;
  if (!call || call.over) return;
  call.over = true;
  call.reason = reason;
  call.endedAt = Date.now();
  if (call.media) call.media.close();
  const focusWasInCall = document.activeElement === document.body || Boolean(document.activeElement && document.activeElement.closest('.webcall-actions, #keypad'));
  setPhase(phase);
  if (focusWasInCall) $('call-button').focus();
}

function toggleMute() {
  const call = page.call;
  if (!call || !inCall()) return;
  call.muted = !call.muted;
  if (call.media) call.media.setMuted(call.muted);
  render();
}

function dtmf(digit) {
  const call = page.call;
  if (!call || page.phase !== 'connected' || !/^[0-9*#]$/.test(digit)) return;
  if (!page.socket || !page.socket.send({ type: 'dtmf', digits: digit })) return;
  call.digits += digit;
  $('call-digits').textContent = call.digits;
  const key = $('keypad').querySelector(`[data-digit="${digit}"]`);
  if (key) {
    key.classList.add('is-pressed');
    setTimeout(() => key.classList.remove('is-pressed'), keyFlashMs);
  }
}

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if (page.phase === 'connected' && /^[0-9*#]$/.test(e.key)) {
    e.preventDefault();
    dtmf(e.key);
  }
}

// ---------- Drawing ----------

function chooseLine() {
  const lines = page.lines || [];
  const want = page.wanted.trim().toLowerCase();
  if (!want) return lines[0] || null;
  return lines.find((l) => String(l.number).toLowerCase() === want)
    || lines.find((l) => String(l.name || '').toLowerCase() === want) || null;
}

function noLine() {
  return page.wanted
    ? `The line “${page.wanted}” does not take calls from the web. Check the link you followed.`
    : 'This service takes no calls from the web at the moment. Please try again later.';
}

function setPhase(phase) {
  page.phase = phase;
  render();
}

function statusText() {
  const call = page.call;
  switch (page.phase) {
    case 'connecting': return 'Calling…';
    case 'ringing': return 'Ringing…';
    case 'connected': return call && call.muted ? 'Connected (your microphone is muted)' : 'Connected';
    case 'ended': return `Call ended. ${endedWords[call && call.reason] || ''}`.trim();
    case 'error': return 'The call could not go through.';
    default:
      if (page.line) return 'Ready to call.';
      if (page.lines) return 'Calls from the web are not available.';
      if (page.retryInMs) return `The service cannot be reached; trying again in ${Math.max(1, Math.round(page.retryInMs / 1000))} s.`;
      return 'Getting ready…';
  }
}

function render() {
  const { phase, call } = page;
  document.body.dataset.phase = phase;

  const lineEl = $('call-line');
  if (page.line) {
    lineEl.textContent = page.line.name || page.line.number;
    lineEl.dataset.line = page.line.number;
  } else {
    lineEl.textContent = page.lines ? 'No line available' : 'Getting ready…';
    lineEl.dataset.line = '';
  }

  const status = $('call-status');
  const text = statusText();
  if (status.textContent !== text) status.textContent = text;
  status.dataset.state = phase;

  const active = inCall();
  const callButton = $('call-button');
  callButton.hidden = active;
  callButton.disabled = active || !page.line;
  $('call-button-text').textContent = phase === 'ended' || phase === 'error' ? 'Call again' : 'Call';
  $('hangup').hidden = !active;
  const mute = $('mute');
  mute.hidden = !active;
  mute.setAttribute('aria-pressed', String(Boolean(call && call.muted)));
  for (const key of $('keypad').querySelectorAll('button')) key.disabled = phase !== 'connected';
  $('call-digits').textContent = call ? call.digits : '';
  tick();
}

// tick shows how long the call has lasted; after the call, how long it lasted.
function tick() {
  const call = page.call;
  let text = '';
  if (call && call.connectedAt) text = clockDuration((call.over ? call.endedAt : Date.now()) - call.connectedAt);
  const timer = $('call-timer');
  if (timer.textContent !== text) timer.textContent = text;
}

function micProblem(err) {
  if (err && err.name === 'NotAllowedError') return 'the browser was not allowed to use it. Allow the microphone for this site and try again.';
  if (err && err.name === 'NotFoundError') return 'no microphone was found. Plug one in and try again.';
  if (err && err.name === 'NotReadableError') return 'another program is using it. Close that program and try again.';
  return err && err.message ? err.message : String(err);
}

function showError(text) {
  $('call-error').textContent = text;
}

function clearError() {
  $('call-error').textContent = '';
}

// ---------- Start ----------

function exposeForTests() {
  const api = {};
  const get = (name, fn) => Object.defineProperty(api, name, { get: fn, enumerable: true });
  get('phase', () => page.phase);
  get('callId', () => (page.call && page.call.id ? page.call.id : null));
  get('reason', () => (page.call ? page.call.reason : ''));
  get('serverReason', () => (page.call ? page.call.serverReason : ''));
  get('digits', () => (page.call ? page.call.digits : ''));
  get('line', () => (page.line ? page.line.number : null));
  get('muted', () => Boolean(page.call && page.call.muted));
  get('connection', () => (page.socket ? page.socket.state : 'closed'));
  get('media', () => (page.call && page.call.media && !page.call.media.closed ? page.call.media.states() : null));
  api.remoteLevel = () => (page.call && page.call.media ? page.call.media.level() : 0);
  Object.freeze(api);
  Object.defineProperty(window, 'sambungWebCall', { value: api, writable: false, configurable: false });
}

function main() {
  unlockAudio();
  exposeForTests();
  $('call-button').addEventListener('click', placeCall);
  $('hangup').addEventListener('click', () => hangup());
  $('mute').addEventListener('click', toggleMute);
  for (const key of $('keypad').querySelectorAll('button[data-digit]')) {
    key.addEventListener('click', () => dtmf(key.dataset.digit));
  }
  document.addEventListener('keydown', onKey);
  // Closing the window ends the call; say so, rather than leave the server to notice the socket.
  window.addEventListener('pagehide', () => {
    if (inCall() && page.used && page.socket) page.socket.send({ type: 'hangup' });
  });
  setInterval(tick, 1000);
  openSocket();
  render();
}

main();
