#!/usr/bin/env node
// Browser end-to-end scenarios against a running wishcast media node.
//
//   node tests/browser/e2e.mjs --base http://127.0.0.1:PORT --scenario NAME [--codec VP8]
//        [--token TOKEN] [--no-wait-ice] [--stream NAME] [--max-median-ms 3000]
//
// Scenarios: fanout, early-subscribe, republish (DELETE + close),
//            republish-pcclose (pc.close() only), republish-abrupt (page closed),
//            tcp, datachannel, join-latency
//
// Prints exactly one JSON line on stdout ({"ok":true|false, ...}); on failure
// the diagnostics (session events, SDPs, getStats, page console) go to stderr.
// Exit code: 0 success, 1 assertion/runtime failure, 2 usage error.

import { wc, sleep, waitStats, median, Check, runScenario, parseCli, cliFail, arg, expectCodec, publisherReady } from './lib.mjs';

const USAGE =
  'usage: node tests/browser/e2e.mjs --base http://127.0.0.1:PORT --scenario ' +
  '{fanout|early-subscribe|republish|republish-pcclose|republish-abrupt|tcp|datachannel|join-latency} ' +
  '[--codec VP8|VP9|H264|AV1] [--token T] [--no-wait-ice] [--stream NAME] [--max-median-ms N] [--timeout-s N] ' +
  '[--expect-tone HZ]';
const usage = cliFail('e2e.mjs', USAGE);

function parseArgs(argv) {
  const o = parseCli(argv, {
    usage: USAGE,
    fail: usage,
    defaults: { codec: 'VP8', waitIce: true, maxMedianMs: 3000, timeoutS: 100 },
    flags: {
      '--base': ['base', arg.url],
      '--scenario': ['scenario'],
      '--codec': ['codec', arg.upper],
      '--token': ['token'],
      '--stream': ['stream'],
      '--no-wait-ice': ['waitIce', false],
      '--max-median-ms': ['maxMedianMs', arg.num],
      '--timeout-s': ['timeoutS', arg.num],
      '--expect-tone': ['expectTone', arg.num],
    },
  });
  if (!o.base) usage('--base is required');
  if (!o.scenario) usage('--scenario is required');
  if (!['VP8', 'VP9', 'H264', 'AV1'].includes(o.codec)) usage(`unsupported codec ${o.codec}`);
  return o;
}

const MIN_GROWTH = 10; // decoded frames over the observation window (fake camera: ~20-30 fps)
const OBSERVE_MS = 3000;


