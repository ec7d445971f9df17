// Shared helpers for the wishcast browser end-to-end tests.
//
// Node side: launching Debian's Chromium through playwright-core (no browser
// download), opening pages on the media node's own origin and installing a
// tiny WHIP/WHEP client (`window.wc`) that runs INSIDE the page, so every
// fetch() is same-origin and the browser's real WebRTC stack is exercised.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';

export const CHROMIUM_CANDIDATES = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
].filter(Boolean);

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // Background pages must keep decoding/rendering at full speed.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  '--autoplay-policy=no-user-gesture-required',
];

export function findChromium() {
  for (const p of CHROMIUM_CANDIDATES) {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  throw new Error(
    `Chromium not found (tried ${CHROMIUM_CANDIDATES.join(', ')}); run scripts/install-test-deps`,
  );
}

/**
 * Launches a headless Chromium. `chromium.launch()` gives every browser a
 * fresh temporary profile (removed on close), and every context we create is
 * a new, empty browser context on top of it.
 */
export async function launchBrowser() {
  const executablePath = findChromium();
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
  const context = await browser.newContext({
    permissions: ['camera', 'microphone'],
    bypassCSP: true,
  });
  const pages = [];
  let localOrigin = null;
  return {
    browser,
    context,
    version: browser.version(),
    /** Opens a page on `base` (the node's origin) with `window.wc` installed. */
    async page(base, name = `page${pages.length}`) {
      const page = await context.newPage();
      page.__name = name;
      const logs = [];
      page.__logs = logs;
      page.on('console', (m) => {
        logs.push(`[${name}] ${m.type()}: ${m.text()}`);
        if (logs.length > 500) logs.shift();
      });
      page.on('pageerror', (e) => logs.push(`[${name}] pageerror: ${e.message}`));
      await page.addInitScript({ content: `(${installClient.toString()})();` });
      if (base) {
        // Any same-origin URL will do; its status does not matter.
        await page.goto(`${base.replace(/\/$/, '')}/api/info`, { timeout: 15_000 });
      } else {
        // No server: a tiny local origin (http://127.0.0.1 is a secure
        // context, about:blank has no navigator.mediaDevices).
        if (!localOrigin) localOrigin = await startLocalOrigin();
        await page.goto(`${localOrigin.url}/`, { timeout: 15_000 });
      }
      // about:blank and error pages may not have run init scripts.
      await page.evaluate(`(${installClient.toString()})();`);
      pages.push(page);
      return page;
    },
    pages,
    logs() {
      return pages.flatMap((p) => p.__logs || []);
    },
    async close() {
      if (localOrigin) localOrigin.server.close();
      try {
        await context.close();
      } catch {}
      try {
        await browser.close();
      } catch {}
    },
  };
}

/** Serves an empty HTML page on an ephemeral 127.0.0.1 port. */
export function startLocalOrigin() {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>wishcast loopback</title><body></body>');
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Value converters for {@link parseCli}. */
export const arg = {
  url: (v) => v.replace(/\/$/, ''),
  upper: (v) => v.toUpperCase(),
  num: Number,
};

/**
 * The usage failure of a script: prints `msg` and the usage on stderr, a
 * `{"ok":false}` JSON line on stdout, and exits 2.
 */
export function cliFail(script, usage) {
  return (msg) => {
    console.error(`${script}: ${msg}\n${usage}`);
    console.log(JSON.stringify({ ok: false, error: msg }));
    process.exit(2);
  };
}

/**
 * Parses `--flag value` command lines the same way in every script. `flags` maps a
 * flag to `[key]` (string value), `[key, convert]` (converted value) or `[key, constant]`
 * (a switch that takes no value). `-h`/`--help` prints `usage`; mistakes go to `fail`
 * ({@link cliFail}). Returns the options over `defaults`.
 */
export function parseCli(argv, { usage, fail, defaults = {}, flags }) {
  const o = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(usage);
      process.exit(0);
    }
    const spec = flags[a];
    if (!spec) fail(`unknown argument ${a}`);
    const [key, how] = spec;
    if (how !== undefined && typeof how !== 'function') {
      o[key] = how;
      continue;
    }
    if (i + 1 >= argv.length) fail(`missing value for ${a}`);
    const v = argv[++i];
    o[key] = how ? how(v) : v;
  }
  return o;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Everything below runs inside the page. It must stay self-contained (it is
 * serialised with Function.prototype.toString()).
 */
export function installClient() {
  if (window.wc) return;
  const sessions = new Map();
  let nextId = 1;

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function codecMatches(c, want) {
    return c.mimeType.toLowerCase() === `video/${want.toLowerCase()}`;
  }

  function isAux(c) {
    const m = c.mimeType.toLowerCase();
    return m.endsWith('/rtx') || m.endsWith('/red') || m.endsWith('/ulpfec') || m.endsWith('/flexfec-03');
  }

  function rankCodec(c) {
    // Prefer the most widely supported variants first.
    const f = c.sdpFmtpLine || '';
    const m = c.mimeType.toLowerCase();
    if (m === 'video/h264') {
      let r = 0;
      if (!/packetization-mode=1/.test(f)) r += 10;
      if (!/profile-level-id=42e01f/.test(f)) r += 1;
      if (/profile-level-id=4d|profile-level-id=64/.test(f)) r += 2;
      return r;
    }
    if (m === 'video/vp9') return /profile-id=0/.test(f) || !f ? 0 : 1;
    if (m === 'video/av1') return /profile=1|profile=2/.test(f) ? 1 : 0;
    return 0;
  }

  /** Restricts `transceiver` to `codec` (e.g. "VP8", "H264") + rtx/red/fec. */
  function preferCodec(transceiver, codec, kind = 'video') {
    const tryWith = (caps) => {
      if (!caps) return false;
      const main = caps.codecs.filter((c) => codecMatches(c, codec));
      if (main.length === 0) return false;
      main.sort((a, b) => rankCodec(a) - rankCodec(b));
      const aux = caps.codecs.filter(isAux);
      transceiver.setCodecPreferences([...main, ...aux]);
      return true;
    };
    const errors = [];
    for (const caps of [RTCRtpReceiver.getCapabilities(kind), RTCRtpSender.getCapabilities(kind)]) {
      try {
        if (tryWith(caps)) return;
      } catch (e) {
        errors.push(String(e));
      }
    }
    throw new Error(`cannot prefer codec ${codec}: not in capabilities or rejected (${errors.join('; ')})`);
  }

  function waitIceGathering(pc, timeoutMs = 5000) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
  }

  function attachDataChannel(s, ch) {
    ch.binaryType = 'arraybuffer';
    s.channels.push(ch);
    ch.addEventListener('message', (ev) => {
      const d = ev.data;
      if (typeof d === 'string') {
        s.messages.push({ type: 'string', data: d, label: ch.label, t: performance.now() });
      } else if (d instanceof ArrayBuffer) {
        s.messages.push({ type: 'arraybuffer', data: Array.from(new Uint8Array(d)), label: ch.label, t: performance.now() });
      } else {
        s.messages.push({ type: Object.prototype.toString.call(d), data: String(d), label: ch.label, t: performance.now() });
      }
    });
  }

  /** opts.iceServers / opts.iceTransportPolicy ('all' | 'relay') for the RTCPeerConnection. */
  function pcConfig(opts) {
    const cfg = { iceServers: opts.iceServers || [], bundlePolicy: 'max-bundle' };
    if (opts.iceTransportPolicy) cfg.iceTransportPolicy = opts.iceTransportPolicy;
    return cfg;
  }

  function newSession(role, pc) {
    const id = nextId++;
    const s = {
      id,
      role,
      pc,
      location: null,
      etag: null,
      answer: null,
      offer: null,
      channels: [],
      messages: [],
      video: null,
      stream: new MediaStream(),
      events: [],
      firstFrameAt: null,
    };
    pc.addEventListener('connectionstatechange', () => s.events.push(`pc:${pc.connectionState}@${Math.round(performance.now())}`));
    pc.addEventListener('iceconnectionstatechange', () => s.events.push(`ice:${pc.iceConnectionState}@${Math.round(performance.now())}`));
    pc.addEventListener('datachannel', (ev) => attachDataChannel(s, ev.channel));
    sessions.set(id, s);
    return s;
  }

  /**
   * Sends the offer to a WHIP/WHEP endpoint and applies the answer.
   * `opts.waitIce`: wait for ICE gathering before POST (default true);
   * when false the offer is sent right away and the gathered candidates are
   * trickled with PATCH application/trickle-ice-sdpfrag (best effort).
   */
  async function negotiate(s, url, opts) {
    const { pc } = s;
    const offer = await pc.createOffer();
    // opts.iceServersFromLinks: the ICE servers come with the answer (Link
    // rel="ice-server", RFC 9725 §4.6), so the offer is POSTed before
    // setLocalDescription and the servers are configured before gathering starts.
    const fromLinks = !!opts.iceServersFromLinks;
    if (!fromLinks) await pc.setLocalDescription(offer);
    const waitIce = opts.waitIce !== false && !fromLinks;
    const pending = [];
    if (waitIce) {
      await waitIceGathering(pc);
    } else {
      pc.addEventListener('icecandidate', (ev) => {
        if (ev.candidate && ev.candidate.candidate) pending.push(ev.candidate);
      });
    }
    s.offer = fromLinks ? offer.sdp : pc.localDescription.sdp;
    s.token = opts.token;
    const headers = { 'Content-Type': 'application/sdp' };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    s.t.post = performance.now();
    let res;
    const deadline = performance.now() + (opts.retryConflictMs || 0);
    for (;;) {
      res = await fetch(url, { method: 'POST', headers, body: s.offer });
      if (res.status === 201 || res.status === 200) break;
      const body = await res.text().catch(() => '');
      if (performance.now() < deadline && res.status >= 400) {
        s.events.push(`post-retry:${res.status}:${body.slice(0, 120)}`);
        await sleep(250);
        continue;
      }
      throw new Error(`POST ${url} -> HTTP ${res.status}: ${body.slice(0, 500)}`);
    }
    s.status = res.status;
    // A followed redirect (e.g. the manager's 307 to a node): the session URL
    // is relative to the node's URL, not to the page.
    s.redirected = res.redirected;
    s.responseUrl = res.url;
    if (res.redirected) s.base = res.url;
    s.location = res.headers.get('Location');
    s.etag = res.headers.get('ETag');
    s.contentType = res.headers.get('Content-Type');
    s.links = (res.headers.get('Link') || '').split(/,(?=\s*<)/).map((l) => l.trim()).filter(Boolean);
    s.answer = await res.text();
    s.t.answer = performance.now();
    if (!s.location) throw new Error(`POST ${url} -> ${res.status} without Location header`);
    if (!/^v=0/m.test(s.answer)) throw new Error(`POST ${url} -> body is not SDP: ${s.answer.slice(0, 300)}`);
    if (fromLinks) {
      s.linkIceServers = parseIceServerLinks(s.links);
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers: s.linkIceServers });
      pc.addEventListener('icecandidateerror', (ev) =>
        s.events.push(`icecandidateerror:${ev.errorCode}:${ev.url}:${ev.errorText}`),
      );
      await pc.setLocalDescription(offer);
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: s.answer });
    if (!waitIce) trickle(s, pending, opts).catch((e) => s.events.push(`trickle-error:${e}`));
  }

  /** Link header values -> RTCIceServer[] (rel="ice-server" only). */
  function parseIceServerLinks(links) {
    const out = [];
    for (const l of links || []) {
      const m = /^\s*<([^>]*)>(.*)$/.exec(l);
      if (!m) continue;
      const params = {};
      const re = /;\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,\s]*))/g;
      let p;
      while ((p = re.exec(m[2]))) params[p[1].toLowerCase()] = p[2] != null ? p[2].replace(/\\(.)/g, '$1') : p[3];
      if (params.rel !== 'ice-server') continue;
      const server = { urls: m[1] };
      if (params.username != null) server.username = params.username;
      if (params.credential != null) server.credential = params.credential;
      out.push(server);
    }
    return out;
  }

  async function trickle(s, pending, opts) {
    const { pc } = s;
    await waitIceGathering(pc, 5000);
    if (pending.length === 0) return;
    const local = pc.localDescription.sdp;
    const ufrag = /a=ice-ufrag:(\S+)/.exec(local)?.[1];
    const pwd = /a=ice-pwd:(\S+)/.exec(local)?.[1];
    const mid = pc.getTransceivers().find((t) => t.mid != null)?.mid ?? '0';
    let frag = `a=ice-ufrag:${ufrag}\r\na=ice-pwd:${pwd}\r\na=mid:${mid}\r\n`;
    for (const c of pending) frag += `a=${c.candidate}\r\n`;
    frag += 'a=end-of-candidates\r\n';
    const headers = { 'Content-Type': 'application/trickle-ice-sdpfrag' };
    if (s.etag) headers['If-Match'] = s.etag;
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    const res = await fetch(new URL(s.location, s.base || location.href), { method: 'PATCH', headers, body: frag });
    s.events.push(`trickle:${res.status}`);
  }

  function makeVideoElement(s) {
    const v = document.createElement('video');
    v.autoplay = true;
    v.muted = true;
    v.playsInline = true;
    v.width = 320;
    v.height = 240;
    v.id = `video-${s.id}`;
    document.body.appendChild(v);
    s.video = v;
    if ('requestVideoFrameCallback' in v) {
      const cb = (now, meta) => {
        if (s.firstFrameAt == null) s.firstFrameAt = performance.now();
        s.framesPresented = meta.presentedFrames;
        v.requestVideoFrameCallback(cb);
      };
      v.requestVideoFrameCallback(cb);
    }
    return v;
  }

  async function publish(url, opts = {}) {
    const codec = opts.codec || 'VP8';
    const pc = new RTCPeerConnection(pcConfig(opts));
    const s = newSession('publish', pc);
    s.t = { start: performance.now() };
    const wantAudio = opts.audio !== false;
    const wantVideo = opts.video !== false;
    const media = await navigator.mediaDevices.getUserMedia({
      video: wantVideo ? { width: opts.width || 640, height: opts.height || 480, frameRate: opts.fps || 30 } : false,
      audio: wantAudio,
    });
    s.media = media;
    if (wantVideo) {
      // opts.sendEncodings: explicit simulcast encodings; opts.simulcast: true
      // for the default three rid layers q/h/f (use a 1280x720 camera).
      const sendEncodings = opts.sendEncodings || (opts.simulcast ? SIMULCAST_ENCODINGS : null);
      const init = { direction: 'sendonly', streams: [media] };
      if (sendEncodings) init.sendEncodings = sendEncodings;
      const vt = pc.addTransceiver(media.getVideoTracks()[0], init);
      preferCodec(vt, codec);
      if (opts.degradationPreference) {
        // e.g. 'maintain-resolution': keep every simulcast layer at its size
        // even when the (2-core) machine is CPU-limited.
        try {
          const params = vt.sender.getParameters();
          params.degradationPreference = opts.degradationPreference;
          await vt.sender.setParameters(params);
        } catch (e) {
          s.events.push(`degradationPreference-error:${e}`);
        }
      }
    }
    if (wantAudio) {
      const at = pc.addTransceiver(media.getAudioTracks()[0], { direction: 'sendonly', streams: [media] });
      if (opts.audioCodec) preferCodec(at, opts.audioCodec, 'audio');
    }
    if (opts.datachannel) attachDataChannel(s, pc.createDataChannel(opts.datachannel === true ? 'wishcast' : opts.datachannel));
    await negotiate(s, url, opts);
    return s.id;
  }

  async function play(url, opts = {}) {
    const pc = new RTCPeerConnection(pcConfig(opts));
    const s = newSession('play', pc);
    s.t = { start: performance.now() };
    makeVideoElement(s);
    pc.addEventListener('track', (ev) => {
      s.stream.addTrack(ev.track);
      s.video.srcObject = s.stream;
      s.video.play().catch(() => {});
    });
    if (opts.video !== false) {
      const vt = pc.addTransceiver('video', { direction: 'recvonly' });
      if (opts.codec) preferCodec(vt, opts.codec);
    }
    if (opts.audio !== false) pc.addTransceiver('audio', { direction: 'recvonly' });
    if (opts.datachannel) attachDataChannel(s, pc.createDataChannel(opts.datachannel === true ? 'wishcast' : opts.datachannel));
    await negotiate(s, url, opts);
    return s.id;
  }

  const SIMULCAST_ENCODINGS = [
    { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
    { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
    { rid: 'f', maxBitrate: 1500000 },
  ];

  /** Absolute URL of the session resource (from the POST's Location header). */
  function sessionUrl(id) {
    const s = get(id);
    if (!s.location) throw new Error(`session ${id}: no Location header was received`);
    return new URL(s.location, s.base || location.href).href;
  }

  /** Link headers of the POST's 201 response. */
  function links(id) {
    return get(id).links || [];
  }

  /**
   * Same-origin request to the session resource or below it, e.g.
   * control(id, 'GET', '/layer') or control(id, 'POST', '', {kind:'video',enabled:false}).
   * A non-undefined `body` is sent as JSON. Resolves with {status, body, json}.
   */
  async function control(id, method, suffix = '', body = undefined) {
    const s = get(id);
    const headers = {};
    if (s.token) headers.Authorization = `Bearer ${s.token}`;
    const init = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(sessionUrl(id) + suffix, init);
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, body: text, json, contentType: res.headers.get('Content-Type') };
  }

  function get(id) {
    const s = sessions.get(id);
    if (!s) throw new Error(`no session ${id}`);
    return s;
  }

  async function waitConnected(id, timeoutMs = 15000) {
    const s = get(id);
    const end = performance.now() + timeoutMs;
    while (performance.now() < end) {
      const st = s.pc.connectionState;
      if (st === 'connected') return true;
      if (st === 'failed' || st === 'closed') break;
      await sleep(20);
    }
    throw new Error(
      `session ${id} (${s.role}) not connected: connectionState=${s.pc.connectionState} ` +
        `iceConnectionState=${s.pc.iceConnectionState} events=${s.events.join(',')}`,
    );
  }

  async function stats(id) {
    const s = get(id);
    const report = await s.pc.getStats();
    const all = new Map();
    report.forEach((r) => all.set(r.id, r));
    const out = {
      role: s.role,
      connectionState: s.pc.connectionState,
      iceConnectionState: s.pc.iceConnectionState,
      video: null,
      audio: null,
      outVideo: null,
      outAudio: null,
      pair: null,
    };
    const codecOf = (r) => {
      const c = r.codecId && all.get(r.codecId);
      return c ? { mimeType: c.mimeType, sdpFmtpLine: c.sdpFmtpLine || '', payloadType: c.payloadType } : null;
    };
    for (const r of all.values()) {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        const prev = out.video;
        const cur = {
          ssrc: r.ssrc,
          packetsReceived: r.packetsReceived || 0,
          bytesReceived: r.bytesReceived || 0,
          packetsLost: r.packetsLost || 0,
          framesReceived: r.framesReceived || 0,
          framesDecoded: r.framesDecoded || 0,
          keyFramesDecoded: r.keyFramesDecoded || 0,
          framesDropped: r.framesDropped || 0,
          frameWidth: r.frameWidth || 0,
          frameHeight: r.frameHeight || 0,
          framesPerSecond: r.framesPerSecond || 0,
          decoderImplementation: r.decoderImplementation || null,
          pliCount: r.pliCount || 0,
          firCount: r.firCount || 0,
          nackCount: r.nackCount || 0,
          freezeCount: r.freezeCount || 0,
          codec: codecOf(r),
        };
        // Several inbound-rtp video entries can exist after SSRC changes:
        // sum the counters, keep the most recent dimensions/codec.
        if (prev) {
          for (const k of ['packetsReceived', 'bytesReceived', 'framesReceived', 'framesDecoded', 'keyFramesDecoded', 'framesDropped', 'pliCount', 'nackCount', 'firCount', 'freezeCount']) {
            cur[k] += prev[k];
          }
          if (!cur.frameWidth) {
            cur.frameWidth = prev.frameWidth;
            cur.frameHeight = prev.frameHeight;
          }
          cur.ssrcs = [...(prev.ssrcs || [prev.ssrc]), r.ssrc];
        }
        out.video = cur;
      } else if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        const prev = out.audio;
        out.audio = {
          packetsReceived: (r.packetsReceived || 0) + (prev ? prev.packetsReceived : 0),
          bytesReceived: (r.bytesReceived || 0) + (prev ? prev.bytesReceived : 0),
          totalSamplesReceived: (r.totalSamplesReceived || 0) + (prev ? prev.totalSamplesReceived : 0),
          concealedSamples: (r.concealedSamples || 0) + (prev ? prev.concealedSamples : 0),
          audioLevel: r.audioLevel,
          codec: codecOf(r) || (prev && prev.codec),
        };
      } else if (r.type === 'outbound-rtp' && r.kind === 'video') {
        // Simulcast: one outbound-rtp per rid (outVideo keeps the last one seen).
        (out.outVideoLayers ||= []).push({
          rid: r.rid ?? null,
          active: r.active,
          frameWidth: r.frameWidth || 0,
          frameHeight: r.frameHeight || 0,
          framesEncoded: r.framesEncoded || 0,
          keyFramesEncoded: r.keyFramesEncoded || 0,
          bytesSent: r.bytesSent || 0,
          framesPerSecond: r.framesPerSecond || 0,
          targetBitrate: r.targetBitrate || 0,
          qualityLimitationReason: r.qualityLimitationReason || null,
          pliCount: r.pliCount || 0,
        });
        out.outVideo = {
          packetsSent: r.packetsSent || 0,
          bytesSent: r.bytesSent || 0,
          framesEncoded: r.framesEncoded || 0,
          keyFramesEncoded: r.keyFramesEncoded || 0,
          frameWidth: r.frameWidth || 0,
          frameHeight: r.frameHeight || 0,
          framesPerSecond: r.framesPerSecond || 0,
          encoderImplementation: r.encoderImplementation || null,
          qualityLimitationReason: r.qualityLimitationReason || null,
          pliCount: r.pliCount || 0,
          firCount: r.firCount || 0,
          nackCount: r.nackCount || 0,
          codec: codecOf(r),
        };
      } else if (r.type === 'outbound-rtp' && r.kind === 'audio') {
        out.outAudio = { packetsSent: r.packetsSent || 0, bytesSent: r.bytesSent || 0, codec: codecOf(r) };
      } else if (r.type === 'transport' && r.selectedCandidatePairId) {
        const p = all.get(r.selectedCandidatePairId);
        if (p) {
          const l = all.get(p.localCandidateId) || {};
          const rc = all.get(p.remoteCandidateId) || {};
          out.pair = {
            state: p.state,
            currentRoundTripTime: p.currentRoundTripTime,
            local: { protocol: l.protocol, candidateType: l.candidateType, address: l.address, port: l.port, tcpType: l.tcpType, relayProtocol: l.relayProtocol, url: l.url },
            remote: { protocol: rc.protocol, candidateType: rc.candidateType, address: rc.address, port: rc.port, tcpType: rc.tcpType },
          };
        }
        out.dtlsState = r.dtlsState;
        out.iceState = r.iceState;
      }
    }
    if (s.video) {
      out.videoWidth = s.video.videoWidth;
      out.videoHeight = s.video.videoHeight;
      out.framesPresented = s.framesPresented || 0;
    }
    return out;
  }

  /** Resolves with ms from the WHEP/WHIP POST start to the first decoded frame. */
  async function waitFirstFrame(id, timeoutMs = 15000, pollMs = 10) {
    const s = get(id);
    const end = performance.now() + timeoutMs;
    for (;;) {
      const st = await stats(id);
      if (st.video && st.video.framesDecoded > 0) {
        const now = performance.now();
        const viaRvfc = s.firstFrameAt != null ? s.firstFrameAt - s.t.post : null;
        return { ms: now - s.t.post, rvfcMs: viaRvfc, answerMs: s.t.answer - s.t.post, stats: st };
      }
      if (performance.now() > end) {
        const e = new Error(
          `session ${id} (${s.role}): no video frame decoded within ${timeoutMs} ms; ` +
            `events=${s.events.join(',')}; stats=${JSON.stringify({ video: st.video, audio: st.audio, pair: st.pair, connectionState: st.connectionState })}`,
        );
        e.stats = st;
        throw e;
      }
      await sleep(pollMs);
    }
  }

  /**
   * Ends a session: DELETE its resource first (while it is certainly alive,
   * so the status is meaningful), then close the PeerConnection.
   */
  async function close(id, { del = true } = {}) {
    const s = get(id);
    let status = null;
    if (del && s.location) {
      const headers = s.token ? { Authorization: `Bearer ${s.token}` } : {};
      const res = await fetch(new URL(s.location, s.base || location.href), { method: 'DELETE', headers });
      status = res.status;
    }
    try {
      s.pc.close();
    } catch {}
    if (s.media) s.media.getTracks().forEach((t) => t.stop());
    if (s.video) s.video.remove();
    sessions.delete(id);
    return status;
  }

  function send(id, what) {
    const s = get(id);
    const ch = s.channels.find((c) => c.readyState === 'open');
    if (!ch) throw new Error(`session ${id}: no open data channel (${s.channels.map((c) => `${c.label}:${c.readyState}`).join(',')})`);
    if (what.type === 'string') ch.send(what.data);
    else ch.send(new Uint8Array(what.data).buffer);
    return ch.label;
  }

  function channels(id) {
    return get(id).channels.map((c) => ({ label: c.label, id: c.id, readyState: c.readyState }));
  }

  function messages(id) {
    return get(id).messages;
  }

  function info(id) {
    const s = get(id);
    return {
      id: s.id, role: s.role, location: s.location, etag: s.etag, status: s.status, contentType: s.contentType, links: s.links || [], offer: s.offer, answer: s.answer, events: s.events,
      redirected: !!s.redirected, responseUrl: s.responseUrl || null, sessionUrl: s.location ? new URL(s.location, s.base || location.href).href : null,
      linkIceServers: s.linkIceServers || null, iceServers: s.pc.getConfiguration().iceServers, iceTransportPolicy: s.pc.getConfiguration().iceTransportPolicy,
    };
  }

  /** Local loopback "server": answers an offer with a page-local peer. */
  async function loopback(codec, { audio = true } = {}) {
    const tx = new RTCPeerConnection();
    const rx = new RTCPeerConnection();
    tx.addEventListener('icecandidate', (e) => e.candidate && rx.addIceCandidate(e.candidate));
    rx.addEventListener('icecandidate', (e) => e.candidate && tx.addIceCandidate(e.candidate));
    const media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio });
    const vt = tx.addTransceiver(media.getVideoTracks()[0], { direction: 'sendonly', streams: [media] });
    preferCodec(vt, codec);
    if (audio) tx.addTransceiver(media.getAudioTracks()[0], { direction: 'sendonly', streams: [media] });
    const s = newSession('play', rx);
    s.t = { start: performance.now() };
    makeVideoElement(s);
    rx.addEventListener('track', (ev) => {
      s.stream.addTrack(ev.track);
      s.video.srcObject = s.stream;
      s.video.play().catch(() => {});
    });
    const pubS = newSession('publish', tx);
    pubS.media = media;
    pubS.t = { start: performance.now() };
    const offer = await tx.createOffer();
    await tx.setLocalDescription(offer);
    await rx.setRemoteDescription(offer);
    s.t.post = performance.now();
    const answer = await rx.createAnswer();
    await rx.setLocalDescription(answer);
    await tx.setRemoteDescription(answer);
    return { pub: pubS.id, play: s.id };
  }

  function capabilities() {
    const pick = (caps) => (caps ? caps.codecs.map((c) => `${c.mimeType}${c.sdpFmtpLine ? ' ' + c.sdpFmtpLine : ''}`) : []);
    return {
      sendVideo: pick(RTCRtpSender.getCapabilities('video')),
      recvVideo: pick(RTCRtpReceiver.getCapabilities('video')),
      sendAudio: pick(RTCRtpSender.getCapabilities('audio')),
    };
  }

  window.wc = { publish, play, waitConnected, stats, waitFirstFrame, close, send, channels, messages, info, loopback, capabilities, sessions, sessionUrl, links, control, parseIceServerLinks, pcConfig };
}

