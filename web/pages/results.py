"""Published results (公布反馈) and objections (异议): the list of a city's publications, one
publication as a page and as CSV/XLSX files (signed-in users of the city and the province), the
coordinator's publishing and deciding, and the public objection form a signed link opens."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from remote_check.accounts.access import Permission, allowed
from remote_check.errors import DomainError, Message, NotFound, invalid
from remote_check.outcomes.bars import register
from remote_check.outcomes.kinds import OUTCOME_LABELS, Outcome
from remote_check.outcomes.publication import (
    csv_file,
    notices_of,
    objections_of,
    publications_of,
    rows_of,
    visible_publication,
    xlsx_file,
)
from remote_check.outcomes.sanction_models import Objection, ObjectionFile, PartyKind, Publication
from scheduler.notify.deliver import base_url
from scheduler.objection_decisions import decide
from scheduler.objection_links import verify
from scheduler.objections import publish_results, submit_objection
from web.context import lang_of
from web.keys import CLOCK, DB, DB_READ, SECRET, SETTINGS
from web.pages.common import signed_in

routes = web.RouteTableDef()

PARTY_LABELS = {
    PartyKind.ENTERPRISE: Message("企业", "Enterprise"),
    PartyKind.SUPPLIER: Message("服务商", "Supplier"),
}


@routes.get("/results", name="results")
@aiohttp_jinja2.template("results.html")
async def results_page(request: web.Request) -> dict[str, Any]:
    """The publications the user may see; a coordinator publishes their city's results here."""
    principal = signed_in(request)
    can_publish = allowed(principal, Permission.RESULTS_PUBLISH)
    async with request.app[DB_READ]() as session:
        publications = await publications_of(session, principal)
        notices = await notices_of(session, principal) if can_publish else []
    return {
        "notices": notices,
        "publications": publications,
        "can_publish": can_publish,
        "city": principal.city_code or "",
        "days": request.app[SETTINGS].objection_working_days,
    }


@routes.post("/results")
async def publish_submit(request: web.Request) -> web.StreamResponse:
    """Publish the city's results (the coordinator's own city; the province names one)."""
    principal = signed_in(request, Permission.RESULTS_PUBLISH)
    form = await request.post()
    city = principal.city_code or str(form.get("city", "")).strip()
    if not city:
        raise invalid("请选择城市", "Choose a city", field="city")
    app = request.app
    async with app[DB]() as session, session.begin():
        publication = await publish_results(
            session,
            principal,
            city,
            now=app[CLOCK].now(),
            secret=app[SECRET],
            base_url=base_url(app[SETTINGS]),
            objection_days=app[SETTINGS].objection_working_days,
        )
    raise web.HTTPSeeOther(f"/results/{publication.id}")


@routes.get(r"/results/{publication_id:\d+}", name="publication")
@aiohttp_jinja2.template("publication.html")
async def publication_page(request: web.Request) -> dict[str, Any]:
    """One publication: its list, its files, and (for the city's coordinators) its objections."""
    principal = signed_in(request)
    lang = lang_of(request)
    async with request.app[DB_READ]() as session:
        publication = await visible_publication(session, principal, int(request.match_info["publication_id"]))
        may_decide = allowed(principal, Permission.RESULTS_PUBLISH) and principal.city_code in (
            None,
            publication.city_code,
        )
        objections = await objections_of(session, publication.id) if may_decide else []
    return {
        "publication": publication,
        "rows": rows_of(publication),
        "outcome_label": {o.value: OUTCOME_LABELS[o].in_lang(lang) for o in Outcome},
        "party_label": {k.value: m.in_lang(lang) for k, m in PARTY_LABELS.items()},
        "objections": objections,
        "may_decide": may_decide,
        "outcomes": [(o.value, OUTCOME_LABELS[o].in_lang(lang)) for o in Outcome],
    }


