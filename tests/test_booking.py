"""Booking check sessions: the pure overlap logic, then the service on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, select

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role, User
from remote_check.audit.models import AuditEntry
from remote_check.clock import FixedClock
from remote_check.database import AUDIT_KEY, make_engine, make_sessionmaker, transaction
from remote_check.errors import Conflict, DomainError, NotFound
from remote_check.programme.models import Enterprise, ProjectStatus, Supplier, VoucherProject
from scheduler.booking import (
    Held,
    Interval,
    ResourceKind,
    allocate,
    conflict_reasons,
    session_demands,
)
from scheduler.models import Booking, CheckSession, PanelRole, PanelSeat, SessionStatus
from scheduler.service import NewSession, book_session, cancel_session, move_session
from tests.conftest import Database
from tests.scheduling_factories import (
    add_enterprise,
    add_expert,
    add_experts,
    add_principal,
    add_project,
    add_supplier,
    counts,
    local,
    project_status,
)

MIN = dt.timedelta(minutes=1)


# --- pure ----------------------------------------------------------------------------------


def test_touching_intervals_do_not_overlap() -> None:
    nine_ten = Interval(local(11, 9), local(11, 10))
    assert not nine_ten.overlaps(Interval(local(11, 10), local(11, 11)))
    assert nine_ten.overlaps(Interval(local(11, 9, 59), local(11, 11)))
    assert Interval(local(11, 8), local(11, 12)).overlaps(nine_ten)
    with pytest.raises(ValueError, match="naive"):
        Interval(dt.datetime(2020, 4, 11, 9), local(11, 10))  # noqa: DTZ001 - the point of the test


def _demands(teams: int = 1, experts: tuple[int, ...] = (1, 2, 3), start: int = 9) -> list[Any]:
    return session_demands(
        starts_at=local(11, start),
        ends_at=local(11, start + 1),
        supplier_id=7,
        supplier_teams=teams,
        enterprise_id=4,
        expert_ids=experts,
    )


def test_demands_name_every_resource_with_the_supplier_buffer() -> None:
    supplier, enterprise, *experts = _demands(teams=2)
    assert supplier.options == ("supplier:7:team:0", "supplier:7:team:1")
    assert supplier.interval == Interval(local(11, 9), local(11, 10, 15))
    assert enterprise.options == ("enterprise:4",)
    assert enterprise.interval.ends == local(11, 10)
    assert [e.options for e in experts] == [("expert:1",), ("expert:2",), ("expert:3",)]


def test_a_second_team_takes_an_overlapping_session_a_third_clashes() -> None:
    first = Held("supplier:7:team:0", Interval(local(11, 9), local(11, 10, 15)), session_id=1)
    second = Held("supplier:7:team:1", Interval(local(11, 9, 30), local(11, 10, 45)), session_id=2)
    plan = allocate(_demands(teams=2, experts=(5, 6, 8)), [first])
    assert plan.ok
    assert ("supplier:7:team:1", 1) in [(a.resource, a.slot) for a in plan.allocations]
    refused = allocate(_demands(teams=2, experts=(5, 6, 8)), [first, second])
    assert [c.demand.kind for c in refused.clashes] == [ResourceKind.SUPPLIER]
    assert {b.session_id for b in refused.clashes[0].blocking} == {1, 2}
    assert refused.allocations  # the other resources were free; the caller refuses the whole


def test_the_buffer_keeps_a_supplier_team_apart() -> None:
    ends_at_ten = Held("supplier:7:team:0", Interval(local(11, 9), local(11, 10, 15)), session_id=1)
    too_soon = session_demands(
        starts_at=local(11, 10, 10),
        ends_at=local(11, 11),
        supplier_id=7,
        supplier_teams=1,
        enterprise_id=4,
        expert_ids=(1, 2, 3),
    )
    assert not allocate(too_soon, [ends_at_ten]).ok
    in_time = session_demands(
        starts_at=local(11, 10, 15),
        ends_at=local(11, 11),
        supplier_id=7,
        supplier_teams=1,
        enterprise_id=4,
        expert_ids=(1, 2, 3),
    )
    assert allocate(in_time, [ends_at_ten]).ok
    no_buffer = session_demands(
        starts_at=local(11, 10),
        ends_at=local(11, 11),
        supplier_id=7,
        supplier_teams=1,
        enterprise_id=4,
        expert_ids=(1, 2, 3),
        supplier_buffer=dt.timedelta(0),
    )
    assert allocate(no_buffer, [Held("supplier:7:team:0", Interval(local(11, 9), local(11, 10)), 1)]).ok


def test_every_clash_is_reported_not_only_the_first() -> None:
    held = [
        Held("supplier:7:team:0", Interval(local(11, 8), local(11, 9, 30)), 1),
        Held("expert:2", Interval(local(11, 9, 30), local(11, 11)), 2),
        Held("enterprise:4", Interval(local(11, 9), local(11, 9, 5)), 3),
        Held("expert:3", Interval(local(11, 10), local(11, 11)), 4),  # starts as ours ends: free
    ]
    plan = allocate(_demands(), held)
    assert [(c.demand.kind, c.demand.party_id) for c in plan.clashes] == [
        (ResourceKind.SUPPLIER, 7),
        (ResourceKind.ENTERPRISE, 4),
        (ResourceKind.EXPERT, 2),
    ]


def test_conflict_of_interest_by_employer_or_ties_ignoring_case_and_spaces() -> None:
    parties = {"91440101MA5ABCDE1X": "supplier", "91440606MA4XYZ0001": "enterprise"}
    assert conflict_reasons("91440101ma5abcde1x ", [], parties) == ["supplier"]
    assert conflict_reasons("91110000100000000A", ["91440606MA4XYZ0001"], parties) == ["enterprise"]
    assert conflict_reasons(None, [], parties) == []
    assert conflict_reasons("91110000100000000A", ["", "91999999999999999X"], parties) == []


# --- service -------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """A Guangzhou coordinator, a supplier, its sampled projects and nine experts."""

    coordinator: Principal
    supplier: Supplier
    projects: list[VoucherProject]
    experts: list[int]


async def _world(db: Database, *, teams: int = 1, projects: int = 2, city: str = "4401") -> World:
    async with transaction(db.factory) as session:
        coordinator = await add_principal(session, "gz.coord", Role.CITY_COORDINATOR, city)
        supplier = await add_supplier(session, "粤云科技", teams=teams)
        made = [await add_project(session, supplier, city=city) for _ in range(projects)]
        return World(coordinator, supplier, made, await add_experts(session, 9))


async def _book(
    db: Database,
    principal: Principal,
    project_id: int,
    start: dt.datetime,
    panel: list[int],
    clock: FixedClock,
    minutes: int = 60,
) -> CheckSession:
    async with transaction(db.factory) as session:
        return await book_session(
            session,
            principal,
            NewSession(project_id, start, start + minutes * MIN, panel, confirmed_off_hours=True),
            now=clock.now(),
        )


async def test_booking_holds_supplier_team_enterprise_and_panel(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    project = w.projects[0]
    check = await _book(db, w.coordinator, project.id, local(11, 9), w.experts[:3], clock)
    async with transaction(db.factory) as session:
        bookings = (await session.scalars(select(Booking).where(Booking.session_id == check.id))).all()
        seats = (await session.scalars(select(PanelSeat).order_by(PanelSeat.id))).all()
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "session.book"))).all()
    held = {b.resource: (b.starts_at, b.ends_at) for b in bookings}
    assert held[f"supplier:{w.supplier.id}:team:0"] == (local(11, 9), local(11, 10, 15))
    assert held[f"enterprise:{project.enterprise_id}"] == (local(11, 9), local(11, 10))
    assert {f"expert:{e}" for e in w.experts[:3]} <= held.keys()
    assert held[f"room:{project.city_code}:0"] == (local(11, 9), local(11, 10))  # one of the city's rooms
    assert len(held) == 6
    assert [(s.expert_id, s.role) for s in seats] == [
        (w.experts[0], PanelRole.LEAD),
        (w.experts[1], PanelRole.MEMBER),
        (w.experts[2], PanelRole.MEMBER),
    ]
    assert await project_status(db.factory, project.id) == ProjectStatus.SCHEDULED
    assert len(audit) == 1
    assert audit[0].target == f"session:{check.id}"


async def test_clashes_are_all_named_and_nothing_is_written(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    first = await _book(db, w.coordinator, w.projects[0].id, local(11, 9), w.experts[:3], clock)
    before = await counts(db.factory)
    # Same supplier (one team), the lead of the first panel again, 30 minutes later.
    with pytest.raises(Conflict) as refused:
        await _book(
            db, w.coordinator, w.projects[1].id, local(11, 9, 30), [w.experts[0], *w.experts[3:5]], clock
        )
    message = refused.value.message
    assert "粤云科技" in message.zh
    assert "广州" in message.zh
    assert f"#{first.id}" in message.zh
    assert "expert" in message.en
    kinds = sorted(d["kind"] for d in refused.value.details)
    assert kinds == ["expert", "supplier"]
    assert await counts(db.factory) == before
    assert await project_status(db.factory, w.projects[1].id) == ProjectStatus.SAMPLED


async def test_enterprise_cannot_be_in_two_sessions_at_once(db: Database, clock: FixedClock) -> None:
    w = await _world(db, projects=0)
    async with transaction(db.factory) as session:
        enterprise = await add_enterprise(session)
        other_supplier = await add_supplier(session)
        one = await add_project(session, w.supplier, enterprise=enterprise)
        two = await add_project(session, other_supplier, enterprise=enterprise)
    await _book(db, w.coordinator, one.id, local(11, 9), w.experts[:3], clock)
    with pytest.raises(Conflict) as refused:
        await _book(db, w.coordinator, two.id, local(11, 9, 45), w.experts[3:6], clock)
    assert [d["kind"] for d in refused.value.details] == ["enterprise"]


async def test_supplier_with_two_teams_does_two_overlapping_sessions_not_three(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db, teams=2, projects=3)
    await _book(db, w.coordinator, w.projects[0].id, local(11, 9), w.experts[0:3], clock)
    await _book(db, w.coordinator, w.projects[1].id, local(11, 9, 30), w.experts[3:6], clock)
    with pytest.raises(Conflict) as refused:
        await _book(db, w.coordinator, w.projects[2].id, local(11, 10), w.experts[6:9], clock)
    assert "2 个演示团队" in refused.value.message.zh
    async with transaction(db.factory) as session:
        slots = (
            await session.scalars(select(Booking.resource).where(Booking.resource.like("supplier:%")))
        ).all()
    assert sorted(slots) == [f"supplier:{w.supplier.id}:team:0", f"supplier:{w.supplier.id}:team:1"]
    # After the first team's buffer the third session fits.
    await _book(db, w.coordinator, w.projects[2].id, local(11, 10, 15), w.experts[6:9], clock)


async def test_supplier_buffer_is_respected(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    await _book(db, w.coordinator, w.projects[0].id, local(11, 9), w.experts[:3], clock)
    with pytest.raises(Conflict):
        await _book(db, w.coordinator, w.projects[1].id, local(11, 10, 5), w.experts[3:6], clock)
    await _book(db, w.coordinator, w.projects[1].id, local(11, 10, 15), w.experts[3:6], clock)


async def test_experts_with_a_conflict_of_interest_are_refused(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    project = w.projects[0]
    async with transaction(db.factory) as session:
        enterprise = await session.get(Enterprise, project.enterprise_id)
        assert enterprise is not None
        employed = await add_expert(session, "王工", employer_credit_code=w.supplier.credit_code)
        tied = await add_expert(session, "李工", ties=[enterprise.credit_code.lower()])
    with pytest.raises(DomainError) as refused:
        await _book(db, w.coordinator, project.id, local(11, 9), [employed.id, tied.id, w.experts[0]], clock)
    assert refused.value.status == 422
    assert refused.value.code == "conflict_of_interest"
    assert "王工" in refused.value.message.zh
    assert "李工" in refused.value.message.zh
    assert {d["party"] for d in refused.value.details} == {"supplier", "enterprise"}
    assert (await counts(db.factory)).sessions == 0


@pytest.mark.parametrize(
    ("start", "minutes", "panel_size", "expected"),
    [
        (local(10, 8), 60, 3, "past"),
        (local(11, 9), 0, 3, "after the start"),
        (local(11, 9), 241, 3, "4 hours"),
        (local(11, 9), 60, 4, "3 or 5"),
        (local(11, 9), 60, 1, "3 or 5"),
    ],
)
async def test_bad_times_and_panels_are_refused(
    db: Database, clock: FixedClock, start: dt.datetime, minutes: int, panel_size: int, expected: str
) -> None:
    w = await _world(db)
    with pytest.raises(DomainError) as refused:
        await _book(db, w.coordinator, w.projects[0].id, start, w.experts[:panel_size], clock, minutes)
    assert refused.value.status == 422
    assert expected in refused.value.message.en
    assert (await counts(db.factory)).sessions == 0


async def test_the_host_is_a_coordinator_of_the_city_or_a_province_admin(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db, projects=3)
    async with transaction(db.factory) as session:
        colleague = await add_principal(session, "gz.coord2", Role.CITY_COORDINATOR, "4401")
        admin = await add_principal(session, "admin", Role.PROVINCE_ADMIN)
        foshan = await add_principal(session, "fs.coord", Role.CITY_COORDINATOR, "4406")
        expert = await add_principal(session, "expert", Role.EXPERT)
        retired = await add_principal(session, "gz.retired", Role.CITY_COORDINATOR, "4401")
        user = await session.get(User, retired.user_id)
        assert user is not None
        user.active = False
    messages = set()
    for host in (foshan.user_id, expert.user_id, retired.user_id, 999999):
        with pytest.raises(DomainError) as refused:
            async with transaction(db.factory) as session:
                await book_session(
                    session,
                    w.coordinator,
                    NewSession(
                        w.projects[0].id,
                        local(11, 9),
                        local(11, 10),
                        w.experts[:3],
                        host_user_id=host,
                        confirmed_off_hours=True,
                    ),
                    now=clock.now(),
                )
        assert (refused.value.status, refused.value.details) == (422, [{"field": "host_user_id"}])
        messages.add(str(refused.value.message))
    assert len(messages) == 1  # an unknown id is told apart from no other: ids cannot be probed
    assert (await counts(db.factory)).sessions == 0
    hosts: list[int | None] = [colleague.user_id, admin.user_id, None]
    for i, named in enumerate(hosts):
        async with transaction(db.factory) as session:
            check = await book_session(
                session,
                w.coordinator,
                NewSession(
                    w.projects[i].id,
                    local(11 + i, 9),
                    local(11 + i, 10),
                    w.experts[:3],
                    named,
                    confirmed_off_hours=True,
                ),
                now=clock.now(),
            )
        assert check.host_user_id == (named or w.coordinator.user_id)


async def test_five_expert_panel_and_four_hours_are_fine(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    check = await _book(db, w.coordinator, w.projects[0].id, local(11, 9), w.experts[:5], clock, 240)
    assert check.ends_at - check.starts_at == dt.timedelta(hours=4)


async def test_projects_not_sampled_and_barred_parties_are_refused(db: Database, clock: FixedClock) -> None:
    w = await _world(db, projects=0)
    async with transaction(db.factory) as session:
        registered = await add_project(session, w.supplier, status=ProjectStatus.REGISTERED)
        barred = await add_supplier(session, "受限服务商", barred_until=dt.date(2024, 12, 31))
        of_barred = await add_project(session, barred)
        delisted = await add_supplier(session, "退出服务商", listed=False)
        of_delisted = await add_project(session, delisted)
        barred_enterprise = await add_enterprise(session, "受限企业", barred_until=dt.date(2020, 4, 10))
        of_barred_enterprise = await add_project(session, w.supplier, enterprise=barred_enterprise)
    for project, code, words in (
        (registered, "bad_status", "sampled"),
        (of_barred, "party_barred", "受限服务商"),
        (of_delisted, "party_barred", "退出服务商"),
        (of_barred_enterprise, "party_barred", "受限企业"),
    ):
        with pytest.raises(DomainError) as refused:
            await _book(db, w.coordinator, project.id, local(11, 9), w.experts[:3], clock)
        assert refused.value.status == 409
        assert refused.value.code == code
        assert words in str(refused.value.message)
    assert (await counts(db.factory)).sessions == 0


async def test_other_city_and_non_cluster_projects_are_out_of_scope(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    async with transaction(db.factory) as session:
        foshan = await add_principal(session, "fs.coord", Role.CITY_COORDINATOR, "4406")
        alliance = await add_principal(session, "alliance", Role.ALLIANCE_STAFF)
        cluster = await add_project(session, w.supplier, is_cluster=True)
    for principal, project_id in ((foshan, w.projects[0].id), (alliance, w.projects[0].id)):
        with pytest.raises(NotFound):  # out of scope is answered like absent
            await _book(db, principal, project_id, local(11, 9), w.experts[:3], clock)
    await _book(db, alliance, cluster.id, local(11, 9), w.experts[:3], clock)


async def test_a_clash_with_another_citys_session_names_city_and_time_not_its_id(
    db: Database, clock: FixedClock
) -> None:
    w = await _world(db)
    guangzhou = await _book(db, w.coordinator, w.projects[0].id, local(11, 9), w.experts[:3], clock)
    async with transaction(db.factory) as session:
        foshan = await add_principal(session, "fs.coord", Role.CITY_COORDINATOR, "4406")
        admin = await add_principal(session, "admin", Role.PROVINCE_ADMIN)
        project = await add_project(session, w.supplier, city="4406")
    with pytest.raises(Conflict) as refused:
        await _book(db, foshan, project.id, local(11, 9, 30), w.experts[3:6], clock)
    message, details = refused.value.message, refused.value.details
    assert "广州 2020-04-11 09:00–10:00" in message.zh  # who, which city and when: enough to stagger
    assert "Guangzhou 2020-04-11 09:00–10:00" in message.en
    assert "粤云科技" in message.zh
    assert f"#{guangzhou.id}" not in message.zh + message.en
    assert [(d["kind"], d["city_code"], "session_id" in d) for d in details] == [("supplier", "4401", False)]
    with pytest.raises(Conflict) as province:  # the province sees every session: ids are named
        await _book(db, admin, project.id, local(11, 9, 30), w.experts[3:6], clock)
    assert f"#{guangzhou.id}" in province.value.message.zh
    assert province.value.details[0]["session_id"] == str(guangzhou.id)


async def test_cancellation_frees_the_slot_and_returns_the_project(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    first = await _book(db, w.coordinator, w.projects[0].id, local(11, 9), w.experts[:3], clock)
    async with transaction(db.factory) as session:
        cancelled = await cancel_session(session, w.coordinator, first.id, now=clock.now(), reason="企业停产")
    assert cancelled.status == SessionStatus.CANCELLED
    assert (await counts(db.factory)).bookings == 0
    assert await project_status(db.factory, w.projects[0].id) == ProjectStatus.SAMPLED
    await _book(db, w.coordinator, w.projects[1].id, local(11, 9), w.experts[:3], clock)
    with pytest.raises(DomainError) as again:
        async with transaction(db.factory) as session:
            await cancel_session(session, w.coordinator, first.id, now=clock.now())
    assert again.value.status == 409


async def test_a_project_has_one_active_session(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    await _book(db, w.coordinator, w.projects[0].id, local(11, 9), w.experts[:3], clock)
    with pytest.raises(Conflict, match="reschedule it on its page instead"):
        await _book(db, w.coordinator, w.projects[0].id, local(12, 9), w.experts[:3], clock)


async def test_moving_is_atomic(db: Database, clock: FixedClock) -> None:
    w = await _world(db)
    one = await _book(db, w.coordinator, w.projects[0].id, local(11, 9), w.experts[:3], clock)
    await _book(db, w.coordinator, w.projects[1].id, local(11, 14), w.experts[3:6], clock)
    with pytest.raises(Conflict):
        async with transaction(db.factory) as session:
            await move_session(
                session,
                w.coordinator,
                one.id,
                local(11, 14, 30),
                local(11, 15),
                now=clock.now(),
                confirmed_off_hours=True,
            )
    async with transaction(db.factory) as session:
        kept = (await session.scalars(select(Booking).where(Booking.session_id == one.id))).all()
        assert len(kept) == 6
        assert all(b.starts_at == local(11, 9) for b in kept)
        moved = await move_session(
            session,
            w.coordinator,
            one.id,
            local(11, 9, 30),
            local(11, 10, 30),
            now=clock.now(),
            confirmed_off_hours=True,
        )
        assert moved.starts_at == local(11, 9, 30)
    async with transaction(db.factory) as session:
        ends = {
            b.ends_at for b in (await session.scalars(select(Booking).where(Booking.session_id == one.id)))
        }
    assert ends == {local(11, 10, 30), local(11, 10, 45)}


# --- races ---------------------------------------------------------------------------------


async def _race(db: Database, clock: FixedClock, teams: int) -> tuple[BaseException | None, list[str]]:
    """Book A in an open transaction; start B on another connection; commit A once B is committed
    to its course (SQLite: B waits for the write lock; PostgreSQL: B has passed its overlap check
    and is inserting). Returns B's error and the statements B reached."""
    w = await _world(db, teams=teams)
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
                w.coordinator,
                NewSession(
                    w.projects[1].id,
                    local(11, 9, 30),
                    local(11, 10, 30),
                    w.experts[3:6],
                    confirmed_off_hours=True,
                ),
                now=clock.now(),
            )

    error: BaseException | None = None
    try:
        async with transaction(db.factory) as session:
            await book_session(
                session,
                w.coordinator,
                NewSession(
                    w.projects[0].id, local(11, 9), local(11, 10), w.experts[:3], confirmed_off_hours=True
                ),
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


async def test_two_transactions_racing_for_one_supplier_slot_exactly_one_wins(
    db: Database, clock: FixedClock
) -> None:
    error, statements = await _race(db, clock, teams=1)
    assert isinstance(error, Conflict)
    assert [d["kind"] for d in error.details] == ["supplier"]
    if db.kind == "postgresql":
        # B passed its check before A committed: the exclusion constraint refused it.
        assert "INSERT INTO bookings" in statements
    else:
        assert statements[0] == "BEGIN IMMEDIATE"
    stored = await counts(db.factory)
    assert (stored.sessions, stored.bookings) == (1, 6)


async def test_racing_for_a_two_team_supplier_both_win_on_different_teams(
    db: Database, clock: FixedClock
) -> None:
    error, _ = await _race(db, clock, teams=2)
    assert error is None
    async with transaction(db.factory) as session:
        slots = (await session.scalars(select(Booking.slot).where(Booking.resource.like("supplier:%")))).all()
    assert sorted(slots) == [0, 1]