// ---------------------------------------------------------------------------
// Node-side conveniences wrapping the in-page client.

export const wc = {
  publish: (page, url, opts = {}) => page.evaluate(([u, o]) => window.wc.publish(u, o), [url, opts]),
  play: (page, url, opts = {}) => page.evaluate(([u, o]) => window.wc.play(u, o), [url, opts]),
  waitConnected: (page, id, ms = 15000) => page.evaluate(([i, m]) => window.wc.waitConnected(i, m), [id, ms]),
  stats: (page, id) => page.evaluate((i) => window.wc.stats(i), id),
  waitFirstFrame: (page, id, ms = 15000, poll = 10) =>
    page.evaluate(([i, m, p]) => window.wc.waitFirstFrame(i, m, p), [id, ms, poll]),
  close: (page, id, opts = {}) => page.evaluate(([i, o]) => window.wc.close(i, o), [id, opts]),
  send: (page, id, what) => page.evaluate(([i, w]) => window.wc.send(i, w), [id, what]),
  channels: (page, id) => page.evaluate((i) => window.wc.channels(i), id),
  messages: (page, id) => page.evaluate((i) => window.wc.messages(i), id),
  info: (page, id) => page.evaluate((i) => window.wc.info(i), id),
  loopback: (page, codec, opts = {}) => page.evaluate(([c, o]) => window.wc.loopback(c, o), [codec, opts]),
  capabilities: (page) => page.evaluate(() => window.wc.capabilities()),
  sessionUrl: (page, id) => page.evaluate((i) => window.wc.sessionUrl(i), id),
  links: (page, id) => page.evaluate((i) => window.wc.links(i), id),
  control: (page, id, method, suffix = '', body = undefined) =>
    page.evaluate(([i, m, sfx, b]) => window.wc.control(i, m, sfx, b === null ? undefined : b), [id, method, suffix, body === undefined ? null : body]),
};

