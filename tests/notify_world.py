"""Real parts for the notice tests: an SMTP server (aiosmtpd) and a WeCom robot (an aiohttp app),
both on 127.0.0.1 in the test's loop, and a booked check session with people to notify."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.smtp import SMTP
from icalendar import Calendar
from sqlalchemy import select

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.accounts.service import NewUser, create_user
from remote_check.audit.service import Actor
from remote_check.clock import FixedClock
from remote_check.database import make_engine, make_sessionmaker, transaction
from remote_check.settings import Settings
from scheduler.guests import NewGuest, add_guest
from scheduler.models import GuestKind
from scheduler.notify.models import OutboxMessage
from scheduler.notify.runner import JobRunner
from scheduler.service import NewSession, book_session
from tests.conftest import Database
from tests.scheduling_factories import (
    add_expert,
    add_experts,
    add_principal,
    add_project,
    add_supplier,
    local,
)

SECRET = b"s" * 32
STARTS, ENDS = local(14, 10), local(14, 11)  # Tuesday 14 April 2020, 10:00-11:00 Guangdong time


class Mailbox:
    """An aiosmtpd handler keeping every message; refuses them all while ``refuse`` is set."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = False

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.refuse:
            return "554 5.3.0 mailbox unavailable (test)"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def calendar_of(message: EmailMessage) -> Calendar:
    """The iCalendar part of a message, parsed by the icalendar package."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return Calendar.from_ical(payload)
    raise AssertionError("no text/calendar part")


def method_of(message: EmailMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return str(part.get_param("method"))
    return ""


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


@asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(mailbox, hostname="test"), "127.0.0.1", 0)
    try:
        yield mailbox, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class Robot:
    """A WeCom group robot: what each city's webhook received."""

    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    base: str = ""

    def url(self, city: str) -> str:
        return f"{self.base}/hook/{city}"


@asynccontextmanager
async def wecom_robot() -> AsyncIterator[Robot]:
    robot = Robot()

    async def hook(request: web.Request) -> web.Response:
        robot.received.setdefault(request.match_info["city"], []).append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    app = web.Application()
    app.router.add_post("/hook/{city}", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    robot.base = str(server.make_url("")).rstrip("/")
    try:
        yield robot
    finally:
        await server.close()


def notify_settings(
    db: Database, tmp_path: Path, port: int, robot: Robot | None = None, **extra: Any
) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db.url,
        public_url="https://check.example.cn",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="notices@check.example.cn",
        wecom_webhooks={"4401": robot.url("4401")} if robot else {},
        jobs_timer=False,
        **extra,
    )


@asynccontextmanager
async def job_runner(
    db: Database, settings: Settings, clock: FixedClock, *, own_engine: bool = False
) -> AsyncIterator[JobRunner]:
    """A started runner over ``db`` (on an engine of its own: another process, as far as the
    database can tell)."""
    engine = make_engine(db.url) if own_engine else db.engine
    factory = make_sessionmaker(engine, audit_key=settings.audit_key()) if own_engine else db.factory
    runner = JobRunner(engine, factory, settings, clock, SECRET)
    await runner.start()
    try:
        yield runner
    finally:
        await runner.close()
        if own_engine:
            await engine.dispose()


@dataclass(frozen=True)
class Booked:
    session_id: int
    coordinator: Principal
    guest_email: str = "chen@enterprise.example.cn"
    expert_email: str = "li@university.example.cn"
    coordinator_email: str = "coord@gz.example.cn"


async def book(db: Database, clock: FixedClock) -> Booked:
    """A check of a Guangzhou project on Tuesday 14 April, 10:00, booked at the clock's time by a
    coordinator with an e-mail address; an expert with an account and e-mail on its panel; an
    enterprise guest with e-mail."""
    now = clock.now()
    async with transaction(db.factory) as session:
        user = await create_user(
            session,
            NewUser(
                "coord",
                "王协调",
                Role.CITY_COORDINATOR,
                "correct-horse-battery",
                "4401",
                email="coord@gz.example.cn",
            ),
            actor=Actor.cli(),
            now=now,
        )
        coordinator = Principal(user.id, Role.CITY_COORDINATOR, "4401", "王协调")
        expert_user = await create_user(
            session,
            NewUser(
                "li.expert",
                "李专家",
                Role.EXPERT,
                "correct-horse-battery",
                None,
                email="li@university.example.cn",
            ),
            actor=Actor.cli(),
            now=now,
        )
        lead = await add_expert(session, "李专家")
        lead.user_id = expert_user.id
        others = [(await add_expert(session, f"专家{i}")).id for i in range(2)]
        supplier = await add_supplier(session)
        project = await add_project(session, supplier)
        await session.flush()
        check = await book_session(
            session,
            coordinator,
            NewSession(project.id, STARTS, ENDS, [lead.id, *others], host_user_id=user.id),
            now=now,
        )
        await add_guest(
            session,
            coordinator,
            check.id,
            NewGuest(GuestKind.ENTERPRISE, "陈经理", email="chen@enterprise.example.cn"),
            now=now,
        )
        return Booked(check.id, coordinator)


@dataclass(frozen=True)
class SecondBooking:
    session_id: int
    guest_id: int


async def book_second(db: Database, clock: FixedClock) -> SecondBooking:
    """Another check at the same time (other supplier, enterprise, experts), with an enterprise
    guest without e-mail."""
    async with transaction(db.factory) as session:
        coordinator = await add_principal(session, "coord2", Role.CITY_COORDINATOR, "4401")
        supplier = await add_supplier(session)
        project = await add_project(session, supplier)
        experts = await add_experts(session, 3)
        check = await book_session(
            session, coordinator, NewSession(project.id, STARTS, ENDS, experts), now=clock.now()
        )
        guest, _ = await add_guest(
            session, coordinator, check.id, NewGuest(GuestKind.ENTERPRISE, "周经理"), now=clock.now()
        )
        return SecondBooking(check.id, guest.id)


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.factory() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return local(day, hour, minute)
