"""The database layer's promise on SQLite: readers never wait for a writer."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from remote_check.database import make_reader
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