@routes.get(r"/results/{publication_id:\d+}.{ext:(csv|xlsx)}")
async def publication_file(request: web.Request) -> web.Response:
    """The publication as CSV or XLSX."""
    principal = signed_in(request)
    async with request.app[DB_READ]() as session:
        publication = await visible_publication(session, principal, int(request.match_info["publication_id"]))
    rows = rows_of(publication)
    ext = request.match_info["ext"]
    body = csv_file(rows) if ext == "csv" else xlsx_file(rows, created=publication.published_at)
    kind = (
        "text/csv; charset=utf-8"
        if ext == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"results-{publication.city_code}-{publication.id}.{ext}"
    return web.Response(
        body=body, headers={"Content-Type": kind, "Content-Disposition": f'attachment; filename="{name}"'}
    )


@routes.post(r"/objections/{objection_id:\d+}/decision")
async def decision_submit(request: web.Request) -> web.StreamResponse:
    """Uphold the outcome or overturn it, with reasons (the city's coordinator)."""
    principal = signed_in(request, Permission.RESULTS_PUBLISH)
    form = await request.post()
    choice = str(form.get("decision", ""))
    if choice not in ("uphold", "overturn"):
        raise invalid("请选择维持或撤销原结论", "Choose to uphold or overturn the outcome", field="decision")
    raw = str(form.get("new_outcome", ""))
    try:
        new_outcome = Outcome(raw) if raw else None
    except ValueError:
        raise invalid("结论无效", "Unknown outcome", field="new_outcome") from None
    app = request.app
    async with app[DB]() as session, session.begin():
        objection, _ = await decide(
            session,
            principal,
            int(request.match_info["objection_id"]),
            uphold=choice == "uphold",
            reason=str(form.get("reason", "")),
            new_outcome=new_outcome,
            now=app[CLOCK].now(),
        )
    raise web.HTTPSeeOther(f"/results/{objection.publication_id}#objection-{objection.id}")


@routes.get(r"/objections/files/{file_id:\d+}")
async def objection_file(request: web.Request) -> web.Response:
    """An objection's file, for the city's coordinators."""
    principal = signed_in(request, Permission.RESULTS_PUBLISH)
    async with request.app[DB_READ]() as session:
        found = (
            await session.execute(
                select(ObjectionFile, Objection.city_code)
                .join(Objection, Objection.id == ObjectionFile.objection_id)
                .where(ObjectionFile.id == int(request.match_info["file_id"]))
            )
        ).first()
    if found is None or principal.city_code not in (None, found[1]):
        raise NotFound("文件", "File")
    stored: ObjectionFile = found[0]
    return web.Response(
        body=stored.content,
        headers={
            "Content-Type": stored.media_type,
            "Content-Disposition": f'attachment; filename="objection-file-{stored.id}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def _link_context(request: web.Request) -> dict[str, Any]:
    return {"city": request.match_info["city"], "token": request.match_info["token"]}


@routes.get(r"/objections/{city:\d{4}}/{token}", name="objection_form")
@aiohttp_jinja2.template("objection.html")
async def objection_form(request: web.Request) -> dict[str, Any]:
    """The public objection form a signed link opens (refused if forged or late)."""
    app = request.app
    link = verify(request.match_info["token"], app[SECRET], now=app[CLOCK].now())
    async with app[DB_READ]() as session:
        publication = await session.get(Publication, link.publication_id)
    if publication is None or publication.city_code != request.match_info["city"]:
        raise DomainError(
            Message(
                "此链接不属于该市的抽查结果公布。",
                "This link does not belong to this city's published results.",
            ),
            403,
            "objection_foreign",
        )
    row = next((r for r in publication.rows if r["project_id"] == link.project_id), None)
    if row is None:
        raise NotFound("公布的项目", "Published project")
    lang = lang_of(request)
    return {
        **_link_context(request),
        "row": row,
        "outcome": OUTCOME_LABELS[Outcome(row["outcome"])].in_lang(lang),
        "party": PARTY_LABELS[link.party].in_lang(lang),
        "until": publication.objections_until,
        "done": False,
    }


@routes.post(r"/objections/{city:\d{4}}/{token}")
@aiohttp_jinja2.template("objection.html")
async def objection_submit(request: web.Request) -> dict[str, Any]:
    """Submit the objection: text and files (PDF, PNG, JPEG)."""
    app = request.app
    form = await request.post()
    files = []
    for field in form.getall("files", []):
        if isinstance(field, web.FileField) and field.filename:
            files.append((unquote(field.filename), field.file.read()))  # some clients percent-encode
    async with app[DB]() as session, session.begin():
        objection = await submit_objection(
            session,
            request.match_info["token"],
            city_code=request.match_info["city"],
            text=str(form.get("text", "")),
            files=files,
            secret=app[SECRET],
            now=app[CLOCK].now(),
        )
    return {**_link_context(request), "done": True, "objection_id": objection.id}


@routes.get("/sanctions", name="sanctions")
@aiohttp_jinja2.template("sanctions.html")
async def sanctions_page(request: web.Request) -> dict[str, Any]:
    """The bars register: who is barred from public funding, until when, why, and lifted bars."""
    signed_in(request, Permission.PROJECT_READ)
    lang = lang_of(request)
    standing = request.query.get("all", "") != "1"
    async with request.app[DB_READ]() as session:
        bars = await register(session, standing_only=standing)
    return {
        "bars": bars,
        "standing": standing,
        "party_label": {k.value: m.in_lang(lang) for k, m in PARTY_LABELS.items()},
    }
