#!/usr/bin/env node
// Recording end-to-end against a running wishcast manager + node with `[recorder]`:
// a Chromium page publishes its fake camera (+ microphone) through the manager's
// /whip, the script starts recording through the manager (POST /api/record/{stream}),
// keeps publishing for --seconds, stops (DELETE), waits until the day shows up in
// GET /api/playback/{stream} and the manifest is final (type="static"), then a second
// page plays the manifest through the manager's playback proxy
// (/api/record/object/{mpd_path}) with dash.js and checks that currentTime passes 5 s.
//
//   node tests/browser/recording.mjs --base http://127.0.0.1:MANAGER [--codec VP8|H264]
//        [--seconds 20] [--token T] [--stream NAME] [--timeout-s 110]
//
// Prints one JSON line: {"ok":..., "stream", "mpd_path", "recordStartMs", "recordStopMs",
// "playbackCurrentTime", ...}. Exit 0 success, 1 failure, 2 usage.

import { wc, sleep, Check, runScenario, parseCli, cliFail, arg, publisherReady } from './lib.mjs';

const USAGE = 'usage: node tests/browser/recording.mjs --base URL [--codec VP8|H264] [--seconds N] [--token T] [--stream S] [--timeout-s N]';
const usage = cliFail('recording.mjs', USAGE);

function parseArgs(argv) {
  const o = parseCli(argv, {
    usage: USAGE,
    fail: usage,
    defaults: { codec: 'VP8', seconds: 20, timeoutS: 110 },
    flags: {
      '--base': ['base', arg.url],
      '--codec': ['codec', arg.upper],
      '--seconds': ['seconds', arg.num],
      '--token': ['token'],
      '--stream': ['stream'],
      '--timeout-s': ['timeoutS', arg.num],
    },
  });
  if (!o.base) usage('--base is required');
  if (!['VP8', 'VP9', 'H264', 'AV1'].includes(o.codec)) usage(`unsupported codec ${o.codec}`);
  return o;
}

