"""A project's verdict page (the panel's opinions, the lead's proposal, the coordinator's
confirmation or return, a no-show's conclusion, suggestions) and its conclusion form (核查意见表)
as a page to print and a PDF.

Each form posts to ``/projects/{id}/verdict/...`` and comes back to the page; a refusal shows the
page again with the reason, and changes nothing (:mod:`scheduler.verdicts` decides).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.conclusion import item_moments, load_form, replay_url
from recordings.conclusion_pdf import conclusion_pdf
from recordings.report import RESULT_LABELS, clock_text
from remote_check.accounts.access import Permission, Principal
from remote_check.accounts.models import Role
from remote_check.checklist.labels import STANDARD_LABELS
from remote_check.checklist.models import Standard
from remote_check.errors import DomainError, Message
from remote_check.outcomes.kinds import OUTCOME_LABELS, VIOLATION_LABELS, Outcome, ViolationKind
from remote_check.outcomes.verdict_labels import PASS_LABELS, STATE_LABELS, TOPIC_LABELS
from remote_check.outcomes.verdict_models import SuggestionTopic, VerdictState
from remote_check.outcomes.verdict_schemas import NoShowIn, OpinionsIn, ProposalIn, ReturnIn, SuggestionIn
from remote_check.programme.status import LABELS
from scheduler import verdicts
from scheduler.models import SessionStatus
from web.context import lang_of
from web.keys import CLOCK, DB, DB_READ, SETTINGS
from web.pages.common import parse_form, signed_in
from web.session_facts import base_url

routes = web.RouteTableDef()

PAGE = r"/projects/{id:\d+}/verdict"
FIELDS = {
    "opinions": Message("意见", "Opinions"),
    "outcome": Message("结论", "Outcome"),
    "violation": Message("违规情形", "Kind of violation"),
    "description": Message("情形描述", "Description"),
    "reasons": Message("理由", "Reasons"),
    "note": Message("说明", "Note"),
    "topic": Message("类别", "Topic"),
    "text": Message("内容", "Text"),
}


def _project_id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def _context(
    request: web.Request, session: AsyncSession, principal: Principal, project_id: int
) -> dict[str, Any]:
    lang = lang_of(request)
    found = await verdicts.load_file(session, principal, project_id)
    sid = found.check.id if found.check is not None else None
    moments = await item_moments(session, sid)
    seat = found.seat_of(principal)
    coordinator = principal.role == Role.CITY_COORDINATOR and principal.city_code == found.project.city_code
    verdict = found.verdict
    no_show = found.check is not None and found.check.status == SessionStatus.NO_SHOW
    items = [
        {
            "code": i.code,
            "standard": STANDARD_LABELS[i.standard].in_lang(lang),
            "title": i.title_en if lang == "en" else i.title_zh,
            "result": i.result.value,
            "result_label": RESULT_LABELS[i.result].in_lang(lang),
            "notes": i.notes,
            "moments": [
                {"text": clock_text(s), "url": replay_url("", sid, s)} for s in moments.get(i.id, []) if sid
            ],
        }
        for i in found.items
    ]
    panel = []
    for s in found.panel:
        mine = found.opinions_of(s.expert_id)
        panel.append(
            {
                "expert_id": s.expert_id,
                "name": s.name,
                "lead": s.lead,
                "opinions": [
                    {
                        "standard": std.value,
                        "passed": mine[std].passed if std in mine else None,
                        "label": PASS_LABELS[mine[std].passed].in_lang(lang) if std in mine else "",
                        "reasons": mine[std].reasons if std in mine else "",
                    }
                    for std in Standard
                ],
            }
        )
    mine = found.opinions_of(seat.expert_id) if seat is not None else {}
    return {
        "f": found,
        "p": found.project,
        "status_label": LABELS[found.project.status].in_lang(lang),
        "items": items,
        "panel": panel,
        "tallies": found.tallies,
        "standards": [(s.value, STANDARD_LABELS[s].in_lang(lang)) for s in Standard],
        "standard_label": {s.value: STANDARD_LABELS[s].in_lang(lang) for s in Standard},
        "mine": {s.value: {"passed": o.passed, "reasons": o.reasons} for s, o in mine.items()},
        "verdict": verdict,
        "lead_name": next((s.name for s in found.panel if s.lead), ""),
        "state_label": STATE_LABELS[verdict.state].in_lang(lang) if verdict else "",
        "outcome_label": OUTCOME_LABELS[verdict.outcome].in_lang(lang) if verdict else "",
        "violation_label": VIOLATION_LABELS[verdict.violation].in_lang(lang)
        if verdict and verdict.violation
        else "",
        "outcomes": [(o.value, OUTCOME_LABELS[o].in_lang(lang)) for o in Outcome],
        "violations": [(v.value, VIOLATION_LABELS[v].in_lang(lang)) for v in ViolationKind],
        "topics": [(t.value, TOPIC_LABELS[t].in_lang(lang)) for t in SuggestionTopic],
        "topic_label": {t.value: TOPIC_LABELS[t].in_lang(lang) for t in SuggestionTopic},
        "may_opine": seat is not None and found.panel_may_act,
        "may_propose": seat is not None and seat.lead and found.panel_may_act,
        "may_suggest": seat is not None,
        "may_confirm": coordinator and verdict is not None and verdict.state == VerdictState.PROPOSED,
        "may_no_show": coordinator and no_show and verdict is None,
        "no_show": no_show,
        "error": "",
    }


async def render(
    request: web.Request, principal: Principal, error: DomainError | None = None
) -> web.Response:
    """The page, with a refusal's reason if there is one (and its status)."""
    async with request.app[DB_READ]() as session:
        context = await _context(request, session, principal, _project_id(request))
    if error is not None:
        context["error"] = error.message.in_lang(lang_of(request))
    return aiohttp_jinja2.render_template(
        "verdict.html", request, context, status=error.status if error is not None else 200
    )


