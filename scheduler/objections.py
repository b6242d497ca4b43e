"""Publishing a city's results (公布反馈) and the objections (异议) that may follow.

- :func:`publish_results`: the coordinator (or the province for a city) freezes the city's results
  list, dated now; objections are taken until the N-th working day after (China's official calendar,
  :mod:`scheduler.planning.calendar`; Monday to Friday for a year it does not know). Each project's
  enterprise and supplier are told their result with their signed objection link: an e-mail to the
  addresses their guests gave for the project's sessions, or a ``no_address`` notice (the gap shows).
- :func:`submit_objection`: through the signed link, within the period, text and files (checked by
  content, :mod:`scheduler.objection_links`); one objection per party and publication (a unique
  constraint, so two at once give the second a 409 too).
- :func:`scheduler.objection_decisions.decide`: the city's coordinator decides an objection.
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
from remote_check.outcomes.kinds import OUTCOME_LABELS
from remote_check.outcomes.publication import results_of, store_publication
from remote_check.outcomes.sanction_models import (
    Notice,
    Objection,
    ObjectionFile,
    PartyKind,
    Publication,
)
from scheduler.models import CheckSession, Guest, GuestKind
from scheduler.objection_links import MAX_FILES, ObjectionLink, check_in_time, file_type, sign, verify
from scheduler.planning.calendar import is_working_day_or_weekday

DEFAULT_OBJECTION_DAYS = 5


def objection_deadline(published_on: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``published_on`` (the last day an objection is taken)."""
    day, left = published_on, days
    while left > 0:
        day += dt.timedelta(days=1)
        left -= is_working_day_or_weekday(day)
    return day


def may_act_for(principal: Principal, city_code: str) -> None:
    """403 unless ``principal`` is the province or a coordinator of ``city_code``."""
    if principal.role == Role.PROVINCE_ADMIN:
        return
    if principal.role != Role.CITY_COORDINATOR or principal.city_code != city_code:
        raise Forbidden(
            Message("只有本市协调员可以处理本市的抽查结果", "Only the city's coordinators may do this")
        )


async def party_emails(
    session: AsyncSession, project_ids: Sequence[int]
) -> dict[tuple[int, GuestKind], list[str]]:
    """The addresses the projects' guests gave, by project and kind of guest (each once)."""
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
    may_act_for(principal, city_code)
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
    emails = await party_emails(session, [r.project_id for r in rows])
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
