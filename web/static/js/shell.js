// shell.js: the header every signed-in page shares: who is signed in, whether live
// updates flow, and the way out.

import { me, get, post, ApiError } from './api.js';
import { connectLive, bindLiveStatus } from './live.js';
import { h } from './dom.js';
import { roleLabel } from './format.js';

/**
 * startShell fills the page's #topbar-session with the signed-in user, the live indicator and
 * the sign-out button, opens the event socket, and resolves with {session, user, live}.
 */
export async function startShell() {
  const slot = document.getElementById('topbar-session');
  const session = await me();
  const { user } = session;

  const live = connectLive();
  const status = h('span', { class: 'live-status', role: 'status', dataset: { state: 'connecting' } },
    h('span', { class: 'visually-hidden' }, 'Live updates: '),
    h('span', { dataset: { liveText: '' } }, 'Connecting…'));
  bindLiveStatus(live, status);
  watchSession(live);

  const error = h('p', { class: 'shell-error', role: 'alert' });
  const signOut = h('button', { class: 'button button-secondary button-small', type: 'button' }, 'Sign out');
  signOut.addEventListener('click', () => leave(signOut, error, live));

  slot.replaceChildren(
    status,
    h('span', { class: 'user-chip', title: `Signed in as ${user.name}` },
      h('span', { class: 'visually-hidden' }, 'Signed in as '),
      h('span', { class: 'user-name', dataset: { userName: user.name } }, user.display_name || user.name),
      h('span', { class: 'role-badge' }, roleLabel(user.role))),
    signOut,
    error,
  );
  if (session.node) slot.dataset.node = session.node;

  return { session, user, live };
}

// A socket that keeps failing to open may mean the session ended (signed out elsewhere,
// server restarted with a fresh store): ask /me, which sends us to sign-in on 401.
function watchSession(live) {
  let checking = false;
  live.onState(async ({ state, failures }) => {
    if (state !== 'disconnected' || failures < 2 || checking) return;
    checking = true;
    try {
      await get('/me');
    } catch {
      // Server unreachable: the indicator already says so; keep retrying.
    } finally {
      checking = false;
    }
  });
}

async function leave(button, error, live) {
  button.disabled = true;
  button.textContent = 'Signing out…';
  error.textContent = '';
  try {
    await post('/logout');
  } catch (err) {
    button.disabled = false;
    button.textContent = 'Sign out';
    error.textContent = err instanceof ApiError ? `Could not sign out: ${err.message}` : 'Could not sign out.';
    return;
  }
  live.close();
  location.assign('/login');
}

/** showPageError puts a sentence in the page's #page-error alert (for failures outside a panel). */
export function showPageError(err) {
  const box = document.getElementById('page-error');
  const text = err && err.message ? err.message : String(err);
  if (box) box.textContent = text;
  else console.error(text);
}
