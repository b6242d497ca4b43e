"""Uploading an XLSX or CSV file of voucher projects (all or nothing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import IO

from aiohttp import web

from remote_check.accounts.access import Permission, Principal, ScopeKind, project_scope
from remote_check.audit.service import Actor
from remote_check.errors import DomainError, invalid
from remote_check.imports.sandbox import UploadReader
from remote_check.imports.schemas import ImportQuery, ImportResult
from remote_check.imports.service import ImportSummary
from remote_check.imports.workflow import Databases, import_upload
from web.api.registry import Api, Call
from web.keys import CLOCK, DB, DB_READ

api = Api("imports")
IMPORT_READER = web.AppKey("import_reader", UploadReader)


async def upload_reader(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: the app's :class:`UploadReader`; its children end when the app stops."""
    reader = UploadReader()
    app[IMPORT_READER] = reader
    yield
    await reader.close()


async def uploaded_file(request: web.Request) -> tuple[str, IO[bytes], bool]:
    """The multipart field ``file`` (name, and the temporary file aiohttp spooled it to) and
    whether ``dry_run`` was ticked."""
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise invalid("请选择要上传的 XLSX 或 CSV 文件", "Choose an XLSX or CSV file to upload", field="file")
    dry_run = str(form.get("dry_run", "")).lower() in ("1", "true", "on", "yes")
    return upload.filename or "upload", upload.file, dry_run


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
    request: web.Request, principal: Principal, filename: str, source: IO[bytes], *, dry_run: bool
) -> ImportSummary:
    """Import (read in a limited child process, checked in a read transaction, stored in a short
    write transaction); a city coordinator may import only their own city's rows."""
    scope = project_scope(principal)
    app = request.app
    return await import_upload(
        app[IMPORT_READER],
        Databases(write=app[DB], read=app[DB_READ]),
        filename,
        source,
        actor=Actor.of(principal),
        now=app[CLOCK].now(),
        restrict_city=scope.city_code if scope.kind == ScopeKind.CITY else None,
        dry_run=dry_run,
    )


@api.post(
    "/api/imports",
    summary="Import voucher projects from an XLSX or CSV file (multipart field `file`), all or nothing",
    permission=Permission.PROJECT_IMPORT,
    upload_field="file",
)
async def import_projects(call: Call, query: ImportQuery) -> ImportResult:
    """Store every row or none; on any problem a 422 whose ``error.fields`` lists each one."""
    filename, source, ticked = await uploaded_file(call.request)
    try:
        summary = await run_import(call.request, call.user, filename, source, dry_run=query.dry_run or ticked)
    except DomainError as exc:
        raise localised(exc, call.lang) from None
    return ImportResult(**summary.counts(), dry_run=summary.dry_run)
