"""A synthetic participant: an aiortc client that publishes pre-encoded VP8 and Opus and
counts the encoded frames it receives, for tests and for ``bench/rooms_forwarding.py``.

Media is encoded once (PyAV, from FFmpeg's test sources) and then sent as ``av.Packet``
objects, so a client costs packetizing only. Received media is counted, not decoded (the
process must have :func:`media.internals.install_passthrough` installed).
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import av
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.codecs import AUDIO_CLOCK_RATE, VIDEO_CLOCK_RATE, is_vp8_keyframe
from media.internals import on_keyframe_request, passthrough_installed

FPS = 30
SCREEN_FPS = 15
AUDIO_FRAME = 960  # 20 ms at 48 kHz


class Changes:
    """Tells waiters that something a client saw changed (a frame, a message, a keyframe request)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Something changed."""
        self._event.set()

    async def until(
        self, condition: Callable[[], bool], seconds: float = 20.0, what: str = "condition"
    ) -> None:
        """Wait until ``condition()`` holds, checking it after every change; fail after ``seconds``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not condition():
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise AssertionError(f"timed out after {seconds} s waiting for {what}") from None


@dataclass
class EncodedClip:
    """Encoded frames to loop: VP8 video (the first one a keyframe) and 20 ms Opus packets."""

    video: list[bytes]
    audio: list[bytes]
    fps: int = FPS  # the video's frame rate


def encode_clip(
    seconds: float = 2.0, width: int = 320, height: int = 240, kbps: int = 400, pattern: str = "testsrc2"
) -> EncodedClip:
    """Encode an FFmpeg test pattern (``testsrc2``; ``color=c=white`` for a plain picture) and a
    sine tone, in this process."""
    options = f"size={width}x{height}:rate={FPS}:duration={seconds}"
    source = av.open(f"{pattern}{':' if '=' in pattern else '='}{options}", format="lavfi")
    vp8 = av.CodecContext.create("libvpx", "w")
    vp8.width, vp8.height, vp8.pix_fmt = width, height, "yuv420p"
    vp8.time_base = fractions.Fraction(1, FPS)
    vp8.bit_rate = kbps * 1000
    vp8.gop_size = int(seconds * FPS) + 1
    vp8.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    video: list[bytes] = []
    for frame in source.decode(video=0):
        # decoded frames are marked as intra pictures, which libvpx would encode as keyframes
        frame.pict_type = av.video.frame.PictureType.NONE
        video += [bytes(p) for p in vp8.encode(frame)]
    video += [bytes(p) for p in vp8.encode(None)]
    source.close()

    tone = av.open(f"sine=frequency=440:sample_rate={AUDIO_CLOCK_RATE}:duration={seconds}", format="lavfi")
    opus = av.CodecContext.create("libopus", "w")
    opus.sample_rate, opus.layout, opus.format = AUDIO_CLOCK_RATE, "mono", "s16"
    opus.bit_rate = 32000
    resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_CLOCK_RATE, frame_size=AUDIO_FRAME)
    audio = [
        bytes(p)
        for frame in tone.decode(audio=0)
        for chunk in resampler.resample(frame)
        for p in opus.encode(chunk)
    ]
    tone.close()
    return EncodedClip(video, audio)


def load_clip(video_path: str, audio_path: str, fps: int = FPS) -> EncodedClip:
    """Read encoded frames from files (an IVF or WebM of VP8, an Ogg or WebM of Opus)."""
    with av.open(video_path) as container:
        video = [bytes(p) for p in container.demux(video=0) if p.size]
    with av.open(audio_path) as container:
        audio = [bytes(p) for p in container.demux(audio=0) if p.size]
    return EncodedClip(video, audio, fps)


class ClipTrack(MediaStreamTrack):
    """Sends a clip's encoded frames in real time, looping; a keyframe request restarts the
    video at its first frame (a keyframe)."""

    def __init__(
        self, kind: str, frames: list[bytes], changes: Changes | None = None, fps: int = FPS
    ) -> None:
        super().__init__()
        self.kind = kind
        self.changes = changes or Changes()
        self.frames = frames
        self.period = 1 / fps if kind == "video" else AUDIO_FRAME / AUDIO_CLOCK_RATE
        self.ticks = VIDEO_CLOCK_RATE // fps if kind == "video" else AUDIO_FRAME
        self.time_base = fractions.Fraction(1, VIDEO_CLOCK_RATE if kind == "video" else AUDIO_CLOCK_RATE)
        self.keyframes_requested = 0
        self._index = 0
        self._count = 0
        self._start: float | None = None

    def keyframe_requested(self) -> None:
        """The server asked for a keyframe."""
        self.keyframes_requested += 1
        self._index = 0
        self.changes.notify()

    async def recv(self) -> av.Packet[Any]:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        delay = self._start + self._count * self.period - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        packet = av.Packet(self.frames[self._index])
        packet.pts = self._count * self.ticks
        packet.time_base = self.time_base
        self._count += 1
        self._index = (self._index + 1) % len(self.frames)
        return packet


