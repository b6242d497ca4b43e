"""Deciding the objections (异议) to a city's published results (:mod:`scheduler.objections`).

The city's coordinator upholds the outcome or overturns it, with reasons, against
the project's outcome now (the other party's objection may have changed it already: upholding
keeps the outcome now, overturning to it closes the objection as it is; the party is told so).
Overturning gives the project its new, lighter outcome; overturning a violation lifts its cascade
(:func:`remote_check.outcomes.undo.undo_cascade`) after cancelling the bookings, made since the
violation and not yet held, of the re-checks the cascade added: to a sample, or of a qualified
project not yet paid (it goes back to its outcome); a project already in its city's sample keeps
its check.
Every change is audited in its transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor, record
from remote_check.errors import Conflict, Message, NotFound, invalid
from remote_check.outcomes.kinds import OUTCOME_LABELS, Outcome
from remote_check.outcomes.sanction_models import (
    Notice,
    Objection,
    ObjectionDecision,
    PartyKind,
    Recheck,
)
from remote_check.outcomes.undo import Undone, cascade_of, undo_cascade
from remote_check.programme.models import ProjectStatus, VoucherProject
from remote_check.programme.status import check_move
from scheduler.models import CheckSession, GuestKind, SessionStatus
from scheduler.objections import may_act_for, party_emails
from scheduler.rules import RECHECKABLE
from scheduler.service import cancel_session

SEVERITY = {Outcome.QUALIFIED: 0, Outcome.UNQUALIFIED: 1, Outcome.VIOLATION: 2}


async def _withdraw_bookings(
    session: AsyncSession, principal: Principal, cascade_id: int, since: dt.datetime, *, now: dt.datetime
) -> tuple[list[int], set[int]]:
    """Cancel the unheld bookings made after ``since`` of the re-checks the cascade added: projects it
    put in a sample, or qualified ones not yet paid (those go back to their outcome). Bookings older
    than the violation stay, and so do those of projects that were in their city's sample already:
    the city's own checks. Returns the sessions cancelled and the re-checked projects checked since
    (held)."""
    rechecks = (
        await session.execute(
            select(Recheck.project_id, Recheck.draw_entry_id, Recheck.status_before).where(
                Recheck.cascade_id == cascade_id, Recheck.withdrawn_at.is_(None)
            )
        )
    ).all()
    rechecked = [project_id for project_id, _entry, _before in rechecks]
    recheckable = {status.value for status in RECHECKABLE}
    added: dict[int, ProjectStatus | None] = {}  # project -> the outcome it goes back to, if any
    for project_id, entry, before in rechecks:
        if entry is not None:
            added[project_id] = None
        elif before in recheckable:
            added[project_id] = ProjectStatus(before)
    sessions = (
        await session.scalars(
            select(CheckSession)
            .where(CheckSession.project_id.in_(rechecked), CheckSession.created_at > since)
            .order_by(CheckSession.id)
        )
    ).all()
    province = Principal(principal.user_id, Role.PROVINCE_ADMIN, None, principal.display_name)
    cancelled: list[int] = []
    held: set[int] = set()
    for check in sessions:
        if check.status == SessionStatus.BOOKED:
            if check.project_id not in added:
                continue  # the city's own check of a project it had sampled: it stays
            await cancel_session(session, province, check.id, now=now, reason="违规结论被撤销，重点核查撤回")
            cancelled.append(check.id)
            outcome = added[check.project_id]
            project = await session.get(VoucherProject, check.project_id)
            assert project is not None
            if outcome is not None and project.status == ProjectStatus.SAMPLED:  # released by the cancel
                project.status = outcome
        elif check.status != SessionStatus.CANCELLED:  # under way, interrupted, done or no-show: held
            held.add(check.project_id)
    return cancelled, held


async def _tell_decision(
    session: AsyncSession,
    objection: Objection,
    project: VoucherProject,
    *,
    before: Outcome,
    now: dt.datetime,
) -> None:
    """Tell the objecting party the decision (its guests' e-mails, else a ``no_address`` notice);
    ``before``: the project's outcome when it was decided (another objection may have changed it)."""
    kind = GuestKind.ENTERPRISE if objection.party_kind == PartyKind.ENTERPRISE else GuestKind.SUPPLIER
    party_id = project.enterprise_id if objection.party_kind == PartyKind.ENTERPRISE else project.supplier_id
    upheld = objection.decision == ObjectionDecision.UPHELD
    changed = before.value != objection.outcome
    was = OUTCOME_LABELS[before]
    outcome = OUTCOME_LABELS[Outcome(objection.new_outcome) if objection.new_outcome else before]
    if not changed:
        zh = "维持原结论" if upheld else "撤销原结论"
        en = "the outcome stands" if upheld else "the outcome is overturned"
    else:
        zh = f"该结论已在处理另一异议时改为“{was.zh}”，" + (
            "维持现结论" if upheld or outcome == was else "撤销现结论"
        )
        en = f"the outcome had been changed to {was.en} on another objection; " + (
            "the current outcome stands" if upheld or outcome == was else "the current outcome is overturned"
        )
    subject = f"异议处理结果：项目 {project.code}"
    body = (
        f"您对项目 {project.code} 抽查结论的异议已处理：{zh}，结论为“{outcome.zh}”。"
        f"理由：{objection.decision_reason}\n\n"
        f"Your objection to the outcome of project {project.code} was decided: {en}; "
        f"the outcome is {outcome.en}. Reasons: {objection.decision_reason}"
    )
    addresses = (await party_emails(session, [project.id])).get((project.id, kind), [""])
    session.add_all(
        Notice(
            kind="objection",
            city_code=objection.city_code,
            recipient=f"{objection.party_kind.value}:{party_id}",
            channel="email" if address else "none",
            address=address,
            subject=subject,
            body=body,
            status="pending" if address else "no_address",
            created_at=now,
        )
        for address in addresses
    )


def _outcome_now(project: VoucherProject, objected: Outcome) -> Outcome:
    """The project's outcome now (another objection may have changed the one objected to)."""
    try:
        return Outcome(project.status.value)
    except ValueError:  # funded, carried over or cancelled since: the outcome objected to
        return objected


async def _overturn(
    session: AsyncSession,
    principal: Principal,
    project: VoucherProject,
    current: Outcome,
    new_outcome: Outcome,
    reason: str,
    *,
    now: dt.datetime,
) -> tuple[Undone | None, list[int]]:
    """Give the project the lighter ``new_outcome`` instead of its ``current`` one; lift the cascade
    of a violation (its re-checks' unheld bookings cancelled first). Returns what was undone and the
    sessions cancelled."""
    if new_outcome == current:
        raise invalid("撤销原结论须给出新的结论", "Overturning needs a new outcome", field="new_outcome")
    if SEVERITY[new_outcome] > SEVERITY[current]:
        label = OUTCOME_LABELS[current]
        raise invalid(
            f"异议只能使结论从轻（违规→不合格或合格，不合格→合格）；现结论为“{label.zh}”",
            "An objection can only lighten the outcome (violation to unqualified or qualified, "
            f"unqualified to qualified); the outcome now is {label.en}",
            field="new_outcome",
        )
    check_move(project.status, new_outcome.status)
    undone: Undone | None = None
    cancelled: list[int] = []
    cascade = await cascade_of(session, project.id) if current == Outcome.VIOLATION else None
    if cascade is not None:
        cancelled, held = await _withdraw_bookings(
            session, principal, cascade.id, cascade.created_at, now=now
        )
        undone = await undo_cascade(
            session,
            Actor.of(principal),
            cascade.id,
            at=now,
            user_id=principal.user_id,
            reason=reason,
            held=held,
        )
    project.status = new_outcome.status
    return undone, cancelled


async def decide(
    session: AsyncSession,
    principal: Principal,
    objection_id: int,
    *,
    uphold: bool,
    reason: str,
    new_outcome: Outcome | None = None,
    now: dt.datetime,
) -> tuple[Objection, Undone | None]:
    """Uphold or overturn an objection (see the module's docstring); 404 outside the coordinator's city."""
    objection = await session.get(Objection, objection_id, with_for_update=True)
    if objection is None or (
        principal.role != Role.PROVINCE_ADMIN and objection.city_code != principal.city_code
    ):
        raise NotFound("异议", "Objection")
    may_act_for(principal, objection.city_code)
    if objection.decision is not None:
        raise Conflict(Message("该异议已处理", "This objection has been decided already"))
    reason = reason.strip()
    if not reason:
        raise invalid("请填写处理理由", "Give the reasons of the decision", field="reason")
    project = await session.get(VoucherProject, objection.project_id, with_for_update=True)
    assert project is not None
    current = _outcome_now(project, Outcome(objection.outcome))
    undone: Undone | None = None
    cancelled: list[int] = []
    if not uphold:
        if new_outcome is None:
            raise invalid("撤销原结论须给出新的结论", "Overturning needs a new outcome", field="new_outcome")
        # Overturning to the outcome another objection gave the project already closes this one as is.
        if new_outcome != current or current.value == objection.outcome:
            undone, cancelled = await _overturn(
                session, principal, project, current, new_outcome, reason, now=now
            )
        objection.new_outcome = new_outcome.value
    objection.decision = ObjectionDecision.UPHELD if uphold else ObjectionDecision.OVERTURNED
    objection.decision_reason = reason
    objection.decided_at, objection.decided_by = now, principal.user_id
    await session.flush()
    await _tell_decision(session, objection, project, before=current, now=now)
    await record(
        session,
        Actor.of(principal),
        "objection.decide",
        f"objection:{objection.id}",
        at=now,
        city_code=objection.city_code,
        details={
            "project": project.code,
            "decision": objection.decision.value,
            "outcome": objection.outcome,
            "new_outcome": objection.new_outcome,
            "outcome_before": current.value,  # differs from "outcome" when another objection changed it
            "reason": reason,
            "cascade_undone": undone.cascade_id if undone else None,
            "cancelled_sessions": cancelled,
        },
    )
    return objection, undone
