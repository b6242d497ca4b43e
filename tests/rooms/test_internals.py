"""Guards on every private detail of aiortc, aioice and PyAV that ``media.internals`` (and the
recorder's muxing in ``recordings.writer``) relies on.

If one of these fails after an upgrade, forwarding would fail silently (decoding again,
keyframe requests lost, no loopback candidate): fix ``media/internals.py`` first.
The sending side's packet path is also exercised end to end, byte for byte, by
``test_forwarding.py``.
"""

from __future__ import annotations

import asyncio
import fractions
import importlib.metadata
import queue
import threading
from pathlib import Path
from typing import Any

import aioice
import aioice.ice
import aiortc
import av
import pytest
from aiortc import RTCPeerConnection, rtcrtpreceiver
from aiortc.codecs import get_encoder
from aiortc.codecs.vpx import vp8_depayload
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import (
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpSenderInfo,
    RtcpSrPacket,
    RtpPacket,
)

from media import internals
from media.internals import (
    AIORTC_VERSION,
    PINNED,
    InlineFrames,
    include_loopback_candidates,
    inline_worker,
    install_passthrough,
    on_keyframe_request,
    on_sender_report,
    passthrough_installed,
    request_keyframe,
    restart_agent,
    rtp_origin,
    skip_lost_head,
)
from tests.rooms.synthetic import EncodedClip, encode_clip

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)


@pytest.fixture(scope="module")
def clip() -> EncodedClip:
    return encode_clip(seconds=0.2, width=64, height=48)


def test_aiortc_is_the_pinned_version() -> None:
    assert aiortc.__version__ == AIORTC_VERSION
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert f'"aiortc=={AIORTC_VERSION}"' in pyproject


@pytest.mark.parametrize("package", ["aiortc", "aioice", "av"])
def test_aiortc_aioice_and_pyav_are_installed_and_declared_at_the_checked_versions(package: str) -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert importlib.metadata.version(package) == PINNED[package]
    assert f'"{package}=={PINNED[package]}"' in pyproject


def test_a_version_that_was_not_checked_is_refused_before_any_room_runs() -> None:
    pinned = PINNED["aioice"]
    PINNED["aioice"] = "0.0.1"
    try:
        with pytest.raises(RuntimeError, match=r"aioice 0\.0\.1, found 0\.13\.0"):
            internals.check_pinned_versions()
    finally:
        PINNED["aioice"] = pinned
    internals.check_pinned_versions()


async def test_the_aioice_agent_has_every_private_attribute_an_ice_restart_reads_or_writes() -> None:
    connection = aioice.Connection(ice_controlling=False, use_ipv6=False)
    # restart_agent reads _closed/_closing and each pair's task, and writes the rest
    for name in ("_closed", "_closing", "_check_list", "_nominating", "_remote_candidates", "_nominated"):
        assert hasattr(connection, name), name
    for name in ("_local_username", "_local_password"):
        assert getattr(connection, name) in (connection.local_username, connection.local_password)
    connection._local_username = "abcd"
    assert connection.local_username == "abcd"  # the public property reads the private field
    await connection.close()
    assert connection._closed


def test_pyav_packets_carry_the_fields_the_room_and_the_recorder_set() -> None:
    payload = bytes(range(64))
    packet = av.Packet(payload)
    assert bytes(packet) == payload  # the room copies a packet per subscriber with av.Packet(bytes(p))
    packet.pts = packet.dts = 3000
    packet.time_base = fractions.Fraction(1, 1000)
    packet.is_keyframe = True
    assert (packet.pts, packet.dts, packet.time_base, packet.is_keyframe) == (
        3000,
        3000,
        fractions.Fraction(1, 1000),
        True,
    )
    copy = av.Packet(bytes(packet))
    assert copy.pts is None  # a copy carries the bytes, not the timing
    assert bytes(copy) == payload


def test_pyav_has_the_codecs_and_muxer_the_stills_and_the_recorder_use(tmp_path: Path) -> None:
    assert av.CodecContext.create("vp8", "r").name == "vp8"
    assert av.CodecContext.create("mjpeg", "w").name == "mjpeg"
    container = av.open(str(tmp_path / "probe.webm"), "w", format="webm")
    assert "webm" in container.format.name
    container.close()


