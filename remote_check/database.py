"""Database engine, sessions and the column types every model shares.

SQLite (the embedded default) and PostgreSQL are both first-class. On SQLite a write
transaction starts with ``BEGIN IMMEDIATE`` so that a check-then-insert (bookings, the
audit chain) is serialised; sessions from :func:`make_reader` begin with a plain deferred
``BEGIN`` so that readers never wait for the write lock (WAL mode lets them read alongside a
writer). PostgreSQL relies on row locks and exclusion constraints.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

FEN = Decimal("0.01")


class Base(DeclarativeBase):
    """Declarative base of every table; constraint names are deterministic for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware instant, stored in UTC on every backend.

    Naive datetimes are refused on the way in; values come back aware (UTC), never naive,
    including from SQLite, which has no time zone type.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused: {value!r}")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Money(TypeDecorator[Decimal]):
    """An amount in yuan with fen precision, stored exactly as an integer count of fen."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be Decimal, not {type(value).__name__}")
        quantized = value.quantize(FEN, rounding=ROUND_HALF_UP)
        if quantized != value:
            raise ValueError(f"amount {value} has more than fen precision")
        return int(quantized * 100)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(FEN)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for ``url`` with the per-backend settings we rely on."""
    if is_sqlite(url):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)
    engine.sync_engine.dialect.do_ping = _ping_once  # type: ignore[method-assign]
    return engine


def _ping_once(dbapi_connection: Any) -> bool:
    """The pool's pre-ping on PostgreSQL in one round trip (an empty query), instead of the
    driver's three (``BEGIN``, the query, ``ROLLBACK``: for pgbouncer's transaction mode, which we
    do not use). Any failure counts as a lost connection: the pool then connects afresh."""
    try:
        dbapi_connection.run_async(lambda driver: driver.fetchrow(";"))
    except Exception:
        return False
    return True


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (the documented pysqlite workaround).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


READ_ONLY = "rc_read_only"


AUDIT_KEY = "audit_key"
"""Where a session keeps the audit log's key (``session.info``): appends hash with it."""


def make_sessionmaker(engine: AsyncEngine, *, audit_key: bytes) -> async_sessionmaker[AsyncSession]:
    """Sessions for work that may write (on SQLite they take the write lock when they begin);
    ``audit_key`` (``settings.audit_key()``) keys the audit entries they append."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info={AUDIT_KEY: audit_key})


def make_single_reader(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for a read of one statement, done on every request (who is signed in): on
    PostgreSQL without a transaction around it (one statement sees one snapshot anyway), which
    spares the ``BEGIN`` and ``ROLLBACK`` round trips; on SQLite as :func:`make_reader`."""
    if engine.dialect.name == "sqlite":
        return make_reader(engine)
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False, autoflush=False
    )


def make_reader(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that only read: they never take SQLite's write lock, so they never queue behind writers."""
    return async_sessionmaker(
        engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False, autoflush=False
    )


T = TypeVar("T")


async def uncut(step: Awaitable[T]) -> T:
    """Run a database step (a whole transaction) to its end even if the caller is cancelled meanwhile,
    then let the cancellation through.

    For background tasks that are cancelled at shutdown (the replay renderer). A cancellation inside
    a transaction makes SQLAlchemy terminate the connection without a rollback; on SQLite the closed
    connection then lives on as a zombie, holding the write lock, until the garbage collector happens
    to finalize its last statement, and every other writer waits (``database is locked``).
    """
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Open a session and a transaction; commit on success, roll back on any error.

    Services receive the session; the caller (a view or a CLI command) owns the transaction.
    """
    async with factory() as session, session.begin():
        yield session
