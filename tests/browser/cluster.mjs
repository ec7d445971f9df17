#!/usr/bin/env node
// Browser end-to-end scenarios against a running wishcast CLUSTER (one
// manager + media nodes). Every page is opened on the manager's origin and
// publishes/plays through the manager's /whip and /whep.
//
//   node tests/browser/cluster.mjs --base http://127.0.0.1:MANAGER --scenario NAME
//        [--codec VP8] [--token T] [--turn-url turn:127.0.0.1:PORT?transport=udp] [--timeout-s 110]
//
// Scenarios:
//   cascade   nodes with sub_max 2: proxy overhead (median of 10 WHEP POST->201
//             through the manager vs. directly on a node), then 1 publisher and
//             5 viewers through the manager; every viewer decodes, >= 2 cascades
//             formed (GET /api/cascade/, GET /api/streams/), no node carries more
//             than 2 viewers; cascade set-up time = WHEP POST on a full node ->
//             first decoded frame.
//   redirect  manager in `[placement] mode = "redirect"` with a token: fetch()
//             follows the 307 (body preserved) to a node, PATCH (trickle) and
//             DELETE go to the node's Location, the viewer decodes.
//   coturn    manager with `[extra_ice.coturn]`: the 201 carries a TURN Link with
//             REST credentials; the pages use them with iceTransportPolicy
//             "relay", connect through coturn (selected local candidate: relay)
//             and decode; a wrong credential gets no relay candidate.
//
// Prints exactly one JSON line on stdout ({"ok":true|false, ...}); on failure
// the diagnostics go to stderr. Exit code: 0 success, 1 failure, 2 usage error.

import { wc, sleep, median, Check, runScenario, parseCli, cliFail, arg, expectCodec, publisherReady } from './lib.mjs';

const USAGE =
  'usage: node tests/browser/cluster.mjs --base http://127.0.0.1:PORT --scenario {cascade|redirect|coturn} ' +
  '[--codec VP8|VP9|H264|AV1] [--token T] [--turn-url URL] [--nodes N] [--timeout-s N]';
const usage = cliFail('cluster.mjs', USAGE);

function parseArgs(argv) {
  const o = parseCli(argv, {
    usage: USAGE,
    fail: usage,
    defaults: { codec: 'VP8', timeoutS: 110, nodes: 3 },
    flags: {
      '--base': ['base', arg.url],
      '--scenario': ['scenario'],
      '--codec': ['codec', arg.upper],
      '--token': ['token'],
      '--turn-url': ['turnUrl'],
      '--nodes': ['nodes', arg.num],
      '--timeout-s': ['timeoutS', arg.num],
    },
  });
  if (!o.base) usage('--base is required');
  if (!o.scenario) usage('--scenario is required');
  if (!['VP8', 'VP9', 'H264', 'AV1'].includes(o.codec)) usage(`unsupported codec ${o.codec}`);
  return o;
}

const MIN_GROWTH = 10; // decoded frames over the observation window
const OBSERVE_MS = 3000;


