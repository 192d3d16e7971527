// api.js: the one way pages talk to /api/v1. JSON in and out, the CSRF token on every
// request that changes something, and a trip to the sign-in page when the session is gone.

const base = '/api/v1';

/** ApiError carries the server's error shape: {"error":{"code","message",...}}. */
export class ApiError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

let session = null; // Promise of the /me answer, fetched once per page.

/** me returns the signed-in session: {user, csrf_token, landing, node, version}. */
export function me() {
  if (!session) {
    session = request('GET', '/me').catch((err) => {
      session = null;
      throw err;
    });
  }
  return session;
}

/** get, post and friends send one request and resolve with the decoded JSON (null for 204). */
export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);
export const put = (path, body) => request('PUT', path, body);
export const patch = (path, body) => request('PATCH', path, body);
export const del = (path) => request('DELETE', path);

/**
 * request sends one API call. Options: auth:false skips the CSRF token and the redirect on
 * 401 (the sign-in form uses it); retried is internal.
 */
export async function request(method, path, body, { auth = true, retried = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && method !== 'GET' && method !== 'HEAD') {
    headers['X-CSRF-Token'] = (await me()).csrf_token;
  }

  let res;
  try {
    res = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }

  if (res.ok) {
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  const err = await readError(res);
  if (auth && res.status === 401) {
    toSignIn();
    return new Promise(() => {}); // The page is leaving; nothing more should run.
  }
  if (auth && err.code === 'csrf' && !retried) {
    // The token may have rotated (a new sign-in in another tab): fetch it again, once.
    session = null;
    return request(method, path, body, { auth, retried: true });
  }
  throw err;
}

/** readError turns a failed response into an ApiError, whatever its body holds. */
export async function readError(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy's error page, say): fall through to a generic sentence.
  }
  const e = (body && body.error) || {};
  const { code = 'http_' + res.status, message, ...extra } = e;
  if (extra.retry_after_seconds === undefined) {
    const after = Number.parseInt(res.headers.get('Retry-After') || '', 10);
    if (Number.isFinite(after)) extra.retry_after_seconds = after;
  }
  return new ApiError(res.status, code, message || `The server answered ${res.status} ${res.statusText}.`.trim(), extra);
}

/** toSignIn sends the browser to the sign-in page, asking to come back here afterwards. */
export function toSignIn() {
  const next = location.pathname + location.search;
  location.assign('/login?next=' + encodeURIComponent(next));
}
