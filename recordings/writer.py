"""A participant's tracks, stream-copied as they arrive into one WebM (Matroska) file.

What works with the installed PyAV (18.1, FFmpeg 8), found by trying it:

* **VP8** is muxed without a codec context: ``container.add_mux_stream("vp8", width=..,
  height=..)``; the encoded frames from the room are wrapped in ``av.Packet`` and muxed as they
  are. No decoding, no encoding. The width and height are only a hint in the header; decoders read
  the size from each keyframe (a browser may change it during a call).
* **Opus** needs ``container.add_stream("libopus", rate=48000)``: the stream then carries an
  (unused) encoder context whose ``OpusHead`` (19 bytes, 2 channels, 312 samples pre-skip) goes into
  the header; a stream made with ``add_mux_stream("opus")`` writes no ``OpusHead`` (no CodecPrivate):
  ffmpeg still decodes such a file (it assumes 2 channels), but Matroska requires the head for
  ``A_OPUS`` and other players rely on it. Packets are still muxed as received, nothing is
  encoded. WebRTC Opus is always negotiated as 2 channels, so a mono packet stream under a stereo
  head decodes fine. Decoders drop the first 312 samples (6.5 ms) of the track for the pre-skip:
  negligible, noted.
* All timestamps are session times (seconds, :mod:`recordings.clock`) converted to the Matroska
  time base of 1 ms. Each stream's timestamps are kept strictly increasing (a repeated or
  backward time is moved 1 ms after the previous one and counted in ``stats.adjusted``).

Crash safety: the Matroska muxer keeps the open cluster in memory, and by default closes one only
at a keyframe (rare from a browser, which sends one when asked) or after 5 s: a killed test recorder
lost 4.8 s so. Here clusters are closed every second (``cluster_time_limit=1000``) and written
through at once (``flush_packets=1``); libavformat's interleaving queue holds a stream's packets at
most 0.5 s waiting for the other stream (``max_interleave_delta``). A SIGKILL then loses the open
cluster plus what is queued (up to about 1.1 s; five kills at different moments lost 0.04 to
0.96 s). The segment size stays "unknown" and the cues are missing in a killed file; players read
it anyway (``tests/recordings`` proves it with ffprobe). PyAV offers no call to flush the muxer by
hand, so during a pause the last cluster before it reaches the disk with the first frame after it
(or at :meth:`TrackWriter.close`).

Threading: :meth:`TrackWriter.write` only appends to a bounded queue and returns; it is safe to call
on the event loop. A dedicated thread does all the muxing and file I/O; it wakes when 32 frames
wait or every 0.1 s, not once a frame (that more than halved its CPU: ``bench/recording_writer.py``
measured 0.18 % of a core for the thread plus 0.12 % for ``write()`` per participant sending
640x360 25 fps VP8 + Opus, on a loaded 2-core machine). When the disk stalls and the queue is
full the oldest frame is dropped, counted in ``stats.dropped`` and logged; a video track that lost
a frame (or was paused) waits for its next keyframe, so the file never holds frames that cannot be
decoded, and :meth:`TrackWriter.wants_keyframe` tells the room to ask the publisher.

Pause and resume: frames written while paused are ignored; the timestamps go on on the session
clock, so the paused gap is simply absent from the one file.
"""

from __future__ import annotations

import collections
import fractions
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import av

from recordings.clock import RTP_MODULO, SessionClock

log = logging.getLogger(__name__)

MATROSKA_TIME_BASE = fractions.Fraction(1, 1000)
WAKE_FRAMES = 32  # the thread is woken when this many frames wait ...
WAKE_INTERVAL = 0.1  # ... or after this many seconds
QUEUE_FRAMES = 1000  # about 13 s of 25 fps video plus 50 Opus packets per second
MUXER_OPTIONS = {
    "cluster_time_limit": "1000",  # ms: a cluster is closed (and written) at least every second
    "flush_packets": "1",  # flush the file after every write
    "max_interleave_delta": "500000",  # µs a stream waits for the other in the interleaving queue
}

Kind = Literal["video", "audio"]


