"""Test media: a short VP8 + Opus WebM made once with ffmpeg (lavfi ``testsrc2`` and ``sine``),
demuxed with PyAV into the encoded frames a room hands to the recorder."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from recordings.clock import clock_rate

FFMPEG = "/usr/bin/ffmpeg"
FFPROBE = "/usr/bin/ffprobe"
SECONDS = 5
WIDTH, HEIGHT, FPS = 640, 360, 25


@dataclass(frozen=True)
class SourceFrame:
    """An encoded frame as the room sees it: ``kind``, payload, RTP timestamp (counted from 0 at
    the clock rate of its kind), keyframe flag."""

    kind: str
    data: bytes
    rtp: int
    keyframe: bool

    @property
    def seconds(self) -> float:
        """Media time of the frame from the start of its stream."""
        return self.rtp / clock_rate(self.kind)


def make_source(folder: Path, keyframe_every: int = FPS) -> Path:
    """Encode ``SECONDS`` of 640x360 25 fps VP8 (a keyframe every ``keyframe_every`` frames) and a
    440 Hz Opus tone."""
    path = folder / f"source-g{keyframe_every}.webm"
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            FFMPEG, "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", str(SECONDS),
            "-c:v", "libvpx", "-b:v", "600k", "-deadline", "realtime", "-cpu-used", "8",
            "-g", str(keyframe_every),
            "-c:a", "libopus", "-b:a", "32k",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def demux(path: Path) -> list[SourceFrame]:
    """Every encoded frame of ``path`` in file order, with RTP timestamps from 0."""
    frames: list[SourceFrame] = []
    with av.open(str(path)) as container:
        firsts: dict[str, Fraction] = {}
        for packet in container.demux():
            if not packet.size or packet.pts is None:
                continue
            kind = packet.stream.type
            seconds = Fraction(packet.pts) * packet.time_base
            first = firsts.setdefault(kind, seconds)
            rtp = round((seconds - first) * clock_rate(kind))
            frames.append(SourceFrame(kind, bytes(packet), rtp, bool(packet.is_keyframe)))
    return frames


@dataclass(frozen=True)
class Probe:
    """What ffprobe reads in a file: the codec and codec header size of each stream type, the end
    of each stream's last packet (seconds), and each stream's packet times."""

    codecs: dict[str, str]
    extradata: dict[str, int]
    ends: dict[str, float]
    times: dict[str, list[float]]


def probe(path: Path) -> Probe:
    """Read ``path`` with the real ffprobe binary."""
    entries = "stream=index,codec_type,codec_name,extradata_size:packet=stream_index,pts_time,duration_time"
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [FFPROBE, "-v", "error", "-show_entries", entries, "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out)
    kinds = {s["index"]: s["codec_type"] for s in data.get("streams", [])}
    codecs = {s["codec_type"]: s["codec_name"] for s in data.get("streams", [])}
    extradata = {s["codec_type"]: int(s.get("extradata_size", 0)) for s in data.get("streams", [])}
    ends: dict[str, float] = {}
    times: dict[str, list[float]] = {kind: [] for kind in codecs}
    for packet in data.get("packets", []):
        kind = kinds[packet["stream_index"]]
        pts = float(packet["pts_time"])
        times[kind].append(pts)
        ends[kind] = max(ends.get(kind, 0.0), pts + float(packet.get("duration_time", 0.0)))
    return Probe(codecs, extradata, ends, times)


def keyframes(path: Path) -> list[float]:
    """The keyframe times of the file's video."""
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [FFPROBE, "-v", "error", "-select_streams", "v:0",
         "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    times = []
    for line in out.splitlines():
        pts, _, flags = line.partition(",")
        if flags.startswith("K") and pts:
            times.append(float(pts))
    return sorted(times)
