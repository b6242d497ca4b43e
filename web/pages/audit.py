"""The audit log page: filters, entries newest first, export link and chain verification."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from pydantic import ValidationError

from remote_check.accounts.access import Permission
from remote_check.accounts.service import user_labels
from remote_check.audit.schemas import AuditPage, AuditQuery
from remote_check.audit.service import may_verify, search_audit, verify_report
from remote_check.clock import SHANGHAI
from remote_check.errors import invalid
from web.context import lang_of
from web.inputs import validation_error
from web.keys import AUDIT_KEY, CHECKPOINTS, DB
from web.pages.common import signed_in

routes = web.RouteTableDef()


def _day(text: str, name: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise invalid(
            f"{name} 日期格式应为 YYYY-MM-DD", f"{name} must be a date as YYYY-MM-DD", field=name
        ) from None


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=SHANGHAI)


async def _actor_names(request: web.Request, page: AuditPage) -> dict[str, str]:
    ids = {int(e.actor[5:]) for e in page.items if e.actor.startswith("user:") and e.actor[5:].isdigit()}
    if not ids:
        return {}
    async with request.app[DB]() as session:
        labels = await user_labels(session, ids)
    return {f"user:{uid}": label for uid, label in labels.items()}


@routes.get("/audit", name="audit")
@aiohttp_jinja2.template("audit.html")
async def audit_page(request: web.Request) -> dict[str, Any]:
    principal = signed_in(request, Permission.AUDIT_READ)
    lang = lang_of(request)
    form = {k: request.query.get(k, "").strip() for k in ("action", "actor", "since", "until")}
    since_day = _day(form["since"], "since")
    until_day = _day(form["until"], "until")
    params: dict[str, Any] = {k: form[k] for k in ("action", "actor") if form[k]}
    if since_day is not None:
        params["since"] = _start_of(since_day)
    if until_day is not None:
        # The form's "until" day is included: the query's bound is the next midnight.
        params["until"] = _start_of(until_day + dt.timedelta(days=1))
    params["page"] = request.query.get("page", "1")
    try:
        query = AuditQuery.model_validate(params)
    except ValidationError as exc:
        raise validation_error(exc, lang) from None
    async with request.app[DB]() as session:
        page = await search_audit(session, principal, query)
        report = (
            await verify_report(
                session, principal, lang, request.app[AUDIT_KEY], request.app[CHECKPOINTS].file
            )
            if request.query.get("verify")
            else None
        )
    filled = {k: v for k, v in form.items() if v}
    api_filters = {
        k: (v.isoformat() if isinstance(v, dt.datetime) else v)
        for k, v in query.model_dump(exclude={"page", "page_size"}, exclude_none=True).items()
        if v
    }

    def page_url(number: int) -> str:
        return "/audit?" + urlencode({**filled, "page": str(number)})

    return {
        "page": page,
        "form": form,
        "names": await _actor_names(request, page),
        "details": {e.seq: json.dumps(e.details, ensure_ascii=False, sort_keys=True) for e in page.items},
        "export_url": "/api/audit/export.csv" + ("?" + urlencode(api_filters) if api_filters else ""),
        "verify_url": "/audit?" + urlencode({**filled, "verify": "1"}),
        "may_verify": may_verify(principal),
        "report": report,
        "prev_url": page_url(page.page - 1) if page.page > 1 else "",
        "next_url": page_url(page.page + 1) if page.page < page.pages else "",
    }
