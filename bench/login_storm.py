"""Benchmark: a storm of bad log-ins against the real server, and what it does to everyone else.

Run ``python -m bench.login_storm [--requests 200] [--workers 2] [--queue 16]``. The server runs in a
process of its own on 127.0.0.1 over a fresh SQLite file, trusting 127.0.0.1 as a reverse proxy. Two
storms of ``--requests`` concurrent log-ins with a wrong password for one account:

* from one address: the throttle lets its free failures through and answers the rest 429;
* from as many addresses (``X-Forwarded-For``): each gets a check, so the password pool fills and
  answers 429 at once.

Meanwhile another, signed-in client GETs ``/api/me`` (which reads the database) one request after
another. Prints the log-ins' and the other requests' p50/p99, the password checks made (counted from
the audit log: every failed check is audited) and the 429s; the other requests' figures without a
storm come first, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from remote_check.accounts.models import Role
from remote_check.accounts.service import NewUser, create_user
from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor
from remote_check.clock import SystemClock
from remote_check.database import make_engine, make_sessionmaker, transaction
from remote_check.migrate import upgrade
from remote_check.settings import Settings

USERNAME = "dg.coord"
PASSWORD = "the-right-password"


def _settings(data_dir: Path, workers: int, queue: int) -> Settings:
    return Settings(
        data_dir=data_dir,
        trusted_proxies=["127.0.0.1"],
        password_workers=workers,
        password_queue=queue,
        media_workers=0,
    )


def _serve(settings: Settings, port: int) -> None:
    from web.app import create_app

    web.run_app(create_app(settings), host="127.0.0.1", port=port, print=None)


async def _prepare(settings: Settings) -> None:
    engine = make_engine(settings.db_url)
    try:
        await upgrade(engine)
        async with transaction(make_sessionmaker(engine, audit_key=settings.audit_key())) as session:
            new = NewUser(USERNAME, "东莞协调员", Role.CITY_COORDINATOR, PASSWORD, "4419")
            await create_user(session, new, actor=Actor.cli(), now=SystemClock().now())
    finally:
        await engine.dispose()


async def _checks_made(settings: Settings) -> int:
    engine = make_engine(settings.db_url)
    try:
        async with make_sessionmaker(engine, audit_key=settings.audit_key())() as session:
            count = select(func.count()).where(AuditEntry.action == "auth.login_failed")
            return int(await session.scalar(count) or 0)
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _quantiles(times: list[float]) -> str:
    if not times:
        return "none"
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   ({len(ordered)})"


@dataclass
class Storm:
    login_times: list[float]
    statuses: Counter[str]
    other_times: list[float]
    other_failed: int


async def _timed(call: Any) -> tuple[float, aiohttp.ClientResponse]:
    started = time.perf_counter()
    response = await call
    await response.read()
    return time.perf_counter() - started, response


async def _others(client: aiohttp.ClientSession, base: str, until: asyncio.Event) -> tuple[list[float], int]:
    """Sequential GETs until the storm is over: their times, and how many did not answer 200."""
    times, failed = [], 0
    while not until.is_set():
        elapsed, response = await _timed(client.get(f"{base}/api/me"))
        failed += response.status != 200
        times.append(elapsed)
    return times, failed


async def _quiet(client: aiohttp.ClientSession, base: str, count: int = 50) -> list[float]:
    times = []
    for _ in range(count):
        elapsed, response = await _timed(client.get(f"{base}/api/me"))
        assert response.status == 200, response.status
        times.append(elapsed)
    return times


async def _storm(base: str, other: aiohttp.ClientSession, requests: int, spread: bool) -> Storm:
    done = asyncio.Event()
    watcher = asyncio.create_task(_others(other, base, done))
    connector = aiohttp.TCPConnector(limit=requests)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def one(n: int) -> tuple[float, aiohttp.ClientResponse]:
            headers = {"X-Forwarded-For": f"10.{n // 250}.{n % 250}.1"} if spread else {}
            body = {"username": USERNAME, "password": f"guess-{n}"}
            return await _timed(client.post(f"{base}/api/login", json=body, headers=headers))

        results = await asyncio.gather(*(one(n) for n in range(requests)))
        statuses: Counter[str] = Counter()
        for _, response in results:
            code = response.status
            if code == 429:
                statuses[f"429 {(await response.json())['error']['code']}"] += 1
            else:
                statuses[str(code)] += 1
    done.set()
    other_times, other_failed = await watcher
    return Storm([elapsed for elapsed, _ in results], statuses, other_times, other_failed)


async def _bench(settings: Settings, port: int, requests: int) -> None:
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        for _ in range(200):
            try:
                async with other.get(f"{base}/login") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)  # waiting for the server process to listen
        signed = await other.post(f"{base}/api/login", json={"username": USERNAME, "password": PASSWORD})
        assert signed.status == 200, await signed.text()

        quiet = await _quiet(other, base)
        print(f"  other requests, no storm     {_quantiles(quiet)}")
        checks = await _checks_made(settings)
        for label, spread in (("one address", False), (f"{requests} addresses", True)):
            storm = await _storm(base, other, requests, spread)
            made = await _checks_made(settings) - checks
            checks += made
            print(f"storm of {requests} bad log-ins from {label}")
            print(f"  log-ins                      {_quantiles(storm.login_times)}")
            others = _quantiles(storm.other_times)
            print(f"  other requests meanwhile     {others}, not 200: {storm.other_failed}")
            answers = ", ".join(f"{code}: {count}" for code, count in sorted(storm.statuses.items()))
            print(f"  password checks made         {made}")
            print(f"  answers                      {answers}")


def main() -> int:
    """Start the server, run both storms, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queue", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = _settings(Path(folder), args.workers, args.queue)
        asyncio.run(_prepare(settings))
        port = _free_port()
        server = multiprocessing.get_context("spawn").Process(target=_serve, args=(settings, port))
        server.start()
        try:
            print(f"password pool: {args.workers} workers, {args.queue} waiting at most; SQLite")
            asyncio.run(_bench(settings, port, args.requests))
        finally:
            server.terminate()
            server.join(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
