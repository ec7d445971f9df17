#!/usr/bin/env python3
"""The independent peer for the GStreamer interop tests, built on aiortc.

    aiortc_peer.py play    URL [--codec VP8|H264] [--frames 60] [--expect-freq HZ] [--timeout 30]
    aiortc_peer.py publish URL [--codec VP8|H264] [--freq 660] [--seconds 20]

`play` subscribes over WHEP (retrying while the stream has no publisher yet),
decodes video frames and measures the audio tone by zero crossings.
`publish` sends a moving-bar picture and a sine tone over WHIP.

Prints one JSON line on stdout; diagnostics go to stderr. Exit code: 0
success, 1 failure.
"""

import argparse
import array
import asyncio
import json
import math
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from fractions import Fraction

try:
    import av
    from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription, VideoStreamTrack
except ImportError as e:  # pragma: no cover - environment problem
    print(json.dumps({"ok": False, "error": f"aiortc not installed ({e}); run scripts/install-test-deps"}))
    sys.exit(1)

RATE = 48000
T0 = time.monotonic()


def log(*a):
    print(f"[{time.monotonic() - T0:6.2f}]", *a, file=sys.stderr, flush=True)


def http(method, url, body=None, token=None):
    headers = {"Content-Type": "application/sdp"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body.encode() if body else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")


class Tone(MediaStreamTrack):
    """A sine tone, 20 ms mono s16 frames at 48 kHz."""

    kind = "audio"

    def __init__(self, freq):
        super().__init__()
        self.freq = freq
        self.n = 0
        self.start = None

    async def recv(self):
        samples = RATE // 50
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.n / RATE
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        w = 2 * math.pi * self.freq / RATE
        pcm = array.array("h", (int(12000 * math.sin(w * (self.n + i))) for i in range(samples)))
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
        frame.planes[0].update(pcm.tobytes())
        frame.sample_rate = RATE
        frame.pts = self.n
        frame.time_base = Fraction(1, RATE)
        self.n += samples
        return frame


class Bars(VideoStreamTrack):
    """320x240 yuv420p, a moving bright bar on grey."""

    def __init__(self):
        super().__init__()
        self.n = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(320, 240, "yuv420p")
        y, u, v = frame.planes
        ys = y.line_size
        row = bytearray([60]) * ys
        x = (self.n * 4) % 296
        row[x : x + 24] = bytes([220]) * 24
        y.update(bytes(row) * 240)
        u.update(bytes([128]) * (u.line_size * 120))
        v.update(bytes([128]) * (v.line_size * 120))
        frame.pts = pts
        frame.time_base = time_base
        self.n += 1
        return frame


def measure(samples):
    """(frequency by zero crossings, RMS) of the last 2 s of mono samples."""
    s = samples[-RATE * 2 :]
    if len(s) < RATE // 2:
        return None, 0.0
    rms = math.sqrt(sum(v * v for v in s) / len(s))
    crossings = sum(1 for a, b in zip(s, s[1:]) if (a < 0) != (b < 0))
    return crossings / 2 / (len(s) / RATE), rms


def channel0(f):
    """Channel 0 of a decoded audio frame as a list of ints (s16 or float)."""
    chans = len(f.layout.channels)
    name = f.format.name
    data = bytes(f.planes[0])
    if name.startswith("s16"):
        vals = array.array("h", data[: len(data) // 2 * 2])
        vals = vals[: f.samples * (1 if f.format.is_planar else chans)]
        return list(vals if f.format.is_planar else vals[::chans])
    if name.startswith("flt"):
        vals = array.array("f", data[: len(data) // 4 * 4])
        vals = vals[: f.samples * (1 if f.format.is_planar else chans)]
        return [int(x * 32767) for x in (vals if f.format.is_planar else vals[::chans])]
    raise RuntimeError(f"unexpected audio format {name}")


def video_prefs(codec):
    """`codec` (H.264: constrained baseline 42e01f only) plus rtx."""
    out = []
    for c in RTCRtpSender.getCapabilities("video").codecs:
        mime = c.mimeType.lower()
        if mime == "video/rtx":
            out.append(c)
        elif mime == f"video/{codec.lower()}":
            if codec == "H264" and c.parameters.get("profile-level-id") != "42e01f":
                continue
            out.append(c)
    return out


async def negotiate(pc, url, opts, retry_until):
    offer = await pc.createOffer()
    await pc.setLocalDescription(offer)
    while True:
        status, headers, body = await asyncio.to_thread(http, "POST", url, pc.localDescription.sdp, opts.token)
        log("POST", url, "->", status)
        if status == 201:
            break
        if time.monotonic() > retry_until or status not in (404, 409, 503):
            raise RuntimeError(f"POST {url} answered {status}: {body.strip()[:300]}")
        await asyncio.sleep(0.5)
    loc = headers.get("Location") or headers.get("location")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    return urllib.parse.urljoin(url, loc) if loc else None, body


async def play(opts, result):
    pc = RTCPeerConnection()
    frames = {"n": 0, "first": None, "size": None}
    audio = []
    started = time.monotonic()

    async def consume(track):
        try:
            while True:
                f = await track.recv()
                if track.kind == "video":
                    if frames["n"] == 0:
                        frames["first"] = time.monotonic()
                        frames["size"] = [f.width, f.height]
                        log("first video frame", f.width, f.height)
                    frames["n"] += 1
                else:
                    if f.sample_rate != RATE:
                        raise RuntimeError(f"audio at {f.sample_rate} Hz")
                    audio.extend(channel0(f))
        except Exception as e:  # MediaStreamError at the end
            log(track.kind, "ended:", type(e).__name__)

    pc.on("track", lambda t: asyncio.ensure_future(consume(t)))
    tv = pc.addTransceiver("video", direction="recvonly")
    tv.setCodecPreferences(video_prefs(opts.codec))
    pc.addTransceiver("audio", direction="recvonly")
    location, _ = await negotiate(pc, opts.url, opts, started + opts.timeout / 2)
    try:
        end = started + opts.timeout
        while time.monotonic() < end:
            if frames["n"] >= opts.frames and len(audio) >= RATE * 2.5:
                break
            await asyncio.sleep(0.1)
    finally:
        if location:
            await asyncio.to_thread(http, "DELETE", location, None, opts.token)
        await pc.close()
    samples = audio
    freq, rms = measure(samples)
    result.update(
        video_frames=frames["n"],
        video_size=frames["size"],
        audio_seconds=round(len(samples) / RATE, 2),
        audio_freq=round(freq, 1) if freq is not None else None,
        audio_rms=round(rms, 1),
    )
    if frames["first"] is not None:
        result["first_frame_s"] = round(frames["first"] - started, 3)
    if frames["n"] < opts.frames:
        raise RuntimeError(f"only {frames['n']} video frames decoded within {opts.timeout} s")
    if opts.expect_freq and (freq is None or abs(freq - opts.expect_freq) > opts.expect_freq * 0.05 or rms < 300):
        raise RuntimeError(f"audio tone {freq} Hz (rms {rms:.0f}), expected {opts.expect_freq} Hz")


async def publish(opts, result):
    pc = RTCPeerConnection()
    connected = asyncio.Event()

    @pc.on("connectionstatechange")
    def _():
        log("connection", pc.connectionState)
        if pc.connectionState == "connected":
            connected.set()

    tv = pc.addTransceiver(Bars(), direction="sendonly")
    tv.setCodecPreferences(video_prefs(opts.codec))
    pc.addTransceiver(Tone(opts.freq), direction="sendonly")
    started = time.monotonic()
    location, _ = await negotiate(pc, opts.url, opts, started)
    try:
        await asyncio.wait_for(connected.wait(), 15)
        result["connect_s"] = round(time.monotonic() - started, 3)
        print(json.dumps({"publishing": True}), flush=True)
        await asyncio.sleep(opts.seconds)
    finally:
        if location:
            await asyncio.to_thread(http, "DELETE", location, None, opts.token)
        await pc.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["play", "publish"])
    ap.add_argument("url")
    ap.add_argument("--codec", default="VP8", type=str.upper, choices=["VP8", "H264"])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--expect-freq", type=float)
    ap.add_argument("--freq", type=float, default=660.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--token")
    opts = ap.parse_args()
    result = {"ok": False, "mode": opts.mode}
    try:
        asyncio.run(play(opts, result) if opts.mode == "play" else publish(opts, result))
        result["ok"] = True
    except Exception as e:
        result["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(result), flush=True)
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
