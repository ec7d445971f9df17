#!/usr/bin/env python3
"""A WHIP/WHEP client built on GStreamer's webrtcbin (GStreamer 1.22, Debian 12).

    webrtcbin.py publish URL [--codec VP8|H264] [--freq 440] [--seconds 8] [--token T]
    webrtcbin.py play    URL [--codec VP8|H264] [--frames 60] [--timeout 25] [--token T]
    webrtcbin.py offer       [--codec VP8|H264] [--play]   (print an offer to stderr; no network)

`publish` sends a live test picture (VP8 or H.264) and a sine tone (Opus) to a
WHIP endpoint; `play` receives from a WHEP endpoint, decodes, counts video
frames and measures the audio tone's frequency (zero crossings). The HTTP
exchange is done here with urllib (Debian's simple-whip-client aborts: it links
libsoup2 while libnice pulls libsoup3). Offers are sent after ICE gathering
completes (no trickle), as webrtcbin's own whipsink does.

libnice never gathers loopback candidates: run this inside a network namespace
with a veth pair to the node (the wishcast e2e tests do that).

Must run with the system python (/usr/bin/python3: python3-gst-1.0,
gir1.2-gst-plugins-bad-1.0). Prints one JSON line on stdout; diagnostics go to
stderr. Exit code: 0 success, 1 failure, 2 usage error.
"""

import argparse
import json
import math
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstWebRTC", "1.0")
    gi.require_version("GstSdp", "1.0")
    from gi.repository import GLib, Gst, GstSdp, GstWebRTC
except (ImportError, ValueError) as e:  # pragma: no cover - environment problem
    print(json.dumps({"ok": False, "error": f"GStreamer python bindings missing ({e}); run scripts/install-test-deps"}))
    sys.exit(1)

RATE = 48000
T0 = time.monotonic()


def log(*a):
    print(f"[{time.monotonic() - T0:6.2f}]", *a, file=sys.stderr, flush=True)


def http(method, url, body=None, token=None):
    headers = {}
    if body is not None:
        headers["Content-Type"] = "application/sdp"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body.encode() if body is not None else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")


def video_chain(codec, pt):
    """(encoder ! payloader, RTP caps) for `codec` on payload type `pt`."""
    if codec == "VP8":
        return (
            f"vp8enc deadline=1 target-bitrate=600000 keyframe-max-dist=30 cpu-used=8 ! rtpvp8pay pt={pt} mtu=1200",
            f"application/x-rtp,media=video,encoding-name=VP8,payload={pt},clock-rate=90000",
        )
    return (
        "x264enc tune=zerolatency speed-preset=ultrafast bitrate=600 key-int-max=30 ! "
        f"video/x-h264,profile=constrained-baseline ! rtph264pay pt={pt} mtu=1200 config-interval=-1 "
        "aggregate-mode=zero-latency",
        f"application/x-rtp,media=video,encoding-name=H264,payload={pt},clock-rate=90000,packetization-mode=(string)1",
    )


CODECS = ["H264", "VP8"]
DEFAULT_VIDEO_PT = {"VP8": 96, "H264": 102}


def audio_caps(pt):
    return f"application/x-rtp,media=audio,encoding-name=OPUS,payload={pt},clock-rate=48000"




