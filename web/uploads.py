"""Uploaded import files, for the API and the import page alike: the app's reader of uploads (child
processes), the multipart form, and the import run on behalf of the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import IO

from aiohttp import web

from remote_check.accounts.access import Principal
from remote_check.errors import invalid
from remote_check.imports.sandbox import UploadReader
from remote_check.imports.service import ImportSummary
from remote_check.imports.workflow import Databases, import_as
from web.keys import CLOCK, DB, DB_READ

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


async def run_import(
    request: web.Request, principal: Principal, filename: str, source: IO[bytes], *, dry_run: bool
) -> ImportSummary:
    """Import (read in a limited child process, checked in a read transaction, stored in a short
    write transaction): :func:`remote_check.imports.workflow.import_as` with the app's resources."""
    app = request.app
    return await import_as(
        app[IMPORT_READER],
        Databases(write=app[DB], read=app[DB_READ]),
        filename,
        source,
        principal,
        now=app[CLOCK].now(),
        dry_run=dry_run,
    )
