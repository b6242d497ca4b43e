"""Forwarding encoded frames: a feed reads one publisher's track, slots pass its frames on.

A :class:`Feed` drains one remote track (a track nobody reads grows memory without bound) and
hands every encoded frame to the slots subscribed to it. A :class:`SlotTrack` is the track a
subscriber's sender reads: it returns ``av.Packet`` objects, so aiortc only packetizes them.
A video slot passes nothing until a keyframe arrives, and asks its feed for one when it starts,
when it switches feed, when its queue overflows and when the subscriber reports picture loss.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import av
from aiortc import RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.codecs import FRAME_TICKS
from media.internals import request_keyframe, skip_lost_head
from media.keyframes import KeyframeThrottle
from media.timeline import Timeline

log = logging.getLogger(__name__)

LOSS_CHECK_SECONDS = 0.25
"""How often a video feed checks for a packet lost for good (one that missed two checks is skipped)."""

KEYFRAME_INTERVAL = 0.5
QUEUE_FRAMES = {"video": 60, "audio": 100}


class Feed:
    """One remote track of a publisher, drained for as long as its m-line exists.

    It is *published* while ``source`` is set; slots subscribe to published feeds only. A
    ``gate`` (the room's moderation: is this microphone muted?) is asked for every frame.
    """

    def __init__(
        self,
        feed_id: str,
        owner: str,
        kind: str,
        track: MediaStreamTrack,
        receiver: RTCRtpReceiver,
        *,
        keyframe_interval: float = KEYFRAME_INTERVAL,
        clock: Callable[[], float] | None = None,
        gate: Callable[[], bool] | None = None,
    ) -> None:
        self.id = feed_id
        self.owner = owner
        self.kind = kind
        self.source: str | None = None
        self.media_ssrc: int | None = None
        self.subscribers: set[SlotTrack] = set()
        self.frames = 0
        self.gate = gate  # asked per frame: False drops it (a muted microphone)
        self.tap: Callable[[Feed, av.Packet[Any]], None] | None = None  # the recorder, while recording
        self._track = track
        self._receiver = receiver
        self._throttle = KeyframeThrottle(keyframe_interval)
        self._loop = asyncio.get_running_loop()
        self._clock = clock or self._loop.time
        self._task = self._loop.create_task(self._pump(), name=f"feed {feed_id}")
        self._pending: asyncio.Handle | None = None  # a merged request, sent when the gap has passed
        self._resend: asyncio.TimerHandle | None = None  # a request is sent again if not answered
        self._stalled_at: int | None = None
        self._watch: asyncio.TimerHandle | None = (
            self._loop.call_later(LOSS_CHECK_SECONDS, self._check_losses) if kind == "video" else None
        )
        self._sends: set[asyncio.Task[None]] = set()
        self._keyframe_waiters: list[asyncio.Future[tuple[av.Packet[Any], float]]] = []

    @property
    def receiver(self) -> RTCRtpReceiver:
        """The receiver of the publisher's track (its RTCP reaches the recorder from there)."""
        return self._receiver

    @property
    def published(self) -> bool:
        """Whether the publisher currently offers this feed to the room."""
        return self.source is not None

    async def _pump(self) -> None:
        warned = False
        try:
            while True:
                item = await self._track.recv()
                if not isinstance(item, av.Packet):
                    if not warned:
                        log.error("feed %s received decoded frames: passthrough is not installed", self.id)
                        warned = True
                    continue
                self.frames += 1
                if item.is_keyframe:
                    self._keyframe_arrived(item)
                if self.gate is not None and not self.gate():
                    continue
                if self.tap is not None:
                    self.tap(self, item)
                for slot in tuple(self.subscribers):
                    slot.offer(item)
        except MediaStreamError:
            pass

    def _keyframe_arrived(self, packet: av.Packet[Any]) -> None:
        if self._throttle.keyframe_arrived() and self._pending is not None:
            self._pending.cancel()  # this keyframe serves the requests that waited
            self._pending = None
        if self._resend is not None:
            self._resend.cancel()
            self._resend = None
        if not self._keyframe_waiters:
            return
        waiters, self._keyframe_waiters = self._keyframe_waiters, []
        arrived = time.time()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result((packet, arrived))

    async def next_keyframe(self) -> tuple[av.Packet[Any], float]:
        """The publisher's next keyframe (asked for now) and the server time it arrived. Callers
        bound the wait (``asyncio.timeout``): a publisher may never answer."""
        waiter: asyncio.Future[tuple[av.Packet[Any], float]] = self._loop.create_future()
        self._keyframe_waiters.append(waiter)
        self.request_keyframe()
        try:
            return await waiter
        finally:
            if waiter in self._keyframe_waiters:
                self._keyframe_waiters.remove(waiter)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe: requests are merged and throttled (``KeyframeThrottle``)."""
        if self.kind != "video":
            return
        delay = self._throttle.request(self._clock())
        if delay is None:
            return
        if delay <= 0:
            self._ask()
        else:
            self._pending = self._loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._pending = None
        self._throttle.fired(self._clock())
        self._ask()

    def _ask(self) -> None:
        self._send_pli()
        if self._resend is not None:
            self._resend.cancel()
        self._resend = self._loop.call_later(self._throttle.interval, self._unanswered)

    def _unanswered(self) -> None:
        self._resend = None
        if self._throttle.resend(self._clock()):
            self._ask()

    def _send_pli(self) -> None:
        ssrc = self.media_ssrc
        if ssrc is None:
            # the offer named no SSRC: the source heard from last (retransmissions are rare)
            sources = sorted(self._receiver.getSynchronizationSources(), key=lambda s: s.timestamp)
            if not sources:
                return
            ssrc = sources[-1].source
        task = self._loop.create_task(request_keyframe(self._receiver, ssrc))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    def _check_losses(self) -> None:
        """A packet lost for good stops the feed in aiortc's jitter buffer: give it up and ask the
        publisher for a keyframe (the frames after the hole may be incomplete)."""
        self._watch = self._loop.call_later(LOSS_CHECK_SECONDS, self._check_losses)
        skipped, self._stalled_at = skip_lost_head(self._receiver, self._stalled_at)
        if skipped:
            log.info("feed %s: %d packet(s) lost for good, skipped", self.id, skipped)
            self.request_keyframe()

    def stop(self) -> None:
        """Stop forwarding: every subscribed slot becomes free."""
        for slot in tuple(self.subscribers):
            slot.attach(None)
        for handle in (self._pending, self._resend):
            if handle is not None:
                handle.cancel()
        if self._watch is not None:
            self._watch.cancel()
        self._task.cancel()


class SlotTrack(MediaStreamTrack):
    """The track a subscriber's sender reads; it forwards the frames of the attached feed."""

    def __init__(self, kind: str, mid: str) -> None:
        super().__init__()
        self.kind = kind
        self.mid = mid
        self.feed: Feed | None = None
        self.frames = 0
        self.dropped = 0
        self._queue: asyncio.Queue[av.Packet[Any]] = asyncio.Queue(QUEUE_FRAMES[kind])
        self._timeline = Timeline(FRAME_TICKS[kind])
        self._waiting_keyframe = kind == "video"
        self._pulling = False

    def attach(self, feed: Feed | None) -> None:
        """Carry ``feed`` from now on (``None``: nothing)."""
        if feed is self.feed:
            return
        if self.feed is not None:
            self.feed.subscribers.discard(self)
        self.feed = feed
        self._reset()
        if feed is not None:
            feed.subscribers.add(self)
            if self._pulling:
                feed.request_keyframe()

    def keyframe_requested(self) -> None:
        """The subscriber reported picture loss (PLI/FIR): pass the request to the publisher."""
        if self.feed is not None:
            self.feed.request_keyframe()

    def _reset(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self._timeline.switch()
        self._waiting_keyframe = self.kind == "video"

    def offer(self, packet: av.Packet[Any]) -> None:
        """A frame of the attached feed; dropped until the sender reads and, for video, until
        a keyframe."""
        if not self._pulling:
            return
        if self._waiting_keyframe:
            if not packet.is_keyframe:
                return
            self._waiting_keyframe = False
        if self._queue.full():
            self.dropped += 1
            if self.kind == "video":
                # a gap in a video stream spoils every frame up to the next keyframe
                self._reset()
                self.keyframe_requested()
                return
            self._queue.get_nowait()
        if packet.pts is None:
            return
        copy = av.Packet(bytes(packet))
        copy.pts = self._timeline.map(packet.pts)
        copy.time_base = packet.time_base
        copy.is_keyframe = packet.is_keyframe
        self._queue.put_nowait(copy)

    async def recv(self) -> av.Packet[Any]:
        """The next frame to send; the first call asks the feed for a keyframe."""
        if self.readyState != "live":
            raise MediaStreamError
        if not self._pulling:
            self._pulling = True
            self.keyframe_requested()
        packet = await self._queue.get()
        self.frames += 1
        return packet