class Client:
    """One webrtcbin in a pipeline, negotiated over WHIP/WHEP (non-trickle)."""

    def __init__(self, opts, pipeline):
        self.opts = opts
        self.pipe = pipeline
        self.wb = pipeline.get_by_name("wb")
        self.loop = GLib.MainLoop()
        self.result = {"ok": False}
        self.location = None
        self.offer_sdp = None
        self.connected_at = None
        self.failed = None
        self.wb.connect("notify::ice-gathering-state", self.on_gathering)
        self.wb.connect("notify::connection-state", self.on_conn)
        self.wb.connect("notify::ice-connection-state", self.on_ice)
        bus = pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_error)

    def on_error(self, _bus, msg):
        err, dbg = msg.parse_error()
        self.fail(f"pipeline error: {err.message} ({dbg})")

    def fail(self, why):
        if self.failed is None:
            log("FAIL:", why)
            self.failed = why
        GLib.idle_add(self.loop.quit)

    def on_ice(self, wb, _p):
        log("ice-connection-state", wb.get_property("ice-connection-state").value_nick)

    def on_conn(self, wb, _p):
        st = wb.get_property("connection-state")
        log("connection-state", st.value_nick)
        if st == GstWebRTC.WebRTCPeerConnectionState.CONNECTED and self.connected_at is None:
            self.connected_at = time.monotonic()
        elif st == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            self.fail("peer connection failed (ICE or DTLS)")

    def make_offer(self):
        def on_offer(promise, _data):
            reply = promise.get_reply()
            offer = reply.get_value("offer")
            self.offer_sdp = offer.sdp.as_text()
            p = Gst.Promise.new()
            self.wb.emit("set-local-description", offer, p)
            p.interrupt()
            log("local offer set; gathering candidates")

        self.wb.emit("create-offer", None, Gst.Promise.new_with_change_func(on_offer, None))

    def on_gathering(self, wb, _p):
        st = wb.get_property("ice-gathering-state")
        log("ice-gathering-state", st.value_nick)
        if st == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            GLib.idle_add(self.send_offer)

    def send_offer(self):
        local = self.wb.get_property("local-description")
        sdp = local.sdp.as_text()
        if self.opts.dump_offer:
            with open(self.opts.dump_offer, "w") as f:
                f.write(sdp)
        if self.opts.mode == "offer":
            self.result = {"ok": True}
            print(sdp, file=sys.stderr)
            self.loop.quit()
            return False
        url = self.opts.url
        threading.Thread(target=self.post, args=(url, sdp), daemon=True).start()
        return False

    def post(self, url, sdp):
        self.posted_at = time.monotonic()
        status, headers, body = http("POST", url, sdp, self.opts.token)
        log("POST", url, "->", status)
        self.result["post_status"] = status
        if status != 201:
            self.fail(f"POST {url} answered {status}: {body.strip()[:500]}")
            return
        loc = headers.get("Location") or headers.get("location")
        if loc:
            self.location = urllib.parse.urljoin(url, loc)
        self.result["answer_bundle"] = next((l for l in body.splitlines() if l.startswith("a=group:BUNDLE")), None)
        self.result["answer_mlines"] = [l for l in body.splitlines() if l.startswith("m=")]
        GLib.idle_add(self.set_answer, body)

    def set_answer(self, text):
        res, msg = GstSdp.SDPMessage.new_from_text(text)
        if res != GstSdp.SDPResult.OK:
            self.fail("the answer is not parseable SDP")
            return False
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        p = Gst.Promise.new()
        self.wb.emit("set-remote-description", answer, p)
        p.interrupt()
        log("remote answer set")
        return False

    def delete(self):
        if self.location:
            status, _, _ = http("DELETE", self.location, None, self.opts.token)
            log("DELETE", self.location, "->", status)
            self.result["delete_status"] = status

    def run(self, timeout):
        GLib.timeout_add(int(timeout * 1000), self.on_timeout)
        self.pipe.set_state(Gst.State.PLAYING)
        self.loop.run()
        self.pipe.set_state(Gst.State.NULL)

    def on_timeout(self):
        self.loop.quit()
        return False


def set_directions(wb, direction):
    for i in range(8):
        t = wb.emit("get-transceiver", i)
        if t is None:
            break
        t.set_property("direction", direction)


