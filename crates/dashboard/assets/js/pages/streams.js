// Streams: the live stream list (SSE GET /api/sse/streams), each stream as a tree
// of its copies (origin node → publisher → viewers and cascade relays → the relay's
// node → ...), per-session state and stats, and the operator's actions: kick a
// session, create/delete a stream, start/stop recording, copy WHIP/WHEP URLs, and
// mint a scoped token ready for OBS. Re-renders keep keyboard focus (data-key).

import { auth, env, getJson, request, enc } from '../api.js';
import { h, clear, keepFocus, errorBox, emptyState, infoBox, stateBadge, badge, fmtBits, fmtBytes, fmtNum, fmtAge, toast, copyText, copyBox, field } from '../ui.js';

export const title = 'Streams';
const DETAIL_MS = 2000;

const absolute = (path) => new URL(path, location.href).href;

export function render(main, params) {
  let stopped = false;
  let snapshot = null; // merged Stream[] from SSE
  let perNode = new Map(); // stream id -> {alias: Stream} (manager)
  let nodeUrls = new Map(); // alias -> url
  let lastDetail = 0;
  let detailTimer = null;
  const recording = new Map(); // stream -> true/false as last set here
  const cardErrors = new Map(); // stream -> Error
  const armed = new Set(); // streams whose Delete button asks for confirmation
  let tokenStream = null; // the token form's stream field (manager only)

  const live = h('span', { class: 'badge', 'aria-live': 'off' }, 'connecting…');
  const errors = h('div', { 'aria-live': 'polite' });
  const list = h('div', { id: 'stream-list' });
  const filter = h('input', { type: 'text', id: 'stream-filter', value: params.get('stream') || '', placeholder: 'part of a stream name', oninput: draw });

  // --- create ---------------------------------------------------------------------
  const newName = h('input', { type: 'text', id: 'new-stream', required: true, maxlength: 256, placeholder: 'camera01' });
  const nodeSel = h('select', { id: 'new-stream-node' }, h('option', { value: '' }, 'automatic'));
  const createForm = h('form', {
    class: 'panel', 'aria-labelledby': 'create-title',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const id = newName.value.trim();
      const q = nodeSel.value ? `?nodes=${enc(nodeSel.value)}` : '';
      try {
        await request('POST', `/api/streams/${enc(id)}${q}`);
        toast(`Stream ${id} created`);
        newName.value = '';
        errors.replaceChildren();
      } catch (e) {
        errors.replaceChildren(errorBox(e, `Could not create ${id}`));
      }
    },
  },
  h('h2', { id: 'create-title' }, 'Create an empty stream'),
  h('div', { class: 'row' }, field('Stream name', newName), env.manager ? field('On node', nodeSel) : null),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create stream')));

  main.append(
    h('div', { class: 'row spread' }, h('h1', {}, 'Streams'), live),
    h('div', { class: 'cols' },
      h('div', {}, h('div', { class: 'panel' }, field('Filter', filter)), errors, list),
      h('div', {}, createForm, tokenPanel())),
  );

  // --- rendering ----------------------------------------------------------------------
  function sessionLine(stream, s, role, extra) {
    const short = s.id.slice(0, 8);
    const st = s.stats || {};
    return h('div', { class: 'sess', 'data-session': s.id },
      h('span', {}, role),
      h('code', { title: s.id }, short),
      stateBadge(s.state),
      h('span', { class: 'small' }, fmtBits(st.bitrate)),
      h('span', { class: 'small muted' }, `${fmtNum(st.packets)} pkts · ${fmtBytes(st.bytes)}`),
      s.hasDataChannel ? badge('datachannel') : null,
      h('span', { class: 'small muted' }, fmtAge(s.createdAt)),
      extra,
      h('button', {
        type: 'button', class: 'danger secondary small', 'data-key': `kick:${stream}:${s.id}`,
        'aria-label': `Kick ${role} session ${short} of ${stream}`,
        onclick: (ev) => kick(stream, s.id, ev.currentTarget),
      }, 'Kick'));
  }

  function aliasOfUrl(url) {
    if (!url) return null;
    for (const [alias, u] of nodeUrls) if (url.startsWith(`${u.replace(/\/$/, '')}/`)) return alias;
    return null;
  }

  /** The tree of one stream: {alias: Stream} -> <ul>. */
  function tree(id, copies) {
    const aliases = Object.keys(copies);
    const children = new Map(); // src alias -> [{sessionId, dst}]
    const isChild = new Set();
    for (const a of aliases) {
      const st = copies[a];
      const pub = st.publish.sessions[0];
      if (pub && pub.cascade && pub.cascade.sourceUrl) {
        const src = aliasOfUrl(pub.cascade.sessionUrl || pub.cascade.sourceUrl);
        const sid = (pub.cascade.sessionUrl || '').split('/').pop();
        if (src && src !== a) {
          isChild.add(a);
          (children.get(src) || children.set(src, []).get(src)).push({ sid, dst: a });
        }
      }
      for (const sub of st.subscribe.sessions) {
        if (sub.cascade && sub.cascade.targetUrl) {
          const dst = aliasOfUrl(sub.cascade.targetUrl);
          if (dst && dst !== a) {
            isChild.add(dst);
            (children.get(a) || children.set(a, []).get(a)).push({ sid: sub.id, dst });
          }
        }
      }
    }
    const drawn = new Set();
    const nodeItem = (a) => {
      drawn.add(a);
      const st = copies[a];
      const kids = children.get(a) || [];
      const pub = st.publish.sessions[0];
      const pubLine = pub
        ? sessionLine(id, pub, pub.cascade ? 'relay in' : 'publisher', pub.cascade && pub.cascade.sourceUrl ? h('span', { class: 'small muted' }, `from ${aliasOfUrl(pub.cascade.sourceUrl) || pub.cascade.sourceUrl}`) : null)
        : h('div', { class: 'muted small' }, st.publish.leaveAt ? `no publisher (left ${fmtAge(st.publish.leaveAt)})` : 'no publisher yet');
      const subs = st.subscribe.sessions.map((s) => {
        const kid = kids.find((k) => k.sid === s.id);
        if (kid && copies[kid.dst] && !drawn.has(kid.dst)) {
          return h('li', {}, sessionLine(id, s, 'relay out', h('span', { class: 'small muted' }, `to ${kid.dst}`)), h('ul', { class: 'tree' }, nodeItem(kid.dst)));
        }
        return h('li', {}, sessionLine(id, s, s.cascade ? 'relay out' : 'viewer'));
      });
      return h('li', { class: 'node-group' },
        h('strong', {}, env.manager ? `node ${a}` : 'this node'),
        isChild.has(a) ? h('span', { class: 'muted small' }, ' (cascade copy)') : null,
        h('ul', { class: 'tree' }, h('li', {}, pubLine), subs.length ? subs : h('li', { class: 'muted small' }, 'no viewers')));
    };
    const roots = aliases.filter((a) => !isChild.has(a));
    const items = roots.map(nodeItem);
    for (const a of aliases) if (!drawn.has(a)) items.push(nodeItem(a)); // cycles / unknown URLs
    return h('ul', { class: 'tree', 'aria-label': `Sessions of ${id}` }, items);
  }

  /** One line of totals, from the per-node copies when loaded (fresher than the SSE list). */
  function summary(st, copies) {
    const all = copies ? Object.values(copies) : [st];
    const sum = (f) => all.reduce((n, c) => n + f(c), 0);
    const pubs = sum((c) => c.publish.sessions.length);
    const subs = sum((c) => c.subscribe.sessions.length);
    return h('p', { class: 'small muted' },
      `created ${fmtAge(st.createdAt)} · in ${fmtBits(sum((c) => c.stats.publish.bitrate))} · out ${fmtBits(sum((c) => c.stats.subscribe.bitrate))} · `,
      `${pubs} ${pubs === 1 ? 'publisher' : 'publishers'}, ${subs} ${subs === 1 ? 'subscriber' : 'subscribers'}`,
      all.length > 1 ? ` on ${all.length} nodes` : '');
  }

  function streamCard(st) {
    const id = st.id;
    const copies = env.manager ? perNode.get(id) || null : { self: st };
    const whip = absolute(`/whip/${enc(id)}`);
    const whep = absolute(`/whep/${enc(id)}`);
    const rec = recording.get(id);
    const delBtn = h('button', { type: 'button', class: armed.has(id) ? 'danger' : 'danger secondary', 'data-key': `del:${id}`, 'aria-label': armed.has(id) ? `Really delete stream ${id}?` : `Delete stream ${id}` },
      armed.has(id) ? 'Really delete?' : 'Delete stream');
    delBtn.addEventListener('click', () => deleteStream(id));
    return h('section', { class: 'panel stream', 'data-stream': id, 'aria-label': `Stream ${id}` },
      h('div', { class: 'row spread' },
        h('h2', {}, id),
        h('div', { class: 'row' }, st.codecs.map((c) => badge(`${c.kind} ${c.codec}`)), rec ? badge('● recording', 'bad') : null)),
      summary(st, copies),
      copies ? tree(id, copies) : h('p', { class: 'muted small' }, 'loading the per-node view…'),
      cardErrors.get(id) ? errorBox(cardErrors.get(id)) : null,
      h('div', { class: 'row actions' },
        h('a', { class: 'button', href: `#/preview?stream=${enc(id)}`, 'data-key': `prev:${id}` }, 'Preview'),
        h('button', { type: 'button', class: 'secondary', 'data-key': `whip:${id}`, onclick: () => copyText(whip), title: whip }, 'Copy WHIP URL'),
        h('button', { type: 'button', class: 'secondary', 'data-key': `whep:${id}`, onclick: () => copyText(whep), title: whep }, 'Copy WHEP URL'),
        h('button', { type: 'button', class: 'secondary', 'data-key': `rec:${id}`, onclick: (ev) => record(id, true, ev.currentTarget) }, 'Start recording'),
        h('button', { type: 'button', class: 'secondary', 'data-key': `stop:${id}`, onclick: (ev) => record(id, false, ev.currentTarget) }, 'Stop recording'),
        h('button', { type: 'button', class: 'secondary', 'data-key': `tok:${id}`, onclick: () => prefillToken(id) }, 'Token…'),
        delBtn));
  }

  function draw() {
    if (stopped || snapshot == null) return;
    keepFocus(list, drawList);
  }

  function drawList() {
    const f = filter.value.trim().toLowerCase();
    const shown = snapshot.filter((s) => !f || s.id.toLowerCase().includes(f));
    if (!snapshot.length) {
      clear(list, h('div', { class: 'panel' }, emptyState('No streams yet',
        'Publish from the Publish page, point OBS at a WHIP URL (mint a token on the right), or create an empty stream.')));
    } else if (!shown.length) {
      clear(list, h('div', { class: 'panel' }, emptyState(`No stream matches “${filter.value}”`, `${snapshot.length} streams in total.`)));
    } else {
      clear(list, shown.map(streamCard));
    }
  }

  // --- actions ---------------------------------------------------------------------
  async function kick(stream, sid, btn) {
    btn.disabled = true;
    try {
      await request('DELETE', `/session/${enc(stream)}/${enc(sid)}`);
      toast(`Session ${sid.slice(0, 8)} kicked`);
      cardErrors.delete(stream);
      refreshDetail(true);
    } catch (e) {
      cardErrors.set(stream, e);
      btn.disabled = false;
      draw();
    }
  }

  async function deleteStream(id) {
    if (!armed.has(id)) {
      armed.add(id);
      draw();
      setTimeout(() => {
        armed.delete(id);
        draw();
      }, 4000);
      return;
    }
    armed.delete(id);
    try {
      await request('DELETE', `/api/streams/${enc(id)}`);
      toast(`Stream ${id} deleted`);
      cardErrors.delete(id);
    } catch (e) {
      cardErrors.set(id, e);
    }
    draw();
  }

  async function record(id, start, btn) {
    btn.disabled = true;
    try {
      const res = await request(start ? 'POST' : 'DELETE', `/api/record/${enc(id)}`);
      const text = await res.text();
      let detail = '';
      try {
        const j = JSON.parse(text);
        if (j.mpd_path) detail = ` → ${j.mpd_path}`;
      } catch {}
      recording.set(id, start);
      cardErrors.delete(id);
      toast(start ? `Recording ${id}${detail}` : `Recording of ${id} stopped`);
    } catch (e) {
      // A bare 404 (no message) means the route itself is missing: say so.
      cardErrors.set(id, e.status === 404 && e.serverMessage === 'Not Found'
        ? new Error(`${e.message} (this server has no recording API yet; see docs/dashboard.md)`) : e);
    } finally {
      btn.disabled = false;
      draw();
    }
  }

  // --- tokens -------------------------------------------------------------------------
  function prefillToken(id) {
    if (!tokenStream) return;
    tokenStream.value = id;
    tokenStream.focus();
  }

  function tokenPanel() {
    if (!env.manager) {
      return h('section', { class: 'panel' }, h('h2', {}, 'Tokens'),
        infoBox('A standalone node has no token endpoint. Mint JWTs with its `[auth] secret` (docs/auth.md) or use the cluster manager.'));
    }
    tokenStream = h('input', { type: 'text', id: 'tok-stream', value: params.get('stream') || '', required: true, placeholder: 'camera01 or *' });
    const pubCb = h('input', { type: 'checkbox', id: 'tok-publish', checked: true });
    const subCb = h('input', { type: 'checkbox', id: 'tok-subscribe' });
    const admCb = h('input', { type: 'checkbox', id: 'tok-admin' });
    const ttl = h('select', { id: 'tok-ttl' },
      [['3600', '1 hour'], ['86400', '1 day'], ['604800', '7 days'], ['2592000', '30 days'], ['31536000', '1 year']].map(([v, t]) => h('option', { value: v, selected: v === '86400' }, t)));
    const out = h('div', { id: 'token-result', 'aria-live': 'polite' });
    const form = h('form', {
      onsubmit: async (ev) => {
        ev.preventDefault();
        const id = tokenStream.value.trim();
        const duration = Number(ttl.value);
        if (!pubCb.checked && !subCb.checked && !admCb.checked) {
          clear(out, errorBox('Tick at least one permission: publish, subscribe or admin.'));
          return;
        }
        try {
          const res = await request('POST', '/api/token', { json: { id, duration, publish: pubCb.checked, subscribe: subCb.checked, admin: admCb.checked } });
          const { access_token: t } = await res.json();
          const name = id === '*' ? '<stream>' : enc(id);
          const expires = new Date(Date.now() + duration * 1000);
          clear(out,
            h('p', { class: 'small' }, `Token for ${id === '*' ? 'every stream' : id}: ${[pubCb.checked && 'publish', subCb.checked && 'subscribe', admCb.checked && 'admin'].filter(Boolean).join(' + ')}, expires ${expires.toLocaleString()}.`),
            copyBox('Token', t, 'tok-value'),
            pubCb.checked ? h('div', {},
              h('h3', {}, 'OBS (Settings → Stream → Service: WHIP)'),
              copyBox('Server', absolute(`/whip/${name}`), 'tok-obs-server'),
              copyBox('Bearer Token', t, 'tok-obs-bearer')) : null,
            subCb.checked ? copyBox('Player URL (WHEP)', absolute(`/whep/${name}`), 'tok-whep') : null);
        } catch (e) {
          clear(out, errorBox(e, 'Could not mint a token'));
        }
      },
    },
    field('Stream', tokenStream, '* = every stream'),
    h('fieldset', {}, h('legend', {}, 'Permissions'),
      h('label', { class: 'check', for: 'tok-publish' }, pubCb, 'Publish (WHIP)'),
      h('label', { class: 'check', for: 'tok-subscribe' }, subCb, 'Subscribe (WHEP)'),
      h('label', { class: 'check', for: 'tok-admin' }, admCb, 'Admin on the stream')),
    field('Expires in', ttl),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Mint token')));
    return h('section', { class: 'panel', 'aria-labelledby': 'tok-title' }, h('h2', { id: 'tok-title' }, 'Mint a scoped token'), form, out);
  }

  // --- data ---------------------------------------------------------------------------
  async function refreshDetail(force) {
    if (!env.manager || stopped || !snapshot) return;
    const now = Date.now();
    if (!force && now - lastDetail < DETAIL_MS) {
      clearTimeout(detailTimer);
      detailTimer = setTimeout(() => refreshDetail(true), DETAIL_MS - (now - lastDetail));
      return;
    }
    lastDetail = now;
    try {
      const nodes = await getJson('/api/nodes/');
      nodeUrls = new Map(nodes.map((n) => [n.alias, n.url]));
      // One request per node (not per stream): each node's own copies, grouped by stream.
      const running = nodes.filter((n) => n.status === 'running');
      const lists = await Promise.all(running.map((n) => getJson(`/api/streams/?nodes=${enc(n.alias)}`).catch(() => [])));
      const next = new Map();
      running.forEach((n, i) => {
        for (const st of lists[i]) (next.get(st.id) || next.set(st.id, {}).get(st.id))[n.alias] = st;
      });
      perNode = next;
      const known = [...nodeSel.options].map((o) => o.value);
      for (const n of nodes) if (!known.includes(n.alias)) nodeSel.append(h('option', { value: n.alias }, n.alias));
    } catch (e) {
      errors.replaceChildren(errorBox(e, 'Could not load the per-node view'));
    }
    draw();
  }

  const es = new EventSource(`/api/sse/streams${auth.query()}`);
  es.onopen = () => {
    live.textContent = 'live';
    live.className = 'badge ok';
  };
  es.onmessage = (ev) => {
    try {
      snapshot = JSON.parse(ev.data);
    } catch {
      return;
    }
    live.textContent = 'live';
    live.className = 'badge ok';
    if (!env.manager) draw();
    else {
      draw();
      refreshDetail(false);
    }
  };
  es.onerror = () => {
    live.textContent = 'reconnecting…';
    live.className = 'badge warn';
    // EventSource does not expose the status: ask once so a 401/403 is explained.
    request('GET', '/api/streams/').catch((e) => errors.replaceChildren(errorBox(e, 'Live updates failed')));
  };
  // Session stats (bitrate) change without a list change on the manager: refresh the per-node view periodically.
  const tick = setInterval(() => refreshDetail(false), DETAIL_MS * 2);
  return () => {
    stopped = true;
    es.close();
    clearInterval(tick);
    clearTimeout(detailTimer);
  };
}
