#!/usr/bin/env node
// Browser end-to-end scenarios for simulcast, per-subscriber layer control,
// mute and fast start, against a running wishcast media node started with
// `[webrtc] test_hooks = true` (for POST /session/{stream}/{id}/bwe_cap).
//
//   node tests/browser/simulcast.mjs --base http://127.0.0.1:PORT --scenario NAME
//        [--token TOKEN] [--stream NAME] [--fps N] [--max-median-ms N] [--timeout-s N]
//
// Scenarios:
//   bwe         simulcast publisher (q/h/f rids, 1280x720 VP8); one player reaches
//               the top layer, drops (frameWidth <= 640) when its bandwidth
//               estimate is capped to 200 kbps, returns to the top when lifted
//   manual      GET/POST/DELETE /session/{stream}/{id}/layer
//   mute        POST /session/{stream}/{id} {"kind","enabled"} (non-simulcast)
//   fast-start  10 sequential joins to a running VP8 publisher: ms from WHEP POST
//               to the first decoded frame (median/p95), twice: right after the
//               publisher started and once it has run >= 5 s
//
// Prints exactly one JSON line on stdout ({"ok":true|false, ...}); on failure
// the diagnostics (session info, getStats, layer list, page console) go to stderr.
// Exit code: 0 success, 1 assertion/runtime failure, 2 usage error.

import { wc, sleep, waitStats, median, Check, runScenario, parseCli, cliFail, arg } from './lib.mjs';

const SCENARIOS = ['bwe', 'manual', 'mute', 'fast-start'];
const USAGE =
  `usage: node tests/browser/simulcast.mjs --base http://127.0.0.1:PORT --scenario {${SCENARIOS.join('|')}} ` +
  '[--token T] [--stream NAME] [--fps N] [--max-median-ms N] [--timeout-s N]';
const usage = cliFail('simulcast.mjs', USAGE);

function parseArgs(argv) {
  const o = parseCli(argv, {
    usage: USAGE,
    fail: usage,
    defaults: { fps: 30, maxMedianMs: 2000, timeoutS: 150 },
    flags: {
      '--base': ['base', arg.url],
      '--scenario': ['scenario'],
      '--token': ['token'],
      '--stream': ['stream'],
      '--fps': ['fps', arg.num],
      '--max-median-ms': ['maxMedianMs', arg.num],
      '--timeout-s': ['timeoutS', arg.num],
    },
  });
  if (!o.base) usage('--base is required');
  if (!o.scenario) usage('--scenario is required');
  if (!SCENARIOS.includes(o.scenario)) usage(`unknown scenario ${o.scenario}`);
  if (!(o.fps > 0) || !(o.maxMedianMs > 0) || !(o.timeoutS > 0)) usage('--fps, --max-median-ms and --timeout-s must be positive numbers');
  return o;
}

const LAYER_REL = 'urn:ietf:params:whep:ext:core:layer';
const TOP_WIDTH = 1000; // the 1280x720 'f' layer
const LOW_WIDTH = 640; // 'h' (640x360) or 'q' (320x180)
const Q_WIDTH = 400; // 'q' (320x180)
const MIN_GROWTH = 10; // decoded frames over an observation window


