// The browser side of WHIP and WHEP (RFC 9725): offer/answer over HTTP with the
// bearer token, trickle-free (the server is ICE-lite and sends all its candidates
// in the answer), codec choice, simulcast encodings, getStats() sampling, and the
// one publisher the page keeps alive while the operator moves between pages.

import { auth, ApiError } from './api.js';

/** The three simulcast layers the node's tests and docs use (docs/simulcast.md). */
export const SIMULCAST_ENCODINGS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
  { rid: 'f', maxBitrate: 1500000 },
];

/** Video codecs this browser can send, among those wishcast forwards. */
export function sendableCodecs() {
  const caps = RTCRtpSender.getCapabilities ? RTCRtpSender.getCapabilities('video') : null;
  const names = new Set((caps ? caps.codecs : []).map((c) => c.mimeType.split('/')[1].toUpperCase()));
  return ['VP8', 'VP9', 'H264', 'H265', 'AV1'].filter((c) => names.has(c));
}

function preferCodec(transceiver, codec) {
  const caps = RTCRtpSender.getCapabilities('video');
  if (!caps || !transceiver.setCodecPreferences) return;
  const main = caps.codecs.filter((c) => c.mimeType.toLowerCase() === `video/${codec.toLowerCase()}`);
  if (!main.length) throw new Error(`this browser cannot send ${codec}`);
  const aux = caps.codecs.filter((c) => /\/(rtx|red|ulpfec)$/i.test(c.mimeType));
  transceiver.setCodecPreferences([...main, ...aux]);
}

function waitGathering(pc, ms = 2000) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

/** POSTs the offer, applies the answer; returns {location, links}. */
async function negotiate(pc, url, token) {
  await pc.setLocalDescription(await pc.createOffer());
  await waitGathering(pc);
  const headers = { 'Content-Type': 'application/sdp' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(url, { method: 'POST', headers, body: pc.localDescription.sdp });
  } catch (e) {
    throw new ApiError(0, `cannot reach the server (${e.message})`, 'POST', url);
  }
  const body = await res.text();
  if (res.status !== 201) throw new ApiError(res.status, body.trim() || res.statusText, 'POST', url);
  const base = res.redirected ? res.url : location.href;
  const loc = res.headers.get('Location');
  if (!loc) throw new Error(`POST ${url} answered 201 without a Location header`);
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  return { location: new URL(loc, base).href, links: res.headers.get('Link') || '' };
}

/** DELETE a WHIP/WHEP session resource (errors are returned, not thrown). */
export async function hangup(sessionUrl, token = auth.token) {
  try {
    const res = await fetch(sessionUrl, { method: 'DELETE', headers: token ? { Authorization: `Bearer ${token}` } : {} });
    return res.ok ? null : `${res.status} ${(await res.text()).trim()}`;
  } catch (e) {
    return String(e.message || e);
  }
}

/** A WHEP player on `video`. */
export async function play(stream, video, token = auth.token) {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const ms = new MediaStream();
  pc.addEventListener('track', (e) => {
    ms.addTrack(e.track);
    video.srcObject = ms;
    video.play().catch(() => {});
  });
  try {
    const { location: sessionUrl, links } = await negotiate(pc, `/whep/${encodeURIComponent(stream)}`, token);
    const layerLink = /<([^>]+)>;\s*rel="urn:ietf:params:whep:ext:core:layer"/.exec(links);
    return { pc, stream, sessionUrl, layerUrl: layerLink ? new URL(layerLink[1], sessionUrl).href : null };
  } catch (e) {
    pc.close();
    throw e;
  }
}

/** Captures camera or screen and publishes it with WHIP. */
export async function publish({ stream, source, codec, audio, simulcast, token = auth.token }) {
  const media =
    source === 'screen'
      ? await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 30 }, audio })
      : await navigator.mediaDevices.getUserMedia({
          video: { width: 1280, height: 720 },
          audio,
        });
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  try {
    const vt = media.getVideoTracks()[0];
    if (vt) {
      const init = { direction: 'sendonly', streams: [media] };
      if (simulcast) init.sendEncodings = SIMULCAST_ENCODINGS;
      const tr = pc.addTransceiver(vt, init);
      if (codec) preferCodec(tr, codec);
    }
    for (const at of media.getAudioTracks()) pc.addTransceiver(at, { direction: 'sendonly', streams: [media] });
    const { location: sessionUrl } = await negotiate(pc, `/whip/${encodeURIComponent(stream)}`, token);
    return { pc, media, stream, codec, simulcast, source, sessionUrl, token };
  } catch (e) {
    pc.close();
    media.getTracks().forEach((t) => t.stop());
    throw e;
  }
}

/**
 * One getStats() sample. `prev` is the previous sample (for bitrates).
 * Returns {video, audio, rttMs, lossPct, ...} for a receiver or a sender.
 */
export async function sample(pc, prev) {
  const report = await pc.getStats();
  const out = { t: performance.now(), bytesVideo: 0, bytesAudio: 0, outbound: [] };
  let lost = 0;
  let received = 0;
  const codecs = {};
  report.forEach((s) => {
    if (s.type === 'codec') codecs[s.id] = s.mimeType;
  });
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.bytesVideo += s.bytesReceived || 0;
      out.framesDecoded = s.framesDecoded || 0;
      out.fps = s.framesPerSecond;
      out.width = s.frameWidth;
      out.height = s.frameHeight;
      out.codec = codecs[s.codecId];
      lost += s.packetsLost || 0;
      received += s.packetsReceived || 0;
      out.jitterMs = s.jitter != null ? s.jitter * 1000 : undefined;
    } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.bytesAudio += s.bytesReceived || 0;
      lost += s.packetsLost || 0;
      received += s.packetsReceived || 0;
    } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.bytesVideo += s.bytesSent || 0;
      out.outbound.push({ rid: s.rid || '', width: s.frameWidth, height: s.frameHeight, fps: s.framesPerSecond, bytes: s.bytesSent || 0, limit: s.qualityLimitationReason });
      out.codec = codecs[s.codecId] || out.codec;
      if (!out.width || (s.frameWidth || 0) > out.width) {
        out.width = s.frameWidth;
        out.height = s.frameHeight;
        out.fps = s.framesPerSecond;
      }
    } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
      out.bytesAudio += s.bytesSent || 0;
    } else if (s.type === 'remote-inbound-rtp') {
      lost += s.packetsLost || 0;
    } else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
      if (s.currentRoundTripTime != null) out.rttMs = s.currentRoundTripTime * 1000;
    }
  });
  out.lossPct = received + lost > 0 ? (100 * lost) / (received + lost) : 0;
  out.packetsLost = lost;
  if (prev) {
    const dt = (out.t - prev.t) / 1000;
    if (dt > 0) {
      out.videoBps = (8 * (out.bytesVideo - prev.bytesVideo)) / dt;
      out.audioBps = (8 * (out.bytesAudio - prev.bytesAudio)) / dt;
      for (const o of out.outbound) {
        const p = prev.outbound.find((x) => x.rid === o.rid);
        if (p) o.bps = (8 * (o.bytes - p.bytes)) / dt;
      }
    }
  }
  return out;
}

/** The page's publisher, kept while the operator browses other pages. */
export const onAir = {
  current: null,
  listeners: new Set(),
  set(p) {
    this.current = p;
    this.listeners.forEach((f) => f(p));
  },
  async stop() {
    const p = this.current;
    if (!p) return null;
    const err = await hangup(p.sessionUrl, p.token);
    p.pc.close();
    p.media.getTracks().forEach((t) => t.stop());
    this.set(null);
    return err;
  },
};
