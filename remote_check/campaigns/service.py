"""Campaigns and their draws: create a campaign, draw a draft, publish it (then it is immutable).

A draw freezes its inputs (every candidate's facts and the peer contracts) in ``Draw.inputs``
and the SHA-256 of those inputs in its ``draw.create`` audit entry, so that
:mod:`remote_check.campaigns.review` can redo it later and show that it matches.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.audit.service import Actor, record
from remote_check.campaigns.fields import checked_fields
from remote_check.campaigns.models import Campaign, CampaignStatus, Draw, DrawEntry, DrawMode, DrawStatus
from remote_check.campaigns.sampling import (
    ALGORITHM,
    Candidate,
    Contract,
    Target,
    Thresholds,
    candidate_to_json,
    contract_to_json,
    draw_sample,
    inputs_digest,
)
from remote_check.checklist.service import create_items
from remote_check.errors import Conflict, DomainError, Message, NotFound, invalid
from remote_check.programme.models import City, Product, ProjectStatus, VoucherProject
from remote_check.programme.status import can_move, check_move
from remote_check.settings import SamplingSettings

SEED = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
RATIO_PLACES = Decimal("0.0001")
# Statuses from which a project may be sampled (registered, today); re-check projects in them count too.
DRAWABLE = frozenset(s for s in ProjectStatus if can_move(s, ProjectStatus.SAMPLED))


def thresholds_from(settings: SamplingSettings) -> Thresholds:
    """The strata thresholds configured in the settings."""
    return Thresholds(
        price_over_listed=settings.price_over_listed,
        price_over_peers=settings.price_over_peers,
        min_paid_ratio=settings.min_paid_ratio,
    )


@dataclass(frozen=True)
class NewCampaign:
    city_code: str
    period: str
    budget: Decimal
    deadline: dt.date
    title: str = ""


async def create_campaign(
    session: AsyncSession, new: NewCampaign, *, actor: Actor, now: dt.datetime, created_by: int | None
) -> Campaign:
    """Open a campaign for a city and period; one per city and period."""
    city = await session.get(City, new.city_code)
    if city is None:
        raise invalid(
            f"未知城市代码 {new.city_code}", f"Unknown city code {new.city_code}", field="city_code"
        )
    fields = checked_fields(new.period, new.title, new.budget)
    period = fields.period
    taken = Conflict(
        Message(f"{city.name_zh}{period} 的抽查批次已存在", f"{city.name_en} already has a {period} campaign")
    )
    if await find_campaign(session, new.city_code, period) is not None:
        raise taken
    campaign = Campaign(
        city_code=new.city_code,
        period=period,
        title=fields.title or f"{city.name_zh}{period}年度服务券抽查",
        budget=new.budget,
        deadline=new.deadline,
        status=CampaignStatus.PLANNING,
        created_at=now,
        created_by=created_by,
    )
    try:
        # A savepoint: a campaign committed meanwhile by another transaction (the check above
        # cannot see it yet on PostgreSQL) fails the unique constraint; that is the same 409.
        async with session.begin_nested():
            session.add(campaign)
            await session.flush()
    except IntegrityError:
        raise taken from None
    await record(
        session,
        actor,
        "campaign.create",
        f"campaign:{campaign.id}",
        at=now,
        city_code=campaign.city_code,
        details={"period": period, "budget": new.budget, "deadline": new.deadline.isoformat()},
    )
    return campaign


async def find_campaign(session: AsyncSession, city_code: str, period: str) -> Campaign | None:
    return await session.scalar(
        select(Campaign).where(Campaign.city_code == city_code, Campaign.period == period)
    )


async def get_campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("抽查批次", "Campaign")
    return campaign


async def list_draws(session: AsyncSession, campaign_id: int) -> list[Draw]:
    return list(
        (await session.scalars(select(Draw).where(Draw.campaign_id == campaign_id).order_by(Draw.id))).all()
    )


async def get_draw(session: AsyncSession, draw_id: int) -> tuple[Draw, Campaign]:
    draw = await session.get(Draw, draw_id)
    if draw is None:
        raise NotFound("抽查名单", "Draw")
    return draw, await get_campaign(session, draw.campaign_id)


def draw_target(draw: Draw) -> Target:
    return Target(ratio=draw.ratio) if draw.mode == DrawMode.RATIO else Target(count=draw.count)


async def gather_inputs(session: AsyncSession, city_code: str) -> tuple[list[Candidate], list[Contract]]:
    """The city's drawable projects, and the other contracts of the same suppliers' products."""
    rows = (
        await session.execute(
            select(VoucherProject, Product.listed_price)
            .join(Product, Product.id == VoucherProject.product_id)
            .where(
                VoucherProject.city_code == city_code,
                or_(
                    VoucherProject.status == ProjectStatus.REGISTERED,
                    and_(VoucherProject.under_recheck.is_(True), VoucherProject.status.in_(DRAWABLE)),
                ),
            )
            .order_by(VoucherProject.id)
        )
    ).all()
    candidates = [
        Candidate(
            id=p.id,
            supplier_id=p.supplier_id,
            product_id=p.product_id,
            contract_amount=p.contract_amount,
            listed_price=listed,
            amount_paid=p.amount_paid,
            has_usage_logs=p.has_usage_logs,
            under_recheck=p.under_recheck,
        )
        for p, listed in rows
    ]
    ids = {c.id for c in candidates}
    products = {c.product_id for c in candidates}
    contracts: list[Contract] = []
    if products:
        peers = await session.execute(
            select(
                VoucherProject.id,
                VoucherProject.supplier_id,
                VoucherProject.product_id,
                VoucherProject.contract_amount,
            )
            .where(VoucherProject.product_id.in_(products))
            .order_by(VoucherProject.id)
        )
        contracts = [Contract(*row) for row in peers.all() if row[0] not in ids]
    return candidates, contracts


async def create_draw(
    session: AsyncSession,
    campaign: Campaign,
    *,
    target: Target,
    seed: str | None,
    thresholds: Thresholds,
    actor: Actor,
    now: dt.datetime,
    created_by: int | None,
) -> Draw:
    """Draw a draft sample of the campaign's city; a campaign with a published draw gets no more."""
    if seed is None:
        seed = secrets.token_hex(8)
    if not SEED.match(seed):
        raise invalid(
            "随机种子须为 1-64 位字母、数字或 . _ : -",
            "The seed is 1-64 letters, digits or . _ : -",
            field="seed",
        )
    if target.ratio is not None and target.ratio != target.ratio.quantize(RATIO_PLACES):
        raise invalid("抽取比例最多 4 位小数", "The ratio has at most 4 decimals", field="ratio")
    campaign = await lock_campaign(session, campaign.id)
    if campaign.status == CampaignStatus.CLOSED:
        raise Conflict(Message("抽查批次已结束", "The campaign is closed"))
    await _refuse_if_published(session, campaign.id)
    candidates, contracts = await gather_inputs(session, campaign.city_code)
    if not candidates:
        raise invalid("该市没有可抽取的项目", "The city has no project to draw from", field="city_code")
    result = draw_sample(candidates, seed=seed, target=target, thresholds=thresholds, contracts=contracts)
    inputs = {
        "algorithm": ALGORITHM,
        "candidates": [candidate_to_json(c) for c in sorted(candidates, key=lambda c: c.id)],
        "contracts": [contract_to_json(c) for c in contracts],
    }
    draw = Draw(
        campaign_id=campaign.id,
        seed=seed,
        mode=DrawMode.RATIO if target.ratio is not None else DrawMode.COUNT,
        ratio=target.ratio,
        count=target.count,
        thresholds=thresholds.as_dict(),
        inputs=inputs,
        population=result.population,
        status=DrawStatus.DRAFT,
        created_at=now,
        created_by=created_by,
    )
    session.add(draw)
    await session.flush()
    session.add_all(
        DrawEntry(
            draw_id=draw.id,
            project_id=e.project_id,
            position=e.position,
            reasons=list(e.reasons),
            facts=e.facts,
        )
        for e in result.entries
    )
    await session.flush()
    await record(
        session,
        actor,
        "draw.create",
        f"draw:{draw.id}",
        at=now,
        city_code=campaign.city_code,
        details={
            "campaign_id": campaign.id,
            "algorithm": ALGORITHM,
            "seed": seed,
            "mode": draw.mode.value,
            "ratio": target.ratio,
            "count": target.count,
            "thresholds": draw.thresholds,
            "population": result.population,
            "target": result.target,
            "size": len(result.entries),
            "forced": result.forced,
            "exceeds_target": result.exceeds_target,
            "inputs_sha256": inputs_digest(inputs),
        },
    )
    return draw


