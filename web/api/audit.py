"""Reading, exporting and verifying the audit log.

Reading the log is not itself audited (it would grow with every look); exporting it is
(``audit.export``), in the same transaction that reads the exported rows. A city auditor
sees only entries carrying their city's code; verifying the chain needs the whole log, so
only the province administrator and province-wide auditors may run it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aiohttp import web

from remote_check import tabular
from remote_check.accounts.access import Permission
from remote_check.audit.models import AuditEntry
from remote_check.audit.schemas import AuditPage, AuditQuery, VerifyReport
from remote_check.audit.service import export_batch, open_export, search_audit, verify_report
from remote_check.clock import local
from web.api.registry import Api, Call
from web.keys import AUDIT_KEY, CHECKPOINTS, CLOCK

api = Api("audit")

CSV_COLUMNS = ("seq", "at", "actor", "city_code", "action", "target", "details", "prev_hash", "hash")
EXPORT_BATCH = 2000


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
        app = call.request.app
        return await verify_report(session, call.user, call.lang, app[AUDIT_KEY], app[CHECKPOINTS].file)


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
        conditions, newest = await open_export(session, principal, query, now=now)
    name = f"audit-{local(now).strftime('%Y%m%d-%H%M')}.csv"
    response = web.StreamResponse(headers={"Content-Disposition": f'attachment; filename="{name}"'})
    response.content_type = "text/csv"
    response.charset = "utf-8"
    await response.prepare(call.request)
    await response.write(tabular.csv_text([CSV_COLUMNS], bom=True).encode("utf-8"))
    after = 0
    while newest is not None and after < newest:
        async with call.read() as session:
            entries = await export_batch(session, conditions, after, newest, EXPORT_BATCH)
        if not entries:
            break
        await response.write(_csv_chunk(entries))
        after = entries[-1].seq
    await response.write_eof()
    return response