@routes.get(PAGE, name="verdict")
async def verdict_page(request: web.Request) -> web.StreamResponse:
    """The project's verdict: what the panel found and what each reader may do next."""
    return await render(request, signed_in(request, Permission.PROJECT_READ))


Action = Callable[[AsyncSession, Principal, int, dict[str, Any]], Awaitable[object]]


async def _act(request: web.Request, permission: Permission, action: Action) -> web.StreamResponse:
    principal = signed_in(request, permission)
    form = await request.post()
    try:
        async with request.app[DB]() as session, session.begin():
            await action(
                session, principal, _project_id(request), {"form": form, "now": request.app[CLOCK].now()}
            )
    except DomainError as exc:
        return await render(request, principal, exc)
    raise web.HTTPSeeOther(f"/projects/{_project_id(request)}/verdict")


def _text(form: Any, key: str) -> str:
    return str(form.get(key, ""))


@routes.post(PAGE + "/opinions")
async def opinions_submit(request: web.Request) -> web.StreamResponse:
    """The expert's three opinions, from one form (``passed-<standard>``, ``reasons-<standard>``)."""

    async def act(
        session: AsyncSession, principal: Principal, project_id: int, ctx: dict[str, Any]
    ) -> object:
        form = ctx["form"]
        given = [
            {
                "standard": s.value,
                "passed": form[f"passed-{s.value}"] == "yes",
                "reasons": _text(form, f"reasons-{s.value}"),
            }
            for s in Standard
            if form.get(f"passed-{s.value}") in ("yes", "no")
        ]
        body = parse_form(OpinionsIn, {"opinions": given}, FIELDS)
        return await verdicts.give_opinions(
            session,
            principal,
            project_id,
            [(o.standard, o.passed, o.reasons) for o in body.opinions],
            now=ctx["now"],
        )

    return await _act(request, Permission.VERDICT_OPINE, act)


@routes.post(PAGE + "/proposal")
async def proposal_submit(request: web.Request) -> web.StreamResponse:
    """The lead's proposed conclusion."""

    async def act(
        session: AsyncSession, principal: Principal, project_id: int, ctx: dict[str, Any]
    ) -> object:
        form = ctx["form"]
        raw = {k: _text(form, k) for k in ("outcome", "violation", "description", "reasons")}
        if not raw["violation"] or raw["outcome"] != Outcome.VIOLATION.value:
            raw.pop("violation")
        body = parse_form(ProposalIn, raw, FIELDS)
        return await verdicts.propose(
            session,
            principal,
            project_id,
            outcome=body.outcome,
            violation=body.violation,
            description=body.description,
            reasons=body.reasons,
            now=ctx["now"],
        )

    return await _act(request, Permission.VERDICT_OPINE, act)


@routes.post(PAGE + "/confirm")
async def confirm_submit(request: web.Request) -> web.StreamResponse:
    """The coordinator confirms: the outcome is applied to the project."""

    async def act(
        session: AsyncSession, principal: Principal, project_id: int, ctx: dict[str, Any]
    ) -> object:
        return await verdicts.confirm(
            session,
            principal,
            project_id,
            now=ctx["now"],
            wecom_cities=request.app[SETTINGS].wecom_webhooks.keys(),
        )

    return await _act(request, Permission.VERDICT_CONFIRM, act)