class Ctx {
  constructor(opts, browser) {
    this.opts = opts;
    this.b = browser;
    this.stream = `cluster-${opts.scenario}-${Math.random().toString(36).slice(2, 8)}`;
    this.sessions = []; // {name, page, id}
    this.result = { stream: this.stream };
    this.check = new Check();
  }
  /** Manager URL of `kind` ('whip' | 'whep') for this scenario's stream (+ ?token= when set). */
  url(kind, stream = this.stream, query = '') {
    const q = new URLSearchParams(query);
    if (this.opts.token) q.set('token', this.opts.token);
    const qs = q.toString();
    return `${this.opts.base}/${kind}/${encodeURIComponent(stream)}${qs ? `?${qs}` : ''}`;
  }
  async publisher(name, extra = {}) {
    const page = await this.b.page(this.opts.base, name);
    const id = await wc.publish(page, this.url('whip'), { token: this.opts.token, codec: this.opts.codec, audio: true, ...extra });
    const s = { name, page, id };
    this.sessions.push(s);
    return s;
  }
  async player(name, extra = {}, page = null) {
    page = page || (await this.b.page(this.opts.base, name));
    const id = await wc.play(page, this.url('whep'), { token: this.opts.token, ...extra });
    const s = { name, page, id };
    this.sessions.push(s);
    return s;
  }
  /** GET on the manager's API from Node.js (admin token when given). */
  async api(path, { base = this.opts.base, method = 'GET' } = {}) {
    const headers = this.opts.token ? { Authorization: `Bearer ${this.opts.token}` } : {};
    const res = await fetch(`${base}${path}`, { method, headers });
    const text = await res.text();
    if (method !== 'GET') return { status: res.status, text };
    if (res.status !== 200) throw new Error(`GET ${base}${path} -> HTTP ${res.status}: ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`GET ${base}${path} is not JSON: ${text.slice(0, 300)}`);
    }
  }
  /** The running nodes (GET /api/nodes/), waiting until `n` of them are running. */
  async runningNodes(n, timeoutMs = 20000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const nodes = await this.api('/api/nodes/');
      const running = nodes.filter((x) => x.status === 'running').sort((a, b) => a.alias.localeCompare(b.alias));
      if (running.length >= n) return running;
      if (Date.now() > end) throw new Error(`only ${running.length} of ${n} nodes running after ${timeoutMs} ms: ${JSON.stringify(nodes).slice(0, 600)}`);
      await sleep(200);
    }
  }
  async diagnostics() {
    const out = [];
    for (const s of this.sessions) {
      try {
        const info = await wc.info(s.page, s.id);
        const stats = await wc.stats(s.page, s.id);
        out.push({ name: s.name, info, stats });
      } catch (e) {
        out.push({ name: s.name, error: String(e.message || e) });
      }
    }
    try {
      out.push({ streams: await this.api(`/api/streams/${encodeURIComponent(this.stream)}`) });
      out.push({ cascade: await this.api('/api/cascade/') });
    } catch (e) {
      out.push({ api: String(e.message || e) });
    }
    return out;
  }
}

/** Waits for the first frame, then checks decoding progresses over OBSERVE_MS. */
async function assertPlaying(ctx, p, { firstFrameTimeoutMs = 20000 } = {}) {
  const c = ctx.check;
  await wc.waitConnected(p.page, p.id, 20000);
  const first = await wc.waitFirstFrame(p.page, p.id, firstFrameTimeoutMs, 50);
  const s1 = await wc.stats(p.page, p.id);
  await sleep(OBSERVE_MS);
  const s2 = await wc.stats(p.page, p.id);
  const grown = s2.video.framesDecoded - s1.video.framesDecoded;
  const r = {
    framesDecoded: s2.video.framesDecoded,
    growth: grown,
    size: `${s2.video.frameWidth}x${s2.video.frameHeight}`,
    videoWidth: s2.videoWidth,
    codec: s2.video.codec?.mimeType,
    audioPackets: s2.audio?.packetsReceived ?? 0,
    pair: s2.pair,
  };
  c.that(grown >= MIN_GROWTH, `${p.name}: framesDecoded grew by ${grown} in ${OBSERVE_MS} ms (need >= ${MIN_GROWTH}); stats ${JSON.stringify(s2.video)}`);
  c.that(s2.video.frameWidth > 0, `${p.name}: inbound frameWidth is ${s2.video.frameWidth}`);
  c.that(s2.videoWidth > 0, `${p.name}: <video>.videoWidth is ${s2.videoWidth}`);
  expectCodec(c, p.name, s2.video.codec, ctx.opts.codec);
  return r;
}

/** The session id at the end of a Location URL. */
function sessionIdOf(loc) {
  return decodeURIComponent(new URL(loc, 'http://x').pathname.split('/').pop());
}

/** Waits until a node's snapshot (manager's GET /api/streams/{id}) lists `sessionId`; returns its alias. */
async function nodeOf(ctx, sessionId, kind = 'subscribe', timeoutMs = 6000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const per = await ctx.api(`/api/streams/${encodeURIComponent(ctx.stream)}`);
    for (const [alias, st] of Object.entries(per)) {
      if ((st[kind]?.sessions || []).some((s) => s.id === sessionId)) return alias;
    }
    if (Date.now() > end) return null;
    await sleep(100);
  }
}

/**
 * In the page: a fresh recvonly offer (ICE gathered), then a timed
 * POST -> 201 (answer body read), then DELETE of the session and close.
 */
function timedWhepPost(page, url) {
  return page.evaluate(async (u) => {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    try {
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        const t = setTimeout(resolve, 3000);
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'complete') {
            clearTimeout(t);
            resolve();
          }
        });
      });
      const sdp = pc.localDescription.sdp;
      const t0 = performance.now();
      const res = await fetch(u, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: sdp });
      const body = await res.text();
      const ms = performance.now() - t0;
      const loc = res.headers.get('Location');
      let del = null;
      if (loc) del = (await fetch(new URL(loc, res.url), { method: 'DELETE' })).status;
      return { ms, status: res.status, del, sdp: /^v=0/.test(body), error: res.status === 201 ? null : body.slice(0, 300) };
    } finally {
      pc.close();
    }
  }, url);
}

/**
 * In the page: gather ICE with `iceServers` and iceTransportPolicy "relay" only
 * (no signalling); returns the relay candidates and icecandidateerror events.
 */
function gatherRelay(page, iceServers) {
  return page.evaluate(async (servers) => {
    const pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: 'relay' });
    const candidates = [];
    const errors = [];
    pc.addEventListener('icecandidate', (e) => e.candidate && e.candidate.candidate && candidates.push(e.candidate.candidate));
    pc.addEventListener('icecandidateerror', (e) => errors.push({ code: e.errorCode, text: e.errorText, url: e.url }));
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const t = setTimeout(resolve, 10000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
    pc.close();
    return { relay: candidates.filter((c) => / typ relay/.test(c)), all: candidates, errors };
  }, iceServers);
}

/** Waits until the session's events show the trickle PATCH result. */
async function trickleResult(s, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const info = await wc.info(s.page, s.id);
    const ev = info.events.find((e) => /^trickle(-error)?:/.test(e));
    if (ev || Date.now() > end) return ev || null;
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------

const scenarios = {
  async cascade(ctx) {
    const c = ctx.check;
    const nodes = await ctx.runningNodes(ctx.opts.nodes);
    ctx.result.nodes = nodes.map((n) => ({ alias: n.alias, url: n.url, sub_max: n.sub_max }));
    c.that(nodes.every((n) => n.sub_max === 2), `every node must have sub_max 2: ${JSON.stringify(ctx.result.nodes)}`);
    c.throwIfFailed();

    // --- Proxy overhead: WHEP POST -> 201 through the manager vs. on the node
    // itself, same node (?nodes=), fresh stream per request, each page on its
    // own origin (no CORS preflight on either path), interleaved.
    const target = nodes[0];
    const mPage = await ctx.b.page(ctx.opts.base, 'overhead-manager');
    const dPage = await ctx.b.page(target.url, 'overhead-direct');
    const viaManager = [];
    const direct = [];
    for (let i = -1; i < 10; i++) {
      const m = await timedWhepPost(mPage, ctx.url('whep', `${ctx.stream}-ovh-m${i + 1}`, `nodes=${target.alias}`));
      const d = await timedWhepPost(dPage, `${target.url}/whep/${encodeURIComponent(`${ctx.stream}-ovh-d${i + 1}`)}`);
      for (const [what, r] of [['manager', m], ['direct', d]]) {
        c.that(r.status === 201 && r.sdp, `overhead ${what} #${i + 1}: POST -> ${r.status} ${r.error || ''}`);
        c.that(r.del === 200 || r.del === 204, `overhead ${what} #${i + 1}: DELETE -> ${r.del}`);
      }
      if (i >= 0) {
        // i = -1 warms up connections (and the manager's pool towards the node).
        viaManager.push(Math.round(m.ms * 10) / 10);
        direct.push(Math.round(d.ms * 10) / 10);
      }
    }
    c.throwIfFailed();
    await mPage.close();
    await dPage.close();
    const r1 = (x) => Math.round(x * 10) / 10;
    const mm = r1(median(viaManager));
    const dm = r1(median(direct));
    ctx.result.proxyOverhead = {
      node: target.alias,
      managerMedianMs: mm,
      directMedianMs: dm,
      overheadMs: r1(mm - dm),
      manager: viaManager,
      direct,
    };
    console.error(`proxy overhead: WHEP POST->201 median ${mm} ms via manager vs ${dm} ms direct on ${target.alias} (+${(mm - dm).toFixed(1)} ms)`);

