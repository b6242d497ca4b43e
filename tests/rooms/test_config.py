"""The ICE configuration the server uses for itself and gives the browsers."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from remote_check.settings import Settings
from web.rooms.config import IceServer, RoomConfig


def test_the_server_itself_uses_stun_only_and_relay_needs_a_turn_server(tmp_path: Path) -> None:
    config = RoomConfig(
        ice_servers=(
            IceServer(("stun:stun.example.cn:3478",)),
            IceServer(("turn:turn.example.cn:3478",), "rc", "pw"),
        ),
        ice_transport_policy="relay",
    )
    servers = config.rtc_configuration().iceServers or []
    assert [server.urls for server in servers] == [["stun:stun.example.cn:3478"]]
    assert config.browser_configuration()["iceTransportPolicy"] == "relay"
    assert len(config.browser_configuration()["iceServers"]) == 2
    with pytest.raises(ValidationError, match="turn_urls"):
        Settings(data_dir=tmp_path, ice_transport_policy="relay")