async def decode_in_worker(codec: RTCRtpCodecParameters, data: bytes, timestamp: int) -> list[Any]:
    """Run aiortc's own decoder worker on one encoded frame; what it hands to the track."""
    loop = asyncio.get_running_loop()
    inputs: queue.Queue[Any] = queue.Queue()
    outputs: asyncio.Queue[Any] = asyncio.Queue()
    inputs.put((codec, JitterFrame(data, timestamp)))
    inputs.put(None)
    worker = threading.Thread(
        target=rtcrtpreceiver.decoder_worker, args=(loop, inputs, outputs, threading.Event())
    )
    worker.start()
    handed = [await asyncio.wait_for(outputs.get(), 5), await asyncio.wait_for(outputs.get(), 5)]
    worker.join()
    return handed


async def test_the_receiver_hands_on_encoded_frames_once_passthrough_is_installed(clip: EncodedClip) -> None:
    install_passthrough()
    key, delta = clip.video[0], clip.video[1]
    packet, end = await decode_in_worker(VP8, key, 3000)
    assert isinstance(packet, av.Packet)
    assert (bytes(packet), packet.pts, packet.time_base, packet.is_keyframe) == (
        key,
        3000,
        fractions.Fraction(1, 90000),
        True,
    )
    assert end is None, "the end of the stream is passed on"
    packet, _ = await decode_in_worker(VP8, delta, 6000)
    assert not packet.is_keyframe
    packet, _ = await decode_in_worker(OPUS, clip.audio[0], 960)
    assert (bytes(packet), packet.pts, packet.time_base) == (clip.audio[0], 960, fractions.Fraction(1, 48000))


async def test_receivers_hand_frames_over_on_the_event_loop_once_passthrough_is_installed(
    clip: EncodedClip,
) -> None:
    install_passthrough()
    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("video", direction="recvonly").receiver
    frames = getattr(receiver, "_RTCRtpReceiver__decoder_queue")  # noqa: B009 - a private name
    assert isinstance(frames, InlineFrames)
    assert rtcrtpreceiver.decoder_worker is inline_worker
    await pc.close()

    # a frame completed before the receiver's thread ran waits for the track's queue
    frames = InlineFrames()
    frames.put((VP8, JitterFrame(clip.video[0], 3000)))
    track: asyncio.Queue[Any] = asyncio.Queue()
    thread = threading.Thread(
        target=rtcrtpreceiver.decoder_worker,
        args=(asyncio.get_running_loop(), frames, track, threading.Event()),
    )
    thread.start()
    thread.join()  # the thread only hands the track's queue over, on the loop, and ends
    first = await asyncio.wait_for(track.get(), 5)
    assert (bytes(first), first.pts, first.is_keyframe) == (clip.video[0], 3000, True)
    frames.put((VP8, JitterFrame(clip.video[1], 6000)))
    assert track.get_nowait().pts == 6000, "later frames go into the track's queue at once"
    frames.put(None)
    assert track.get_nowait() is None, "the end of the stream is passed on"


def test_installing_twice_is_harmless_and_a_foreign_factory_is_refused() -> None:
    install_passthrough()
    install_passthrough()
    assert passthrough_installed()
    ours = getattr(rtcrtpreceiver, internals.DECODER_FACTORY)
    try:
        setattr(rtcrtpreceiver, internals.DECODER_FACTORY, lambda codec: None)
        with pytest.raises(RuntimeError, match="someone else"):
            install_passthrough()
    finally:
        setattr(rtcrtpreceiver, internals.DECODER_FACTORY, ours)


def test_encoders_only_packetize_encoded_frames(clip: EncodedClip) -> None:
    for codec, data, pts in ((VP8, clip.video[0], 9000), (OPUS, clip.audio[0], 1920)):
        packet = av.Packet(data)
        packet.pts = pts
        packet.time_base = fractions.Fraction(1, codec.clockRate)
        payloads, timestamp = get_encoder(codec).pack(packet)
        assert timestamp == pts
        if codec is VP8:
            assert b"".join(vp8_depayload(p) for p in payloads) == data
        else:
            assert payloads == [data]


async def test_pli_and_fir_received_by_a_sender_reach_the_hook() -> None:
    pc = RTCPeerConnection()
    sender = pc.addTransceiver("video", direction="sendonly").sender
    calls: list[str] = []
    on_keyframe_request(sender, lambda: calls.append("keyframe"))
    for fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
        await sender._handle_rtcp_packet(RtcpPsfbPacket(fmt=fmt, ssrc=1, media_ssrc=sender._ssrc))
    assert calls == ["keyframe", "keyframe"]
    await pc.close()


