"""Who serves where, and when not (issue 11's hard rules' data), on SQLite and PostgreSQL: the
booking refuses an expert outside their cities, an unavailable expert or enterprise and a city's
closed day, listed with the clashes; the offers and the planner's input honour the same."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor
from remote_check.clock import SHANGHAI, FixedClock
from remote_check.database import transaction
from remote_check.errors import Conflict, DomainError
from remote_check.programme.models import ProjectStatus, UnavailableKind, VoucherProject
from scheduler.availability_admin import add_unavailability, close_city_day, set_city_rooms, set_expert_cities
from scheduler.holds import NewHold, hold_time
from scheduler.models import CheckSession
from scheduler.planning.service import PlanningOptions, build_source
from scheduler.service import NewSession, book_session
from tests.conftest import Database
from tests.planning.sample_world import make_world
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
CLI = Actor.cli()


@dataclass(frozen=True)
class World:
    gz: Principal
    projects: list[VoucherProject]
    experts: list[int]


async def _world(db: Database) -> World:
    async with transaction(db.factory) as session:
        gz = await add_principal(session, "gz.coord", Role.CITY_COORDINATOR, "4401")
        supplier = await add_supplier(session, "粤云科技")
        made = [await add_project(session, supplier) for _ in range(2)]
        await add_campaign(session, made, deadline=dt.date(2020, 4, 30))
        return World(gz, made, await add_experts(session, 6))


async def _book(
    db: Database, w: World, project: int, start: dt.datetime, panel: list[int], clock: FixedClock
) -> None:
    async with transaction(db.factory) as session:
        await book_session(session, w.gz, NewSession(project, start, start + HOUR, panel), now=clock.now())


async def _refused(db: Database, w: World, start: dt.datetime, clock: FixedClock) -> Conflict:
    before = await counts(db.factory)
    with pytest.raises(Conflict) as refused:
        await _book(db, w, w.projects[0].id, start, w.experts[:3], clock)
    assert refused.value.status == 409
    assert await counts(db.factory) == before  # nothing booked
    assert await project_status(db.factory, w.projects[0].id) == ProjectStatus.SAMPLED
    return refused.value


def _offered(error: DomainError) -> list[dt.datetime]:
    raw = error.extra["suggestions"]
    assert isinstance(raw, list)
    return [dt.datetime.fromisoformat(s["starts_at"]) for s in raw]


async def test_an_expert_outside_their_cities_is_refused_and_nothing_is_offered(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db)
    async with transaction(db.factory) as session:
        await set_expert_cities(session, w.experts[1], ["4419", "4406"], actor=CLI, now=clock.now())
    refused = await _refused(db, w, local(13, 9), clock)
    assert [d["kind"] for d in refused.details] == ["expert_city"]
    assert "专家2" in refused.message.zh
    assert "does not serve" in refused.message.en
    assert _offered(refused) == []
    async with transaction(db.factory) as session:  # serving Guangzhou too, the booking goes through
        await set_expert_cities(session, w.experts[1], ["4401"], actor=CLI, now=clock.now())
    await _book(db, w, w.projects[0].id, local(13, 9), w.experts[:3], clock)


@pytest.mark.parametrize("kind", [UnavailableKind.EXPERT, UnavailableKind.ENTERPRISE])
async def test_an_unavailable_expert_or_enterprise_is_refused_and_offers_avoid_it(
    db: Database, clock: FixedClock, kind: UnavailableKind
) -> None:
    w = await _world(db)
    party = w.experts[0] if kind == UnavailableKind.EXPERT else w.projects[0].enterprise_id
    async with transaction(db.factory) as session:
        await add_unavailability(
            session, kind, party, local(13, 8), local(13, 12), "出差", actor=CLI, now=clock.now()
        )
    refused = await _refused(db, w, local(13, 9), clock)
    assert [(d["kind"], d["party_id"]) for d in refused.details] == [
        (f"{kind.value}_unavailable", str(party))
    ]
    assert "出差" in refused.message.zh
    assert "unavailable" in refused.message.en
    offered = _offered(refused)
    assert offered
    assert all(o + HOUR <= local(13, 8) or o >= local(13, 12) for o in offered)
    await _book(db, w, w.projects[0].id, offered[0], w.experts[:3], clock)


async def test_a_closed_day_of_the_city_is_refused_and_offers_skip_it(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db)
    async with transaction(db.factory) as session:
        await close_city_day(session, "4401", dt.date(2020, 4, 13), "停电", actor=CLI, now=clock.now())
    refused = await _refused(db, w, local(13, 9), clock)
    assert [d["kind"] for d in refused.details] == ["city_closed"]
    assert "2020-04-13" in refused.message.zh
    assert "2020-04-13" in refused.message.en
    offered = _offered(refused)
    assert offered
    assert all(o.astimezone(SHANGHAI).date() != dt.date(2020, 4, 13) for o in offered)


async def test_unavailability_is_listed_with_the_clashes_and_refuses_a_hold(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db)
    await _book(db, w, w.projects[1].id, local(13, 9), w.experts[3:6], clock)
    async with transaction(db.factory) as session:
        await add_unavailability(
            session,
            UnavailableKind.EXPERT,
            w.experts[0],
            local(13, 9),
            local(13, 10),
            actor=CLI,
            now=clock.now(),
        )
    refused = await _refused(db, w, local(13, 9, 30), clock)
    assert [d["kind"] for d in refused.details] == ["supplier", "expert_unavailable"]
    assert "专家1" in refused.message.zh
    with pytest.raises(Conflict):
        async with transaction(db.factory) as session:
            await hold_time(
                session,
                w.gz,
                NewHold(w.projects[0].id, local(13, 9), local(13, 10), w.experts[:3]),
                now=clock.now(),
            )


async def test_build_source_honours_cities_unavailability_closed_days_and_rooms(
    db: Database, clock: FixedClock
) -> None:
    async with transaction(db.factory) as session:
        world = await make_world(session)
        now = clock.now()
        await set_expert_cities(session, world.experts[1], ["4419"], actor=CLI, now=now)
        await set_expert_cities(session, world.experts[2], ["4401"], actor=CLI, now=now)
        away = (local(14, 9), local(14, 12))
        await add_unavailability(session, UnavailableKind.EXPERT, world.experts[3], *away, actor=CLI, now=now)
        fs_enterprise = world.fs_projects[0].enterprise_id
        await add_unavailability(
            session, UnavailableKind.ENTERPRISE, fs_enterprise, *away, actor=CLI, now=now
        )
        await close_city_day(session, "4419", dt.date(2020, 4, 15), actor=CLI, now=now)
        await set_city_rooms(session, "4419", 1, actor=CLI, now=now)
    async with db.factory() as session:
        source = await build_source(session, world.admin, now=clock.now(), options=PlanningOptions())
    inst = source.instance
    experts = {e.id: e for e in inst.experts}
    assert experts[f"E{world.experts[1]}"].cities == {"4419"}
    assert experts[f"E{world.experts[2]}"].cities == frozenset()  # serves no city planned
    assert experts[f"E{world.experts[4]}"].cities == {c.id for c in inst.cities}  # no rows: every city
    assert away in experts[f"E{world.experts[3]}"].unavailable
    enterprises = {e.id: e for e in inst.enterprises}
    assert away in enterprises[f"C{fs_enterprise}"].unavailable
    closed = (dt.datetime(2020, 4, 15, tzinfo=SHANGHAI), dt.datetime(2020, 4, 16, tzinfo=SHANGHAI))
    for project in world.dg_projects:
        assert closed in enterprises[f"C{project.enterprise_id}"].unavailable
    assert all(closed not in enterprises[f"C{p.enterprise_id}"].unavailable for p in world.fs_projects)
    rooms = {c.id: c.rooms for c in inst.cities}
    assert rooms["4419"] == 1
    assert rooms["4406"] == 3  # the column's default


async def test_the_admin_functions_refuse_bad_input_naming_the_field(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    now = clock.now()
    async with db.factory() as session:
        with pytest.raises(DomainError) as bad:
            await set_expert_cities(session, 999999, ["4401"], actor=CLI, now=now)
        assert bad.value.details == [{"field": "expert"}]
        with pytest.raises(DomainError) as bad:
            await set_expert_cities(session, w.experts[0], ["9999"], actor=CLI, now=now)
        assert bad.value.details == [{"field": "city"}]
        with pytest.raises(DomainError) as bad:
            await add_unavailability(
                session, UnavailableKind.ENTERPRISE, 999999, local(13, 9), local(13, 10), actor=CLI, now=now
            )
        assert bad.value.details == [{"field": "id"}]
        with pytest.raises(DomainError) as bad:
            await add_unavailability(
                session, UnavailableKind.EXPERT, w.experts[0], local(13, 9), local(13, 9), actor=CLI, now=now
            )
        assert bad.value.details == [{"field": "end"}]
        with pytest.raises(DomainError) as bad:
            await close_city_day(session, "9999", dt.date(2020, 4, 13), actor=CLI, now=now)
        assert bad.value.details == [{"field": "code"}]
        with pytest.raises(DomainError) as bad:
            await set_city_rooms(session, "4401", 0, actor=CLI, now=now)
        assert bad.value.details == [{"field": "rooms"}]


async def test_each_change_is_audited(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    now = clock.now()
    async with transaction(db.factory) as session:
        await set_expert_cities(session, w.experts[0], ["4401"], actor=CLI, now=now)
        await add_unavailability(
            session, UnavailableKind.EXPERT, w.experts[0], local(13, 9), local(13, 10), actor=CLI, now=now
        )
        await close_city_day(session, "4401", dt.date(2020, 4, 13), actor=CLI, now=now)
        await set_city_rooms(session, "4401", 2, actor=CLI, now=now)
    async with db.factory() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.action.in_(
                        ["expert.cities", "availability.unavailable", "city.close", "city.rooms"]
                    )
                )
            )
        ).all()
        assert sorted(actions) == ["availability.unavailable", "city.close", "city.rooms", "expert.cities"]
        assert await session.scalar(select(func.count()).select_from(CheckSession)) == 0
