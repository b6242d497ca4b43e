"""The track writer: VP8 and Opus stream-copied into WebM, in a thread, surviving a SIGKILL."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import av
import pytest
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from media.internals import PassthroughDecoder
from recordings.writer import EncodedFrame, TrackSpec, TrackWriter, frame_from_packet
from tests.recordings.feeding import BASES, NAMES, ORIGIN, START, TRACKS, session_clock, to_encoded
from tests.recordings.media import FFMPEG, SECONDS, SourceFrame, probe

ROOT = Path(__file__).resolve().parents[2]


def record(path: Path, frames: list[SourceFrame], **options: int) -> TrackWriter:
    clock = session_clock()
    writer = TrackWriter(path, TRACKS, **options)
    writer.start()
    for frame in frames:
        writer.write(to_encoded(clock, frame))
    writer.close(timeout=30)
    return writer


def gaps(times: list[float]) -> list[tuple[float, float]]:
    """Where a stream has no packet for more than 0.1 s, in media seconds rounded to 10 ms."""
    return [(round(a - START, 2), round(b - START, 2)) for a, b in itertools.pairwise(times) if b - a > 0.1]


def decodes_cleanly(path: Path) -> None:
    """The real ffmpeg decodes every frame of ``path`` without a single error."""
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [FFMPEG, "-v", "error", "-xerror", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_frames_are_copied_unchanged_on_the_session_clock(
    tmp_path: Path, source_frames: list[SourceFrame]
) -> None:
    out = tmp_path / "alice.webm"
    writer = record(out, source_frames)

    found = probe(out)
    assert found.codecs == {"video": "vp8", "audio": "opus"}
    assert found.extradata["audio"] == 19  # the OpusHead
    # The participant joined 0.25 s into the session: that is where the tracks begin.
    assert found.times["video"][0] == pytest.approx(START, abs=0.002)
    assert found.ends["video"] == pytest.approx(START + SECONDS, abs=0.05)
    assert found.ends["audio"] == pytest.approx(START + SECONDS, abs=0.05)
    decodes_cleanly(out)
    # Stream copy: the bytes in the file are the bytes that came in.
    with av.open(str(out)) as container:
        video = [bytes(p) for p in container.demux(video=0) if p.size]
    assert video == [f.data for f in source_frames if f.kind == "video"]
    assert writer.stats.written == len(source_frames)
    assert writer.stats.dropped == writer.stats.errors == 0


def test_pause_and_resume_give_one_file_with_the_gap_left_out(
    tmp_path: Path, source_frames: list[SourceFrame]
) -> None:
    out = tmp_path / "paused.webm"
    clock = session_clock()
    writer = TrackWriter(out, TRACKS)
    writer.start()
    for frame in source_frames:
        if frame.seconds >= 1.5 and not writer.paused and frame.seconds < 3.2:
            writer.pause()
        if frame.seconds >= 3.2 and writer.paused:
            writer.resume()
        writer.write(to_encoded(clock, frame))
    writer.close(timeout=30)

    found = probe(out)
    # Video resumes at the first keyframe after 3.2 s (one a second): 4 s, not re-timed.
    assert gaps(found.times["video"]) == [(1.48, 4.0)]
    assert gaps(found.times["audio"]) == [(1.48, 3.2)]
    decodes_cleanly(out)
    assert writer.stats.skipped_waiting_keyframe == 20  # 3.2 s .. 3.96 s


def test_a_stalled_disk_drops_the_oldest_frames_counts_and_logs_them(
    tmp_path: Path, source_frames: list[SourceFrame], caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "stalled.webm"
    clock = session_clock()
    writer = TrackWriter(out, TRACKS, queue_frames=100)
    with caplog.at_level(logging.WARNING, logger="recordings.writer"):
        # Not started yet: nothing leaves the queue, as when the disk stalls.
        for frame in source_frames:
            writer.write(to_encoded(clock, frame))
    assert writer.stats.dropped == len(source_frames) - 100
    assert "disk too slow, 1 frames dropped" in caplog.text
    assert "disk too slow, 100 frames dropped" in caplog.text
    assert writer.wants_keyframe("cam")
    writer.start()
    writer.close(timeout=30)

    # The newest frames were kept; the video starts at a keyframe so every frame decodes.
    found = probe(out)
    assert found.ends["audio"] == pytest.approx(START + SECONDS, abs=0.05)
    assert found.times["video"][0] == pytest.approx(START + 4.0, abs=0.01)
    decodes_cleanly(out)
    assert not writer.wants_keyframe("cam")


def test_a_killed_recorder_leaves_everything_but_the_last_two_seconds(
    tmp_path: Path, sparse_keyframes_file: Path
) -> None:
    out = tmp_path / "killed.webm"
    child = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "tests.recordings.kill_child", str(sparse_keyframes_file), str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    fed = 0.0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            fed = float(line.split()[1])
            if fed >= 8.0:  # 3 s after the last keyframe (the source loops every 5 s)
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    found = probe(out)
    assert found.codecs == {"video": "vp8", "audio": "opus"}
    assert found.ends["video"] >= START + fed - 2.0
    assert found.ends["audio"] >= START + fed - 2.0
    decodes_cleanly(out)


def test_a_track_moved_back_by_its_first_sender_report_stays_in_order(
    tmp_path: Path, source_frames: list[SourceFrame]
) -> None:
    """The arrival estimate put the audio 30 ms late; the first sender report moves it back. The
    file keeps every frame, in order, and plays."""
    out = tmp_path / "moved.webm"
    writer = TrackWriter(out, TRACKS)
    writer.start()
    for frame in source_frames:
        late = 0.03 if frame.kind == "audio" and frame.seconds < 1.0 else 0.0
        name = "cam" if frame.kind == "video" else "mic"
        writer.write(EncodedFrame(name, frame.data, START + frame.seconds + late, frame.keyframe))
    writer.close(timeout=30)
    assert writer.stats.written == len(source_frames)
    assert writer.stats.adjusted == 1  # 0.981 s + 30 ms = 1.011 s; 1.001 s is moved to 1.012 s
    audio = probe(out).times["audio"]
    assert audio == sorted(set(audio))
    decodes_cleanly(out)


def test_the_rooms_encoded_frames_go_straight_in(tmp_path: Path, source_frames: list[SourceFrame]) -> None:
    """Frames as the room's passthrough decoder yields them (``av.Packet``, pts = RTP time)."""
    decoders = {
        "video": PassthroughDecoder(RTCRtpCodecParameters("video/VP8", clockRate=90_000)),
        "audio": PassthroughDecoder(RTCRtpCodecParameters("audio/opus", clockRate=48_000, channels=2)),
    }
    clock = session_clock()
    out = tmp_path / "room.webm"
    writer = TrackWriter(out, TRACKS)
    writer.start()
    for frame in source_frames:
        rtp = (BASES[frame.kind] + frame.rtp) % (1 << 32)
        (packet,) = decoders[frame.kind].decode(JitterFrame(frame.data, rtp))
        arrival = ORIGIN + START + frame.seconds
        writer.write(frame_from_packet(clock, NAMES[frame.kind], packet, arrival))  # type: ignore[arg-type]
    writer.close(timeout=30)
    found = probe(out)
    assert found.ends["video"] == pytest.approx(START + SECONDS, abs=0.05)
    assert writer.stats.written == len(source_frames)
    decodes_cleanly(out)


def test_bad_tracks_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unique track names"):
        TrackWriter(tmp_path / "x.webm", [TrackSpec("a", "audio"), TrackSpec("a", "video")])
    writer = TrackWriter(tmp_path / "x.webm", TRACKS)
    with pytest.raises(ValueError, match="unknown track"):
        writer.write(EncodedFrame("screen", b"\x00", 0.0, keyframe=True))
