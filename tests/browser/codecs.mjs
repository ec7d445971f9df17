#!/usr/bin/env node
// Probes which video codecs this Chromium can ENCODE and DECODE over WebRTC,
// with a page-local loopback (no server). Usage:
//   node tests/browser/codecs.mjs [--codecs VP8,VP9,H264,AV1] [--seconds 3]
// Prints one JSON line per codec and a summary line; exits non-zero if a
// requested codec does not round-trip (encode + decode frames).

import { launchBrowser, wc, sleep, waitStats } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const codecs = opt('codecs', 'VP8,VP9,H264,AV1').split(',');
const seconds = Number(opt('seconds', '3'));

const b = await launchBrowser();
const results = {};
let ok = true;
try {
  const page = await b.page(null, 'loopback');
  const caps = await wc.capabilities(page);
  console.log(JSON.stringify({ chromium: b.version, capabilities: caps }));
  for (const codec of codecs) {
    const r = { codec };
    try {
      const { pub, play } = await wc.loopback(page, codec);
      const first = await wc.waitFirstFrame(page, play, 15000, 20);
      r.firstFrameMs = Math.round(first.ms);
      await sleep(seconds * 1000);
      const rx = await wc.stats(page, play);
      const tx = await wc.stats(page, pub);
      r.negotiated = rx.video?.codec?.mimeType;
      r.fmtp = rx.video?.codec?.sdpFmtpLine;
      r.encoder = tx.outVideo?.encoderImplementation;
      r.framesEncoded = tx.outVideo?.framesEncoded;
      r.decoder = rx.video?.decoderImplementation;
      r.framesDecoded = rx.video?.framesDecoded;
      r.size = `${rx.video?.frameWidth}x${rx.video?.frameHeight}`;
      r.videoWidth = rx.videoWidth;
      r.audioPackets = rx.audio?.packetsReceived;
      r.ok = r.negotiated?.toLowerCase() === `video/${codec.toLowerCase()}` && r.framesDecoded > 10;
      await wc.close(page, pub, { del: false });
      await wc.close(page, play, { del: false });
    } catch (e) {
      r.ok = false;
      r.error = String(e.message || e).slice(0, 400);
    }
    if (!r.ok) ok = false;
    results[codec] = r;
    console.log(JSON.stringify(r));
  }
} finally {
  await b.close();
}
console.log(JSON.stringify({ ok, summary: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.ok ? `${v.encoder} -> ${v.decoder}` : `FAIL ${v.error || ''}`])) }));
process.exit(ok ? 0 : 1);
