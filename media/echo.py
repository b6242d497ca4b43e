"""The echo peer of the connectivity test: the browser's own camera and microphone, sent back.

The browser offers two sending m-lines (camera, microphone) and two receiving ones, as in a
room. Each sending m-line becomes a :class:`~media.forwarding.Feed`, each receiving one a
:class:`~media.forwarding.SlotTrack` carrying the feed of its kind: the very path a room
forwards on, without decoding or encoding, so the figures the browser measures are those of a
call through this server.
"""

from __future__ import annotations

import asyncio
import logging

from aiortc import RTCPeerConnection, RTCSessionDescription

from media.config import RoomConfig
from media.forwarding import Feed, SlotTrack
from media.internals import install_passthrough, on_keyframe_request
from media.offers import read_offer
from media.sdp import add_bitrate_hints
from remote_check.errors import Conflict, Message, invalid

log = logging.getLogger(__name__)

MAX_ECHOES = 8


class EchoPeer:
    """One browser's round trip through the server."""

    def __init__(self, config: RoomConfig) -> None:
        self.config = config
        self.pc = RTCPeerConnection(config.rtc_configuration())
        self.feeds: dict[str, Feed] = {}
        self.slots: dict[str, SlotTrack] = {}

    async def answer(self, sdp: str) -> str:
        """Apply the browser's offer, wire each receiving m-line to the sending one of its kind,
        and return the answer."""
        sections = read_offer(sdp, {})
        if not any(section.sends for section in sections):
            raise invalid(
                "提议中没有可回传的音视频", "The offer sends no audio or video to send back", field="sdp"
            )
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as exc:
            log.info("echo: offer refused: %s", exc)
            raise invalid("无法接受此 SDP 提议", "The SDP offer cannot be applied", field="sdp") from exc
        by_mid = {section.mid: section for section in sections}
        feeds: dict[str, Feed] = {}
        for transceiver in self.pc.getTransceivers():
            section = by_mid.get(transceiver.mid or "")
            if section is None:
                continue
            if section.sends and transceiver.receiver.track is not None and section.mid not in self.feeds:
                feed = Feed(
                    f"echo:{section.mid}",
                    "echo",
                    section.kind,
                    transceiver.receiver.track,
                    transceiver.receiver,
                    keyframe_interval=self.config.keyframe_interval,
                )
                feed.media_ssrc = section.media_ssrc
                self.feeds[section.mid] = feed
            elif section.receives and section.mid not in self.slots:
                transceiver.direction = "sendonly"
                slot = SlotTrack(section.kind, section.mid)
                transceiver.sender.replaceTrack(slot)
                on_keyframe_request(transceiver.sender, slot.keyframe_requested)
                self.slots[section.mid] = slot
        for feed in self.feeds.values():
            feeds.setdefault(feed.kind, feed)
        for slot in self.slots.values():
            slot.attach(feeds.get(slot.kind))
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        return add_bitrate_hints(
            self.pc.localDescription.sdp, self.config.start_bitrate_kbps, self.config.min_bitrate_kbps
        )

    async def close(self) -> None:
        """Stop forwarding and close the connection."""
        for slot in self.slots.values():
            slot.attach(None)
        for feed in self.feeds.values():
            feed.stop()
        await self.pc.close()


class EchoHost:
    """The echo peers of this process, at most :data:`MAX_ECHOES` at once."""

    def __init__(self, config: RoomConfig, limit: int = MAX_ECHOES) -> None:
        self.config = config
        self.limit = limit
        self.peers: set[EchoPeer] = set()
        self._lock = asyncio.Lock()

    async def open(self) -> EchoPeer:
        """A new echo peer; refused (409) when too many tests run at once."""
        async with self._lock:
            if len(self.peers) >= self.limit:
                raise Conflict(
                    Message(
                        "当前进行连通测试的人数较多，请稍后再试",
                        "Too many connectivity tests are running; try again in a minute",
                    )
                )
            install_passthrough()
            peer = EchoPeer(self.config)
            self.peers.add(peer)
            return peer

    async def release(self, peer: EchoPeer) -> None:
        """Close ``peer`` (a no-op when it was closed already)."""
        if peer in self.peers:
            self.peers.discard(peer)
            await peer.close()

    async def close(self) -> None:
        """Close every echo peer."""
        for peer in list(self.peers):
            await self.release(peer)