@routes.post(PAGE + "/return")
async def return_submit(request: web.Request) -> web.StreamResponse:
    """The coordinator returns the proposal to the lead with a note."""

    async def act(
        session: AsyncSession, principal: Principal, project_id: int, ctx: dict[str, Any]
    ) -> object:
        body = parse_form(ReturnIn, {"note": _text(ctx["form"], "note")}, FIELDS)
        return await verdicts.return_to_lead(session, principal, project_id, note=body.note, now=ctx["now"])

    return await _act(request, Permission.VERDICT_CONFIRM, act)


@routes.post(PAGE + "/no-show")
async def no_show_submit(request: web.Request) -> web.StreamResponse:
    """The coordinator concludes the project's no-show session as unqualified."""

    async def act(
        session: AsyncSession, principal: Principal, project_id: int, ctx: dict[str, Any]
    ) -> object:
        body = parse_form(NoShowIn, {"note": _text(ctx["form"], "note")}, FIELDS)
        found = await verdicts.load_file(session, principal, project_id)
        if found.check is None:
            raise DomainError(
                Message("该项目没有缺席的核查会议", "The project has no no-show session"), 409, "conflict"
            )
        return await verdicts.confirm_no_show(
            session, principal, found.check.id, note=body.note, now=ctx["now"]
        )

    return await _act(request, Permission.VERDICT_CONFIRM, act)


@routes.post(r"/projects/{id:\d+}/suggestions")
async def suggestion_submit(request: web.Request) -> web.StreamResponse:
    """An expert's suggestion, or a problem reported to the city."""

    async def act(
        session: AsyncSession, principal: Principal, project_id: int, ctx: dict[str, Any]
    ) -> object:
        form = ctx["form"]
        body = parse_form(SuggestionIn, {"topic": _text(form, "topic"), "text": _text(form, "text")}, FIELDS)
        return await verdicts.suggest(
            session, principal, project_id, topic=body.topic, text=body.text, now=ctx["now"]
        )

    return await _act(request, Permission.VERDICT_OPINE, act)


@routes.get(r"/projects/{id:\d+}/conclusion", name="conclusion")
@aiohttp_jinja2.template("verdict_form.html")
async def conclusion_page(request: web.Request) -> dict[str, Any]:
    """The conclusion form to print (Chinese, print CSS)."""
    principal = signed_in(request, Permission.PROJECT_READ)
    async with request.app[DB_READ]() as session:
        form = await load_form(
            session, principal, _project_id(request), base_url(request, request.app[SETTINGS])
        )
    return {"form": form, "made_at": request.app[CLOCK].now()}


@routes.get(r"/projects/{id:\d+}/conclusion.pdf", name="conclusion_pdf")
async def conclusion_pdf_file(request: web.Request) -> web.StreamResponse:
    """The conclusion form as a PDF (the CJK font embedded)."""
    principal = signed_in(request, Permission.PROJECT_READ)
    async with request.app[DB_READ]() as session:
        form = await load_form(
            session, principal, _project_id(request), base_url(request, request.app[SETTINGS])
        )
    data = await asyncio.to_thread(conclusion_pdf, form, request.app[CLOCK].now())
    return web.Response(
        body=data,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="conclusion-{form.project_code}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@routes.get("/verdicts", name="verdicts")
@aiohttp_jinja2.template("verdicts.html")
async def verdicts_page(request: web.Request) -> dict[str, Any]:
    """The conclusions under way or made in the reader's scope: proposals awaiting the coordinator
    first, then returned ones, checked projects awaiting their panel, confirmed ones."""
    principal = signed_in(request, Permission.PROJECT_READ)
    lang = lang_of(request)
    async with request.app[DB_READ]() as session:
        rows = await verdicts.verdict_list(session, principal)
    waiting = Message("待专家意见或组长提出", "Awaiting the panel")
    return {
        "rows": [
            {
                "project_id": r.project_id,
                "code": r.project_code,
                "enterprise": r.enterprise,
                "state": r.state.value if r.state else "checked",
                "state_label": STATE_LABELS[r.state].in_lang(lang) if r.state else waiting.in_lang(lang),
                "outcome": r.outcome.value if r.outcome else "",
                "outcome_label": OUTCOME_LABELS[r.outcome].in_lang(lang) if r.outcome else "",
                "at": r.at,
            }
            for r in rows
        ]
    }
