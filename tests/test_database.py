"""The database layer's promises: on SQLite readers never wait for a writer; a step run ``uncut``
finishes its transaction even when its task is cancelled."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from remote_check.database import make_reader, transaction, uncut
from tests.conftest import Database


async def test_a_reader_is_not_blocked_by_an_open_write_transaction(sqlite_db: Database) -> None:
    reader = make_reader(sqlite_db.engine)
    async with sqlite_db.factory() as writer, writer.begin():
        await writer.execute(text("UPDATE audit_head SET seq = seq + 1"))
        async with reader() as session:
            # With BEGIN IMMEDIATE this would wait for the write lock (30 s busy timeout).
            async with asyncio.timeout(2):
                seen = (await session.execute(text("SELECT seq FROM audit_head"))).scalar_one()
        assert seen == 0  # the writer's change is not visible before it commits


async def _bump_after(entered: asyncio.Event, release: asyncio.Event, db: Database) -> None:
    """A write transaction that stops half-way until released."""
    async with transaction(db.factory) as session:
        await session.execute(text("UPDATE audit_head SET seq = seq + 1"))
        entered.set()
        await release.wait()
        await session.execute(text("UPDATE audit_head SET seq = seq + 1"))


async def _seq(db: Database) -> int:
    async with make_reader(db.engine)() as session:
        return int((await session.execute(text("SELECT seq FROM audit_head"))).scalar_one())


async def test_a_step_run_uncut_finishes_its_transaction_when_its_task_is_cancelled(db: Database) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    step = asyncio.create_task(uncut(_bump_after(entered, release, db)))
    await entered.wait()
    step.cancel()  # what a shutdown does to a background task, in the middle of its transaction
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await step
    assert await _seq(db) == 2  # the whole transaction, committed
    async with asyncio.timeout(5), transaction(db.factory) as session:  # the write lock is free at once
        await session.execute(text("UPDATE audit_head SET seq = seq + 1"))
    assert await _seq(db) == 3


async def test_a_step_cancelled_half_way_without_uncut_is_rolled_back(db: Database) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    step = asyncio.create_task(_bump_after(entered, release, db))
    await entered.wait()
    step.cancel()
    with pytest.raises(asyncio.CancelledError):
        await step
    assert await _seq(db) == 0  # what uncut is for: nothing of the step remains
