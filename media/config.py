"""What a room needs to know from the settings: size cap, ICE servers, bitrate hints."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCIceServer

from media import protocol
from media.forwarding import KEYFRAME_INTERVAL
from media.sdp import MIN_BITRATE_KBPS, START_BITRATE_KBPS
from media.turn_credentials import rest_credentials
from recordings.integrity import manifest_key
from remote_check.settings import Settings


@dataclass(frozen=True)
class IceServer:
    """A STUN or TURN server, given to aiortc and to the browsers alike."""

    urls: tuple[str, ...]
    username: str = ""
    credential: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)  # TURN REST API: credentials made per browser
    credential_seconds: int = 12 * 3600

    @property
    def is_turn(self) -> bool:
        """A TURN server (``turn:`` / ``turns:`` URLs), not a STUN server."""
        return any(url.startswith(("turn:", "turns:")) for url in self.urls)


@dataclass(frozen=True)
class RoomConfig:
    """Settings of every room of a host."""

    max_participants: int = 12
    ice_servers: tuple[IceServer, ...] = ()
    ice_transport_policy: str = "all"
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
                IceServer(
                    tuple(settings.turn_urls),
                    settings.turn_username,
                    settings.turn_password,
                    settings.turn_secret,
                    settings.turn_credential_hours * 3600,
                )
            )
        return cls(
            max_participants=settings.max_room_size,
            ice_servers=tuple(servers),
            ice_transport_policy=settings.ice_transport_policy,
            recordings_dir=settings.data_dir / "recordings",
            recording_key=manifest_key(settings.secret_key()),
        )

    def rtc_configuration(self) -> RTCConfiguration:
        """aiortc's configuration: every m-line on one transport (aiortc issue 1414: with the
        default bundle policy the sender of a second video m-line never starts). The server uses
        the STUN servers only (to learn its public address behind a NAT): the TURN server is
        for browsers that cannot reach the server directly, and an allocation per participant
        on the server's side would only slow every join down."""
        return RTCConfiguration(
            iceServers=[RTCIceServer(urls=list(s.urls)) for s in self.ice_servers if not s.is_turn],
            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
        )

    def browser_configuration(self, label: str, now: float | None = None) -> protocol.RtcConfiguration:
        """The browser's ``RTCPeerConnection`` configuration: ICE servers, transport policy, bundle.
        With a TURN secret, the credentials are made for this browser (``label`` names it in the
        TURN server's logs) and expire after the server's ``credential_seconds``."""
        servers: list[protocol.IceServer] = []
        for server in self.ice_servers:
            entry: protocol.IceServer = {"urls": list(server.urls)}
            if server.secret:
                expires_at = int(time.time() if now is None else now) + server.credential_seconds
                entry["username"], entry["credential"] = rest_credentials(server.secret, label, expires_at)
            elif server.username:
                entry["username"] = server.username
                entry["credential"] = server.credential
            servers.append(entry)
        return {
            "iceServers": servers,
            "iceTransportPolicy": self.ice_transport_policy,
            "bundlePolicy": "max-bundle",
        }