async def test_a_receiver_sends_a_pli_for_the_publishers_ssrc() -> None:
    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("video", direction="recvonly").receiver
    sent: list[bytes] = []

    async def record(data: bytes) -> None:
        sent.append(data)

    receiver.transport._send_rtp = record  # type: ignore[method-assign]
    await request_keyframe(receiver, 1234)
    [pli] = RtcpPacket.parse(sent[0])
    assert isinstance(pli, RtcpPsfbPacket)
    assert (pli.fmt, pli.media_ssrc) == (RTCP_PSFB_PLI, 1234)
    await pc.close()


async def test_sender_reports_received_by_a_receiver_reach_the_hook() -> None:
    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("video", direction="recvonly").receiver
    reports: list[tuple[int, int, int]] = []
    on_sender_report(receiver, lambda *report: reports.append(report))
    on_sender_report(receiver, lambda *report: reports.append(report))  # replaces, not doubles
    info = RtcpSenderInfo(
        ntp_timestamp=(3_900_000_000 << 32) | (1 << 31),
        rtp_timestamp=90_000,
        packet_count=10,
        octet_count=1000,
    )
    sr = RtcpSrPacket(ssrc=1234, sender_info=info)
    await receiver._handle_rtcp_packet(sr)
    assert reports == [(1234, info.ntp_timestamp, 90_000)]
    stats = await receiver.getStats()
    assert any(s.type == "remote-outbound-rtp" for s in stats.values())  # aiortc still saw it
    on_sender_report(receiver, None)
    await receiver._handle_rtcp_packet(sr)
    assert len(reports) == 1
    await pc.close()


async def test_the_rtp_origin_of_a_receiver_is_its_first_frames_timestamp() -> None:
    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("video", direction="recvonly").receiver
    assert rtp_origin(receiver) is None
    mapper = getattr(receiver, "_RTCRtpReceiver__timestamp_mapper")  # noqa: B009
    assert mapper.map(4_000_000_000) == 0  # what the decoder worker does with each frame
    assert mapper.map(4_000_090_000) == 90_000
    assert mapper.map(500) == 500 + (1 << 32) - 4_000_000_000  # after the wrap
    assert rtp_origin(receiver) == 4_000_000_000
    await pc.close()


async def test_loopback_becomes_a_host_candidate() -> None:
    include_loopback_candidates()
    include_loopback_candidates()
    assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False).count("127.0.0.1") == 1
    connection = aioice.Connection(ice_controlling=True, use_ipv6=False)
    await connection.gather_candidates()
    try:
        assert any(c.host == "127.0.0.1" and c.type == "host" for c in connection.local_candidates)
    finally:
        await connection.close()


