// format.js: how times, durations and roles read on the pages.

const roleNames = { agent: 'Agent', supervisor: 'Supervisor', qa: 'QA', admin: 'Admin' };

/** roleLabel names a role for people ("qa" reads "QA"). */
export function roleLabel(role) {
  return roleNames[role] || String(role || '');
}

const stamp = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});

/** timeElement returns a <time> for an RFC 3339 string, or a dash when there is none. */
export function timeElement(value) {
  const t = document.createElement('time');
  const date = value ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    t.textContent = '—';
    return t;
  }
  t.dateTime = date.toISOString();
  t.textContent = stamp.format(date);
  return t;
}

/** duration reads the time between two RFC 3339 strings as "4:05" or "1:02:03". */
export function duration(from, to) {
  const a = Date.parse(from || '');
  const b = Date.parse(to || '');
  if (!Number.isFinite(a) || !Number.isFinite(b) || b < a) return '—';
  let s = Math.round((b - a) / 1000);
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  const seconds = String(s - minutes * 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}
