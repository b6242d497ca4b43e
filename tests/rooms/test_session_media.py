"""Moderation enforced by the server, seen by synthetic aiortc participants of a session's room:
a waiting guest receives nothing, a muted microphone is not forwarded, a removed guest is gone."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Database
from tests.rooms.conftest import Enter
from tests.rooms.session_world import World
from tests.rooms.synthetic import Changes, SyntheticClient
from tests.rooms.test_session_room import audit_actions

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def frames(client: SyntheticClient, other: SyntheticClient, kind: str) -> int:
    got = client.from_participant(other.id, kind)
    return got.frames if got is not None else 0


def audio_received(client: SyntheticClient) -> int:
    return sum(r.frames for r in client.received.values() if r.kind == "audio")


def roster_of(client: SyntheticClient, name_end: str) -> dict[str, object]:
    return next(p for p in client.roster.get("people", []) if str(p["name"]).endswith(name_end))


async def nothing_more(changes: Changes, audio: Callable[[], int], video: Callable[[], int]) -> None:
    """Once what was on its way when a mute took effect has arrived (a second of video forwarded
    after it, on the same transport), no more ``audio`` arrives during two more seconds of video."""
    seen = video()
    await changes.until(lambda: video() >= seen + 30, what="a second of video after the mute")
    heard, seen = audio(), video()
    await changes.until(lambda: video() >= seen + 60, what="two more seconds of video")
    assert audio() == heard


async def test_a_waiting_guest_receives_nothing_until_the_host_admits_them(
    enter: Enter, changes: Changes, world: World, db: Database
) -> None:
    host = await enter("gz.coord")
    expert = await enter("expert.on")
    guest = await enter("guest:enterprise")
    assert guest.state == "waiting"
    await changes.until(
        lambda: frames(expert, host, "video") >= 60, what="the call going on without the guest"
    )
    await changes.until(
        lambda: any(not p["admitted"] for p in host.roster["people"]), what="the waiting list"
    )
    waiting = roster_of(host, "陈经理")
    assert (waiting["role"], waiting["admitted"], waiting["connected"]) == ("enterprise", False, True)
    assert guest.messages == [{"type": "waiting"}]  # no roster, no slots, no media
    assert guest.received == {}
    assert not any(p["role"] == "enterprise" for p in expert.roster["people"] if p["admitted"])

    await expert.send({"type": "moderate", "action": "admit", "target": waiting["id"]})
    await changes.until(lambda: bool(expert.errors), what="the expert's refusal")
    assert expert.errors[-1]["message"] == "只有主持人可以这样做"
    assert guest.state == "waiting"

    await host.send({"type": "moderate", "action": "admit", "target": waiting["id"]})
    await changes.until(lambda: guest.state == "joined", what="the guest admitted")
    assert [m["type"] for m in guest.messages[:3]] == ["waiting", "admitted", "joined"]
    await changes.until(
        lambda: frames(guest, host, "video") >= 30 and frames(host, guest, "video") >= 30,
        what="media both ways",
    )
    await changes.until(lambda: frames(expert, guest, "audio") >= 25, what="the guest heard")
    await world.web.close()
    await world.web.test_server.close()  # every handler has finished, its audit entries written
    assert ("room.admit", "user:1", f"guest:{world.guest_ids['enterprise']}") in await audit_actions(db)


async def test_a_muted_microphone_is_not_forwarded_and_the_mute_survives_a_rejoin(
    enter: Enter, changes: Changes, world: World, db: Database
) -> None:
    host = await enter("gz.coord")
    expert = await enter("expert.on")
    await changes.until(lambda: frames(host, expert, "audio") >= 25, what="the expert heard")
    expert_id = expert.id
    await host.send({"type": "moderate", "action": "mute", "target": expert_id})
    await changes.until(lambda: roster_of(host, "expert.on")["muted"] is True, what="the mute")
    await nothing_more(changes, lambda: frames(host, expert, "audio"), lambda: frames(host, expert, "video"))

    await expert.send({"type": "self_mute", "muted": False})  # a muted person may unmute...
    await changes.until(lambda: roster_of(host, "expert.on")["muted"] is False, what="the unmute")
    heard = frames(host, expert, "audio")
    await changes.until(lambda: frames(host, expert, "audio") >= heard + 25, what="the expert heard again")

    await host.send({"type": "moderate", "action": "mute_all"})  # ...but not after "mute all"
    await changes.until(lambda: expert.roster.get("locked_mute") is True, what="mute all")
    await expert.send({"type": "self_mute", "muted": False})
    await changes.until(lambda: bool(expert.errors), what="the refusal")
    assert expert.errors[-1]["code"] == "muted_by_host"

    # the expert's page is reopened: the same person, still muted, still not forwarded
    again = await enter("expert.on")
    await changes.until(lambda: expert.state == "replaced", what="the old connection replaced")
    assert again.id == expert_id
    await nothing_more(changes, lambda: audio_received(host), lambda: frames(host, again, "video"))
    assert roster_of(again, "expert.on")["muted"] is True

    await host.send({"type": "moderate", "action": "give_floor", "target": expert_id})
    await changes.until(lambda: audio_received(host) >= heard + 25, what="the floor given")
    await world.web.close()
    await world.web.test_server.close()  # every handler has finished, its audit entries written
    assert "room.mute_all" in [action for action, _, _ in await audit_actions(db)]


async def test_a_removed_guest_is_sent_away_and_cannot_come_back(enter: Enter, changes: Changes) -> None:
    host = await enter("gz.coord")
    observer = await enter("guest:observer")
    assert observer.state == "waiting"  # observers too wait for the host
    await changes.until(
        lambda: any(not p["admitted"] for p in host.roster["people"]), what="the waiting list"
    )
    await host.send({"type": "moderate", "action": "admit", "target": roster_of(host, "林")["id"]})
    await changes.until(lambda: observer.state == "joined", what="the observer admitted")
    await changes.until(lambda: frames(host, observer, "video") >= 30, what="the observer seen")
    await host.send({"type": "moderate", "action": "remove", "target": observer.id})
    await changes.until(lambda: observer.state == "removed", what="the removal")
    assert observer.messages[-1]["message"] == "主持人已将您移出本次会议"
    await changes.until(lambda: not any(p["name"].endswith("林") for p in host.roster["people"]), what="gone")
    back = await enter("guest:observer")
    assert (back.state, back.errors[-1]["code"]) == ("refused", "removed")
