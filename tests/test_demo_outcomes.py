"""The demo shows what follows a check: Guangzhou's campaign held, concluded, published, paid, filed."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from remote_check.audit.service import Actor, verify_log
from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus, Supplier, VoucherProject
from remote_check.reports.filing import report_store
from remote_check.settings import Settings
from scheduler.demo.generator import generate
from scheduler.demo.outcomes import DemoFiles
from scheduler.demo.records import DEMO_PASSWORD, Scale
from scheduler.demo.service import load_demo
from scheduler.models import CheckSession, SessionStatus
from tests.conftest import Database, running_server


async def test_demo_leaves_guangzhou_concluded_with_a_violation_cascade_money_and_reports(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=db.url)
    files = DemoFiles(settings.secret_key(), report_store(settings.data_dir))
    async with transaction(db.factory) as session:
        load = await load_demo(
            session, generate(1, Scale.SMALL), now=clock.now(), actor=Actor.cli(), files=files
        )
    roles = Counter(load.held.values())
    assert roles["violation"] == roles["no_show"] == roles["unqualified"] == 1
    assert roles["qualified"] >= 3
    async with db.factory() as session:
        held = Counter(
            (await session.scalars(select(CheckSession.status).where(CheckSession.city_code == "4401"))).all()
        )
        assert held == {SessionStatus.DONE: len(load.held) - 1, SessionStatus.NO_SHOW: 1}
        (violator,) = [pid for pid, role in load.held.items() if role == "violation"]
        project = await session.get(VoucherProject, violator)
        assert project is not None
        assert project.status == ProjectStatus.VIOLATION
        supplier = await session.get(Supplier, project.supplier_id)
        assert supplier is not None
        assert not supplier.listed
        assert supplier.barred_until is not None
        rechecked = (
            await session.scalars(
                select(VoucherProject.city_code).where(
                    VoucherProject.supplier_id == supplier.id, VoucherProject.under_recheck.is_(True)
                )
            )
        ).all()
        assert set(rechecked) - {"4401"}, "the cascade reached the supplier's projects in other cities"
        assert await verify_log(session) == []
    async with running_server(db, clock, tmp_path) as server:
        browser = server.browser()
        response = await browser.post("/api/login", json={"username": "gz.coord", "password": DEMO_PASSWORD})
        assert response.status == 200, await response.text()
        board = await (await browser.get("/api/dashboard")).json()
        (city,) = [c for c in board["cities"] if c["city_code"] == "4401"]
        assert city["checked"] == len(load.held)
        assert city["sampled"] > city["checked"], "the supplier's other Guangzhou projects joined the sample"
        assert city["outcomes"]["violation"] == 1
        assert city["outcomes"]["qualified"] == roles["qualified"]
        money = city["money"]
        assert Decimal(money["allocated"]) > 0
        assert money["allocated_projects"] == roles["qualified"] - 1
        assert money["carried_over_projects"] == 1
        barred = [s for s in board["suppliers"] if s["supplier_id"] == supplier.id]
        (row,) = barred
        assert not row["listed"]
        assert row["under_recheck"] > 0
        pages = {
            "/verdicts": project.code,
            "/results": project.code,
            "/sanctions": supplier.name,
            "/funding/4401": "2020年第一期（演示）",
            "/reports": "2019",
            "/dashboard": supplier.name,
        }
        for path, shown in pages.items():
            page = await browser.get(path)
            text = await page.text()
            assert page.status == 200, path
            assert shown in text, path