/** Everything a failure report needs about the sessions of one scenario. */
class Ctx {
  constructor(opts, browser) {
    this.opts = opts;
    this.b = browser;
    this.stream = opts.stream || `e2e-${opts.scenario}-${opts.codec.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}`;
    this.whip = `${opts.base}/whip/${encodeURIComponent(this.stream)}`;
    this.whep = `${opts.base}/whep/${encodeURIComponent(this.stream)}`;
    this.sessions = []; // {name, page, id}
    this.result = { stream: this.stream };
    this.check = new Check();
  }
  nopt(extra = {}) {
    return { token: this.opts.token, waitIce: this.opts.waitIce, ...extra };
  }
  async publisher(name, extra = {}) {
    const page = await this.b.page(this.opts.base, name);
    const id = await wc.publish(page, this.whip, this.nopt({ codec: this.opts.codec, audio: true, ...extra }));
    const s = { name, page, id };
    this.sessions.push(s);
    return s;
  }
  async player(name, extra = {}, page = null) {
    page = page || (await this.b.page(this.opts.base, name));
    const id = await wc.play(page, this.whep, this.nopt(extra));
    const s = { name, page, id };
    this.sessions.push(s);
    return s;
  }
  /** With --no-wait-ice every live session must have trickled its candidates (PATCH -> 204/200). */
  async checkTrickle() {
    for (const s of this.sessions) {
      let info;
      const end = Date.now() + 8000;
      for (;;) {
        try {
          info = await wc.info(s.page, s.id);
        } catch {
          info = null; // session already closed by the scenario
        }
        if (!info || info.events.some((e) => /^trickle(-error)?:/.test(e)) || Date.now() > end) break;
        await sleep(100);
      }
      if (!info) continue;
      const ev = info.events.find((e) => /^trickle(-error)?:/.test(e));
      (this.result.trickle ||= {})[s.name] = ev || null;
      this.check.that(ev === 'trickle:204' || ev === 'trickle:200', `${s.name}: PATCH application/trickle-ice-sdpfrag -> ${ev || 'not sent within 8 s'} (expected 204)`);
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
    return out;
  }
}

function candidatesOf(sdp) {
  return (sdp || '').split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
}

/** Waits for the first frame, then checks decoding progresses over OBSERVE_MS. */
async function assertPlaying(ctx, p, { audio = true, codec = ctx.opts.codec, firstFrameTimeoutMs = 15000 } = {}) {
  const c = ctx.check;
  await wc.waitConnected(p.page, p.id, 15000);
  const first = await wc.waitFirstFrame(p.page, p.id, firstFrameTimeoutMs, 50);
  const s1 = await wc.stats(p.page, p.id);
  await sleep(OBSERVE_MS);
  const s2 = await wc.stats(p.page, p.id);
  const grown = s2.video.framesDecoded - s1.video.framesDecoded;
  const r = {
    firstFrameMs: Math.round(first.ms),
    framesDecoded: s2.video.framesDecoded,
    growth: grown,
    size: `${s2.video.frameWidth}x${s2.video.frameHeight}`,
    videoWidth: s2.videoWidth,
    codec: s2.video.codec?.mimeType,
    decoder: s2.video.decoderImplementation,
    audioPackets: s2.audio?.packetsReceived ?? 0,
    audioCodec: s2.audio?.codec?.mimeType,
    pair: s2.pair,
  };
  c.that(grown >= MIN_GROWTH, `${p.name}: framesDecoded grew by ${grown} in ${OBSERVE_MS} ms (need >= ${MIN_GROWTH}); stats ${JSON.stringify(s2.video)}`);
  c.that(s2.video.frameWidth > 0, `${p.name}: inbound frameWidth is ${s2.video.frameWidth}`);
  c.that(s2.videoWidth > 0, `${p.name}: <video>.videoWidth is ${s2.videoWidth}`);
  if (codec) expectCodec(c, p.name, s2.video.codec, codec);
  if (audio) {
    const a1 = s1.audio?.packetsReceived ?? 0;
    const a2 = s2.audio?.packetsReceived ?? 0;
    c.that(a2 > 0 && a2 > a1, `${p.name}: audio packetsReceived ${a1} -> ${a2} (must grow)`);
    c.that(/opus/i.test(s2.audio?.codec?.mimeType || ''), `${p.name}: audio codec is ${s2.audio?.codec?.mimeType}, expected audio/opus`);
  }
  return r;
}

async function apiStreams(ctx) {
  const headers = ctx.opts.token ? { Authorization: `Bearer ${ctx.opts.token}` } : {};
  const res = await fetch(`${ctx.opts.base}/api/streams/`, { headers });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /api/streams/ -> HTTP ${res.status}: ${text.slice(0, 300)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`GET /api/streams/ is not JSON: ${text.slice(0, 300)}`);
  }
}

/** The loudest frequency (Hz) of a player's received audio over `ms`, by WebAudio FFT. */
async function toneHz(page, id, ms = 2000) {
  return page.evaluate(
    async ([i, m]) => {
      const s = window.wc.sessions.get(i);
      const ac = new AudioContext();
      await ac.resume();
      const an = ac.createAnalyser();
      an.fftSize = 32768;
      an.smoothingTimeConstant = 0.5;
      ac.createMediaStreamSource(new MediaStream(s.stream.getAudioTracks())).connect(an);
      await new Promise((r) => setTimeout(r, m));
      const bins = new Float32Array(an.frequencyBinCount);
      an.getFloatFrequencyData(bins);
      let best = 1;
      for (let k = 2; k < bins.length; k++) if (bins[k] > bins[best]) best = k;
      await ac.close();
      return { hz: (best * ac.sampleRate) / an.fftSize, db: bins[best] };
    },
    [id, ms],
  );
}

// ---------------------------------------------------------------------------

