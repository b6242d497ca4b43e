"""The replay render with real ffmpeg: short VP8/Opus Matroska inputs made once with lavfi, some
starting later than others on the session clock, rendered and probed."""

from __future__ import annotations

import itertools
import json
import math
import struct
import subprocess
from pathlib import Path

import pytest

from recordings.chapters import Mark, ffmetadata
from recordings.layout import plan, slots
from recordings.render import FFMPEG, FFPROBE, discover, render, render_part, render_parts
from remote_check.errors import DomainError
from tests.recordings.media import keyframes

MARKS = [Mark("A.1", "数据备份 backup", 0.5, 2.0), Mark("B.2", "访问控制", 2.5, 4.0)]


def _make(
    path: Path, offset: float, seconds: float, video: str | None, audio: bool, *, live: bool = False
) -> Path:
    argv = [FFMPEG, "-v", "error", "-y"]
    if video:
        argv += ["-f", "lavfi", "-i", f"testsrc2={video}"]
    if audio:
        argv += ["-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000"]
    if video:
        argv += ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"]
    if audio:
        argv += ["-c:a", "libopus", "-b:a", "24k"]
    if live:  # written as it goes, no duration in the header: like a recording cut by a crash
        argv += ["-live", "1"]
    argv += ["-t", str(seconds), "-output_ts_offset", str(offset), str(path)]
    subprocess.run(argv, check=True)  # noqa: S603 - fixed arguments
    return path


