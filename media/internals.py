"""Every private detail of aiortc and aioice the rooms rely on, in one place.

aiortc 1.16.0 is pinned (``pyproject.toml``); ``tests/rooms/test_internals.py`` guards each
point below, so that an upgrade that moves one fails a test instead of a call.

1. Incoming media is always decoded: ``RTCRtpReceiver.receive`` starts ``decoder_worker``,
   which builds decoders with the module-level ``aiortc.rtcrtpreceiver.get_decoder``. Replacing
   that factory with :func:`passthrough_decoder` makes every remote track of the process yield
   the depacketized encoded frames as ``av.Packet`` instead of decoded frames. This is
   process-wide: a process that hosts rooms never decodes received media.
2. On the sending side, a track whose ``recv()`` returns an ``av.Packet`` is only packetized
   (public behaviour), but keyframe requests (PLI/FIR) from the receiving browser then only set
   a flag read on the encoding path (``RTCRtpSender._send_keyframe``). :func:`on_keyframe_request`
   replaces that method on one sender so that the request reaches the room.
3. The receiver can ask its publisher for a keyframe: ``RTCRtpReceiver._send_rtcp_pli``.
4. RTCP sender reports reach ``RTCRtpReceiver._handle_rtcp_packet`` (called by the DTLS
   transport on the receiver object); :func:`on_sender_report` wraps it on one receiver so that the
   recorder gets each report's NTP and RTP times (``RtcpSrPacket.sender_info``). The frames of a
   track count RTP time from its first frame (the receiver's private ``TimestampMapper``, whose
   ``_origin`` is the first RTP timestamp): :func:`rtp_origin` reads it, to put a report's RTP
   time on the frames' count.
5. aioice leaves 127.0.0.1 out of its host candidates (``aioice.ice.get_host_addresses``);
   :func:`include_loopback_candidates` adds it, for a server and browsers on one machine.
6. aiortc has no ICE restart: a restarted offer (new ``ice-ufrag``/``ice-pwd``) is applied without
   touching the ICE agent, whose checks then fail on the old credentials. :func:`restart_ice`
   restarts the ``aioice.Connection`` under a peer connection in place, once the offer is applied
   and before the answer is made (the server is the controlled agent): fresh local credentials,
   the offer's remote ones, the remote candidates and check list forgotten (``_remote_candidates``,
   ``_check_list``, ``_nominating``). The browser's checks on the new credentials then teach it
   the browser's addresses (peer-reflexive candidates) and trigger its own checks, and the pair the
   browser nominates becomes ``_nominated``; until then media goes out on the old pair, so the
   DTLS and SRTP sessions above carry on untouched.
7. Each receiver hands every complete encoded frame to its own decoder thread through a
   ``queue.Queue`` (``RTCRtpReceiver.__init__`` calls the module's ``queue.Queue()``), and that
   thread hands it back to the event loop with ``asyncio.run_coroutine_threadsafe`` (a task per
   frame). With nothing to decode, that round trip through a thread is most of the cost of a
   received frame. :func:`install_passthrough` therefore also gives ``aiortc.rtcrtpreceiver`` a
   ``queue`` whose ``Queue`` is :class:`InlineFrames` and replaces its ``decoder_worker`` with
   :func:`inline_worker`: the thread only hands the track's queue over and ends, and frames go
   into the track's queue on the event loop as they complete.
"""

from __future__ import annotations

import asyncio
import fractions
import importlib.metadata
import threading
import types
from collections.abc import Awaitable, Callable
from typing import Any, cast

import aioice.ice
import av
from aioice.utils import random_string
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, rtcrtpreceiver
from aiortc.codecs import get_decoder as aiortc_get_decoder
from aiortc.codecs.base import Decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import AnyRtcpPacket, RtcpSrPacket
from av.frame import Frame

from media.codecs import is_vp8_keyframe

AIORTC_VERSION = "1.16.0"
# aioice (points 5 and 6) and PyAV (encoded frames as ``av.Packet``, the recorder's muxing) are pinned too:
# their private attributes and packet semantics are read and written here and in ``recordings.writer``.
PINNED = {"aiortc": AIORTC_VERSION, "aioice": "0.13.0", "av": "18.1.0"}
LOOPBACK = "127.0.0.1"
# The names under which aiortc.rtcrtpreceiver imported the decoder factory it calls, the function its
# decoder threads run, and the module whose Queue it makes for each receiver.
DECODER_FACTORY = "get_decoder"
DECODER_WORKER = "decoder_worker"
QUEUE_MODULE = "queue"


class PassthroughDecoder(Decoder):
    """A "decoder" that returns each encoded frame as an ``av.Packet`` with ``pts`` (the RTP
    timestamp, counted from the stream's first frame) and ``time_base`` (1 / clock rate).
    VP8 keyframes are flagged with ``is_keyframe``."""

    def __init__(self, codec: RTCRtpCodecParameters) -> None:
        self.time_base = fractions.Fraction(1, codec.clockRate)
        self.flags_keyframes = codec.mimeType.lower() == "video/vp8"

    def decode(self, encoded_frame: JitterFrame) -> list[Frame]:
        if not encoded_frame.data:
            return []
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.dts = encoded_frame.timestamp
        packet.time_base = self.time_base
        if self.flags_keyframes:
            packet.is_keyframe = is_vp8_keyframe(encoded_frame.data)
        # aiortc's worker passes whatever the decoder returns on to the remote track.
        return cast(list[Frame], [packet])


