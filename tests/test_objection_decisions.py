"""Objections beyond the first, on SQLite and PostgreSQL: one party objecting twice at once, and
overturning a violation that leaves alone what its cascade did not start."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.audit.service import Actor
from remote_check.database import transaction
from remote_check.errors import DomainError
from remote_check.outcomes.cascade import apply_outcome
from remote_check.outcomes.kinds import Outcome, ViolationKind
from remote_check.outcomes.sanction_models import Notice, Objection, PartyKind, Publication
from remote_check.outcomes.undo import undo_cascade
from remote_check.programme.models import ProjectStatus, Supplier, VoucherProject
from scheduler.models import CheckSession, SessionStatus
from scheduler.objection_decisions import decide
from scheduler.objection_links import ObjectionLink, sign
from scheduler.objections import publish_results, submit_objection
from scheduler.service import NewSession, book_session
from tests.conftest import Database
from tests.sanction_world import NOW, World, build_world, supplier_row
from tests.scheduling_factories import local
from tests.test_campaign_races import race

SECRET = b"k" * 32
UNTIL = dt.date(2020, 4, 17)  # published Friday 10 April: five working days


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


def _link(publication: Publication, world: World, party: PartyKind) -> str:
    return sign(ObjectionLink(publication.id, world.violator, party, UNTIL), SECRET)


async def test_one_party_objecting_twice_at_once_stores_one_objection(db: Database) -> None:
    world = await build_world(db)
    token = _link(await _publish(db, world), world, PartyKind.SUPPLIER)

    async def submit(s: AsyncSession) -> None:
        await submit_objection(s, token, city_code="4401", text="价格合理", files=[], secret=SECRET, now=NOW)

    second = await race(db, submit, submit)
    assert isinstance(second, DomainError)
    assert second.status == 409
    assert second.message.en == "An objection was submitted already; await its decision"
    async with db.factory() as s:
        assert await s.scalar(select(func.count(Objection.id))) == 1


async def _object(db: Database, publication: Publication, world: World, party: PartyKind) -> int:
    async with transaction(db.factory) as s:
        objection = await submit_objection(
            s,
            _link(publication, world, party),
            city_code="4401",
            text="价格合理",
            files=[],
            secret=SECRET,
            now=NOW,
        )
        return objection.id


async def test_overturning_cancels_only_the_checks_its_cascade_added(db: Database) -> None:
    world = await build_world(db)
    publication = await _publish(db, world)
    async with transaction(db.factory) as s:  # 4404 books its own sampled project's ordinary check
        ordinary = await book_session(
            s,
            world.admin,
            NewSession(world.sampled_4404, local(16, 9), local(16, 10), world.experts[:3]),
            now=NOW + dt.timedelta(hours=1),
        )
    async with transaction(db.factory) as s:  # and 4401 the re-check the cascade added to its sample
        recheck = await book_session(
            s,
            world.admin,
            NewSession(world.registered_4401, local(15, 9), local(15, 10), world.experts[:3]),
            now=NOW + dt.timedelta(hours=2),
        )
    async with transaction(db.factory) as s:  # and 4405 the re-check of its qualified project not yet paid
        requalify = await book_session(
            s,
            world.admin,
            NewSession(world.qualified_4405, local(17, 9), local(17, 10), world.experts[:3]),
            now=NOW + dt.timedelta(hours=3),
        )
    objection_id = await _object(db, publication, world, PartyKind.SUPPLIER)
    async with transaction(db.factory) as s:
        _objection, undone = await decide(
            s,
            world.coordinator,
            objection_id,
            uphold=False,
            reason="价格有同类合同佐证",
            new_outcome=Outcome.QUALIFIED,
            now=NOW + dt.timedelta(days=1),
        )
    assert undone is not None
    async with transaction(db.factory) as s:
        statuses = {
            c.id: c.status
            for c in (
                await s.scalars(
                    select(CheckSession).where(CheckSession.id.in_([ordinary.id, recheck.id, requalify.id]))
                )
            )
        }
        sampled = await s.get(VoucherProject, world.sampled_4404)
        registered = await s.get(VoucherProject, world.registered_4401)
        qualified = await s.get(VoucherProject, world.qualified_4405)
        assert sampled is not None
        assert registered is not None
        assert qualified is not None
        assert (sampled.status, sampled.under_recheck) == (ProjectStatus.SCHEDULED, False)
        assert (registered.status, registered.under_recheck) == (ProjectStatus.REGISTERED, False)
        assert (qualified.status, qualified.under_recheck) == (ProjectStatus.QUALIFIED, False)
    assert statuses == {
        ordinary.id: SessionStatus.BOOKED,
        recheck.id: SessionStatus.CANCELLED,
        requalify.id: SessionStatus.CANCELLED,
    }


async def test_a_supplier_whose_violations_are_all_overturned_is_listed_again(db: Database) -> None:
    world = await build_world(db)
    cascades = []
    for project_id, at in ((world.violator, NOW), (world.qualified_4405, NOW + dt.timedelta(days=1))):
        async with transaction(db.factory) as s:
            result = await apply_outcome(s, Actor.of(world.coordinator), project_id, Outcome.VIOLATION, at=at)
            cascades.append(result.cascade_id)
    assert [c is not None for c in cascades] == [True, True]
    for step, cascade_id in enumerate(cascades):  # the first, which delisted the supplier, goes first
        assert cascade_id is not None
        async with transaction(db.factory) as s:
            undone = await undo_cascade(
                s,
                Actor.of(world.admin),
                cascade_id,
                at=NOW + dt.timedelta(days=2),
                user_id=world.admin.user_id,
                reason="异议成立",
            )
        supplier = await supplier_row(db, world.supplier)
        if step == 0:  # the second violation still stands
            assert not undone.relisted
            assert (supplier.listed, supplier.barred_until) == (False, dt.date(2025, 4, 10))
        else:
            assert undone.relisted
            assert (supplier.listed, supplier.delisted_at, supplier.barred_until) == (True, None, None)


async def _decide(db: Database, world: World, objection_id: int, **kwargs: Any) -> Objection:
    async with transaction(db.factory) as s:
        objection, _undone = await decide(
            s, world.coordinator, objection_id, now=NOW + dt.timedelta(days=1), **kwargs
        )
        return objection


async def _told(db: Database, objection: Objection) -> str:
    async with transaction(db.factory) as s:
        found = await s.scalar(
            select(Notice.body)
            .where(Notice.kind == "objection", Notice.recipient.startswith(objection.party_kind.value))
            .order_by(Notice.id.desc())
            .limit(1)
        )
    assert found is not None
    return found


@pytest.mark.parametrize("uphold", [True, False])
async def test_the_other_partys_objection_is_decided_against_the_outcome_now(
    db: Database, uphold: bool
) -> None:
    """The enterprise's objection turned the violation into qualified: the supplier's, objecting to
    the same violation, is closed against the outcome now, whichever way it is decided."""
    world = await build_world(db)
    publication = await _publish(db, world)
    first = await _object(db, publication, world, PartyKind.ENTERPRISE)
    second = await _object(db, publication, world, PartyKind.SUPPLIER)
    await _decide(db, world, first, uphold=False, reason="合同价格属实", new_outcome=Outcome.QUALIFIED)
    with pytest.raises(DomainError) as harsher:  # lighter than the violation objected to, not than now
        await _decide(db, world, second, uphold=False, reason="x", new_outcome=Outcome.UNQUALIFIED)
    assert harsher.value.status == 422
    if uphold:
        closed = await _decide(db, world, second, uphold=True, reason="已在企业异议中处理")
    else:
        closed = await _decide(
            db, world, second, uphold=False, reason="已在企业异议中处理", new_outcome=Outcome.QUALIFIED
        )
    body = await _told(db, closed)
    assert "该结论已在处理另一异议时改为“合格”" in body
    assert "结论为“合格”" in body
    assert "违规" not in body
    assert "changed to Qualified" in body
    async with transaction(db.factory) as s:
        project = await s.get(VoucherProject, world.violator)
        assert project is not None
        assert project.status == ProjectStatus.QUALIFIED
        supplier = await s.get(Supplier, world.supplier)
        assert supplier is not None
        assert (supplier.listed, supplier.barred_until) == (True, None)


async def test_an_objection_may_lighten_the_outcome_now_further(db: Database) -> None:
    world = await build_world(db)
    publication = await _publish(db, world)
    first = await _object(db, publication, world, PartyKind.ENTERPRISE)
    second = await _object(db, publication, world, PartyKind.SUPPLIER)
    await _decide(db, world, first, uphold=False, reason="不构成骗补", new_outcome=Outcome.UNQUALIFIED)
    with pytest.raises(DomainError) as same:
        await _decide(db, world, second, uphold=False, reason="x", new_outcome=Outcome.VIOLATION)
    assert same.value.status == 422
    closed = await _decide(db, world, second, uphold=False, reason="交付完整", new_outcome=Outcome.QUALIFIED)
    assert closed.new_outcome == Outcome.QUALIFIED.value
    body = await _told(db, closed)
    assert "改为“不合格”，撤销现结论，结论为“合格”" in body
    async with transaction(db.factory) as s:
        project = await s.get(VoucherProject, world.violator)
        assert project is not None
        assert project.status == ProjectStatus.QUALIFIED
