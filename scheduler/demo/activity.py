"""Demo steps after the base data: campaigns, a published sample and booked sessions.

So that a new user sees the whole flow at once: Dongguan has a published draw with
checklists, its whole sample planned by the planner and booked from the next working day on
(a planned campaign; the enterprise and the supplier invited to each check);
Foshan has a draft draw waiting to be published. For a first try of a call, one Dongguan
session starts at the moment the demo is loaded (60 minutes long) with an enterprise, a supplier
and an observer invited: ``remote-check demo`` prints a join link for each role (:func:`call_now`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role, User
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
from remote_check.experts.models import Expert
from remote_check.programme.models import ProjectStatus, VoucherProject
from remote_check.settings import SamplingSettings
from scheduler.guests import NewGuest, add_guest
from scheduler.models import CheckSession, Guest, GuestKind, PanelRole, PanelSeat, SessionStatus
from scheduler.planning.apply import apply_plan
from scheduler.planning.planner import plan
from scheduler.planning.service import PlanningOptions, build_source
from scheduler.service import NewSession, book_session

if TYPE_CHECKING:
    from scheduler.demo.service import DemoLoad

PLAN_SECONDS = 2.0  # the planner's budget: the demo's sample is placed in well under a second
CALL_NOW_MINUTES = 60
CALL_NOW_GUESTS = (
    NewGuest(GuestKind.ENTERPRISE, "李经理"),
    NewGuest(GuestKind.SUPPLIER, "王工程师"),
    NewGuest(GuestKind.OBSERVER, "周科长", "东莞市工业和信息化局"),
)


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


def _independent_first(load: DemoLoad) -> list[int]:
    """Expert ids, those not employed by any listed supplier first (the booking refuses a conflict
    with the project's own supplier; a panel of independent experts is what a coordinator would pick)."""
    supplier_codes = {s.credit_code for s in load.data.suppliers}
    pairs = zip(load.data.experts, load.expert_ids, strict=True)
    return [i for _, i in sorted(pairs, key=lambda pair: pair[0].employer_credit_code in supplier_codes)]


def _admin(load: DemoLoad) -> Principal:
    return Principal(load.user_ids["province.admin"], Role.PROVINCE_ADMIN, None, "省工信厅 管理员")


async def _sampled(load: DemoLoad, city_code: str) -> list[VoucherProject]:
    return list(
        (
            await load.session.scalars(
                select(VoucherProject)
                .where(VoucherProject.city_code == city_code, VoucherProject.status == ProjectStatus.SAMPLED)
                .order_by(VoucherProject.id)
            )
        ).all()
    )


async def _book(
    load: DemoLoad, project: VoucherProject, start: dt.datetime, end: dt.datetime, guests: Sequence[NewGuest]
) -> bool:
    """Book ``project`` with the first panel of 3 that passes every rule, and invite ``guests``."""
    admin = _admin(load)
    host_id = load.user_ids.get("dg.coord", admin.user_id)
    for panel in itertools.combinations(_independent_first(load), 3):
        try:
            async with load.session.begin_nested():
                check = await book_session(
                    load.session,
                    admin,
                    NewSession(project.id, start, end, panel, host_id, confirmed_off_hours=True),
                    now=load.now,
                )
                for guest in guests:
                    await add_guest(load.session, admin, check.id, guest, now=load.now)
        except DomainError:
            continue
        return True
    return False


async def _planned(load: DemoLoad, city_code: str) -> int:
    """The rest of ``city_code``'s published sample planned by the planner (issue 11) and applied as
    one plan, each check with the enterprise and the supplier invited: a planned campaign. The
    planner's input is the city's (its coordinator's scope): Guangzhou's sample, held in the past
    (:mod:`scheduler.demo.outcomes`), keeps its projects the demo did not check for its own planner."""
    admin = _admin(load)
    city = Principal(load.user_ids["dg.coord"], Role.CITY_COORDINATOR, city_code, "东莞协调员")
    source = await build_source(load.session, city, now=load.now, options=PlanningOptions())
    result = plan(source.instance, seconds=PLAN_SECONDS)
    booked = await apply_plan(load.session, admin, source, result.plan, now=load.now)
    for check in booked:
        for guest in CALL_NOW_GUESTS[:2]:
            await add_guest(load.session, admin, check.id, guest, now=load.now)
    load.counts["unplaced"] = len(result.plan.unscheduled)
    return len(booked)


async def _session_now(load: DemoLoad, city_code: str) -> int:
    """A session that starts now (60 minutes), for a first try of a call; 1 if booked."""
    end = load.now + dt.timedelta(minutes=CALL_NOW_MINUTES)
    for project in await _sampled(load, city_code):
        if await _book(load, project, load.now, end, CALL_NOW_GUESTS):
            return 1
    return 0


async def campaigns_and_sessions(load: DemoLoad) -> None:
    """Dongguan: published sample and booked sessions; Foshan: a draft sample."""
    await _campaign(load, "4419", "demo-dongguan", publish=True)
    await _campaign(load, "4406", "demo-foshan", publish=False)
    load.counts["campaigns"] = load.counts.get("campaigns", 0) + 2
    now = await _session_now(load, "4419")  # first: the planner plans from the next working day
    load.counts["sessions"] = now + await _planned(load, "4419")


@dataclass(frozen=True)
class CallNow:
    """The session under way now and who may join it: staff by log-in, guests by their links."""

    session: CheckSession
    host: str  # user name
    experts: list[tuple[str, str, bool]]  # user name, name, lead?
    guests: list[Guest]


async def call_now(session: AsyncSession, now: dt.datetime, city_code: str = "4419") -> CallNow | None:
    """The latest booked session of ``city_code`` under way at ``now`` (the demo's first try), if any."""
    check = await session.scalar(
        select(CheckSession)
        .where(
            CheckSession.city_code == city_code,
            CheckSession.status == SessionStatus.BOOKED,
            CheckSession.starts_at <= now,
            CheckSession.ends_at > now,
        )
        .order_by(CheckSession.id.desc())
        .limit(1)
    )
    if check is None:
        return None
    host = await session.scalar(select(User.username).where(User.id == check.host_user_id))
    experts = (
        await session.execute(
            select(User.username, Expert.name, PanelSeat.role)
            .join(Expert, Expert.id == PanelSeat.expert_id)
            .join(User, User.id == Expert.user_id)
            .where(PanelSeat.session_id == check.id)
            .order_by(PanelSeat.role != PanelRole.LEAD, PanelSeat.id)
        )
    ).all()
    guests = list(
        (await session.scalars(select(Guest).where(Guest.session_id == check.id).order_by(Guest.id))).all()
    )
    return CallNow(
        check, host or "", [(user, name, role == PanelRole.LEAD) for user, name, role in experts], guests
    )
