"""The keyed audit chain and its signed checkpoints outside the database (issue 9, point 5).

Each attack of the issue is made on a real database (SQLite and PostgreSQL) by someone who can
write it (the append-only triggers dropped) but holds no key, and ``remote-check audit verify``
must name it: cutting the newest entries and moving ``audit_head`` back; editing an entry and
recomputing every later hash with plain SHA-256, or with a key of their own. Someone who holds the
key too is still caught by the checkpoints written before the rewrite. A forged checkpoint is
named. The periodic checkpoint of the web app is driven by its FixedClock, never by sleeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, text

from remote_check.audit.anchor import CheckpointFile, write_checkpoint
from remote_check.audit.chain import canonical_time, entry_hash
from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor, record, session_key
from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.settings import Settings
from tests.conftest import Database, running_server
from tests.test_audit import T0, append_four, run_verify, triggers_dropped
from web.keys import CHECKPOINTS

Rehash = Callable[..., str]


def checkpoints_of(tmp_path: Path) -> CheckpointFile:
    """The checkpoint file of the data folder the CLI and the test's server use."""
    return CheckpointFile(Settings(data_dir=tmp_path / "data").audit_checkpoints_dir)


async def checkpoint(db: Database, tmp_path: Path, at: dt.datetime) -> str:
    async with db.factory() as session:
        key = session_key(session)
    line = await write_checkpoint(db.factory, key, checkpoints_of(tmp_path), at)
    assert line is not None
    return line


def plain_sha256(**fields: object) -> str:
    """What the chain was before it was keyed: SHA-256 over the same canonical JSON."""
    body = {
        "seq": fields["seq"],
        "at": canonical_time(fields["at"]),  # type: ignore[arg-type]
        "actor": fields["actor"],
        "city": fields["city_code"],
        "action": fields["action"],
        "target": fields["target"],
        "details": fields["details"],
        "prev": fields["prev_hash"],
    }
    encoded = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def with_key(key: bytes) -> Rehash:
    return lambda **fields: entry_hash(key, **fields)


async def rewrite_from(db: Database, seq: int, rehash: Rehash) -> None:
    """Edit entry ``seq``'s target, recompute its hash and every later one with ``rehash``, and
    move the head to the new last hash: a consistent chain, as far as whoever did it can tell."""
    async with db.factory() as session:
        rows = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    prev = rows[seq - 2].hash if seq > 1 else "0" * 64
    async with db.engine.begin() as conn:
        for row in rows[seq - 1 :]:
            target = "batch:forged" if row.seq == seq else row.target
            fields = {
                "seq": row.seq,
                "at": row.at,
                "actor": row.actor,
                "city_code": row.city_code,
                "action": row.action,
                "target": target,
                "details": row.details,
                "prev_hash": prev,
            }
            digest = rehash(**fields)
            await conn.execute(
                text("UPDATE audit_log SET target = :t, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"t": target, "p": prev, "h": digest, "s": row.seq},
            )
            prev = digest
        await conn.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})


async def test_a_clean_log_verifies_against_its_checkpoints(db: Database, tmp_path: Path) -> None:
    await append_four(db)
    await checkpoint(db, tmp_path, T0 + dt.timedelta(minutes=5))
    result = await run_verify(db, tmp_path)
    assert result.exit_code == 0, result.output
    assert "audit log intact: 4 entries, consistent with 1 signed checkpoints" in result.output


async def test_cutting_the_newest_entries_and_moving_the_head_back_is_named(
    db: Database, tmp_path: Path
) -> None:
    await append_four(db)
    line = await checkpoint(db, tmp_path, T0 + dt.timedelta(minutes=5))
    head = json.loads(line)["checkpoint"]["head"]
    async with triggers_dropped(db):
        async with db.engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_log WHERE seq > 2"))
            await conn.execute(
                text(
                    "UPDATE audit_head SET seq = 2, "
                    "hash = (SELECT hash FROM audit_log WHERE seq = 2) WHERE id = 1"
                )
            )
        result = await run_verify(db, tmp_path)
    assert result.exit_code == 1, result.output
    assert (
        f"the checkpoint of 2020-04-10 09:05:00 saw 4 entries with head {head[:16]}…; "
        "the database has only 2: the newest entries were removed"
    ) in result.output
    assert "2020-04-10 09:05:00 的检查点记录了 4 条记录" in result.output
    assert "数据库只有 2 条" in result.output


async def test_an_edit_rehashed_with_plain_sha256_or_another_key_is_named(
    db: Database, tmp_path: Path
) -> None:
    for rehash in (plain_sha256, with_key(b"a key of the attacker's own 32b!")):
        await append_four(db)
        await checkpoint(db, tmp_path, T0 + dt.timedelta(minutes=5))
        async with triggers_dropped(db):
            await rewrite_from(db, 2, rehash)
            result = await run_verify(db, tmp_path)
        assert result.exit_code == 1, result.output
        assert "entries 2-4 were altered or rewritten (their keyed hashes do not match" in result.output
        assert "第 2-4 条记录已被修改或重写" in result.output
        assert "the head at the checkpoint of 2020-04-10 09:05:00 (entry 4," in result.output
        async with triggers_dropped(db), db.engine.begin() as conn:  # the next round starts afresh
            await conn.execute(text("DELETE FROM audit_log"))
            await conn.execute(text("UPDATE audit_head SET seq = 0, hash = :h WHERE id = 1"), {"h": "0" * 64})
        checkpoints_of(tmp_path).path.unlink()


