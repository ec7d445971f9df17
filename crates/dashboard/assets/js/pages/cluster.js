// Cluster: every node of the manager (GET /api/nodes/) with region, status, load
// (sessions, packets/s, CPU, bandwidth) and the streams it holds, drain/undrain
// buttons, and the cascade relays (GET /api/cascade/). Node load is not in the SSE
// feed, so this page polls every 2 s; cards are updated in place so keyboard
// focus survives the refresh.

import { getJson, request, enc } from '../api.js';
import { h, clear, errorBox, emptyState, stateBadge, badge, fmtBits, fmtNum, toast } from '../ui.js';

export const title = 'Cluster';
const POLL_MS = 2000;

export function render(main) {
  const status = h('p', { class: 'muted small', 'aria-live': 'off' }, 'Loading nodes…');
  const errors = h('div', { 'aria-live': 'polite' });
  const actionErrors = h('div', { 'aria-live': 'polite' });
  const grid = h('div', { class: 'grid', id: 'nodes' });
  const relays = h('div', { id: 'relays' });
  main.append(
    h('div', { class: 'row spread' }, h('h1', {}, 'Cluster'), status),
    errors,
    actionErrors,
    grid,
    h('section', { class: 'panel', 'aria-labelledby': 'relays-title' }, h('h2', { id: 'relays-title' }, 'Cascade relays'), relays),
  );
  const cards = new Map();
  let stopped = false;
  let timer = null;

  async function toggleDrain(node, btn) {
    btn.disabled = true;
    const action = node.drained ? 'undrain' : 'drain';
    try {
      await request('POST', `/api/nodes/${enc(node.alias)}/${action}`);
      actionErrors.replaceChildren();
      toast(`${node.alias}: ${action === 'drain' ? 'drained (no new sessions)' : 'undrained'}`);
      await refresh();
    } catch (e) {
      actionErrors.replaceChildren(errorBox(e, `Could not ${action} ${node.alias}`));
    } finally {
      btn.disabled = false;
    }
  }

  function card(node) {
    let c = cards.get(node.alias);
    if (!c) {
      const refs = {
        status: h('span'),
        drained: h('span'),
        load: h('dl', { class: 'kv' }),
        streams: h('div', { class: 'small' }),
        btn: h('button', { type: 'button', class: 'secondary' }),
      };
      refs.btn.addEventListener('click', () => toggleDrain(c.node, refs.btn));
      const el = h('section', { class: 'panel node', 'data-alias': node.alias, 'aria-label': `Node ${node.alias}` },
        h('div', { class: 'row spread' }, h('h2', {}, node.alias), h('div', { class: 'row' }, refs.status, refs.drained)),
        h('p', { class: 'muted small mono' }, node.url),
        refs.load,
        h('h3', {}, 'Streams'),
        refs.streams,
        h('div', { class: 'actions' }, refs.btn));
      c = { el, refs, node };
      cards.set(node.alias, c);
    }
    c.node = node;
    const r = c.refs;
    clear(r.status, stateBadge(node.status));
    clear(r.drained, node.drained ? badge('drained', 'warn') : null);
    r.btn.textContent = node.drained ? 'Undrain' : 'Drain';
    r.btn.setAttribute('aria-label', `${node.drained ? 'Undrain' : 'Drain'} node ${node.alias}`);
    const l = node.load || {};
    const pairs = [
      ['Region', node.region || '(none)'],
      ['Kind', node.kind],
      ['Sessions', `${fmtNum(l.publishers)} pub · ${fmtNum(l.subscribers)} sub`, { 'data-stat': 'sessions' }],
      ['Packets/s', fmtNum(l.packets_per_sec)],
      ['Bandwidth', fmtBits((l.bytes_per_sec || 0) * 8)],
      ['CPU', node.kind === 'registered' ? `${(l.cpu || 0).toFixed(1)} %` : 'n/a (static node)'],
      ['Viewers/stream max', fmtNum(node.sub_max)],
      ['Last seen', node.last_seen_ms == null ? 'never' : `${(node.last_seen_ms / 1000).toFixed(1)} s ago`],
    ];
    clear(r.load, pairs.map(([k, v, a]) => [h('dt', {}, k), h('dd', a || {}, v)]));
    return c;
  }

  async function refresh() {
    const nodes = await getJson('/api/nodes/');
    const perNode = await Promise.all(
      nodes.map((n) => (n.status === 'running' ? getJson(`/api/streams/?nodes=${enc(n.alias)}`).catch(() => null) : Promise.resolve([]))),
    );
    const rel = await getJson('/api/cascade/').catch((e) => e);
    if (stopped) return;
    if (!nodes.length) {
      cards.clear();
      clear(grid, emptyState('No nodes yet', 'Add [[nodes]] to the manager config, or start nodes with a [cluster] table so they register themselves (docs/clustering.md).'));
    } else {
      const seen = new Set();
      nodes.forEach((n, i) => {
        const c = card(n);
        seen.add(n.alias);
        const ss = perNode[i];
        clear(c.refs.streams, ss == null ? h('span', { class: 'muted' }, 'could not list streams')
          : ss.length ? h('ul', {}, ss.map((s) => h('li', {}, h('a', { href: `#/streams?stream=${enc(s.id)}` }, s.id), ` · ${s.publish.sessions.length} pub, ${s.subscribe.sessions.length} sub`)))
            : h('span', { class: 'muted' }, n.status === 'running' ? 'no streams' : 'node stopped'));
        if (c.el.parentNode !== grid || grid.children[i] !== c.el) grid.insertBefore(c.el, grid.children[i] || null);
      });
      for (const [alias, c] of cards) if (!seen.has(alias)) { c.el.remove(); cards.delete(alias); }
      for (const el of [...grid.children]) if (!el.dataset.alias) el.remove();
    }
    if (rel instanceof Error) clear(relays, errorBox(rel));
    else if (!rel.length) clear(relays, h('p', { class: 'muted' }, 'No relays: every stream is served by its origin node alone.'));
    else clear(relays, h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Stream', 'From', 'To', 'State'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rel.map((r) => h('tr', {}, h('td', {}, r.stream), h('td', {}, r.src), h('td', {}, r.dst), h('td', {}, stateBadge(r.state))))))));
    const running = nodes.filter((n) => n.status === 'running').length;
    status.textContent = `${running} of ${nodes.length} nodes running · updated ${new Date().toLocaleTimeString()}`;
  }

  async function loop() {
    try {
      await refresh();
      errors.replaceChildren();
    } catch (e) {
      if (!stopped) errors.replaceChildren(errorBox(e, 'Could not load the cluster'));
    }
    if (!stopped) timer = setTimeout(loop, POLL_MS);
  }
  loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
