// Login page: POST /api/login, show the server's message (bad credentials, rate limit).
import { request, ApiError, errorText, sessionHint } from './api.js';

const form = document.getElementById('login-form');
const user = document.getElementById('username');
const pass = document.getElementById('password');
const submit = document.getElementById('login-submit');
const errEl = document.getElementById('login-error');

function showError(msg) {
  errEl.textContent = msg;
  errEl.hidden = !msg;
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!user.value || !pass.value) {
    showError('Enter your user name and password.');
    (user.value ? pass : user).focus();
    return;
  }
  submit.disabled = true;
  submit.textContent = 'Signing in…';
  showError('');
  try {
    await request('POST', '/api/login', { body: { username: user.value, password: pass.value }, noRedirect: true });
    sessionHint(true);
    location.replace('/');
  } catch (err) {
    let msg = errorText(err);
    if (err instanceof ApiError && err.status === 401 && !msg) msg = 'Wrong user name or password.';
    msg = msg.charAt(0).toUpperCase() + msg.slice(1);
    showError(msg);
    pass.value = '';
    pass.focus();
    submit.disabled = false;
    submit.textContent = 'Sign in';
  }
});

submit.disabled = false; // enabled only once this script handles the form

// Already signed in? Go straight to the dashboard. Only asked when this browser signed in
// before and did not sign out: a fresh visit makes no request that fails.
if (sessionHint()) {
  request('GET', '/api/session', { noRedirect: true }).then(() => location.replace('/')).catch(() => sessionHint(false));
}