def passthrough_decoder(codec: RTCRtpCodecParameters) -> Decoder:
    """The decoder factory that replaces aiortc's: no decoding, for every codec."""
    return PassthroughDecoder(codec)


def check_pinned_versions() -> None:
    """Refuse to run on an aiortc, aioice or PyAV whose internals have not been checked."""
    for package, pinned in PINNED.items():
        found = importlib.metadata.version(package)
        if found != pinned:
            raise RuntimeError(
                f"rooms rely on private details of {package} {pinned}, found {found}: "
                "check media/internals.py and tests/rooms/test_internals.py, then update the pin"
            )


EncodedTask = tuple[RTCRtpCodecParameters, JitterFrame] | None
"""What a receiver puts on its decoder queue: a codec and a complete frame, or None at its end."""


class InlineFrames:
    """Stands in for the ``queue.Queue`` between a receiver and its decoder thread (point 7):
    each frame goes through :func:`passthrough_decoder` into the track's queue at once, on the
    event loop. Frames that complete before :func:`inline_worker` has handed over the track's
    queue wait for it."""

    def __init__(self) -> None:
        self._output: asyncio.Queue[Any] | None = None
        self._early: list[EncodedTask] = []
        self._decoders: dict[str, Decoder] = {}

    def put(self, task: EncodedTask) -> None:
        """A complete frame (or None: the receiver stopped), from the receiver on the event loop."""
        if self._output is None:
            self._early.append(task)
        else:
            self._deliver(self._output, task)

    def bind(self, output: asyncio.Queue[Any]) -> None:
        """The track's queue, from now on (called on the event loop)."""
        self._output = output
        early, self._early = self._early, []
        for task in early:
            self._deliver(output, task)

    def _deliver(self, output: asyncio.Queue[Any], task: EncodedTask) -> None:
        if task is None:
            output.put_nowait(None)  # the track ends
            return
        codec, encoded = task
        decoder = self._decoders.get(codec.name)
        if decoder is None:
            decoder = self._decoders[codec.name] = passthrough_decoder(codec)
        for frame in decoder.decode(encoded):
            output.put_nowait(frame)


AIORTC_DECODER_WORKER = getattr(rtcrtpreceiver, DECODER_WORKER)


def inline_worker(
    loop: asyncio.AbstractEventLoop, input_q: Any, output_q: asyncio.Queue[Any], decode_error: threading.Event
) -> None:
    """Replaces aiortc's ``decoder_worker`` as the receiver's thread: for an :class:`InlineFrames`
    it hands over the track's queue (on the loop) and ends; any other queue gets aiortc's worker."""
    if isinstance(input_q, InlineFrames):
        loop.call_soon_threadsafe(input_q.bind, output_q)
    else:
        AIORTC_DECODER_WORKER(loop, input_q, output_q, decode_error)


INLINE_QUEUE = types.SimpleNamespace(Queue=InlineFrames)
"""What ``aiortc.rtcrtpreceiver`` sees as its ``queue`` module once passthrough is installed."""


def install_passthrough() -> None:
    """Make every remote track of this process yield encoded frames, handed over on the event
    loop (idempotent)."""
    check_pinned_versions()
    current = getattr(rtcrtpreceiver, DECODER_FACTORY)
    if current is passthrough_decoder:
        return
    if current is not aiortc_get_decoder:
        raise RuntimeError("aiortc.rtcrtpreceiver.get_decoder was already replaced by someone else")
    setattr(rtcrtpreceiver, DECODER_FACTORY, passthrough_decoder)
    setattr(rtcrtpreceiver, DECODER_WORKER, inline_worker)
    setattr(rtcrtpreceiver, QUEUE_MODULE, INLINE_QUEUE)


def passthrough_installed() -> bool:
    """Whether remote tracks of this process yield encoded frames."""
    return getattr(rtcrtpreceiver, DECODER_FACTORY) is passthrough_decoder


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever the browser receiving from ``sender`` sends a PLI or FIR."""
    name = "_send_keyframe"
    setattr(sender, name, callback)


async def request_keyframe(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Send a picture loss indication (PLI) for ``media_ssrc`` to the publisher."""
    await receiver._send_rtcp_pli(media_ssrc)