class VideoReceiver:
    """A video receiver of aiortc's and packets arriving at it, as its ``_handle_rtp_packet`` takes them."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.receiver = self.pc.addTransceiver("video", direction="recvonly").receiver
        self.buffer = getattr(self.receiver, "_RTCRtpReceiver__jitter_buffer")  # noqa: B009 - a private name
        self.nacks = getattr(self.receiver, "_RTCRtpReceiver__nack_generator")  # noqa: B009

    @staticmethod
    def packet(sequence: int, timestamp: int) -> RtpPacket:
        made = RtpPacket(payload_type=96, sequence_number=sequence, timestamp=timestamp, payload=b"x")
        made._data = b"x"  # type: ignore[attr-defined]  # the depacketized payload, as the receiver sets it
        return made

    def arrive(self, sequence: int, timestamp: int) -> tuple[bool, Any]:
        made = self.packet(sequence, timestamp)
        self.nacks.add(made)  # as the receiver does with every packet, before the jitter buffer
        return self.buffer.add(made)  # type: ignore[no-any-return]


async def test_a_packet_lost_for_good_is_skipped_on_the_second_look() -> None:
    video = VideoReceiver()
    receiver, arrive = video.receiver, video.arrive
    assert arrive(100, 0) == (False, None)
    assert arrive(101, 3000)[1] is not None  # frame 0 complete once the next one starts
    assert skip_lost_head(receiver, None) == (0, None)  # nothing waits
    assert arrive(103, 9000)[1] is None  # 102 (timestamp 6000) lost: everything waits
    assert arrive(104, 12000)[1] is None
    first = skip_lost_head(receiver, None)
    assert first == (0, 102)  # noticed, not skipped yet: a retransmission may still come
    assert skip_lost_head(receiver, 101) == (0, 102)  # another hole than last time: wait again
    assert skip_lost_head(receiver, first[1]) == (2, None)  # still missing: given up, with frame 3000
    _, frame = arrive(105, 15000)
    assert frame is not None
    assert frame.timestamp == 9000  # frames flow again from the next one present

    # A packet far older than the head (a late duplicate) makes aiortc's buffer start over at it,
    # while the newest sequence number seen stays ahead: behind the hole nothing is held, so
    # nothing waits (found by bench/soak.py: the check raised, and was never run again)
    arrive(2, 0)  # 102 older than the head (104): aiortc's MAX_MISORDER is 100
    assert skip_lost_head(receiver, None) == (0, None)
    assert skip_lost_head(receiver, 3) == (0, None)
    await video.pc.close()


async def test_a_look_while_aiortc_sends_a_nack_finds_nothing_waiting() -> None:
    """aiortc counts a packet, then sends a NACK for the hole before it (an await), and only then adds
    it to the buffer: a look in between finds nothing present behind the hole."""
    video = VideoReceiver()
    receiver, buffer, nacks, packet, arrive = (
        video.receiver,
        video.buffer,
        video.nacks,
        video.packet,
        video.arrive,
    )
    assert arrive(100, 0) == (False, None)
    assert arrive(101, 3000)[1] is not None
    nacks.add(packet(103, 9000))  # 102 lost; 103 counted, not in the buffer yet
    assert skip_lost_head(receiver, None) == (0, None)  # nothing waits behind the hole yet
    buffer.add(packet(103, 9000))
    assert skip_lost_head(receiver, None) == (0, 102)
    assert skip_lost_head(receiver, 102) == (2, None)  # given up (with frame 3000) on the second look
    await video.pc.close()


async def answered(browser: aioice.Connection, server: aioice.Connection) -> None:
    """The browser's agent learns the server's credentials and candidates (from an answer)."""
    browser.remote_username, browser.remote_password = server.local_username, server.local_password
    for candidate in server.local_candidates:
        await browser.add_remote_candidate(candidate)
    await browser.add_remote_candidate(None)


async def connected(server: aioice.Connection, browser: aioice.Connection) -> None:
    """ICE between a controlled server agent and a controlling browser agent, both gathered."""
    await answered(browser, server)
    for candidate in browser.local_candidates:
        await server.add_remote_candidate(candidate)
    await server.add_remote_candidate(None)


async def test_a_controlled_agent_restarts_in_place_onto_a_new_path() -> None:
    include_loopback_candidates()
    server = aioice.Connection(ice_controlling=False, use_ipv6=False)
    browser = aioice.Connection(ice_controlling=True, use_ipv6=False)
    await asyncio.gather(server.gather_candidates(), browser.gather_candidates())
    server.remote_username, server.remote_password = browser.local_username, browser.local_password
    await connected(server, browser)
    await asyncio.gather(server.connect(), browser.connect())
    await server.send(b"before")
    assert await browser.recv() == b"before"

    # the browser's path is gone; it comes back on new sockets with new credentials
    await browser.close()
    restarted = aioice.Connection(ice_controlling=True, use_ipv6=False)
    await restarted.gather_candidates()
    old_credentials = (server.local_username, server.local_password)
    restart_agent(server, restarted.local_username, restarted.local_password)
    assert (server.local_username, server.local_password) != old_credentials
    # the server learns the browser's new address from its checks, not from the offer
    await answered(restarted, server)
    await restarted.connect()  # the server's checks are all triggered by the browser's

    new_addresses = {(c.host, c.port) for c in restarted.local_candidates}
    # the browser's nominating check reached the server before its answer: the server's own
    # triggered check on that pair has succeeded, or finishes now
    await asyncio.gather(*(pair.task for pair in server._check_list if pair.task is not None))
    assert server._nominated[1].remote_addr in new_addresses
    await server.send(b"after")
    assert await asyncio.wait_for(restarted.recv(), 5) == b"after"
    await restarted.send(b"back")
    assert await asyncio.wait_for(server.recv(), 5) == b"back"
    await asyncio.gather(server.close(), restarted.close())


async def test_a_closed_agent_is_not_restarted() -> None:
    connection = aioice.Connection(ice_controlling=False, use_ipv6=False)
    await connection.close()
    with pytest.raises(ConnectionError):
        restart_agent(connection, "abcd", "a" * 22)
