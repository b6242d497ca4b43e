"""Log-in under attack: growing delays instead of locks, shared through the database, and argon2 in a
pool of its own so that a storm of log-ins never slows anything else (issue 9, item 7).

The servers trust 127.0.0.1 as a reverse proxy, so a test speaks from any address it names in
``X-Forwarded-For``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from openapi_schema_validator import OAS31Validator
from sqlalchemy import select

from remote_check.accounts import hashing
from remote_check.accounts.models import LoginThrottleRow, Role
from remote_check.accounts.passwords import verify_password
from remote_check.accounts.throttle import ADDRESS, NAME, PAIR
from remote_check.clock import FixedClock
from remote_check.settings import Settings
from tests.conftest import Database, running_server
from tests.web_helpers import PASSWORD, Browser, WebServer
from web.keys import PASSWORDS
from web.signin import forwarded_client

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"


@pytest.fixture
async def proxied(db: Database, clock: FixedClock, tmp_path: Path) -> AsyncIterator[WebServer]:
    """The real app behind a (trusted) reverse proxy on 127.0.0.1."""
    async with running_server(db, clock, tmp_path, trusted_proxies=["127.0.0.1"]) as web_server:
        yield web_server


async def log_in(
    browser: Browser, username: str, password: str, address: str = "", **kw: Any
) -> ClientResponse:
    headers = {"X-Forwarded-For": address} if address else {}
    return await browser.post(
        "/api/login", json={"username": username, "password": password}, headers=headers, **kw
    )


async def test_an_attacker_elsewhere_never_locks_the_owner_out(proxied: WebServer) -> None:
    await proxied.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    attacker, owner = proxied.browser(), proxied.browser()
    failures = 0
    while failures <= NAME.free:  # past the name's free failures too, waiting out each delay
        response = await log_in(attacker, "dg.coord", f"guess-{failures}", ATTACKER)
        if response.status == 429:
            proxied.clock.advance(dt.timedelta(seconds=int(response.headers["Retry-After"])))
        else:
            assert response.status == 401
            failures += 1
    assert (await log_in(attacker, "dg.coord", PASSWORD, ATTACKER)).status == 429  # slowed, not locked

    for typo in ("typo-one", "typo-two"):
        assert (await log_in(owner, "dg.coord", typo, OWNER)).status == 401
    signed = await log_in(owner, "dg.coord", PASSWORD, OWNER)
    assert signed.status == 200, await signed.text()
    assert (await owner.get("/api/me")).status == 200


async def test_failures_meet_growing_delays_and_the_right_password_clears_them(proxied: WebServer) -> None:
    await proxied.add_user("gz.coord", Role.CITY_COORDINATOR, "4401")
    browser = proxied.browser()
    for _ in range(PAIR.free):
        assert (await log_in(browser, "gz.coord", "wrong", OWNER)).status == 401
    waits = []
    for _ in range(12):
        refused = await log_in(browser, "gz.coord", PASSWORD, OWNER)
        assert refused.status == 429
        wait = int(refused.headers["Retry-After"])
        waits.append(wait)
        proxied.clock.advance(dt.timedelta(seconds=wait - 1))
        assert (await log_in(browser, "gz.coord", PASSWORD, OWNER)).status == 429  # not a second early
        proxied.clock.advance(dt.timedelta(seconds=1))
        assert (await log_in(browser, "gz.coord", "wrong", OWNER)).status == 401
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]

    refused = await log_in(browser, "gz.coord", PASSWORD, OWNER)
    body = await refused.json()
    assert body["error"] == {
        "code": "throttled",
        "message": "登录失败次数过多，请 5 分钟后再试",
        "fields": [],
    }
    english = await browser.post(
        "/api/login?lang=en",
        json={"username": "gz.coord", "password": PASSWORD},
        headers={"X-Forwarded-For": OWNER},
    )
    assert (await english.json())["error"]["message"] == "Too many failed log-ins; try again in 5 min"
    form = await browser.post(
        "/login",
        data={"username": "gz.coord", "password": PASSWORD, "next": "/"},
        headers={"X-Forwarded-For": OWNER},
    )
    assert form.status == 429
    assert form.headers["Retry-After"] == "300"
    assert "Too many failed log-ins; try again in 5 min" in await form.text()

    proxied.clock.advance(dt.timedelta(minutes=5))
    assert (await log_in(browser, "gz.coord", PASSWORD, OWNER)).status == 200
    # the right password cleared this address's failures on the name: a typo is only a typo again
    assert (await log_in(proxied.browser(), "gz.coord", "wrong", OWNER)).status == 401


async def test_a_quiet_hour_forgives_past_failures(proxied: WebServer) -> None:
    await proxied.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    browser = proxied.browser()
    for _ in range(PAIR.free):
        assert (await log_in(browser, "nobody", "wrong", OWNER)).status == 401
    assert (await log_in(browser, "nobody", "wrong", OWNER)).status == 429
    proxied.clock.advance(dt.timedelta(hours=1, seconds=1))
    assert (await log_in(proxied.browser(), "dg.coord", PASSWORD, OWNER)).status == 200
    async with proxied.db.factory() as session:
        counters = (await session.execute(select(LoginThrottleRow.kind, LoginThrottleRow.key))).all()
    assert sorted(counters) == [("addr", OWNER), ("name", "dg.coord")]  # the quiet ones are gone
    for _ in range(PAIR.free):
        assert (await log_in(browser, "nobody", "wrong", OWNER)).status == 401


async def test_a_wait_never_outlasts_the_cap_when_the_clock_is_set_back(proxied: WebServer) -> None:
    browser = proxied.browser()
    for _ in range(PAIR.free):
        assert (await log_in(browser, "nobody", "wrong", OWNER)).status == 401
    assert (await log_in(browser, "nobody", "wrong", OWNER)).status == 429
    # counters written by a clock a year ahead (set back since, or another process's) hold nobody
    # for a year: at most the rule's own cap
    proxied.clock.advance(-dt.timedelta(days=365))
    assert (await log_in(browser, "nobody", "wrong", OWNER)).status == 401


async def test_many_addresses_guessing_one_name_share_one_slow_queue(proxied: WebServer) -> None:
    await proxied.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    browser = proxied.browser()
    botnet = [f"192.0.2.{n}" for n in range(1, 5)]
    for address in botnet:  # each address's free failures: 12 on the name, past its 10 free
        for _ in range(PAIR.free):
            assert (await log_in(browser, "dg.coord", "guess", address)).status == 401
    proxied.clock.advance(PAIR.first)  # each address's own delay has passed ...
    refused = await log_in(browser, "dg.coord", "guess", botnet[0])
    assert refused.status == 429  # ... but the name's has not
    assert (
        int(refused.headers["Retry-After"])
        == int(NAME.delay_after(PAIR.free * len(botnet)).total_seconds()) - 1
    )
    assert (await log_in(browser, "dg.coord", PASSWORD, OWNER)).status == 200  # its owner still gets in


async def test_a_forwarded_address_is_believed_only_from_a_trusted_proxy(server: WebServer) -> None:
    browser = server.browser()
    for n in range(PAIR.free):  # a new made-up address each time: ignored, all are 127.0.0.1
        assert (await log_in(browser, "nobody", "guess", f"192.0.2.{n}")).status == 401
    assert (await log_in(browser, "nobody", "guess", "192.0.2.200")).status == 429


async def test_200_concurrent_bad_log_ins_get_only_the_checks_the_throttle_allows(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    """Room in the pool for all 200, so that only the throttle stands in their way. They come from
    one address: first all at one name, then each at a name of its own."""
    settings: dict[str, Any] = {"password_queue": 200, "trusted_proxies": ["127.0.0.1"]}
    async with running_server(db, clock, tmp_path, **settings) as server:
        await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
        pool = server.test_server.app[PASSWORDS]
        browser = server.browser()

        one_name = await asyncio.gather(*(log_in(browser, "dg.coord", f"guess{n}") for n in range(200)))
        assert sorted(r.status for r in one_name) == [401] * PAIR.free + [429] * (200 - PAIR.free)
        assert pool.checks_made == PAIR.free

        many_names = await asyncio.gather(*(log_in(browser, f"user{n}", "guess") for n in range(200)))
        checked = ADDRESS.free - PAIR.free  # the address's free failures that are left
        assert sorted(r.status for r in many_names) == [401] * checked + [429] * (200 - checked)
        assert pool.checks_made == ADDRESS.free
        assert all("Retry-After" in r.headers for r in one_name + many_names if r.status == 429)
        assert (await log_in(browser, "dg.coord", PASSWORD, OWNER)).status == 200  # others get in


async def test_two_servers_on_one_database_share_the_throttle(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with (
        running_server(db, clock, tmp_path / "a") as first,
        running_server(db, clock, tmp_path / "b") as second,
    ):
        await first.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
        for _ in range(PAIR.free):
            assert (await log_in(first.browser(), "dg.coord", "guess")).status == 401
        refused = await log_in(second.browser(), "dg.coord", PASSWORD)
        assert refused.status == 429
        assert refused.headers["Retry-After"] == "1"
        clock.advance(dt.timedelta(seconds=1))
        assert (await log_in(second.browser(), "dg.coord", PASSWORD)).status == 200


async def test_a_storm_of_log_ins_does_not_hold_up_other_requests(
    db: Database, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argon2 (which we don't own) is held at a gate: the pool's one worker is busy and more log-ins
    wait for it than the database has connections, then every other request is answered at once:
    log-ins beyond the pool's room 429, pages as usual (no waiting log-in holds a connection)."""
    settings: dict[str, Any] = {"password_workers": 1, "password_queue": 21, "trusted_proxies": ["127.0.0.1"]}
    async with running_server(db, clock, tmp_path, **settings) as server:
        await server.add_user("admin", Role.PROVINCE_ADMIN)
        admin = await server.signed_in("admin")
        pool = server.test_server.app[PASSWORDS]
        entered, gate = threading.Event(), threading.Event()

        def gated(stored_hash: str, password: str) -> bool:
            entered.set()
            gate.wait()
            return verify_password(stored_hash, password)

        monkeypatch.setattr(hashing, "verify_password", gated)
        browser = server.browser()
        storm = [asyncio.create_task(log_in(browser, f"user{n}", "guess", f"192.0.2.{n}")) for n in range(50)]
        try:
            await asyncio.to_thread(entered.wait)
            refused: list[ClientResponse] = []
            pending = set(storm)
            while len(pending) > pool.capacity:  # all but the admitted ones are answered, gate shut
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                refused += [task.result() for task in done]
            assert len(refused) == 50 - pool.capacity
            assert {r.status for r in refused} == {429}
            assert {r.headers["Retry-After"] for r in refused} == {"2"}
            assert (await refused[0].json())["error"]["code"] == "busy"

            assert (await admin.get("/api/me")).status == 200
            assert (await admin.get("/api/users")).status == 200
            assert (await server.browser().get("/login")).status == 200
            assert not any(task.done() for task in pending)
        finally:
            gate.set()
        assert [r.status for r in await asyncio.gather(*pending)] == [401] * pool.capacity
        assert pool.checks_made == 1 + pool.capacity  # the admin's log-in, then the admitted ones


