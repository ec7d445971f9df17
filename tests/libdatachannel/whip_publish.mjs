#!/usr/bin/env node
// A WHIP publisher on libdatachannel (npm `node-datachannel`), the WebRTC
// stack of OBS Studio's WHIP output, publishing the way OBS does: one audio
// (Opus) and one video (H.264 or VP8) sendonly track, offer sent after ICE
// gathering completes, media from an encoder as RTP packets written into the
// tracks. The encoder is ffmpeg (a test picture and a sine tone) sending RTP
// to two local UDP ports.
//
//   node tests/libdatachannel/whip_publish.mjs --url URL [--codec H264|VP8]
//        [--video-pt 102] [--audio-pt 111] [--freq 550] [--seconds 12] [--token T]
//
// Works over loopback (unlike libnice, libjuice checks 127.0.0.1 candidates).
// Prints one JSON line on stdout; diagnostics go to stderr. Exit 0 on success.

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import nodeDataChannel from 'node-datachannel';

const t0 = Date.now();
const log = (...a) => console.error(`[${((Date.now() - t0) / 1000).toFixed(2)}]`, ...a);

function parseArgs(argv) {
  const o = { codec: 'H264', freq: 550, seconds: 12, videoPt: null, audioPt: 111, url: null, token: null };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[++i];
    if (k === '--url') o.url = v;
    else if (k === '--codec') o.codec = v.toUpperCase();
    else if (k === '--video-pt') o.videoPt = Number(v);
    else if (k === '--audio-pt') o.audioPt = Number(v);
    else if (k === '--freq') o.freq = Number(v);
    else if (k === '--seconds') o.seconds = Number(v);
    else if (k === '--token') o.token = v;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!o.url) throw new Error('--url is required');
  if (!['H264', 'VP8'].includes(o.codec)) throw new Error('--codec H264|VP8');
  if (o.videoPt === null) o.videoPt = o.codec === 'H264' ? 102 : 96;
  return o;
}

const VIDEO_SSRC = 0x1c0ffee;
const AUDIO_SSRC = 0x2c0ffee;

function bindUdp() {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

async function main() {
  const opts = parseArgs(process.argv);
  const result = { ok: false, library: `libdatachannel ${nodeDataChannel.getLibraryVersion()}` };
  const pc = new nodeDataChannel.PeerConnection('whip', { iceServers: [] });
  let connectedAt = null;
  pc.onStateChange((s) => {
    log('state', s);
    if (s === 'connected' && connectedAt === null) connectedAt = Date.now();
  });

  // Audio first, as OBS adds it.
  const audio = new nodeDataChannel.Audio('0', 'SendOnly');
  audio.addOpusCodec(opts.audioPt);
  audio.addSSRC(AUDIO_SSRC, 'wishcast-ldc', 'wishcast-ldc', 'audio');
  const audioTrack = pc.addTrack(audio);
  const video = new nodeDataChannel.Video('1', 'SendOnly');
  if (opts.codec === 'H264') video.addH264Codec(opts.videoPt);
  else video.addVP8Codec(opts.videoPt);
  video.addSSRC(VIDEO_SSRC, 'wishcast-ldc', 'wishcast-ldc', 'video');
  const videoTrack = pc.addTrack(video);

  const gathered = new Promise((resolve) => {
    pc.onGatheringStateChange((s) => s === 'complete' && resolve());
  });
  pc.setLocalDescription();
  await gathered;
  const offer = pc.localDescription().sdp;
  const headers = { 'Content-Type': 'application/sdp' };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  const postedAt = Date.now();
  const res = await fetch(opts.url, { method: 'POST', headers, body: offer });
  const answer = await res.text();
  result.post_status = res.status;
  log('POST', opts.url, '->', res.status);
  if (res.status !== 201) throw Object.assign(new Error(`POST answered ${res.status}: ${answer.slice(0, 300)}`), { result });
  const location = res.headers.get('location') ? new URL(res.headers.get('location'), opts.url).href : null;
  result.answer_bundle = answer.split(/\r?\n/).find((l) => l.startsWith('a=group:BUNDLE')) ?? null;
  result.answer_mlines = answer.split(/\r?\n/).filter((l) => l.startsWith('m='));
  pc.setRemoteDescription(answer, 'answer');

  // The encoder: RTP with the negotiated payload types and our SSRCs.
  const [vsock, asock] = [await bindUdp(), await bindUdp()];
  const sent = { video: 0, audio: 0 };
  vsock.on('message', (m) => {
    if (videoTrack.isOpen()) {
      videoTrack.sendMessageBinary(m);
      sent.video++;
    }
  });
  asock.on('message', (m) => {
    if (audioTrack.isOpen()) {
      audioTrack.sendMessageBinary(m);
      sent.audio++;
    }
  });
  const venc =
    opts.codec === 'H264'
      ? ['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-tune', 'zerolatency']
      : ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '600k'];
  const ff = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-re'],
      ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30'],
      ...['-f', 'lavfi', '-i', `sine=frequency=${opts.freq}:sample_rate=48000`],
      ...['-map', '0:v', ...venc, '-g', '30', '-pix_fmt', 'yuv420p'],
      ...['-payload_type', String(opts.videoPt), '-ssrc', String(VIDEO_SSRC)],
      ...['-f', 'rtp', `rtp://127.0.0.1:${vsock.address().port}?pkt_size=1200`],
      ...['-map', '1:a', '-c:a', 'libopus', '-b:a', '64k', '-ac', '2', '-ar', '48000'],
      ...['-payload_type', String(opts.audioPt), '-ssrc', String(AUDIO_SSRC)],
      ...['-f', 'rtp', `rtp://127.0.0.1:${asock.address().port}?pkt_size=1200`],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );

  const deadline = Date.now() + 20_000;
  while (connectedAt === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (connectedAt === null) throw Object.assign(new Error(`not connected (state ${pc.state()})`), { result });
  result.connect_s = (connectedAt - postedAt) / 1000;
  console.log(JSON.stringify({ publishing: true }));
  await new Promise((r) => setTimeout(r, opts.seconds * 1000));
  ff.kill('SIGKILL');
  result.rtp_packets_sent = sent;
  if (location) {
    const d = await fetch(location, { method: 'DELETE', headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {} });
    result.delete_status = d.status;
  }
  vsock.close();
  asock.close();
  pc.close();
  result.ok = sent.video > 100 && sent.audio > 100;
  if (!result.ok) result.error = `too few RTP packets sent: ${JSON.stringify(sent)}`;
  return result;
}

main()
  .then((r) => {
    console.log(JSON.stringify(r));
    nodeDataChannel.cleanup();
    process.exit(r.ok ? 0 : 1);
  })
  .catch((e) => {
    console.log(JSON.stringify({ ...(e.result ?? {}), ok: false, error: String(e.message ?? e) }));
    nodeDataChannel.cleanup();
    process.exit(1);
  });
