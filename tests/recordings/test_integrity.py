"""The signed manifest of a recording folder and ``remote-check recordings verify``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from recordings.integrity import (
    MANIFEST_NAME,
    Part,
    build_manifest,
    manifest_digest,
    manifest_key,
    verify,
    verify_async,
    write_manifest,
    write_manifest_async,
)
from remote_check.cli import main
from remote_check.clock import SHANGHAI
from remote_check.settings import load_settings

NOW = dt.datetime(2026, 11, 28, 10, 30, tzinfo=SHANGHAI)
PART_1 = Part(1, NOW, NOW + dt.timedelta(minutes=20))
PART_2 = Part(2, NOW + dt.timedelta(minutes=21))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def key(data_dir: Path) -> bytes:
    """The manifest key of the server whose data folder is ``data_dir``."""
    return manifest_key(load_settings(None, data_dir=data_dir).secret_key())


@pytest.fixture
def folder(tmp_path: Path, key: bytes) -> Path:
    """A finished recording: two parts of one participant, a replay file, chapters; signed."""
    folder = tmp_path / "recording-42"  # a folder outside a session's layout: its manifest only
    (folder / "tracks").mkdir(parents=True)
    (folder / "tracks" / "alice-part1.webm").write_bytes(bytes(range(256)) * 400)
    (folder / "tracks" / "alice-part2.webm").write_bytes(b"\x1aE\xdf\xa3" + b"part two" * 1000)
    (folder / "replay.mp4").write_bytes(b"\x00\x00\x00\x20ftypisom" * 500)
    chapters = "WEBVTT\n\n00:00.000 --> 00:05.000\n第一项 / item 1\n"
    (folder / "chapters.vtt").write_text(chapters, encoding="utf-8")
    parts = {"tracks/alice-part1.webm": PART_1, "tracks/alice-part2.webm": PART_2}
    write_manifest(folder, build_manifest(folder, "42", NOW, parts), key)
    return folder


def cli(data_dir: Path, folder: Path) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), "recordings", "verify", str(folder)])


def test_an_untouched_folder_verifies(folder: Path, key: bytes, data_dir: Path) -> None:
    report = verify(folder, key)
    assert (report.ok, report.session_id, report.files) == (True, "42", 4)
    body = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))["manifest"]
    first = body["files"][2]
    assert first["name"] == "tracks/alice-part1.webm"
    assert (first["size"], first["part"]) == (102_400, 1)
    assert first["started_at"] == "2026-11-28T10:30:00+08:00"
    result = cli(data_dir, folder)
    assert result.exit_code == 0
    assert "录像完整" in result.output
    assert "4 files match the signed manifest" in result.output


def test_one_changed_byte_names_that_file(folder: Path, key: bytes, data_dir: Path) -> None:
    path = folder / "tracks" / "alice-part2.webm"
    data = bytearray(path.read_bytes())
    data[5000] ^= 0x01
    path.write_bytes(bytes(data))  # same size, one bit different
    report = verify(folder, key)
    assert [(f.kind, f.name) for f in report.findings] == [("changed", "tracks/alice-part2.webm")]
    result = cli(data_dir, folder)
    assert result.exit_code == 1
    assert "文件已被修改：tracks/alice-part2.webm" in result.output
    assert "file changed: tracks/alice-part2.webm" in result.output


def test_a_deleted_file_is_missing_and_a_new_one_is_added(folder: Path, key: bytes, data_dir: Path) -> None:
    (folder / "replay.mp4").unlink()
    (folder / "tracks" / "mallory.webm").write_bytes(b"not ours")
    report = verify(folder, key)
    assert [(f.kind, f.name) for f in report.findings] == [
        ("missing", "replay.mp4"),
        ("added", "tracks/mallory.webm"),
    ]
    result = cli(data_dir, folder)
    assert result.exit_code == 1
    assert "文件缺失：replay.mp4 / file missing: replay.mp4" in result.output
    assert "file added: tracks/mallory.webm" in result.output


def test_an_edited_manifest_has_a_bad_signature(folder: Path, key: bytes, data_dir: Path) -> None:
    path = folder / MANIFEST_NAME
    before = manifest_digest(folder)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["manifest"]["session_id"] = "43"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert manifest_digest(folder) != before
    report = verify(folder, key)
    assert [(f.kind, f.name) for f in report.findings] == [("bad-signature", MANIFEST_NAME)]
    result = cli(data_dir, folder)
    assert result.exit_code == 1
    assert "bad manifest signature" in result.output


def test_a_manifest_rewritten_to_cover_a_change_is_caught(folder: Path, key: bytes) -> None:
    """Whoever changes a file and puts its new hash into the manifest cannot sign it."""
    (folder / "chapters.vtt").write_text("WEBVTT\n", encoding="utf-8")
    forged = build_manifest(folder, "42", NOW).to_json()
    path = folder / MANIFEST_NAME
    document = json.loads(path.read_text(encoding="utf-8"))
    document["manifest"] = forged
    path.write_text(json.dumps(document), encoding="utf-8")
    assert [f.kind for f in verify(folder, key).findings] == ["bad-signature"]


def test_another_servers_key_or_no_manifest_fails(folder: Path, key: bytes, tmp_path: Path) -> None:
    other = manifest_key(load_settings(None, data_dir=tmp_path / "other").secret_key())
    assert [f.kind for f in verify(folder, other).findings] == ["bad-signature"]
    (folder / MANIFEST_NAME).unlink()
    report = verify(folder, key)
    assert [(f.kind, f.name) for f in report.findings] == [("no-manifest", MANIFEST_NAME)]
    assert not report.ok


def test_naive_times_and_unknown_parts_are_refused(folder: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Part(1, dt.datetime(2026, 11, 28, 10, 30))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        build_manifest(folder, "42", dt.datetime(2026, 11, 28))  # noqa: DTZ001
    with pytest.raises(ValueError, match="not in the folder"):
        build_manifest(folder, "42", NOW, {"bob.webm": PART_1})


async def test_the_async_forms_run_off_the_loop(folder: Path, key: bytes) -> None:
    (folder / "stills").mkdir()
    (folder / "stills" / "item-3.png").write_bytes(b"\x89PNG")
    assert [f.kind for f in (await verify_async(folder, key)).findings] == ["added"]
    await write_manifest_async(folder, "42", NOW, key)
    assert (await verify_async(folder, key)).files == 5
    assert (await verify_async(folder, key)).ok
