"""The session clock: every track's RTP timestamps on one timeline (pure, no I/O, no wall clock).

Each RTP stream counts its timestamps from a random 32-bit origin at its own rate (90 kHz for
video, 48 kHz for Opus), and wraps around at 2**32 (13 h 15 min at 90 kHz, 24 h 51 min at 48 kHz).
To put the audio and video of every participant on one timeline:

1. :class:`RtpUnwrapper` extends the 32-bit timestamps of one stream into a monotonic 64-bit count
   (a step of less than 2**31 ticks either way is read as the nearest one, so reordered packets
   around the wrap stay in place).
2. When the sender has sent an RTCP sender report (SR) for the track, the report pairs an RTP
   timestamp with the sender's wall clock (NTP). A frame's sender time is then
   ``ntp + (rtp - sr_rtp) / rate``; frames of the same instant on two tracks of one sender (its
   camera and microphone) get the same time: that is lip sync. The sender's clock is tied to the
   server's once per sender, by the arrival time of the first report from it
   (``offset = arrival - ntp``; it includes the network delay, equal for all of its tracks).
3. Before any report, a track is placed by the server's arrival time of its first packet:
   ``first_arrival + (rtp - first_rtp) / rate``.

Session times are seconds since the session's origin (the server time at which recording began),
as floats: a float keeps microseconds over years. A track may move by a few milliseconds when its
first report replaces the arrival estimate; the writer keeps each track's timestamps increasing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RTP_MODULO = 1 << 32
HALF_RANGE = 1 << 31
VIDEO_CLOCK_RATE = 90_000
OPUS_CLOCK_RATE = 48_000
# Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
NTP_UNIX_OFFSET = 2_208_988_800

Source = Literal["sender-report", "arrival"]


def ntp_to_unix(ntp_timestamp: int) -> float:
    """Unix seconds of a 64-bit NTP timestamp (32.32 fixed point, as in an RTCP sender report)."""
    seconds = ntp_timestamp >> 32
    fraction = ntp_timestamp & 0xFFFF_FFFF
    return seconds - NTP_UNIX_OFFSET + fraction / (1 << 32)


def clock_rate(kind: str) -> int:
    """The RTP clock rate of a track kind: 90 kHz for ``"video"``, 48 kHz for ``"audio"`` (Opus)."""
    if kind == "video":
        return VIDEO_CLOCK_RATE
    if kind == "audio":
        return OPUS_CLOCK_RATE
    raise ValueError(f"unknown track kind {kind!r}")


@dataclass
class RtpUnwrapper:
    """Extends one stream's 32-bit RTP timestamps into a 64-bit count without wrap-around."""

    last: int | None = None

    def unwrap(self, timestamp: int) -> int:
        """The extended timestamp: the value congruent to ``timestamp`` nearest the previous one."""
        if not 0 <= timestamp < RTP_MODULO:
            raise ValueError(f"RTP timestamp out of range: {timestamp}")
        if self.last is None:
            extended = timestamp
        else:
            delta = (timestamp - self.last + HALF_RANGE) % RTP_MODULO - HALF_RANGE
            extended = self.last + delta
        # Keep the reference at the newest position, so a late packet does not pull it back.
        if self.last is None or extended > self.last:
            self.last = extended
        return extended


@dataclass(frozen=True)
class SenderReport:
    """An RTCP sender report for one track: RTP time ``rtp_timestamp`` is sender wall time
    ``ntp_time`` (Unix seconds, see :func:`ntp_to_unix`); it reached the server at ``arrival``
    (server Unix seconds)."""

    track: str
    sender: str
    ntp_time: float
    rtp_timestamp: int
    arrival: float

    @classmethod
    def from_rtcp(
        cls, track: str, sender: str, ntp_timestamp: int, rtp_timestamp: int, arrival: float
    ) -> SenderReport:
        """A report from the raw fields of an RTCP SR (aiortc: ``RtcpSrPacket.sender_info``,
        seen in ``RTCRtpReceiver._handle_rtcp_packet``): 64-bit NTP time and 32-bit RTP time."""
        return cls(track, sender, ntp_to_unix(ntp_timestamp), rtp_timestamp, arrival)


@dataclass(frozen=True)
class Stamp:
    """Where one frame of a track lies on the session timeline."""

    track: str
    rtp_extended: int
    session_time: float
    source: Source


@dataclass
class _Track:
    rate: int
    sender: str
    unwrapper: RtpUnwrapper = field(default_factory=RtpUnwrapper)
    first_rtp: int | None = None
    first_arrival: float | None = None
    report_rtp: int | None = None
    report_ntp: float | None = None


class SessionClock:
    """Maps the frames of every track of one session onto the session timeline.

    ``origin`` is the server time (Unix seconds) that is session time 0. Tracks are registered
    with :meth:`add_track`; frames are placed with :meth:`stamp` and sender reports fed with
    :meth:`report`, all with the server arrival times taken by the caller.
    """

    def __init__(self, origin: float) -> None:
        self.origin = origin
        self._tracks: dict[str, _Track] = {}
        self._sender_offsets: dict[str, float] = {}

    def add_track(self, track: str, kind: str, sender: str) -> None:
        """Register a track of ``kind`` (``"video"`` or ``"audio"``) sent by ``sender`` (one
        participant: all of its tracks share one wall clock)."""
        if track in self._tracks:
            raise ValueError(f"track {track!r} is already registered")
        self._tracks[track] = _Track(rate=clock_rate(kind), sender=sender)

    def _track(self, track: str) -> _Track:
        try:
            return self._tracks[track]
        except KeyError:
            raise ValueError(f"unknown track {track!r}") from None

    def report(self, report: SenderReport) -> None:
        """Take an RTCP sender report into account for later frames of its track."""
        state = self._track(report.track)
        if state.sender != report.sender:
            raise ValueError(f"track {report.track!r} is sent by {state.sender!r}, not {report.sender!r}")
        self._sender_offsets.setdefault(report.sender, report.arrival - report.ntp_time)
        state.report_rtp = state.unwrapper.unwrap(report.rtp_timestamp)
        state.report_ntp = report.ntp_time

    def stamp(self, track: str, rtp_timestamp: int, arrival: float) -> Stamp:
        """The session time of a frame of ``track`` with RTP timestamp ``rtp_timestamp`` (32 bits)
        that reached the server at ``arrival`` (Unix seconds)."""
        state = self._track(track)
        extended = state.unwrapper.unwrap(rtp_timestamp)
        if state.first_rtp is None or state.first_arrival is None:
            state.first_rtp = extended
            state.first_arrival = arrival
        if state.report_rtp is not None and state.report_ntp is not None:
            offset = self._sender_offsets[state.sender]
            sender_time = state.report_ntp + (extended - state.report_rtp) / state.rate
            return Stamp(track, extended, sender_time + offset - self.origin, "sender-report")
        server_time = state.first_arrival + (extended - state.first_rtp) / state.rate
        return Stamp(track, extended, server_time - self.origin, "arrival")
