"""Writing to and checking the audit log.

:func:`record` is called inside the caller's transaction, so a change and its audit entry
commit or roll back together. The head row is locked first, so appends never fork the chain.
Entries are hashed with the audit key the session was made with
(:func:`remote_check.database.make_sessionmaker`); :func:`verify_log` checks the chain with it and
the database against the signed checkpoints kept outside it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal, ScopeKind, project_scope
from remote_check.accounts.models import User
from remote_check.audit.anchor import CheckpointFile
from remote_check.audit.chain import ChainEntry, Finding, entry_hash, verify
from remote_check.audit.checkpoints import check
from remote_check.audit.models import AuditEntry, AuditHead
from remote_check.audit.schemas import AuditEntryOut, AuditPage, AuditQuery, FindingOut, VerifyReport
from remote_check.database import AUDIT_KEY
from remote_check.errors import Forbidden, Message


@dataclass(frozen=True)
class Actor:
    """Who did something: ``user:7``, ``guest:3``, ``cli`` or ``system``, and their city scope."""

    ref: str
    city_code: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """A signed-in user, with their city."""
        return cls(principal.ref, principal.city_code)

    @classmethod
    def cli(cls) -> Actor:
        return cls("cli")

    @classmethod
    def system(cls) -> Actor:
        return cls("system")


_HEAD_FOR_UPDATE = select(AuditHead).where(AuditHead.id == 1).with_for_update()  # built once


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target: str,
    *,
    at: dt.datetime,
    city_code: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry (``action`` such as ``project.import`` or ``recording.view``).

    The entry's city is ``city_code`` when given (the city of the thing acted on), else the actor's.
    """
    city_code = city_code if city_code is not None else actor.city_code
    head = (await session.execute(_HEAD_FOR_UPDATE)).scalar_one()
    payload = _plain(details or {})
    seq = head.seq + 1
    digest = entry_hash(
        session_key(session),
        seq=seq,
        at=at,
        actor=actor.ref,
        city_code=city_code,
        action=action,
        target=target,
        details=payload,
        prev_hash=head.hash,
    )
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor.ref,
        city_code=city_code,
        action=action,
        target=target,
        details=payload,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    head.seq = seq
    head.hash = digest
    await session.flush()
    return entry


def session_key(session: AsyncSession) -> bytes:
    """The audit key ``session`` was made with; appending without one is a programming error."""
    key = session.info.get(AUDIT_KEY)
    if not isinstance(key, bytes) or not key:
        raise RuntimeError(
            "this session has no audit key: make it with make_sessionmaker(engine, audit_key=...)"
        )
    return key


def _plain(value: Any) -> Any:
    """JSON-safe copy (Decimal and dates as strings) so the stored details hash as written."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        raise TypeError("no floats in the audit log")
    return str(value)


async def verify_log(
    session: AsyncSession,
    key: bytes | None = None,
    checkpoints: CheckpointFile | None = None,
    batch: int = 5000,
) -> list[Finding]:
    """Read the whole log in ``seq`` order and return every break in the keyed chain (``key``: by
    default the session's), and, given the ``checkpoints``, every disagreement with them."""
    key = key if key is not None else session_key(session)
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one()
    result = await session.stream_scalars(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    )
    entries = [
        ChainEntry(
            seq=e.seq,
            at=e.at,
            actor=e.actor,
            city_code=e.city_code,
            action=e.action,
            target=e.target,
            details=e.details,
            prev_hash=e.prev_hash,
            hash=e.hash,
        )
        async for e in result
    ]
    findings = verify(entries, head.seq, head.hash, key)
    if checkpoints is not None:
        lines = await asyncio.to_thread(checkpoints.lines)
        findings += check(lines, key, {e.seq: e.hash for e in entries}, len(entries))
    return findings


def may_verify(principal: Principal) -> bool:
    """Only a province-wide reader of the log (administrator, province auditor) may verify it."""
    return project_scope(principal).kind == ScopeKind.ALL


async def audit_conditions(session: AsyncSession, principal: Principal, query: AuditQuery) -> list[Any]:
    """The WHERE conditions of the entries ``principal`` may read that match ``query`` (a city
    auditor reads only entries carrying their city's code)."""
    conditions: list[Any] = []
    scope = project_scope(principal)
    if scope.kind != ScopeKind.ALL:
        conditions.append(AuditEntry.city_code == principal.city_code)
    if query.action:
        action = query.action.strip()
        conditions.append(
            or_(AuditEntry.action == action, AuditEntry.action.startswith(action + ".", autoescape=True))
        )
    if query.actor:
        actor = query.actor.strip()
        refs = [actor]
        if ":" not in actor:
            user_id = await session.scalar(select(User.id).where(User.username == actor))
            refs.append(f"login:{actor}")
            if user_id is not None:
                refs.append(f"user:{user_id}")
        conditions.append(AuditEntry.actor.in_(refs))
    if query.since is not None:
        conditions.append(AuditEntry.at >= query.since)
    if query.until is not None:
        conditions.append(AuditEntry.at < query.until)
    return conditions


def _out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        city_code=entry.city_code,
        action=entry.action,
        target=entry.target,
        details=entry.details,
        hash=entry.hash,
    )


