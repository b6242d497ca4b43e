"""The import page: upload a file, see what was stored or every problem found."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from remote_check.accounts.access import Permission
from remote_check.errors import DomainError
from remote_check.imports.columns import COLUMNS
from remote_check.imports.template import CSV_NAME, HERE, XLSX_NAME
from web.api.imports import localised, run_import, uploaded_file
from web.context import lang_of
from web.pages.common import signed_in

routes = web.RouteTableDef()


def _context(**values: Any) -> dict[str, Any]:
    return {"summary": None, "problems": [], "error": "", "filename": "", "columns": COLUMNS, **values}


@routes.get("/imports", name="imports")
@aiohttp_jinja2.template("imports.html")
async def import_page(request: web.Request) -> dict[str, Any]:
    signed_in(request, Permission.PROJECT_IMPORT)
    return _context()


@routes.post("/imports")
async def import_submit(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.PROJECT_IMPORT)
    lang = lang_of(request)
    filename = ""
    try:
        filename, data, dry_run = await uploaded_file(request)
        summary = await run_import(request, principal, filename, data, dry_run=dry_run)
    except DomainError as exc:
        error = localised(exc, lang)
        context = _context(
            error=error.message.in_lang(lang),
            problems=error.details if error.code == "import_invalid" else [],
            filename=filename,
        )
        return aiohttp_jinja2.render_template("imports.html", request, context, status=error.status)
    context = _context(summary=summary, filename=filename)
    return aiohttp_jinja2.render_template("imports.html", request, context)


@routes.get("/imports/template.csv", name="import_template_csv")
async def template_csv(request: web.Request) -> web.StreamResponse:
    signed_in(request, Permission.PROJECT_IMPORT)
    return _download(CSV_NAME, "text/csv; charset=utf-8")


@routes.get("/imports/template.xlsx", name="import_template_xlsx")
async def template_xlsx(request: web.Request) -> web.StreamResponse:
    signed_in(request, Permission.PROJECT_IMPORT)
    return _download(XLSX_NAME, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _download(name: str, content_type: str) -> web.StreamResponse:
    return web.FileResponse(
        HERE / name,
        headers={"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{name}"'},
    )
