"""Benchmark: generate the full-scale demo data and load it into a fresh SQLite file.

Run ``.venv/bin/python bench/demo_load.py [--seed N] [--scale full|small] [--runs R]``. Prints the time
to generate, to migrate, to load (one transaction, committed), and the row counts; exits 1 when a load
takes 30 s or more (the budget for ``remote-check demo --scale full`` on SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from remote_check.audit.service import Actor
from remote_check.clock import SystemClock
from remote_check.database import make_engine, make_sessionmaker, transaction
from remote_check.migrate import upgrade
from remote_check.settings import key_file
from scheduler.demo.generator import generate
from scheduler.demo.records import DemoData, Scale
from scheduler.demo.service import load_demo

BUDGET_SECONDS = 30.0


async def _load_once(data: DemoData, folder: Path, run: int) -> tuple[float, float, dict[str, int]]:
    engine = make_engine(f"sqlite+aiosqlite:///{folder / f'bench-{run}.sqlite3'}")
    try:
        started = time.perf_counter()
        await upgrade(engine)
        migrated = time.perf_counter()
        async with transaction(
            make_sessionmaker(engine, audit_key=key_file(folder / f"bench-{run}.key"))
        ) as session:
            load = await load_demo(session, data, now=SystemClock().now(), actor=Actor.cli())
        loaded = time.perf_counter()
        return migrated - started, loaded - migrated, load.counts
    finally:
        await engine.dispose()


def main() -> int:
    """Time generating and loading; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", choices=[s.value for s in Scale], default=Scale.FULL.value)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    data = generate(args.seed, Scale(args.scale))
    generated = time.perf_counter() - started
    again = time.perf_counter()
    same = generate(args.seed, Scale(args.scale)) == data
    regenerated = time.perf_counter() - again
    print(f"demo {args.scale}, seed {args.seed}")
    again_ms = regenerated * 1000
    print(f"  generate           {generated * 1000:8.1f} ms   (again {again_ms:.1f} ms, equal: {same})")

    loads: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for run in range(args.runs):
            migrate_s, load_s, counts = asyncio.run(_load_once(data, Path(folder), run))
            loads.append(load_s)
            print(f"  run {run + 1}: migrate {migrate_s:6.2f} s   load {load_s:6.2f} s")
    rows = sum(counts.values())
    print("  rows               " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    best, median = min(loads), statistics.median(loads)
    print(f"  load (SQLite)      best {best:.2f} s, median {median:.2f} s, {rows / median:,.0f} rows/s")
    print(f"  budget             {BUDGET_SECONDS:.0f} s -> {'ok' if max(loads) < BUDGET_SECONDS else 'OVER'}")
    return 0 if same and max(loads) < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
