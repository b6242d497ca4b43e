"""Undoing a violation's cascade when an objection overturns it (notice 五(二): 合理处置异议).

:func:`undo_cascade` lifts exactly what :func:`remote_check.outcomes.cascade.apply_outcome` did for
that violation: its two bars (the parties' ``barred_until`` recomputed from the bars left), the
supplier's delisting once no standing violation of the supplier is left, if a cascade made it (this
one, or an earlier one overturned while this one kept the supplier delisted), and its
re-checks not yet held (a project it added to a sample leaves it again; ``under_recheck`` is cleared
where it came only from this violation). The caller cancels the re-checks' unheld bookings first
(the scheduler layer: :func:`scheduler.objection_decisions.decide`) and names the re-checks already held.
One audit entry, ``cascade.undo``, lists every change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.audit.service import Actor, record
from remote_check.errors import Conflict, Message, NotFound
from remote_check.outcomes.bars import sync_party
from remote_check.outcomes.recheck_sample import remove_from_sample
from remote_check.outcomes.sanction_models import Bar, Cascade, Recheck
from remote_check.programme.models import Supplier, VoucherProject


@dataclass(frozen=True)
class Undone:
    """What an overturn lifted."""

    cascade_id: int
    lifted_bar_ids: list[int] = field(default_factory=list)
    relisted: bool = False
    withdrawn_project_ids: list[int] = field(default_factory=list)
    kept_project_ids: list[int] = field(default_factory=list)  # re-checks already held


async def cascade_of(session: AsyncSession, project_id: int) -> Cascade | None:
    """The standing (not overturned) cascade of the project's violation."""
    found: Cascade | None = await session.scalar(
        select(Cascade)
        .where(Cascade.project_id == project_id, Cascade.overturned_at.is_(None))
        .order_by(Cascade.id.desc())
        .limit(1)
    )
    return found


async def _delisted_by_a_cascade(session: AsyncSession, supplier: Supplier) -> bool:
    """Whether the supplier's delisting is the one a violation's cascade made (that cascade may be
    overturned already, while a later violation kept the supplier delisted)."""
    found = await session.scalar(
        select(Cascade.id)
        .where(
            Cascade.supplier_id == supplier.id,
            Cascade.delisted_supplier.is_(True),
            Cascade.created_at == supplier.delisted_at,
        )
        .limit(1)
    )
    return found is not None


async def open_rechecks(session: AsyncSession, cascade_id: int) -> list[Recheck]:
    """The cascade's re-checks not withdrawn."""
    rows = await session.scalars(
        select(Recheck)
        .where(Recheck.cascade_id == cascade_id, Recheck.withdrawn_at.is_(None))
        .order_by(Recheck.id)
    )
    return list(rows.all())


async def undo_cascade(
    session: AsyncSession,
    actor: Actor,
    cascade_id: int,
    *,
    at: dt.datetime,
    user_id: int | None,
    reason: str,
    held: Collection[int] = (),
) -> Undone:
    """Lift the cascade (see the module's docstring); ``held``: projects whose re-check was held."""
    cascade = await session.get(Cascade, cascade_id, with_for_update=True)
    if cascade is None:
        raise NotFound("违规处理", "Violation cascade")
    if cascade.overturned_at is not None:
        raise Conflict(Message("该违规处理已被撤销", "This violation has been overturned already"))
    cascade.overturned_at = at
    bars = (
        await session.scalars(select(Bar).where(Bar.cascade_id == cascade.id, Bar.lifted_at.is_(None)))
    ).all()
    for bar in bars:
        bar.lifted_at, bar.lifted_by, bar.lift_reason = at, user_id, reason
    await session.flush()
    barred = {
        f"{b.party_kind.value}:{b.party_id}": await sync_party(session, b.party_kind, b.party_id)
        for b in bars
    }

    others = await session.scalar(
        select(Cascade.id).where(
            Cascade.supplier_id == cascade.supplier_id,
            Cascade.overturned_at.is_(None),
            Cascade.id != cascade.id,
        )
    )
    relisted = False
    if others is None:
        supplier = await session.get(Supplier, cascade.supplier_id, with_for_update=True)
        assert supplier is not None
        if not supplier.listed and await _delisted_by_a_cascade(session, supplier):
            supplier.listed, supplier.delisted_at = True, None
            relisted = True

    rechecks = await open_rechecks(session, cascade.id)
    projects = {
        p.id: p
        for p in await session.scalars(
            select(VoucherProject)
            .where(VoucherProject.id.in_([r.project_id for r in rechecks]))
            .with_for_update()
        )
    }
    still = set(
        (
            await session.scalars(
                select(Recheck.project_id)
                .join(Cascade, Cascade.id == Recheck.cascade_id)
                .where(
                    Recheck.project_id.in_(list(projects)),
                    Recheck.cascade_id != cascade.id,
                    Recheck.withdrawn_at.is_(None),
                    Cascade.overturned_at.is_(None),
                )
            )
        ).all()
    )
    withdrawn: list[int] = []
    kept: list[int] = []
    changes: list[dict[str, object]] = []
    for check in rechecks:
        project = projects[check.project_id]
        if check.project_id in held:
            kept.append(project.id)
            continue
        before = project.status.value
        removed = False
        if check.draw_entry_id is not None:
            removed = await remove_from_sample(session, project, check.draw_entry_id)
        if not check.was_under_recheck and project.id not in still:
            project.under_recheck = False
        check.withdrawn_at = at
        withdrawn.append(project.id)
        changes.append(
            {
                "project": project.id,
                "code": project.code,
                "status_before": before,
                "status": project.status.value,
                "left_sample": removed,
                "under_recheck": project.under_recheck,
            }
        )
    await session.flush()
    await record(
        session,
        actor,
        "cascade.undo",
        f"cascade:{cascade.id}",
        at=at,
        city_code=await session.scalar(
            select(VoucherProject.city_code).where(VoucherProject.id == cascade.project_id)
        ),
        details={
            "reason": reason,
            "lifted_bars": [b.id for b in bars],
            "barred_until": barred,
            "supplier": cascade.supplier_id,
            "relisted": relisted,
            "withdrawn": changes,
            "kept": kept,
        },
    )
    return Undone(cascade.id, [b.id for b in bars], relisted, withdrawn, kept)
