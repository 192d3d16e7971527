// login.js: the sign-in form. Posts the name and password, then goes to ?next= or the
// user's landing page; every failure becomes a sentence in the alert region.

import { request } from './api.js';
import { safeNext } from './next.js';

const form = document.getElementById('login-form');
const nameInput = document.getElementById('name');
const passwordInput = document.getElementById('password');
const errorBox = document.getElementById('login-error');
const submit = document.getElementById('login-submit');

let busy = false;
let waitTimer = 0;

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (busy) return;

  const name = nameInput.value.trim();
  const password = passwordInput.value;
  if (!name || !password) {
    showError(name ? 'Enter your password.' : 'Enter your name.');
    (name ? passwordInput : nameInput).focus();
    return;
  }

  setBusy(true);
  showError('');
  try {
    const answer = await request('POST', '/login', { name, password }, { auth: false });
    const params = new URLSearchParams(location.search);
    const target = safeNext(params.get('next')) || safeNext(answer && answer.landing) || '/';
    location.assign(target);
    return; // Stay busy while the next page loads.
  } catch (err) {
    handleFailure(err);
  }
  setBusy(false);
});

function handleFailure(err) {
  if (err.code === 'throttled' || err.status === 429) {
    const wait = Number(err.extra && err.extra.retry_after_seconds);
    showError(throttleSentence(err.message, wait));
    if (wait > 0) holdSubmit(wait);
    return;
  }
  if (err.status === 401) {
    showError(err.message || 'Wrong name or password.');
    passwordInput.value = '';
    passwordInput.focus();
    return;
  }
  if (err.code === 'network') {
    showError('The server cannot be reached. Check your connection and try again.');
    return;
  }
  showError(err.message || 'Sign-in failed. Try again.');
}

function throttleSentence(message, wait) {
  const base = message || 'Too many sign-in attempts.';
  if (!(wait > 0) || base.includes(String(wait))) return base;
  return `${base} Try again in ${wait} ${wait === 1 ? 'second' : 'seconds'}.`;
}

// holdSubmit keeps the button disabled until the server's wait has passed.
function holdSubmit(seconds) {
  clearTimeout(waitTimer);
  submit.dataset.held = 'true';
  waitTimer = setTimeout(() => {
    delete submit.dataset.held;
    submit.disabled = busy;
  }, seconds * 1000);
}

function setBusy(on) {
  busy = on;
  submit.disabled = on || submit.dataset.held === 'true';
  submit.textContent = on ? 'Signing in…' : 'Sign in';
  form.setAttribute('aria-busy', String(on));
}

function showError(text) {
  errorBox.textContent = text;
}
