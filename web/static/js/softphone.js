// softphone.js: the agent page's WebSocket to /api/v1/softphone (docs/softphone.md). It
// reconnects by itself like live.js (1 s doubling to 30 s, back to 1 s once the server says
// hello), hands each message to its subscribers by type, sends the page's requests, and
// reports its connection state so the page can show it.

const minDelay = 1000;
const maxDelay = 30000;

/**
 * connectSoftphone opens the softphone socket and returns a client:
 *   on(type, fn)   calls fn(message) for each message of that type ('*' for all); returns an unsubscribe.
 *   onState(fn)    calls fn({state, retryInMs, failures}) now and on every change;
 *                  state is 'connecting', 'connected' or 'disconnected'.
 *   send(message)  sends one request; false when the socket is not open (nothing is queued:
 *                  a request sent into a reconnect would act on a state the server no longer has).
 *   state          the current connection state.
 *   close()        stops for good.
 */
export function connectSoftphone({ path = '/api/v1/softphone' } = {}) {
  const listeners = new Map();
  const stateListeners = new Set();
  let socket = null;
  let delay = minDelay;
  let retryTimer = 0;
  let closed = false;
  let failures = 0; // Attempts in a row that never opened.
  let status = { state: 'connecting', retryInMs: 0, failures: 0 };

  function setState(state, retryInMs = 0) {
    status = { state, retryInMs, failures };
    for (const fn of stateListeners) fn(status);
  }

  function open() {
    clearTimeout(retryTimer);
    if (closed) return;
    setState('connecting');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let opened = false;
    const ws = new WebSocket(`${scheme}//${location.host}${path}`);
    socket = ws;

    ws.addEventListener('open', () => {
      opened = true;
      failures = 0;
      setState('connected');
    });
    ws.addEventListener('message', (msg) => {
      const message = decode(msg.data);
      if (!message) return;
      if (message.type === 'hello') delay = minDelay; // The server knows us: back to a short wait.
      dispatch(message);
    });
    ws.addEventListener('close', () => {
      if (socket !== ws) return;
      socket = null;
      if (closed) return;
      if (!opened) failures += 1;
      const wait = delay;
      delay = Math.min(delay * 2, maxDelay);
      setState('disconnected', wait);
      retryTimer = setTimeout(open, wait);
    });
  }

  function dispatch(message) {
    for (const key of [message.type, '*']) {
      const set = listeners.get(key);
      if (!set) continue;
      for (const fn of set) {
        try {
          fn(message);
        } catch (err) {
          console.error(`softphone: ${message.type} subscriber failed`, err);
        }
      }
    }
  }

  function retrySoon() {
    if (!closed && !socket) {
      delay = minDelay;
      open();
    }
  }
  window.addEventListener('online', retrySoon);

  open();

  return {
    on(type, fn) {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type).add(fn);
      return () => listeners.get(type).delete(fn);
    },
    onState(fn) {
      stateListeners.add(fn);
      fn(status);
      return () => stateListeners.delete(fn);
    },
    send(message) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
    get state() {
      return status.state;
    },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      window.removeEventListener('online', retrySoon);
      if (socket) socket.close(1000, 'leaving');
      socket = null;
    },
  };
}

// decode reads one message. The protocol puts fields beside `type`; the events socket
// (/api/v1/events) wraps them in `data`. Both are accepted, so the page does not break if the
// server reuses the events envelope.
function decode(text) {
  let m;
  try {
    m = JSON.parse(text);
  } catch {
    return null; // Not ours to read.
  }
  if (!m || typeof m !== 'object' || typeof m.type !== 'string') return null;
  if (m.data && typeof m.data === 'object' && !Array.isArray(m.data)) {
    const { data, ...rest } = m;
    return { ...rest, ...data, type: m.type };
  }
  return m;
}
