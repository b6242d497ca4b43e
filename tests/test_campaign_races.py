"""Campaign changes racing each other on both databases: the second transaction gets a 409.

Transaction A does its change and stays open; B starts and (on PostgreSQL) is seen waiting for
a lock, or finishes; then A commits and B's outcome is checked. On SQLite every transaction is
``BEGIN IMMEDIATE``, so B waits at its start until A commits.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.audit.service import Actor
from remote_check.campaigns import service
from remote_check.campaigns.models import Campaign, Draw, DrawEntry, DrawStatus
from remote_check.campaigns.sampling import Target, Thresholds
from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.errors import DomainError
from remote_check.programme.models import ProjectStatus, VoucherProject
from tests.conftest import Database
from tests.factories import add_project, add_supplier

ACTOR = Actor("user:1", "4419")


async def blocked_or_done(db: Database, task: asyncio.Task[Any]) -> None:
    """Return once ``task`` has finished or, on PostgreSQL, waits for a lock held by another
    transaction (a bounded poll of ``pg_stat_activity``, not a guess at timing)."""
    if db.kind != "postgresql":
        return
    async with db.engine.connect() as conn:
        for _ in range(1000):
            if task.done():
                return
            waiting = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            await conn.rollback()  # pg_stat_activity is a snapshot per transaction
            if waiting:
                return
            await asyncio.wait({task}, timeout=0.01)
    raise AssertionError("the second transaction neither finished nor waited for a lock")


async def race(
    db: Database,
    first: Callable[[AsyncSession], Awaitable[object]],
    second: Callable[[AsyncSession], Awaitable[object]],
) -> BaseException | None:
    """Run ``first`` in an open transaction, start ``second`` in its own, commit the first;
    return what the second raised (None if it committed)."""

    async def _second() -> None:
        async with transaction(db.factory) as session:
            await second(session)

    async with db.factory() as session:
        await session.begin()
        await first(session)
        racer = asyncio.create_task(_second())
        await blocked_or_done(db, racer)
        await session.commit()
    try:
        await racer
    except Exception as exc:
        return exc
    return None


async def _campaign(db: Database, clock: FixedClock) -> int:
    async with transaction(db.factory) as session:
        campaign = await service.create_campaign(
            session,
            service.NewCampaign("4419", "2019", Decimal("500000.00"), dt.date(2020, 6, 30)),
            actor=ACTOR,
            now=clock.now(),
            created_by=None,
        )
        return campaign.id


async def _draft(db: Database, clock: FixedClock, campaign_id: int, seed: str) -> int:
    async with transaction(db.factory) as session:
        draw = await service.create_draw(
            session,
            await service.get_campaign(session, campaign_id),
            target=Target(count=1),
            seed=seed,
            thresholds=Thresholds(),
            actor=ACTOR,
            now=clock.now(),
            created_by=None,
        )
        return draw.id


async def _drawn(db: Database, draw_id: int) -> set[int]:
    async with db.factory() as session:
        rows = await session.scalars(select(DrawEntry.project_id).where(DrawEntry.draw_id == draw_id))
        return set(rows.all())


async def _two_disjoint_drafts(db: Database, clock: FixedClock) -> tuple[int, int, int]:
    """A Dongguan campaign of one supplier's ten plain projects, and two one-project drafts
    that share no project (so that nothing but the campaign ties them together)."""
    async with transaction(db.factory) as session:
        supplier = await add_supplier(session)
        for _ in range(10):
            await add_project(session, supplier)
    campaign_id = await _campaign(db, clock)
    first = await _draft(db, clock, campaign_id, "race-a")
    second = await _draft(db, clock, campaign_id, "race-b")
    assert not (await _drawn(db, first)) & (await _drawn(db, second))
    return campaign_id, first, second


async def test_of_two_drafts_published_at_once_exactly_one_is(db: Database, clock: FixedClock) -> None:
    campaign_id, first, second = await _two_disjoint_drafts(db, clock)

    def publish(draw_id: int) -> Callable[[AsyncSession], Awaitable[object]]:
        async def _do(session: AsyncSession) -> object:
            return await service.publish_draw(session, draw_id, actor=ACTOR, now=clock.now())

        return _do

    refused = await race(db, publish(first), publish(second))

    assert isinstance(refused, DomainError)
    assert refused.status == 409
    assert "already published" in refused.message.en
    async with db.factory() as session:
        published = (
            await session.scalars(
                select(Draw.id).where(Draw.campaign_id == campaign_id, Draw.status == DrawStatus.PUBLISHED)
            )
        ).all()
        statuses = dict((await session.execute(select(VoucherProject.id, VoucherProject.status))).all())
    assert list(published) == [first]
    assert {statuses[p] for p in await _drawn(db, first)} == {ProjectStatus.SAMPLED}
    assert {statuses[p] for p in await _drawn(db, second)} == {ProjectStatus.REGISTERED}


async def test_a_draft_drawn_while_another_is_published_is_refused(db: Database, clock: FixedClock) -> None:
    campaign_id, first, _second = await _two_disjoint_drafts(db, clock)

    async def publish(session: AsyncSession) -> object:
        return await service.publish_draw(session, first, actor=ACTOR, now=clock.now())

    async def draw_again(session: AsyncSession) -> object:
        return await service.create_draw(
            session,
            await service.get_campaign(session, campaign_id),
            target=Target(count=1),
            seed="race-c",
            thresholds=Thresholds(),
            actor=ACTOR,
            now=clock.now(),
            created_by=None,
        )

    refused = await race(db, publish, draw_again)

    assert isinstance(refused, DomainError)
    assert refused.status == 409
    async with db.factory() as session:
        draws = await session.scalar(
            select(func.count()).select_from(Draw).where(Draw.campaign_id == campaign_id)
        )
    assert draws == 2


async def test_the_database_itself_refuses_a_second_published_draw(db: Database, clock: FixedClock) -> None:
    campaign_id, first, second = await _two_disjoint_drafts(db, clock)
    async with transaction(db.factory) as session:
        await session.execute(update(Draw).where(Draw.id == first).values(status=DrawStatus.PUBLISHED))
    with pytest.raises(IntegrityError):
        async with transaction(db.factory) as session:
            await session.execute(update(Draw).where(Draw.id == second).values(status=DrawStatus.PUBLISHED))
    async with db.factory() as session:
        statuses = (
            await session.scalars(
                select(Draw.status).where(Draw.campaign_id == campaign_id).order_by(Draw.id)
            )
        ).all()
    assert list(statuses) == [DrawStatus.PUBLISHED, DrawStatus.DRAFT]  # drafts may sit beside it


async def test_the_same_campaign_opened_twice_at_once_is_a_409(db: Database, clock: FixedClock) -> None:
    def open_dongguan_2019(budget: str) -> Callable[[AsyncSession], Awaitable[object]]:
        async def _do(session: AsyncSession) -> object:
            return await service.create_campaign(
                session,
                service.NewCampaign("4419", "2019", Decimal(budget), dt.date(2020, 6, 30)),
                actor=ACTOR,
                now=clock.now(),
                created_by=None,
            )

        return _do

    refused = await race(db, open_dongguan_2019("1.00"), open_dongguan_2019("2.00"))

    assert isinstance(refused, DomainError)
    assert refused.status == 409
    assert refused.message.en == "Dongguan already has a 2019 campaign"
    assert refused.message.zh == "东莞2019 的抽查批次已存在"
    async with db.factory() as session:
        budgets = (await session.scalars(select(Campaign.budget))).all()
    assert list(budgets) == [Decimal("1.00")]