@pytest.fixture(scope="module")
def part(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A part: a camera from 0 s, a camera with voice from 1 s, a screen share from 0.5 s, a
    microphone alone from 2 s; the session ends at 4.5 s."""
    folder = tmp_path_factory.mktemp("part")
    _make(folder / "alice-camera.webm", 0.0, 4.0, "size=640x360:rate=25", False)
    _make(folder / "bob.webm", 1.0, 3.5, "size=640x360:rate=25", True)
    _make(folder / "carol-screen.webm", 0.5, 3.0, "size=1280x720:rate=5", False)
    _make(folder / "dave-microphone.mka", 2.0, 2.0, None, True)
    return folder


def _probe(path: Path) -> dict[str, object]:
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [FFPROBE, "-v", "error", "-of", "json", "-show_streams", "-show_format", "-show_chapters", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def _boxes(path: Path) -> list[str]:
    """The file's top-level MP4 boxes, in order."""
    names, data, at = [], path.read_bytes(), 0
    while at + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        names.append(name.decode())
        at += size if size else len(data)
    return names


def _brightness(path: Path, at: float, crop: str) -> float:
    """The mean luma of a region of the frame shown at ``at`` seconds."""
    raw = subprocess.run(  # noqa: S603 - fixed arguments
        [FFMPEG, "-v", "error", "-ss", str(at), "-i", str(path), "-frames:v", "1",
         "-vf", f"crop={crop},format=gray", "-f", "rawvideo", "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    return sum(raw) / len(raw)


@pytest.fixture(scope="module")
def rendered(part: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[float]]:
    """The part rendered once, with the fractions the progress callback received."""
    import asyncio

    fractions: list[float] = []

    async def progress(fraction: float) -> None:
        fractions.append(fraction)

    output = tmp_path_factory.mktemp("out") / "replay.mp4"
    asyncio.run(render_part(part, output, marks=MARKS, progress=progress))
    return output, fractions


async def test_discover_reads_each_track_and_its_offset(part: Path) -> None:
    tracks = {(t.path.name, t.kind): t for t in await discover(part)}
    assert sorted(tracks) == [
        ("alice-camera.webm", "camera"),
        ("bob.webm", "camera"),
        ("bob.webm", "microphone"),
        ("carol-screen.webm", "screen"),
        ("dave-microphone.mka", "microphone"),
    ]
    assert tracks["bob.webm", "camera"].offset == pytest.approx(1.0, abs=0.05)
    assert tracks["dave-microphone.mka", "microphone"].offset == pytest.approx(2.0, abs=0.05)
    assert tracks["bob.webm", "camera"].end == pytest.approx(4.5, abs=0.1)


def test_replay_is_h264_aac_faststart_with_the_screen_layout(rendered: tuple[Path, list[float]]) -> None:
    output, _ = rendered
    info = _probe(output)
    streams = {s["codec_type"]: s for s in info["streams"]}  # type: ignore[attr-defined]
    assert streams["video"]["codec_name"] == "h264"
    assert streams["audio"]["codec_name"] == "aac"
    assert (streams["video"]["width"], streams["video"]["height"]) == (1600, 720)
    assert float(info["format"]["duration"]) == pytest.approx(4.5, abs=0.5)  # type: ignore[index]
    boxes = _boxes(output)
    assert boxes.index("moov") < boxes.index("mdat")


def test_each_camera_appears_at_its_offset(rendered: tuple[Path, list[float]]) -> None:
    output, _ = rendered
    first, second = "320:180:1280:0", "320:180:1280:180"
    assert _brightness(output, 0.4, first) > 40
    assert _brightness(output, 0.4, second) < 5
    assert _brightness(output, 2.0, second) > 40
    assert _brightness(output, 0.2, "1280:720:0:0") < 5
    assert _brightness(output, 2.0, "1280:720:0:0") > 40


def test_a_keyframe_at_each_mark_and_at_least_every_two_seconds(rendered: tuple[Path, list[float]]) -> None:
    """A click on an item shows its first frame at once: no long run of frames to decode first."""
    times = keyframes(rendered[0])
    for mark in MARKS:  # the frame on screen at the mark's time (25 fps) is a keyframe
        shown = math.floor(mark.start * 25) / 25
        assert any(abs(t - shown) < 0.005 for t in times), (mark, times)
    assert max(b - a for a, b in itertools.pairwise(times)) <= 2.0 + 1e-6


def test_progress_increases_to_one(rendered: tuple[Path, list[float]]) -> None:
    _, fractions = rendered
    assert len(fractions) >= 2
    assert fractions == sorted(set(fractions))
    assert fractions[-1] == 1.0
    assert all(0 < f <= 1 for f in fractions)


def test_chapters_beside_the_replay(rendered: tuple[Path, list[float]]) -> None:
    output, _ = rendered
    vtt = output.with_suffix(".vtt").read_text(encoding="utf-8").splitlines()
    assert vtt[0] == "WEBVTT"
    cues = [(vtt[i - 1], line, vtt[i + 1]) for i, line in enumerate(vtt) if "-->" in line]
    assert cues == [
        ("A.1", "00:00:00.500 --> 00:00:02.000", "A.1 数据备份 backup"),
        ("B.2", "00:00:02.500 --> 00:00:04.000", "B.2 访问控制"),
    ]
    assert _probe(output)["chapters"] == []
    assert output.with_suffix(".ffmeta").read_text(encoding="utf-8").count("[CHAPTER]") == 2


def test_metadata_escapes_and_states_its_timebase() -> None:
    text = ffmetadata([Mark("C=1", "a;b#c", 1.25, 3)])
    assert text.splitlines() == [
        ";FFMETADATA1", "[CHAPTER]", "TIMEBASE=1/1000", "START=1250", "END=3000", "title=C\\=1 a\\;b\\#c"
    ]  # fmt: skip


async def test_grid_without_a_screen_and_silence_without_a_voice(part: Path, tmp_path: Path) -> None:
    cameras = [t for t in await discover(part) if t.kind == "camera"]
    output = await render(cameras, tmp_path / "grid.mp4")
    streams = {s["codec_type"]: s for s in _probe(output)["streams"]}  # type: ignore[attr-defined]
    assert (streams["video"]["width"], streams["video"]["height"]) == (1280, 720)
    assert streams["audio"]["codec_name"] == "aac"
    assert _brightness(output, 2.0, "640:360:0:180") > 40
    assert _brightness(output, 2.0, "640:360:640:180") > 40


async def test_a_bad_input_is_refused_clearly(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "eve-camera.webm").write_bytes(b"\x1a\x45\xdf\xa3 not really matroska" * 10)
    with pytest.raises(DomainError) as caught:
        await render_part(folder, tmp_path / "bad.mp4")
    assert "eve-camera.webm" in caught.value.message.en
    assert "无法读取录制文件" in caught.value.message.zh
    with pytest.raises(DomainError) as missing:
        await render_part(tmp_path / "absent", tmp_path / "none.mp4")
    assert missing.value.message.en.startswith("Recording folder not found")
    assert not (tmp_path / "bad.mp4").exists()


async def test_bad_marks_are_refused(part: Path, tmp_path: Path) -> None:
    with pytest.raises(DomainError) as caught:
        await render_part(part, tmp_path / "x.mp4", marks=[Mark("A.1", "x", 3.0, 2.0)])
    assert caught.value.status == 422
    assert "A.1" in caught.value.message.zh


def _loudness(path: Path, start: float, seconds: float) -> float:
    """The mean absolute sample (16 bit) of the replay's sound from ``start`` for ``seconds``."""
    raw = subprocess.run(  # noqa: S603 - fixed arguments
        [FFMPEG, "-v", "error", "-ss", str(start), "-t", str(seconds), "-i", str(path), "-ac", "1",
         "-f", "s16le", "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    samples = struct.unpack(f"<{len(raw) // 2}h", raw[: len(raw) // 2 * 2])
    total: int = sum(abs(x) for x in samples)
    return total / max(1, len(samples))


def test_each_voice_is_heard_from_its_offset(rendered: tuple[Path, list[float]]) -> None:
    output, _ = rendered
    assert _loudness(output, 0.1, 0.8) < 10
    assert _loudness(output, 1.2, 0.6) > 1000
    one, both = _loudness(output, 1.3, 0.5), _loudness(output, 2.3, 0.5)
    assert both > one * 1.2


async def test_a_file_without_a_duration_is_read_to_its_last_packet(tmp_path: Path) -> None:
    path = _make(tmp_path / "frank-camera.webm", 1.0, 2.0, "size=320x240:rate=25", False, live=True)
    [track] = await discover(tmp_path)
    assert track.path == path
    assert track.kind == "camera"
    assert track.offset == pytest.approx(1.0, abs=0.05)
    assert track.end == pytest.approx(3.0, abs=0.1)


async def test_a_failing_progress_callback_stops_ffmpeg_and_leaves_no_file(
    part: Path, tmp_path: Path
) -> None:
    class Stop(Exception):
        pass

    async def stop(fraction: float) -> None:
        raise Stop

    output = tmp_path / "stopped.mp4"
    with pytest.raises(Stop):
        await render_part(part, output, progress=stop)
    assert not output.exists()


def test_cameras_that_do_not_overlap_share_a_slot() -> None:
    spans = [("alice", 0, 10), ("bob", 0, 4), ("carol", 5, 9), ("alice", 12, 20), ("bob", 11, 15)]
    assert slots(spans) == [1, 0, 0, 1, 0]
    assert slots([("a", 0, 5), ("b", 1, 5), ("c", 2, 5)]) == [0, 1, 2]
    assert slots([]) == []


def test_layouts() -> None:
    shared = plan(4, screen=True)
    assert (shared.width, shared.height, shared.screen) == (1600, 720, shared.screen)
    assert [(b.x, b.y, b.width, b.height) for b in shared.cameras] == [
        (1280, 0, 320, 180), (1280, 180, 320, 180), (1280, 360, 320, 180), (1280, 540, 320, 180)
    ]  # fmt: skip
    assert [(b.y, b.height) for b in plan(6, screen=True).cameras][-1] == (600, 120)
    grid = plan(3, screen=False)
    assert (grid.width, grid.height, grid.screen) == (1280, 720, None)
    assert [(b.x, b.y, b.width, b.height) for b in grid.cameras] == [
        (0, 0, 640, 360), (640, 0, 640, 360), (0, 360, 640, 360)
    ]  # fmt: skip


async def test_parts_of_one_recording_are_joined_in_one_replay(tmp_path: Path) -> None:
    first, second = tmp_path / "part-1", tmp_path / "part-2"
    first.mkdir()
    second.mkdir()
    _make(first / "alice-camera.webm", 0.0, 2.0, "size=640x360:rate=25", False)
    _make(second / "alice-camera.webm", 3.0, 2.0, "size=640x360:rate=25", False)
    output = await render_parts([first, second], tmp_path / "joined.mp4")
    info = _probe(output)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")  # type: ignore[attr-defined]
    assert (video["width"], video["height"]) == (1280, 720)
    assert float(info["format"]["duration"]) == pytest.approx(5.0, abs=0.5)  # type: ignore[index]
    whole = "1280:720:0:0"
    assert _brightness(output, 1.0, whole) > 40
    assert _brightness(output, 2.5, whole) < 5
    assert _brightness(output, 4.0, whole) > 40
