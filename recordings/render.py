"""The replay file: every participant's tracks of a recording part composited into one MP4.

H.264 (``veryfast``) and AAC, ``-movflags +faststart`` so the browser plays and seeks at once. The
screen share is large with the cameras in a strip beside it, a grid of cameras when nobody shared
(:mod:`recordings.layout`); all voices are mixed. Each track is placed at its offset on the session
clock (its first timestamp): ffmpeg starts every input at 0, so video gets
``setpts=PTS-STARTPTS+offset/TB`` and audio ``adelay``; a track that ends simply leaves the picture
(``eof_action=pass``). A screen is resampled to its own low frame rate before it is scaled. Cameras that
do not overlap in time share a picture slot, so the parts of one recording (:func:`render_parts`)
join on one timeline. Chapters are written beside the MP4, never into it (see :func:`render`).

The filter graph is built with ffmpeg-python and ``.compile()``-d to an argv; ffmpeg and ffprobe
run as asyncio subprocesses (never ``.run()``, which blocks). Progress comes from
``-progress pipe:1`` (``out_time_ms``) as a fraction to an async callback, ending at 1.0.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import ffmpeg

from recordings.chapters import Mark, ffmetadata, webvtt
from recordings.layout import Box, plan, slots
from remote_check.errors import DomainError, Message

FFMPEG = "/usr/bin/ffmpeg"
FFPROBE = "/usr/bin/ffprobe"
FPS = 25
SCREEN_FPS = 10
KEYFRAME_SECONDS = 2
MEDIA_SUFFIXES = (".webm", ".mkv", ".mka")

Kind = Literal["camera", "microphone", "screen"]
Progress = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Track:
    """One stream of one file: ``stream`` is its index in the file, ``offset`` its first timestamp
    on the session clock and ``duration`` its length, both in seconds."""

    path: Path
    stream: int
    kind: Kind
    offset: float
    duration: float

    @property
    def participant(self) -> str:
        """Who the track belongs to: the file's name without its source (``alice-camera`` ->
        ``alice``), the same in every part of a recording."""
        stem = self.path.stem
        for suffix in ("-camera", "-screen", "-microphone"):
            stem = stem.removesuffix(suffix)
        return stem

    @property
    def end(self) -> float:
        """When the track ends on the session clock."""
        return self.offset + self.duration


def _failed(zh: str, en: str, detail: str = "") -> DomainError:
    lines = detail.strip().splitlines()[-3:]
    tail = ": " + " | ".join(line.strip() for line in lines) if lines else ""
    return DomainError(Message(zh + tail, en + tail), 422, "render_failed")


async def _run(argv: list[str]) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # see render()
    )
    try:
        out, err = await process.communicate()
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return process.returncode or 0, out, err


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


async def _last_time(path: Path, stream: int) -> float:
    """The end of a stream whose file states no duration (a recording cut by a crash): the last
    packet's time plus its length, read from the packets without decoding."""
    _, out, _ = await _run(
        [FFPROBE, "-v", "error", "-select_streams", str(stream), "-show_entries",
         "packet=pts_time,duration_time", "-of", "csv=p=0", str(path)],
    )  # fmt: skip
    last = 0.0
    for line in out.decode().splitlines():
        parts = [_float(p) for p in line.split(",")]
        if parts and parts[0] is not None:
            last = max(last, parts[0] + (parts[1] if len(parts) > 1 and parts[1] else 0.0))
    return last


async def probe(path: Path, kind: Kind | None = None) -> list[Track]:
    """The video and audio tracks of one Matroska file. ``kind`` names the source of its video;
    without it a file whose name ends in ``screen`` (``<participant>-screen.mkv``, as the room
    writes them) is a screen share, any other video a camera.
    A file ffprobe cannot read is refused with a clear message."""
    code, out, err = await _run(
        [FFPROBE, "-v", "error", "-of", "json", "-show_entries",
         "stream=index,codec_type,start_time,duration:stream_tags=DURATION:format=duration", str(path)],
    )  # fmt: skip
    if code != 0:
        raise _failed(
            f"无法读取录制文件 {path.name}", f"Cannot read the recording file {path.name}", err.decode()
        )
    data = json.loads(out or b"{}")
    file_duration = _float(data.get("format", {}).get("duration"))
    tracks: list[Track] = []
    for stream in data.get("streams", []):
        codec_type = stream.get("codec_type")
        if codec_type not in ("video", "audio"):
            continue
        video_kind: Kind = kind or ("screen" if path.stem.lower().endswith("screen") else "camera")
        track_kind: Kind = "microphone" if codec_type == "audio" else video_kind
        # Opus starts a few ms before 0 (its pre-skip): a track starts at 0 at the earliest
        start = max(0.0, _float(stream.get("start_time")) or 0.0)
        duration = _float(stream.get("duration"))
        if duration is None and file_duration is not None:
            duration = file_duration - start
        if duration is None:
            duration = await _last_time(path, int(stream["index"])) - start
        if duration > 0:
            tracks.append(Track(path, int(stream["index"]), track_kind, start, duration))
    return tracks


