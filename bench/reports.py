"""Benchmark: the province dashboard and a city's reports on the full demo (SQLite, and PostgreSQL
when ``--pg`` names an empty database).

Run ``.venv/bin/python bench/reports.py [--seed N] [--pg postgresql+asyncpg://…]``. Loads the full demo,
then times: the dashboard as the province sees it; for the city with the largest sample, building
each report, rendering it (XLSX, PDF) and filing it. Prints the sizes; exits 1 when the dashboard
takes 1 s or more or a report (build, render and file) 5 s or more.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor
from remote_check.campaigns import service
from remote_check.campaigns.models import Campaign, Draw, DrawEntry, DrawStatus
from remote_check.campaigns.sampling import Target, Thresholds
from remote_check.clock import SystemClock, local
from remote_check.database import make_engine, make_sessionmaker, transaction
from remote_check.files import FileStore
from remote_check.migrate import upgrade
from remote_check.programme.models import VoucherProject
from remote_check.reports.content import ReportKind
from remote_check.reports.dashboard import dashboard
from remote_check.reports.filing import Rendered, file_report
from remote_check.reports.pdf import report_pdf
from remote_check.reports.xlsx import report_xlsx
from remote_check.settings import key_file
from scheduler.demo.generator import generate
from scheduler.demo.records import Scale
from scheduler.demo.service import load_demo
from scheduler.reporting import build_report

DASHBOARD_BUDGET = 1.0
REPORT_BUDGET = 5.0
PROVINCE = Principal(0, Role.PROVINCE_ADMIN, None, "bench")


async def _run(url: str, folder: Path, seed: int) -> bool:
    engine = make_engine(url)
    ok = True
    try:
        await upgrade(engine)
        factory = make_sessionmaker(engine, audit_key=key_file(folder / "audit.key"))
        now = SystemClock().now()
        async with transaction(factory) as session:
            await load_demo(session, generate(seed, Scale.FULL), now=now, actor=Actor.cli())
        started = time.perf_counter()
        drawn = await _sample_every_city(factory, now)
        print(
            f"  sampled {drawn} more cities in {time.perf_counter() - started:.1f} s (a published draw each)"
        )
        async with factory() as session:
            started = time.perf_counter()
            board = await dashboard(session, PROVINCE, today=local(now).date())
            took = time.perf_counter() - started
            sampled = sum(c.sampled for c in board.cities)
            size = f"{len(board.cities)} campaigns, {sampled} sampled, {len(board.suppliers)} suppliers"
            print(f"  dashboard        {took * 1000:8.1f} ms  ({size})")
            ok &= took < DASHBOARD_BUDGET
            largest = (
                await session.execute(
                    select(Draw.campaign_id, func.count(DrawEntry.id))
                    .join(DrawEntry, DrawEntry.draw_id == Draw.id)
                    .where(Draw.status == DrawStatus.PUBLISHED)
                    .group_by(Draw.campaign_id)
                    .order_by(func.count(DrawEntry.id).desc())
                )
            ).first()
            assert largest is not None, "the demo publishes samples"
            campaign = await session.get_one(Campaign, largest[0])
        store = FileStore(folder / "files")
        for kind in ReportKind:
            started = time.perf_counter()
            async with factory() as session:
                report = await build_report(session, campaign, kind, made_at=now)
            built = time.perf_counter()
            xlsx = report_xlsx(report)
            made_xlsx = time.perf_counter()
            pdf = report_pdf(report)
            made_pdf = time.perf_counter()
            async with transaction(factory) as session:
                await file_report(
                    session, store, Rendered(report, xlsx, pdf), actor=Actor.cli(), filed_by=None, now=now
                )
            filed = time.perf_counter()
            rows = sum(len(s.rows) for s in report.sections)
            print(
                f"  {kind.value:<8} {campaign.city_code} ({largest[1]} sampled, {rows} rows): build "
                f"{(built - started) * 1000:6.1f} ms, xlsx {(made_xlsx - built) * 1000:6.1f} ms "
                f"({len(xlsx) // 1024} KiB), pdf {(made_pdf - made_xlsx) * 1000:6.1f} ms "
                f"({len(pdf) // 1024} KiB), file {(filed - made_pdf) * 1000:6.1f} ms"
            )
            ok &= filed - started < REPORT_BUDGET
    finally:
        await engine.dispose()
    return ok


async def _sample_every_city(factory: async_sessionmaker[AsyncSession], now: dt.datetime) -> int:
    """A 2019 campaign with a published 10% draw in every city that has projects and no campaign."""
    async with factory() as session:
        have = set((await session.scalars(select(Campaign.city_code))).all())
        cities = (await session.scalars(select(VoucherProject.city_code).distinct())).all()
    todo = sorted(set(cities) - have)
    for city in todo:
        async with transaction(factory) as session:
            campaign = await service.create_campaign(
                session,
                service.NewCampaign(city, "2019", Decimal("1000000.00"), dt.date(2020, 6, 30)),
                actor=Actor.cli(),
                now=now,
                created_by=None,
            )
            draw = await service.create_draw(
                session,
                campaign,
                target=Target(ratio=Decimal("0.1")),
                seed=f"bench-{city}",
                thresholds=Thresholds(),
                actor=Actor.cli(),
                now=now,
                created_by=None,
            )
            await service.publish_draw(session, draw.id, actor=Actor.cli(), now=now)
    return len(todo)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", default="", help="an empty PostgreSQL database's URL (asyncpg)")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        print(f"full demo, seed {args.seed}: SQLite")
        ok &= asyncio.run(
            _run(f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}", Path(folder), args.seed)
        )
        if args.pg:
            print("PostgreSQL")
            ok &= asyncio.run(_run(args.pg, Path(folder), args.seed))
    print("budgets: dashboard < 1 s, a report < 5 s ->", "ok" if ok else "OVER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