async def search_audit(session: AsyncSession, principal: Principal, query: AuditQuery) -> AuditPage:
    """One page of the entries ``principal`` may read that match ``query``, newest first."""
    conditions = await audit_conditions(session, principal, query)
    total = int(await session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0)
    stmt = (
        select(AuditEntry)
        .where(*conditions)
        .order_by(AuditEntry.seq.desc())
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    )
    entries = (await session.scalars(stmt)).all()
    return AuditPage(
        items=[_out(e) for e in entries],
        total=total,
        page=query.page,
        page_size=query.page_size,
        pages=math.ceil(total / query.page_size) if total else 0,
    )


async def verify_report(
    session: AsyncSession, principal: Principal, lang: str, key: bytes, checkpoints: CheckpointFile
) -> VerifyReport:
    """Run the keyed chain's verification over the whole log, and check it against the signed
    checkpoints (province-wide readers only)."""
    if not may_verify(principal):
        raise Forbidden(
            Message(
                "只有省级管理员和省级审计员可以校验整个审计日志",
                "Only the province administrator and province-wide auditors may verify the whole log",
            )
        )
    findings = await verify_log(session, key, checkpoints)
    total = int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    head_seq = int(await session.scalar(select(AuditHead.seq).where(AuditHead.id == 1)) or 0)
    return VerifyReport(
        intact=not findings,
        entries=total,
        head_seq=head_seq,
        checkpoints=len(await asyncio.to_thread(checkpoints.lines)),
        findings=[
            FindingOut(seq=f.seq, kind=f.kind, message=f.message_en if lang == "en" else f.message_zh)
            for f in findings
        ],
    )


async def open_export(
    session: AsyncSession, principal: Principal, query: AuditQuery, *, now: dt.datetime
) -> tuple[list[Any], int | None]:
    """Start an export of the entries ``principal`` may read that match ``query``: record it
    (``audit.export`` with the filters and the row count) and answer the export's conditions and
    the newest ``seq`` it covers (``None``: nothing matches); read it with :func:`export_batch`."""
    conditions = await audit_conditions(session, principal, query)
    count, newest = (
        await session.execute(select(func.count(), func.max(AuditEntry.seq)).where(*conditions))
    ).one()
    filters = query.model_dump(mode="json", exclude={"page", "page_size"}, exclude_none=True)
    await record(
        session,
        Actor.of(principal),
        "audit.export",
        "audit_log",
        at=now,
        city_code=principal.city_code,
        details={"filters": filters, "rows": count},
    )
    return conditions, newest


async def export_batch(
    session: AsyncSession, conditions: list[Any], after: int, newest: int, size: int
) -> Sequence[AuditEntry]:
    """Up to ``size`` matching entries after ``seq`` ``after`` and up to ``newest``, oldest first."""
    return (
        await session.scalars(
            select(AuditEntry)
            .where(*conditions, AuditEntry.seq > after, AuditEntry.seq <= newest)
            .order_by(AuditEntry.seq)
            .limit(size)
        )
    ).all()
