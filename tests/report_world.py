"""A campaign to report on: Guangzhou's published sample of five projects of two suppliers, one
of each outcome and one still pending, one check booked with its panel, a violation's parties
barred and delisted; and Foshan's campaign of a cluster project and a plain one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.campaigns.models import Draw, DrawEntry
from remote_check.funding.service import apply_plan, compute_draft, create_period
from remote_check.programme.models import ProjectStatus, VoucherProject
from remote_check.settings import FundingSettings
from scheduler.models import CheckSession, PanelRole, PanelSeat, SessionStatus
from tests.scheduling_factories import (
    add_campaign,
    add_enterprise,
    add_expert,
    add_project,
    add_supplier,
    local,
)

S = ProjectStatus
BARRED_UNTIL = dt.date(2025, 4, 9)


@dataclass
class World:
    campaign_id: int
    other_campaign_id: int
    projects: list[VoucherProject]
    good_supplier: str
    bad_supplier: str
    barred_enterprise: str
    cluster_code: str  # Foshan's cluster project
    plain_code: str  # Foshan's other project


async def build_world(session: AsyncSession) -> World:
    good = await add_supplier(session, "广州优质云服务有限公司")
    bad = await add_supplier(session, "广州违规云服务有限公司", listed=False, barred_until=BARRED_UNTIL)
    barred = await add_enterprise(session, "骗补制造有限公司", barred_until=BARRED_UNTIL)
    projects = [
        await add_project(session, good, status=S.QUALIFIED),  # funded by the allocation below
        await add_project(session, good, status=S.QUALIFIED),  # requested later: carried over
        await add_project(session, good, status=S.UNQUALIFIED),
        await add_project(session, bad, enterprise=barred, status=S.VIOLATION),
        await add_project(session, good, status=S.SCHEDULED),
    ]
    projects[4].under_recheck = True
    await add_project(session, good, status=S.REGISTERED)  # not drawn
    campaign = await add_campaign(session, projects, deadline=dt.date(2020, 6, 30))
    campaign.budget = Decimal("100000.00")
    lead = await add_expert(session, "张组长")
    member = await add_expert(session, "李专家")
    check = CheckSession(
        project_id=projects[4].id,
        campaign_id=campaign.id,
        city_code="4401",
        starts_at=local(20, 10),
        ends_at=local(20, 11),
        status=SessionStatus.BOOKED,
        created_at=local(10, 9),
    )
    session.add(check)
    await session.flush()
    session.add_all(
        [
            PanelSeat(session_id=check.id, expert_id=member.id, role=PanelRole.MEMBER),
            PanelSeat(session_id=check.id, expert_id=lead.id, role=PanelRole.LEAD),
        ]
    )
    cluster = await add_project(session, good, city="4406", status=S.QUALIFIED, is_cluster=True)
    plain = await add_project(session, good, city="4406", status=S.SAMPLED)
    other = await add_campaign(session, [cluster, plain], deadline=dt.date(2020, 6, 30), city="4406")
    thresholds = {"price_over_listed": "1.5", "price_over_peers": "1.5", "min_paid_ratio": "0.9"}
    for draw in (await session.scalars(select(Draw))).all():
        draw.thresholds = thresholds  # as the draw page shows them
    entry = await session.scalar(select(DrawEntry).where(DrawEntry.project_id == projects[3].id))
    assert entry is not None
    entry.reasons = ["price_over_listed", "random"]
    entry.facts = {"ratio_to_listed": "2.50", "ratio_to_peers": None, "paid_ratio": "1.00"}
    await session.flush()
    await _allocate(session, projects[0], projects[1])
    return World(campaign.id, other.id, projects, good.name, bad.name, barred.name, cluster.code, plain.code)


async def _allocate(session: AsyncSession, first: VoucherProject, second: VoucherProject) -> None:
    """Guangzhou's settlement period pays the first-come project and carries the later one over."""
    second.redemption_requested_at = first.redemption_requested_at + dt.timedelta(days=1)
    now = local(10, 9)
    settings = FundingSettings()
    period = await create_period(
        session,
        None,
        city_code="4401",
        name="2020年第一期",
        budget=first.voucher_amount,
        money_deadline=None,
        settings=settings,
        now=now,
    )
    plan = await compute_draft(session, None, period.id, settings, now=now)
    await apply_plan(session, None, plan.id, settings, now=now)
