"""Benchmark: import 20,000 rows and time how long the database's write transaction is held.

Run ``python -m bench.import_write [--rows N] [--runs R] [--pg-admin URL]``. For SQLite (a fresh file)
and PostgreSQL (a database created for the run from ``--pg-admin``, default ``RC_TEST_PG_ADMIN`` or
``postgresql://postgres@127.0.0.1:5432/test``; skipped when unreachable) it imports a CSV of N
realistic rows (about 200 suppliers, 600 products, 0.8 N enterprises over the cities of the round)
into an empty database through the same path as the web app and ``remote-check import``
(:func:`remote_check.imports.workflow.import_upload`), and prints the total time, the time spent
reading the file (the child process) and checking it (the read transaction), and the time the
write transaction was held (from its ``BEGIN``, ``BEGIN IMMEDIATE`` on SQLite, until its connection
went back to the pool, after ``COMMIT``). Exits 1 when a write transaction is held 2 s or more.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from remote_check.audit.service import Actor
from remote_check.clock import SystemClock
from remote_check.database import READ_ONLY, make_engine, make_reader, make_sessionmaker
from remote_check.imports.columns import COLUMNS, EXAMPLE_ROWS
from remote_check.imports.sandbox import Upload, UploadReader
from remote_check.imports.workflow import Databases, import_upload
from remote_check.migrate import upgrade
from remote_check.programme import credit_code
from remote_check.programme.cities import CITIES

BUDGET_SECONDS = 2.0
PG_ADMIN = os.environ.get("RC_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")


def projects_csv(rows: int, seed: int = 1) -> bytes:
    """``rows`` valid projects, as a city's or the province's export would hold them."""
    rng = random.Random(seed)
    cities = [c for c in CITIES if c.in_round]
    fields = [c.field for c in COLUMNS]
    base = dict(zip(fields, EXAMPLE_ROWS[0], strict=True))
    suppliers = [(f"广东示例服务商{i:03d}有限公司", credit_code.generate(rng)) for i in range(200)]
    taken = {code for _, code in suppliers}
    enterprises: list[tuple[str, str, str]] = []
    while len(enterprises) < max(1, rows * 4 // 5):
        city = rng.choice(cities)
        code = credit_code.generate(rng, division=f"{city.code}00")
        if code not in taken:
            taken.add(code)
            enterprises.append((f"{city.name_zh}市示例企业{len(enterprises):05d}有限公司", code, city.code))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([c.zh for c in COLUMNS])
    for n in range(rows):
        name, code, city_code = enterprises[n % len(enterprises)]
        supplier_name, supplier_code = suppliers[n % len(suppliers)]
        product = rng.randrange(3)
        values = {
            **base,
            "project_code": f"BENCH-{seed}-{n:06d}",
            "city": city_code,
            "enterprise_name": name,
            "enterprise_credit_code": code,
            "supplier_name": supplier_name,
            "supplier_credit_code": supplier_code,
            "supplier_teams": str(1 + n % len(suppliers) % 3),
            "product_name": f"云平台产品{product}",
            "listed_price": f"{(n % len(suppliers) % 7 + 1 + product) * 10000}.00",
            "modules": "；".join(f"功能模块{m}" for m in range(product + 2)),
        }
        writer.writerow([values[f] for f in fields])
    return buffer.getvalue().encode("utf-8")


@dataclass
class WriteWatch:
    """How long each writing (not read-only) transaction held its connection: BEGIN to check-in."""

    held: list[float] = field(default_factory=list)
    _begun: dict[int, float] = field(default_factory=dict)

    def attach(self, engine: AsyncEngine) -> None:
        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection: Any) -> None:
            if not connection.get_execution_options().get(READ_ONLY, False):
                self._begun[id(connection.connection.dbapi_connection)] = time.perf_counter()

        @event.listens_for(engine.sync_engine, "checkin")
        def _checkin(dbapi_connection: Any, _record: Any) -> None:
            begun = self._begun.pop(id(dbapi_connection), None)
            if begun is not None:
                self.held.append(time.perf_counter() - begun)


@dataclass(frozen=True)
class Run:
    total: float
    read: float
    check: float
    write: float
    created: int


class TimedReader(UploadReader):
    """The reader, noting when it has read the file."""

    done = 0.0

    async def read(self, filename: str, source: bytes | IO[bytes]) -> Upload:
        upload = await super().read(filename, source)
        self.done = time.perf_counter()
        return upload


async def _import_once(url: str, data: bytes) -> Run:
    engine = make_engine(url)
    reader = TimedReader()
    try:
        await upgrade(engine)
        watch = WriteWatch()
        watch.attach(engine)
        marks: dict[str, float] = {}

        async def checked() -> None:
            marks["checked"] = time.perf_counter()

        started = time.perf_counter()
        summary = await import_upload(
            reader,
            Databases(
                write=make_sessionmaker(engine, audit_key=secrets.token_bytes(32)), read=make_reader(engine)
            ),
            "bench.csv",
            data,
            actor=Actor.cli(),
            now=SystemClock().now(),
            while_checking=checked,
        )
        total = time.perf_counter() - started
        read = reader.done - started
        return Run(total, read, marks["checked"] - reader.done, max(watch.held), summary.created)
    finally:
        await reader.close()
        await engine.dispose()


async def _postgres(admin: str) -> str | None:
    """A fresh database for the run, or None when PostgreSQL is not reachable."""
    name = f"rc_bench_import_{os.getpid()}"
    try:
        conn = await asyncpg.connect(admin, timeout=5)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    host = admin.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{host}/{name}"


async def _drop(admin: str, url: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


def _report(label: str, runs: list[Run]) -> float:
    best = min(runs, key=lambda r: r.total)
    worst_write = max(r.write for r in runs)
    print(f"  {label:<11} created {best.created:,} projects in each of {len(runs)} run(s)")
    for name in ("total", "read", "check", "write"):
        values = [getattr(r, name) for r in runs]
        print(f"    {name:<9} best {min(values):6.2f} s   median {statistics.median(values):6.2f} s")
    return worst_write


def main() -> int:
    """Import the rows into each database ``--runs`` times; print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    args = parser.parse_args()
    data = projects_csv(args.rows)
    print(f"import of {args.rows:,} rows ({len(data) / 1e6:.1f} MB of CSV) into an empty database")
    print("  write = the write transaction held (BEGIN until its connection is back in the pool)")
    worst: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        runs = [asyncio.run(_import_once(f"sqlite+aiosqlite:///{Path(folder) / f'b{n}.sqlite3'}", data))
                for n in range(args.runs)]  # fmt: skip
        worst.append(_report("SQLite", runs))
    pg_runs: list[Run] = []
    for _ in range(args.runs):
        url = asyncio.run(_postgres(args.pg_admin))
        if url is None:
            print(f"  PostgreSQL  skipped: {args.pg_admin} is not reachable")
            break
        try:
            pg_runs.append(asyncio.run(_import_once(url, data)))
        finally:
            asyncio.run(_drop(args.pg_admin, url))
    if pg_runs:
        worst.append(_report("PostgreSQL", pg_runs))
    ok = max(worst) < BUDGET_SECONDS
    print(f"  budget      write transaction < {BUDGET_SECONDS:.0f} s -> {'ok' if ok else 'OVER'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