/** Records a failure unless the negotiated video codec (`codecInfo` of getStats) is `want`. */
export function expectCodec(check, what, codecInfo, want) {
  const got = codecInfo?.mimeType;
  check.that(got && got.toLowerCase() === `video/${want.toLowerCase()}`, `${what}: negotiated video codec is ${got}, expected video/${want}`);
}

/**
 * Waits until publisher `p` ({name, page, id}) is connected and sending video, checks
 * its codec is `ctx.opts.codec`, and returns {encoder, codec, pair}.
 */
export async function publisherReady(ctx, p, { connectMs = 15000 } = {}) {
  await wc.waitConnected(p.page, p.id, connectMs);
  const st = await waitStats(p.page, p.id, (s) => s.outVideo && s.outVideo.framesEncoded > 0 && s.outVideo.packetsSent > 0, {
    timeoutMs: 10000,
    what: `${p.name} to encode and send video`,
  });
  expectCodec(ctx.check, p.name, st.outVideo.codec, ctx.opts.codec);
  return { encoder: st.outVideo.encoderImplementation, codec: st.outVideo.codec?.mimeType, pair: st.pair };
}

/** Polls the in-page stats of `id` until `pred(stats)` holds. */
export async function waitStats(page, id, pred, { timeoutMs = 15000, intervalMs = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let st;
  for (;;) {
    st = await wc.stats(page, id);
    if (pred(st)) return st;
    if (Date.now() > end) {
      const e = new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last stats: ${JSON.stringify(st)}`);
      e.stats = st;
      throw e;
    }
    await sleep(intervalMs);
  }
}

/** Collects failed expectations of one scenario. */
export class Check {
  constructor() {
    this.failures = [];
  }
  that(cond, msg) {
    if (!cond) this.failures.push(msg);
    return cond;
  }
  throwIfFailed() {
    if (this.failures.length) throw new Error(this.failures.join('; '));
  }
}

/**
 * Runs one scenario the way every e2e script does: launch Chromium, build the
 * script's context, run, print exactly one JSON line, dump diagnostics on
 * failure, exit 0/1. `extra(ctx)` adds fields to the JSON result; `after(ctx)`
 * runs extra checks after the scenario.
 */
export async function runScenario({ opts, result, makeCtx, run, extra = () => ({}), after = async () => {} }) {
  const t0 = Date.now();
  let b;
  let ctx;
  const watchdog = setTimeout(() => {
    console.log(JSON.stringify({ ...result, ...(ctx ? ctx.result : {}), ...(ctx ? extra(ctx) : {}), error: `scenario timed out after ${opts.timeoutS} s` }));
    process.exit(1);
  }, opts.timeoutS * 1000);
  try {
    b = await launchBrowser();
    result.chromium = b.version;
    ctx = makeCtx(b);
    await run(ctx);
    await after(ctx);
    ctx.check.throwIfFailed();
    Object.assign(result, ctx.result, { ok: true, elapsedMs: Date.now() - t0 }, extra(ctx));
    console.log(JSON.stringify(result));
    clearTimeout(watchdog);
    await b.close();
    process.exit(0);
  } catch (e) {
    const failures = ctx ? ctx.check.failures : [];
    const msg = String(e && e.message ? e.message : e);
    Object.assign(result, ctx ? ctx.result : {}, {
      ok: false,
      error: failures.length && !failures.some((f) => msg.includes(f)) ? `${msg}; ${failures.join('; ')}` : msg,
      elapsedMs: Date.now() - t0,
    }, ctx ? extra(ctx) : {});
    if (ctx) {
      try {
        const diag = await ctx.diagnostics();
        console.error('--- diagnostics ---');
        for (const d of diag) console.error(JSON.stringify(d));
        console.error('--- page console ---');
        for (const l of b.logs().slice(-100)) console.error(l);
      } catch (de) {
        console.error(`(diagnostics failed: ${de.message})`);
      }
    }
    if (e && e.stack) console.error(e.stack);
    console.log(JSON.stringify(result));
    clearTimeout(watchdog);
    if (b) await b.close().catch(() => {});
    process.exit(1);
  }
}
