#!/usr/bin/env python3
"""aiortc end-to-end test against a running wishcast media node.

    python3 tests/aiortc/e2e.py --base http://127.0.0.1:PORT [--codec VP8|H264]
        [--scenario pubsub|early-subscribe] [--frames 60] [--token T]

An aiortc publisher sends a synthetic video track (a moving bar plus the frame
number written as 16 black/white blocks) and silent Opus audio to
POST /whip/{stream}; an aiortc subscriber plays it from POST /whep/{stream}.
The subscriber decodes the frames and checks their size, that the encoded
frame numbers are read back correctly (and increase), and that audio arrives.

Prints one JSON line on stdout ({"ok": true|false, ...}); diagnostics go to
stderr. Exit code: 0 success, 1 failure, 2 usage error.
"""

import argparse
import asyncio
import json
import logging
import random
import string
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from fractions import Fraction

try:
    import av
    from aiortc import (
        AudioStreamTrack,
        RTCPeerConnection,
        RTCRtpSender,
        RTCSessionDescription,
        VideoStreamTrack,
    )
except ImportError as e:  # pragma: no cover - environment problem
    print(json.dumps({"ok": False, "error": f"aiortc not installed ({e}); run scripts/install-test-deps"}))
    sys.exit(1)

# Record which codecs the receivers actually decode (aiortc picks the decoder
# from the RTP payload type; the answer SDP may list several codecs).
import aiortc.rtcrtpreceiver as _rtcrtpreceiver

DECODED_CODECS = set()
_get_decoder = _rtcrtpreceiver.get_decoder


def _recording_get_decoder(codec):
    DECODED_CODECS.add(codec.mimeType)
    return _get_decoder(codec)


_rtcrtpreceiver.get_decoder = _recording_get_decoder

