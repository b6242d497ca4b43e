"""A refused booking offers the nearest free times; sessions belong to their campaign and end by its
deadline; a coordinator's hold counts as booked for everyone else until it lapses (SQLite and
PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.campaigns.models import Campaign
from remote_check.clock import SHANGHAI, FixedClock
from remote_check.database import transaction
from remote_check.errors import Conflict, DomainError
from remote_check.programme.models import ProjectStatus, Supplier, VoucherProject
from scheduler.holds import HOLD_FOR, NewHold, hold_time
from scheduler.models import Booking, CheckSession, Hold
from scheduler.service import NewSession, book_session, move_session
from tests.conftest import Database
from tests.scheduling_factories import (
    add_campaign,
    add_experts,
    add_principal,
    add_project,
    add_supplier,
    counts,
    local,
    project_status,
)

HOUR = dt.timedelta(hours=1)
DEADLINE = dt.date(2020, 4, 30)
MAY_6 = dt.datetime(2020, 5, 6, 9, 0, tzinfo=SHANGHAI)  # the first working day after it


@dataclass(frozen=True)
class World:
    gz: Principal
    other: Principal  # a second Guangzhou coordinator
    supplier: Supplier
    projects: list[VoucherProject]
    experts: list[int]
    campaign: Campaign


async def _world(db: Database, projects: int = 3) -> World:
    async with transaction(db.factory) as session:
        gz = await add_principal(session, "gz.coord", Role.CITY_COORDINATOR, "4401")
        other = await add_principal(session, "gz.coord2", Role.CITY_COORDINATOR, "4401")
        supplier = await add_supplier(session, "粤云科技")
        made = [await add_project(session, supplier) for _ in range(projects)]
        campaign = await add_campaign(session, made, deadline=DEADLINE)
        return World(gz, other, supplier, made, await add_experts(session, 9), campaign)


async def _book(
    db: Database, who: Principal, project: int, start: dt.datetime, panel: list[int], clock: FixedClock
) -> CheckSession:
    async with transaction(db.factory) as session:
        return await book_session(
            session, who, NewSession(project, start, start + HOUR, panel), now=clock.now()
        )


async def _hold(
    db: Database, who: Principal, project: int, start: dt.datetime, panel: list[int], clock: FixedClock
) -> Hold:
    async with transaction(db.factory) as session:
        return await hold_time(session, who, NewHold(project, start, start + HOUR, panel), now=clock.now())


def _offered(error: DomainError) -> list[dt.datetime]:
    raw = error.extra["suggestions"]
    assert isinstance(raw, list)
    return [dt.datetime.fromisoformat(s["starts_at"]) for s in raw]


async def test_a_clash_offers_the_three_nearest_times_and_the_first_one_books(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db)
    await _book(db, w.gz, w.projects[0].id, local(13, 9), w.experts[:3], clock)  # Monday 13 April
    with pytest.raises(Conflict) as refused:
        await _book(db, w.gz, w.projects[1].id, local(13, 9, 30), w.experts[3:6], clock)
    # One team; 09:00-10:00 plus its 15 minutes' buffer.
    assert _offered(refused.value) == [local(13, 10, 15), local(13, 10, 30), local(13, 10, 45)]
    assert refused.value.extra["suggestions"][0]["ends_at"] == "2020-04-13T11:15:00+08:00"  # type: ignore[index]
    assert [d["kind"] for d in refused.value.details] == ["supplier"]  # the clashes are still named
    booked = await _book(db, w.gz, w.projects[1].id, local(13, 10, 15), w.experts[3:6], clock)
    assert booked.starts_at == local(13, 10, 15)


async def test_a_session_gets_its_campaign_and_a_move_keeps_the_deadline(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db)
    check = await _book(db, w.gz, w.projects[0].id, local(13, 9), w.experts[:3], clock)
    async with transaction(db.factory) as session:
        stored = await session.get(CheckSession, check.id)
        assert stored is not None
        assert stored.campaign_id == w.campaign.id
    with pytest.raises(DomainError) as late:
        async with transaction(db.factory) as session:
            await move_session(session, w.gz, check.id, MAY_6, MAY_6 + HOUR, now=clock.now())
    assert late.value.code == "past_deadline"


async def test_a_booking_past_the_deadline_is_refused_naming_it_and_changes_nothing(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db)
    before = await counts(db.factory)
    with pytest.raises(DomainError) as refused:
        await _book(db, w.gz, w.projects[0].id, MAY_6, w.experts[:3], clock)
    assert (refused.value.status, refused.value.code) == (409, "past_deadline")
    assert "2020-04-30" in refused.value.message.zh
    assert "2020-04-30" in refused.value.message.en
    assert await counts(db.factory) == before
    assert await project_status(db.factory, w.projects[0].id) == ProjectStatus.SAMPLED


async def test_offers_stop_at_the_deadline(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    await _book(db, w.gz, w.projects[0].id, local(30, 16), w.experts[:3], clock)  # the last afternoon
    with pytest.raises(Conflict) as refused:
        await _book(db, w.gz, w.projects[1].id, local(30, 16, 15), w.experts[:3], clock)
    offered = _offered(refused.value)
    assert len(offered) == 3
    assert all(o.date() <= DEADLINE for o in offered)
    assert offered == [local(30, 14, 15), local(30, 14, 30), local(30, 14, 45)]  # 14:45 + 75 min = 16:00


async def test_a_hold_blocks_another_coordinator_and_lapses_after_five_minutes(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db)
    hold = await _hold(db, w.gz, w.projects[0].id, local(13, 9), w.experts[:3], clock)
    assert hold.expires_at == clock.now() + HOLD_FOR
    with pytest.raises(Conflict) as refused:
        await _book(db, w.other, w.projects[1].id, local(13, 9, 30), w.experts[3:6], clock)
    assert "暂留" in refused.value.message.zh
    assert "held by another coordinator" in refused.value.message.en
    assert _offered(refused.value)[0] == local(13, 10, 15)
    clock.advance(HOLD_FOR - dt.timedelta(seconds=1))
    with pytest.raises(Conflict):
        await _book(db, w.other, w.projects[1].id, local(13, 9, 30), w.experts[3:6], clock)
    clock.advance(dt.timedelta(seconds=1))  # no timer: the clock alone ends it
    booked = await _book(db, w.other, w.projects[1].id, local(13, 9, 30), w.experts[3:6], clock)
    async with transaction(db.factory) as session:
        rows = (await session.scalars(select(Booking).where(Booking.hold_id.is_not(None)))).all()
    assert booked.id
    assert [r.resource for r in rows if r.resource.startswith("supplier")] == []  # the lapsed rows gave way


async def test_the_holder_books_the_held_time_and_the_hold_is_converted(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db)
    await _hold(db, w.gz, w.projects[0].id, local(13, 9), w.experts[:3], clock)
    again = await _hold(db, w.gz, w.projects[0].id, local(13, 9), w.experts[:3], clock)  # replaces the first
    clock.advance(dt.timedelta(minutes=2))
    check = await _book(db, w.gz, w.projects[0].id, local(13, 9), w.experts[:3], clock)
    async with transaction(db.factory) as session:
        holds = int(await session.scalar(select(func.count(Hold.id))) or 0)
        held_rows = int(
            await session.scalar(select(func.count(Booking.id)).where(Booking.hold_id.is_not(None))) or 0
        )
        mine = int(
            await session.scalar(select(func.count(Booking.id)).where(Booking.session_id == check.id)) or 0
        )
        audit = (
            await session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("session.%")))
        ).all()
    assert again.id
    assert (holds, held_rows, mine) == (0, 0, 6)
    assert sorted(audit) == ["session.book", "session.hold", "session.hold"]


async def test_a_hold_is_refused_like_a_booking(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    await _book(db, w.gz, w.projects[0].id, local(13, 9), w.experts[:3], clock)
    with pytest.raises(Conflict) as refused:
        await _hold(db, w.other, w.projects[1].id, local(13, 9, 30), w.experts[3:6], clock)
    assert _offered(refused.value) == [local(13, 10, 15), local(13, 10, 30), local(13, 10, 45)]
    with pytest.raises(DomainError) as late:
        await _hold(db, w.other, w.projects[1].id, MAY_6, w.experts[3:6], clock)
    assert late.value.code == "past_deadline"
    async with transaction(db.factory) as session:
        assert int(await session.scalar(select(func.count(Hold.id))) or 0) == 0
