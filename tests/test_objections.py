"""Publication of a city's results (公布反馈) and objections (异议), on SQLite and PostgreSQL: the list
and its files, the parties told, the signed link (late, forged, another city's), the files checked by
content, and an overturned violation undoing exactly what its cascade did."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor
from remote_check.campaigns.models import DrawEntry
from remote_check.checklist.models import ChecklistItem
from remote_check.database import transaction
from remote_check.errors import DomainError
from remote_check.outcomes.bars import is_barred
from remote_check.outcomes.cascade import apply_outcome
from remote_check.outcomes.kinds import Outcome, ViolationKind
from remote_check.outcomes.publication import csv_file, rows_of, xlsx_file
from remote_check.outcomes.sanction_models import (
    Bar,
    Notice,
    Objection,
    ObjectionFile,
    PartyKind,
    Publication,
)
from remote_check.programme.models import Enterprise, ProjectStatus, Supplier, VoucherProject
from scheduler.models import CheckSession, Guest, GuestKind, SessionStatus
from scheduler.objection_decisions import decide
from scheduler.objection_links import ObjectionLink, sign
from scheduler.objections import objection_deadline, publish_results, submit_objection
from scheduler.service import NewSession, book_session
from tests.conftest import Database
from tests.sanction_world import NOW, World, build_world
from tests.scheduling_factories import add_principal, local

SECRET = b"k" * 32
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
UNTIL = dt.date(2020, 4, 17)  # published Friday 10 April: five working days


def test_the_objection_period_counts_official_working_days() -> None:
    assert objection_deadline(dt.date(2020, 4, 10), 5) == UNTIL
    # the May Day holiday (1-5 May 2020) is skipped, the swapped Saturday 9 May counts
    assert objection_deadline(dt.date(2020, 4, 30), 2) == dt.date(2020, 5, 7)


async def _publish(db: Database, world: World) -> Publication:
    async with transaction(db.factory) as s:
        await apply_outcome(
            s,
            Actor.of(world.coordinator),
            world.violator,
            Outcome.VIOLATION,
            at=NOW,
            violation=ViolationKind.PRICE_INFLATED,
        )
        return await publish_results(s, world.coordinator, "4401", now=NOW, secret=SECRET)


def _link(publication: Publication, world: World, party: PartyKind = PartyKind.SUPPLIER) -> str:
    return sign(ObjectionLink(publication.id, world.violator, party, UNTIL), SECRET)


async def test_a_city_publishes_its_results_and_the_parties_are_told(db: Database) -> None:
    world = await build_world(db)
    async with transaction(db.factory) as s:  # the enterprise's guest gave an address for the check
        check = CheckSession(
            project_id=world.violator,
            city_code="4401",
            starts_at=local(8, 9),
            ends_at=local(8, 10),
            status=SessionStatus.DONE,
            created_at=NOW - dt.timedelta(days=5),
        )
        s.add(check)
        await s.flush()
        s.add(
            Guest(
                session_id=check.id,
                kind=GuestKind.ENTERPRISE,
                organisation="违规制造有限公司",
                name="张三",
                email="zhang@example.cn",
                phone="13800000000",
                link_nonce="0" * 32,
            )
        )
    publication = await _publish(db, world)
    assert publication.published_at == NOW
    assert publication.objections_until == UNTIL
    rows = rows_of(publication)
    assert [(r.code, r.outcome) for r in rows] == [(rows[0].code, Outcome.VIOLATION)]
    assert set(publication.rows[0]) == {
        "project_id",
        "code",
        "enterprise_id",
        "enterprise",
        "supplier_id",
        "supplier",
        "outcome",
    }  # no personal data
    text = csv_file(rows).decode("utf-8-sig")
    assert "违规云科技有限公司" in text
    assert "违规" in text
    assert "张三" not in text
    sheet = load_workbook(io.BytesIO(xlsx_file(rows, created=NOW))).active
    assert sheet is not None
    assert sheet.cell(2, 1).value == rows[0].code
    async with transaction(db.factory) as s:
        notices = (await s.scalars(select(Notice).where(Notice.kind == "result").order_by(Notice.id))).all()
        action = await s.scalar(select(AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(1))
    assert action == "results.publish"
    assert [(n.recipient.split(":")[0], n.status, n.address) for n in notices] == [
        ("enterprise", "pending", "zhang@example.cn"),
        ("supplier", "no_address", ""),  # no supplier guest gave an address: the gap shows
    ]
    assert "/objections/4401/" in notices[0].body


async def test_another_citys_coordinator_may_not_publish(db: Database) -> None:
    await build_world(db)
    async with transaction(db.factory) as s:
        other = await add_principal(s, "coord4403", Role.CITY_COORDINATOR, "4403")
    with pytest.raises(DomainError) as refused:
        async with transaction(db.factory) as s:
            await publish_results(s, other, "4401", now=NOW, secret=SECRET)
    assert refused.value.status == 403


async def _object(
    db: Database, token: str, *, city: str = "4401", files: Any = (), now: dt.datetime = NOW
) -> int:
    async with transaction(db.factory) as s:
        objection = await submit_objection(
            s, token, city_code=city, text="价格与市场价相符，附合同", files=files, secret=SECRET, now=now
        )
        return objection.id


async def _objections(db: Database) -> tuple[int, int]:
    async with transaction(db.factory) as s:
        return (
            int(await s.scalar(select(func.count(Objection.id))) or 0),
            int(await s.scalar(select(func.count(ObjectionFile.id))) or 0),
        )


async def test_an_objection_through_the_link_with_a_pdf(db: Database) -> None:
    world = await build_world(db)
    publication = await _publish(db, world)
    await _object(db, _link(publication, world), files=[("合同.pdf", PDF)], now=NOW + dt.timedelta(days=7))
    async with transaction(db.factory) as s:
        stored = await s.scalar(select(ObjectionFile))
        assert stored is not None
        assert (stored.media_type, stored.size) == ("application/pdf", len(PDF))
    with pytest.raises(DomainError) as twice:
        await _object(db, _link(publication, world))
    assert twice.value.status == 409


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("late", 410, "objection_late"),
        ("bad_file", 400, "bad_file"),
        ("wrong_city", 403, "objection_foreign"),
        ("forged", 403, "objection_forged"),
    ],
)
async def test_a_refused_objection_changes_nothing(db: Database, case: str, status: int, code: str) -> None:
    world = await build_world(db)
    publication = await _publish(db, world)
    token = _link(publication, world)
    kwargs: dict[str, Any] = {}
    if case == "late":
        kwargs["now"] = dt.datetime(2020, 4, 18, 0, 1, tzinfo=NOW.tzinfo)  # the day after the last
    elif case == "bad_file":
        kwargs["files"] = [("合同.pdf", b"MZ\x90\x00 an executable named .pdf")]
    elif case == "wrong_city":
        kwargs["city"] = "4403"
    else:
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    with pytest.raises(DomainError) as refused:
        await _object(db, token, **kwargs)
    assert (refused.value.status, refused.value.code) == (status, code)
    assert await _objections(db) == (0, 0)


async def _state(db: Database) -> dict[str, Any]:
    """What a cascade may change, to compare before and after."""
    async with transaction(db.factory) as s:
        projects = {
            p.id: (p.status, p.under_recheck) for p in (await s.scalars(select(VoucherProject))).all()
        }
        suppliers = {
            s_.id: (s_.listed, s_.delisted_at, s_.barred_until)
            for s_ in (await s.scalars(select(Supplier))).all()
        }
        enterprises = {e.id: e.barred_until for e in (await s.scalars(select(Enterprise))).all()}
        entries = sorted((e.draw_id, e.project_id) for e in (await s.scalars(select(DrawEntry))).all())
        items = dict(
            (
                await s.execute(
                    select(ChecklistItem.project_id, func.count()).group_by(ChecklistItem.project_id)
                )
            ).all()
        )
        sessions = {c.id: c.status for c in (await s.scalars(select(CheckSession))).all()}
    return {
        "projects": projects,
        "suppliers": suppliers,
        "enterprises": enterprises,
        "entries": entries,
        "items": items,
        "sessions": sessions,
    }


async def test_overturning_a_violation_undoes_exactly_its_cascade(db: Database) -> None:
    world = await build_world(db)
    before = await _state(db)
    publication = await _publish(db, world)
    async with transaction(db.factory) as s:  # a re-check booked after the violation, not yet held
        recheck = await book_session(
            s,
            world.admin,
            NewSession(world.registered_4401, local(15, 9), local(15, 10), world.experts[:3]),
            now=NOW + dt.timedelta(hours=1),
        )
    objection_id = await _object(db, _link(publication, world, PartyKind.ENTERPRISE))
    async with transaction(db.factory) as s:
        other = await add_principal(s, "coord4403", Role.CITY_COORDINATOR, "4403")
    with pytest.raises(DomainError) as foreign:  # another city's coordinator does not see it
        async with transaction(db.factory) as s:
            await decide(
                s, other, objection_id, uphold=False, reason="x", new_outcome=Outcome.QUALIFIED, now=NOW
            )
    assert foreign.value.status == 404
    with pytest.raises(DomainError) as harsher:  # overturning needs another, lighter outcome
        async with transaction(db.factory) as s:
            await decide(
                s,
                world.coordinator,
                objection_id,
                uphold=False,
                reason="x",
                new_outcome=Outcome.VIOLATION,
                now=NOW,
            )
    assert harsher.value.status == 422
    async with transaction(db.factory) as s:
        _objection, undone = await decide(
            s,
            world.coordinator,
            objection_id,
            uphold=False,
            reason="合同价格有同类合同佐证，不构成骗补",
            new_outcome=Outcome.UNQUALIFIED,
            now=NOW + dt.timedelta(days=3),
        )
    assert undone is not None
    after = await _state(db)
    # the project has its new outcome; the re-check booked since is cancelled; all else is as before
    assert after["projects"].pop(world.violator) == (ProjectStatus.UNQUALIFIED, False)
    before["projects"].pop(world.violator)
    assert after["sessions"].pop(recheck.id) == SessionStatus.CANCELLED
    assert after == before
    async with transaction(db.factory) as s:
        assert not await is_barred(s, PartyKind.SUPPLIER, world.supplier, NOW.date())
        bars = (await s.scalars(select(Bar))).all()
        assert all(b.lifted_at is not None and b.lift_reason for b in bars)
        actions = (await s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(4))).all()
    assert actions[:2] == ["objection.decide", "cascade.undo"]
    assert "session.cancel" in actions


async def test_upholding_keeps_the_cascade(db: Database) -> None:
    world = await build_world(db)
    publication = await _publish(db, world)
    objection_id = await _object(db, _link(publication, world))
    async with transaction(db.factory) as s:
        _objection, undone = await decide(
            s, world.coordinator, objection_id, uphold=True, reason="证据确凿", now=NOW
        )
    assert undone is None
    async with transaction(db.factory) as s:
        told = (await s.scalars(select(Notice).where(Notice.kind == "objection"))).all()
        assert [(n.recipient, n.status) for n in told] == [(f"supplier:{world.supplier}", "no_address")]
        assert "维持原结论" in told[0].body
        assert await is_barred(s, PartyKind.SUPPLIER, world.supplier, NOW.date())
        project = await s.get(VoucherProject, world.violator)
        assert project is not None
        assert project.status == ProjectStatus.VIOLATION


async def test_the_audit_entry_replays_the_cascade_exactly(db: Database) -> None:
    """Apply the ``cascade.apply`` entry's details to the state before: that is the state after."""
    world = await build_world(db)
    expected = await _state(db)
    async with transaction(db.factory) as s:
        await apply_outcome(s, Actor.of(world.coordinator), world.violator, Outcome.VIOLATION, at=NOW)
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "cascade.apply"))
        assert entry is not None
        draws = dict((await s.execute(select(DrawEntry.id, DrawEntry.draw_id))).all())
    details = entry.details
    expected["projects"][world.violator] = (ProjectStatus.VIOLATION, False)
    for change in details["rechecks"]:
        expected["projects"][change["project"]] = (ProjectStatus(change["status"]), True)
        if change["draw_entry"] is not None:
            expected["entries"].append((draws[change["draw_entry"]], change["project"]))
    expected["entries"].sort()
    listed, delisted_at, _ = expected["suppliers"][details["supplier"]]
    if details["delisted"]:
        listed, delisted_at = False, dt.datetime.fromisoformat(details["delisted_at"])
    until = dt.date.fromisoformat(details["barred_until"]["supplier"])
    expected["suppliers"][details["supplier"]] = (listed, delisted_at, until)
    for bar in details["bars"]:
        if bar["kind"] == "enterprise":
            expected["enterprises"][bar["party"]] = dt.date.fromisoformat(
                details["barred_until"]["enterprise"]
            )
    for change in details["rechecks"]:
        if change["checklist_items"]:
            expected["items"][change["project"]] = change["checklist_items"]
    assert await _state(db) == expected
