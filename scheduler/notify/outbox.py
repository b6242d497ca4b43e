"""The outbox: rows made once per (kind, session, recipient, version), claimed before a send and
marked sent or failed after it. Inside the caller's transaction.

A send is claimed by one ``UPDATE … WHERE status IN (pending, failed) … RETURNING``: of two
processes (or a timer and a sweep) only one gets the row. A claim older than :data:`LEASE` is
taken to be of a process that died while sending, and may be taken again (the one case where a
notice could go out twice: a crash between the SMTP server's acceptance and the mark).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal, project_scope
from remote_check.audit.service import Actor, record
from remote_check.errors import Conflict, Message, NotFound
from remote_check.programme.scoping import scope_cities
from scheduler.models import CheckSession
from scheduler.notify.models import Channel, Kind, OutboxMessage, Status

LEASE = dt.timedelta(minutes=10)
RETRY_FIRST = dt.timedelta(minutes=1)
RETRY_MOST = dt.timedelta(hours=1)
PAGE_SIZE = 50


@dataclass(frozen=True)
class Recipient:
    """Who a notice goes to, and by which channel."""

    key: str  # guest:3, expert:5, user:7, wecom:4401, page
    channel: Channel
    address: str  # an e-mail address; the city code of a robot; empty for the page
    name: str
    city_code: str = ""  # a meeting's notices: the recipient's city (a session's is the session's)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4 … minutes, at most an hour."""
    factor: int = 2 ** max(attempts - 1, 0)
    return min(RETRY_FIRST * factor, RETRY_MOST)


async def ensure(
    session: AsyncSession,
    kind: Kind,
    check: CheckSession,
    recipients: Sequence[Recipient],
    *,
    now: dt.datetime,
) -> None:
    """A pending row for each recipient that has none for this kind and version (never a second)."""
    rows = [
        _pending(kind, r, now, session_id=check.id, version=check.booking_version, city_code=check.city_code)
        for r in recipients
    ]
    await _insert_new(session, rows, "session_id")


async def ensure_meeting(
    session: AsyncSession,
    kind: Kind,
    meeting_id: int,
    recipients: Sequence[Recipient],
    *,
    now: dt.datetime,
    version: int = 1,
) -> None:
    """A pending row for each recipient of a meeting's notice that has none (never a second)."""
    rows = [
        _pending(kind, r, now, meeting_id=meeting_id, version=version, city_code=r.city_code)
        for r in recipients
    ]
    await _insert_new(session, rows, "meeting_id")


def _pending(
    kind: Kind, recipient: Recipient, now: dt.datetime, *, version: int, city_code: str, **owner: int
) -> dict[str, object]:
    """The columns of a new pending row of ``kind`` to ``recipient``; ``owner``: its session or meeting."""
    return {
        "kind": kind.value,
        **owner,
        "recipient": recipient.key,
        "version": version,
        "channel": recipient.channel.value,
        "address": recipient.address[:200],
        "name": recipient.name[:100],
        "city_code": city_code,
        "status": Status.PENDING.value,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "claimed_by": "",
        "error": "",
    }


async def _insert_new(session: AsyncSession, rows: list[dict[str, object]], owner: str) -> None:
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(OutboxMessage)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["kind", owner, "recipient", "version"])
    )
    await session.execute(statement)


def _claimable(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            OutboxMessage.status.in_((Status.PENDING.value, Status.FAILED.value)),
            OutboxMessage.next_attempt_at <= now,
        ),
        and_(OutboxMessage.status == Status.SENDING.value, OutboxMessage.claimed_at < now - LEASE),
    )