async def discover(folder: Path) -> list[Track]:
    """Every track of a recording part folder (``*.webm``, ``*.mkv``, ``*.mka`` files)."""
    files = await asyncio.to_thread(_media_files, folder)
    tracks = [track for path in files for track in await probe(path)]
    if not tracks:
        raise _failed("录制目录中没有音视频", "The recording folder holds no audio or video")
    return tracks


def _media_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise _failed(f"录制目录不存在：{folder.name}", f"Recording folder not found: {folder.name}")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in MEDIA_SUFFIXES)


def _prepare(output: Path, marks: list[Mark], metadata: Path | None) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    if marks:
        output.with_suffix(".vtt").write_text(webvtt(marks), encoding="utf-8")
    if metadata is not None:
        metadata.write_text(ffmetadata(marks), encoding="utf-8")


def _remove(*paths: Path | None) -> None:
    for path in paths:
        if path is not None:
            path.unlink(missing_ok=True)


def _fit(stream: Any, box: Box) -> Any:
    return stream.filter(
        "scale", box.width, box.height, force_original_aspect_ratio="decrease", flags="fast_bilinear"
    ).filter("pad", box.width, box.height, "(ow-iw)/2", "(oh-ih)/2")


def build(
    tracks: list[Track],
    output: Path,
    duration: float,
    *,
    screen_fps: int = SCREEN_FPS,
    keyframes: list[float] | None = None,
) -> list[str]:
    """The ffmpeg argv rendering ``tracks`` into ``output`` (``duration`` seconds long).

    A keyframe at least every :data:`KEYFRAME_SECONDS` and exactly at each of ``keyframes`` (the
    marks' starts): a click on an item then shows its first frame without decoding a long run of
    frames before it (x264 alone allows 10 s between keyframes)."""
    inputs: dict[Path, Any] = {}

    def source(track: Track) -> Any:
        if track.path not in inputs:
            inputs[track.path] = ffmpeg.input(str(track.path))
        return inputs[track.path][str(track.stream)]

    cameras = sorted((t for t in tracks if t.kind == "camera"), key=lambda t: (t.offset, str(t.path)))
    screens = sorted((t for t in tracks if t.kind == "screen"), key=lambda t: t.offset)
    voices = [t for t in tracks if t.kind == "microphone"]
    slot_of = slots([(t.participant, t.offset, t.end) for t in cameras])
    layout = plan(max(slot_of, default=-1) + 1, bool(screens))
    total = f"{duration:.3f}"
    picture = ffmpeg.input(f"color=c=black:s={layout.width}x{layout.height}:r={FPS}:d={total}", f="lavfi")
    placed = [(t, layout.screen) for t in screens] + [
        (t, layout.cameras[n]) for t, n in zip(cameras, slot_of, strict=True)
    ]
    for track, box in placed:
        assert box is not None
        video = source(track).filter("setpts", f"PTS-STARTPTS+{track.offset:.3f}/TB")
        if track.kind == "screen":
            video = video.filter("fps", screen_fps)
        picture = ffmpeg.overlay(
            picture, _fit(video, box), x=box.x, y=box.y, eof_action="pass", format="yuv420"
        )
    mixed = []
    for track in voices:
        audio = source(track).filter("asetpts", "PTS-STARTPTS").filter("aresample", 48000, **{"async": 1})
        mixed.append(audio.filter("adelay", delays=round(track.offset * 1000), all=1))
    if not mixed:
        sound = ffmpeg.input("anullsrc=r=48000:cl=stereo", f="lavfi")
    elif len(mixed) == 1:
        sound = mixed[0]
    else:
        sound = ffmpeg.filter(mixed, "amix", inputs=len(mixed), duration="longest", normalize=0)
    sound = sound.filter("apad", whole_dur=total)
    # the frame shown at a mark's time is the one that starts at or before it: that one is made a keyframe
    starts = sorted({math.floor(t * FPS + 1e-6) / FPS for t in keyframes or []})
    forced = {"force_key_frames": ",".join(f"{t:.3f}" for t in starts)} if starts else {}
    out = ffmpeg.output(
        picture, sound, str(output), t=total, r=FPS, vcodec="libx264", preset="veryfast", crf=23,
        g=KEYFRAME_SECONDS * FPS, pix_fmt="yuv420p", acodec="aac", audio_bitrate="128k", ac=2,
        movflags="+faststart", **forced,
    )  # fmt: skip
    argv: list[str] = (
        out.global_args("-progress", "pipe:1", "-nostats", "-v", "error")
        .overwrite_output()
        .compile(cmd=FFMPEG)
    )
    return argv


