"""Uploading an XLSX or CSV file of voucher projects (all or nothing)."""

from __future__ import annotations

from remote_check.accounts.access import Permission
from remote_check.errors import DomainError
from remote_check.imports.schemas import ImportQuery, ImportResult
from remote_check.imports.workflow import localised
from web.api.registry import Api, Call
from web.uploads import run_import, uploaded_file

api = Api("imports")


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
