"""Benchmark: a violation of a supplier with 300 projects in 21 cities, on the full demo.

    python -m bench.cascade [--database sqlite|postgresql|both] [--projects 300] [--seed 1]

For each database (a fresh SQLite file; a PostgreSQL database created for the run from ``--pg-admin``,
default ``RC_TEST_PG_ADMIN``, dropped afterwards): load the full demo, give every city an open campaign
with a published draw, add one supplier whose ``--projects`` projects are spread over the 21 cities
(three in five registered, one sampled, one qualified; one checked in Dongguan: the violation). Then time

- the cascade: :func:`apply_outcome` (violation) in one transaction, committed;
- the hand-over: :func:`scheduler.rechecks.after_outcome` (the province's planner input, the replan
  of the re-checks around every booked check, the cities' notices) in one transaction, committed;

and print both, their sum against the target (2 s), the re-checks placed and the notices written.
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
from sqlalchemy.ext.asyncio import AsyncSession

from bench.booking_load import PG_ADMIN, drop, postgres
from remote_check.audit.service import Actor
from remote_check.campaigns.models import Campaign, CampaignStatus, Draw, DrawEntry, DrawMode, DrawStatus
from remote_check.clock import SHANGHAI, SystemClock
from remote_check.database import make_engine, make_sessionmaker, transaction
from remote_check.migrate import upgrade
from remote_check.outcomes.cascade import apply_outcome
from remote_check.outcomes.kinds import Outcome, ViolationKind
from remote_check.programme.cities import CITIES
from remote_check.programme.models import ProjectStatus
from remote_check.settings import key_file
from scheduler.demo.generator import generate
from scheduler.demo.records import Scale
from scheduler.demo.service import load_demo
from scheduler.rechecks import after_outcome
from tests import scheduling_factories as sf

TARGET_SECONDS = 2.0
STATES = (
    ProjectStatus.REGISTERED,
    ProjectStatus.REGISTERED,
    ProjectStatus.REGISTERED,
    ProjectStatus.SAMPLED,
    ProjectStatus.QUALIFIED,
)


async def _draws(session: AsyncSession, now: dt.datetime) -> dict[str, Draw]:
    """Each city's open campaign's published draw (one is made where the demo has none)."""
    found: dict[str, Draw] = {}
    rows = await session.execute(
        select(Campaign, Draw)
        .join(Draw, Draw.campaign_id == Campaign.id)
        .where(Draw.status == DrawStatus.PUBLISHED, Campaign.status != CampaignStatus.CLOSED)
    )
    for campaign, draw in rows.all():
        found[campaign.city_code] = draw
    for city in CITIES:
        if city.code in found:
            continue
        campaign = Campaign(
            city_code=city.code,
            period="bench",
            title="bench",
            budget=Decimal("1000000.00"),
            deadline=(now + dt.timedelta(days=60)).astimezone(SHANGHAI).date(),
            status=CampaignStatus.CHECKING,
            created_at=now,
        )
        session.add(campaign)
        await session.flush()
        draw = Draw(
            campaign_id=campaign.id,
            seed="bench",
            mode=DrawMode.COUNT,
            count=0,
            thresholds={},
            inputs={},
            population=0,
            status=DrawStatus.PUBLISHED,
            created_at=now,
            published_at=now,
        )
        session.add(draw)
        await session.flush()
        found[city.code] = draw
    return found


async def _seed(
    url: str, folder: Path, projects: int, seed: int, now: dt.datetime
) -> tuple[int, dict[str, int]]:
    """Migrate, load the full demo, add the supplier's projects; the violation's project id."""
    engine = make_engine(url)
    try:
        await upgrade(engine)
        factory = make_sessionmaker(engine, audit_key=key_file(folder / "bench.key"))
        async with transaction(factory) as session:
            load = await load_demo(session, generate(seed, Scale.FULL), now=now, actor=Actor.cli())
        async with transaction(factory) as session:
            draws = await _draws(session, now)
            supplier = await sf.add_supplier(session, "基准违规云科技有限公司", teams=2)
            violator = await sf.add_project(session, supplier, city="4419", status=ProjectStatus.CHECKED)
            for n in range(projects - 1):
                city = CITIES[n % len(CITIES)].code
                state = STATES[n % len(STATES)]
                project = await sf.add_project(session, supplier, city=city, status=state)
                if state == ProjectStatus.SAMPLED:
                    session.add(
                        DrawEntry(
                            draw_id=draws[city].id,
                            project_id=project.id,
                            position=10_000 + n,
                            reasons=[],
                            facts={},
                        )
                    )
            await session.flush()
        return violator.id, load.counts
    finally:
        await engine.dispose()


async def run(name: str, url: str, folder: Path, args: argparse.Namespace) -> bool:
    now = SystemClock().now()
    started = time.perf_counter()
    violator, counts = await _seed(url, folder, args.projects, args.seed, now)
    print(
        f"{name}: full demo ({sum(counts.values())} rows) + {args.projects} projects in 21 cities, "
        f"seeded in {time.perf_counter() - started:.1f} s"
    )
    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine, audit_key=key_file(folder / "bench.key"))
        t0 = time.perf_counter()
        async with transaction(factory) as session:
            result = await apply_outcome(
                session,
                Actor.cli(),
                violator,
                Outcome.VIOLATION,
                at=now,
                violation=ViolationKind.FORGED_RECORDS,
            )
        t1 = time.perf_counter()
        async with transaction(factory) as session:
            handover = await after_outcome(session, result, now)
        t2 = time.perf_counter()
        async with transaction(factory) as session:
            entries = await session.scalar(select(func.count(DrawEntry.id)))
    finally:
        await engine.dispose()
    cascade, hand = t1 - t0, t2 - t1
    total = cascade + hand
    placed = len(handover.placed)
    print(
        f"  cascade transaction {cascade:6.3f} s   re-checks {len(result.rechecked_project_ids)}, "
        f"added to samples {len(result.sampled_project_ids)}, cities {len(result.cities_notified)}"
    )
    print(
        f"  replan + notices    {hand:6.3f} s   (replan incl. its input {handover.seconds:.3f} s) "
        f"placed {placed}, unplaced {len(handover.unplaced)}, notices {len(handover.notices)}, "
        f"draw entries {entries}"
    )
    print(
        f"  together            {total:6.3f} s   target {TARGET_SECONDS:.0f} s -> "
        f"{'ok' if total <= TARGET_SECONDS else 'OVER'}"
    )
    return total <= TARGET_SECONDS


def main() -> int:
    """Run on each database asked for; print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--projects", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        if args.database in ("sqlite", "both"):
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
            ok &= asyncio.run(run("SQLite", url, Path(folder), args))
        if args.database in ("postgresql", "both"):
            pg = asyncio.run(postgres(args.pg_admin))
            if pg is None:
                print("PostgreSQL: not reachable, skipped")
            else:
                try:
                    ok &= asyncio.run(run("PostgreSQL", pg, Path(folder), args))
                finally:
                    asyncio.run(drop(args.pg_admin, pg))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
