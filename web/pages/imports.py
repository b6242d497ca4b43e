"""The import page: upload a file, see what was stored or every problem found."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from remote_check.accounts.access import Permission, Principal, ScopeKind, project_scope
from remote_check.errors import DomainError
from remote_check.imports.columns import COLUMNS
from remote_check.imports.template import CSV_NAME, XLSX_NAME, template_csv, template_xlsx
from remote_check.imports.workflow import localised
from remote_check.programme.cities import BY_CODE, CityRef
from web.context import lang_of
from web.pages.common import signed_in
from web.uploads import run_import, upload_reader, uploaded_file

routes = web.RouteTableDef()


def setup(app: web.Application) -> None:
    """The app's reader of uploads (child processes), ended when the app stops."""
    app.cleanup_ctx.append(upload_reader)


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
        filename, source, dry_run = await uploaded_file(request)
        summary = await run_import(request, principal, filename, source, dry_run=dry_run)
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


def _city_of(principal: Principal) -> CityRef | None:
    """A city coordinator's city: their template's example rows are in it (they may import no other)."""
    scope = project_scope(principal)
    return BY_CODE.get(scope.city_code or "") if scope.kind == ScopeKind.CITY else None


@routes.get("/imports/template.csv", name="import_template_csv")
async def template_csv_download(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.PROJECT_IMPORT)
    return await _download(template_csv, _city_of(principal), CSV_NAME, "text/csv; charset=utf-8")


@routes.get("/imports/template.xlsx", name="import_template_xlsx")
async def template_xlsx_download(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.PROJECT_IMPORT)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return await _download(template_xlsx, _city_of(principal), XLSX_NAME, xlsx)


async def _download(
    make: Callable[[CityRef | None], bytes], city: CityRef | None, name: str, content_type: str
) -> web.StreamResponse:
    data = await asyncio.to_thread(make, city)  # made once per city, then cached
    return web.Response(
        body=data,
        headers={"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{name}"'},
    )