async def test_the_documented_429_is_what_a_refused_log_in_answers(server: WebServer) -> None:
    browser = server.browser()
    document = await (await browser.get("/api/openapi.json")).json()
    documented = document["paths"]["/api/login"]["post"]["responses"]["429"]
    assert "Retry-After" in documented["headers"]
    for _ in range(PAIR.free):
        assert (await log_in(browser, "nobody", "guess")).status == 401
    refused = await log_in(browser, "nobody", "guess")
    assert refused.status == 429
    schema = {**documented["content"]["application/json"]["schema"], "components": document["components"]}
    OAS31Validator(schema).validate(await refused.json())
    assert int(refused.headers["Retry-After"]) >= 1


def test_the_client_is_the_nearest_address_before_the_trusted_proxies() -> None:
    proxies = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1")]
    # a client's own X-Forwarded-For (its left end) is never believed past an untrusted hop
    assert forwarded_client("127.0.0.1", ["6.6.6.6, 203.0.113.9, 10.1.2.3"], proxies) == "203.0.113.9"
    assert forwarded_client("127.0.0.1", ["203.0.113.9", "10.1.2.3"], proxies) == "203.0.113.9"
    assert forwarded_client("198.51.100.7", ["203.0.113.9"], proxies) == "198.51.100.7"  # not a proxy
    assert forwarded_client("127.0.0.1", [], proxies) == "127.0.0.1"
    assert forwarded_client("127.0.0.1", ["10.0.0.1, 10.0.0.2"], proxies) == "10.0.0.1"
    assert forwarded_client("127.0.0.1", ["not-an-address, 10.0.0.2"], proxies) == "10.0.0.2"
    assert forwarded_client("127.0.0.1", ["2001:DB8::1"], proxies) == "2001:db8::1"


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert Settings(trusted_proxies=["10.0.0.0/8", "::1"]).trusted_proxies == ["10.0.0.0/8", "::1"]
    with pytest.raises(ValueError, match=r"'proxy\.example' is not an address or network"):
        Settings(trusted_proxies=["proxy.example"])


