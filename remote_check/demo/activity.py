"""Demo steps after the base data: campaigns, a published sample and booked sessions.

So that a new user sees the whole flow at once: Dongguan has a published draw with
checklists and a few sessions booked on the next working days (with guests invited);
Foshan has a draft draw waiting to be published.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.campaigns.models import Campaign, Draw
from remote_check.campaigns.sampling import Target
from remote_check.campaigns.service import (
    NewCampaign,
    create_campaign,
    create_draw,
    publish_draw,
    thresholds_from,
)
from remote_check.clock import SHANGHAI
from remote_check.errors import DomainError
from remote_check.programme.models import ProjectStatus, VoucherProject
from remote_check.settings import SamplingSettings
from scheduler.guests import NewGuest, add_guest
from scheduler.models import GuestKind
from scheduler.service import NewSession, book_session

if TYPE_CHECKING:
    from remote_check.demo.service import DemoLoad

SESSION_MINUTES = 45
SLOTS = ((9, 30), (10, 45), (14, 0), (15, 15))  # Asia/Shanghai, staggered for one supplier's teams
SESSIONS = 6


async def _campaign(load: DemoLoad, city_code: str, seed: str, *, publish: bool) -> tuple[Campaign, Draw]:
    deadline = (load.now.astimezone(SHANGHAI) + dt.timedelta(days=90)).date()
    campaign = await create_campaign(
        load.session,
        NewCampaign(city_code, "2019", Decimal("3000000.00"), deadline, "2019年度服务券抽查（演示）"),
        actor=load.actor,
        now=load.now,
        created_by=None,
    )
    draw = await create_draw(
        load.session,
        campaign,
        target=Target(ratio=Decimal("0.2")),
        seed=seed,
        thresholds=thresholds_from(SamplingSettings()),
        actor=load.actor,
        now=load.now,
        created_by=None,
    )
    if publish:
        draw = await publish_draw(load.session, draw.id, actor=load.actor, now=load.now)
    return campaign, draw


def working_slots(now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Session times on the working days after ``now``, in Asia/Shanghai."""
    day = now.astimezone(SHANGHAI).date()
    slots: list[tuple[dt.datetime, dt.datetime]] = []
    while len(slots) < SESSIONS * 2:
        day += dt.timedelta(days=1)
        if day.weekday() >= 5:
            continue
        for hour, minute in SLOTS:
            start = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)
            slots.append((start, start + dt.timedelta(minutes=SESSION_MINUTES)))
    return slots


def _independent_first(load: DemoLoad) -> list[int]:
    """Expert ids, those not employed by any listed supplier first (the booking refuses a conflict
    with the project's own supplier; a panel of independent experts is what a coordinator would pick)."""
    supplier_codes = {s.credit_code for s in load.data.suppliers}
    pairs = zip(load.data.experts, load.expert_ids, strict=True)
    return [i for _, i in sorted(pairs, key=lambda pair: pair[0].employer_credit_code in supplier_codes)]


async def _sessions(load: DemoLoad, city_code: str) -> int:
    """Book sessions for the first sampled projects; panels of 3 without conflicts of interest."""
    admin_id = load.user_ids["province.admin"]
    admin = Principal(admin_id, Role.PROVINCE_ADMIN, None, "省工信厅 管理员")
    host_id = load.user_ids.get("dg.coord", admin_id)
    projects = (
        await load.session.scalars(
            select(VoucherProject)
            .where(VoucherProject.city_code == city_code, VoucherProject.status == ProjectStatus.SAMPLED)
            .order_by(VoucherProject.id)
            .limit(SESSIONS)
        )
    ).all()
    panels = list(itertools.combinations(_independent_first(load), 3))
    slots = iter(working_slots(load.now))
    booked = 0
    for project, (start, end) in zip(projects, slots, strict=False):
        for panel in panels:
            try:
                async with load.session.begin_nested():
                    check = await book_session(
                        load.session, admin, NewSession(project.id, start, end, panel, host_id), now=load.now
                    )
                    for kind, name in ((GuestKind.ENTERPRISE, "李经理"), (GuestKind.SUPPLIER, "王工程师")):
                        await add_guest(load.session, admin, check.id, NewGuest(kind, name), now=load.now)
            except DomainError:
                continue
            booked += 1
            break
    return booked


async def campaigns_and_sessions(load: DemoLoad) -> None:
    """Dongguan: published sample and booked sessions; Foshan: a draft sample."""
    await _campaign(load, "4419", "demo-dongguan", publish=True)
    await _campaign(load, "4406", "demo-foshan", publish=False)
    load.counts["campaigns"] = 2
    load.counts["sessions"] = await _sessions(load, "4419")