@dataclass(frozen=True)
class TrackSpec:
    """One track of the file: a VP8 video or an Opus audio track, named as the room names it."""

    name: str
    kind: Kind
    width: int = 640
    height: int = 360


@dataclass(frozen=True)
class EncodedFrame:
    """One encoded frame (a VP8 frame or an Opus packet) placed on the session clock."""

    track: str
    data: bytes
    session_time: float
    keyframe: bool = False


def frame_from_packet(
    clock: SessionClock, track: str, packet: av.Packet[Any], arrival: float
) -> EncodedFrame:
    """The frame the room hands over as an ``av.Packet`` (``pts`` = its 32-bit RTP timestamp, as
    ``media.internals.PassthroughDecoder`` makes it), placed on the session clock; ``arrival``
    is the server time (Unix seconds) at which it was received."""
    if packet.pts is None:
        raise ValueError("a frame without an RTP timestamp")
    stamp = clock.stamp(track, int(packet.pts) % RTP_MODULO, arrival)
    return EncodedFrame(track, bytes(packet), stamp.session_time, bool(packet.is_keyframe))


@dataclass
class WriterStats:
    """What the writer did; read it from any thread (the numbers only grow)."""

    queued: int = 0
    written: int = 0
    dropped: int = 0
    skipped_waiting_keyframe: int = 0
    skipped_before_start: int = 0
    adjusted: int = 0
    errors: int = 0
    cpu_seconds: float = 0.0  # CPU time of the muxing thread so far
    last_time: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Restart:
    """A mark in the queue: the video track restarts at its next keyframe from here on."""

    track: str


class _Track:
    def __init__(self, spec: TrackSpec, stream: Any) -> None:
        self.spec = spec
        self.stream = stream
        self.last_pts: int | None = None
        self.needs_keyframe = spec.kind == "video"