const scenarios = {
  async fanout(ctx) {
    const pub = await ctx.publisher('publisher');
    ctx.result.publisher = await publisherReady(ctx, pub);
    const players = [];
    for (let i = 1; i <= 3; i++) players.push(await ctx.player(`player${i}`));
    const res = await Promise.all(players.map((p) => assertPlaying(ctx, p)));
    ctx.result.players = res;
    // The stream listing must show the publisher, the 3 players and the codec.
    try {
      const streams = await apiStreams(ctx);
      const st = Array.isArray(streams) ? streams.find((s) => s.id === ctx.stream) : null;
      ctx.result.api = st
        ? { publish: st.publish?.sessions?.length, subscribe: st.subscribe?.sessions?.length, codecs: st.codecs }
        : null;
      ctx.check.that(st, `GET /api/streams/ does not list stream ${ctx.stream}: ${JSON.stringify(streams).slice(0, 300)}`);
      if (st) {
        ctx.check.that(st.publish?.sessions?.length === 1, `GET /api/streams/: ${st.publish?.sessions?.length} publish sessions, expected 1`);
        ctx.check.that(st.subscribe?.sessions?.length === 3, `GET /api/streams/: ${st.subscribe?.sessions?.length} subscribe sessions, expected 3`);
        const codecs = (st.codecs || []).map((c) => String(c.codec || '').toLowerCase());
        ctx.check.that(codecs.some((c) => c.includes(ctx.opts.codec.toLowerCase())), `GET /api/streams/: codecs ${JSON.stringify(st.codecs)} lack ${ctx.opts.codec}`);
      }
    } catch (e) {
      ctx.check.that(false, String(e.message || e));
    }
  },

  /** Plays a stream someone else publishes (`--stream`), optionally checking its tone. */
  async play(ctx) {
    if (!ctx.opts.stream) throw new Error('the play scenario needs --stream NAME (a stream published by another client)');
    const player = await ctx.player('player');
    ctx.result.player = await assertPlaying(ctx, player);
    if (ctx.opts.expectTone) {
      const want = ctx.opts.expectTone;
      const t = await toneHz(player.page, player.id);
      ctx.result.player.tone = t;
      ctx.check.that(Math.abs(t.hz - want) <= want * 0.03 && t.db > -80, `player: loudest tone ${t.hz.toFixed(1)} Hz at ${t.db.toFixed(1)} dB, expected ${want} Hz`);
    }
  },

  async 'early-subscribe'(ctx) {
    const player = await ctx.player('player');
    await sleep(1000);
    ctx.result.playerStateBeforePublish = (await wc.stats(player.page, player.id)).connectionState;
    const pub = await ctx.publisher('publisher');
    ctx.result.publisher = await publisherReady(ctx, pub);
    ctx.result.player = await assertPlaying(ctx, player);
  },

  /**
   * leave: 'delete' = DELETE the session then close the PeerConnection;
   *        'pcclose' = only pc.close() (no DELETE; the page stays);
   *        'abrupt' = the page is closed (no DELETE, no orderly shutdown).
   */
  async republish(ctx, { leave = 'delete' } = {}) {
    const abrupt = leave !== 'delete';
    const pub1 = await ctx.publisher('publisher1');
    ctx.result.publisher1 = await publisherReady(ctx, pub1);
    const player = await ctx.player('player');
    ctx.result.before = await assertPlaying(ctx, player);
    ctx.check.throwIfFailed();

    // The first publisher goes away.
    if (leave === 'abrupt') {
      // No DELETE: the page (and its PeerConnection) just disappears.
      await pub1.page.close();
      ctx.sessions = ctx.sessions.filter((s) => s !== pub1);
    } else if (leave === 'pcclose') {
      // No DELETE: the PeerConnection is closed (DTLS close_notify etc.).
      await wc.close(pub1.page, pub1.id, { del: false });
      ctx.sessions = ctx.sessions.filter((s) => s !== pub1);
    } else {
      ctx.result.deleteStatus = await wc.close(pub1.page, pub1.id, { del: true });
      ctx.check.that(ctx.result.deleteStatus === 200 || ctx.result.deleteStatus === 204, `DELETE of publisher1's session -> HTTP ${ctx.result.deleteStatus}`);
    }
    const atSwitch = await wc.stats(player.page, player.id);
    const tSwitch = Date.now();

    // A new publisher page publishes to the same stream. After a DELETE the
    // slot must be free at once (3 s grace for asynchronous clean-up); after
    // an abrupt leave the server has to notice the dead peer first.
    const pub2 = await ctx.publisher('publisher2', { retryConflictMs: abrupt ? 30000 : 3000 });
    const info2 = await wc.info(pub2.page, pub2.id);
    const retries = info2.events.filter((e) => e.startsWith('post-retry'));
    ctx.result.publish2Retries = retries.length;
    if (retries.length) ctx.result.publish2FirstRetry = retries[0];
    ctx.result.publish2AfterMs = Date.now() - tSwitch;
    ctx.result.publisher2 = await publisherReady(ctx, pub2);

    // The SAME player PeerConnection must keep decoding.
    const resumed = await waitStats(
      player.page,
      player.id,
      (s) => s.video && s.video.framesDecoded >= atSwitch.video.framesDecoded + MIN_GROWTH,
      { timeoutMs: 15000, what: `player to decode frames from publisher2 (framesDecoded at switch ${atSwitch.video.framesDecoded})` },
    );
    ctx.result.resumeMs = Date.now() - tSwitch;
    ctx.check.that(resumed.connectionState === 'connected', `player connectionState after switch: ${resumed.connectionState}`);
    ctx.result.after = await assertPlaying(ctx, player);
    ctx.result.framesAtSwitch = atSwitch.video.framesDecoded;
  },

  async 'republish-abrupt'(ctx) {
    return scenarios.republish(ctx, { leave: 'abrupt' });
  },

  async 'republish-pcclose'(ctx) {
    return scenarios.republish(ctx, { leave: 'pcclose' });
  },

  async tcp(ctx) {
    const pub = await ctx.publisher('publisher');
    const pinfo = await wc.info(pub.page, pub.id);
    ctx.result.publisherAnswerCandidates = candidatesOf(pinfo.answer);
    ctx.check.that(
      candidatesOf(pinfo.answer).length > 0 && candidatesOf(pinfo.answer).every((l) => / tcp /i.test(l)),
      `WHIP answer must carry only TCP candidates when advertise_udp=false: ${JSON.stringify(candidatesOf(pinfo.answer))}`,
    );
    ctx.result.publisher = await publisherReady(ctx, pub);
    const player = await ctx.player('player');
    const linfo = await wc.info(player.page, player.id);
    ctx.result.playerAnswerCandidates = candidatesOf(linfo.answer);
    ctx.result.player = await assertPlaying(ctx, player);
    for (const [name, pair] of [
      ['publisher', ctx.result.publisher.pair],
      ['player', ctx.result.player.pair],
    ]) {
      ctx.check.that(
        pair && pair.local?.protocol === 'tcp' && pair.remote?.protocol === 'tcp',
        `${name}: selected candidate pair is not TCP/TCP: ${JSON.stringify(pair)}`,
      );
    }
  },

  async datachannel(ctx) {
    const pub = await ctx.publisher('publisher', { datachannel: true });
    ctx.result.publisher = await publisherReady(ctx, pub);
    const player = await ctx.player('player', { datachannel: true });
    await wc.waitConnected(player.page, player.id, 15000);
    const open = async (s) => {
      const end = Date.now() + 10000;
      for (;;) {
        const chs = await wc.channels(s.page, s.id);
        if (chs.some((c) => c.readyState === 'open')) return chs;
        if (Date.now() > end) throw new Error(`${s.name}: no data channel opened within 10 s: ${JSON.stringify(chs)}`);
        await sleep(50);
      }
    };
    ctx.result.publisherChannels = await open(pub);
    ctx.result.playerChannels = await open(player);

    const text = `hello from publisher ${ctx.stream} ✓`;
    const bin = [0, 1, 2, 127, 128, 254, 255, 42];
    const hasText = (ms, t) => ms.some((m) => m.type === 'string' && m.data === t);
    const hasBin = (ms, b) => ms.some((m) => m.type === 'arraybuffer' && JSON.stringify(m.data) === JSON.stringify(b));
    // Every message must arrive exactly as sent: text stays a string, binary stays an ArrayBuffer.
    const wrongType = (ms, t, b) =>
      ms.filter((m) => !((m.type === 'string' && m.data === t) || (m.type === 'arraybuffer' && JSON.stringify(m.data) === JSON.stringify(b))));

    // Publisher -> player. Keep sending until it arrives: the server may
    // still be wiring the subscriber's channel right after it opened.
    let sent = 0;
    let end = Date.now() + 10000;
    let pm;
    for (;;) {
      await wc.send(pub.page, pub.id, { type: 'string', data: text });
      await wc.send(pub.page, pub.id, { type: 'binary', data: bin });
      sent++;
      await sleep(250);
      pm = await wc.messages(player.page, player.id);
      if (hasText(pm, text) && hasBin(pm, bin)) break;
      if (Date.now() > end) break;
    }
    ctx.result.publisherToPlayer = { sent, received: pm.length, sample: pm.slice(0, 4) };
    ctx.check.that(hasText(pm, text), `player did not receive the publisher's text message as a string (got ${JSON.stringify(pm.slice(0, 6))})`);
    ctx.check.that(hasBin(pm, bin), `player did not receive the publisher's binary message as an ArrayBuffer with the same bytes (got ${JSON.stringify(pm.slice(0, 6))})`);
    ctx.check.that(wrongType(pm, text, bin).length === 0, `player received messages with a changed type: ${JSON.stringify(wrongType(pm, text, bin).slice(0, 4))}`);

    // Player -> publisher.
    const back = `hello from player ${ctx.stream}`;
    const backBin = [9, 8, 7, 0, 255];
    sent = 0;
    end = Date.now() + 10000;
    let qm;
    for (;;) {
      await wc.send(player.page, player.id, { type: 'string', data: back });
      await wc.send(player.page, player.id, { type: 'binary', data: backBin });
      sent++;
      await sleep(250);
      qm = await wc.messages(pub.page, pub.id);
      if (hasText(qm, back) && hasBin(qm, backBin)) break;
      if (Date.now() > end) break;
    }
    ctx.result.playerToPublisher = { sent, received: qm.length, sample: qm.slice(0, 4) };
    ctx.check.that(hasText(qm, back), `publisher did not receive the player's text message as a string (got ${JSON.stringify(qm.slice(0, 6))})`);
    ctx.check.that(hasBin(qm, backBin), `publisher did not receive the player's binary message as an ArrayBuffer (got ${JSON.stringify(qm.slice(0, 6))})`);
    // The publisher must not get its own messages echoed back.
    ctx.check.that(!hasText(qm, text), 'publisher received its own text message back');
    // Media still flows alongside the data channel.
    ctx.result.player = await assertPlaying(ctx, player);
  },

  async 'join-latency'(ctx) {
    const pub = await ctx.publisher('publisher');
    ctx.result.publisher = await publisherReady(ctx, pub);
    await sleep(1000);
    const page = await ctx.b.page(ctx.opts.base, 'player');
    const values = [];
    const rvfc = [];
    const answers = [];
    for (let i = 0; i < 10; i++) {
      const p = await ctx.player(`join${i + 1}`, {}, page);
      let first;
      try {
        first = await wc.waitFirstFrame(page, p.id, 10000, 10);
      } catch (e) {
        throw new Error(`join ${i + 1}: ${e.message}`);
      }
      values.push(Math.round(first.ms));
      answers.push(Math.round(first.answerMs));
      if (first.rvfcMs != null) rvfc.push(Math.round(first.rvfcMs));
      expectCodec(ctx.check, `join${i + 1}`, first.stats.video.codec, ctx.opts.codec);
      const st = await wc.close(page, p.id, { del: true });
      ctx.check.that(st === 200 || st === 204, `join ${i + 1}: DELETE -> HTTP ${st}`);
      ctx.sessions = ctx.sessions.filter((s) => s !== p);
      await sleep(200);
    }
    ctx.result.values = values;
    ctx.result.medianMs = median(values);
    ctx.result.answerMs = answers;
    ctx.result.medianAnswerMs = median(answers);
    console.error(`join latency (WHEP POST -> first decoded frame), ms: median ${ctx.result.medianMs}; all ${values.join(' ')}`);
    ctx.check.that(
      ctx.result.medianMs <= ctx.opts.maxMedianMs,
      `median join latency ${ctx.result.medianMs} ms exceeds ${ctx.opts.maxMedianMs} ms (values ${values.join(',')})`,
    );
  },
};

// ---------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const run = scenarios[opts.scenario];
  if (!run) usage(`unknown scenario ${opts.scenario}`);
  const result = { ok: false, scenario: opts.scenario, codec: opts.codec };
  await runScenario({
    opts,
    result,
    makeCtx: (b) => new Ctx(opts, b),
    run,
    after: async (ctx) => {
      if (!opts.waitIce) await ctx.checkTrickle();
    },
  });
}

main();