async def test_a_slot_is_held_until_argon2_has_really_finished(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request that gives up waiting must not let another check start beside the one still running."""
    entered, gate = threading.Event(), threading.Event()

    def gated(stored_hash: str, password: str) -> bool:
        entered.set()
        gate.wait()
        return False  # what argon2 answers a wrong password (not run: it is not what is tested)

    monkeypatch.setattr(hashing, "verify_password", gated)
    pool = hashing.PasswordPool(workers=1, queue=0)
    try:
        waiting = asyncio.create_task(pool.verify(pool.admit(), "stored", "guess"))
        await asyncio.to_thread(entered.wait)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        with pytest.raises(hashing.PoolFull):
            pool.admit()
        gate.set()
        await asyncio.to_thread(pool.close)  # the thread has ended and told the loop ...
        await asyncio.sleep(0)  # ... which now runs what it was told
        assert pool.admitted == 0
        assert pool.checks_made == 1
    finally:
        gate.set()
        pool.close()


async def test_a_nul_in_the_user_name_is_a_wrong_name_not_a_server_error(server: WebServer) -> None:
    browser = server.browser()
    refused = await log_in(browser, "dg\x00coord", "guess")
    assert refused.status == 401
    assert (await refused.json())["error"]["code"] == "bad_credentials"
    form = await browser.post(
        "/login", data={"username": "dg\x00coord", "password": "guess\x00", "next": "/"}
    )
    assert form.status == 401
