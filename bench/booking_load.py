"""Benchmark: many coordinators booking contested times at once over HTTP, and no double booking.

Run ``python -m bench.booking_load [--database sqlite|postgresql|both] [--clients 50] [--seconds 30]``.
For each database (a fresh SQLite file; a PostgreSQL database created for the run from ``--pg-admin``,
default ``RC_TEST_PG_ADMIN`` or ``postgresql://postgres@127.0.0.1:5432/test``, dropped afterwards) it
seeds one city (广州 Guangzhou) with a published sample of ``--projects`` projects of 20 suppliers
(one or two demonstration teams each) and 30 experts, starts a real ``remote-check serve`` process
on 127.0.0.1 (no media workers) and signs in ``--clients`` coordinators of the city. Each client
loops for ``--seconds``: it picks a project, one of 16 contested starts (four a day on the next four
working days, one hour long) and a panel of three experts, and POSTs ``/api/sessions``: 201 booked,
409 refused (a clash, or the project is already booked), anything else is an error.

Prints the requests answered per second, the bookings created per second, the refusals and errors,
the p50/p99 latency of all requests and of the successful bookings, the load average before and
after, and the overlaps found afterwards by a query of its own over ``bookings`` (two rows of one
resource whose ``[starts_at, ends_at)`` intersect): must be 0. Exits 1 when an overlap is found or a
request errs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy import text

from remote_check.accounts.models import Role
from remote_check.clock import SHANGHAI
from remote_check.database import make_engine, make_sessionmaker, transaction
from remote_check.migrate import upgrade
from remote_check.programme.models import City
from remote_check.settings import Settings
from tests import scheduling_factories as sf
from tests.serve_process import serve

PG_ADMIN = os.environ.get("RC_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
CITY = "4401"
COORDINATOR = "gz.coord"
SUPPLIERS = 20
EXPERTS = 30
STARTS = (dt.time(9, 0), dt.time(10, 30), dt.time(13, 30), dt.time(15, 0))
DAYS = 4
LENGTH = dt.timedelta(hours=1)

OVERLAPS = text(
    "SELECT count(*) FROM bookings a JOIN bookings b ON a.resource = b.resource AND a.id < b.id"
    " AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
)


@dataclass(frozen=True)
class World:
    """What the clients pick from."""

    projects: list[int]
    experts: list[int]
    starts: list[dt.datetime]


@dataclass
class Tally:
    """Every request's answer and latency."""

    statuses: Counter[int] = field(default_factory=Counter)
    all_times: list[float] = field(default_factory=list)
    booked_times: list[float] = field(default_factory=list)


def contested_starts(today: dt.date) -> list[dt.datetime]:
    """Four starts a day on the next ``DAYS`` working days after ``today`` (China time)."""
    starts: list[dt.datetime] = []
    day = today
    while len(starts) < DAYS * len(STARTS):
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            starts += [dt.datetime.combine(day, t, tzinfo=SHANGHAI) for t in STARTS]
    return starts


async def seed(url: str, settings: Settings, projects: int) -> World:
    """Migrate the database and fill it: the coordinator, suppliers, projects in a published sample,
    experts."""
    engine = make_engine(url)
    try:
        await upgrade(engine)
        factory = make_sessionmaker(engine, audit_key=settings.audit_key())
        async with transaction(factory) as session:
            await sf.add_principal(session, COORDINATOR, Role.CITY_COORDINATOR, CITY)
            suppliers = [await sf.add_supplier(session, teams=1 + n % 2) for n in range(SUPPLIERS)]
            made = [
                await sf.add_project(session, suppliers[n % SUPPLIERS], city=CITY) for n in range(projects)
            ]
            today = dt.datetime.now(SHANGHAI).date()
            await sf.add_campaign(session, made, deadline=today + dt.timedelta(days=60), city=CITY)
            experts = await sf.add_experts(session, EXPERTS)
            city = await session.get(City, CITY)
            assert city is not None
            city.rooms = EXPERTS // 3  # as many rooms as panels the experts fill at once: not what runs out
        return World([p.id for p in made], experts, contested_starts(today))
    finally:
        await engine.dispose()