class Ctx {
  constructor(opts, browser) {
    this.opts = opts;
    this.b = browser;
    this.stream = opts.stream || `sim-${opts.scenario}-${Math.random().toString(36).slice(2, 8)}`;
    this.whip = `${opts.base}/whip/${encodeURIComponent(this.stream)}`;
    this.whep = `${opts.base}/whep/${encodeURIComponent(this.stream)}`;
    this.sessions = []; // {name, page, id, role}
    this.result = { stream: this.stream };
    this.check = new Check();
    this.t0 = Date.now();
    this.timeline = []; // [ms since start, what]
  }
  mark(what) {
    this.timeline.push([Date.now() - this.t0, what]);
  }
  async publisher(name, extra = {}) {
    const page = await this.b.page(this.opts.base, name);
    const id = await wc.publish(page, this.whip, { token: this.opts.token, codec: 'VP8', audio: true, fps: this.opts.fps, ...extra });
    const s = { name, page, id, role: 'publish' };
    this.sessions.push(s);
    return s;
  }
  async player(name, extra = {}, page = null) {
    page = page || (await this.b.page(this.opts.base, name));
    const id = await wc.play(page, this.whep, { token: this.opts.token, ...extra });
    const s = { name, page, id, role: 'play' };
    this.sessions.push(s);
    return s;
  }
  async diagnostics() {
    const out = [];
    for (const s of this.sessions) {
      try {
        const info = await wc.info(s.page, s.id);
        const stats = await wc.stats(s.page, s.id);
        const d = { name: s.name, info: { ...info, offer: undefined, answerHead: (info.answer || '').slice(0, 3000), answer: undefined }, stats };
        if (s.role === 'play') {
          try {
            d.layer = await wc.control(s.page, s.id, 'GET', '/layer');
          } catch (e) {
            d.layer = String(e.message || e);
          }
        }
        out.push(d);
      } catch (e) {
        out.push({ name: s.name, error: String(e.message || e) });
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------
// Helpers

/** Simulcast publisher: 1280x720 fake camera, rids q/h/f, VP8. */
async function simulcastPublisher(ctx) {
  const pub = await ctx.publisher('publisher', {
    simulcast: true,
    width: 1280,
    height: 720,
    // The 2-core machine is CPU-limited: without this Chromium shrinks the
    // input and the top layer is no longer 1280 wide.
    degradationPreference: 'maintain-resolution',
  });
  await wc.waitConnected(pub.page, pub.id, 15000);
  // Chromium enables the layers as its send-side estimate grows: wait for
  // all three rids to be encoded (the top one at 1280 wide).
  let st;
  try {
    st = await waitStats(
      pub.page,
      pub.id,
      (s) => {
        const ls = s.outVideoLayers || [];
        const by = (r) => ls.find((l) => l.rid === r);
        return ['q', 'h', 'f'].every((r) => by(r) && by(r).framesEncoded > 0 && by(r).bytesSent > 0) && by('f').frameWidth >= TOP_WIDTH;
      },
      { timeoutMs: 25000, intervalMs: 250, what: 'the publisher to encode all three simulcast layers (f at 1280 wide)' },
    );
  } catch (e) {
    throw new Error(`publisher: ${e.message}`);
  }
  ctx.mark('publisher sends q/h/f');
  ctx.result.publisher = {
    readyMs: Date.now() - ctx.t0,
    layers: st.outVideoLayers.map((l) => `${l.rid}:${l.frameWidth}x${l.frameHeight}`),
    encoder: st.outVideo?.encoderImplementation,
    codec: st.outVideo?.codec?.mimeType,
  };
  ctx.check.that(/vp8/i.test(st.outVideo?.codec?.mimeType || ''), `publisher: codec ${st.outVideo?.codec?.mimeType}, expected video/VP8`);
  return pub;
}

async function plainPublisher(ctx) {
  const pub = await ctx.publisher('publisher');
  await wc.waitConnected(pub.page, pub.id, 15000);
  const st = await waitStats(pub.page, pub.id, (s) => s.outVideo && s.outVideo.framesEncoded > 0 && s.outVideo.packetsSent > 0, {
    timeoutMs: 10000,
    what: 'publisher to encode and send video',
  });
  ctx.mark('publisher sends');
  ctx.result.publisher = { encoder: st.outVideo.encoderImplementation, codec: st.outVideo.codec?.mimeType, size: `${st.outVideo.frameWidth}x${st.outVideo.frameHeight}` };
  return pub;
}

/** WHEP player that decodes; checks its Location and (simulcast) the layer Link. */
async function startPlayer(ctx, name, { simulcast }) {
  const p = await ctx.player(name);
  await wc.waitConnected(p.page, p.id, 15000);
  const first = await wc.waitFirstFrame(p.page, p.id, 15000, 50);
  ctx.mark(`${name} first frame ${first.stats.video.frameWidth}x${first.stats.video.frameHeight}`);
  const info = await wc.info(p.page, p.id);
  p.url = await wc.sessionUrl(p.page, p.id);
  const r = { location: info.location, firstFrameMs: Math.round(first.ms), firstWidth: first.stats.video.frameWidth, links: info.links };
  ctx.check.that(/^\/session\/[^/]+\/[^/]+$/.test(info.location || ''), `${name}: Location ${JSON.stringify(info.location)} is not /session/{stream}/{id}`);
  ctx.check.that(
    (info.location || '').startsWith(`/session/${encodeURIComponent(ctx.stream)}/`),
    `${name}: Location ${info.location} is not under /session/${ctx.stream}/`,
  );
  const layerLinks = (info.links || []).filter((l) => l.includes(LAYER_REL));
  if (simulcast) {
    const want = `<${info.location}/layer>; rel="${LAYER_REL}"`;
    ctx.check.that(
      layerLinks.length === 1 && layerLinks[0] === want,
      `${name}: WHEP 201 Link headers ${JSON.stringify(info.links)} lack exactly ${want}`,
    );
  } else {
    r.layerLinks = layerLinks;
  }
  return { p, r };
}

const vid = (s) => s.video || { framesDecoded: 0, frameWidth: 0, frameHeight: 0, packetsReceived: 0 };
const aud = (s) => s.audio || { packetsReceived: 0 };

/**
 * Polls the player's stats until `pred` holds; returns {ms, stats, trace}
 * where trace lists frameWidth changes with times relative to the call.
 */
async function until(ctx, p, pred, { timeoutMs, what, intervalMs = 200 }) {
  const start = Date.now();
  const trace = [];
  let last = null;
  for (;;) {
    const st = await wc.stats(p.page, p.id);
    const w = vid(st).frameWidth;
    if (w !== last) {
      trace.push(`${Date.now() - start}ms:${w}`);
      last = w;
    }
    if (pred(st)) return { ms: Date.now() - start, stats: st, trace };
    if (Date.now() - start > timeoutMs) {
      const layer = await wc.control(p.page, p.id, 'GET', '/layer').catch((e) => ({ error: String(e) }));
      throw new Error(
        `${p.name}: timed out after ${timeoutMs} ms waiting for ${what}; frameWidth trace ${trace.join(' ')}; ` +
          `GET layer -> ${layer.status} ${layer.body}; video ${JSON.stringify(st.video)}`,
      );
    }
    await sleep(intervalMs);
  }
}

/** framesDecoded / audio packets growth over `ms`. */
async function growth(p, ms) {
  const a = await wc.stats(p.page, p.id);
  await sleep(ms);
  const b = await wc.stats(p.page, p.id);
  return {
    frames: vid(b).framesDecoded - vid(a).framesDecoded,
    videoPackets: vid(b).packetsReceived - vid(a).packetsReceived,
    videoBytes: vid(b).bytesReceived - vid(a).bytesReceived,
    audioPackets: aud(b).packetsReceived - aud(a).packetsReceived,
    width: vid(b).frameWidth,
    stats: b,
  };
}

async function control(ctx, p, method, suffix, body, expectStatus = [200]) {
  const res = await wc.control(p.page, p.id, method, suffix, body);
  const what = `${method} ${p.url}${suffix}${body !== undefined ? ' ' + JSON.stringify(body) : ''}`;
  ctx.mark(`${what} -> ${res.status}`);
  ctx.check.that(expectStatus.includes(res.status), `${what} -> HTTP ${res.status} ${res.body.slice(0, 300)} (expected ${expectStatus.join('/')})`);
  return res;
}

function pct(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

// ---------------------------------------------------------------------------

const scenarios = {
  async bwe(ctx) {
    const c = ctx.check;
    await simulcastPublisher(ctx);
    const { p, r } = await startPlayer(ctx, 'player', { simulcast: true });
    ctx.result.player = r;
    c.throwIfFailed();

    const top = await until(ctx, p, (s) => vid(s).frameWidth >= TOP_WIDTH, { timeoutMs: 20000, what: `frameWidth >= ${TOP_WIDTH} (top layer)` });
    ctx.mark(`top layer ${vid(top.stats).frameWidth}`);
    ctx.result.toTopMs = top.ms;
    ctx.result.toTopTrace = top.trace;

    await control(ctx, p, 'POST', '/bwe_cap', { bps: 200000 });
    c.throwIfFailed();
    const down = await until(ctx, p, (s) => vid(s).frameWidth > 0 && vid(s).frameWidth <= LOW_WIDTH, { timeoutMs: 15000, what: `frameWidth <= ${LOW_WIDTH} after capping the estimate to 200 kbps` });
    ctx.mark(`down ${vid(down.stats).frameWidth}`);
    ctx.result.capDownMs = down.ms;
    ctx.result.capDownTrace = down.trace;
    // Still playing (and settled) while capped.
    await sleep(2000);
    const capped = await growth(p, 2000);
    ctx.result.capped = { width: capped.width, frames2s: capped.frames };
    ctx.result.cappedLayer = (await wc.control(p.page, p.id, 'GET', '/layer')).json;
    c.that(capped.frames >= MIN_GROWTH, `player decoded ${capped.frames} frames in 2 s while capped (need >= ${MIN_GROWTH})`);
    c.that(capped.width > 0 && capped.width <= LOW_WIDTH, `player frameWidth ${capped.width} while capped (expected <= ${LOW_WIDTH})`);

    await control(ctx, p, 'POST', '/bwe_cap', { bps: null });
    c.throwIfFailed();
    const back = await until(ctx, p, (s) => vid(s).frameWidth >= TOP_WIDTH, { timeoutMs: 25000, what: `frameWidth >= ${TOP_WIDTH} after lifting the cap` });
    ctx.mark(`back to top ${vid(back.stats).frameWidth}`);
    ctx.result.liftUpMs = back.ms;
    ctx.result.liftUpTrace = back.trace;
    const after = await growth(p, 2000);
    c.that(after.frames >= MIN_GROWTH, `player decoded ${after.frames} frames in 2 s after the cap was lifted`);
    console.error(`bwe: top after ${top.ms} ms; cap -> <=${LOW_WIDTH} in ${down.ms} ms; lift -> top in ${back.ms} ms`);
  },

  async manual(ctx) {
    const c = ctx.check;
    await simulcastPublisher(ctx);
    const { p, r } = await startPlayer(ctx, 'player', { simulcast: true });
    ctx.result.player = r;
    c.throwIfFailed();
    // Start from the top layer (automatic choice, no cap) so forcing q is a real switch.
    const top = await until(ctx, p, (s) => vid(s).frameWidth >= TOP_WIDTH, { timeoutMs: 20000, what: `frameWidth >= ${TOP_WIDTH} (automatic choice)` });
    ctx.result.autoTopMs = top.ms;

    await control(ctx, p, 'POST', '/layer', { encodingId: 'q' });
    c.throwIfFailed();
    const q = await until(ctx, p, (s) => vid(s).frameWidth > 0 && vid(s).frameWidth <= Q_WIDTH, { timeoutMs: 15000, what: `frameWidth <= ${Q_WIDTH} after forcing q` });
    ctx.result.forceQMs = q.ms;
    ctx.result.forceQTrace = q.trace;
    // A forced layer sticks although the automatic choice (once a second) would go up.
    const onQ = await growth(p, 3000);
    ctx.result.onQ = { frames3s: onQ.frames, width: onQ.width };
    c.that(onQ.frames >= MIN_GROWTH && onQ.width > 0 && onQ.width <= Q_WIDTH, `forced q: ${onQ.frames} frames in 3 s, width ${onQ.width} (expected <= ${Q_WIDTH})`);
    const lq = await control(ctx, p, 'GET', '/layer');
    ctx.result.layersOnQ = lq.json;

    await control(ctx, p, 'POST', '/layer', { encodingId: 'h' });
    c.throwIfFailed();
    const h = await until(ctx, p, (s) => vid(s).frameWidth > Q_WIDTH && vid(s).frameWidth < TOP_WIDTH, { timeoutMs: 15000, what: 'frameWidth of the h layer (640) after forcing h' });
    ctx.result.forceHMs = h.ms;
    ctx.result.forceHWidth = vid(h.stats).frameWidth;

    await control(ctx, p, 'POST', '/layer', { encodingId: 'f' });
    c.throwIfFailed();
    const f = await until(ctx, p, (s) => vid(s).frameWidth >= TOP_WIDTH, { timeoutMs: 15000, what: `frameWidth >= ${TOP_WIDTH} after forcing f` });
    ctx.result.forceFMs = f.ms;
    ctx.result.forceFTrace = f.trace;

    const lf = await control(ctx, p, 'GET', '/layer');
    ctx.result.layers = lf.json;
    c.that(/application\/json/i.test(lf.contentType || ''), `GET layer Content-Type ${lf.contentType}, expected application/json`);
    const ls = Array.isArray(lf.json) ? lf.json : [];
    c.that(ls.length === 3, `GET layer lists ${ls.length} layers, expected 3: ${lf.body}`);
    c.that(
      JSON.stringify(ls.map((l) => l.encodingId).sort()) === JSON.stringify(['f', 'h', 'q']),
      `GET layer encodingIds ${JSON.stringify(ls.map((l) => l.encodingId))}, expected f, h, q`,
    );
    c.that(ls.every((l) => typeof l.bitrate === 'number' && typeof l.active === 'boolean'), `GET layer entries lack numeric bitrate / boolean active: ${lf.body}`);
    const active = ls.filter((l) => l.active);
    c.that(active.length === 1 && active[0].encodingId === 'f', `GET layer after forcing f: active ${JSON.stringify(active)}, expected exactly f`);
    const lq2 = Array.isArray(lq.json) ? lq.json.filter((l) => l.active) : [];
    c.that(lq2.length === 1 && lq2[0].encodingId === 'q', `GET layer while forced to q: active ${JSON.stringify(lq2)}, expected exactly q`);

    // An unknown rid is refused.
    const bad = await wc.control(p.page, p.id, 'POST', '/layer', { encodingId: 'nope' });
    ctx.result.unknownRid = `${bad.status} ${bad.body.slice(0, 200)}`;
    c.that(bad.status >= 400 && bad.status < 500, `POST layer {"encodingId":"nope"} -> HTTP ${bad.status} (expected 4xx)`);

    // DELETE: video stops (audio continues).
    await control(ctx, p, 'DELETE', '/layer', undefined);
    await sleep(1000);
    const off = await growth(p, 2000);
    ctx.result.afterDelete = { frames2s: off.frames, videoPackets2s: off.videoPackets, videoBytes2s: off.videoBytes, audioPackets2s: off.audioPackets };
    c.that(off.frames === 0, `after DELETE layer framesDecoded still grew by ${off.frames} in 2 s`);
    c.that(off.audioPackets >= 20, `after DELETE layer audio packetsReceived grew by only ${off.audioPackets} in 2 s (audio must continue)`);
    const ld = await control(ctx, p, 'GET', '/layer');
    ctx.result.layersAfterDelete = ld.json;

    // Back to automatic: video resumes.
    const before = vid(await wc.stats(p.page, p.id)).framesDecoded;
    await control(ctx, p, 'POST', '/layer', { encodingId: null });
    c.throwIfFailed();
    const res = await until(ctx, p, (s) => vid(s).framesDecoded >= before + MIN_GROWTH, { timeoutMs: 15000, what: 'video to resume after POST layer {"encodingId":null}' });
    ctx.result.resumeMs = res.ms;
    ctx.result.resumeWidth = vid(res.stats).frameWidth;
    const la = await control(ctx, p, 'GET', '/layer');
    ctx.result.layersAuto = la.json;
    c.that(Array.isArray(la.json) && la.json.filter((l) => l.active).length === 1, `GET layer after resuming: ${la.body} (expected exactly one active)`);
    console.error(`manual: top (auto) after ${top.ms} ms; forced q in ${q.ms} ms, h in ${h.ms} ms, f in ${f.ms} ms; resume after DELETE in ${res.ms} ms`);
  },

  async mute(ctx) {
    const c = ctx.check;
    await plainPublisher(ctx);
    const { p, r } = await startPlayer(ctx, 'player', { simulcast: false });
    ctx.result.player = r;
    const base = await growth(p, 2000);
    c.that(base.frames >= MIN_GROWTH && base.audioPackets >= 20, `player before mute: ${base.frames} frames, ${base.audioPackets} audio packets in 2 s`);
    c.throwIfFailed();

    // Invalid kind is refused.
    const bad = await wc.control(p.page, p.id, 'POST', '', { kind: 'subtitles', enabled: false });
    ctx.result.badKind = `${bad.status} ${bad.body.slice(0, 200)}`;
    c.that(bad.status === 400, `POST session {"kind":"subtitles"} -> HTTP ${bad.status} (expected 400)`);

    // Mute video: frames stop, audio keeps arriving.
    const mv = await control(ctx, p, 'POST', '', { kind: 'video', enabled: false });
    c.that(mv.body.trim() === '{}' || JSON.stringify(mv.json) === '{}', `POST session mute video: body ${JSON.stringify(mv.body)}, expected {}`);
    await sleep(1000);
    const vm = await growth(p, 2000);
    ctx.result.videoMuted = { frames2s: vm.frames, videoPackets2s: vm.videoPackets, videoBytes2s: vm.videoBytes, audioPackets2s: vm.audioPackets };
    c.that(vm.frames === 0, `video muted: framesDecoded grew by ${vm.frames} in 2 s`);
    c.that(vm.audioPackets >= 20, `video muted: audio packetsReceived grew by only ${vm.audioPackets} in 2 s (audio must continue)`);

    // Unmute video: frames resume (at a keyframe).
    const before = vid(vm.stats).framesDecoded;
    await control(ctx, p, 'POST', '', { kind: 'video', enabled: true });
    const res = await until(ctx, p, (s) => vid(s).framesDecoded >= before + MIN_GROWTH, { timeoutMs: 10000, what: 'video to resume after unmute' });
    ctx.result.videoUnmuteResumeMs = res.ms;
    const resumed = await growth(p, 1500);
    c.that(resumed.frames >= 5, `video unmuted: ${resumed.frames} frames in 1.5 s`);

    // Mute audio: audio packets stop, video continues.
    await control(ctx, p, 'POST', '', { kind: 'audio', enabled: false });
    await sleep(1000);
    const am = await growth(p, 2000);
    ctx.result.audioMuted = { frames2s: am.frames, audioPackets2s: am.audioPackets };
    c.that(am.audioPackets === 0, `audio muted: audio packetsReceived grew by ${am.audioPackets} in 2 s`);
    c.that(am.frames >= MIN_GROWTH, `audio muted: framesDecoded grew by only ${am.frames} in 2 s (video must continue)`);

    // Unmute audio: audio packets resume.
    const a0 = aud(am.stats).packetsReceived;
    await control(ctx, p, 'POST', '', { kind: 'audio', enabled: true });
    const ares = await until(ctx, p, (s) => aud(s).packetsReceived >= a0 + 20, { timeoutMs: 10000, what: 'audio to resume after unmute' });
    ctx.result.audioUnmuteResumeMs = ares.ms;
    console.error(`mute: video resumed ${res.ms} ms after unmute; audio resumed ${ares.ms} ms after unmute`);
  },

  async 'fast-start'(ctx) {
    const c = ctx.check;
    const pub = await plainPublisher(ctx);
    const pubStartedAt = Date.now();
    const page = await ctx.b.page(ctx.opts.base, 'players');

    const round = async (label) => {
      const p0 = await wc.stats(pub.page, pub.id);
      const values = [];
      const answers = [];
      const plis = [];
      for (let i = 0; i < 10; i++) {
        const p = await ctx.player(`${label}${i + 1}`, {}, page);
        let first;
        try {
          first = await wc.waitFirstFrame(page, p.id, 10000, 10);
        } catch (e) {
          throw new Error(`${label} join ${i + 1}: ${e.message}`);
        }
        values.push(Math.round(first.ms));
        answers.push(Math.round(first.answerMs));
        plis.push(first.stats.video.pliCount + first.stats.video.firCount);
        const codec = first.stats.video.codec?.mimeType;
        c.that(/vp8/i.test(codec || ''), `${label} join ${i + 1}: codec ${codec}`);
        const st = await wc.close(page, p.id, { del: true });
        c.that(st === 200 || st === 204, `${label} join ${i + 1}: DELETE -> HTTP ${st}`);
        ctx.sessions = ctx.sessions.filter((s) => s !== p);
        await sleep(200);
      }
      const p1 = await wc.stats(pub.page, pub.id);
      const r = {
        publisherAgeS: Math.round((Date.now() - pubStartedAt) / 100) / 10,
        valuesMs: values,
        medianMs: median(values),
        p95Ms: pct(values, 0.95),
        maxMs: Math.max(...values),
        medianAnswerMs: median(answers),
        playerPlisAtFirstFrame: plis,
        publisherKeyframesDuring: p1.outVideo.keyFramesEncoded - p0.outVideo.keyFramesEncoded,
        publisherPlisDuring: p1.outVideo.pliCount - p0.outVideo.pliCount,
      };
      console.error(`fast-start ${label} (publisher ${r.publisherAgeS} s old): WHEP POST -> first decoded frame median ${r.medianMs} ms, p95 ${r.p95Ms} ms; all ${values.join(' ')}`);
      c.that(r.medianMs <= ctx.opts.maxMedianMs, `${label}: median join-to-first-frame ${r.medianMs} ms exceeds ${ctx.opts.maxMedianMs} ms (values ${values.join(',')})`);
      return r;
    };

    ctx.result.fresh = await round('fresh');
    const wait = 5500 - (Date.now() - pubStartedAt);
    // The publisher's last keyframe must be old: wait until it ran >= 5 s
    // and 5 s since the last round (which may have caused keyframes).
    await sleep(Math.max(wait, 5000));
    ctx.result.aged = await round('aged');
  },
};

// ---------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const run = scenarios[opts.scenario];
  const result = { ok: false, scenario: opts.scenario };
  await runScenario({ opts, result, makeCtx: (b) => new Ctx(opts, b), run, extra: (ctx) => ({ timeline: ctx.timeline }) });
}

main();
