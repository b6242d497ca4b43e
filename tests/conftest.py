"""Shared fixtures: a real database of each kind, migrated by Alembic, fresh for every test.

``db`` runs a test on SQLite (a real file) and on the PostgreSQL server of this machine.
Under ``CI=true`` a PostgreSQL server that cannot be reached fails the run instead of
skipping it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from remote_check.clock import SHANGHAI, FixedClock
from remote_check.database import make_engine, make_sessionmaker
from remote_check.migrate import upgrade
from remote_check.migrations.models import Base
from remote_check.settings import Settings

PG_ADMIN_URL = os.environ.get("RC_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
KEEP_TABLES = {"cities", "alembic_version"}


@dataclass
class Database:
    """A migrated, empty database (the 21 cities only) for one test."""

    kind: str
    url: str
    engine: AsyncEngine
    factory: async_sessionmaker[AsyncSession]


def _run(make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion on a loop of its own (session fixtures may be built
    from inside a running test loop)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, make()).result()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"

    async def _make() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()

    _run(_make)
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    name = f"rc_test_{_worker()}_{uuid.uuid4().hex[:8]}"

    async def _create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def _drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    try:
        _run(_create)
    except (OSError, asyncpg.PostgresError) as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and cannot be reached: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"

    async def _migrate() -> None:
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()

    _run(_migrate)
    yield url
    _run(_drop)


async def _reset_postgres(engine: AsyncEngine) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in KEEP_TABLES]
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        await conn.execute(text("UPDATE cities SET rooms = 3 WHERE rooms <> 3"))  # a kept table's one setting
        await conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64})


async def _open(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if kind == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite+aiosqlite:///{path}"
        engine = make_engine(url)
    else:
        url = request.getfixturevalue("pg_database")
        engine = make_engine(url)
        await _reset_postgres(engine)
    # the key of the data folder the test's server uses (running_server), so both append to one chain
    audit_key = Settings(data_dir=tmp_path / "data").audit_key()
    return Database(kind, url, engine, make_sessionmaker(engine, audit_key=audit_key))


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh migrated database; each test using it runs once on SQLite and once on PostgreSQL."""
    database = await _open(request.param, request, tmp_path)
    try:
        yield database
    finally:
        await database.engine.dispose()


@pytest.fixture
async def sqlite_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh migrated SQLite file, for tests whose subject does not depend on the database
    (browser tests, input handling)."""
    database = await _open("sqlite", request, tmp_path)
    try:
        yield database
    finally:
        await database.engine.dispose()


@pytest.fixture
async def postgres_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh migrated PostgreSQL database, for what only PostgreSQL has (advisory locks, NOTIFY)."""
    database = await _open("postgresql", request, tmp_path)
    try:
        yield database
    finally:
        await database.engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    """The test's clock: 2020-04-10 09:00 in Guangdong, moved only by the test."""
    return FixedClock(dt.datetime(2020, 4, 10, 9, 0, tzinfo=SHANGHAI))


@asynccontextmanager
async def running_server(
    database: Database, clock: FixedClock, tmp_path: Path, **settings: Any
) -> AsyncIterator[WebServer]:
    """The real app on 127.0.0.1 over ``database``, with the test's clock and extra settings."""
    from aiohttp.test_utils import TestServer

    from remote_check.settings import Settings
    from web.app import create_app

    # the timed jobs run when a test says (app[JOBS].run_due()), at the test clock's time, not the wall's
    settings.setdefault("jobs_timer", False)
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=database.url, **settings), clock=clock)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    web_server = WebServer(test_server, database, clock)
    try:
        yield web_server
    finally:
        await web_server.close()
        await test_server.close()


@pytest.fixture
async def server(db: Database, clock: FixedClock, tmp_path: Path) -> AsyncIterator[WebServer]:
    """The real app over the test's database (SQLite, then PostgreSQL)."""
    async with running_server(db, clock, tmp_path) as web_server:
        yield web_server


@pytest.fixture
async def sqlite_server(sqlite_db: Database, clock: FixedClock, tmp_path: Path) -> AsyncIterator[WebServer]:
    """The real app over a SQLite file only."""
    async with running_server(sqlite_db, clock, tmp_path) as web_server:
        yield web_server


from tests.web_helpers import WebServer  # noqa: E402
