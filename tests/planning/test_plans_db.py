"""The planner in the product, on SQLite and PostgreSQL: its input read from the database, and a
plan applied all or nothing through the booking service."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from remote_check.audit.models import AuditEntry
from remote_check.clock import SHANGHAI, FixedClock
from remote_check.database import transaction
from remote_check.errors import DomainError
from remote_check.programme.models import ProjectStatus, VoucherProject
from scheduler.models import CheckSession, SessionStatus
from scheduler.planning.apply import apply_plan
from scheduler.planning.check import check_plan
from scheduler.planning.planner import plan
from scheduler.planning.service import PlanningOptions, Source, build_source, db_id, planning_days
from scheduler.service import NewSession, book_session
from tests.conftest import Database
from tests.planning.sample_world import DEADLINE, World, make_world
from tests.scheduling_factories import counts

OPTIONS = PlanningOptions()


async def _world(db: Database) -> World:
    async with transaction(db.factory) as session:
        return await make_world(session)


async def _source(db: Database, world: World, who: str, clock: FixedClock) -> Source:
    async with db.factory() as session:
        return await build_source(session, getattr(world, who), now=clock.now(), options=OPTIONS)


async def test_the_instance_holds_the_published_samples_with_booked_checks_fixed_and_ties(
    db: Database, clock: FixedClock
) -> None:
    world = await _world(db)
    source = await _source(db, world, "admin", clock)
    inst = source.instance
    to_place = {f"P{p.id}" for p in world.dg_projects + world.fs_projects}
    assert set(source.to_place) == to_place  # not the draft draw's, not the booked one
    assert f"P{world.draft_project}" not in {p.id for p in inst.projects}
    assert [(f.project, f.experts) for f in inst.fixed] == [
        (f"P{world.booked_project}", tuple(f"E{e}" for e in world.booked_panel))
    ]
    assert inst.fixed[0].start == dt.datetime(2020, 4, 14, 9, 0, tzinfo=SHANGHAI)
    # Friday 10 April 2020: planning starts on the next working day, ends on the deadline
    assert inst.days == tuple(dt.date(2020, 4, d) for d in range(13, 18))
    by_id = {p.id: p for p in inst.projects}
    key = by_id[f"P{world.dg_projects[0].id}"]
    assert (key.due, key.priority, key.panel, key.city) == (DEADLINE, 1, 3, "4419")
    assert by_id[f"P{world.dg_projects[1].id}"].priority == 0
    experts = {e.id: e for e in inst.experts}
    assert experts[f"E{world.tied_expert}"].ties == {f"S{world.supplier_a.id}"}
    assert experts[f"E{world.experts[1]}"].ties == frozenset()
    assert {c.id for c in inst.cities} == {"4419", "4406"}
    assert source.projects[f"P{world.dg_projects[0].id}"].campaign_id == world.dg_campaign


async def test_a_coordinator_plans_their_city_around_the_other_cities_booked_checks(
    db: Database, clock: FixedClock
) -> None:
    world = await _world(db)
    source = await _source(db, world, "dg_coord", clock)
    assert source.city_code == "4419"
    assert set(source.to_place) == {f"P{p.id}" for p in world.dg_projects}
    assert [f.project for f in source.instance.fixed] == [f"P{world.booked_project}"]  # Foshan's check


def test_a_year_the_official_calendar_does_not_know_falls_back_to_weekdays() -> None:
    days, unknown = planning_days(dt.date(2099, 1, 1), dt.date(2099, 1, 7))
    assert unknown == [2099]
    assert [d.weekday() for d in days] == [3, 4, 0, 1, 2]
    days, unknown = planning_days(dt.date(2020, 4, 24), dt.date(2020, 4, 27))
    assert (unknown, days[-2:]) == ([], [dt.date(2020, 4, 26), dt.date(2020, 4, 27)])  # 调休 Sunday


async def _booked(db: Database) -> list[CheckSession]:
    async with db.factory() as session:
        return list((await session.scalars(select(CheckSession).order_by(CheckSession.id))).all())


async def test_applying_books_every_planned_check_in_one_transaction(db: Database, clock: FixedClock) -> None:
    world = await _world(db)
    source = await _source(db, world, "admin", clock)
    result = plan(source.instance, seconds=0.5)
    assert not check_plan(source.instance, result.plan).violations
    assert not result.plan.unscheduled
    async with transaction(db.factory) as session:
        booked = await apply_plan(session, world.admin, source, result.plan, now=clock.now())
    assert len(booked) == 5
    sessions = {s.project_id: s for s in await _booked(db)}
    for planned in result.plan.sessions:
        check = sessions[db_id(planned.project)]
        assert check.starts_at == planned.start
        assert check.status == SessionStatus.BOOKED
    tied = f"E{world.tied_expert}"
    for planned in result.plan.sessions:  # never on supplier A's checks
        if source.projects[planned.project].supplier == world.supplier_a.name:
            assert tied not in planned.experts
    async with db.factory() as session:
        statuses = set(
            (
                await session.scalars(
                    select(VoucherProject.status).where(
                        VoucherProject.id.in_([p.id for p in world.dg_projects + world.fs_projects])
                    )
                )
            ).all()
        )
        assert statuses == {ProjectStatus.SCHEDULED}
        campaigns = await session.scalar(
            select(func.count()).where(
                CheckSession.project_id == world.dg_projects[0].id,
                CheckSession.campaign_id == world.dg_campaign,
            )
        )
        assert campaigns == 1
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "plan.apply"))).one()
        assert sorted(audit.details["sessions"]) == sorted(c.id for c in booked)


async def test_a_clash_between_proposing_and_applying_books_nothing_and_names_the_check(
    db: Database, clock: FixedClock
) -> None:
    world = await _world(db)
    source = await _source(db, world, "admin", clock)
    result = plan(source.instance, seconds=0.5)
    first = next(s for s in result.plan.sessions if s.project in source.to_place)
    ref = source.projects[first.project]
    # Meanwhile the draft draw's project is booked by hand with one of the planned experts, at that time.
    async with transaction(db.factory) as session:
        free = [e for e in world.experts[1:] if e not in world.booked_panel]
        others = [e for e in free if f"E{e}" not in first.experts][:2]
        panel = [db_id(first.experts[0]), *others]
        await book_session(
            session,
            world.admin,
            NewSession(world.draft_project, first.start, first.start + dt.timedelta(hours=1), panel),
            now=clock.now(),
        )
    before = await counts(db.factory)
    with pytest.raises(DomainError) as caught:
        async with transaction(db.factory) as session:
            await apply_plan(session, world.admin, source, result.plan, now=clock.now())
    assert caught.value.status == 409
    assert caught.value.code == "plan_clash"
    assert ref.code in caught.value.message.zh
    assert ref.code in caught.value.message.en
    assert caught.value.details[0]["project"] == ref.code
    assert await counts(db.factory) == before  # nothing of the plan was booked
    async with db.factory() as session:
        applied = await session.scalar(select(func.count()).where(AuditEntry.action == "plan.apply"))
        assert applied == 0
