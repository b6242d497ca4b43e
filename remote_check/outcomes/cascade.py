"""What a confirmed outcome does to the project and, for a violation, to its parties.

:func:`apply_outcome` runs inside the caller's transaction (the one that confirms the verdict), so
the outcome and everything it sets off commit or roll back together, with one audit entry each:
``project.outcome`` (the project's new status) and, for a violation, ``cascade.apply`` whose details
list every change (the bars with their dates, the delisting, each re-checked project with its status
before and after and the draw entry added), so the audit log replays the cascade exactly.

- qualified / unqualified: the project's status only (an unqualified voucher loses its redemption;
  nothing else changes, notice 四(一)).
- violation (notice 四(二)): the project's status; the enterprise and the supplier barred for 5 years
  from the confirmation date (the bars register and their ``barred_until``); the supplier delisted;
  every other project of the supplier, in every city, short of paid out (not funded, not cancelled)
  put under re-check (``under_recheck``, 重点核查), a registered one joining its city's current
  published draw (reason 违规连带重点核查). The cities concerned are returned: the scheduler layer
  (:func:`scheduler.rechecks.after_outcome`) notifies them and hands the re-checks to the planner.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.audit.service import Actor, record
from remote_check.campaigns.models import DrawEntry
from remote_check.campaigns.sampling import Thresholds
from remote_check.checklist.service import create_items_many
from remote_check.clock import SHANGHAI
from remote_check.errors import NotFound
from remote_check.outcomes.bars import bar_end
from remote_check.outcomes.kinds import Outcome, ViolationKind
from remote_check.outcomes.recheck_sample import DrawCache, add_to_sample
from remote_check.outcomes.sanction_models import Bar, Cascade, PartyKind, Recheck
from remote_check.programme.models import Enterprise, ProjectStatus, Supplier, VoucherProject
from remote_check.programme.status import check_move

PAID_OUT = (ProjectStatus.FUNDED, ProjectStatus.CANCELLED)


@dataclass(frozen=True)
class CascadeResult:
    """What an outcome changed besides its own project."""

    project_id: int
    outcome: Outcome
    rechecked_project_ids: list[int] = field(default_factory=list)  # put under re-check (重点核查)
    cities_notified: list[str] = field(default_factory=list)  # the cities of the re-checked projects
    cascade_id: int | None = None  # the violation's cascade row
    bar_ids: list[int] = field(default_factory=list)
    barred_until: dt.date | None = None
    delisted: bool = False  # the supplier was listed and is delisted now
    sampled_project_ids: list[int] = field(default_factory=list)  # added to their city's draw
    unsampled_project_ids: list[int] = field(default_factory=list)  # registered, no open draw in the city
    supplier_id: int | None = None


async def apply_outcome(
    session: AsyncSession,
    actor: Actor,
    project_id: int,
    outcome: Outcome,
    *,
    at: dt.datetime,
    violation: ViolationKind | None = None,
    reason: str = "",
) -> CascadeResult:
    """Give the project its outcome (a step of its life, else a :class:`DomainError`) and, for a
    violation, run the cascade (see the module's docstring)."""
    project = (
        await session.execute(select(VoucherProject).where(VoucherProject.id == project_id).with_for_update())
    ).scalar_one_or_none()
    if project is None:
        raise NotFound("项目", "Project")
    check_move(project.status, outcome.status)
    project.status = outcome.status
    details: dict[str, object] = {
        "project": project.code,
        "outcome": outcome.value,
        "violation": violation,
        "reason": reason,
    }
    if project.under_recheck:  # this outcome concludes its re-check (重点核查): it may be paid again
        project.under_recheck = False
        details["recheck_concluded"] = True
    await session.flush()
    await record(
        session,
        actor,
        "project.outcome",
        f"project:{project.id}",
        at=at,
        city_code=project.city_code,
        details=details,
    )
    if outcome != Outcome.VIOLATION:
        return CascadeResult(project.id, outcome)
    return await _violation(session, actor, project, at=at, violation=violation, reason=reason)


async def _violation(
    session: AsyncSession,
    actor: Actor,
    project: VoucherProject,
    *,
    at: dt.datetime,
    violation: ViolationKind | None,
    reason: str,
) -> CascadeResult:
    confirmed_on = at.astimezone(SHANGHAI).date()
    until = bar_end(confirmed_on)
    supplier = await session.get(Supplier, project.supplier_id, with_for_update=True)
    enterprise = await session.get(Enterprise, project.enterprise_id, with_for_update=True)
    assert supplier is not None  # foreign keys
    assert enterprise is not None
    cascade = Cascade(
        project_id=project.id,
        supplier_id=supplier.id,
        enterprise_id=enterprise.id,
        violation=(violation or ViolationKind.OTHER).value,
        reason=reason,
        confirmed_on=confirmed_on,
        created_at=at,
        delisted_supplier=supplier.listed,
    )
    session.add(cascade)
    await session.flush()
    why = f"违规（{cascade.violation}）：项目 {project.code}" + (f"；{reason}" if reason else "")
    bars = [
        Bar(
            party_kind=kind,
            party_id=party_id,
            starts_on=confirmed_on,
            ends_on=until,
            reason=why,
            source_project_id=project.id,
            cascade_id=cascade.id,
            created_at=at,
        )
        for kind, party_id in ((PartyKind.ENTERPRISE, enterprise.id), (PartyKind.SUPPLIER, supplier.id))
    ]
    session.add_all(bars)
    for party in (enterprise, supplier):
        if party.barred_until is None or party.barred_until < until:
            party.barred_until = until
    delisted = supplier.listed
    if delisted:
        supplier.listed = False
        supplier.delisted_at = at

    others = (
        await session.scalars(
            select(VoucherProject)
            .where(
                VoucherProject.supplier_id == supplier.id,
                VoucherProject.id != project.id,
                VoucherProject.status.not_in(PAID_OUT),
            )
            .order_by(VoucherProject.city_code, VoucherProject.id)
            .with_for_update()
        )
    ).all()
    draws = DrawCache()
    rechecks: list[Recheck] = []
    sampled: list[int] = []
    unsampled: list[int] = []
    changes: list[dict[str, object]] = []
    entries: dict[int, DrawEntry] = {}
    checklists: list[tuple[VoucherProject, Thresholds]] = []
    for other in others:
        before = other.status
        check = Recheck(
            cascade_id=cascade.id,
            project_id=other.id,
            city_code=other.city_code,
            status_before=before.value,
            was_under_recheck=other.under_recheck,
            created_at=at,
        )
        other.under_recheck = True
        if before == ProjectStatus.REGISTERED:
            city = await draws.of(session, other.city_code)
            if city is None:
                unsampled.append(other.id)
            else:
                entries[other.id] = add_to_sample(session, other, city, project.code)
                checklists.append((other, city.thresholds))
                check.campaign_id = city.campaign.id
                sampled.append(other.id)
        rechecks.append(check)
    items = await create_items_many(session, checklists)  # flushes the entries too
    for check in rechecks:
        entry = entries.get(check.project_id)
        check.draw_entry_id = entry.id if entry is not None else None
    session.add_all(rechecks)
    await session.flush()
    status_of = {o.id: o for o in others}
    for check in rechecks:
        changes.append(
            {
                "project": check.project_id,
                "code": status_of[check.project_id].code,
                "city": check.city_code,
                "status_before": check.status_before,
                "status": status_of[check.project_id].status.value,
                "under_recheck_before": check.was_under_recheck,
                "draw_entry": check.draw_entry_id,
                "checklist_items": items.get(check.project_id, 0),
                "campaign": check.campaign_id,
            }
        )
    cities = sorted({o.city_code for o in others})
    await record(
        session,
        actor,
        "cascade.apply",
        f"cascade:{cascade.id}",
        at=at,
        city_code=project.city_code,
        details={
            "project": project.code,
            "violation": cascade.violation,
            "confirmed_on": confirmed_on.isoformat(),
            "bars": [
                {
                    "id": b.id,
                    "kind": b.party_kind.value,
                    "party": b.party_id,
                    "from": b.starts_on.isoformat(),
                    "until": b.ends_on.isoformat(),
                }
                for b in bars
            ],
            "barred_until": {"enterprise": enterprise.barred_until, "supplier": supplier.barred_until},
            "supplier": supplier.id,
            "delisted": delisted,
            "delisted_at": at.isoformat() if delisted else None,
            "rechecks": changes,
            "cities": cities,
        },
    )
    return CascadeResult(
        project.id,
        Outcome.VIOLATION,
        rechecked_project_ids=[o.id for o in others],
        cities_notified=cities,
        cascade_id=cascade.id,
        bar_ids=[b.id for b in bars],
        barred_until=until,
        delisted=delisted,
        sampled_project_ids=sampled,
        unsampled_project_ids=unsampled,
        supplier_id=supplier.id,
    )