async def test_a_rewrite_by_someone_holding_the_key_is_named_by_the_earlier_checkpoint(
    db: Database, tmp_path: Path
) -> None:
    await append_four(db)
    await checkpoint(db, tmp_path, T0 + dt.timedelta(minutes=5))
    async with db.factory() as session:
        key = session_key(session)
    async with triggers_dropped(db):
        await rewrite_from(db, 3, with_key(key))
        result = await run_verify(db, tmp_path)
    assert result.exit_code == 1, result.output
    assert "[altered]" not in result.output  # the chain itself holds: only the anchor outside tells
    assert "[rewritten]" in result.output
    assert "entries up to 4 were rewritten" in result.output
    assert "第 4 条及之前的记录被重写" in result.output


async def test_a_forged_checkpoint_is_named(db: Database, tmp_path: Path) -> None:
    await append_four(db)
    file = checkpoints_of(tmp_path)
    first = await checkpoint(db, tmp_path, T0 + dt.timedelta(minutes=5))
    document = json.loads(first)
    document["checkpoint"]["entries"] = 9  # claims more than was ever written: no key to sign it
    file.path.write_text(json.dumps(document) + "\n", "utf-8")
    result = await run_verify(db, tmp_path)
    assert result.exit_code == 1, result.output
    assert "the checkpoint of 2020-04-10 09:05:00 has a bad signature (forged or edited)" in result.output
    assert "saw 9 entries" not in result.output  # a forged checkpoint proves nothing
    other = bytes(32)
    body = document["checkpoint"]
    body["entries"] = 4
    signature = hmac.new(other, json.dumps(body, sort_keys=True, separators=(",", ":")).encode(), "sha256")
    file.path.write_text(json.dumps({"checkpoint": body, "signature": signature.hexdigest()}) + "\n", "utf-8")
    result = await run_verify(db, tmp_path)
    assert result.exit_code == 1, result.output
    assert "has a bad signature (forged or edited)" in result.output


async def test_a_removed_checkpoint_breaks_the_checkpoints_own_chain(db: Database, tmp_path: Path) -> None:
    await append_four(db)
    lines = [await checkpoint(db, tmp_path, T0 + dt.timedelta(minutes=5))]
    async with transaction(db.factory) as session:
        await record(session, Actor("user:1", "4419"), "x.y", "z", at=T0 + dt.timedelta(minutes=6))
    lines.append(await checkpoint(db, tmp_path, T0 + dt.timedelta(minutes=10)))
    async with transaction(db.factory) as session:
        await record(session, Actor("user:1", "4419"), "x.y", "z", at=T0 + dt.timedelta(minutes=11))
    lines.append(await checkpoint(db, tmp_path, T0 + dt.timedelta(minutes=15)))
    checkpoints_of(tmp_path).path.write_text(f"{lines[0]}\n{lines[2]}\n", "utf-8")
    result = await run_verify(db, tmp_path)
    assert result.exit_code == 1, result.output
    assert "the checkpoint of 2020-04-10 09:15:00 does not follow the one before it" in result.output


async def test_the_server_writes_a_checkpoint_when_due_and_at_shutdown(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    file = checkpoints_of(tmp_path)

    async def add_entry() -> None:
        async with transaction(db.factory) as session:
            await record(session, Actor("user:1", "4419"), "x.y", "z", at=clock.now())

    copy = tmp_path / "elsewhere"  # a second sink: e.g. a share out of reach of the database's owner
    settings = {"audit_checkpoint_minutes": 5, "audit_checkpoint_copy_dir": copy}
    async with running_server(db, clock, tmp_path, **settings) as web:
        checkpointer = web.test_server.app[CHECKPOINTS]
        await add_entry()
        await checkpointer.poke()
        assert [json.loads(x)["checkpoint"]["entries"] for x in file.lines()] == [1]  # the first one at once
        await add_entry()
        clock.advance(dt.timedelta(minutes=4))
        await checkpointer.poke()
        assert len(file.lines()) == 1  # not due yet
        clock.advance(dt.timedelta(minutes=1))
        await checkpointer.poke()
        assert [json.loads(x)["checkpoint"]["entries"] for x in file.lines()] == [1, 2]
        clock.advance(dt.timedelta(minutes=30))
        await checkpointer.poke()
        assert len(file.lines()) == 2  # the head did not move: nothing new to sign
        await add_entry()
    written = [json.loads(x)["checkpoint"] for x in file.lines()]
    assert [c["entries"] for c in written] == [1, 2, 3]  # the last one at shutdown
    assert written[-1]["at"] == canonical_time(clock.now())
    assert CheckpointFile(copy).lines() == file.lines()
    result = await run_verify(db, tmp_path)
    assert result.exit_code == 0, result.output
    assert "consistent with 3 signed checkpoints" in result.output


async def test_the_audit_key_and_checkpoints_are_the_owners_alone(db: Database, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    await append_four(db)
    await checkpoint(db, tmp_path, T0)
    assert settings.audit_key() != settings.secret_key()  # renewing the link key keeps the log verifiable
    for path in (settings.data_dir / "audit.key", checkpoints_of(tmp_path).path):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert settings.audit_checkpoints_dir.stat().st_mode & 0o777 == 0o700