async def claim(session: AsyncSession, message_id: int, token: str, *, now: dt.datetime) -> bool:
    """Take ``message_id`` for sending; false if another process has it, or it is done."""
    taken = await session.scalar(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _claimable(now))
        .values(
            status=Status.SENDING.value,
            claimed_at=now,
            claimed_by=token,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return taken is not None


async def claimable_ids(
    session: AsyncSession,
    *,
    now: dt.datetime,
    kind: Kind | None = None,
    session_id: int | None = None,
    version: int | None = None,
    meeting_id: int | None = None,
    limit: int = 200,
) -> list[int]:
    """Rows that may be claimed now (of one notice, or any: retries)."""
    stmt = select(OutboxMessage.id).where(_claimable(now))
    if kind is not None:
        stmt = stmt.where(OutboxMessage.kind == kind.value)
    if session_id is not None:
        stmt = stmt.where(OutboxMessage.session_id == session_id)
    if version is not None:
        stmt = stmt.where(OutboxMessage.version == version)
    if meeting_id is not None:
        stmt = stmt.where(OutboxMessage.meeting_id == meeting_id)
    return list((await session.scalars(stmt.order_by(OutboxMessage.id).limit(limit))).all())


async def claim_all(session: AsyncSession, ids: Sequence[int], token: str, *, now: dt.datetime) -> list[int]:
    """The ones of ``ids`` this caller got."""
    return [i for i in ids if await claim(session, i, token, now=now)]


async def finish(
    session: AsyncSession,
    message_id: int,
    token: str,
    *,
    now: dt.datetime,
    error: str | None,
    obsolete: bool = False,
    max_attempts: int = 6,
) -> None:
    """Mark a claimed row sent, failed (retried later with backoff, or given up) or obsolete."""
    row = await session.get(OutboxMessage, message_id, with_for_update=True)
    if row is None or row.claimed_by != token or row.status != Status.SENDING.value:
        return  # the lease ran out and another process took it over
    if obsolete:
        row.status, row.error = Status.OBSOLETE.value, (error or "")[:500]
    elif error is None:
        row.status, row.sent_at, row.error = Status.SENT.value, now, ""
    else:
        row.status = Status.GAVE_UP.value if row.attempts >= max_attempts else Status.FAILED.value
        row.error = error[:500]
        row.next_attempt_at = now + backoff(row.attempts)
    row.claimed_by = ""
    await session.flush()


async def sent_invitations(session: AsyncSession, session_id: int) -> list[Recipient]:
    """Everyone an invitation (of any version) of the session reached: a cancellation goes to them."""
    rows = (
        await session.execute(
            select(OutboxMessage.recipient, OutboxMessage.channel, OutboxMessage.address, OutboxMessage.name)
            .where(
                OutboxMessage.session_id == session_id,
                OutboxMessage.kind == Kind.INVITATION.value,
                OutboxMessage.status == Status.SENT.value,
                OutboxMessage.channel != Channel.PAGE.value,
            )
            .distinct()
        )
    ).all()
    return sorted(
        {Recipient(key, Channel(channel), address, name) for key, channel, address, name in rows},
        key=lambda r: r.key,
    )


async def no_show_asked(session: AsyncSession, session_id: int) -> bool:
    """Whether the no-show check asked the coordinator to confirm obstruction for this session."""
    found = await session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.session_id == session_id,
            OutboxMessage.kind == Kind.NO_SHOW.value,
            OutboxMessage.channel == Channel.PAGE.value,
        )
    )
    return bool(found)


@dataclass(frozen=True)
class OutboxFilter:
    status: str | None = None
    session_id: int | None = None


async def list_messages(
    session: AsyncSession, principal: Principal, where: OutboxFilter, *, page: int = 1
) -> tuple[list[OutboxMessage], int]:
    """The outbox rows of the cities ``principal`` sees, newest first, and how many there are."""
    stmt = scope_cities(select(OutboxMessage), OutboxMessage.city_code, project_scope(principal))
    if where.status:
        stmt = stmt.where(OutboxMessage.status == where.status)
    if where.session_id is not None:
        stmt = stmt.where(OutboxMessage.session_id == where.session_id)
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = await session.scalars(
        stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    )
    return list(rows.all()), total


async def message_in_scope(
    session: AsyncSession, principal: Principal, message_id: int, *, lock: bool = False
) -> OutboxMessage:
    """One outbox row of the cities ``principal`` sees; 404 if absent or out of scope."""
    stmt = scope_cities(
        select(OutboxMessage).where(OutboxMessage.id == message_id),
        OutboxMessage.city_code,
        project_scope(principal),
    )
    row = await session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFound("通知", "Notice")
    return row


async def resend(
    session: AsyncSession, principal: Principal, message_id: int, *, now: dt.datetime
) -> OutboxMessage:
    """Queue a failed notice again at once (audited ``outbox.resend``); 404 outside the user's cities."""
    row = await message_in_scope(session, principal, message_id, lock=True)
    if row.status not in (Status.FAILED.value, Status.GAVE_UP.value):
        raise Conflict(Message("只有发送失败的通知可以重发", "Only a notice that failed can be sent again"))
    row.status, row.next_attempt_at, row.attempts = Status.PENDING.value, now, 0
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "outbox.resend",
        f"outbox:{row.id}",
        at=now,
        city_code=row.city_code,
        details={"session": row.session_id, "kind": row.kind, "recipient": row.recipient},
    )
    return row
