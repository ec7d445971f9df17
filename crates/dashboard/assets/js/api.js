// HTTP access to the wishcast API from the page: the bearer token (kept in
// sessionStorage, so it dies with the tab), error text from the server, and
// what this server is (a manager or a standalone node).

const KEY = 'wishcast.token';

export const auth = {
  get token() {
    return sessionStorage.getItem(KEY) || '';
  },
  set(t) {
    sessionStorage.setItem(KEY, t);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
  /** `?token=` for URLs the page cannot add a header to (EventSource, downloads). */
  query(prefix = '?') {
    const t = this.token;
    return t ? `${prefix}token=${encodeURIComponent(t)}` : '';
  },
};

/** An HTTP error, with the server's message (text or `{"error": ...}`). */
export class ApiError extends Error {
  constructor(status, message, method, path) {
    super(status ? `${method} ${path} → ${status}: ${message}` : `${method} ${path}: ${message}`);
    this.status = status;
    this.serverMessage = message;
  }
}

/** fetch() with the token; resolves to the Response when 2xx, throws ApiError otherwise. */
export async function request(method, path, { json, body, headers = {} } = {}) {
  const hdrs = new Headers(headers);
  if (auth.token && !hdrs.has('Authorization')) hdrs.set('Authorization', `Bearer ${auth.token}`);
  if (json !== undefined) {
    hdrs.set('Content-Type', 'application/json');
    body = JSON.stringify(json);
  }
  let res;
  try {
    res = await fetch(path, { method, headers: hdrs, body, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, `cannot reach the server (${e.message}); is wishcast running?`, method, path);
  }
  if (res.ok) return res;
  const text = (await res.text().catch(() => '')).trim();
  let msg = text || res.statusText || 'request failed';
  try {
    const j = JSON.parse(text);
    if (j && typeof j.error === 'string') msg = j.error;
  } catch {}
  if (res.status === 401 && auth.token) window.dispatchEvent(new CustomEvent('wishcast:unauthorized', { detail: msg }));
  throw new ApiError(res.status, msg, method, path);
}

export async function getJson(path) {
  return (await request('GET', path)).json();
}

export const enc = encodeURIComponent;

/** Facts about the server, filled in by app.js at start-up. */
export const env = {
  /** true on the cluster manager, false on a standalone node. */
  manager: false,
  /** true when the server asks for a token. */
  authOn: false,
  info: null,
};
