"""The room's rules: waiting room, capacity, one connection per person, server-side muting."""

from __future__ import annotations

import pytest

from media.moderation import Arrival, Moderation, Recording, RoomRole
from remote_check.errors import DomainError


def room_with_host(capacity: int = 12) -> Moderation:
    room = Moderation(capacity=capacity)
    room.arrive("user:1", "东莞市工信局 张主持", RoomRole.HOST, "c-host", guest=False)
    return room


def test_guests_wait_until_the_host_admits_them() -> None:
    room = room_with_host()
    result = room.arrive("guest:7", "东莞某电子厂 李工", RoomRole.ENTERPRISE, "c7", guest=True)
    assert result.outcome == Arrival.WAITING
    assert [p.identity for p in room.waiting()] == ["guest:7"]
    assert not room.forwards_video("guest:7")
    room.admit("user:1", "guest:7")
    assert room.waiting() == []
    assert room.forwards_video("guest:7")


def test_staff_join_directly() -> None:
    room = room_with_host()
    assert (
        room.arrive("user:2", "华南理工 王专家", RoomRole.EXPERT, "c2", guest=False).outcome == Arrival.JOINED
    )


def test_only_the_host_moderates() -> None:
    room = room_with_host()
    room.arrive("user:2", "专家", RoomRole.EXPERT, "c2", guest=False)
    room.arrive("guest:7", "企业", RoomRole.ENTERPRISE, "c7", guest=True)
    with pytest.raises(DomainError) as caught:
        room.admit("user:2", "guest:7")
    assert caught.value.code == "not_host"
    with pytest.raises(DomainError):
        room.mute_all("guest:7")


def test_the_thirteenth_person_is_refused_but_a_rejoin_is_not() -> None:
    room = room_with_host()
    for n in range(2, 13):
        room.arrive(f"user:{n}", f"专家{n}", RoomRole.EXPERT, f"c{n}", guest=False)
    with pytest.raises(DomainError) as caught:
        room.arrive("user:13", "第十三人", RoomRole.OBSERVER, "c13", guest=False)
    assert caught.value.code == "room_full"
    assert "12" in caught.value.message.zh
    again = room.arrive("user:5", "专家5", RoomRole.EXPERT, "c5-new", guest=False)
    assert again.outcome == Arrival.REPLACED
    assert again.dropped_connection == "c5"


def test_a_rejoin_keeps_role_name_and_mute_state() -> None:
    room = room_with_host()
    room.arrive("guest:7", "东莞某电子厂 李工", RoomRole.ENTERPRISE, "c7", guest=True)
    room.admit("user:1", "guest:7")
    room.mute("user:1", "guest:7")
    assert room.depart("guest:7", "c7")
    back = room.arrive("guest:7", "someone else", RoomRole.HOST, "c7b", guest=True)
    assert back.outcome == Arrival.JOINED
    assert back.person.name == "东莞某电子厂 李工"
    assert back.person.role == RoomRole.ENTERPRISE
    assert back.person.muted
    assert not room.forwards_audio("guest:7")


def test_a_stale_connection_closing_does_not_drop_the_new_one() -> None:
    room = room_with_host()
    room.arrive("user:2", "专家", RoomRole.EXPERT, "old", guest=False)
    room.arrive("user:2", "专家", RoomRole.EXPERT, "new", guest=False)
    assert not room.depart("user:2", "old")
    assert room.forwards_video("user:2")


def test_mute_all_is_enforced_until_the_floor_is_given() -> None:
    room = room_with_host()
    room.arrive("user:2", "专家", RoomRole.EXPERT, "c2", guest=False)
    room.mute_all("user:1")
    assert room.forwards_audio("user:1")
    assert not room.forwards_audio("user:2")
    with pytest.raises(DomainError) as caught:
        room.set_own_mute("user:2", muted=False)
    assert caught.value.code == "muted_by_host"
    room.raise_hand("user:2")
    room.give_floor("user:1", "user:2")
    assert room.forwards_audio("user:2")
    assert not room.people["user:2"].hand_up
    room.take_floor("user:1", "user:2")
    assert not room.forwards_audio("user:2")


