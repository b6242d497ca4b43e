"""The pure parts of forwarding: slot plans, keyframe throttling, timelines, keyframe detection."""

from __future__ import annotations

import pytest

from media.codecs import is_forwardable, is_vp8_keyframe
from media.keyframes import KeyframeThrottle
from media.slots import FeedRef, SlotPlan, SlotState, plan_slots
from media.timeline import Timeline
from tests.rooms.synthetic import encode_clip


def test_new_feeds_take_free_slots_of_their_kind_and_the_rest_is_counted() -> None:
    slots = [SlotState("2", "audio", None), SlotState("3", "video", None)]
    feeds = [
        FeedRef("a:0", "audio"),
        FeedRef("a:1", "video"),
        FeedRef("b:0", "audio"),
        FeedRef("b:1", "video"),
    ]
    plan = plan_slots(slots, feeds)
    assert plan.attach == (("2", "a:0"), ("3", "a:1"))
    assert plan.free == ()
    assert plan.lacking == {"audio": 1, "video": 1}


def test_feeds_stay_in_their_slots() -> None:
    slots = [SlotState("2", "video", "a:1"), SlotState("3", "video", "b:1")]
    assert not plan_slots(slots, [FeedRef("b:1", "video"), FeedRef("a:1", "video")]).changes


def test_a_gone_feed_frees_its_slot_and_a_new_one_reuses_it() -> None:
    slots = [SlotState("2", "video", "a:1"), SlotState("3", "video", "b:1")]
    assert plan_slots(slots, [FeedRef("b:1", "video")]) == SlotPlan(free=("2",))
    assert plan_slots(slots, [FeedRef("b:1", "video"), FeedRef("a:4", "video")]) == SlotPlan(
        attach=(("2", "a:4"),)
    )


def test_a_feed_is_never_placed_twice() -> None:
    slots = [SlotState("2", "video", "a:1"), SlotState("3", "video", "a:1")]
    assert plan_slots(slots, [FeedRef("a:1", "video")]) == SlotPlan(free=("3",))


def test_requests_wait_for_the_keyframe_asked_for_which_is_asked_for_again_if_it_does_not_come() -> None:
    throttle = KeyframeThrottle(interval=0.5, gap=0.35)
    assert throttle.request(10.0) == 0.0
    assert throttle.request(10.1) is None, "the keyframe asked for serves this one too"
    assert throttle.resend(10.5) is True, "not answered: asked again"
    assert [throttle.resend(10.5 + 0.5 * n) for n in range(1, 5)] == [True, True, True, False], "a few times"
    assert throttle.request(14.0) == 0.0, "a new subscriber asks anew"
    assert throttle.keyframe_arrived() is False, "nothing was scheduled"
    assert throttle.resend(14.5) is False, "answered"


def test_once_the_keyframe_came_the_next_request_waits_only_the_gap() -> None:
    throttle = KeyframeThrottle(interval=0.5, gap=0.35)
    assert throttle.request(10.0) == 0.0
    throttle.keyframe_arrived()
    assert throttle.request(10.1) == pytest.approx(0.25)
    assert throttle.request(10.2) is None, "already scheduled"
    assert throttle.keyframe_arrived() is True, "a keyframe came first: the scheduled request is not needed"
    assert throttle.request(10.4) == 0.0
    throttle.keyframe_arrived()
    assert throttle.request(10.5) == pytest.approx(0.25)
    throttle.fired(10.75)
    assert throttle.request(10.8) is None, "that one is not answered yet"


def test_a_slot_timeline_continues_across_sources() -> None:
    timeline = Timeline(step=3000)
    assert [timeline.map(pts) for pts in (0, 3000, 6000)] == [0, 3000, 6000]
    timeline.switch()
    assert [timeline.map(pts) for pts in (900_000, 903_000)] == [9000, 12000]
    assert timeline.map(903_000) == 12000, "frames sharing a timestamp keep sharing it"
    assert timeline.map(0) == 15000, "a source that restarts does not go back in time"


def test_vp8_keyframes_are_recognised_in_encoded_frames() -> None:
    clip = encode_clip(seconds=0.2, width=64, height=48)
    assert [is_vp8_keyframe(frame) for frame in clip.video[:3]] == [True, False, False]
    assert not is_vp8_keyframe(b"")


def test_only_vp8_and_opus_are_forwarded() -> None:
    assert is_forwardable("video", "vp8")
    assert is_forwardable("audio", "OPUS")
    assert not is_forwardable("video", "H264")
    assert not is_forwardable("audio", "PCMU")
