"""The room router: least loaded worker when a room is made, then sticky."""

from __future__ import annotations

import pytest

from media.routing import RoomRouter


def test_a_new_room_goes_to_the_worker_with_fewest_participants() -> None:
    router = RoomRouter([0, 1, 2])
    assert router.join("a") == 0
    assert router.join("a") == 0
    assert router.join("b") == 1
    assert router.join("c") == 2
    assert router.join("d") == 1, "workers 1 and 2 have one participant each; the first listed wins"
    assert router.load() == {0: 2, 1: 2, 2: 1}


def test_a_room_stays_on_its_worker_however_loaded() -> None:
    router = RoomRouter(["w0", "w1"])
    for _ in range(5):
        assert router.join("big") == "w0"
    assert router.join("small") == "w1"
    assert router.join("big") == "w0"
    assert router.worker_of("big") == "w0"


def test_a_room_is_forgotten_with_its_last_participant_and_placed_anew() -> None:
    router = RoomRouter([0, 1])
    router.join("a")
    router.join("b")
    router.join("b")
    router.leave("a")
    assert router.worker_of("a") is None
    assert router.join("a") == 0, "worker 0 is now the idle one"
    router.leave("unknown")
    assert router.load() == {0: 1, 1: 2}


def test_a_dropped_worker_loses_its_rooms_and_takes_new_ones() -> None:
    router = RoomRouter([0, 1])
    router.join("a")
    router.join("b")
    router.join("c")
    assert sorted(router.drop_worker(0)) == ["a", "c"]
    assert router.worker_of("a") is None
    assert router.worker_of("b") == 1
    assert router.load() == {0: 0, 1: 1}
    assert router.join("d") == 0


def test_a_router_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least one worker"):
        RoomRouter([])
