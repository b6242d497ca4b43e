"""The ICE configuration the server uses for itself and gives the browsers."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import ValidationError

from media.config import IceServer, RoomConfig
from remote_check.settings import Settings


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
    browser = config.browser_configuration("r1-p1")
    assert browser["iceTransportPolicy"] == "relay"
    assert browser["iceServers"][1] == {
        "urls": ["turn:turn.example.cn:3478"],
        "username": "rc",
        "credential": "pw",
    }
    with pytest.raises(ValidationError, match="turn_urls"):
        Settings(data_dir=tmp_path, ice_transport_policy="relay")


def test_with_a_turn_secret_each_browser_gets_its_own_expiring_credentials(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        turn_urls=["turn:turn.example.cn:3478"],
        turn_secret="s3cret",
        turn_credential_hours=2,
    )
    config = RoomConfig.from_settings(settings)
    turn = config.browser_configuration("r1-p1", now=1_800_000_000)["iceServers"][0]
    assert turn["username"] == f"{1_800_000_000 + 2 * 3600}:r1-p1"
    assert len(base64.b64decode(turn["credential"])) == 20, "an HMAC-SHA1"
    other = config.browser_configuration("r1-p2", now=1_800_000_000)["iceServers"][0]
    assert other["credential"] != turn["credential"]
    assert "s3cret" not in repr(config), "the secret stays out of logs"
    with pytest.raises(ValidationError, match="not both"):
        Settings(
            data_dir=tmp_path,
            turn_urls=["turn:t:3478"],
            turn_secret="s",
            turn_username="u",
            turn_password="p",
        )
