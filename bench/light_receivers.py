"""Cheap receivers for the benchmark's synthetic clients, so that the clients cost less than the
server they measure (both share this machine's cores).

Installed in the client process only, it replaces aiortc's ``RTCRtpReceiver._handle_rtp_packet``
(after SRTP decryption) with a counter: a video frame is counted at the RTP marker bit (the last
packet of a frame), an audio frame per packet; the first frame of each slot notes its time. No
jitter buffer, no NACK, no receiver reports, no REMB: a real browser's receiving costs are outside
the server, so leaving them out changes nothing the server does, only what the clients burn. The
server process keeps aiortc as it is.
"""

from __future__ import annotations

import time
from typing import Any

from aiortc import RTCRtpReceiver
from aiortc.rtp import RtpPacket

from tests.rooms.synthetic import Changes, Received, SyntheticClient


class LightReceivers:
    """Counts what ``clients`` receive, per slot, into their ``received`` entries."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        self.clients: list[SyntheticClient] = []
        self._slots: dict[RTCRtpReceiver, Received] = {}

    def install(self) -> None:
        """Replace aiortc's receive path in this process (clients only: never in a server)."""
        count = self.count

        async def handle(receiver: RTCRtpReceiver, packet: RtpPacket, arrival_time_ms: int) -> None:
            count(receiver, packet)

        RTCRtpReceiver._handle_rtp_packet = handle  # type: ignore[method-assign,assignment]

    def _slot(self, receiver: RTCRtpReceiver) -> Received | None:
        slot = self._slots.get(receiver)
        if slot is None:
            for client in self.clients:
                for transceiver in client.pc.getTransceivers():
                    mid = transceiver.mid
                    if transceiver.receiver is receiver and mid is not None and mid in client.received:
                        slot = self._slots[receiver] = client.received[mid]
        return slot

    def count(self, receiver: RTCRtpReceiver, packet: Any) -> None:
        """One RTP packet arrived for ``receiver``."""
        slot = self._slot(receiver)
        if slot is None or (slot.kind == "video" and not packet.marker):
            return
        slot.frames += 1
        if slot.first_at is None:
            slot.first_at = time.perf_counter()
            self.changes.notify()