async def _follow(stream: asyncio.StreamReader, duration: float, progress: Progress | None) -> None:
    last = 0.0
    async for raw in stream:
        key, _, value = raw.decode(errors="replace").strip().partition("=")
        if key != "out_time_ms" or progress is None:
            continue
        micros = _float(value)
        if micros is None or duration <= 0:
            continue
        fraction = min(micros / 1e6 / duration, 0.999)
        if fraction > last:
            last = fraction
            await progress(fraction)


async def render(
    tracks: list[Track],
    output: Path,
    *,
    duration: float | None = None,
    marks: list[Mark] | None = None,
    progress: Progress | None = None,
    screen_fps: int = SCREEN_FPS,
) -> Path:
    """Render the replay of ``tracks`` into ``output`` (an MP4) and return it.

    ``duration`` defaults to the end of the last track. With ``marks`` the chapters are written
    beside the MP4, never into it: ``<output>.vtt`` (WebVTT, ``kind="chapters"``) and
    ``<output>.ffmeta`` (ffmpeg metadata, for a remux with chapters later). An MP4 stores chapters as
    a text track that starts at 0 with no gaps or ends (tried: the first mark at 0.5 s came back at
    0.0 s), which would misplace marks; and the evidence file stays as rendered. Its bytes are final
    when this returns, so it can be hashed. ``progress`` is awaited with increasing fractions,
    the last one 1.0. A failing ffmpeg raises :class:`DomainError` with its last words. To limit
    the time, wrap the call in ``asyncio.timeout``: on cancellation ffmpeg is killed and the
    unfinished file removed.
    """
    if not tracks:
        raise _failed("没有可生成回放的音视频", "Nothing to render: no audio or video tracks")
    total = duration if duration is not None else max(t.end for t in tracks)
    if total <= 0:
        raise _failed("回放时长无效", "The replay's duration is invalid")
    metadata = output.with_suffix(".ffmeta") if marks else None
    await asyncio.to_thread(_prepare, output, marks or [], metadata)
    keyframes = [mark.start for mark in marks or [] if mark.start < total]
    argv = build(tracks, output, total, screen_fps=screen_fps, keyframes=keyframes)
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # a session of its own: a signal to the server's process group (systemd, Docker, Ctrl+C)
        # reaches the server, which cancels the render and kills ffmpeg (the replay is rendered
        # again at the next start); had it reached ffmpeg, the render would look failed
        start_new_session=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        errors, _, _ = await asyncio.gather(
            process.stderr.read(), _follow(process.stdout, total, progress), process.wait()
        )
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await asyncio.to_thread(_remove, output)
        raise
    if process.returncode != 0:
        await asyncio.to_thread(_remove, output)
        raise _failed("生成回放失败", "Rendering the replay failed", errors.decode(errors="replace"))
    if progress is not None:
        await progress(1.0)
    return output


async def render_part(
    folder: Path, output: Path, *, marks: list[Mark] | None = None, progress: Progress | None = None
) -> Path:
    """Render the replay of a recording part folder (see :func:`discover`)."""
    return await render_parts([folder], output, marks=marks, progress=progress)


async def render_parts(
    folders: list[Path], output: Path, *, marks: list[Mark] | None = None, progress: Progress | None = None
) -> Path:
    """Render the parts of one recording (a call that went on after an interruption) into one
    replay. Their files are on the same session clock, so they are placed on one timeline: the gap
    between parts is black and silent, and a participant's camera in each part shares one picture
    slot."""
    tracks = [track for folder in folders for track in await discover(folder)]
    return await render(tracks, output, marks=marks, progress=progress)
