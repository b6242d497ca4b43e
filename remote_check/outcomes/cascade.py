"""What a confirmed outcome does to the project and, for a violation, to its parties.

:func:`apply_outcome` runs inside the caller's transaction (the one that confirms the verdict), so
the outcome and everything it sets off commit or roll back together, with one audit entry each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.audit.service import Actor, record
from remote_check.errors import NotFound
from remote_check.outcomes.kinds import Outcome, ViolationKind
from remote_check.programme.models import VoucherProject
from remote_check.programme.status import check_move


@dataclass(frozen=True)
class CascadeResult:
    """What an outcome changed besides its own project."""

    project_id: int
    outcome: Outcome
    rechecked_project_ids: list[int] = field(default_factory=list)  # put under re-check (重点核查)
    cities_notified: list[str] = field(default_factory=list)


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
    """Give the project its outcome (a step of its life, else a :class:`DomainError`)."""
    project = (
        await session.execute(select(VoucherProject).where(VoucherProject.id == project_id).with_for_update())
    ).scalar_one_or_none()
    if project is None:
        raise NotFound("项目", "Project")
    check_move(project.status, outcome.status)
    project.status = outcome.status
    await session.flush()
    await record(
        session,
        actor,
        "project.outcome",
        f"project:{project.id}",
        at=at,
        city_code=project.city_code,
        details={"project": project.code, "outcome": outcome.value, "violation": violation, "reason": reason},
    )
    return CascadeResult(project.id, outcome)
