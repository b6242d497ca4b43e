"""Campaigns and draws on both databases: drafts, publishing (then immutable), redo, export, audit."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor, verify_log
from remote_check.campaigns import review, service
from remote_check.campaigns.models import Campaign, CampaignStatus, Draw, DrawEntry, DrawStatus
from remote_check.campaigns.sampling import Target, Thresholds
from remote_check.checklist.models import ChecklistItem
from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.errors import DomainError
from remote_check.programme.models import ProjectStatus, VoucherProject
from tests.conftest import Database
from tests.factories import add_project, add_supplier

ACTOR = Actor("user:1", "4419")
T = Thresholds()


async def _campaign(db: Database, clock: FixedClock, city: str = "4419") -> int:
    async with transaction(db.factory) as session:
        campaign = await service.create_campaign(
            session,
            service.NewCampaign(city, "2019", Decimal("500000.00"), dt.date(2020, 6, 30)),
            actor=ACTOR,
            now=clock.now(),
            created_by=None,
        )
        return campaign.id


async def _city(db: Database) -> dict[str, int]:
    """Dongguan: 20 plain projects of supplier A, one of B, and one of each stratum; noise elsewhere."""
    async with transaction(db.factory) as session:
        a = await add_supplier(session, "甲云科技有限公司")
        b = await add_supplier(session, "乙数据有限公司")
        for _ in range(20):
            await add_project(session, a)
        ids = {
            "b": (await add_project(session, b)).id,
            "pricey": (await add_project(session, a, contract=Decimal("180000.00"))).id,
            "underpaid": (await add_project(session, a, paid=Decimal("50000.00"))).id,
            "no_logs": (await add_project(session, a, has_usage_logs=False)).id,
            "recheck": (await add_project(session, a, under_recheck=True)).id,
            "funded": (await add_project(session, a, status=ProjectStatus.FUNDED)).id,
            "foshan": (await add_project(session, a, city_code="4406")).id,
        }
    return ids


async def _draw(db: Database, clock: FixedClock, campaign_id: int, **kw: object) -> int:
    async with transaction(db.factory) as session:
        campaign = await service.get_campaign(session, campaign_id)
        draw = await service.create_draw(
            session,
            campaign,
            target=kw.get("target", Target(ratio=Decimal("0.2"))),  # type: ignore[arg-type]
            seed=kw.get("seed", "dg-2019"),  # type: ignore[arg-type]
            thresholds=T,
            actor=ACTOR,
            now=clock.now(),
            created_by=None,
        )
        return draw.id


async def _actions(db: Database) -> list[str]:
    async with db.factory() as session:
        return list((await session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))).all())


async def test_campaign_is_one_per_city_and_period(db: Database, clock: FixedClock) -> None:
    await _campaign(db, clock)
    with pytest.raises(DomainError) as twice:
        await _campaign(db, clock)
    assert twice.value.status == 409
    with pytest.raises(DomainError) as unknown:
        await _campaign(db, clock, city="9999")
    assert unknown.value.status == 422
    assert await _actions(db) == ["campaign.create"]


async def test_draft_draw_takes_the_citys_registered_projects_with_reasons(
    db: Database, clock: FixedClock
) -> None:
    ids = await _city(db)
    draw_id = await _draw(db, clock, await _campaign(db, clock))
    async with db.factory() as session:
        draw = await session.get(Draw, draw_id)
        entries = (await session.scalars(select(DrawEntry).where(DrawEntry.draw_id == draw_id))).all()
    assert draw is not None
    assert draw.status == DrawStatus.DRAFT
    assert draw.population == 25  # 20 + B + 4 strata; not the funded one, not Foshan's
    reasons = {e.project_id: e.reasons for e in entries}
    assert reasons[ids["pricey"]] == ["price_over_listed", "price_over_peers"]
    assert reasons[ids["underpaid"]] == ["underpaid"]
    assert reasons[ids["no_logs"]] == ["no_usage_logs"]
    assert reasons[ids["recheck"]] == ["recheck"]
    assert reasons[ids["b"]] == ["supplier_coverage"]
    assert ids["funded"] not in reasons
    assert ids["foshan"] not in reasons
    assert len(entries) == 5  # ceil(0.2 * 25), all forced here
    pricey = next(e for e in entries if e.project_id == ids["pricey"])
    assert pricey.facts["ratio_to_listed"] == "1.8000"
    assert pricey.facts["peer_median"] == "100000.00"


async def test_publish_samples_the_projects_makes_checklists_and_is_then_immutable(
    db: Database, clock: FixedClock
) -> None:
    await _city(db)
    campaign_id = await _campaign(db, clock)
    draw_id = await _draw(db, clock, campaign_id, target=Target(count=8))
    async with transaction(db.factory) as session:
        await service.publish_draw(session, draw_id, actor=ACTOR, now=clock.now())
    async with db.factory() as session:
        drawn = list(
            (await session.scalars(select(DrawEntry.project_id).where(DrawEntry.draw_id == draw_id))).all()
        )
        statuses = {
            i: s for i, s in (await session.execute(select(VoucherProject.id, VoucherProject.status))).all()
        }
        codes = (
            await session.scalars(select(ChecklistItem.code).where(ChecklistItem.project_id == drawn[0]))
        ).all()
        items = await session.scalar(select(func.count()).select_from(ChecklistItem))
        campaign = await session.get(Campaign, campaign_id)
        draw = await session.get(Draw, draw_id)
    assert len(drawn) == 8
    assert {statuses[p] for p in drawn} == {ProjectStatus.SAMPLED}
    assert sum(1 for s in statuses.values() if s == ProjectStatus.SAMPLED) == 8
    assert sorted(codes) == sorted(["R1", "R2", "R3", "R4", "F1", "F2", "F3", "F4", "F5", "M1", "M2", "M3"])
    assert items == 8 * 12
    assert campaign is not None
    assert campaign.status == CampaignStatus.CHECKING
    assert draw is not None
    assert draw.published_at == clock.now()
    before = await _actions(db)
    assert before[-1] == "draw.publish"

    with pytest.raises(DomainError) as again:
        async with transaction(db.factory) as session:
            await service.publish_draw(session, draw_id, actor=ACTOR, now=clock.now())
    assert again.value.status == 409
    with pytest.raises(DomainError) as more:
        await _draw(db, clock, campaign_id, seed="another")
    assert more.value.status == 409
    assert await _actions(db) == before
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Draw)) == 1
        assert await verify_log(session) == []


async def test_redo_matches_even_after_publishing_changed_the_population(
    db: Database, clock: FixedClock
) -> None:
    await _city(db)
    draw_id = await _draw(db, clock, await _campaign(db, clock), target=Target(ratio=Decimal("0.5")))
    async with transaction(db.factory) as session:
        await service.publish_draw(session, draw_id, actor=ACTOR, now=clock.now())
    async with db.factory() as session:
        result = await review.redo_draw(session, draw_id)
    assert result.matches, result.problems
    assert result.recorded_sha256 == result.inputs_sha256


async def test_redo_finds_a_changed_list_or_changed_inputs(db: Database, clock: FixedClock) -> None:
    await _city(db)
    draw_id = await _draw(db, clock, await _campaign(db, clock))
    async with transaction(db.factory) as session:
        first = await session.scalar(
            select(DrawEntry).where(DrawEntry.draw_id == draw_id, DrawEntry.position == 1)
        )
        assert first is not None
        await session.delete(first)
    async with db.factory() as session:
        dropped = await review.redo_draw(session, draw_id)
    assert not dropped.matches
    assert "differs from the stored list" in dropped.problems[0].en

    async with transaction(db.factory) as session:
        draw = await session.get(Draw, draw_id)
        assert draw is not None
        inputs = dict(draw.inputs)
        inputs["candidates"] = inputs["candidates"][1:]
        await session.execute(update(Draw).where(Draw.id == draw_id).values(inputs=inputs))
    async with db.factory() as session:
        tampered = await review.redo_draw(session, draw_id)
    assert any("audit log" in p.en for p in tampered.problems)


async def test_publish_refuses_when_a_drawn_project_moved_on_and_changes_nothing(
    db: Database, clock: FixedClock
) -> None:
    ids = await _city(db)
    draw_id = await _draw(db, clock, await _campaign(db, clock))
    async with transaction(db.factory) as session:
        await session.execute(
            update(VoucherProject).where(VoucherProject.id == ids["b"]).values(status=ProjectStatus.FUNDED)
        )
    with pytest.raises(DomainError) as refused:
        async with transaction(db.factory) as session:
            await service.publish_draw(session, draw_id, actor=ACTOR, now=clock.now())
    assert refused.value.status == 409
    assert "has changed status" in refused.value.message.en
    async with db.factory() as session:
        sampled = await session.scalar(
            select(func.count())
            .select_from(VoucherProject)
            .where(VoucherProject.status == ProjectStatus.SAMPLED)
        )
        draw = await session.get(Draw, draw_id)
        items = await session.scalar(select(func.count()).select_from(ChecklistItem))
    assert sampled == 0
    assert draw is not None
    assert draw.status == DrawStatus.DRAFT
    assert items == 0


async def test_a_city_without_projects_cannot_draw(db: Database, clock: FixedClock) -> None:
    campaign_id = await _campaign(db, clock, city="4453")
    with pytest.raises(DomainError) as empty:
        await _draw(db, clock, campaign_id)
    assert empty.value.status == 422
    assert await _actions(db) == ["campaign.create"]


async def test_bad_seed_and_too_precise_ratio_are_refused(db: Database, clock: FixedClock) -> None:
    await _city(db)
    campaign_id = await _campaign(db, clock)
    with pytest.raises(DomainError) as seed:
        await _draw(db, clock, campaign_id, seed="has space")
    assert seed.value.details == [{"field": "seed"}]
    with pytest.raises(DomainError) as ratio:
        await _draw(db, clock, campaign_id, target=Target(ratio=Decimal("0.12345")))
    assert ratio.value.details == [{"field": "ratio"}]


async def test_export_is_a_csv_with_reasons_and_an_audited_read(db: Database, clock: FixedClock) -> None:
    ids = await _city(db)
    draw_id = await _draw(db, clock, await _campaign(db, clock))
    async with transaction(db.factory) as session:
        text = await review.export_csv(session, draw_id, actor=ACTOR, now=clock.now())
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][1] == "项目编号 Project"
    assert len(rows) == 1 + 5
    async with db.factory() as session:
        pricey = await session.get(VoucherProject, ids["pricey"])
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "draw.export"))
    assert pricey is not None
    line = next(r for r in rows if r[1] == pricey.code)
    assert line[8] == "1.8000"
    assert "合同价大幅超出产品定价" in line[14]
    assert "Contract far above the listed price" in line[15]
    assert entry is not None
    assert entry.target == f"draw:{draw_id}"
    assert entry.details["rows"] == 5