async def overlaps(url: str) -> int:
    """Pairs of bookings of one resource whose intervals intersect."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(OVERLAPS)).scalar_one())
    finally:
        await engine.dispose()


async def sign_in(base: str) -> aiohttp.ClientSession:
    """A client signed in as the coordinator (to be closed by the caller)."""
    client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    body = {"username": COORDINATOR, "password": sf.PASSWORD}
    async with client.post(f"{base}/api/login", json=body) as signed:
        assert signed.status == 200, await signed.text()
        token = (await signed.json())["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return client


async def client_loop(
    client: aiohttp.ClientSession, base: str, world: World, seed_: int, until: float, tally: Tally
) -> None:
    """Book until the time is up."""
    rng = random.Random(seed_)
    while time.monotonic() < until:
        starts = rng.choice(world.starts)
        booking = {
            "project_id": rng.choice(world.projects),
            "starts_at": starts.isoformat(),
            "ends_at": (starts + LENGTH).isoformat(),
            "panel": rng.sample(world.experts, 3),
        }
        began = time.perf_counter()
        async with client.post(f"{base}/api/sessions", json=booking) as answer:
            await answer.read()
            status = answer.status
        elapsed = time.perf_counter() - began
        tally.statuses[status] += 1
        tally.all_times.append(elapsed)
        if status == 201:
            tally.booked_times.append(elapsed)


def quantiles(times: list[float]) -> str:
    """p50 and p99 in milliseconds."""
    if not times:
        return "none"
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   ({len(ordered)})"


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min) {five:.2f} (5 min)"


async def run(label: str, url: str, args: argparse.Namespace) -> bool:
    """Seed, serve, load, check; print the figures. Whether it went clean (no overlap, no error)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder) / "data", media_workers=0)
        world = await seed(url, settings, args.projects)
        tally = Tally()
        async with serve(settings, url) as server:
            base = f"http://127.0.0.1:{server.port}"
            clients = [await sign_in(base) for _ in range(args.clients)]  # one by one: the throttle
            try:
                before, cpu = load(), cpu_seconds(server.process.pid)
                started = time.monotonic()
                until = started + args.seconds
                loops = (client_loop(c, base, world, n, until, tally) for n, c in enumerate(clients))
                await asyncio.gather(*loops)
                took = time.monotonic() - started
                after, cpu = load(), cpu_seconds(server.process.pid) - cpu
            finally:
                for client in clients:
                    await client.close()
    found = await overlaps(url)
    requests = sum(tally.statuses.values())
    created, refused = tally.statuses[201], tally.statuses[409]
    errors = requests - created - refused
    print(f"{label}: {args.clients} clients, {args.seconds:g} s ({took:.1f} s), {args.projects} projects")
    print(f"  requests             {requests} ({requests / took:.1f}/s)")
    print(f"  created (201)        {created} ({created / took:.1f} bookings/s)")
    print(f"  refused (409)        {refused}")
    others = ", ".join(f"{code}: {n}" for code, n in sorted(tally.statuses.items()) if code not in (201, 409))
    print(f"  errors (other)       {errors}{f' ({others})' if others else ''}")
    print(f"  latency, all         {quantiles(tally.all_times)}")
    print(f"  latency, booked      {quantiles(tally.booked_times)}")
    per = f"{cpu / requests * 1000:.1f} ms a request" if requests else "no requests"
    print(f"  server CPU           {cpu:.1f} s in {took:.1f} s ({per})")
    print(f"  overlaps found       {found} (must be 0)")
    print(f"  load average         before {before}, after {after}")
    logged = "".join(server.output)
    if errors and "Traceback" in logged:
        print("  the server's first traceback:")
        print(logged[logged.index("Traceback") :][:4000])
    return found == 0 and errors == 0


async def postgres(admin: str) -> str | None:
    """A fresh database for the run, or None when PostgreSQL is not reachable."""
    name = f"rc_bench_booking_{os.getpid()}"
    try:
        conn = await asyncpg.connect(admin, timeout=5)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    host = admin.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{host}/{name}"


async def drop(admin: str, url: str) -> None:
    """Drop the run's database."""
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


def main() -> int:
    """Run the load on each database asked for; print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--projects", type=int, default=400)
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    args = parser.parse_args()
    clean = True
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
            clean &= asyncio.run(run("SQLite", url, args))
    if args.database in ("postgresql", "both"):
        pg = asyncio.run(postgres(args.pg_admin))
        if pg is None:
            print(f"PostgreSQL: skipped, {args.pg_admin} is not reachable")
        else:
            try:
                clean &= asyncio.run(run("PostgreSQL", pg, args))
            finally:
                asyncio.run(drop(args.pg_admin, pg))
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