class Ctx {
  constructor(opts, b) {
    this.opts = opts;
    this.b = b;
    this.stream = opts.stream || `rec-${opts.codec.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}`;
    this.result = { stream: this.stream, codec: opts.codec };
    this.check = new Check();
    this.sessions = [];
  }
  headers(extra = {}) {
    return this.opts.token ? { Authorization: `Bearer ${this.opts.token}`, ...extra } : extra;
  }
  async call(method, path, body) {
    const res = await fetch(`${this.opts.base}${path}`, {
      method,
      headers: this.headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch {}
    return { status: res.status, text, json };
  }
  async diagnostics() {
    const out = [];
    for (const s of this.sessions) {
      try { out.push({ name: s.name, stats: await wc.stats(s.page, s.id) }); } catch (e) { out.push({ name: s.name, error: String(e) }); }
    }
    try { out.push({ playback: (await this.call('GET', `/api/playback/${encodeURIComponent(this.stream)}`)).text }); } catch {}
    return out;
  }
}

const opts = parseArgs(process.argv.slice(2));
await runScenario({
  opts,
  result: { scenario: 'recording' },
  makeCtx: (b) => new Ctx(opts, b),
  async run(ctx) {
    const q = opts.token ? `?token=${encodeURIComponent(opts.token)}` : '';
    const pubPage = await ctx.b.page(opts.base, 'publisher');
    const pubId = await wc.publish(pubPage, `${opts.base}/whip/${encodeURIComponent(ctx.stream)}${q}`, {
      token: opts.token, codec: opts.codec, audio: true,
    });
    const pub = { name: 'publisher', page: pubPage, id: pubId };
    ctx.sessions.push(pub);
    ctx.result.publisher = await publisherReady(ctx, pub);

    // Starting must answer at once (never waits for media).
    const t0 = Date.now();
    const start = await ctx.call('POST', `/api/record/${encodeURIComponent(ctx.stream)}`, {});
    ctx.result.recordStartMs = Date.now() - t0;
    if (start.status !== 200) throw new Error(`POST /api/record -> ${start.status}: ${start.text}`);
    ctx.result.mpd_path = start.json.mpd_path;
    ctx.result.node = start.json.node;
    const state = await ctx.call('GET', `/api/record/${encodeURIComponent(ctx.stream)}`);
    ctx.check.that(state.json && state.json.recording === true, `GET /api/record says ${state.text}`);

    await sleep(opts.seconds * 1000);
    const t1 = Date.now();
    const stop = await ctx.call('DELETE', `/api/record/${encodeURIComponent(ctx.stream)}`);
    ctx.result.recordStopMs = Date.now() - t1;
    ctx.result.recordedWallMs = Date.now() - t0;
    if (stop.status !== 200) throw new Error(`DELETE /api/record -> ${stop.status}: ${stop.text}`);

    // The index (reported by the node) and the final manifest (moved by the mover).
    const end = Date.now() + 30000;
    let days = [];
    let mpd = '';
    for (;;) {
      const r = await ctx.call('GET', `/api/playback/${encodeURIComponent(ctx.stream)}`);
      if (r.status === 200 && Array.isArray(r.json)) days = r.json;
      if (days.length) {
        const m = await fetch(`${opts.base}/api/record/object/${days[0].mpd_path}${q}`, { headers: ctx.headers() });
        mpd = m.status === 200 ? await m.text() : '';
        if (mpd.includes('type="static"')) break;
      }
      if (Date.now() > end) throw new Error(`recording not final after 30 s: days=${JSON.stringify(days)} mpd=${mpd.slice(0, 300)}`);
      await sleep(250);
    }
    ctx.result.days = days;
    ctx.check.that(days[0].mpd_path === ctx.result.mpd_path, `index mpd_path ${days[0].mpd_path} != started ${ctx.result.mpd_path}`);
    const list = await ctx.call('GET', '/api/playback');
    ctx.check.that(Array.isArray(list.json) && list.json.includes(ctx.stream), `GET /api/playback lacks the stream: ${list.text}`);
    await wc.close(pubPage, pubId);

    // Play it with dash.js through the manager.
    const player = await ctx.b.page(opts.base, 'dash-player');
    const mpdUrl = `${opts.base}/api/record/object/${days[0].mpd_path}${q}`;
    const played = await player.evaluate(async ([url, token]) => {
      const v = document.createElement('video');
      v.muted = true;
      v.autoplay = true;
      document.body.appendChild(v);
      // The dash.js build embedded in the binary (served with the dashboard).
      const dashjs = await import('/dashboard/vendor/dash.all.min.js');
      const MediaPlayer = dashjs.MediaPlayer || dashjs.default.MediaPlayer;
      const p = MediaPlayer().create();
      const errors = [];
      p.on(MediaPlayer.events.ERROR, (e) => errors.push(JSON.stringify(e.error || e).slice(0, 300)));
      if (token) p.extend('RequestModifier', () => ({ modifyRequestHeader: (xhr) => { xhr.setRequestHeader('Authorization', `Bearer ${token}`); return xhr; }, modifyRequestURL: (u) => u }), true);
      p.initialize(v, url, true);
      const end = Date.now() + 30000;
      while (Date.now() < end && v.currentTime <= 5.5) {
        await new Promise((r) => setTimeout(r, 200));
        if (errors.length > 3) break;
      }
      return { currentTime: v.currentTime, duration: p.duration(), videoWidth: v.videoWidth, videoHeight: v.videoHeight, errors };
    }, [mpdUrl, opts.token || null]);
    ctx.result.playback = played;
    ctx.check.that(played.currentTime > 5, `dash.js currentTime only reached ${played.currentTime} (errors: ${played.errors.join(' | ')})`);
    ctx.check.that(played.videoWidth > 0, `dash.js decoded no video (width ${played.videoWidth})`);
  },
});
