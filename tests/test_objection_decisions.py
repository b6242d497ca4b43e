"""Objections beyond the first, on SQLite and PostgreSQL: one party objecting twice at once, and
overturning a violation that leaves alone what its cascade did not start."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.audit.service import Actor
from remote_check.database import transaction
from remote_check.errors import DomainError
from remote_check.outcomes.cascade import apply_outcome
from remote_check.outcomes.kinds import Outcome, ViolationKind
from remote_check.outcomes.sanction_models import Objection, PartyKind, Publication
from scheduler.objection_links import ObjectionLink, sign
from scheduler.objections import publish_results, submit_objection
from tests.conftest import Database
from tests.sanction_world import NOW, World, build_world
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