class TrackWriter:
    """Writes the tracks of one participant into ``path``, in a thread of its own.

    Call :meth:`start`, then :meth:`write` for every frame (from any thread, never blocks), and
    :meth:`close` at the end (it waits for the thread; call it off the event loop, e.g. with
    ``asyncio.to_thread``).
    """

    def __init__(self, path: Path, tracks: list[TrackSpec], *, queue_frames: int = QUEUE_FRAMES) -> None:
        if not tracks or len({t.name for t in tracks}) != len(tracks):
            raise ValueError("a writer needs at least one track and unique track names")
        self.path = path
        self.specs = {t.name: t for t in tracks}
        self.stats = WriterStats()
        self._queue: collections.deque[EncodedFrame | _Restart] = collections.deque()
        self._frames = 0  # frames in the queue (the restart marks are not counted)
        self._queue_frames = queue_frames
        self._cond = threading.Condition()
        self._closing = False
        self._paused = False
        self._waiting = {t.name for t in tracks if t.kind == "video"}  # for wants_keyframe()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def start(self) -> None:
        """Open the file and start the muxing thread."""
        if self._thread is not None:
            raise RuntimeError("writer already started")
        self._thread = threading.Thread(target=self._run, name=f"recording {self.path.name}", daemon=True)
        self._thread.start()

    def write(self, frame: EncodedFrame) -> None:
        """Queue one frame. Ignored while paused or after close; drops the oldest frame when full."""
        if frame.track not in self.specs:
            raise ValueError(f"unknown track {frame.track!r}")
        with self._cond:
            if self._paused or self._closing:
                return
            if self._frames >= self._queue_frames:
                self._drop_oldest()
            self._queue.append(frame)
            self._frames += 1
            self.stats.queued += 1
            if self._frames >= WAKE_FRAMES:
                self._cond.notify()

    def pause(self) -> None:
        """Stop taking frames; the file stays open."""
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        """Take frames again; each video track starts again at its next keyframe."""
        with self._cond:
            self._paused = False
            for name in self.specs:
                self._restart(name)

    def _restart(self, track: str, *, front: bool = False) -> None:
        # with self._cond held: frames of ``track`` queued after the mark wait for a keyframe
        if self.specs[track].kind == "video":
            if front:
                self._queue.appendleft(_Restart(track))
            else:
                self._queue.append(_Restart(track))
            self._waiting.add(track)

    def _drop_oldest(self) -> None:
        # with self._cond held
        while True:
            item = self._queue.popleft()
            if isinstance(item, EncodedFrame):
                break
        self._frames -= 1
        self.stats.dropped += 1
        self._restart(item.track, front=True)
        if self.stats.dropped == 1 or self.stats.dropped % 100 == 0:
            log.warning("recording %s: disk too slow, %d frames dropped", self.path, self.stats.dropped)

    @property
    def paused(self) -> bool:
        """Whether frames are being ignored."""
        return self._paused

    def wants_keyframe(self, track: str) -> bool:
        """Whether video ``track`` is waiting for a keyframe (the room should ask the publisher)."""
        with self._cond:
            return not self._paused and track in self._waiting

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued, finish the file (cues, duration) and end the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._failure is not None:
            raise RuntimeError(f"recording {self.path} failed") from self._failure

    # --- the muxing thread -------------------------------------------------------------------

    def _open(self) -> tuple[Any, dict[str, _Track]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        container = av.open(str(self.path), "w", format="webm", options=dict(MUXER_OPTIONS))
        tracks: dict[str, _Track] = {}
        for spec in self.specs.values():
            if spec.kind == "video":
                stream = container.add_mux_stream("vp8", width=spec.width, height=spec.height)
            else:
                stream = container.add_stream("libopus", rate=48000)
            stream.time_base = MATROSKA_TIME_BASE
            stream.metadata["title"] = spec.name
            tracks[spec.name] = _Track(spec, stream)
        return container, tracks

    def _next_batch(self) -> tuple[list[EncodedFrame | _Restart], bool]:
        with self._cond:
            while not self._closing and self._frames < WAKE_FRAMES:
                # Woken by a full batch or after WAKE_INTERVAL: ~10 wake-ups a second, not one a frame.
                if not self._cond.wait(WAKE_INTERVAL) and self._queue:
                    break
            batch = list(self._queue)
            self._queue.clear()
            self._frames = 0
            return batch, self._closing

    def _run(self) -> None:
        try:
            container, tracks = self._open()
        except BaseException as error:
            self._failure = error
            log.exception("recording %s: cannot open the file", self.path)
            return
        try:
            while True:
                batch, closing = self._next_batch()
                for item in batch:
                    if isinstance(item, _Restart):
                        tracks[item.track].needs_keyframe = True
                    else:
                        self._mux(container, tracks[item.track], item)
                self.stats.cpu_seconds = time.thread_time()
                if closing:
                    break
        except BaseException as error:
            self._failure = error
            log.exception("recording %s: writing failed", self.path)
        finally:
            try:
                container.close()
                self.stats.cpu_seconds = time.thread_time()
            except Exception as error:
                self._failure = self._failure or error
                log.exception("recording %s: closing failed", self.path)

    def _mux(self, container: Any, track: _Track, frame: EncodedFrame) -> None:
        if frame.session_time < 0:
            self.stats.skipped_before_start += 1
            return
        if track.needs_keyframe:
            if not frame.keyframe:
                self.stats.skipped_waiting_keyframe += 1
                return
            track.needs_keyframe = False
            with self._cond:
                if not any(isinstance(i, _Restart) and i.track == track.spec.name for i in self._queue):
                    self._waiting.discard(track.spec.name)
        pts = round(frame.session_time * 1000)
        if track.last_pts is not None and pts <= track.last_pts:
            pts = track.last_pts + 1
            self.stats.adjusted += 1
        packet = av.Packet(frame.data)
        packet.pts = packet.dts = pts
        packet.time_base = MATROSKA_TIME_BASE
        packet.stream = track.stream
        if track.spec.kind == "video":
            packet.is_keyframe = frame.keyframe
        try:
            container.mux(packet)
        except av.FFmpegError:
            self.stats.errors += 1
            if self.stats.errors == 1 or self.stats.errors % 100 == 0:
                log.exception("recording %s: %d frames refused", self.path, self.stats.errors)
            return
        track.last_pts = pts
        self.stats.written += 1
        self.stats.last_time[track.spec.name] = pts / 1000