def publish(opts):
    venc, vcaps = video_chain(opts.codec, opts.video_pt)
    # Audio first: webrtcbin then offers `BUNDLE audio0 video1` with the video
    # section as `m=video 0` + `a=bundle-only` (RFC 8843 max-bundle).
    desc = (
        "webrtcbin name=wb bundle-policy=max-bundle "
        f"audiotestsrc is-live=true wave=sine freq={opts.freq} volume=0.4 ! audioconvert ! audioresample ! "
        f"audio/x-raw,rate={RATE},channels=1 ! opusenc bitrate=64000 ! rtpopuspay pt={opts.audio_pt} ! {audio_caps(opts.audio_pt)} ! wb. "
        "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! "
        f"videoconvert ! {venc} ! {vcaps} ! wb. "
    )
    pipe = Gst.parse_launch(desc)
    c = Client(opts, pipe)
    started = {}

    def on_negotiation_needed(wb):
        if started:
            return
        started["x"] = True
        set_directions(wb, GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        c.make_offer()

    c.wb.connect("on-negotiation-needed", on_negotiation_needed)
    deadline = {}

    def check():
        if c.failed:
            return False
        if c.connected_at is not None:
            if "end" not in deadline:
                deadline["end"] = time.monotonic() + opts.seconds
                log(f"connected; sending for {opts.seconds} s")
            elif time.monotonic() >= deadline["end"]:
                c.result["ok"] = True
                c.loop.quit()
                return False
        return True

    GLib.timeout_add(100, check)
    c.run(opts.timeout + opts.seconds)
    if c.connected_at is not None:
        c.result["connect_s"] = round(c.connected_at - c.posted_at, 3)
    if opts.mode == "publish" and not c.result["ok"] and not c.failed:
        c.failed = "not connected within the timeout"
    c.delete()
    return c


class Tone:
    """Collects mono S16 samples and estimates the frequency by zero crossings."""

    def __init__(self):
        self.samples = []
        self.lock = threading.Lock()

    def add(self, data):
        n = len(data) // 2
        vals = struct.unpack(f"<{n}h", data[: n * 2])
        with self.lock:
            self.samples.extend(vals)
            if len(self.samples) > RATE * 4:
                del self.samples[: len(self.samples) - RATE * 4]

    def seconds(self):
        with self.lock:
            return len(self.samples) / RATE

    def measure(self):
        with self.lock:
            s = self.samples[-RATE * 2 :]
        if len(s) < RATE // 2:
            return None, 0.0
        rms = math.sqrt(sum(v * v for v in s) / len(s))
        crossings = sum(1 for a, b in zip(s, s[1:]) if (a < 0) != (b < 0))
        return crossings / 2 / (len(s) / RATE), rms


def play(opts):
    _, vcaps = video_chain(opts.codec, opts.video_pt)
    if opts.codec == "H264":
        # What WebRTC senders use (constrained baseline 3.1); without it the
        # offer means baseline level 1.0 (RFC 6184 §8.1).
        vcaps += ",profile-level-id=(string)42e01f,level-asymmetry-allowed=(string)1"
    pipe = Gst.Pipeline.new("play")
    wbin = Gst.ElementFactory.make("webrtcbin", "wb")
    wbin.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
    pipe.add(wbin)
    c = Client(opts, pipe)
    wb = c.wb
    recv = GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY
    wb.emit("add-transceiver", recv, Gst.Caps.from_string(audio_caps(opts.audio_pt)))
    wb.emit("add-transceiver", recv, Gst.Caps.from_string(vcaps))
    frames = {"n": 0, "first": None, "size": None}
    tone = Tone()

    def on_video(sink):
        sample = sink.emit("pull-sample")
        if frames["n"] == 0:
            frames["first"] = time.monotonic()
            st = sample.get_caps().get_structure(0)
            frames["size"] = [st.get_value("width"), st.get_value("height")]
            log("first decoded video frame", frames["size"])
        frames["n"] += 1
        return Gst.FlowReturn.OK

    def on_audio(sink):
        sample = sink.emit("pull-sample")
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        if ok:
            tone.add(bytes(info.data))
            buf.unmap(info)
        return Gst.FlowReturn.OK

    def on_decoded(_dbin, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        name = caps.get_structure(0).get_name()
        log("decoded pad", name)
        if name.startswith("video"):
            chain = "videoconvert ! video/x-raw,format=I420 ! appsink name=vs emit-signals=true sync=false"
            cb = on_video
        elif name.startswith("audio"):
            chain = (
                f"audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate={RATE},channels=1 ! "
                "appsink name=as emit-signals=true sync=false"
            )
            cb = on_audio
        else:
            return
        bin_ = Gst.parse_bin_from_description(chain, True)
        pipe.add(bin_)
        bin_.sync_state_with_parent()
        sink = bin_.get_by_name("vs") or bin_.get_by_name("as")
        sink.connect("new-sample", cb)
        pad.link(bin_.get_static_pad("sink"))

    def on_pad(_wb, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        log("webrtcbin src pad", pad.get_name())
        dbin = Gst.ElementFactory.make("decodebin")
        dbin.connect("pad-added", on_decoded)
        pipe.add(dbin)
        dbin.sync_state_with_parent()
        pad.link(dbin.get_static_pad("sink"))

    wb.connect("pad-added", on_pad)
    started = {}

    def on_negotiation_needed(wb_):
        if not started:
            started["x"] = True
            c.make_offer()

    wb.connect("on-negotiation-needed", on_negotiation_needed)

    def check():
        if c.failed:
            return False
        if frames["n"] >= opts.frames and tone.seconds() >= 2.0:
            c.result["ok"] = True
            c.loop.quit()
            return False
        return True

    GLib.timeout_add(100, check)
    c.run(opts.timeout)
    freq, rms = tone.measure()
    c.result.update(
        {
            "video_frames": frames["n"],
            "video_size": frames["size"],
            "audio_seconds": round(tone.seconds(), 2),
            "audio_freq": round(freq, 1) if freq is not None else None,
            "audio_rms": round(rms, 1),
        }
    )
    if c.connected_at is not None:
        c.result["connect_s"] = round(c.connected_at - c.posted_at, 3)
    if frames["first"] is not None:
        c.result["first_frame_s"] = round(frames["first"] - c.posted_at, 3)
    if c.result["ok"] and opts.expect_freq:
        if freq is None or abs(freq - opts.expect_freq) > opts.expect_freq * 0.05 or rms < 300:
            c.result["ok"] = False
            c.failed = f"audio tone {freq} Hz (rms {rms:.0f}), expected {opts.expect_freq} Hz"
    if not c.result["ok"] and not c.failed:
        c.failed = f"only {frames['n']} video frames and {tone.seconds():.1f} s of audio within {opts.timeout} s"
    c.delete()
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["publish", "play", "offer"])
    ap.add_argument("url", nargs="?")
    ap.add_argument("--codec", default="VP8", type=str.upper, choices=CODECS)
    ap.add_argument("--video-pt", type=int, help="video payload type (default VP8 96, H264 102)")
    ap.add_argument("--audio-pt", type=int, default=111, help="Opus payload type")
    ap.add_argument("--freq", type=float, default=440.0, help="publish: tone frequency")
    ap.add_argument("--seconds", type=float, default=8.0, help="publish: how long to send once connected")
    ap.add_argument("--frames", type=int, default=60, help="play: decoded video frames needed")
    ap.add_argument("--expect-freq", type=float, help="play: the tone frequency to check")
    ap.add_argument("--timeout", type=float, default=25.0)
    ap.add_argument("--token")
    ap.add_argument("--dump-offer", help="write the offer SDP to this file")
    ap.add_argument("--play", action="store_true", help="offer: make a play (WHEP) offer")
    opts = ap.parse_args()
    if opts.mode != "offer" and not opts.url:
        ap.error("URL required")
    if opts.video_pt is None:
        opts.video_pt = DEFAULT_VIDEO_PT[opts.codec]
    Gst.init(None)
    c = play(opts) if opts.mode == "play" or (opts.mode == "offer" and opts.play) else publish(opts)
    r = c.result
    r["gstreamer"] = Gst.version_string()
    if c.failed:
        r["ok"] = False
        r["error"] = c.failed
    print(json.dumps(r), flush=True)
    sys.exit(0 if r["ok"] else 1)


if __name__ == "__main__":
    main()