    // --- One publisher, five viewers, all through the manager.
    const pub = await ctx.publisher('publisher');
    ctx.result.publisher = await publisherReady(ctx, pub, { connectMs: 20000 });
    const pubInfo = await wc.info(pub.page, pub.id);
    c.that(pubInfo.sessionUrl.startsWith(`${ctx.opts.base}/session/`), `publisher Location is not on the manager: ${pubInfo.sessionUrl}`);
    const origin = await nodeOf(ctx, sessionIdOf(pubInfo.location), 'publish');
    ctx.result.origin = origin;
    c.that(origin, `no node lists the publisher session ${pubInfo.location}`);

    const viewers = [];
    const joins = [];
    for (let i = 1; i <= 5; i++) {
      const relaysBefore = (await ctx.api('/api/cascade/')).filter((r) => r.stream === ctx.stream).length;
      const v = await ctx.player(`viewer${i}`);
      let first;
      try {
        first = await wc.waitFirstFrame(v.page, v.id, 20000, 20);
      } catch (e) {
        throw new Error(`viewer${i}: ${e.message}`);
      }
      const relays = (await ctx.api('/api/cascade/')).filter((r) => r.stream === ctx.stream);
      const info = await wc.info(v.page, v.id);
      c.that(info.sessionUrl.startsWith(`${ctx.opts.base}/session/`), `viewer${i} Location is not on the manager: ${info.sessionUrl}`);
      const node = await nodeOf(ctx, sessionIdOf(info.location));
      const cascaded = relays.length > relaysBefore;
      const j = {
        viewer: i,
        node,
        cascade: cascaded ? relays.filter((r) => r.dst === node).map((r) => `${r.src}->${r.dst}`)[0] || 'yes' : null,
        firstFrameMs: Math.round(first.ms),
        answerMs: Math.round(first.answerMs),
      };
      joins.push(j);
      viewers.push(v);
      console.error(`viewer${i}: on ${node}${cascaded ? ` (cascade ${j.cascade})` : ''}, WHEP POST -> 201 ${j.answerMs} ms, -> first decoded frame ${j.firstFrameMs} ms`);
    }
    ctx.result.joins = joins;

