// live.js: the page's WebSocket to /api/v1/events. It reconnects by itself (1 s doubling
// to 30 s, back to 1 s once the server greets us), hands each event to its subscribers by
// type, and reports its connection state so the page can show it.

const minDelay = 1000;
const maxDelay = 30000;

/**
 * connectLive opens the event socket and returns a client:
 *   on(type, fn)   calls fn(data, event) for each event of that type ('*' for all); returns an unsubscribe.
 *   onState(fn)    calls fn({state, retryInMs, failures}) now and on every change;
 *                  state is 'connecting', 'connected' or 'disconnected'.
 *   close()        stops for good (before signing out).
 */
export function connectLive({ path = '/api/v1/events' } = {}) {
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
      let event;
      try {
        event = JSON.parse(msg.data);
      } catch {
        return; // Not ours to read.
      }
      if (!event || typeof event.type !== 'string') return;
      if (event.type === 'hello') delay = minDelay; // The server knows us: back to a short wait.
      dispatch(event);
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

  function dispatch(event) {
    for (const key of [event.type, '*']) {
      const set = listeners.get(key);
      if (!set) continue;
      for (const fn of set) {
        try {
          fn(event.data || {}, event);
        } catch (err) {
          console.error(`live: ${event.type} subscriber failed`, err);
        }
      }
    }
  }

  // Coming back online or to the tab: try now rather than sit out the backoff.
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
    close() {
      closed = true;
      clearTimeout(retryTimer);
      window.removeEventListener('online', retrySoon);
      if (socket) socket.close(1000, 'leaving');
      socket = null;
    },
  };
}

/** bindLiveStatus keeps el showing the client's state in words (and a dot, via CSS). */
export function bindLiveStatus(live, el) {
  const words = el.querySelector('[data-live-text]') || el;
  return live.onState(({ state, retryInMs }) => {
    el.dataset.state = state;
    if (state === 'connected') {
      words.textContent = 'Live';
      el.title = 'Live updates are on.';
    } else if (state === 'connecting') {
      words.textContent = 'Connecting…';
      el.title = 'Connecting to live updates.';
    } else {
      const seconds = Math.max(1, Math.round(retryInMs / 1000));
      words.textContent = `Offline, retrying in ${seconds} s`;
      el.title = 'Live updates are interrupted; the page will reconnect by itself.';
    }
  });
}
