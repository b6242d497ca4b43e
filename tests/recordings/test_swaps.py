"""``remote-check recordings verify`` against swaps (issue 9, point 6) and on a session's folder
(the new user's finding): the real command line over a real database (SQLite, PostgreSQL), whose
audit log holds each folder's manifest digest as the recording and the render wrote it."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from recordings.integrity import build_manifest, manifest_digest, manifest_key, write_manifest
from recordings.paths import session_folder
from remote_check.audit.service import Actor, record
from remote_check.cli import main
from remote_check.clock import SHANGHAI
from remote_check.database import transaction
from remote_check.settings import Settings
from tests.conftest import Database

NOW = dt.datetime(2020, 4, 10, 10, 0, tzinfo=SHANGHAI)
FOLDERS = ("part-1", "part-2", "replay")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"  # the data folder of the test database's audit key (tests/conftest.py)


def sign(folder: Path, session: str, data_dir: Path) -> str:
    """(Re)write the folder's signed manifest, as the server would, for ``session``; its digest."""
    key = manifest_key(Settings(data_dir=data_dir).secret_key())
    write_manifest(folder, build_manifest(folder, session, NOW), key)
    return manifest_digest(folder)


async def record_session(db: Database, data_dir: Path, session_id: int) -> Path:
    """A recorded session on disk (two parts and the replay, each signed) and in the audit log
    (each part's start and stop with its digest, then the replay's)."""
    root = session_folder(data_dir / "recordings", session_id)
    async with transaction(db.factory) as session:
        for name in FOLDERS:
            folder = root / name
            (folder / "stills").mkdir(parents=True)
            (folder / "media.mkv").write_bytes(f"{session_id}/{name}".encode() * 500)
            (folder / "stills" / "still-1.0.jpg").write_bytes(b"\xff\xd8" + name.encode())
            digest = sign(folder, root.name, data_dir)
            target, actor = f"session:{session_id}", Actor("user:1", "4419")
            if name == "replay":
                await record(
                    session,
                    Actor.system(),
                    "replay.ready",
                    target,
                    at=NOW,
                    details={"manifest_sha256": digest},
                )
                continue
            start = {"folder": f"{root.name}/{name}", "part": name[5:]}
            await record(session, actor, "recording.start", target, at=NOW, details=start)
            await record(
                session, actor, "recording.stop", target, at=NOW, details={"manifest_sha256": digest}
            )
    return root


async def verify(db: Database, data_dir: Path, target: str | Path) -> Result:
    args = ["--data-dir", str(data_dir), "--database-url", db.url, "recordings", "verify", str(target)]
    return await asyncio.to_thread(CliRunner().invoke, main, args)  # the command runs its own loop


async def test_a_session_verifies_by_id_by_its_folder_and_by_one_part(db: Database, data_dir: Path) -> None:
    root = await record_session(db, data_dir, 7)
    for target in ("7", root):
        result = await verify(db, data_dir, target)
        assert result.exit_code == 0, result.output
        assert [line.split("：")[0] for line in result.output.splitlines()] == list(FOLDERS)
        assert "part-2：录像完整，2 个文件与签名清单一致 / part-2: intact, 2 files" in result.output
        assert "no-manifest" not in result.output
    result = await verify(db, data_dir, root / "part-2")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("part-2：录像完整")


async def test_one_sessions_folders_copied_over_anothers_are_named(db: Database, data_dir: Path) -> None:
    seven = await record_session(db, data_dir, 7)
    nine = await record_session(db, data_dir, 9)
    shutil.rmtree(nine)
    shutil.copytree(seven, nine)  # every byte and signature intact: only the place and the log tell
    result = await verify(db, data_dir, "9")
    assert result.exit_code == 1, result.output
    for name in FOLDERS:
        assert (
            f"{name}: [misplaced] 清单属于 session-7/{name}，却位于 session-9/{name}"
            f"（录像从别的会话或分段移来） / the manifest is of session-7/{name} but lies in session-9/{name}"
        ) in result.output
        assert f"{name}: [digest-mismatch]" in result.output
    assert "[changed]" not in result.output
    assert "[bad-signature]" not in result.output
    shutil.copytree(seven, session_folder(data_dir / "recordings", 11))  # a session that never recorded
    result = await verify(db, data_dir, "11")
    assert result.exit_code == 1, result.output
    assert "part-1: [not-audited]" in result.output
    assert (
        "the audit log holds no manifest digest for part-1 (no recording was finished here)" in result.output
    )


async def test_a_manifest_resigned_after_the_fact_differs_from_the_audited_digest(
    db: Database, data_dir: Path
) -> None:
    root = await record_session(db, data_dir, 7)
    (root / "part-2" / "media.mkv").write_bytes(b"another recording")
    sign(root / "part-2", "session-7", data_dir)  # someone holding the key re-signs a changed part
    result = await verify(db, data_dir, root)
    assert result.exit_code == 1, result.output
    assert "part-1：录像完整" in result.output
    assert "part-2: [digest-mismatch] part-2 的清单与审计日志记录的摘要" in result.output
    assert "the manifest of part-2 differs from the digest the audit log recorded" in result.output
    assert "replay：录像完整" in result.output
