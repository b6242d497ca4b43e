"""The cascade of a confirmed outcome (notice 四), on SQLite and PostgreSQL: an unqualified project
changes alone; a violation bars both parties for 5 years, delists the supplier and puts its other
projects short of paid out under re-check in every city, which the planner then places."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor
from remote_check.campaigns.models import DrawEntry
from remote_check.campaigns.sampling import Thresholds
from remote_check.checklist.build import build_items
from remote_check.checklist.models import ChecklistItem, ItemResult
from remote_check.checklist.service import create_items, create_items_many, project_facts
from remote_check.clock import FixedClock
from remote_check.database import make_reader, transaction
from remote_check.errors import DomainError
from remote_check.funding.reading import candidates
from remote_check.imports.sandbox import UploadReader
from remote_check.imports.workflow import Databases, import_upload
from remote_check.outcomes.bars import bar_end, is_barred
from remote_check.outcomes.cascade import CascadeResult, apply_outcome
from remote_check.outcomes.kinds import Outcome, ViolationKind
from remote_check.outcomes.sanction_models import Bar, Notice, PartyKind
from remote_check.programme.models import Enterprise, ProjectStatus, Supplier, VoucherProject
from scheduler.rechecks import after_outcome
from scheduler.service import NewSession, book_session
from tests.conftest import Database
from tests.import_files import csv_file, found, row
from tests.notify_world import job_runner, notify_settings, smtp_server, text_of, wecom_robot
from tests.sanction_world import NOW, World, build_world, supplier_row
from tests.scheduling_factories import add_project, add_supplier, local

UNTIL = dt.date(2025, 4, 9)


def test_a_bar_ends_the_day_before_the_fifth_anniversary() -> None:
    assert bar_end(dt.date(2020, 4, 10)) == UNTIL
    assert bar_end(dt.date(2020, 2, 29)) == dt.date(2025, 2, 28)


async def _violation(db: Database, world: World) -> CascadeResult:
    async with transaction(db.factory) as s:
        return await apply_outcome(
            s,
            Actor.of(world.coordinator),
            world.violator,
            Outcome.VIOLATION,
            at=NOW,
            violation=ViolationKind.FORGED_RECORDS,
            reason="发票伪造",
        )


async def _projects(db: Database) -> dict[int, VoucherProject]:
    async with transaction(db.factory) as s:
        return {p.id: p for p in (await s.scalars(select(VoucherProject))).all()}


async def test_unqualified_changes_only_its_project(db: Database) -> None:
    world = await build_world(db)
    before = await _projects(db)
    async with transaction(db.factory) as s:
        actor = Actor.of(world.coordinator)
        result = await apply_outcome(s, actor, world.violator, Outcome.UNQUALIFIED, at=NOW)
    after = await _projects(db)
    assert result.rechecked_project_ids == []
    assert result.cities_notified == []
    assert after[world.violator].status == ProjectStatus.UNQUALIFIED
    for pid, project in after.items():
        if pid != world.violator:
            assert (project.status, project.under_recheck) == (before[pid].status, before[pid].under_recheck)
    supplier = await supplier_row(db, world.supplier)
    assert supplier.listed
    assert supplier.barred_until is None
    async with transaction(db.factory) as s:
        assert await s.scalar(select(func.count(Bar.id))) == 0


async def test_violation_bars_delists_and_rechecks_the_suppliers_other_projects(db: Database) -> None:
    world = await build_world(db)
    result = await _violation(db, world)
    projects = await _projects(db)

    assert projects[world.violator].status == ProjectStatus.VIOLATION
    rechecked = {
        world.registered_4401,
        world.registered_4403,
        world.sampled_4404,
        world.qualified_4405,
        world.scheduled_4406,
    }
    assert set(result.rechecked_project_ids) == rechecked
    assert result.cities_notified == ["4401", "4403", "4404", "4405", "4406"]
    for pid in rechecked:
        assert projects[pid].under_recheck
    for pid in (world.funded_4401, world.cancelled_4401, world.other_supplier_project):
        assert not projects[pid].under_recheck
    # a registered project joins its city's current draw with the cascade's reason and a checklist
    assert projects[world.registered_4401].status == ProjectStatus.SAMPLED
    assert result.sampled_project_ids == [world.registered_4401]
    assert result.unsampled_project_ids == [world.registered_4403]  # 4403 runs no campaign
    assert projects[world.registered_4403].status == ProjectStatus.REGISTERED
    assert projects[world.scheduled_4406].status == ProjectStatus.SCHEDULED  # its booking stands
    async with transaction(db.factory) as s:
        entry = await s.scalar(select(DrawEntry).where(DrawEntry.project_id == world.registered_4401))
        assert entry is not None
        assert entry.reasons == ["recheck"]
        assert entry.facts["note"] == "违规连带重点核查"
        assert await s.scalar(
            select(func.count(ChecklistItem.id)).where(ChecklistItem.project_id == world.registered_4401)
        )
        bars = (await s.scalars(select(Bar).order_by(Bar.id))).all()
        assert [(b.party_kind, b.party_id, b.starts_on, b.ends_on) for b in bars] == [
            (PartyKind.ENTERPRISE, world.enterprise, NOW.date(), UNTIL),
            (PartyKind.SUPPLIER, world.supplier, NOW.date(), UNTIL),
        ]
        enterprise = await s.get(Enterprise, world.enterprise)
        assert enterprise is not None
        assert enterprise.barred_until == UNTIL
        assert await is_barred(s, "supplier", world.supplier, UNTIL)
        assert not await is_barred(s, "supplier", world.supplier, UNTIL + dt.timedelta(days=1))
        assert not await is_barred(s, "enterprise", world.enterprise, NOW.date() - dt.timedelta(days=1))
        entries = (await s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(2))).all()
    supplier = await supplier_row(db, world.supplier)
    assert not supplier.listed
    assert supplier.delisted_at == NOW
    assert supplier.barred_until == UNTIL
    # the audit log holds every change, enough to replay the cascade
    cascade, outcome = entries
    assert (outcome.action, cascade.action) == ("project.outcome", "cascade.apply")
    details = cascade.details
    assert details["delisted"] is True
    assert [b["until"] for b in details["bars"]] == [UNTIL.isoformat()] * 2
    changes = {c["project"]: (c["status_before"], c["status"], c["draw_entry"]) for c in details["rechecks"]}
    assert changes[world.registered_4401] == ("registered", "sampled", entry.id)
    assert changes[world.qualified_4405] == ("qualified", "qualified", None)


async def test_the_planner_places_the_rechecks_and_the_cities_are_told(db: Database) -> None:
    world = await build_world(db)
    result = await _violation(db, world)
    async with transaction(db.factory) as s:
        handover = await after_outcome(s, result, NOW)
        notices = (await s.scalars(select(Notice).order_by(Notice.id))).all()
    # the two re-checks still to book (sampled, in a published draw) are placed around the booked one
    assert set(handover.placed) == {world.registered_4401, world.sampled_4404}
    assert handover.unplaced == []
    assert all(start.date() <= dt.date(2020, 6, 30) for start in handover.placed.values())
    by_city = {(n.city_code, n.channel, n.status) for n in notices}
    assert ("4401", "email", "pending") in by_city
    assert {c for c, _, _ in by_city} == set(result.cities_notified)
    assert ("4403", "none", "no_address") in by_city  # no coordinator with an address: the gap shows
    mail = next(n for n in notices if n.channel == "email")
    assert mail.address == "coord4401@example.cn"
    assert "重点核查" in mail.subject
    assert "违规云科技有限公司" in mail.body


async def test_booking_refuses_the_barred_parties_except_for_their_rechecks(db: Database) -> None:
    world = await build_world(db)
    await _violation(db, world)
    async with transaction(db.factory) as s:
        barred = await s.get(Supplier, world.supplier)
        assert barred is not None
        fresh = await add_project(s, barred, city="4404")  # sampled, not under re-check
        fresh_id = fresh.id
    with pytest.raises(DomainError) as refused:
        async with transaction(db.factory) as s:
            await book_session(
                s, world.admin, NewSession(fresh_id, local(15, 9), local(15, 10), world.experts[:3]), now=NOW
            )
    assert refused.value.code == "party_barred"
    assert "违规云科技有限公司" in refused.value.message.zh
    async with transaction(db.factory) as s:  # the re-check itself is booked
        check = await book_session(
            s,
            world.admin,
            NewSession(world.registered_4401, local(15, 9), local(15, 10), world.experts[:3]),
            now=NOW,
        )
        assert check.id


async def test_a_project_that_is_not_checked_cannot_be_a_violation(db: Database) -> None:
    world = await build_world(db)
    with pytest.raises(DomainError):
        async with transaction(db.factory) as s:
            await apply_outcome(
                s, Actor.of(world.coordinator), world.registered_4403, Outcome.VIOLATION, at=NOW
            )
    async with transaction(db.factory) as s:
        assert await s.scalar(select(func.count(Bar.id))) == 0


async def test_the_cities_notices_go_out_once_through_the_runner(db: Database, tmp_path: Path) -> None:
    world = await build_world(db)
    result = await _violation(db, world)
    async with transaction(db.factory) as s:
        await after_outcome(s, result, NOW, wecom_cities=["4401"])
    async with smtp_server() as (mailbox, port), wecom_robot() as robot:
        settings = notify_settings(db, tmp_path, port, robot)
        async with job_runner(db, settings, FixedClock(NOW)) as runner:
            await runner.run_due()
            await runner.run_due()
    [mail] = mailbox.to("coord4401@example.cn")
    assert "重点核查" in str(mail["Subject"])
    assert "违规云科技有限公司" in text_of(mail)
    [hook] = robot.received["4401"]
    assert "重点核查" in hook["markdown"]["content"]
    async with transaction(db.factory) as s:
        statuses = sorted({(n.channel, n.status) for n in (await s.scalars(select(Notice))).all()})
    assert statuses == [("email", "sent"), ("none", "no_address"), ("wecom", "sent")]


async def test_the_import_refuses_a_party_the_violation_barred(db: Database) -> None:
    async with transaction(db.factory) as s:
        enterprise = Enterprise(
            name=row(1)["enterprise_name"], credit_code=row(1)["enterprise_credit_code"], city_code="4419"
        )
        s.add(enterprise)
        await s.flush()
        supplier = await add_supplier(s, "另一服务商有限公司")
        checked = await add_project(
            s, supplier, enterprise=enterprise, city="4419", status=ProjectStatus.CHECKED
        )
        await apply_outcome(s, Actor.cli(), checked.id, Outcome.VIOLATION, at=NOW)
    reader = UploadReader()
    try:
        with pytest.raises(DomainError) as refused:
            await import_upload(
                reader,
                Databases(write=db.factory, read=make_reader(db.engine)),
                "projects.csv",
                csv_file([row(1)]),
                actor=Actor("user:1", "4419"),
                now=NOW + dt.timedelta(days=30),
            )
    finally:
        await reader.close()
    assert found(refused.value.details) == {(2, "enterprise_credit_code", "enterprise_barred")}
    assert UNTIL.isoformat() in refused.value.details[0]["zh"]


async def test_many_checklists_at_once_are_the_checklists_one_at_a_time(db: Database) -> None:
    fields = ("code", "standard", "position", "title_zh", "title_en", "guidance_zh", "evidence_zh", "result")
    async with transaction(db.factory) as s:
        supplier = await add_supplier(s, "清单服务商有限公司")
        one = await add_project(s, supplier, status=ProjectStatus.SAMPLED)
        many = [await add_project(s, supplier, status=ProjectStatus.SAMPLED) for _ in range(3)]
        await create_items(s, one, Thresholds())
        made = await create_items_many(s, [(p, Thresholds()) for p in [*many, one]])
        expected = {
            p.id: [
                tuple(getattr(spec, f) for f in fields[:-1])
                for spec in build_items(*await project_facts(s, p, Thresholds()))
            ]
            for p in many
        }
        items = (await s.scalars(select(ChecklistItem).order_by(ChecklistItem.position))).all()
    assert made[one.id] == 0  # it had its checklist, which it keeps
    for p in many:
        rows = [i for i in items if i.project_id == p.id]
        assert made[p.id] == len(rows) == len(expected[p.id]) > 0
        assert [tuple(getattr(i, f) for f in fields[:-1]) for i in rows] == expected[p.id]
        assert {i.result for i in rows} == {ItemResult.PENDING}


async def test_a_qualified_project_under_recheck_is_checked_again_and_then_may_be_paid(db: Database) -> None:
    """A qualified project not yet paid that its supplier's violation puts under re-check is booked
    for its re-check (it was stuck: not bookable, not payable); the re-check's outcome ends it."""
    world = await build_world(db)
    await _violation(db, world)
    async with transaction(db.factory) as s:
        assert (await candidates(s, "4405", today=NOW.date()))[0].under_recheck  # not paid meanwhile
        check = await book_session(
            s,
            world.admin,
            NewSession(world.qualified_4405, local(15, 9), local(15, 10), world.experts[:3]),
            now=NOW,
        )
        assert check.id
    projects = await _projects(db)
    assert projects[world.qualified_4405].status == ProjectStatus.SCHEDULED
    async with transaction(db.factory) as s:  # what the held call does to the project
        held = await s.get(VoucherProject, world.qualified_4405)
        assert held is not None
        held.status = ProjectStatus.CHECKED
    async with transaction(db.factory) as s:
        await apply_outcome(s, Actor.of(world.coordinator), world.qualified_4405, Outcome.QUALIFIED, at=NOW)
        again = await candidates(s, "4405", today=NOW.date())
        entry = (
            await s.scalars(
                select(AuditEntry).where(AuditEntry.action == "project.outcome").order_by(AuditEntry.seq)
            )
        ).all()[-1]
    assert [(c.project_id, c.under_recheck) for c in again] == [(world.qualified_4405, False)]
    assert entry.details["recheck_concluded"] is True