def skip_lost_head(receiver: RTCRtpReceiver, stalled_at: int | None) -> tuple[int, int | None]:
    """Free a video receiver whose jitter buffer waits for a packet that never came.

    aiortc emits frames in order and asks once (NACK) for a missing packet; when the retransmission
    is lost too, every later frame waits until the buffer overflows (512 packets: seconds for a
    camera of one packet per frame). Called periodically with what the previous call returned (the
    sequence number of the first hole that has packets behind it): when the same packet is still
    missing, everything up to the next packet present is given up. Returns the number of packets
    dropped and the hole now waited for (None: nothing waits)."""
    buffer = getattr(receiver, "_RTCRtpReceiver__jitter_buffer")  # noqa: B009 - a private name
    newest = getattr(receiver, "_RTCRtpReceiver__nack_generator").max_seq  # noqa: B009
    origin: int | None = buffer._origin
    if origin is None or newest is None:
        return 0, None
    packets = buffer._packets
    capacity: int = buffer.capacity
    held = min((newest - origin) % (1 << 16) + 1, capacity)  # from the head to the newest packet
    slots = [packets[(origin + n) % capacity] is not None for n in range(held)]
    hole = slots.index(False) if False in slots else None
    if hole is None:  # no hole before the newest packet: nothing waits
        return 0, None
    # Usually the newest packet is held behind the hole; not after the buffer started over at a
    # packet far older than its head (a late duplicate), nor while aiortc sends a NACK for the hole
    # (an await) between counting the newest packet and adding it: then nothing waits behind it.
    behind = next((n for n in range(hole + 1, held) if slots[n]), None)
    if behind is None:
        return 0, None
    missing = (origin + hole) % (1 << 16)
    if stalled_at != missing:
        return 0, missing
    buffer.remove(behind)
    return behind, None


SenderReportCallback = Callable[[int, int, int], None]
"""Called with an RTCP sender report's SSRC, 64-bit NTP timestamp and 32-bit RTP timestamp."""


class _SenderReportHook:
    """Stands in for one receiver's ``_handle_rtcp_packet``: reports first, then aiortc."""

    def __init__(self, original: Callable[[AnyRtcpPacket], Awaitable[None]]) -> None:
        self.original = original
        self.callback: SenderReportCallback | None = None

    async def __call__(self, packet: AnyRtcpPacket) -> None:
        if self.callback is not None and isinstance(packet, RtcpSrPacket):
            info = packet.sender_info
            self.callback(packet.ssrc, info.ntp_timestamp, info.rtp_timestamp)
        await self.original(packet)


def on_sender_report(receiver: RTCRtpReceiver, callback: SenderReportCallback | None) -> None:
    """Call ``callback`` for every RTCP sender report ``receiver`` gets (``None``: no longer).
    The receiver's own handling goes on unchanged; hooking twice replaces the callback."""
    name = "_handle_rtcp_packet"
    hook = receiver.__dict__.get(name)
    if not isinstance(hook, _SenderReportHook):
        hook = _SenderReportHook(getattr(receiver, name))
        setattr(receiver, name, hook)
    hook.callback = callback


def rtp_origin(receiver: RTCRtpReceiver) -> int | None:
    """The RTP timestamp the receiver's frames are counted from (``pts`` 0), once a frame came."""
    mapper = getattr(receiver, "_RTCRtpReceiver__timestamp_mapper")  # noqa: B009 - a private name
    origin: int | None = mapper._origin
    return None if origin is None else origin % (1 << 32)


def include_loopback_candidates() -> None:
    """Add 127.0.0.1 to the host candidates aioice gathers, process-wide (idempotent)."""
    original = aioice.ice.get_host_addresses
    if getattr(original, "includes_loopback", False):
        return

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = original(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
        if use_ipv4 and LOOPBACK not in addresses:
            addresses.append(LOOPBACK)
        return addresses

    with_loopback.includes_loopback = True  # type: ignore[attr-defined]
    aioice.ice.get_host_addresses = with_loopback


def ice_connections(pc: RTCPeerConnection) -> list[aioice.Connection]:
    """The ICE agents under a peer connection: one per transport (one when bundled)."""
    found: list[aioice.Connection] = []
    for transceiver in pc.getTransceivers():
        connection = transceiver.sender.transport.transport._connection
        if connection not in found:
            found.append(connection)
    return found


def restart_ice(pc: RTCPeerConnection, remote_username: str, remote_password: str) -> None:
    """Restart the ICE agents of ``pc`` for a restarted offer, once it is applied and before the
    answer is made.

    The answer then carries new local credentials (RFC 8445 section 9), the browser's checks
    on the new ones are answered and nominate the new pair. Raises ``ConnectionError`` if an
    agent is closed already (its consent expired): only a new connection helps then.
    """
    for connection in ice_connections(pc):
        restart_agent(connection, remote_username, remote_password)


def restart_agent(connection: aioice.Connection, remote_username: str, remote_password: str) -> None:
    """Restart one controlled ICE agent in place (see point 6 above)."""
    if connection._closed or connection._closing:
        raise ConnectionError("ICE connection closed")
    for pair in connection._check_list:
        if pair.task is not None:
            pair.task.cancel()
    connection._check_list = []
    connection._nominating = set()
    connection._remote_candidates = []
    connection._local_username = random_string(4)
    connection._local_password = random_string(22)
    connection.remote_username = remote_username
    connection.remote_password = remote_password
