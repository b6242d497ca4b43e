"""The audit log's hash chain: what verification finds, in memory and in a real database.

An attacker with database access can drop the append-only triggers and edit rows; the
chain still names the entry they touched, and ``remote-check audit verify`` exits 1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from remote_check.audit.chain import GENESIS_HASH, ChainEntry, Finding, entry_hash, verify
from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor, record, verify_log
from remote_check.cli import main
from remote_check.clock import SHANGHAI
from remote_check.database import transaction
from tests.conftest import Database

T0 = dt.datetime(2020, 4, 10, 9, 0, tzinfo=SHANGHAI)
KEY = bytes(range(32))


def make_entry(seq: int, prev_hash: str, target: str = "") -> ChainEntry:
    fields = {
        "seq": seq,
        "at": T0 + dt.timedelta(minutes=seq),
        "actor": "user:1",
        "city_code": "4419",
        "action": "project.import",
        "target": target or f"batch:{seq}",
        "details": {"rows": seq * 10},
        "prev_hash": prev_hash,
    }
    return ChainEntry(**fields, hash=entry_hash(KEY, **fields))  # type: ignore[arg-type]


def make_chain(n: int) -> list[ChainEntry]:
    entries: list[ChainEntry] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        entries.append(make_entry(seq, prev))
        prev = entries[-1].hash
    return entries


def kinds(findings: list[Finding]) -> list[tuple[int, str]]:
    return [(f.seq, f.kind) for f in findings]


def test_an_intact_chain_has_no_findings() -> None:
    entries = make_chain(5)
    assert verify(entries, 5, entries[-1].hash, KEY) == []
    assert verify([], 0, GENESIS_HASH, KEY) == []


def test_an_altered_entry_is_named() -> None:
    entries = make_chain(5)
    entries[2] = dataclasses.replace(entries[2], target="batch:forged")
    findings = verify(entries, 5, entries[-1].hash, KEY)
    assert kinds(findings) == [(3, "altered")]
    assert findings[0].message_en == "entry 3 was altered (its keyed hash does not match its content)"


def test_a_removed_middle_entry_is_named() -> None:
    entries = make_chain(5)
    del entries[1]
    findings = verify(entries, 5, entries[-1].hash, KEY)
    assert kinds(findings) == [(3, "removed")]
    assert findings[0].message_en == "entry 2 was removed"


def test_removed_last_entries_are_named() -> None:
    entries = make_chain(5)
    head_hash = entries[-1].hash
    findings = verify(entries[:3], 5, head_hash, KEY)
    assert kinds(findings) == [(5, "truncated")]
    assert findings[0].message_en == "last entries 4-5 were removed"


def test_an_entry_appended_behind_the_heads_back_is_named() -> None:
    entries = make_chain(4)
    head_hash = entries[-1].hash
    forged = make_entry(5, head_hash)  # a perfectly chained entry, but the head never saw it
    findings = verify([*entries, forged], 4, head_hash, KEY)
    assert kinds(findings) == [(5, "inserted")]


def test_an_entry_inserted_in_the_middle_is_named() -> None:
    entries = make_chain(4)
    duplicate = make_entry(2, entries[0].hash, target="batch:inserted")
    findings = verify([entries[0], entries[1], duplicate, entries[2], entries[3]], 4, entries[-1].hash, KEY)
    # The duplicate is named, and so is the genuine entry 3, which no longer follows what precedes it.
    assert kinds(findings) == [(2, "inserted"), (3, "inserted")]


def test_a_replaced_entry_breaks_the_link_to_the_next() -> None:
    entries = make_chain(4)
    # Rewritten with a valid hash of its own: the next entry no longer follows it.
    entries[1] = make_entry(2, entries[0].hash, target="batch:replaced")
    assert kinds(verify(entries, 4, entries[-1].hash, KEY)) == [(3, "inserted")]


# --- the real database -------------------------------------------------------------------

SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_log_no_{event} BEFORE {EVENT} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
)
PG_TRIGGER = (
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
)


@asynccontextmanager
async def triggers_dropped(db: Database) -> AsyncIterator[None]:
    """Drop the append-only triggers, as an attacker with database access would; put them back after."""
    async with db.engine.begin() as conn:
        if db.kind == "postgresql":
            await conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            await conn.execute(text("DROP TRIGGER audit_log_no_update"))
            await conn.execute(text("DROP TRIGGER audit_log_no_delete"))
    try:
        yield
    finally:
        async with db.engine.begin() as conn:
            if db.kind == "postgresql":
                await conn.execute(text(PG_TRIGGER))
            else:
                for event in ("update", "delete"):
                    await conn.execute(text(SQLITE_TRIGGER.format(event=event, EVENT=event.upper())))


async def append_four(db: Database) -> None:
    async with transaction(db.factory) as session:
        for n in range(1, 5):
            await record(
                session,
                Actor("user:1", "4419"),
                "project.import",
                f"batch:{n}",
                at=T0 + dt.timedelta(minutes=n),
                city_code="4419",
                details={"rows": n * 10},
            )


async def run_verify(db: Database, tmp_path: Path) -> Result:
    runner = CliRunner()
    args = ["--data-dir", str(tmp_path / "data"), "--database-url", db.url, "audit", "verify"]
    # The command runs its own event loop, so it runs in a thread of its own.
    return await asyncio.to_thread(runner.invoke, main, args)


async def test_an_untouched_log_verifies_with_exit_0(db: Database, tmp_path: Path) -> None:
    await append_four(db)
    result = await run_verify(db, tmp_path)
    assert result.exit_code == 0, result.output
    assert "audit log intact: 4 entries" in result.output


async def test_the_triggers_refuse_update_and_delete(db: Database) -> None:
    await append_four(db)
    for statement in (
        "UPDATE audit_log SET target = 'x' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 4",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.engine.begin() as conn:
                await conn.execute(text(statement))
    async with db.factory() as session:
        assert await verify_log(session) == []


async def _forge_fifth(db: Database) -> None:
    """Append a well-chained entry straight into the table, behind the head's back."""
    async with transaction(db.factory) as session:
        prev = (await session.execute(text("SELECT hash FROM audit_log WHERE seq = 4"))).scalar_one()
        forged = make_entry(5, prev)
        session.add(AuditEntry(**dataclasses.asdict(forged)))