@dataclass
class Received:
    """What arrived on one receiving m-line."""

    kind: str
    frames: int = 0
    keyframes: int = 0
    first_at: float | None = None
    first_was_keyframe: bool | None = None
    payloads: set[bytes] = field(default_factory=set)
    keep_payloads: bool = False


class SyntheticClient:
    """A participant driven from Python over the room's WebSocket (see ``media.protocol``).

    In the development room it names itself with ``join``; in a check session's room the
    server knows who it is (a log-in cookie of ``http``, or a guest link in the address) and a
    guest may first be told to wait.
    """

    def __init__(
        self,
        url: str,
        name: str,
        clip: EncodedClip,
        *,
        keep_payloads: bool = False,
        changes: Changes | None = None,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        assert passthrough_installed(), "received media would be decoded"
        self.changes = changes or Changes()
        self.url = url
        self.name = name
        self.clip = clip
        self.keep_payloads = keep_payloads
        self.id = ""
        self.state = "new"  # joined, waiting, refused, removed, replaced, closed
        self.messages: list[dict[str, Any]] = []
        self.roster: dict[str, Any] = {}
        self.slot_info: dict[str, dict[str, Any]] = {}
        self.received: dict[str, Received] = {}
        self.errors: list[dict[str, Any]] = []
        self.offered_at: float | None = None
        self.negotiated = 0
        self.tracks: dict[str, ClipTrack] = {}
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self._own_session = http is None
        self._session = http or aiohttp.ClientSession()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._negotiation = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._publish = True
        self._joined: dict[str, Any] = {}
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self.changes.notify)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def join(self, *, publish: bool = True, name: bool = True) -> dict[str, Any]:
        """Connect (and name itself, in the development room); publish the clip (camera and
        microphone) once admitted. The ``joined`` message, or what came instead (``waiting``,
        an ``error``)."""
        self._publish = publish
        self._ws = await self._session.ws_connect(self.url)
        if name:
            await self._ws.send_json({"type": "join", "name": self.name})
        self._spawn(self._read())
        await self.changes.until(lambda: self.state != "new", what="an answer to the join")
        if self.state == "joined":
            await self.changes.until(lambda: self.negotiated > 0, what="the first negotiation")
            return dict(self._joined)
        return dict(self.messages[-1])

    async def send(self, message: dict[str, Any]) -> None:
        """A message to the room (a moderation command, one's mute or hand)."""
        assert self._ws is not None
        await self._ws.send_json(message)

    async def _start(self, joined: dict[str, Any]) -> None:
        async with self._negotiation:
            self._add_publications()
            self._add_slots(joined["slots"])
            await self._negotiate()

    def _add_publications(self) -> None:
        if self._publish:
            for kind, source in (("audio", "microphone"), ("video", "camera")):
                frames = self.clip.video if kind == "video" else self.clip.audio
                track = ClipTrack(kind, frames, self.changes, self.clip.fps)
                transceiver = self.pc.addTransceiver(track, direction="sendonly")
                on_keyframe_request(transceiver.sender, track.keyframe_requested)
                self.tracks[source] = track

    def _add_slots(self, wanted: dict[str, int]) -> bool:
        added = False
        for kind in ("audio", "video"):
            have = sum(1 for t in self.pc.getTransceivers() if t.kind == kind and t.direction == "recvonly")
            for _ in range(have, wanted.get(kind, 0)):
                self.pc.addTransceiver(kind, direction="recvonly")
                added = True
        return added

    def source_of(self, transceiver: RTCRtpTransceiver) -> str:
        """What a sending m-line carries, as the offer names it."""
        return "camera" if transceiver.kind == "video" else "microphone"

    async def _more_slots(self, wanted: dict[str, int]) -> None:
        # Slots are added between negotiations (a transceiver added while an offer is out has no
        # m-line in its answer), and once connected: aiortc's task that connects after the first
        # answer walks the transceivers as it goes, and fails on one it finds in no answer yet.
        async with self._negotiation:
            await self.changes.until(
                lambda: self.pc.connectionState not in ("new", "connecting"), what="the connection"
            )
            if not self._add_slots(wanted):
                return
            await self._negotiate()

    async def negotiate(self) -> None:
        """Offer, wait for the answer, apply it."""
        async with self._negotiation:
            await self._negotiate()

    async def _negotiate(self) -> None:
        assert self._ws is not None
        await self.pc.setLocalDescription(await self.pc.createOffer())
        published = {
            t.mid: self.source_of(t)
            for t in self.pc.getTransceivers()
            if t.direction == "sendonly" and t.mid is not None
        }
        if self.offered_at is None:
            self.offered_at = time.perf_counter()
        await self._ws.send_json({"type": "offer", "sdp": self.pc.localDescription.sdp, "tracks": published})
        answer = await self._answers.get()
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        self.negotiated += 1
        self.changes.notify()

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = message.json()
            self.messages.append(data)
            kind = data["type"]
            if kind == "joined":
                self.id, self._joined, self.state = data["id"], data, "joined"
                self._spawn(self._start(data))
            elif kind in ("waiting", "removed", "replaced"):
                self.state = kind
            elif kind == "roster":
                self.roster = data
            elif kind == "answer":
                self._answers.put_nowait(data)
            elif kind == "slot":
                self.slot_info[data["mid"]] = data
            elif kind == "slots":
                self._spawn(self._more_slots(data))
            elif kind == "error":
                self.errors.append(data)
                if self.state == "new":
                    self.state = "refused"
            self.changes.notify()
        if self.state in ("new", "joined", "waiting"):
            self.state = "closed"
        self.changes.notify()

    def _on_track(self, track: MediaStreamTrack) -> None:
        mid = next(t.mid for t in self.pc.getTransceivers() if t.receiver.track is track)
        assert mid is not None
        self.received[mid] = Received(track.kind, keep_payloads=self.keep_payloads)
        self._spawn(self._count(track, self.received[mid]))

    async def _count(self, track: MediaStreamTrack, into: Received) -> None:
        try:
            while True:
                packet = await track.recv()
                data = bytes(packet) if isinstance(packet, av.Packet) else b""
                into.frames += 1
                if into.first_at is None:
                    into.first_at = time.perf_counter()
                    into.first_was_keyframe = is_vp8_keyframe(data)
                if into.kind == "video" and is_vp8_keyframe(data):
                    into.keyframes += 1
                if into.keep_payloads:
                    into.payloads.add(data)
                self.changes.notify()
        except MediaStreamError:
            pass

    def from_participant(self, participant_id: str, kind: str) -> Received | None:
        """What arrived from another participant's track of ``kind``."""
        for mid, info in self.slot_info.items():
            received = self.received.get(mid)
            if info.get("participant") == participant_id and received is not None and received.kind == kind:
                return received
        return None

    def video_frames(self) -> Iterator[int]:
        """Frames received so far on each video slot."""
        return (r.frames for r in self.received.values() if r.kind == "video")

    async def close(self) -> None:
        """Leave and close everything."""
        if self._ws is not None and not self._ws.closed:
            await self._ws.send_json({"type": "leave"})
            await self._ws.close()
        await self.pc.close()
        for task in list(self._tasks):
            task.cancel()
        if self._own_session:
            await self._session.close()


class ScreenTrack(ClipTrack):
    """A pre-encoded screen share, sent in real time at :data:`SCREEN_FPS`."""

    def __init__(self, frames: list[bytes], changes: Changes, fps: int = SCREEN_FPS) -> None:
        super().__init__("video", frames, changes, fps)


class ScreenSharer(SyntheticClient):
    """A synthetic participant that also shares a screen (its first m-line)."""

    def __init__(
        self,
        url: str,
        name: str,
        clip: EncodedClip,
        screen: list[bytes],
        changes: Changes,
        *,
        http: aiohttp.ClientSession | None = None,
        screen_fps: int = SCREEN_FPS,
    ) -> None:
        super().__init__(url, name, clip, changes=changes, http=http)
        self.screen = ScreenTrack(screen, changes, screen_fps)
        transceiver = self.pc.addTransceiver(self.screen, direction="sendonly")
        on_keyframe_request(transceiver.sender, self.screen.keyframe_requested)

    def source_of(self, transceiver: RTCRtpTransceiver) -> str:
        """The screen's m-line is ``screen``."""
        return "screen" if transceiver.sender.track is self.screen else super().source_of(transceiver)
