"""Synthetic aiortc participants through the real server: frames arrive as they were sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer

from media.host import LocalRoomHost, RoomSummary
from media.internals import install_passthrough, request_keyframe
from tests.rooms.synthetic import Changes, EncodedClip, SyntheticClient
from web.keys import ROOMS

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # rooms keep no database state

Join = Callable[[str], Awaitable[SyntheticClient]]


@pytest.fixture
async def join(rooms_server: TestServer, clip: EncodedClip, changes: Changes) -> AsyncIterator[Join]:
    install_passthrough()
    clients: list[SyntheticClient] = []

    async def make(name: str) -> SyntheticClient:
        url = str(rooms_server.make_url("/rooms/r1/ws"))
        client = SyntheticClient(url, name, clip, keep_payloads=True, changes=changes)
        clients.append(client)
        await client.join()
        return client

    yield make
    for client in clients:
        await client.close()


def receives(client: SyntheticClient, other: SyntheticClient, video: int = 30, audio: int = 25) -> bool:
    got_video = client.from_participant(other.id, "video")
    got_audio = client.from_participant(other.id, "audio")
    return (
        got_video is not None
        and got_video.frames >= video
        and got_audio is not None
        and got_audio.frames >= audio
    )


async def test_frames_arrive_byte_for_byte_as_published(
    join: Join, changes: Changes, clip: EncodedClip
) -> None:
    alice = await join("Alice")
    bob = await join("Bob")
    await changes.until(lambda: receives(alice, bob) and receives(bob, alice), what="media both ways")
    for client in (alice, bob):
        for received in client.received.values():
            sent = set(clip.video if received.kind == "video" else clip.audio)
            assert received.payloads <= sent, "the server changed an encoded frame"
    for client, other in ((alice, bob), (bob, alice)):
        video = client.from_participant(other.id, "video")
        assert video is not None
        assert video.first_was_keyframe, "forwarding starts with a keyframe"


async def test_late_joiner_gets_a_keyframe_at_once(
    join: Join, changes: Changes, rooms_server: TestServer
) -> None:
    alice = await join("Alice")
    bob = await join("Bob")
    await changes.until(lambda: receives(bob, alice), what="Bob receiving Alice")
    asked_before = alice.tracks["camera"].keyframes_requested
    carol = await join("Carol")
    await changes.until(
        lambda: alice.tracks["camera"].keyframes_requested > asked_before, what="keyframe request"
    )
    await changes.until(lambda: receives(carol, alice) and receives(carol, bob), what="Carol receiving both")
    host = rooms_server.app[ROOMS]
    assert isinstance(host, LocalRoomHost)
    assert host.summary() == [RoomSummary("r1", participants=3, published=6, forwarding=12)]


async def test_picture_loss_reported_by_a_subscriber_reaches_the_publisher(
    join: Join, changes: Changes
) -> None:
    alice = await join("Alice")
    bob = await join("Bob")
    await changes.until(lambda: receives(bob, alice), what="Bob receiving Alice")
    transceiver = next(
        t
        for t in bob.pc.getTransceivers()
        if t.kind == "video" and bob.slot_info.get(t.mid or "", {}).get("participant") == alice.id
    )
    server_ssrc = transceiver.receiver.getSynchronizationSources()[0].source
    asked = alice.tracks["camera"].keyframes_requested
    await request_keyframe(transceiver.receiver, server_ssrc)
    await changes.until(
        lambda: alice.tracks["camera"].keyframes_requested > asked, what="the PLI at the publisher"
    )


async def test_leaving_frees_the_slots_of_the_others(
    join: Join, changes: Changes, rooms_server: TestServer
) -> None:
    alice = await join("Alice")
    bob = await join("Bob")
    await changes.until(lambda: receives(alice, bob), what="Alice receiving Bob")
    await bob.close()
    await changes.until(
        lambda: all(info["participant"] is None for info in alice.slot_info.values()), what="freed slots"
    )
    host = rooms_server.app[ROOMS]
    assert isinstance(host, LocalRoomHost)
    assert host.summary() == [RoomSummary("r1", participants=1, published=2, forwarding=0)]
    await alice.close()
    assert host.summary() == [], "the room ended with its last participant"


async def test_shutting_the_server_down_closes_every_peer_connection(
    join: Join, changes: Changes, rooms_server: TestServer
) -> None:
    alice = await join("Alice")
    bob = await join("Bob")
    await changes.until(lambda: receives(alice, bob), what="Alice receiving Bob")
    host = rooms_server.app[ROOMS]
    assert isinstance(host, LocalRoomHost)
    connections = [p.pc for room in host.rooms.values() for p in room.participants.values()]
    assert len(connections) == 2
    await rooms_server.close()
    assert [pc.connectionState for pc in connections] == ["closed", "closed"]
    assert host.summary() == []
