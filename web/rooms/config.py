"""What a room needs to know from the settings: size cap, ICE servers, bitrate hints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCIceServer

from recordings.integrity import manifest_key
from remote_check.settings import Settings
from web.rooms.forwarding import KEYFRAME_INTERVAL
from web.rooms.sdp import MIN_BITRATE_KBPS, START_BITRATE_KBPS


@dataclass(frozen=True)
class IceServer:
    """A STUN or TURN server, given to aiortc and to the browsers alike."""

    urls: tuple[str, ...]
    username: str = ""
    credential: str = ""


@dataclass(frozen=True)
class RoomConfig:
    """Settings of every room of a host."""

    max_participants: int = 12
    ice_servers: tuple[IceServer, ...] = ()
    start_bitrate_kbps: int = START_BITRATE_KBPS
    min_bitrate_kbps: int = MIN_BITRATE_KBPS
    keyframe_interval: float = KEYFRAME_INTERVAL
    recordings_dir: Path | None = None  # None: rooms cannot be recorded
    recording_key: bytes = field(default=b"", repr=False)  # signs the recordings' manifests

    @classmethod
    def from_settings(cls, settings: Settings) -> RoomConfig:
        """The room settings of the app's settings."""
        servers: list[IceServer] = []
        if settings.stun_urls:
            servers.append(IceServer(tuple(settings.stun_urls)))
        if settings.turn_urls:
            servers.append(
                IceServer(tuple(settings.turn_urls), settings.turn_username, settings.turn_password)
            )
        return cls(
            max_participants=settings.max_room_size,
            ice_servers=tuple(servers),
            recordings_dir=settings.data_dir / "recordings",
            recording_key=manifest_key(settings.secret_key()),
        )

    def rtc_configuration(self) -> RTCConfiguration:
        """aiortc's configuration: every m-line on one transport (aiortc issue 1414: with the
        default bundle policy the sender of a second video m-line never starts)."""
        return RTCConfiguration(
            iceServers=[
                RTCIceServer(urls=list(s.urls), username=s.username or None, credential=s.credential or None)
                for s in self.ice_servers
            ],
            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
        )

    def browser_ice_servers(self) -> list[dict[str, Any]]:
        """The ``iceServers`` of the browser's ``RTCPeerConnection``."""
        out: list[dict[str, Any]] = []
        for server in self.ice_servers:
            entry: dict[str, Any] = {"urls": list(server.urls)}
            if server.username:
                entry["username"] = server.username
                entry["credential"] = server.credential
            out.append(entry)
        return out