    // Every viewer keeps decoding.
    ctx.result.viewers = await Promise.all(viewers.map((v) => assertPlaying(ctx, v)));

    // The cluster's own account of it.
    const relays = (await ctx.api('/api/cascade/')).filter((r) => r.stream === ctx.stream);
    ctx.result.relays = relays;
    c.that(relays.length >= 2, `GET /api/cascade/: ${relays.length} relays for ${ctx.stream}, expected >= 2: ${JSON.stringify(relays)}`);
    c.that(relays.every((r) => r.state === 'up'), `GET /api/cascade/: every relay must be up: ${JSON.stringify(relays)}`);
    const merged = (await ctx.api('/api/streams/')).find((s) => s.id === ctx.stream);
    c.that(merged, `GET /api/streams/ does not list ${ctx.stream}`);
    const relayPubs = (merged?.publish?.sessions || []).filter((s) => s.cascade?.sourceUrl);
    ctx.result.mergedView = {
      publishSessions: merged?.publish?.sessions?.length,
      relayPublishers: relayPubs.map((s) => s.cascade.sourceUrl),
      subscribeSessions: merged?.subscribe?.sessions?.length,
      codecs: merged?.codecs,
    };
    c.that(relayPubs.length >= 2, `GET /api/streams/: ${relayPubs.length} relay publishers (cascade.sourceUrl) for ${ctx.stream}, expected >= 2: ${JSON.stringify(merged?.publish)}`);
    const per = await ctx.api(`/api/streams/${encodeURIComponent(ctx.stream)}`);
    c.that(Object.keys(per).length === 3, `GET /api/streams/${ctx.stream}: held by ${Object.keys(per).join(',')}, expected all 3 nodes`);
    // Viewers per node: subscribers that are not a relay's upstream session.
    const upstream = new Set(
      Object.values(per).flatMap((st) => (st.publish?.sessions || []).filter((s) => s.cascade?.sessionUrl).map((s) => sessionIdOf(s.cascade.sessionUrl))),
    );
    const viewersPer = {};
    for (const [alias, st] of Object.entries(per)) {
      viewersPer[alias] = (st.subscribe?.sessions || []).filter((s) => !upstream.has(s.id)).length;
    }
    ctx.result.viewersPerNode = viewersPer;
    c.that(Object.values(viewersPer).every((n) => n <= 2), `a node carries more than sub_max = 2 viewers: ${JSON.stringify(viewersPer)}`);
    c.that(Object.values(viewersPer).reduce((a, b) => a + b, 0) === 5, `5 viewers expected across the nodes: ${JSON.stringify(viewersPer)}`);
    const placed = {};
    for (const j of joins) placed[j.node] = (placed[j.node] || 0) + 1;
    c.that(Object.values(placed).every((n) => n <= 2) && Object.keys(placed).length === 3, `viewers per node (from their sessions): ${JSON.stringify(placed)}`);