async def lock_campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    """The campaign's row, locked until the end of the transaction and read afresh.

    Drawing and publishing lock it first, so that two of them for one campaign run one after
    the other on PostgreSQL: the second sees what the first committed (on SQLite every
    transaction is ``BEGIN IMMEDIATE``, so writers already run one at a time).
    """
    campaign = await session.scalar(
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if campaign is None:
        raise NotFound("抽查批次", "Campaign")
    return campaign


async def _refuse_if_published(session: AsyncSession, campaign_id: int) -> None:
    published = await session.scalar(
        select(Draw.id).where(Draw.campaign_id == campaign_id, Draw.status == DrawStatus.PUBLISHED)
    )
    if published is not None:
        raise _published_conflict(published)


def _published_conflict(published: int | None) -> Conflict:
    which_zh = f"（第 {published} 号）" if published is not None else ""
    which_en = f" (draw {published})" if published is not None else ""
    return Conflict(
        Message(
            f"该批次已发布抽查名单{which_zh}，不能再抽取或发布",
            f"The campaign's sample is already published{which_en}; it cannot change",
        )
    )


async def entries_of(session: AsyncSession, draw_id: int) -> list[DrawEntry]:
    rows = await session.scalars(
        select(DrawEntry).where(DrawEntry.draw_id == draw_id).order_by(DrawEntry.position)
    )
    return list(rows.all())


async def publish_draw(session: AsyncSession, draw_id: int, *, actor: Actor, now: dt.datetime) -> Draw:
    """Publish a draft: its projects become ``sampled`` and get their checklists; then it is immutable.

    The campaign's row is locked first (then the draw's), so that of two drafts published at
    once exactly one is; the other is refused with a 409. The partial unique index on published
    draws backs this up in the database itself.
    """
    campaign_id = await session.scalar(select(Draw.campaign_id).where(Draw.id == draw_id))
    if campaign_id is None:
        raise NotFound("抽查名单", "Draw")
    campaign = await lock_campaign(session, campaign_id)
    draw = await session.scalar(
        select(Draw).where(Draw.id == draw_id).with_for_update().execution_options(populate_existing=True)
    )
    if draw is None:
        raise NotFound("抽查名单", "Draw")
    if draw.status == DrawStatus.PUBLISHED:
        raise Conflict(
            Message("抽查名单已发布，不能更改或重新发布", "The draw is published and cannot change")
        )
    await _refuse_if_published(session, campaign.id)
    thresholds = Thresholds.from_dict(draw.thresholds)
    entries = await entries_of(session, draw.id)
    projects = {
        p.id: p
        for p in await session.scalars(
            select(VoucherProject)
            .where(VoucherProject.id.in_([e.project_id for e in entries]))
            .with_for_update()
        )
    }
    for entry in entries:
        project = projects[entry.project_id]
        try:
            check_move(project.status, ProjectStatus.SAMPLED)
        except DomainError as exc:
            raise Conflict(
                Message(
                    f"项目 {project.code} 的状态已改变，请重新抽取：{exc.message.zh}",
                    f"Project {project.code} has changed status; draw again: {exc.message.en}",
                )
            ) from None
        project.status = ProjectStatus.SAMPLED
    items = 0
    for entry in entries:
        items += len(await create_items(session, projects[entry.project_id], thresholds))
    draw.status = DrawStatus.PUBLISHED
    draw.published_at = now
    if campaign.status == CampaignStatus.PLANNING:
        campaign.status = CampaignStatus.CHECKING
    try:
        await session.flush()
    except IntegrityError:
        # Only the one-published-draw index can fail here; the campaign lock makes it a backstop.
        raise _published_conflict(None) from None
    await record(
        session,
        actor,
        "draw.publish",
        f"draw:{draw.id}",
        at=now,
        city_code=campaign.city_code,
        details={
            "campaign_id": campaign.id,
            "projects": [e.project_id for e in entries],
            "status": ProjectStatus.SAMPLED.value,
            "checklist_items": items,
        },
    )
    return draw


async def draw_sizes(session: AsyncSession, draw_ids: list[int]) -> dict[int, int]:
    """How many projects each draw holds."""
    if not draw_ids:
        return {}
    rows = await session.execute(
        select(DrawEntry.draw_id, func.count())
        .where(DrawEntry.draw_id.in_(draw_ids))
        .group_by(DrawEntry.draw_id)
    )
    return {draw_id: int(n) for draw_id, n in rows.all()}
