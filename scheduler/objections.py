"""Publishing a city's results (公布反馈) and the objections (异议) that may follow.

- :func:`publish_results`: the coordinator (or the province for a city) freezes the city's results
  list, dated now; objections are taken until the N-th working day after (China's official calendar,
  :mod:`scheduler.planning.calendar`; Monday to Friday for a year it does not know). Each project's
  enterprise and supplier are told their result with their signed objection link: an e-mail to the
  addresses their guests gave for the project's sessions, or a ``no_address`` notice (the gap shows).
- :func:`submit_objection`: through the signed link, within the period, text and files (checked by
  content, :mod:`scheduler.objection_links`); one objection per party and publication (a unique
  constraint, so two at once give the second a 409 too).
- :func:`decide`: the city's coordinator upholds the outcome or overturns it, with reasons, against
  the project's outcome now (the other party's objection may have changed it already: upholding
  keeps the outcome now, overturning to it closes the objection as it is; the party is told so).
  Overturning gives the project its new, lighter outcome; overturning a violation lifts its cascade
  (:func:`remote_check.outcomes.undo.undo_cascade`) after cancelling the bookings, made since the
  violation and not yet held, of the re-checks the cascade added to a sample (a project already in
  its city's sample keeps its check).
Every change is audited in its transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor, record
from remote_check.clock import SHANGHAI
from remote_check.errors import Conflict, DomainError, Forbidden, Message, NotFound, invalid
from remote_check.outcomes.kinds import OUTCOME_LABELS, Outcome
from remote_check.outcomes.publication import results_of, store_publication
from remote_check.outcomes.sanction_models import (
    Notice,
    Objection,
    ObjectionDecision,
    ObjectionFile,
    PartyKind,
    Publication,
    Recheck,
)
from remote_check.outcomes.undo import Undone, cascade_of, undo_cascade
from remote_check.programme.models import VoucherProject
from remote_check.programme.status import check_move
from scheduler.models import CheckSession, Guest, GuestKind, SessionStatus
from scheduler.objection_links import MAX_FILES, ObjectionLink, check_in_time, file_type, sign, verify
from scheduler.planning.calendar import UnknownYear, is_working_day
from scheduler.service import cancel_session

DEFAULT_OBJECTION_DAYS = 5
SEVERITY = {Outcome.QUALIFIED: 0, Outcome.UNQUALIFIED: 1, Outcome.VIOLATION: 2}


def objection_deadline(published_on: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``published_on`` (the last day an objection is taken)."""
    day, left = published_on, days
    while left > 0:
        day += dt.timedelta(days=1)
        try:
            working = is_working_day(day)
        except UnknownYear:
            working = day.weekday() < 5
        left -= working
    return day


def _may_act_for(principal: Principal, city_code: str) -> None:
    if principal.role == Role.PROVINCE_ADMIN:
        return
    if principal.role != Role.CITY_COORDINATOR or principal.city_code != city_code:
        raise Forbidden(
            Message("只有本市协调员可以处理本市的抽查结果", "Only the city's coordinators may do this")
        )


async def _party_emails(
    session: AsyncSession, project_ids: Sequence[int]
) -> dict[tuple[int, GuestKind], list[str]]:
    rows = (
        await session.execute(
            select(CheckSession.project_id, Guest.kind, Guest.email)
            .join(Guest, Guest.session_id == CheckSession.id)
            .where(CheckSession.project_id.in_(project_ids), Guest.email != "", Guest.revoked.is_(False))
            .order_by(Guest.id)
        )
    ).all()
    found: dict[tuple[int, GuestKind], list[str]] = {}
    for project_id, kind, email in rows:
        emails = found.setdefault((project_id, kind), [])
        if email.casefold() not in (e.casefold() for e in emails):
            emails.append(email)
    return found


