"""The session clock: RTP timestamps of every track on one timeline."""

from __future__ import annotations

import pytest

from recordings.clock import (
    NTP_UNIX_OFFSET,
    RtpUnwrapper,
    SenderReport,
    SessionClock,
    ntp_to_unix,
)

ORIGIN = 1_800_000_000.0  # server Unix time at which recording began


def test_unwrapper_counts_on_across_the_32_bit_wrap() -> None:
    unwrapper = RtpUnwrapper()
    near_end = (1 << 32) - 3000
    assert unwrapper.unwrap(near_end) == near_end
    assert unwrapper.unwrap(near_end + 2999) == near_end + 2999
    # 3000 ticks later the 32-bit value has wrapped to 0 ...
    assert unwrapper.unwrap(0) == 1 << 32
    assert unwrapper.unwrap(3000) == (1 << 32) + 3000
    # ... and a late packet from before the wrap keeps its place.
    assert unwrapper.unwrap(near_end + 1500) == near_end + 1500
    assert unwrapper.unwrap(6000) == (1 << 32) + 6000


def test_out_of_range_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="out of range"):
        RtpUnwrapper().unwrap(1 << 32)


def test_ntp_timestamps_convert_to_unix_seconds() -> None:
    assert ntp_to_unix((NTP_UNIX_OFFSET + 10) << 32 | (1 << 31)) == 10.5
    raw = SenderReport.from_rtcp("cam", "bob", (NTP_UNIX_OFFSET + 20) << 32, 1234, arrival=ORIGIN)
    assert raw == SenderReport("cam", "bob", 20.0, 1234, ORIGIN)


def test_without_reports_a_track_starts_at_its_first_arrival() -> None:
    clock = SessionClock(ORIGIN)
    clock.add_track("a-video", "video", sender="alice")
    first = clock.stamp("a-video", 1_000_000, arrival=ORIGIN + 2.0)
    later = clock.stamp("a-video", 1_000_000 + 90_000 * 3, arrival=ORIGIN + 5.3)  # jitter ignored
    assert (first.source, first.session_time) == ("arrival", 2.0)
    assert later.session_time == pytest.approx(5.0)


def test_a_track_keeps_counting_through_the_wrap() -> None:
    clock = SessionClock(ORIGIN)
    clock.add_track("mic", "audio", sender="alice")
    start = (1 << 32) - 48_000  # one second before the wrap at 48 kHz
    assert clock.stamp("mic", start, arrival=ORIGIN + 1.0).session_time == 1.0
    stamps = [clock.stamp("mic", (start + 960 * n) % (1 << 32), arrival=ORIGIN) for n in range(1, 151)]
    times = [s.session_time for s in stamps]
    assert times == sorted(times)
    assert times[-1] == pytest.approx(1.0 + 150 * 0.020)


def test_two_tracks_started_at_different_times_line_up_by_sender_reports() -> None:
    """Camera and microphone of one sender: random RTP origins, first packets 0.4 s apart and
    delayed differently; the sender reports say which RTP times are the same instant."""
    clock = SessionClock(ORIGIN)
    clock.add_track("cam", "video", sender="bob")
    clock.add_track("mic", "audio", sender="bob")
    sender_now = 1_700_000_000.0  # bob's wall clock runs 100 000 000 s behind the server's
    video_base, audio_base = 4_000_000_000, 123_456
    clock.stamp("cam", video_base, arrival=ORIGIN + 3.4)
    clock.stamp("mic", audio_base, arrival=ORIGIN + 3.0)
    # At bob's time sender_now + 1: video RTP is video_base + 0.6 s, audio is audio_base + 1.0 s.
    clock.report(SenderReport("cam", "bob", sender_now + 1, (video_base + 54_000) % (1 << 32), ORIGIN + 4.05))
    clock.report(SenderReport("mic", "bob", sender_now + 1, audio_base + 48_000, ORIGIN + 4.07))
    # The same instant, 2 s after the reports, on each track (the video one past its RTP wrap):
    video = clock.stamp("cam", (video_base + 54_000 + 180_000) % (1 << 32), arrival=ORIGIN + 6.2)
    audio = clock.stamp("mic", audio_base + 48_000 + 96_000, arrival=ORIGIN + 6.1)
    assert video.source == audio.source == "sender-report"
    assert video.session_time == pytest.approx(audio.session_time, abs=1e-9)
    # The sender's clock is tied to the server's by the first report's arrival.
    assert audio.session_time == pytest.approx(4.05 + 2.0)


def test_without_reports_two_tracks_line_up_by_arrival() -> None:
    clock = SessionClock(ORIGIN)
    clock.add_track("cam", "video", sender="bob")
    clock.add_track("screen", "video", sender="carol")
    clock.stamp("cam", 10, arrival=ORIGIN + 1.0)
    clock.stamp("screen", 3_000_000_000, arrival=ORIGIN + 61.0)
    cam = clock.stamp("cam", 10 + 90_000 * 70, arrival=ORIGIN + 71.0)
    screen = clock.stamp("screen", 3_000_000_000 + 90_000 * 10, arrival=ORIGIN + 71.0)
    assert cam.session_time == pytest.approx(screen.session_time) == pytest.approx(71.0)


def test_unknown_tracks_and_kinds_are_refused() -> None:
    clock = SessionClock(ORIGIN)
    with pytest.raises(ValueError, match="unknown track kind"):
        clock.add_track("x", "data", sender="bob")
    clock.add_track("cam", "video", sender="bob")
    with pytest.raises(ValueError, match="already registered"):
        clock.add_track("cam", "video", sender="bob")
    with pytest.raises(ValueError, match="unknown track"):
        clock.stamp("mic", 0, arrival=ORIGIN)
    with pytest.raises(ValueError, match="is sent by"):
        clock.report(SenderReport("cam", "mallory", 0.0, 0, ORIGIN))
