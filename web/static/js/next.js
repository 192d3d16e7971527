// next.js: where to go after signing in. Only a path on this site is accepted, so a crafted
// link (/login?next=//evil.example or next=https://...) cannot send the user elsewhere.

/** safeNext returns raw when it is a same-site path ("/x", not "//x" or "/\x"), else null. */
export function safeNext(raw) {
  if (typeof raw !== 'string' || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) {
    return null;
  }
  try {
    const url = new URL(raw, location.origin);
    if (url.origin !== location.origin) return null;
    return url.pathname + url.search + url.hash;
  } catch {
    return null;
  }
}
