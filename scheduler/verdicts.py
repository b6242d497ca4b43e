"""The panel's verdict on a project: opinions, the lead's proposal, the coordinator's confirmation
(or return), a no-show concluded as 不合格, and the experts' suggestions; inside the caller's
transaction, every change audited.

The tables and the pure rules are in :mod:`remote_check.outcomes` (``verdict_models``,
``verdict_rules``); this lives in the scheduler because who may act follows the seats of the
project's sessions (see :mod:`scheduler.access`). Confirming calls
:func:`remote_check.outcomes.cascade.apply_outcome` in the same transaction.

The session a verdict belongs to is the project's last session that ended (:data:`ENDED`): a held
one (done) is concluded by its panel, a no-show by the coordinator alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor, record
from remote_check.checklist.labels import STANDARD_LABELS
from remote_check.checklist.models import ItemResult, Standard
from remote_check.errors import Conflict, DomainError, Forbidden, Message, invalid
from remote_check.outcomes.cascade import CascadeResult, apply_outcome
from remote_check.outcomes.kinds import Outcome, ViolationKind
from remote_check.outcomes.verdict_models import Opinion, Suggestion, SuggestionTopic, Verdict, VerdictState
from remote_check.outcomes.verdict_rules import NO_SHOW_REASON, opinion_problem, proposal_problems
from remote_check.programme.models import VoucherProject
from scheduler.access import project_in_scope, session_in_scope
from scheduler.lifecycle import ACTIVE
from scheduler.models import CheckSession, SessionStatus
from scheduler.rechecks import after_outcome
from scheduler.verdict_reads import (
    ENDED,
    Pending,
    Seat,
    VerdictFile,
    load_file,
    suggestions_of,
    verdict_list,
)

__all__ = [
    "ENDED",
    "Pending",
    "Seat",
    "VerdictFile",
    "confirm",
    "confirm_no_show",
    "give_opinions",
    "load_file",
    "propose",
    "return_to_lead",
    "suggest",
    "suggestions_of",
    "verdict_list",
]


def _panel_open(found: VerdictFile) -> None:
    if not found.held:
        raise Conflict(
            Message(
                "该项目尚无已完成的核查会议，专家暂不能给出意见",
                "The project has no completed check session: the panel cannot conclude yet",
            )
        )
    if not found.panel_may_act:
        raise Conflict(
            Message(
                "结论已提出或已确认，意见不能再修改",
                "A conclusion was proposed or confirmed: the panel's opinions can no longer change",
            )
        )


async def give_opinions(
    session: AsyncSession,
    principal: Principal,
    project_id: int,
    opinions: Sequence[tuple[Standard, bool, str]],
    *,
    now: dt.datetime,
) -> VerdictFile:
    """An expert of the held session's panel gives (or changes) opinions on standards.

    Each standard's checklist items must all be marked first (the opinion is based on them); a fail
    needs reasons.
    """
    found = await load_file(session, principal, project_id, lock=True)
    _panel_open(found)
    seat = found.seat_of(principal)
    if seat is None:
        raise Forbidden(
            Message(
                "只有该项目核查组的专家可以给出意见", "Only the experts of the project's panel give opinions"
            )
        )
    assert found.check is not None
    standards = [standard for standard, _, _ in opinions]
    if len(set(standards)) != len(standards):
        raise invalid("每项标准只能给出一个意见", "One opinion per standard", field="opinions")
    mine = found.opinions_of(seat.expert_id)
    for standard, passed, reasons in opinions:
        problem = opinion_problem(passed, reasons)
        label = STANDARD_LABELS[standard]
        if problem is not None:
            raise invalid(f"{label.zh}：{problem.zh}", f"{label.en}: {problem.en}", field="reasons")
        pending = [i.code for i in found.items if i.standard == standard and i.result == ItemResult.PENDING]
        if pending:
            codes = ", ".join(pending)
            raise Conflict(
                Message(
                    f"核查表“{label.zh}”尚有待核查项（{codes}），请先完成核查表",
                    f"The checklist of “{label.en}” has items still pending ({codes}): finish it first",
                )
            )
        row = mine.get(standard)
        if row is None:
            row = Opinion(
                project_id=found.project.id,
                session_id=found.check.id,
                expert_id=seat.expert_id,
                standard=standard,
            )
            session.add(row)
            found.opinions.append(row)
        row.passed, row.reasons = passed, reasons.strip()
        row.given_at, row.given_by = now, principal.user_id
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "verdict.opinion",
        f"project:{found.project.id}",
        at=now,
        city_code=found.project.city_code,
        details={
            "session": found.check.id,
            "expert": seat.expert_id,
            "opinions": {s.value: {"passed": p, "reasons": r.strip()} for s, p, r in opinions},
        },
    )
    return found


async def propose(
    session: AsyncSession,
    principal: Principal,
    project_id: int,
    *,
    outcome: Outcome,
    violation: ViolationKind | None,
    description: str,
    reasons: str,
    now: dt.datetime,
) -> VerdictFile:
    """The lead expert proposes the panel's conclusion (again, after a return)."""
    found = await load_file(session, principal, project_id, lock=True)
    _panel_open(found)
    seat = found.seat_of(principal)
    if seat is None or not seat.lead:
        raise Forbidden(Message("只有核查组组长可以提出结论", "Only the panel's lead expert proposes"))
    assert found.check is not None
    problems = proposal_problems(outcome, violation, description, reasons, found.tallies)
    if problems:
        raise DomainError(
            Message("；".join(p.zh for p in problems), "; ".join(p.en for p in problems)),
            409 if any(t.missing for t in found.tallies) else 422,
            "refused",
        )
    verdict = found.verdict
    if verdict is None:
        verdict = Verdict(
            project_id=found.project.id,
            session_id=found.check.id,
            city_code=found.project.city_code,
            no_show=False,
            return_note="",
        )
        session.add(verdict)
        found.verdict = verdict
    verdict.state = VerdictState.PROPOSED
    verdict.outcome, verdict.violation = outcome, violation
    verdict.description = description.strip() if outcome == Outcome.VIOLATION else ""
    verdict.reasons = reasons.strip()
    verdict.lead_expert_id = seat.expert_id
    verdict.proposed_by, verdict.proposed_at = principal.user_id, now
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "verdict.propose",
        f"project:{found.project.id}",
        at=now,
        city_code=found.project.city_code,
        details={
            "session": found.check.id,
            "outcome": outcome.value,
            "violation": violation.value if violation else None,
            "description": verdict.description,
            "reasons": verdict.reasons,
        },
    )
    return found


