"""Demo steps that show what follows a check: Guangzhou's campaign, held and concluded.

:func:`held_checks` runs before the Dongguan steps, in the past: Guangzhou's sample is drawn and
published three weeks before the load, every sampled project is checked on the working days since
(sessions done, checklists marked by the panel) but one, whose enterprise did not come (a no-show,
concluded 不合格 by the coordinator). :func:`concluded` runs after them, at the load's time: the
panels give their opinions, the leads propose and the coordinator confirms (several 合格, one
不合格, one 违规 whose cascade puts the supplier's projects in the other cities under re-check and
hands them to the planner), the results are published, a settlement period's budget pays the
first qualified projects and carries the last one over, and the plan and results reports are filed
(when :attr:`DemoLoad.files` is given: the command line gives it). All through the services the
pages use; who acts is the demo account of the role (gz.coord, the panel's experts).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor
from remote_check.campaigns.models import Campaign
from remote_check.campaigns.sampling import Target
from remote_check.campaigns.service import (
    NewCampaign,
    create_campaign,
    create_draw,
    publish_draw,
    thresholds_from,
)
from remote_check.checklist.models import ItemResult, Standard
from remote_check.checklist.service import list_items
from remote_check.clock import SHANGHAI
from remote_check.errors import DomainError
from remote_check.files import FileStore
from remote_check.funding.service import apply_plan, compute_draft, create_period, plan_lines, set_budget
from remote_check.outcomes.kinds import Outcome, ViolationKind
from remote_check.programme.models import ProjectStatus, VoucherProject
from remote_check.reports.content import ReportKind
from remote_check.reports.filing import file_report, render
from remote_check.settings import FundingSettings, SamplingSettings
from scheduler.checklist import update_item
from scheduler.demo.activity import _independent_first
from scheduler.lifecycle import complete_session, mark_no_show, room_entered
from scheduler.models import CheckSession, PanelRole, PanelSeat
from scheduler.objections import publish_results
from scheduler.planning.calendar import is_working_day
from scheduler.reporting import build_report
from scheduler.service import NewSession, book_session
from scheduler.verdicts import confirm, confirm_no_show, give_opinions, propose

if TYPE_CHECKING:
    from scheduler.demo.service import DemoLoad

CITY = "4401"  # Guangzhou
COORDINATOR = "gz.coord"
DAYS_BEFORE = 21  # the sample was published three weeks before the load
SAMPLE = 8  # a small sample (the risk-flagged projects come on top): each check costs the load time
HELD_AT_MOST = 8  # the checks held; the sample's other projects are left to Guangzhou's planner
SLOTS = ((10, 0), (14, 30))  # two checks a working day, Asia/Shanghai
FAILED = {
    "unqualified": (Standard.FUNCTION, "交付功能与申报模块不符，部分模块未上线"),
    "violation": (Standard.FINANCE, "发票与转账记录系补开，合同金额远高于该服务商以往同类合同"),
}


@dataclass(frozen=True)
class DemoFiles:
    """What publication and filing need beyond the database: the signing key, the report store."""

    secret: bytes
    reports: FileStore
    base_url: str = ""


def _coordinator(load: DemoLoad) -> Principal:
    return Principal(load.user_ids[COORDINATOR], Role.CITY_COORDINATOR, CITY, "广州协调员")


async def _sample(load: DemoLoad) -> list[VoucherProject]:
    rows = await load.session.scalars(
        select(VoucherProject)
        .where(VoucherProject.city_code == CITY, VoucherProject.status == ProjectStatus.SAMPLED)
        .order_by(VoucherProject.id)
    )
    return list(rows.all())


async def _roles(load: DemoLoad, sample: Sequence[VoucherProject]) -> dict[int, str]:
    """Which project ends how: the violation is the one whose supplier has the most projects in
    other cities (so that its cascade reaches them), then one no-show, one unqualified, the rest 合格
    (at most :data:`HELD_AT_MOST` in all: a larger sample's other projects are left to the planner)."""
    elsewhere = dict(
        (
            await load.session.execute(
                select(VoucherProject.supplier_id, func.count())
                .where(VoucherProject.city_code != CITY)
                .group_by(VoucherProject.supplier_id)
            )
        ).all()
    )
    violator = max(sample, key=lambda p: (elsewhere.get(p.supplier_id, 0), -p.id))
    rest = [p.id for p in sample if p.id != violator.id][: HELD_AT_MOST - 1]
    roles = {violator.id: "violation", rest[0]: "no_show", rest[1]: "unqualified"}
    return roles | {pid: "qualified" for pid in rest[2:]}


def _slots(start: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    """Two slots per working day from the day after ``start`` to the day before ``until``."""
    day = start.astimezone(SHANGHAI).date() + dt.timedelta(days=1)
    out: list[dt.datetime] = []
    while day < until.astimezone(SHANGHAI).date():
        if is_working_day(day):
            out += [dt.datetime.combine(day, dt.time(h, m), SHANGHAI) for h, m in SLOTS]
        day += dt.timedelta(days=1)
    return out


async def _book(load: DemoLoad, project: VoucherProject, start: dt.datetime, booked_at: dt.datetime) -> int:
    """Book ``project`` at ``start`` with the first panel of 3 that passes every rule; its id."""
    coordinator = _coordinator(load)
    end = start + dt.timedelta(hours=1)
    for panel in itertools.combinations(_independent_first(load), 3):
        try:
            async with load.session.begin_nested():
                check = await book_session(
                    load.session,
                    coordinator,
                    NewSession(project.id, start, end, panel, coordinator.user_id, confirmed_off_hours=True),
                    now=booked_at,
                )
        except DomainError:
            continue
        return check.id
    raise AssertionError(f"no panel for demo project {project.code}")  # the demo's data allow one


async def _panel(load: DemoLoad, session_id: int) -> list[Principal]:
    """The panel of a session as principals, the lead first."""
    rows = await load.session.execute(
        select(PanelSeat.expert_id, PanelSeat.role)
        .where(PanelSeat.session_id == session_id)
        .order_by(PanelSeat.role != PanelRole.LEAD, PanelSeat.id)
    )
    by_id = dict(zip(load.expert_ids, range(len(load.expert_ids)), strict=True))
    out = []
    for expert_id, _ in rows.all():
        expert = load.data.experts[by_id[expert_id]]
        out.append(Principal(load.user_ids[expert.username], Role.EXPERT, None, expert.name, expert_id))
    return out


async def _hold(
    load: DemoLoad, project: VoucherProject, session_id: int, role: str, start: dt.datetime
) -> None:
    """The check as it happened: the room entered, the checklist marked, the session completed."""
    coordinator = _coordinator(load)
    if role == "no_show":
        late = start + dt.timedelta(minutes=20)
        await mark_no_show(load.session, coordinator, session_id, now=late, reason="企业未到场，电话无人接听")
        await confirm_no_show(
            load.session,
            coordinator,
            session_id,
            note="企业未到场，联系未果",
            now=late + dt.timedelta(hours=2),
        )
        return
    await room_entered(load.session, session_id, Actor.of(coordinator), now=start)
    lead = (await _panel(load, session_id))[0]
    failed = FAILED.get(role)
    for n, item in enumerate(await list_items(load.session, project.id)):
        fail = failed is not None and item.standard == failed[0]
        await update_item(
            load.session,
            project.id,
            item.code,
            result=ItemResult.FAIL if fail else ItemResult.PASS,
            notes=failed[1] if fail and failed else "",
            principal=lead,
            now=start + dt.timedelta(minutes=5 + 2 * n),
        )
    await complete_session(load.session, coordinator, session_id, now=start + dt.timedelta(minutes=55))


async def held_checks(load: DemoLoad) -> None:
    """Guangzhou's campaign, published in the past, its whole sample checked since (see the module)."""
    past = load.now - dt.timedelta(days=DAYS_BEFORE)
    campaign = await create_campaign(
        load.session,
        NewCampaign(
            CITY,
            "2019",
            Decimal("3000000.00"),
            (load.now + dt.timedelta(days=60)).date(),
            "2019年度服务券抽查（演示）",
        ),
        actor=load.actor,
        now=past,
        created_by=None,
    )
    draw = await create_draw(
        load.session,
        campaign,
        target=Target(count=SAMPLE),
        seed="demo-guangzhou",
        thresholds=thresholds_from(SamplingSettings()),
        actor=load.actor,
        now=past,
        created_by=None,
    )
    await publish_draw(load.session, draw.id, actor=load.actor, now=past)
    sample = await _sample(load)
    load.held = await _roles(load, sample)
    held = [p for p in sample if p.id in load.held]
    slots = _slots(past, load.now)
    assert len(slots) >= len(held), "three weeks hold two checks a working day"
    booked = [(p, await _book(load, p, start, past), start) for p, start in zip(held, slots, strict=False)]
    for project, session_id, start in booked:
        await _hold(load, project, session_id, load.held[project.id], start)
    load.counts |= {"campaigns": load.counts.get("campaigns", 0) + 1, "held": len(booked)}


async def _conclude(load: DemoLoad, project_id: int, role: str) -> None:
    check = await load.session.scalar(
        select(CheckSession.id).where(CheckSession.project_id == project_id).order_by(CheckSession.id.desc())
    )
    assert check is not None
    panel = await _panel(load, check)
    failed = FAILED.get(role)
    for n, expert in enumerate(panel):
        opinions = [
            (s, not (failed and s == failed[0]), failed[1] if failed and s == failed[0] else "")
            for s in Standard
        ]
        await give_opinions(
            load.session, expert, project_id, opinions, now=load.now - dt.timedelta(minutes=30 - n)
        )
    outcome = Outcome(role)
    await propose(
        load.session,
        panel[0],
        project_id,
        outcome=outcome,
        violation=ViolationKind.PRICE_INFLATED if outcome == Outcome.VIOLATION else None,
        description="",
        reasons=failed[1] if failed else "",
        now=load.now - dt.timedelta(minutes=10),
    )
    result = await confirm(load.session, _coordinator(load), project_id, now=load.now)
    load.counts["rechecks"] = load.counts.get("rechecks", 0) + len(result.rechecked_project_ids)


async def _allocate(load: DemoLoad) -> None:
    """A settlement period whose budget pays every qualified project but the last in the plan's order."""
    settings = FundingSettings()
    qualified = await load.session.scalars(
        select(VoucherProject.voucher_amount).where(
            VoucherProject.city_code == CITY, VoucherProject.status == ProjectStatus.QUALIFIED
        )
    )
    total = sum(qualified.all(), start=Decimal(0))
    period = await create_period(
        load.session,
        None,
        city_code=CITY,
        name="2020年第一期（演示）",
        budget=total,
        money_deadline=None,
        settings=settings,
        now=load.now,
    )
    draft = await compute_draft(load.session, None, period.id, settings, now=load.now)
    lines = [line for line, _ in await plan_lines(load.session, draft.id)]
    funded = [line for line in sorted(lines, key=lambda line: line.position) if line.funded > 0]
    if len(funded) > 1:  # the last one funded is carried over to the next period
        budget = sum((line.funded for line in funded[:-1]), start=Decimal(0))
        await set_budget(load.session, None, period.id, budget, now=load.now)
        draft = await compute_draft(load.session, None, period.id, settings, now=load.now)
    applied = await apply_plan(load.session, None, draft.id, settings, now=load.now)
    load.counts |= {"funded": applied.funded_projects, "carried": applied.carried_projects}


async def concluded(load: DemoLoad) -> None:
    """Guangzhou's verdicts confirmed, published, allocated and reported (see the module)."""
    for project_id, role in sorted(load.held.items()):
        if role != "no_show":
            await _conclude(load, project_id, role)
    load.counts["verdicts"] = len(load.held)
    if load.files is not None:
        await publish_results(
            load.session,
            _coordinator(load),
            CITY,
            now=load.now,
            secret=load.files.secret,
            base_url=load.files.base_url,
        )
    await _allocate(load)
    if load.files is None:
        return
    campaign = await load.session.scalar(select(Campaign).where(Campaign.city_code == CITY))
    assert campaign is not None
    for kind in (ReportKind.PLAN, ReportKind.RESULTS):
        report = await build_report(load.session, campaign, kind, made_at=load.now)
        rendered = await asyncio.to_thread(render, report)  # seconds of CPU: off the loop
        await file_report(
            load.session, load.files.reports, rendered, actor=load.actor, filed_by=None, now=load.now
        )
    load.counts["filed"] = 2
