"""A city's report read from the database: the published sample, outcomes, sanctions and money.

The schedule needs the check sessions, which the core never reads: :mod:`scheduler.reporting`
reads them and passes them in as :class:`ScheduleRow` values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.campaigns.models import Campaign, Draw, DrawEntry, DrawStatus
from remote_check.campaigns.sampling import reason_label
from remote_check.clock import local
from remote_check.errors import DomainError, Message
from remote_check.programme.cities import BY_CODE
from remote_check.programme.models import BusinessArea, Enterprise, Product, Supplier, VoucherProject
from remote_check.reports import columns as C
from remote_check.reports.content import BUCKET_LABELS, Bucket, Report, ReportKind, Row, Section, bucket
from remote_check.reports.money import money_figures

AREA_ZH: dict[BusinessArea, str] = {
    BusinessArea.RD_DESIGN: "研发设计",
    BusinessArea.PRODUCTION_CONTROL: "生产管控",
    BusinessArea.BUSINESS_MANAGEMENT: "经营管理",
    BusinessArea.AFTER_SALES: "售后服务",
    BusinessArea.CLOUD_INFRASTRUCTURE: "云基础设施",
}


@dataclass(frozen=True)
class Sampled:
    """A project of the published sample, with what the reports say of it."""

    position: int
    project_id: int
    code: str
    enterprise: str
    supplier_id: int
    supplier: str
    supplier_code: str
    product: str
    area: BusinessArea
    contract_amount: Decimal
    voucher_amount: Decimal
    bucket: Bucket
    money: str
    reasons: tuple[str, ...]
    facts: dict[str, Any]  # the draw's facts behind the reasons (ratios as strings)


@dataclass(frozen=True)
class ScheduleRow:
    """A check session of a sampled project, as the plan lists it."""

    code: str
    enterprise: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    state: str
    panel: str  # the experts' names, the lead first


def city_name(city_code: str) -> str:
    city = BY_CODE.get(city_code)
    return city.name_zh + "市" if city else city_code


async def published_draw(session: AsyncSession, campaign_id: int) -> Draw | None:
    return await session.scalar(
        select(Draw).where(Draw.campaign_id == campaign_id, Draw.status == DrawStatus.PUBLISHED)
    )


def _no_sample() -> DomainError:
    return DomainError(
        Message("该批次尚未公布抽查名单，无法生成报告", "The campaign has no published sample to report on"),
        409,
        "no_sample",
    )


async def sampled_projects(session: AsyncSession, draw: Draw) -> list[Sampled]:
    """The published draw's projects in the draw's order."""
    rows = (
        await session.execute(
            select(DrawEntry, VoucherProject, Enterprise, Supplier, Product)
            .join(VoucherProject, VoucherProject.id == DrawEntry.project_id)
            .join(Enterprise, Enterprise.id == VoucherProject.enterprise_id)
            .join(Supplier, Supplier.id == VoucherProject.supplier_id)
            .join(Product, Product.id == VoucherProject.product_id)
            .where(DrawEntry.draw_id == draw.id)
            .order_by(DrawEntry.position)
        )
    ).all()
    money = {"funded": "已下达", "carried_over": "结转下期"}
    return [
        Sampled(
            position=i,
            project_id=p.id,
            code=p.code,
            enterprise=e.name,
            supplier_id=s.id,
            supplier=s.name,
            supplier_code=s.credit_code,
            product=product.name,
            area=product.business_area,
            contract_amount=p.contract_amount,
            voucher_amount=p.voucher_amount,
            bucket=bucket(p.status),
            money=money.get(p.status.value, ""),
            reasons=tuple(reason_label(r, "zh") for r in entry.reasons),
            facts=dict(entry.facts),
        )
        for i, (entry, p, e, s, product) in enumerate(rows, start=1)
    ]


def _draw_facts(campaign: Campaign, draw: Draw) -> list[tuple[str, str]]:
    size = f"比例 {draw.ratio}" if draw.ratio is not None else f"数量 {draw.count}"
    t = draw.thresholds
    limits = (
        f"合同价/定价 > {t.get('price_over_listed', '')}；"
        f"合同价/同类中位数 > {t.get('price_over_peers', '')}；支付比例 < {t.get('min_paid_ratio', '')}"
    )
    return [
        ("批次", campaign.title),
        ("随机种子", draw.seed),
        ("抽取方式", size),
        ("项目总数", str(draw.population)),
        ("必抽阈值", limits),
        ("公布时间", local(draw.published_at).strftime("%Y-%m-%d %H:%M") if draw.published_at else ""),
        ("资金下达截止日期", campaign.deadline.isoformat()),
    ]


def plan_report(
    campaign: Campaign,
    draw: Draw,
    sample: Sequence[Sampled],
    schedule: Sequence[ScheduleRow],
    *,
    made_at: dt.datetime,
) -> Report:
    """The plan (pure): the sample with its seed and reasons, then the schedule."""
    sample_rows: list[Row] = [
        {
            "position": s.position,
            "code": s.code,
            "enterprise": s.enterprise,
            "supplier": s.supplier,
            "product": s.product,
            "area": AREA_ZH[s.area],
            "contract_amount": s.contract_amount,
            "voucher_amount": s.voucher_amount,
            **{k: s.facts.get(k) or "" for k in ("ratio_to_listed", "ratio_to_peers", "paid_ratio")},
            "reasons": "；".join(s.reasons),
        }
        for s in sample
    ]
    schedule_rows: list[Row] = [
        {"position": i, **{k: getattr(r, k) for k in ("code", "enterprise", "starts_at", "ends_at", "state")}}
        | {"panel": r.panel}
        for i, r in enumerate(sorted(schedule, key=lambda r: (r.starts_at, r.code)), start=1)
    ]
    facts = [*_draw_facts(campaign, draw), ("已安排核查", f"{len(schedule_rows)} / {len(sample_rows)}")]
    return Report(
        ReportKind.PLAN,
        campaign.city_code,
        city_name(campaign.city_code),
        campaign.id,
        campaign.period,
        campaign.title,
        made_at,
        tuple(facts),
        (Section(C.SAMPLE, tuple(sample_rows)), Section(C.SCHEDULE, tuple(schedule_rows))),
    )


def _counts(projects: Sequence[Sampled]) -> dict[str, Any]:
    out: dict[str, Any] = {"sampled": len(projects)}
    for b in Bucket:
        out[b.value] = sum(p.bucket == b for p in projects)
    out["voucher_amount"] = sum((p.voucher_amount for p in projects), Decimal("0.00"))
    return out


def _grouped(sample: Sequence[Sampled], key: Any) -> dict[Any, list[Sampled]]:
    groups: dict[Any, list[Sampled]] = {}
    for s in sample:
        groups.setdefault(key(s), []).append(s)
    return groups


async def _sanctions(session: AsyncSession, city_code: str, today: dt.date) -> list[Row]:
    """Barred enterprises of the city, delisted or barred suppliers of its projects, its re-checks."""
    rows: list[Row] = []
    enterprises = await session.scalars(
        select(Enterprise)
        .where(Enterprise.city_code == city_code, Enterprise.barred_until >= today)
        .order_by(Enterprise.name)
    )
    for e in enterprises:
        until = e.barred_until.isoformat() if e.barred_until else ""
        rows.append(
            {
                "party": "工业企业",
                "name": e.name,
                "credit_code": e.credit_code,
                "measure": "5年内不得申请财政扶持项目",
                "until": until,
            }
        )
    of_city = select(VoucherProject.supplier_id).where(VoucherProject.city_code == city_code)
    suppliers = await session.scalars(
        select(Supplier)
        .where(
            Supplier.id.in_(of_city),
            or_(Supplier.listed.is_(False), Supplier.barred_until >= today),
        )
        .order_by(Supplier.name)
    )
    for s in suppliers:
        measures = [
            m
            for m, on in (
                ("取消上云上平台资格", not s.listed),
                ("5年内不得申请财政扶持项目", s.barred_until is not None),
            )
            if on
        ]
        until = s.barred_until.isoformat() if s.barred_until else ""
        rows.append(
            {
                "party": "服务商",
                "name": s.name,
                "credit_code": s.credit_code,
                "measure": "；".join(measures),
                "until": until,
            }
        )
    rechecks = await session.scalars(
        select(VoucherProject.code)
        .where(VoucherProject.city_code == city_code, VoucherProject.under_recheck.is_(True))
        .order_by(VoucherProject.code)
    )
    rows.extend(
        {"party": "项目", "name": code, "credit_code": "", "measure": "重点核查", "until": ""}
        for code in rechecks
    )
    return rows


async def results_report(session: AsyncSession, campaign: Campaign, *, made_at: dt.datetime) -> Report:
    """The results: each sampled project's outcome, the breakdowns, sanctions and money."""
    draw = await published_draw(session, campaign.id)
    if draw is None:
        raise _no_sample()
    sample = await sampled_projects(session, draw)
    results: list[Row] = [
        {
            "position": s.position,
            "code": s.code,
            "enterprise": s.enterprise,
            "supplier": s.supplier,
            "area": AREA_ZH[s.area],
            "outcome": BUCKET_LABELS[s.bucket].zh,
            "voucher_amount": s.voucher_amount,
            "money": s.money,
        }
        for s in sample
    ]
    by_outcome: list[Row] = []
    for b, group in ((b, [s for s in sample if s.bucket == b]) for b in Bucket):
        amount = sum((s.voucher_amount for s in group), Decimal("0.00"))
        by_outcome.append({"outcome": BUCKET_LABELS[b].zh, "projects": len(group), "voucher_amount": amount})
    by_supplier: list[Row] = [
        {"supplier": group[0].supplier, "credit_code": group[0].supplier_code, **_counts(group)}
        for group in sorted(_grouped(sample, lambda s: s.supplier_id).values(), key=lambda g: g[0].supplier)
    ]
    areas = _grouped(sample, lambda s: s.area)
    by_area: list[Row] = [{"area": AREA_ZH[a], **_counts(areas[a])} for a in BusinessArea if a in areas]
    money = await money_figures(session, campaign)
    money_rows: list[Row] = [
        {"item": "预算", "projects": None, "amount": money.budget},
        {"item": "已下达资金", "projects": money.allocated_projects, "amount": money.allocated},
        {"item": "结转下期优先拨付", "projects": money.carried_over_projects, "amount": money.carried_over},
        {"item": "预算余额", "projects": None, "amount": money.remaining},
    ]
    sanctions = await _sanctions(session, campaign.city_code, local(made_at).date())
    counts = _counts(sample)
    facts = [
        *_draw_facts(campaign, draw),
        ("抽查项目", str(len(sample))),
        ("合格 / 不合格 / 违规", f"{counts['qualified']} / {counts['unqualified']} / {counts['violation']}"),
    ]
    return Report(
        ReportKind.RESULTS,
        campaign.city_code,
        city_name(campaign.city_code),
        campaign.id,
        campaign.period,
        campaign.title,
        made_at,
        tuple(facts),
        (
            Section(C.RESULTS, tuple(results)),
            Section(C.BY_OUTCOME, tuple(by_outcome)),
            Section(C.BY_SUPPLIER, tuple(by_supplier)),
            Section(C.BY_AREA, tuple(by_area)),
            Section(C.SANCTIONS, tuple(sanctions)),
            Section(C.MONEY, tuple(money_rows)),
        ),
    )


async def require_draw(session: AsyncSession, campaign: Campaign) -> tuple[Draw, list[Sampled]]:
    """The campaign's published draw and its projects; 409 if there is none yet."""
    draw = await published_draw(session, campaign.id)
    if draw is None:
        raise _no_sample()
    return draw, await sampled_projects(session, draw)
