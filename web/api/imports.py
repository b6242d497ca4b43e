"""Uploading an XLSX or CSV file of voucher projects (all or nothing)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from remote_check.accounts.access import Permission, Principal, ScopeKind, project_scope
from remote_check.audit.service import Actor
from remote_check.errors import DomainError, invalid
from remote_check.imports.schemas import ImportQuery, ImportResult
from remote_check.imports.service import ImportRefused, ImportSummary, import_file, record_refusal
from web.api.registry import Api, Call
from web.keys import CLOCK, DB

api = Api("imports")


async def uploaded_file(request: web.Request) -> tuple[str, bytes, bool]:
    """The multipart field ``file`` (name and bytes) and whether ``dry_run`` was ticked."""
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise invalid("请选择要上传的 XLSX 或 CSV 文件", "Choose an XLSX or CSV file to upload", field="file")
    data = await asyncio.to_thread(upload.file.read)
    dry_run = str(form.get("dry_run", "")).lower() in ("1", "true", "on", "yes")
    return upload.filename or "upload", data, dry_run


def localised(error: DomainError, lang: str) -> DomainError:
    """An import refusal whose ``details`` keep only the user's language:
    ``row``, ``field``, ``column``, ``code`` and ``message`` for every problem."""
    if error.code != "import_invalid":
        return error
    en = lang == "en"
    fields = [
        {
            "row": d["row"],
            "field": d["field"],
            "column": d["column_en"] if en else d["column_zh"],
            "code": d["code"],
            "message": d["en"] if en else d["zh"],
        }
        for d in error.details
    ]
    return DomainError(error.message, error.status, error.code, fields)


async def run_import(
    request: web.Request, principal: Principal, filename: str, data: bytes, *, dry_run: bool
) -> ImportSummary:
    """Import in one transaction; a city coordinator may import only their own city's rows.

    A refusal rolls that transaction back; it is then audited in a transaction of its own.
    """
    scope = project_scope(principal)
    restrict = scope.city_code if scope.kind == ScopeKind.CITY else None
    actor = Actor.of(principal)
    now = request.app[CLOCK].now()
    try:
        async with request.app[DB]() as session, session.begin():
            return await import_file(
                session, filename, data, actor=actor, now=now, restrict_city=restrict, dry_run=dry_run
            )
    except ImportRefused as refused:
        async with request.app[DB]() as session, session.begin():
            await record_refusal(session, refused, actor=actor, now=now, restrict_city=restrict)
        raise


@api.post(
    "/api/imports",
    summary="Import voucher projects from an XLSX or CSV file (multipart field `file`), all or nothing",
    permission=Permission.PROJECT_IMPORT,
    upload_field="file",
)
async def import_projects(call: Call, query: ImportQuery) -> ImportResult:
    """Store every row or none; on any problem a 422 whose ``error.fields`` lists each one."""
    filename, data, ticked = await uploaded_file(call.request)
    try:
        summary = await run_import(call.request, call.user, filename, data, dry_run=query.dry_run or ticked)
    except DomainError as exc:
        raise localised(exc, call.lang) from None
    return ImportResult(**summary.counts(), dry_run=summary.dry_run)