WIDTH, HEIGHT = 320, 240
BITS = 16
BLOCK_W = WIDTH // BITS
BLOCK_H = 32
LUMA_BLACK, LUMA_WHITE = 16, 235


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class PatternTrack(VideoStreamTrack):
    """320x240 yuv420p: the frame number as 16 blocks on top, a moving bar below."""

    def __init__(self, fps=30):
        super().__init__()
        self.n = 0
        self.fps = fps

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        y, u, v = frame.planes
        ys = y.line_size
        buf = bytearray([80]) * (ys * HEIGHT)
        n = self.n & 0xFFFF
        for bit in range(BITS):
            val = LUMA_WHITE if (n >> (BITS - 1 - bit)) & 1 else LUMA_BLACK
            row = bytes([val]) * BLOCK_W
            for r in range(BLOCK_H):
                off = r * ys + bit * BLOCK_W
                buf[off : off + BLOCK_W] = row
        bar_x = (self.n * 4) % (WIDTH - 24)
        bar = bytes([200]) * 24
        for r in range(BLOCK_H + 8, HEIGHT):
            off = r * ys + bar_x
            buf[off : off + 24] = bar
        y.update(bytes(buf))
        u.update(bytes([128]) * (u.line_size * (HEIGHT // 2)))
        v.update(bytes([128]) * (v.line_size * (HEIGHT // 2)))
        frame.pts = pts
        frame.time_base = time_base
        self.n += 1
        return frame


def read_counter(frame):
    """Reads the 16-bit frame number back from a decoded frame (None if unreadable)."""
    if frame.format.name != "yuv420p":
        frame = frame.reformat(format="yuv420p")
    plane = frame.planes[0]
    data = bytes(plane)
    ys = plane.line_size
    n = 0
    row = BLOCK_H // 2
    for bit in range(BITS):
        x = bit * BLOCK_W + BLOCK_W // 2
        px = data[row * ys + x]
        if LUMA_BLACK + 40 < px < LUMA_WHITE - 40:
            return None
        n = (n << 1) | (1 if px > 128 else 0)
    return n


def http(method, url, body=None, content_type=None, token=None):
    """Blocking HTTP request -> (status, headers, text)."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, dict(res.headers), res.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")


def answer_video_codecs(sdp):
    """Codec names of the m=video section of an SDP, in payload-type order."""
    lines = sdp.splitlines()
    in_video, pts = False, []
    rtpmap = {}
    for line in lines:
        if line.startswith("m="):
            in_video = line.startswith("m=video")
            if in_video:
                pts = line.split()[3:]
        elif in_video and line.startswith("a=rtpmap:"):
            pt, rest = line[len("a=rtpmap:") :].split(" ", 1)
            rtpmap[pt] = rest.split("/")[0]
    return [rtpmap[pt] for pt in pts if pt in rtpmap]


class Session:
    def __init__(self, name, opts):
        self.name = name
        self.opts = opts
        self.pc = RTCPeerConnection()
        self.location = None
        self.answer = None
        self.events = []
        self.pc.on("connectionstatechange", lambda: self.events.append(f"pc:{self.pc.connectionState}@{time.monotonic():.2f}"))
        self.pc.on("iceconnectionstatechange", lambda: self.events.append(f"ice:{self.pc.iceConnectionState}@{time.monotonic():.2f}"))

    async def negotiate(self, url):
        offer = await self.pc.createOffer()
        await self.pc.setLocalDescription(offer)  # aiortc gathers candidates here
        status, headers, text = await asyncio.to_thread(
            http, "POST", url, self.pc.localDescription.sdp, "application/sdp", self.opts.token
        )
        hdr = {k.lower(): v for k, v in headers.items()}
        if status not in (200, 201):
            raise RuntimeError(f"{self.name}: POST {url} -> HTTP {status}: {text[:500]}")
        self.location = hdr.get("location")
        self.answer = text
        if not self.location:
            raise RuntimeError(f"{self.name}: POST {url} -> {status} without Location header")
        if not text.startswith("v=0"):
            raise RuntimeError(f"{self.name}: POST {url} -> body is not SDP: {text[:300]}")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=text, type="answer"))

    async def wait_connected(self, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.pc.connectionState == "connected":
                return
            if self.pc.connectionState in ("failed", "closed"):
                break
            await asyncio.sleep(0.05)
        raise RuntimeError(
            f"{self.name}: not connected (connectionState={self.pc.connectionState} "
            f"iceConnectionState={self.pc.iceConnectionState} events={self.events})"
        )

    async def close(self, delete=True):
        """DELETE the session resource first (while it is alive), then close the PeerConnection."""
        status = None
        if delete and self.location:
            url = urllib.parse.urljoin(self.opts.base + "/", self.location)
            status, _, _ = await asyncio.to_thread(http, "DELETE", url, None, None, self.opts.token)
            self.location = None
        await self.pc.close()
        return status

    def diag(self):
        return {"name": self.name, "location": self.location, "events": self.events, "answer": self.answer}


async def publish(opts, url):
    s = Session("publisher", opts)
    tr = s.pc.addTransceiver(PatternTrack(), direction="sendonly")
    caps = RTCRtpSender.getCapabilities("video")
    want = f"video/{opts.codec}".lower()
    prefs = [c for c in caps.codecs if c.mimeType.lower() == want]
    if not prefs:
        raise RuntimeError(f"aiortc cannot send {opts.codec}: {[c.mimeType for c in caps.codecs]}")
    prefs += [c for c in caps.codecs if c.mimeType.lower() == "video/rtx"]
    tr.setCodecPreferences(prefs)
    s.pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    await s.negotiate(url)
    return s


async def play(opts, url):
    s = Session("subscriber", opts)
    s.frames = []  # (monotonic, width, height, counter)
    s.audio_frames = 0
    s.errors = []

    async def consume(track):
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    s.frames.append((time.monotonic(), frame.width, frame.height, read_counter(frame)))
                else:
                    s.audio_frames += 1
        except Exception as e:  # MediaStreamError at the end
            s.errors.append(f"{track.kind}: {type(e).__name__} {e}")

    s.pc.on("track", lambda track: asyncio.ensure_future(consume(track)))
    s.pc.addTransceiver("video", direction="recvonly")
    s.pc.addTransceiver("audio", direction="recvonly")
    await s.negotiate(url)
    return s


async def run(opts, result):
    stream = opts.stream or "e2e-aiortc-%s-%s" % (
        opts.codec.lower(),
        "".join(random.choices(string.ascii_lowercase + string.digits, k=6)),
    )
    result["stream"] = stream
    whip = f"{opts.base}/whip/{urllib.parse.quote(stream)}"
    whep = f"{opts.base}/whep/{urllib.parse.quote(stream)}"
    sessions = []
    try:
        if opts.scenario == "early-subscribe":
            sub = await play(opts, whep)
            sessions.append(sub)
            await asyncio.sleep(1)
            pub = await publish(opts, whip)
            sessions.append(pub)
        else:
            pub = await publish(opts, whip)
            sessions.append(pub)
            await pub.wait_connected()
            sub = await play(opts, whep)
            sessions.append(sub)
        await pub.wait_connected()
        await sub.wait_connected()
        result["answerCodecs"] = answer_video_codecs(sub.answer)

        t0 = time.monotonic()
        while len(sub.frames) < opts.frames and time.monotonic() - t0 < opts.timeout:
            await asyncio.sleep(0.1)
        frames = list(sub.frames)
        result["framesDecoded"] = len(frames)
        result["audioFrames"] = sub.audio_frames
        sizes = sorted({(w, h) for _, w, h, _ in frames})
        result["sizes"] = [f"{w}x{h}" for w, h in sizes]
        counters = [c for *_, c in frames if c is not None]
        result["countersRead"] = len(counters)
        result["counterRange"] = [min(counters), max(counters)] if counters else None
        increasing = sum(1 for a, b in zip(counters, counters[1:]) if b > a)
        result["counterIncreasing"] = increasing
        if len(frames) >= 2:
            result["fps"] = round((len(frames) - 1) / max(frames[-1][0] - frames[0][0], 1e-3), 1)

        failures = []
        if len(frames) < opts.frames:
            failures.append(f"subscriber decoded {len(frames)} video frames in {opts.timeout} s, expected >= {opts.frames}")
        if sizes != [(WIDTH, HEIGHT)]:
            failures.append(f"decoded frame sizes {sizes}, expected only {WIDTH}x{HEIGHT}")
        if len(counters) < 0.8 * len(frames) or (frames and not counters):
            failures.append(f"only {len(counters)} of {len(frames)} decoded frames carry a readable frame number (corrupt decode?)")
        if counters and increasing < 0.8 * (len(counters) - 1):
            failures.append(f"frame numbers do not increase ({increasing} of {len(counters) - 1} steps): {counters[:20]}")
        if sub.audio_frames == 0:
            failures.append("subscriber received no audio frames")
        result["decodedCodecs"] = sorted(c for c in DECODED_CODECS if c.lower().startswith("video/"))
        if opts.codec.lower() not in [c.lower() for c in result["answerCodecs"]]:
            failures.append(f"WHEP answer's video codecs {result['answerCodecs']} lack {opts.codec}")
        if result["decodedCodecs"] != [f"video/{opts.codec}"]:
            failures.append(f"subscriber decoded video as {result['decodedCodecs']}, expected only video/{opts.codec}")
        if failures:
            raise RuntimeError("; ".join(failures))

        result["deleteSubscriber"] = await sub.close()
        result["deletePublisher"] = await pub.close()
        sessions = []
        for who in ("deleteSubscriber", "deletePublisher"):
            if result[who] not in (200, 204):
                raise RuntimeError(f"{who}: DELETE -> HTTP {result[who]}")
    except BaseException:
        for s in sessions:
            log(json.dumps(s.diag()))
            if hasattr(s, "errors"):
                log(f"{s.name} track errors: {s.errors}; frames={len(s.frames)}")
        raise
    finally:
        for s in sessions:
            try:
                await s.close(delete=True)
            except Exception:
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--codec", default="VP8", type=str.upper, choices=["VP8", "H264"])
    ap.add_argument("--scenario", default="pubsub", choices=["pubsub", "early-subscribe"])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--stream")
    ap.add_argument("--token")
    ap.add_argument("--verbose", action="store_true")
    opts = ap.parse_args()
    opts.base = opts.base.rstrip("/")
    if opts.verbose:
        logging.basicConfig(level=logging.DEBUG)
    result = {"ok": False, "tool": "aiortc", "scenario": opts.scenario, "codec": opts.codec}
    t0 = time.monotonic()
    try:
        asyncio.run(asyncio.wait_for(run(opts, result), timeout=opts.timeout + 40))
        result["ok"] = True
    except BaseException as e:  # noqa: BLE001 - report everything
        result["error"] = f"{type(e).__name__}: {e}"
    result["elapsedS"] = round(time.monotonic() - t0, 2)
    print(json.dumps(result), flush=True)
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