    const cascaded = joins.filter((j) => j.cascade);
    const plain = joins.filter((j) => !j.cascade);
    c.that(cascaded.length >= 2, `only ${cascaded.length} joins triggered a cascade: ${JSON.stringify(joins)}`);
    ctx.result.cascadeSetupMs = cascaded.map((j) => j.firstFrameMs);
    ctx.result.plainJoinMs = plain.map((j) => j.firstFrameMs);
    console.error(
      `cascade set-up (WHEP POST on a full node -> first decoded frame): ${ctx.result.cascadeSetupMs.join(', ')} ms; ` +
        `joins without cascade: ${ctx.result.plainJoinMs.join(', ')} ms`,
    );

    // Hang up through the manager.
    for (const v of viewers) {
      const st = await wc.close(v.page, v.id);
      c.that(st === 200 || st === 204, `${v.name}: DELETE via the manager -> ${st}`);
    }
    const st = await wc.close(pub.page, pub.id);
    c.that(st === 200 || st === 204, `publisher: DELETE via the manager -> ${st}`);
    ctx.sessions = [];
  },

  async redirect(ctx) {
    const c = ctx.check;
    const nodes = await ctx.runningNodes(ctx.opts.nodes);
    const nodeUrls = nodes.map((n) => n.url.replace(/\/$/, ''));
    ctx.result.nodes = nodeUrls;
    const onNode = (u) => nodeUrls.find((n) => u && u.startsWith(`${n}/`));

    // WHIP: the manager answers 307, fetch() re-POSTs the offer to the node.
    const pub = await ctx.publisher('publisher');
    const pi = await wc.info(pub.page, pub.id);
    ctx.result.publisherPost = { status: pi.status, redirected: pi.redirected, responseUrl: pi.responseUrl, sessionUrl: pi.sessionUrl };
    c.that(pi.redirected, `publisher: the WHIP POST was not redirected (response URL ${pi.responseUrl})`);
    c.that(onNode(pi.responseUrl) && pi.responseUrl.includes(`/whip/${ctx.stream}`), `publisher: final URL ${pi.responseUrl} is not a node's /whip/${ctx.stream}`);
    c.that(pi.status === 201, `publisher: POST after redirect -> ${pi.status}`);
    c.that(onNode(pi.sessionUrl), `publisher: session URL ${pi.sessionUrl} is not on a node`);
    ctx.result.publisher = await publisherReady(ctx, pub, { connectMs: 20000 });

    // WHEP, offer sent before ICE gathering: the candidates are trickled with
    // PATCH to the node's Location (not through the manager).
    const v = await ctx.player('viewer', { waitIce: false });
    const vi = await wc.info(v.page, v.id);
    ctx.result.viewerPost = { status: vi.status, redirected: vi.redirected, responseUrl: vi.responseUrl, sessionUrl: vi.sessionUrl };
    c.that(vi.redirected, `viewer: the WHEP POST was not redirected (response URL ${vi.responseUrl})`);
    c.that(onNode(vi.responseUrl) && vi.responseUrl.includes(`/whep/${ctx.stream}`), `viewer: final URL ${vi.responseUrl} is not a node's /whep/${ctx.stream}`);
    c.that(onNode(vi.sessionUrl), `viewer: session URL ${vi.sessionUrl} is not on a node`);
    c.that(onNode(vi.sessionUrl) === onNode(pi.sessionUrl), `viewer placed on ${onNode(vi.sessionUrl)}, the stream is on ${onNode(pi.sessionUrl)}`);
    const tr = await trickleResult(v);
    ctx.result.viewerTrickle = tr;
    c.that(tr === 'trickle:204' || tr === 'trickle:200', `viewer: PATCH (trickle) to ${vi.sessionUrl} -> ${tr}`);
    ctx.result.viewer = await assertPlaying(ctx, v);

    // The node's own view: both sessions are there (the manager never saw them).
    const nodeBase = onNode(vi.sessionUrl);
    const nodeView = (await ctx.api('/api/streams/', { base: nodeBase })).find((s) => s.id === ctx.stream);
    const ids = [...(nodeView?.publish?.sessions || []), ...(nodeView?.subscribe?.sessions || [])].map((s) => s.id);
    c.that(ids.includes(sessionIdOf(vi.sessionUrl)) && ids.includes(sessionIdOf(pi.sessionUrl)), `node ${nodeBase} does not list both sessions: ${JSON.stringify(ids)}`);

    // DELETE goes to the node's Location too.
    const dv = await wc.close(v.page, v.id);
    c.that(dv === 200 || dv === 204, `viewer: DELETE ${vi.sessionUrl} -> ${dv}`);
    const end = Date.now() + 5000;
    for (;;) {
      const st = (await ctx.api('/api/streams/', { base: nodeBase })).find((s) => s.id === ctx.stream);
      const subs = (st?.subscribe?.sessions || []).map((s) => s.id);
      if (!subs.includes(sessionIdOf(vi.sessionUrl))) break;
      if (Date.now() > end) {
        c.that(false, `viewer session still on ${nodeBase} 5 s after DELETE: ${JSON.stringify(subs)}`);
        break;
      }
      await sleep(100);
    }
    const dp = await wc.close(pub.page, pub.id);
    c.that(dp === 200 || dp === 204, `publisher: DELETE ${pi.sessionUrl} -> ${dp}`);
    ctx.sessions = [];
  },

  async coturn(ctx) {
    const c = ctx.check;
    const turnUrl = ctx.opts.turnUrl;
    if (!turnUrl) throw new Error('--turn-url is required for the coturn scenario');
    await ctx.runningNodes(ctx.opts.nodes);
    const relayOpts = { iceTransportPolicy: 'relay', iceServersFromLinks: true };

    const checkLinks = (who, info) => {
      const turn = info.links.filter((l) => l.startsWith(`<${turnUrl}>`));
      c.that(turn.length === 1, `${who}: expected one Link for <${turnUrl}>, got ${JSON.stringify(info.links)}`);
      const l = turn[0] || '';
      c.that(/;\s*rel="ice-server"/.test(l), `${who}: ${l} lacks rel="ice-server"`);
      const user = /;\s*username="(\d+)"/.exec(l)?.[1];
      const now = Math.floor(Date.now() / 1000);
      c.that(user && Number(user) > now + 60 && Number(user) <= now + 3700, `${who}: username ${user} is not an expiry (unix s) in the future: ${l}`);
      c.that(/;\s*credential="[A-Za-z0-9+/]+=*"/.test(l), `${who}: no base64 credential in ${l}`);
      const srv = (info.linkIceServers || []).find((s) => s.urls === turnUrl);
      c.that(srv && srv.username === user && srv.credential, `${who}: parsed iceServers ${JSON.stringify(info.linkIceServers)}`);
      c.that(info.iceTransportPolicy === 'relay', `${who}: iceTransportPolicy is ${info.iceTransportPolicy}`);
      c.that((info.iceServers || []).some((s) => [].concat(s.urls).includes(turnUrl)), `${who}: the PeerConnection was not configured with ${turnUrl}: ${JSON.stringify(info.iceServers)}`);
      return { link: l, server: srv };
    };
    const checkRelayPair = (who, pair) => {
      c.that(pair && pair.local?.candidateType === 'relay', `${who}: selected local candidate is not a relay: ${JSON.stringify(pair)}`);
      c.that(pair && pair.remote?.address === '127.0.0.1', `${who}: selected remote candidate is not the node's 127.0.0.1: ${JSON.stringify(pair)}`);
    };

    const pub = await ctx.publisher('publisher', relayOpts);
    const pi = await wc.info(pub.page, pub.id);
    ctx.result.publisherLinks = pi.links;
    const { server } = checkLinks('publisher', pi);
    c.throwIfFailed();
    ctx.result.publisher = await publisherReady(ctx, pub, { connectMs: 20000 });
    checkRelayPair('publisher', ctx.result.publisher.pair);

    const v = await ctx.player('viewer', relayOpts);
    const vi = await wc.info(v.page, v.id);
    ctx.result.viewerLinks = vi.links;
    checkLinks('viewer', vi);
    ctx.result.viewer = await assertPlaying(ctx, v);
    checkRelayPair('viewer', ctx.result.viewer.pair);
    for (const s of [pub, v]) {
      const tr = await trickleResult(s);
      (ctx.result.trickle ||= {})[s.name] = tr;
      c.that(tr === 'trickle:204' || tr === 'trickle:200', `${s.name}: PATCH (trickle of the relay candidate) via the manager -> ${tr}`);
    }

    // Control: coturn really checks the REST credentials.
    const good = await gatherRelay(v.page, [server]);
    const bad = await gatherRelay(v.page, [{ ...server, credential: `x${server.credential}` }]);
    ctx.result.gatherGood = { relay: good.relay.length, errors: good.errors };
    ctx.result.gatherBadCredential = { relay: bad.relay.length, errors: bad.errors };
    c.that(good.relay.length > 0, `the manager's credentials gave no relay candidate: ${JSON.stringify(good)}`);
    c.that(bad.relay.length === 0, `a wrong credential still gave a relay candidate: ${JSON.stringify(bad)}`);
    c.that(bad.errors.some((e) => e.code === 401), `a wrong credential: expected icecandidateerror 401, got ${JSON.stringify(bad.errors)}`);

    const dv = await wc.close(v.page, v.id);
    c.that(dv === 200 || dv === 204, `viewer: DELETE via the manager -> ${dv}`);
    const dp = await wc.close(pub.page, pub.id);
    c.that(dp === 200 || dp === 204, `publisher: DELETE via the manager -> ${dp}`);
    ctx.sessions = [];
  },
};

// ---------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const run = scenarios[opts.scenario];
  if (!run) usage(`unknown scenario ${opts.scenario}`);
  const result = { ok: false, scenario: opts.scenario, codec: opts.codec };
  await runScenario({ opts, result, makeCtx: (b) => new Ctx(opts, b), run });
}

main();
