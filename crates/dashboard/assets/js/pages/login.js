// Login: an account of the manager's `[[auth.accounts]]` (POST /api/login gives a
// 24-hour admin JWT), or any admin token pasted in (the only way on a node, which
// has no accounts). The token lives in sessionStorage: closing the tab logs out.

import { auth, env, request, ApiError } from '../api.js';
import { h, errorBox, field, infoBox } from '../ui.js';

export const title = 'Log in';

export function render(main, _params, ctx) {
  const out = h('div', { 'aria-live': 'polite' });
  if (ctx.reason) out.append(errorBox(ctx.reason));

  const done = () => {
    if (!location.hash || location.hash.startsWith('#/login')) ctx.go(ctx.defaultPage());
    else ctx.route();
  };

  const checkToken = async (token) => {
    const res = await fetch(env.manager ? '/api/nodes/' : '/api/streams/', { headers: { Authorization: `Bearer ${token}` } });
    if (!res.ok) throw new ApiError(res.status, (await res.text()).trim() || res.statusText, 'GET', env.manager ? '/api/nodes/' : '/api/streams/');
  };

  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const loginBtn = h('button', { type: 'submit' }, 'Log in');
  const accountForm = h('form', {
    class: 'panel',
    'aria-labelledby': 'login-title',
    onsubmit: async (ev) => {
      ev.preventDefault();
      out.replaceChildren();
      loginBtn.disabled = true;
      try {
        const res = await request('POST', '/api/login', { json: { username: user.value, password: pass.value } });
        const j = await res.json();
        auth.set(j.access_token);
        env.authOn = true;
        done();
      } catch (e) {
        out.append(errorBox(e, 'Login failed'));
        pass.select();
      } finally {
        loginBtn.disabled = false;
      }
    },
  },
  h('h1', { id: 'login-title' }, 'Log in to wishcast'),
  field('Username', user),
  field('Password', pass),
  h('div', { class: 'actions' }, loginBtn));

  const tok = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true });
  const tokBtn = h('button', { type: 'submit', class: env.manager ? 'secondary' : '' }, 'Use token');
  const tokenForm = h('form', {
    class: 'panel',
    onsubmit: async (ev) => {
      ev.preventDefault();
      out.replaceChildren();
      tokBtn.disabled = true;
      try {
        await checkToken(tok.value.trim());
        auth.set(tok.value.trim());
        env.authOn = true;
        done();
      } catch (e) {
        out.append(errorBox(e, 'This token was refused'));
      } finally {
        tokBtn.disabled = false;
      }
    },
  },
  h('h2', {}, env.manager ? 'Or use an admin token' : 'Log in to this media node'),
  env.manager ? null : infoBox('A standalone node has no accounts: paste a token from its `[auth] tokens`, or an admin JWT (`"id":"*"`, mode 7) signed with its `[auth] secret`.'),
  field('Admin token', tok, 'A static token from `[auth] tokens`, or a JWT with id "*" and mode 7.'),
  h('div', { class: 'actions' }, tokBtn));

  main.append(h('div', { class: 'login' }, out, env.manager ? accountForm : null, tokenForm));
  (env.manager ? user : tok).focus();
}
