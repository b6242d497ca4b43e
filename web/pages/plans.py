"""The planning pages (``/plans``): propose a plan of the published samples' checks, watch it being
made (``static/plans/progress.js`` polls ``/api/plans/{id}``; without script the page offers a
reload), then read it per city and per supplier with what could not be placed and why, and apply it:
every check booked in one transaction, or none, the page naming the check that clashed."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from remote_check.accounts.access import Permission, Principal, ScopeKind, project_scope
from remote_check.errors import DomainError, Message
from scheduler.planning.proposals import Proposal
from scheduler.planning.service import PlanningOptions, build_source
from scheduler.planning.views import city_name, proposal_view
from web.context import lang_of
from web.keys import CLOCK, DB, DB_READ, PLANS, SETTINGS
from web.pages.common import signed_in

routes = web.RouteTableDef()

PLAN = r"/plans/{plan_id:\d+}"
STATES = {
    "running": Message("排期中", "planning"),
    "done": Message("待确认", "ready to apply"),
    "failed": Message("失败", "failed"),
    "applied": Message("已应用", "applied"),
}


def _scope(principal: Principal) -> Message:
    scope = project_scope(principal)
    if scope.kind == ScopeKind.CITY and scope.city_code:
        name = city_name(scope.city_code)
        return Message(
            f"{name.zh}（其他城市已预订的核查保持不变）", f"{name.en} (other cities' booked checks stay)"
        )
    return Message("全省各市", "every city of the province")


def _summary(proposal: Proposal) -> dict[str, Any]:
    fixed = {f.project for f in proposal.source.instance.fixed}
    result = proposal.result
    return {
        "id": proposal.id,
        "state": proposal.state.value,
        "to_place": len(proposal.source.to_place),
        "placed": "" if result is None else sum(s.project not in fixed for s in result.plan.sessions),
        "unplaced": "" if result is None else len(result.plan.unscheduled),
    }


def _list_context(request: web.Request, principal: Principal, error: str = "") -> dict[str, Any]:
    return {
        "proposals": [_summary(p) for p in request.app[PLANS].of(principal.user_id)],
        "scope": _scope(principal).in_lang(lang_of(request)),
        "seconds": request.app[SETTINGS].planning.seconds,
        "states": {k: v.in_lang(lang_of(request)) for k, v in STATES.items()},
        "error": error,
    }


@routes.get("/plans", name="plans")
@aiohttp_jinja2.template("plans.html")
async def plans_page(request: web.Request) -> dict[str, Any]:
    """Propose a plan; the user's recent proposals."""
    principal = signed_in(request, Permission.PLAN_WRITE)
    return _list_context(request, principal)


@routes.post("/plans")
async def propose(request: web.Request) -> web.StreamResponse:
    """Start the planner (on a worker thread) and show its progress."""
    principal = signed_in(request, Permission.PLAN_WRITE)
    app = request.app
    settings = app[SETTINGS].planning
    try:
        async with app[DB_READ]() as session:
            source = await build_source(
                session, principal, now=app[CLOCK].now(), options=PlanningOptions.of(settings)
            )
        proposal = app[PLANS].start(principal.user_id, source, settings.seconds)
    except DomainError as exc:
        if exc.status != 409:
            raise
        context = _list_context(request, principal, exc.message.in_lang(lang_of(request)))
        return aiohttp_jinja2.render_template("plans.html", request, context, status=409)
    raise web.HTTPSeeOther(f"/plans/{proposal.id}")


def _plan_context(proposal: Proposal, error: str = "") -> dict[str, Any]:
    result = proposal.result
    view = None
    if result is not None:
        view = proposal_view(proposal.source, result.plan, result.makespan)
    return {
        "p": proposal,
        "view": view,
        "notes": proposal.source.notes,
        "to_place": len(proposal.source.to_place),
        "percent": int(proposal.progress() * 100),
        "city_name": city_name,
        "error": error,
    }


@routes.get(PLAN, name="plan")
@aiohttp_jinja2.template("plan.html")
async def plan_page(request: web.Request) -> dict[str, Any]:
    """A proposal: its progress while the planner runs, then the plan."""
    principal = signed_in(request, Permission.PLAN_WRITE)
    proposal = request.app[PLANS].get(principal.user_id, int(request.match_info["plan_id"]))
    return _plan_context(proposal)


@routes.post(PLAN + "/apply")
async def apply(request: web.Request) -> web.StreamResponse:
    """Book every check of the proposal in one transaction; a refusal books nothing and names the check."""
    principal = signed_in(request, Permission.PLAN_WRITE)
    plans = request.app[PLANS]
    proposal = plans.get(principal.user_id, int(request.match_info["plan_id"]))
    try:
        async with request.app[DB]() as session, session.begin():
            booked = await plans.apply(session, principal, proposal, now=request.app[CLOCK].now())
            ids = [c.id for c in booked]
    except DomainError as exc:
        if exc.status == 404:
            raise
        context = _plan_context(proposal, exc.message.in_lang(lang_of(request)))
        return aiohttp_jinja2.render_template("plan.html", request, context, status=exc.status)
    plans.applied(proposal, ids)
    raise web.HTTPSeeOther(f"/plans/{proposal.id}")
