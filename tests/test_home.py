"""Each role's home page: its tasks, and the coming sessions it may see."""

from __future__ import annotations

from sqlalchemy import func, select

from remote_check.audit.service import Actor
from remote_check.database import transaction
from scheduler.demo.generator import generate
from scheduler.demo.records import DEMO_PASSWORD, Scale
from scheduler.demo.service import load_demo
from scheduler.models import CheckSession, SessionStatus
from tests.web_helpers import WebServer


async def _home(server: WebServer, username: str, lang: str = "zh") -> str:
    browser = await server.signed_in(username, DEMO_PASSWORD)
    response = await browser.get(f"/?lang={lang}")
    assert response.status == 200
    return await response.text()


async def test_coming_sessions_show_only_to_those_who_may_see_them(server: WebServer) -> None:
    async with transaction(server.db.factory) as session:
        await load_demo(session, generate(1, Scale.SMALL), now=server.clock.now(), actor=Actor.cli())
    async with server.db.factory() as session:
        booked = await session.scalar(
            select(func.count())
            .select_from(CheckSession)
            .where(CheckSession.city_code == "4419", CheckSession.status == SessionStatus.BOOKED)
        )
    dongguan = await _home(server, "dg.coord")
    assert "近期核查会议" in dongguan
    assert booked
    assert dongguan.count('<td><a href="/sessions/') == min(booked, 8)  # the page lists the next 8
    assert "导入项目" in dongguan  # a coordinator imports
    foshan = await _home(server, "fs.coord")
    assert "近期核查会议" not in foshan
    auditor = await _home(server, "province.auditor", "en")
    assert "Upcoming sessions" in auditor
    assert "Audit log" in auditor
    assert "Import projects" not in auditor