def _coordinator(principal: Principal, project: VoucherProject) -> None:
    if principal.role != Role.CITY_COORDINATOR or principal.city_code != project.city_code:
        raise Forbidden(
            Message(
                "只有项目所在城市的协调员可以确认结论", "Only a coordinator of the project's city confirms"
            )
        )


def _proposed(found: VerdictFile) -> Verdict:
    if found.verdict is None or found.verdict.state != VerdictState.PROPOSED:
        raise Conflict(Message("没有待确认的结论", "There is no proposed conclusion to confirm"))
    return found.verdict


async def confirm(
    session: AsyncSession,
    principal: Principal,
    project_id: int,
    *,
    now: dt.datetime,
    wecom_cities: Collection[str] = (),
) -> CascadeResult:
    """The coordinator of the project's city confirms the lead's proposal: the outcome is applied
    (:func:`apply_outcome`) in this transaction, and a violation's re-checks are handed to the
    planner and their cities told (:func:`scheduler.rechecks.after_outcome`; ``wecom_cities``:
    the cities with a WeCom robot)."""
    found = await load_file(session, principal, project_id, lock=True)
    verdict = _proposed(found)
    _coordinator(principal, found.project)
    verdict.state = VerdictState.CONFIRMED
    verdict.confirmed_by, verdict.confirmed_at = principal.user_id, now
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "verdict.confirm",
        f"project:{found.project.id}",
        at=now,
        city_code=found.project.city_code,
        details={"session": verdict.session_id, "outcome": verdict.outcome.value},
    )
    result = await apply_outcome(
        session,
        Actor.of(principal),
        found.project.id,
        verdict.outcome,
        at=now,
        violation=verdict.violation,
        reason=verdict.reasons,
    )
    await after_outcome(session, result, now, wecom_cities=wecom_cities)
    return result


