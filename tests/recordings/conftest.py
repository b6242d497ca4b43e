"""Fixtures of the recording tests: the test media, made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.recordings.media import FPS, SECONDS, SourceFrame, demux, make_source


@pytest.fixture(scope="session")
def source_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 5 s WebM of 640x360 25 fps VP8 and Opus, encoded by ffmpeg."""
    return make_source(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def source_frames(source_file: Path) -> list[SourceFrame]:
    """The encoded frames of ``source_file``, as a room would hand them over."""
    return demux(source_file)


@pytest.fixture(scope="session")
def sparse_keyframes_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same media with one keyframe only, at the start, as a browser sends it (it makes a
    keyframe only when asked): a muxer that closes clusters at keyframes alone keeps them open."""
    return make_source(tmp_path_factory.mktemp("media"), keyframe_every=SECONDS * FPS)
