"""Benchmark helper: how many SQL statements one booking request costs, by answer.

Run ``python -m bench.booking_statements [--database sqlite|postgresql|both] [--requests 40]``.
Seeds the world of :mod:`bench.booking_load` (one city, a published sample, 20 suppliers, 30
experts), runs the app in this process on 127.0.0.1 with a statement counter on its engine, signs
one coordinator in and POSTs ``--requests`` bookings of contested times, one at a time. Prints, for
the 201 and the 409 answers apart, the statements each request executed (min / median / max, the
sign-in and the background work started by a commit excluded as far as they can be: the jobs'
derivation after a booking runs after the answer and is counted apart) and the server-side time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer
from sqlalchemy import event

from bench.booking_load import LENGTH, World, drop, postgres, seed, sign_in
from remote_check.settings import Settings
from web.app import create_app
from web.keys import ENGINE, JOBS

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


async def measure(label: str, url: str, requests: int, show: bool) -> None:
    """Seed, serve in-process, book one at a time, print the statement counts."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder) / "data", database_url=url, media_workers=0)
        world: World = await seed(url, settings, 400)
        app = create_app(settings)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        event.listen(app[ENGINE].sync_engine, "before_cursor_execute", count)
        base = f"http://127.0.0.1:{server.port}"
        client = await sign_in(base)
        per: dict[int, list[int]] = defaultdict(list)
        times: dict[int, list[float]] = defaultdict(list)
        kinds: dict[int, Counter[str]] = defaultdict(Counter)
        rng = random.Random(7)
        try:
            for _ in range(requests):
                starts = rng.choice(world.starts)
                booking = {
                    "project_id": rng.choice(world.projects),
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + LENGTH).isoformat(),
                    "panel": rng.sample(world.experts, 3),
                }
                await app[JOBS].settled()
                statements.clear()
                began = time.perf_counter()
                async with client.post(f"{base}/api/sessions", json=booking) as answer:
                    await answer.read()
                    status = answer.status
                times[status].append(time.perf_counter() - began)
                per[status].append(len(statements))
                for s in statements:
                    kinds[status][" ".join(s.split()[:3])[:60]] += 1
        finally:
            await client.close()
            await server.close()
    print(f"{label}: {requests} requests, one at a time")
    for status in sorted(per):
        counts = per[status]
        ms = statistics.median(times[status]) * 1000
        print(
            f"  {status}: {len(counts):3d} requests, statements min {min(counts)} median"
            f" {statistics.median(counts):g} max {max(counts)}; median {ms:.1f} ms"
        )
        if show:
            for kind, n in kinds[status].most_common():
                print(f"      {n / len(counts):5.1f}  {kind}")


def main() -> int:
    """Count for each database asked for."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    parser.add_argument("--show", action="store_true", help="list the statements' kinds per request")
    args = parser.parse_args()
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
            asyncio.run(measure("SQLite", url, args.requests, args.show))
    if args.database in ("postgresql", "both"):
        pg = asyncio.run(postgres(args.pg_admin))
        if pg is None:
            print(f"PostgreSQL: skipped, {args.pg_admin} is not reachable")
        else:
            try:
                asyncio.run(measure("PostgreSQL", pg, args.requests, args.show))
            finally:
                asyncio.run(drop(args.pg_admin, pg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