async def return_to_lead(
    session: AsyncSession, principal: Principal, project_id: int, *, note: str, now: dt.datetime
) -> VerdictFile:
    """The coordinator sends the proposal back to the lead with a note; the panel may revise."""
    found = await load_file(session, principal, project_id, lock=True)
    verdict = _proposed(found)
    _coordinator(principal, found.project)
    if not note.strip():
        raise invalid("退回须写明理由", "Say why the conclusion is returned", field="note")
    verdict.state = VerdictState.RETURNED
    verdict.return_note = note.strip()
    verdict.returned_by, verdict.returned_at = principal.user_id, now
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "verdict.return",
        f"project:{found.project.id}",
        at=now,
        city_code=found.project.city_code,
        details={"session": verdict.session_id, "note": verdict.return_note},
    )
    return found


async def confirm_no_show(
    session: AsyncSession, principal: Principal, session_id: int, *, note: str, now: dt.datetime
) -> CascadeResult:
    """The coordinator concludes a no-show session: 不合格 (按照抽查不通过处理), no opinions needed.

    Refused when the project was booked again or checked since (a later session decides).
    Throughout, a state that allows nothing (409) is said before a role that may not act (403).
    """
    check = await session_in_scope(session, principal, session_id, lock=True)
    project = await project_in_scope(session, principal, check.project_id, lock=True)
    if check.status != SessionStatus.NO_SHOW:
        raise Conflict(Message("该核查会议未登记为缺席", "This session is not a recorded no-show"))
    _coordinator(principal, project)
    later = await session.scalar(
        select(CheckSession.id)
        .where(
            CheckSession.project_id == project.id,
            CheckSession.id != check.id,
            CheckSession.status.in_((*ACTIVE, SessionStatus.DONE)),
        )
        .limit(1)
    )
    if later is not None:
        raise Conflict(
            Message(
                "该项目已重新预订或已核查，由之后的核查会议作出结论",
                "The project was booked again or checked since: that session concludes it",
            )
        )
    if await session.scalar(select(Verdict.id).where(Verdict.session_id == check.id)) is not None:
        raise Conflict(Message("该缺席已有结论", "This no-show already has a conclusion"))
    reasons = NO_SHOW_REASON.zh + (f"。{note.strip()}" if note.strip() else "")
    session.add(
        Verdict(
            project_id=project.id,
            session_id=check.id,
            city_code=project.city_code,
            state=VerdictState.CONFIRMED,
            outcome=Outcome.UNQUALIFIED,
            violation=None,
            description="",
            reasons=reasons,
            no_show=True,
            return_note="",
            confirmed_by=principal.user_id,
            confirmed_at=now,
        )
    )
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "verdict.no_show",
        f"project:{project.id}",
        at=now,
        city_code=project.city_code,
        details={"session": check.id, "outcome": Outcome.UNQUALIFIED.value, "note": note.strip()},
    )
    return await apply_outcome(
        session, Actor.of(principal), project.id, Outcome.UNQUALIFIED, at=now, reason=reasons
    )


async def suggest(
    session: AsyncSession,
    principal: Principal,
    project_id: int,
    *,
    topic: SuggestionTopic,
    text: str,
    now: dt.datetime,
) -> Suggestion:
    """An expert of the project's held session adds a suggestion or reports a problem to the city."""
    found = await load_file(session, principal, project_id)
    if not found.held:
        raise Conflict(
            Message("该项目尚无已完成的核查会议", "The project has no completed check session yet")
        )
    seat = found.seat_of(principal)
    if seat is None:
        raise Forbidden(
            Message("只有该项目核查组的专家可以提出建议", "Only the experts of the project's panel suggest")
        )
    if not text.strip():
        raise invalid("请填写建议内容", "Write the suggestion", field="text")
    row = Suggestion(
        project_id=found.project.id,
        city_code=found.project.city_code,
        expert_id=seat.expert_id,
        topic=topic,
        text=text.strip(),
        author=seat.name,
        created_at=now,
        created_by=principal.user_id,
    )
    session.add(row)
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "verdict.suggest",
        f"project:{found.project.id}",
        at=now,
        city_code=found.project.city_code,
        details={"topic": topic.value, "text": row.text},
    )
    return row
