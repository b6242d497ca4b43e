"""After a violation's cascade: the cities concerned are notified and the re-checks go to the planner.

:func:`after_outcome` runs in the transaction that applied the outcome (the caller's), right after
:func:`remote_check.outcomes.cascade.apply_outcome`:

- a notice (:class:`~remote_check.outcomes.sanction_models.Notice`, kind ``recheck``) to each city
  concerned: an e-mail to each active coordinator with an address, and the city's WeCom robot when
  one is configured; a city without either gets a ``no_address`` row, so the gap shows;
- the planner places the re-checks: :func:`scheduler.planning.replan.replan` over the province's
  instance cut down to the re-checked projects still to be booked (status sampled, in a published
  draw; priority 2 for a re-check) around every booked check (fixed, kept where they are).

Decision: the placement is a *proposal*, not a booking. Booking 300 checks through the booking rules
would hold the confirming coordinator's transaction for seconds and book other cities' checks in
their name; instead each city's coordinator sees the re-checks first in their planner (priority 2)
and applies the plan the usual way (``plan.apply``). The handover returns the placement (each
re-check's proposed start) and the notices name it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role, User
from remote_check.clock import format_local
from remote_check.outcomes.cascade import CascadeResult
from remote_check.outcomes.sanction_models import Notice
from remote_check.programme.models import Supplier, VoucherProject
from scheduler.planning.plan import Plan
from scheduler.planning.replan import Replanned, replan
from scheduler.planning.service import PlanningOptions, Source, build_source, db_id

PROVINCE = Principal(0, Role.PROVINCE_ADMIN, None, "system")


@dataclass(frozen=True)
class Handover:
    """What followed the cascade in the scheduler: the notices and the planner's placement."""

    notices: list[int]
    source: Source | None
    replanned: Replanned | None
    placed: dict[int, dt.datetime]  # re-checked project id -> proposed start
    unplaced: list[int]
    seconds: float  # the replan's time (building its input included)


async def notify_cities(
    session: AsyncSession,
    result: CascadeResult,
    *,
    now: dt.datetime,
    placed: dict[int, dt.datetime],
    wecom_cities: Collection[str] = (),
) -> list[int]:
    """One notice per coordinator (e-mail) and city robot (WeCom) of each city concerned."""
    if not result.cities_notified:
        return []
    supplier = await session.get(Supplier, result.supplier_id) if result.supplier_id else None
    name = supplier.name if supplier else ""
    rows = (
        await session.execute(
            select(VoucherProject.id, VoucherProject.code, VoucherProject.city_code).where(
                VoucherProject.id.in_(result.rechecked_project_ids)
            )
        )
    ).all()
    per_city: dict[str, list[str]] = {}
    for pid, code, city in rows:
        when = format_local(placed[pid]) if pid in placed else "待排期 / to plan"
        per_city.setdefault(city, []).append(f"{code}（{when}）")
    coordinators = (
        await session.execute(
            select(User.id, User.email, User.city_code).where(
                User.role == Role.CITY_COORDINATOR,
                User.active.is_(True),
                User.email != "",
                User.city_code.in_(result.cities_notified),
            )
        )
    ).all()
    notices: list[Notice] = []
    for city in result.cities_notified:
        projects = per_city.get(city, [])
        subject = f"重点核查：服务商“{name}”违规，本市 {len(projects)} 个项目列入重点核查"
        body = (
            f"服务商“{name}”的服务券项目经核查认定违规（粤工信办函〔2020〕26号 四(二)），"
            f"该服务商承担的本市以下项目列入重点核查，已优先加入本市抽查名单并交排期：\n"
            + "\n".join(projects)
            + f"\n\nSupplier {name} was found in violation; "
            + ("the project above is" if len(projects) == 1 else f"the {len(projects)} projects above are")
            + " under re-check, added to your city's sample with priority and handed to the planner."
        )
        targets = [(f"user:{uid}", "email", email) for uid, email, c in coordinators if c == city]
        if city in wecom_cities:
            targets.append((f"wecom:{city}", "wecom", city))
        if not targets:
            targets.append((f"city:{city}", "none", ""))
        for recipient, channel, address in targets:
            notices.append(
                Notice(
                    kind="recheck",
                    city_code=city,
                    recipient=recipient,
                    channel=channel,
                    address=address,
                    subject=subject[:200],
                    body=body,
                    status="pending" if address else "no_address",
                    created_at=now,
                )
            )
    session.add_all(notices)
    await session.flush()
    return [n.id for n in notices]


async def place_rechecks(
    session: AsyncSession, project_ids: Collection[int], *, now: dt.datetime, options: PlanningOptions
) -> tuple[Source, Replanned]:
    """The planner's placement of ``project_ids`` (those still to book) around every booked check."""
    source = await build_source(session, PROVINCE, now=now, options=options)
    fixed = {f.project for f in source.instance.fixed}
    wanted = {f"P{i}" for i in project_ids}
    instance = dataclasses.replace(
        source.instance,
        projects=tuple(p for p in source.instance.projects if p.id in fixed or p.id in wanted),
    )
    source = dataclasses.replace(source, instance=instance)
    return source, await asyncio.to_thread(replan, instance, Plan((), ()))  # CPU work, off the loop


async def after_outcome(
    session: AsyncSession,
    result: CascadeResult,
    now: dt.datetime,
    *,
    options: PlanningOptions | None = None,
    wecom_cities: Collection[str] = (),
) -> Handover:
    """Notify the cities a violation's cascade concerns and place its re-checks (see the module's
    docstring); nothing to do for another outcome."""
    if not result.rechecked_project_ids:
        return Handover([], None, None, {}, [], 0.0)
    started = time.perf_counter()
    source, replanned = await place_rechecks(
        session, result.rechecked_project_ids, now=now, options=options or PlanningOptions()
    )
    seconds = time.perf_counter() - started
    fixed = {db_id(f.project) for f in replanned.instance.fixed}
    wanted = set(result.rechecked_project_ids) - fixed
    placed = {db_id(s.project): s.start for s in replanned.plan.sessions if db_id(s.project) in wanted}
    unplaced = [db_id(u.project) for u in replanned.plan.unscheduled if db_id(u.project) in wanted]
    notices = await notify_cities(session, result, now=now, placed=placed, wecom_cities=wecom_cities)
    return Handover(notices, source, replanned, placed, unplaced, seconds)