def test_someone_admitted_after_mute_all_arrives_muted() -> None:
    room = room_with_host()
    room.mute_all("user:1")
    room.arrive("guest:8", "服务商 赵工", RoomRole.SUPPLIER, "c8", guest=True)
    room.admit("user:1", "guest:8")
    assert not room.forwards_audio("guest:8")


def test_a_removed_person_cannot_come_back() -> None:
    room = room_with_host()
    room.arrive("guest:7", "企业", RoomRole.ENTERPRISE, "c7", guest=True)
    assert room.remove("user:1", "guest:7") == "c7"
    with pytest.raises(DomainError) as caught:
        room.arrive("guest:7", "企业", RoomRole.ENTERPRISE, "c7b", guest=True)
    assert caught.value.code == "removed"


def test_only_the_host_records_and_each_step_must_fit_the_state() -> None:
    room = room_with_host()
    room.arrive("user:2", "专家 李", RoomRole.EXPERT, "c-expert", guest=False)
    with pytest.raises(DomainError) as refused:
        room.record("user:2", "start")
    assert (refused.value.status, refused.value.code) == (403, "not_host")
    assert room.recording == Recording.OFF
    for step, wrong in (("pause", "off"), ("resume", "off"), ("stop", "off")):
        with pytest.raises(DomainError) as refused:
            room.record("user:1", step)
        assert (refused.value.status, refused.value.code, room.recording) == (409, "recording_state", wrong)
    assert room.record("user:1", "start") == Recording.ON
    with pytest.raises(DomainError):
        room.record("user:1", "start")
    assert room.record("user:1", "pause") == Recording.PAUSED
    with pytest.raises(DomainError):
        room.record("user:1", "pause")
    assert room.record("user:1", "resume") == Recording.ON
    assert room.record("user:1", "stop") == Recording.OFF


def test_every_guest_waits_observers_too_but_staff_observers_do_not() -> None:
    room = room_with_host()
    for n, role in enumerate((RoomRole.ENTERPRISE, RoomRole.SUPPLIER, RoomRole.OBSERVER)):
        assert room.arrive(f"guest:{n}", "访客", role, f"g{n}", guest=True).outcome == Arrival.WAITING
    assert [p.identity for p in room.waiting()] == ["guest:0", "guest:1", "guest:2"]
    assert not room.forwards_video("guest:2")
    auditor = room.arrive("user:9", "审计员", RoomRole.OBSERVER, "c9", guest=False)
    assert auditor.outcome == Arrival.JOINED


def test_a_room_open_to_guests_admits_the_waiting_and_lets_guests_in() -> None:
    room = room_with_host()
    room.arrive("user:2", "专家", RoomRole.EXPERT, "c2", guest=False)
    room.arrive("guest:7", "企业", RoomRole.ENTERPRISE, "c7", guest=True)
    with pytest.raises(DomainError) as refused:
        room.set_open_to_guests("user:2", True)
    assert refused.value.code == "not_host"
    assert not room.open_to_guests
    admitted = room.set_open_to_guests("user:1", True)
    assert [p.identity for p in admitted] == ["guest:7"]
    assert room.forwards_video("guest:7")
    assert room.arrive("guest:8", "观察员", RoomRole.OBSERVER, "c8", guest=True).outcome == Arrival.JOINED
    assert room.set_open_to_guests("user:1", False) == []
    assert room.arrive("guest:9", "服务商", RoomRole.SUPPLIER, "c9", guest=True).outcome == Arrival.WAITING
    room.depart("guest:8", "c8")  # admitted once: a rejoin does not wait
    assert room.arrive("guest:8", "观察员", RoomRole.OBSERVER, "c8b", guest=True).outcome == Arrival.JOINED
