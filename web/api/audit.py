"""Reading, exporting and verifying the audit log.

Reading the log is not itself audited (it would grow with every look); exporting it is
(``audit.export``), in the same transaction that reads the exported rows. A city auditor
sees only entries carrying their city's code; verifying the chain needs the whole log, so
only the province administrator and province-wide auditors may run it.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check import tabular
from remote_check.accounts.access import Permission, Principal, ScopeKind, project_scope
from remote_check.accounts.models import User
from remote_check.audit.models import AuditEntry, AuditHead
from remote_check.audit.schemas import AuditEntryOut, AuditPage, AuditQuery, FindingOut, VerifyReport
from remote_check.audit.service import Actor, record, verify_log
from remote_check.clock import local
from remote_check.errors import Forbidden, Message
from web.api.registry import Api, Call
from web.keys import AUDIT_KEY, CHECKPOINTS, CLOCK

api = Api("audit")

CSV_COLUMNS = ("seq", "at", "actor", "city_code", "action", "target", "details", "prev_hash", "hash")
EXPORT_BATCH = 2000


def may_verify(principal: Principal) -> bool:
    """Only a province-wide reader of the log (administrator, province auditor) may verify it."""
    return project_scope(principal).kind == ScopeKind.ALL


async def _conditions(session: AsyncSession, principal: Principal, query: AuditQuery) -> list[Any]:
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
    conditions = await _conditions(session, principal, query)
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
    session: AsyncSession, principal: Principal, lang: str, app: web.Application
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
    checkpoints = app[CHECKPOINTS].file
    findings = await verify_log(session, app[AUDIT_KEY], checkpoints)
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


@api.get("/api/audit", summary="Audit log entries, newest first", permission=Permission.AUDIT_READ)
async def audit_list(call: Call, query: AuditQuery) -> AuditPage:
    async with call.read() as session:
        return await search_audit(session, call.user, query)


@api.get(
    "/api/audit/verify",
    summary="Verify the hash chain of the whole audit log (province-wide readers)",
    permission=Permission.AUDIT_READ,
)
async def audit_verify(call: Call) -> VerifyReport:
    async with call.read() as session:
        return await verify_report(session, call.user, call.lang, call.request.app)


def _csv_chunk(entries: Sequence[AuditEntry]) -> bytes:
    """Entries as CSV lines (the writer makes every text cell formula-safe)."""
    rows = (
        [
            entry.seq,
            local(entry.at).isoformat(),
            entry.actor,
            entry.city_code or "",
            entry.action,
            entry.target,
            json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
            entry.prev_hash,
            entry.hash,
        ]
        for entry in entries
    )
    return tabular.csv_text(rows).encode("utf-8")


@api.get(
    "/api/audit/export.csv",
    summary="Export the matching audit entries as CSV (recorded as audit.export)",
    permission=Permission.AUDIT_READ,
    produces="text/csv",
)
async def audit_export(call: Call, query: AuditQuery) -> web.StreamResponse:
    """Stream the matching entries in batches of :data:`EXPORT_BATCH`, oldest first.

    The export is recorded first (``audit.export`` with the filters and the row count), in a
    transaction of its own; it covers the entries up to the newest one counted then. The log
    only grows, so the batches, each read in a short session of its own while the previous one
    is being sent, make up exactly the counted rows however slowly the client reads.
    """
    principal = call.user
    now = call.request.app[CLOCK].now()
    async with call.transaction() as session:
        conditions = await _conditions(session, principal, query)
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
    name = f"audit-{local(now).strftime('%Y%m%d-%H%M')}.csv"
    response = web.StreamResponse(headers={"Content-Disposition": f'attachment; filename="{name}"'})
    response.content_type = "text/csv"
    response.charset = "utf-8"
    await response.prepare(call.request)
    await response.write(tabular.csv_text([CSV_COLUMNS], bom=True).encode("utf-8"))
    after = 0
    while newest is not None and after < newest:
        async with call.read() as session:
            entries = (
                await session.scalars(
                    select(AuditEntry)
                    .where(*conditions, AuditEntry.seq > after, AuditEntry.seq <= newest)
                    .order_by(AuditEntry.seq)
                    .limit(EXPORT_BATCH)
                )
            ).all()
        if not entries:
            break
        await response.write(_csv_chunk(entries))
        after = entries[-1].seq
    await response.write_eof()
    return response
