// DOM helpers shared by every page: element builder, alerts, empty states,
// toasts, copy-to-clipboard and number formatting. No framework.

/** h('button', {class: 'x', onclick: f}, 'text', child) -> HTMLElement. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * Runs `redraw()` (which replaces children of `container`) and gives keyboard focus
 * back to the element with the same `data-key` that had it before.
 */
export function keepFocus(container, redraw) {
  const a = document.activeElement;
  const key = a && container.contains(a) ? a.dataset.key : null;
  redraw();
  if (key) {
    const el = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (el) el.focus();
  }
}

/** An error box with the server's own message (role=alert: read out at once). */
export function errorBox(err, prefix = '') {
  const msg = err && err.message ? err.message : String(err);
  return h('div', { class: 'alert error', role: 'alert' }, prefix ? `${prefix}: ${msg}` : msg);
}

export function infoBox(...children) {
  return h('div', { class: 'alert info' }, ...children);
}

export function emptyState(title, detail) {
  return h('div', { class: 'empty' }, h('strong', {}, title), detail ? h('span', {}, detail) : null);
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}` }, text);
}

export function stateBadge(state) {
  const kind = { connected: 'ok', running: 'ok', new: 'warn', connecting: 'warn', disconnected: 'bad', stopped: 'bad', failed: 'bad' }[state] || '';
  return badge(state, kind);
}

export function toast(msg, kind = 'info', ms = 4000) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: `toast ${kind}` }, msg);
  box.append(t);
  setTimeout(() => t.remove(), ms);
}

/** Copies text; falls back to selecting it where the Clipboard API is unavailable (plain http). */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Copied to the clipboard');
    return true;
  } catch {
    if (input) {
      input.focus();
      input.select();
    }
    toast('Copy is not available here: the text is selected, press Ctrl+C', 'info');
    return false;
  }
}

/** A read-only field with a Copy button. */
export function copyBox(label, value, id) {
  const input = h('input', { type: 'text', readonly: true, value, id, 'aria-label': label });
  return h('div', {},
    h('label', { for: id }, label),
    h('div', { class: 'copybox' }, input, h('button', { type: 'button', class: 'secondary small', onclick: () => copyText(input.value, input), 'aria-label': `Copy ${label}` }, 'Copy')));
}

export function field(label, input, hint) {
  if (!input.id) input.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  return h('div', {}, h('label', { for: input.id }, label), input, hint ? h('div', { class: 'muted small' }, hint) : null);
}

export function fmtBits(bps) {
  if (bps == null || Number.isNaN(bps)) return '–';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(0)} kbit/s`;
  return `${Math.round(bps)} bit/s`;
}

export function fmtBytes(b) {
  if (b == null) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return `${i ? b.toFixed(1) : b} ${u[i]}`;
}

export function fmtNum(n) {
  return n == null ? '–' : Number(n).toLocaleString('en-US');
}

export function fmtAge(unixMs) {
  if (!unixMs) return '–';
  const s = Math.max(0, Math.round((Date.now() - unixMs) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v, attrs]) => [h('dt', {}, k), h('dd', attrs || {}, v)]));
}
