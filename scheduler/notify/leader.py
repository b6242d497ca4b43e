"""Which process runs the timed jobs: on PostgreSQL the holder of a session-level advisory lock,
held on a connection of its own; the lock goes with the connection, so when its holder dies
another process (retrying periodically) takes over. On SQLite there is one server: it runs them.

The holder also listens (LISTEN) for the booking changes other processes announce (NOTIFY).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

LOCK_KEY = 0x5243_4A42  # "RCJB": one key for the whole database
CHANNEL = "rc_jobs"


class Leadership:
    """The advisory lock of the jobs, and the channel booking changes are announced on."""

    def __init__(self, engine: AsyncEngine, on_notice: Callable[[set[int]], None]) -> None:
        self.engine = engine
        self.on_notice = on_notice
        self.connection: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return self.connection is not None

    async def acquire(self) -> bool:
        """Hold the lock (true) or learn that another process does (false); a held lock whose
        connection has died is given up first."""
        if self.connection is not None:
            try:
                await self.connection.execute(text("SELECT 1"))
                await self.connection.commit()
                return True
            except (DBAPIError, SQLAlchemyError, OSError):
                log.warning("the connection holding the jobs' lock is gone; trying to take it again")
                await self._drop()
        connection = await self.engine.connect()
        try:
            got = bool(await connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}))
            await connection.commit()  # the lock is the session's: it outlives the transaction
            if got:
                raw = (await connection.get_raw_connection()).driver_connection
                assert raw is not None
                await raw.add_listener(CHANNEL, self._heard)
        except BaseException:
            await connection.invalidate()
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self.connection = connection
        return True

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        ids = {int(part) for part in payload.split(",") if part.isdigit()}
        if ids:
            self.on_notice(ids)

    async def announce(self, ids: set[int]) -> None:
        """Tell the holder (another process) that these sessions changed."""
        payload = ",".join(str(i) for i in sorted(ids))
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})
            await connection.commit()

    async def _drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            # closing the connection for good releases the lock (a pooled one would keep it)
            await connection.invalidate()
            await connection.close()

    async def release(self) -> None:
        await self._drop()