TAMPERING: dict[str, tuple[str | Callable[[Database], Awaitable[None]], str, str]] = {
    "altered": (
        "UPDATE audit_log SET target = 'batch:forged' WHERE seq = 2",
        "第 2 条 [altered]",
        "entry 2 was altered",
    ),
    "removed-middle": ("DELETE FROM audit_log WHERE seq = 2", "第 3 条 [removed]", "entry 2 was removed"),
    "removed-tail": (
        "DELETE FROM audit_log WHERE seq = 4",
        "第 4 条 [truncated]",
        "last entries 4 were removed",
    ),
    "inserted": (_forge_fifth, "第 5 条 [inserted]", "entries after 4 were appended outside the log"),
}


@pytest.mark.parametrize("how", list(TAMPERING))
async def test_tampering_with_the_database_is_found_by_the_command(
    db: Database, tmp_path: Path, how: str
) -> None:
    await append_four(db)
    change, where, english = TAMPERING[how]
    async with triggers_dropped(db):
        if isinstance(change, str):
            async with db.engine.begin() as conn:
                await conn.execute(text(change))
        else:
            await change(db)
        result = await run_verify(db, tmp_path)
    assert result.exit_code == 1, result.output
    assert where in result.output
    assert english in result.output
    with pytest.raises(DBAPIError, match="append-only"):  # the guard is back for whatever runs next
        async with db.engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_log WHERE seq = 1"))