async def publish_results(
    session: AsyncSession,
    principal: Principal,
    city_code: str,
    *,
    now: dt.datetime,
    secret: bytes,
    base_url: str = "",
    objection_days: int = DEFAULT_OBJECTION_DAYS,
) -> Publication:
    """Publish the city's results list and tell each project's parties (see the module's docstring)."""
    _may_act_for(principal, city_code)
    rows = await results_of(session, city_code)
    if not rows:
        raise Conflict(
            Message("本市尚无已确认的抽查结论可以公布", "The city has no confirmed outcome to publish yet")
        )
    until = objection_deadline(now.astimezone(SHANGHAI).date(), objection_days)
    publication = await store_publication(
        session,
        Actor.of(principal),
        city_code,
        rows,
        at=now,
        user_id=principal.user_id or None,
        campaign_id=None,
        objection_days=objection_days,
        objections_until=until,
    )
    emails = await _party_emails(session, [r.project_id for r in rows])
    notices = []
    for row in rows:
        for party, guest_kind, name in (
            (PartyKind.ENTERPRISE, GuestKind.ENTERPRISE, row.enterprise),
            (PartyKind.SUPPLIER, GuestKind.SUPPLIER, row.supplier),
        ):
            link = sign(ObjectionLink(publication.id, row.project_id, party, until), secret)
            subject = f"服务券抽查结果：项目 {row.code}"
            body = (
                f"{name}：项目 {row.code} 的抽查结论为“{OUTCOME_LABELS[row.outcome].zh}”。"
                f"如有异议，请于 {until.isoformat()} 前通过以下链接提交：\n"
                f"{base_url}/objections/{city_code}/{link}\n\n"
                f"The check of project {row.code} concluded: {row.outcome.value}. "
                f"Object by {until.isoformat()} through the link above."
            )
            party_id = row.enterprise_id if party == PartyKind.ENTERPRISE else row.supplier_id
            for address in emails.get((row.project_id, guest_kind), [""]):
                notices.append(
                    Notice(
                        kind="result",
                        city_code=city_code,
                        recipient=f"{party.value}:{party_id}",
                        channel="email" if address else "none",
                        address=address,
                        subject=subject,
                        body=body,
                        status="pending" if address else "no_address",
                        created_at=now,
                    )
                )
    session.add_all(notices)
    await session.flush()
    return publication


async def submit_objection(
    session: AsyncSession,
    token: str,
    *,
    city_code: str,
    text: str,
    files: Sequence[tuple[str, bytes]],
    secret: bytes,
    now: dt.datetime,
) -> Objection:
    """An objection through a signed link used at ``city_code``'s address (see the module's docstring)."""
    link = verify(token, secret, now=now)
    publication = await session.get(Publication, link.publication_id)
    if publication is None or publication.city_code != city_code:
        raise DomainError(
            Message(
                "此链接不属于该市的抽查结果公布。",
                "This link does not belong to this city's published results.",
            ),
            403,
            "objection_foreign",
        )
    check_in_time(publication.objections_until, now=now)
    row = next((r for r in publication.rows if r["project_id"] == link.project_id), None)
    if row is None:
        raise NotFound("公布的项目", "Published project")
    text = text.strip()
    if not text:
        raise invalid("请填写异议内容", "Write what you object to", field="text")
    if len(text) > 5000:
        raise invalid(
            "异议内容不能超过 5000 字", "The objection may not exceed 5000 characters", field="text"
        )
    if len(files) > MAX_FILES:
        raise invalid(f"最多附 {MAX_FILES} 个文件", f"At most {MAX_FILES} files", field="files")
    typed = [(name, content, file_type(name, content)) for name, content in files]
    earlier = await session.scalar(
        select(Objection.id).where(
            Objection.publication_id == publication.id,
            Objection.project_id == link.project_id,
            Objection.party_kind == link.party,
        )
    )
    twice = Conflict(
        Message("已提交过异议，请等待处理结果", "An objection was submitted already; await its decision")
    )
    if earlier is not None:
        raise twice
    objection = Objection(
        publication_id=publication.id,
        project_id=link.project_id,
        city_code=city_code,
        party_kind=link.party,
        outcome=str(row["outcome"]),
        text=text,
        submitted_at=now,
    )
    try:
        # A savepoint: an objection committed meanwhile by another transaction (the check above
        # cannot see it yet on PostgreSQL) fails the unique constraint; that is the same 409.
        async with session.begin_nested():
            session.add(objection)
            await session.flush()
    except IntegrityError:
        raise twice from None
    session.add_all(
        ObjectionFile(
            objection_id=objection.id,
            name=name[:200],
            media_type=media_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
        )
        for name, content, media_type in typed
    )
    await session.flush()
    await record(
        session,
        Actor(f"{link.party.value}:{row[link.party.value + '_id']}"),
        "objection.submit",
        f"objection:{objection.id}",
        at=now,
        city_code=city_code,
        details={
            "project": row["code"],
            "party": link.party.value,
            "outcome": row["outcome"],
            "files": [{"name": n, "type": t, "size": len(c)} for n, c, t in typed],
        },
    )
    return objection


async def _withdraw_bookings(
    session: AsyncSession, principal: Principal, cascade_id: int, since: dt.datetime, *, now: dt.datetime
) -> tuple[list[int], set[int]]:
    """Cancel the unheld bookings made after ``since`` of the re-checks the cascade added to a sample
    (bookings older than the violation stay, and so do those of projects that were in their city's
    sample already: the city's own checks); returns the sessions cancelled and the re-checked
    projects checked since (held)."""
    rechecks = (
        await session.execute(
            select(Recheck.project_id, Recheck.draw_entry_id).where(
                Recheck.cascade_id == cascade_id, Recheck.withdrawn_at.is_(None)
            )
        )
    ).all()
    rechecked = [project_id for project_id, _entry in rechecks]
    added = {project_id for project_id, entry in rechecks if entry is not None}
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
    addresses = (await _party_emails(session, [project.id])).get((project.id, kind), [""])
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
    _may_act_for(principal, objection.city_code)
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
