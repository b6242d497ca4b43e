"""A city never runs more checks at once than it has rooms (panels), on SQLite and PostgreSQL: the
booking, the hold and the move take one of the city's rooms; a 409 names the full rooms and offers
times with a room free; racing bookings for a city's last room, exactly one wins; fewer rooms than
the checks booked at once is refused; the migration gives the sessions booked before a room."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, func, select

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor
from remote_check.clock import FixedClock
from remote_check.database import AUDIT_KEY, make_engine, make_sessionmaker, transaction
from remote_check.errors import Conflict
from remote_check.migrate import downgrade, upgrade
from remote_check.programme.models import City, VoucherProject
from scheduler.availability_admin import set_city_rooms
from scheduler.booking import Held, Interval, ResourceKind, allocate, session_demands
from scheduler.holds import NewHold, hold_time
from scheduler.models import Booking, CheckSession
from scheduler.planning.apply import apply_plan
from scheduler.planning.check import check_plan
from scheduler.planning.planner import plan
from scheduler.planning.service import PlanningOptions, build_source
from scheduler.service import NewSession, book_session, cancel_session, move_session
from tests.conftest import Database
from tests.planning.sample_world import make_world
from tests.scheduling_factories import (
    add_campaign,
    add_experts,
    add_principal,
    add_project,
    add_supplier,
    local,
)

HOUR = dt.timedelta(hours=1)
CLI = Actor.cli()


def test_a_city_room_is_one_of_its_rooms_without_buffer() -> None:
    start = local(13, 9)
    demands = session_demands(
        starts_at=start,
        ends_at=start + HOUR,
        supplier_id=1,
        supplier_teams=1,
        enterprise_id=1,
        expert_ids=[1, 2, 3],
        city_code="4401",
        city_rooms=2,
    )
    room = [d for d in demands if d.kind == ResourceKind.ROOM]
    assert [(d.options, d.interval.ends) for d in room] == [(("room:4401:0", "room:4401:1"), start + HOUR)]
    busy = [
        Held("room:4401:0", Interval(start, start + HOUR), 7),
        Held("room:4401:1", Interval(start, start + HOUR), 8),
    ]
    plan = allocate(demands, busy)
    assert [c.demand.kind for c in plan.clashes] == [ResourceKind.ROOM]
    taken = allocate(demands, busy[:1]).allocations
    assert [a.resource for a in taken if a.resource.startswith("room:")] == ["room:4401:1"]
    # the end of one check frees its room for the next (no buffer)
    assert allocate(demands, [Held("room:4401:0", Interval(start - HOUR, start), 7)]).ok


@dataclass(frozen=True)
class World:
    gz: Principal
    fs: Principal
    projects: list[VoucherProject]  # each with its own supplier and enterprise, all in Guangzhou
    panels: list[list[int]]  # a distinct panel per project
    foshan: VoucherProject


async def _world(db: Database, rooms: int, count: int = 3) -> World:
    async with transaction(db.factory) as session:
        gz = await add_principal(session, "gz.coord", Role.CITY_COORDINATOR, "4401")
        fs = await add_principal(session, "fs.coord", Role.CITY_COORDINATOR, "4406")
        projects = [await add_project(session, await add_supplier(session)) for _ in range(count)]
        foshan = await add_project(session, await add_supplier(session), city="4406")
        await add_campaign(session, projects, deadline=dt.date(2020, 4, 30))
        await add_campaign(session, [foshan], deadline=dt.date(2020, 4, 30), city="4406")
        experts = await add_experts(session, 3 * (count + 1))
        await set_city_rooms(session, "4401", rooms, actor=CLI, now=local(10, 9))
        panels = [experts[3 * i : 3 * i + 3] for i in range(count + 1)]
        return World(gz, fs, projects, panels, foshan)


async def _book(
    db: Database, who: Principal, project: int, start: dt.datetime, panel: list[int], clock: FixedClock
) -> CheckSession:
    async with transaction(db.factory) as session:
        return await book_session(
            session, who, NewSession(project, start, start + HOUR, panel), now=clock.now()
        )


async def _stored(db: Database) -> tuple[int, int]:
    async with transaction(db.factory) as session:
        return (
            int(await session.scalar(select(func.count(CheckSession.id))) or 0),
            int(await session.scalar(select(func.count(Booking.id))) or 0),
        )


async def _refused(db: Database, w: World, index: int, start: dt.datetime, clock: FixedClock) -> Conflict:
    before = await _stored(db)
    with pytest.raises(Conflict) as refused:
        await _book(db, w.gz, w.projects[index].id, start, w.panels[index], clock)
    assert await _stored(db) == before  # nothing booked
    return refused.value


def _offered(error: Conflict) -> list[dt.datetime]:
    raw = error.extra["suggestions"]
    assert isinstance(raw, list)
    return [dt.datetime.fromisoformat(s["starts_at"]) for s in raw]


async def test_a_city_with_two_rooms_refuses_a_third_check_at_once_and_offers_a_free_room(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db, rooms=2)
    first = await _book(db, w.gz, w.projects[0].id, local(13, 9), w.panels[0], clock)
    second = await _book(db, w.gz, w.projects[1].id, local(13, 9, 30), w.panels[1], clock)
    refused = await _refused(db, w, 2, local(13, 9, 45), clock)
    assert [(d["kind"], d["resource"]) for d in refused.details] == [
        ("room", "room:4401:0"),
        ("room", "room:4401:1"),
    ]
    assert "广州的 2 个会议室在该时段均已占用" in refused.message.zh
    assert "the city's 2 rooms are all taken at that time" in refused.message.en
    assert f"#{first.id}" in refused.message.zh
    assert f"#{second.id}" in refused.message.en
    offered = _offered(refused)
    assert len(offered) == 3
    assert all(o + HOUR <= local(13, 9, 30) or o >= local(13, 10) for o in offered)  # a room is free
    assert local(13, 10) in offered  # the first room is free again when the first check ends
    await _book(db, w.gz, w.projects[2].id, local(13, 10), w.panels[2], clock)
    await _book(db, w.fs, w.foshan.id, local(13, 9, 45), w.panels[3], clock)  # Foshan's rooms are its own


async def test_a_hold_takes_a_room_and_a_move_into_full_rooms_is_refused(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db, rooms=1)
    async with transaction(db.factory) as session:
        await hold_time(
            session,
            w.gz,
            NewHold(w.projects[0].id, local(13, 9), local(13, 10), w.panels[0]),
            now=clock.now(),
        )
    refused = await _refused(db, w, 1, local(13, 9), clock)
    assert [d["kind"] for d in refused.details] == ["room"]
    assert "the city's only room is taken at that time" in refused.message.en
    assert "另一协调员暂留" in refused.message.zh
    booked = await _book(db, w.gz, w.projects[1].id, local(13, 14), w.panels[1], clock)
    clock.advance(dt.timedelta(minutes=6))  # the hold lapsed: its room is free
    other = await _book(db, w.gz, w.projects[2].id, local(13, 9), w.panels[2], clock)
    with pytest.raises(Conflict) as moving:
        async with transaction(db.factory) as session:
            await move_session(session, w.gz, booked.id, local(13, 9, 30), local(13, 10, 30), now=clock.now())
    assert [d["kind"] for d in moving.value.details] == ["room"]
    assert f"#{other.id}" in moving.value.message.zh
    async with transaction(db.factory) as session:
        kept = await session.get(CheckSession, booked.id)
        assert kept is not None
        assert kept.starts_at == local(13, 14)
        moved = await move_session(session, w.gz, booked.id, local(13, 10), local(13, 11), now=clock.now())
    assert moved.starts_at == local(13, 10)


async def test_fewer_rooms_than_checks_at_once_is_refused_else_rooms_are_repacked(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db, rooms=2)
    first = await _book(db, w.gz, w.projects[0].id, local(13, 9), w.panels[0], clock)
    await _book(db, w.gz, w.projects[1].id, local(13, 9, 30), w.panels[1], clock)
    with pytest.raises(Conflict) as refused:
        async with transaction(db.factory) as session:
            await set_city_rooms(session, "4401", 1, actor=CLI, now=clock.now())
    assert "多于 1 场" in refused.value.message.zh
    async with transaction(db.factory) as session:
        city = await session.get(City, "4401")
        assert city is not None
        assert city.rooms == 2
        await cancel_session(session, w.gz, first.id, now=clock.now())
    async with transaction(db.factory) as session:
        await set_city_rooms(session, "4401", 1, actor=CLI, now=clock.now())
    async with transaction(db.factory) as session:
        rooms = (await session.scalars(select(Booking.resource).where(Booking.resource.like("room:%")))).all()
        audit = (
            await session.scalars(select(AuditEntry.details).where(AuditEntry.action == "city.rooms"))
        ).all()
    assert rooms == ["room:4401:0"]  # the second check moved to the one room left
    assert audit[-1] == {"from": 2, "to": 1}
    refused_again = await _refused(db, w, 2, local(13, 10), clock)
    assert [d["kind"] for d in refused_again.details] == ["room"]


async def test_the_migration_gives_each_booked_session_a_room(db: Database, clock: FixedClock) -> None:
    w = await _world(db, rooms=2)
    for i in range(2):
        await _book(db, w.gz, w.projects[i].id, local(13, 9), w.panels[i], clock)
    await downgrade(db.engine, "0006_availability")
    async with transaction(db.factory) as session:
        assert (await session.scalars(select(Booking.id).where(Booking.resource.like("room:%")))).all() == []
    await upgrade(db.engine)
    async with transaction(db.factory) as session:
        rows = (
            await session.execute(
                select(Booking.resource, Booking.slot).where(Booking.resource.like("room:%"))
            )
        ).all()
    assert sorted(rows) == [("room:4401:0", 0), ("room:4401:1", 1)]


async def _race(db: Database, clock: FixedClock, rooms: int) -> tuple[BaseException | None, list[str]]:
    """A books a room of the city in an open transaction; B (another supplier, enterprise and
    panel, an overlapping time) is started on another connection and A commits once B is committed
    to its course (SQLite: B waits for the write lock; PostgreSQL: B passed its check and is
    inserting). B's error and the statements B reached."""
    w = await _world(db, rooms=rooms)
    other = make_engine(db.url)
    reached = asyncio.Event()
    statements: list[str] = []

    @event.listens_for(other.sync_engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith(("BEGIN IMMEDIATE", "INSERT INTO bookings")):
            statements.append(statement.split(" (")[0])
            reached.set()

    async def book_b() -> None:
        async with transaction(
            make_sessionmaker(other, audit_key=db.factory.kw["info"][AUDIT_KEY])
        ) as session:
            await book_session(
                session,
                w.gz,
                NewSession(w.projects[1].id, local(13, 9, 30), local(13, 10, 30), w.panels[1]),
                now=clock.now(),
            )

    error: BaseException | None = None
    try:
        async with transaction(db.factory) as session:
            await book_session(
                session,
                w.gz,
                NewSession(w.projects[0].id, local(13, 9), local(13, 10), w.panels[0]),
                now=clock.now(),
            )
            racer = asyncio.create_task(book_b())
            await asyncio.wait_for(reached.wait(), timeout=20)
        try:
            await asyncio.wait_for(racer, timeout=20)
        except Conflict as exc:
            error = exc
    finally:
        await other.dispose()
    return error, statements


async def _rooms_taken(db: Database) -> tuple[int, list[str]]:
    async with transaction(db.factory) as session:
        stmt = select(Booking.resource).where(Booking.resource.like("room:%")).order_by(Booking.resource)
        rooms = list((await session.scalars(stmt)).all())
        return int(await session.scalar(select(func.count(CheckSession.id))) or 0), rooms


async def test_two_transactions_racing_for_the_last_room_exactly_one_wins(
    db: Database, clock: FixedClock
) -> None:
    """B is refused for the room, by the check (SQLite) or by the exclusion constraint (PostgreSQL)."""
    error, statements = await _race(db, clock, rooms=1)
    assert isinstance(error, Conflict)
    assert [d["kind"] for d in error.details] == ["room"]
    if db.kind == "postgresql":
        assert "INSERT INTO bookings" in statements  # B passed its check: the constraint refused it
    else:
        assert statements[0] == "BEGIN IMMEDIATE"
    assert await _rooms_taken(db) == (1, ["room:4401:0"])


async def test_racing_for_a_two_room_city_both_win_in_different_rooms(
    db: Database, clock: FixedClock
) -> None:
    """On PostgreSQL B first tries A's room, is refused by the constraint, looks again and takes the other."""
    error, _ = await _race(db, clock, rooms=2)
    assert error is None
    assert await _rooms_taken(db) == (2, ["room:4401:0", "room:4401:1"])


async def test_a_plan_for_a_city_with_one_room_is_booked_whole_by_the_booking_rules(
    db: Database, clock: FixedClock
) -> None:
    """The planner and the booking agree on rooms: a plan that gives Dongguan's one room to one
    check at a time is applied without a refusal, and the bookings hold the room one by one."""
    async with transaction(db.factory) as session:
        world = await make_world(session)
        await set_city_rooms(session, "4419", 1, actor=CLI, now=clock.now())
    async with db.factory() as session:
        source = await build_source(session, world.admin, now=clock.now(), options=PlanningOptions())
    assert {c.id: c.rooms for c in source.instance.cities}["4419"] == 1
    result = plan(source.instance, seconds=0.5)
    assert not check_plan(source.instance, result.plan).violations
    assert not result.plan.unscheduled
    async with transaction(db.factory) as session:
        booked = await apply_plan(session, world.admin, source, result.plan, now=clock.now())
    dongguan = sorted((c.starts_at, c.ends_at) for c in booked if c.city_code == "4419")
    assert len(dongguan) == 3
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(dongguan))  # one at a time
    async with transaction(db.factory) as session:
        rooms = (
            await session.scalars(select(Booking.resource).where(Booking.resource.like("room:4419:%")))
        ).all()
    assert rooms == ["room:4419:0"] * 3
