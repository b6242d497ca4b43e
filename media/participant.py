"""One participant: a peer connection with the server, its feeds and its receiving slots."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiortc import RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription

from media.config import RoomConfig
from media.forwarding import Feed, SlotTrack
from media.internals import on_keyframe_request, restart_ice
from media.offers import read_offer
from media.protocol import AnswerMessage, OfferMessage, ParticipantInfo, ServerMessage
from media.sdp import MediaSection, add_bitrate_hints, ice_credentials
from media.slots import SlotState
from remote_check.errors import invalid

log = logging.getLogger(__name__)

Sink = Callable[[ServerMessage], None]
"""Where the server's messages to one browser go (``media.protocol``'s models, turned into JSON at
the socket); it must neither block nor raise."""


class Participant:
    """A browser in a room, connected to the server by one ``RTCPeerConnection``.

    The browser makes every offer. Its sending m-lines become :class:`Feed` objects (published
    when the offer names them in ``tracks``); its receiving m-lines become slots, each with a
    :class:`SlotTrack` the room attaches feeds of the others to.
    """

    def __init__(
        self,
        participant_id: str,
        name: str,
        sink: Sink,
        config: RoomConfig,
        forwards_audio: Callable[[], bool] | None = None,
    ) -> None:
        self.id = participant_id
        self.forwards_audio = forwards_audio
        self.name = name
        self.config = config
        self.pc = RTCPeerConnection(config.rtc_configuration())
        self.slots: dict[str, SlotTrack] = {}
        self.feeds: dict[str, Feed] = {}
        self.asked: dict[str, int] = {}
        self._sink = sink
        self._negotiating = asyncio.Lock()

    def send(self, message: ServerMessage) -> None:
        """A message to this participant's browser."""
        self._sink(message)

    def info(self) -> ParticipantInfo:
        """How the others see this participant."""
        return ParticipantInfo(id=self.id, name=self.name)

    def published(self) -> list[Feed]:
        """The feeds this participant offers to the room now, in m-line order."""
        return [feed for feed in self.feeds.values() if feed.published]

    def slot_states(self) -> list[SlotState]:
        """The receiving slots and what each carries."""
        return [
            SlotState(mid, slot.kind, slot.feed.id if slot.feed is not None else None)
            for mid, slot in self.slots.items()
        ]

    async def negotiate(self, offer: OfferMessage) -> None:
        """Apply the browser's offer and send the answer."""
        sections = read_offer(offer.sdp, offer.tracks)
        async with self._negotiating:
            restarted = self._ice_restart(offer.sdp)
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
            except Exception as exc:
                log.info("participant %s: offer refused: %s", self.id, exc)
                raise invalid("无法接受此 SDP 提议", "The SDP offer cannot be applied", field="sdp") from exc
            if restarted is not None:
                self._restart_ice(restarted)
            by_mid = {section.mid: section for section in sections}
            for transceiver in self.pc.getTransceivers():
                section = by_mid.get(transceiver.mid or "")
                if section is not None:
                    self._apply(transceiver, section, offer.tracks.get(section.mid))
            answer = await self.pc.createAnswer()
            await self.pc.setLocalDescription(answer)
            sdp = add_bitrate_hints(
                self.pc.localDescription.sdp, self.config.start_bitrate_kbps, self.config.min_bitrate_kbps
            )
        self.send(AnswerMessage(sdp=sdp))

    def _ice_restart(self, sdp: str) -> tuple[str, str] | None:
        """The new ICE credentials of an offer that restarts ICE (None for any other offer)."""
        current = self.pc.remoteDescription
        offered = ice_credentials(sdp)
        if current is None or offered is None or offered == ice_credentials(current.sdp):
            return None
        return offered

    def _restart_ice(self, credentials: tuple[str, str]) -> None:
        """ICE restarts on the same connection: the call, its tracks and its encryption go on,
        only the network path is found again."""
        try:
            restart_ice(self.pc, *credentials)
        except ConnectionError as exc:
            raise invalid(
                "连接已断开，无法重启，请重新加入",
                "The connection is closed and cannot be restarted; rejoin",
                field="sdp",
            ) from exc
        log.info("participant %s: ICE restart", self.id)

    def _apply(self, transceiver: RTCRtpTransceiver, section: MediaSection, source: str | None) -> None:
        mid = section.mid
        if section.sends:
            feed = self.feeds.get(mid)
            track = transceiver.receiver.track
            if feed is None and track is not None:
                feed = Feed(
                    f"{self.id}:{mid}",
                    self.id,
                    section.kind,
                    track,
                    transceiver.receiver,
                    keyframe_interval=self.config.keyframe_interval,
                    gate=self.forwards_audio if section.kind == "audio" else None,
                )
                self.feeds[mid] = feed
            if feed is not None:
                feed.source = source
                feed.media_ssrc = section.media_ssrc
        elif section.receives:
            # The browser's recvonly m-line: aiortc made its transceiver recvonly too, which
            # would answer "inactive"; the server sends on it.
            transceiver.direction = "sendonly"
            if mid not in self.slots:
                slot = SlotTrack(section.kind, mid)
                transceiver.sender.replaceTrack(slot)
                on_keyframe_request(transceiver.sender, slot.keyframe_requested)
                self.slots[mid] = slot
        elif mid in self.feeds:
            self.feeds[mid].source = None

    async def close(self) -> None:
        """Stop forwarding to and from this participant and close its connection."""
        for feed in self.feeds.values():
            feed.stop()
        for slot in self.slots.values():
            slot.attach(None)
        await self.pc.close()
