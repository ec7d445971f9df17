// The dashboard shell: find out what the server is (manager or node, auth on or
// off), then a hash router (#/page?query) that loads one module per page from
// the js/pages/ folder. A page module exports `title` and
// `render(main, params) -> cleanup?`.

import { auth, env, getJson, request, ApiError } from './api.js';
import { clear, errorBox, toast } from './ui.js';
import { onAir } from './webrtc.js';

const PAGES = ['login', 'cluster', 'streams', 'preview', 'publish', 'recordings'];
const CLUSTER_ONLY = new Set(['cluster']);
const main = document.getElementById('main');
let cleanup = null;
let loginReason = '';
let routeSeq = 0;

function defaultPage() {
  return env.manager ? 'cluster' : 'streams';
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query] = raw.split('?');
  return { page: path || '', params: new URLSearchParams(query || '') };
}

function go(page, params) {
  const q = params ? `?${new URLSearchParams(params)}` : '';
  location.hash = `#/${page}${q}`;
}

/** 'ok' when the current token (or none) may use the admin API, else the reason. */
async function probe() {
  try {
    await request('GET', env.manager ? '/api/nodes/' : '/api/streams/');
    return 'ok';
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return e.serverMessage;
    throw e;
  }
}

async function route() {
  const seq = ++routeSeq;
  let { page, params } = parseHash();
  if (!PAGES.includes(page) || (!env.manager && CLUSTER_ONLY.has(page))) page = defaultPage();
  const loggedIn = !env.authOn || !!auth.token;
  if (!loggedIn && page !== 'login') page = 'login';
  if (loggedIn && page === 'login') page = defaultPage();
  if (cleanup) {
    try {
      cleanup();
    } catch {}
    cleanup = null;
  }
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.getElementById('nav').hidden = page === 'login';
  document.getElementById('logout').hidden = !env.authOn || page === 'login';
  try {
    const mod = await import(`/dashboard/js/pages/${page}.js`);
    if (seq !== routeSeq) return;
    document.title = `${mod.title} · wishcast`;
    clear(main);
    main.dataset.page = page;
    const reason = page === 'login' ? loginReason : undefined;
    loginReason = '';
    cleanup = (await mod.render(main, params, { go, route, reason, defaultPage })) || null;
  } catch (e) {
    clear(main, errorBox(e, `The ${page} page failed`));
  }
  main.focus({ preventScroll: true });
}

function showOnAir(p) {
  const el = document.getElementById('onair');
  el.hidden = !p;
  el.textContent = p ? `● On air: ${p.stream}` : '';
}

async function start() {
  try {
    env.info = await getJson('/api/info');
  } catch (e) {
    clear(main, errorBox(e, 'Cannot read /api/info from this server'));
    return;
  }
  env.manager = (env.info.features || []).includes('manager');
  document.getElementById('mode').textContent = env.manager ? 'cluster manager' : 'media node';
  for (const a of document.querySelectorAll('#nav a[data-cluster]')) a.hidden = !env.manager;
  let status;
  try {
    status = await probe();
  } catch (e) {
    clear(main, errorBox(e));
    return;
  }
  if (status === 'ok') {
    env.authOn = !!auth.token;
  } else {
    env.authOn = true;
    if (auth.token) {
      loginReason = `Your token was refused: ${status}`;
      auth.clear();
    }
  }
  if (!env.authOn && auth.token) env.authOn = true;
  window.addEventListener('wishcast:unauthorized', (ev) => {
    auth.clear();
    loginReason = `Your session ended: ${ev.detail}`;
    go('login');
  });
  document.getElementById('logout').addEventListener('click', async () => {
    await onAir.stop();
    auth.clear();
    toast('Logged out');
    go('login');
  });
  onAir.listeners.add(showOnAir);
  window.addEventListener('hashchange', route);
  await route();
  document.body.dataset.ready = 'true';
}

start();
