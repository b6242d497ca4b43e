"""Campaign pages: the list, a campaign with its draws, and a draw with its reasons and publish button."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import (
    Permission,
    Principal,
    ScopeKind,
    allowed,
    project_scope,
    require_city,
)
from remote_check.audit.service import Actor
from remote_check.campaigns import review, service
from remote_check.campaigns.models import DrawStatus
from remote_check.campaigns.sampling import REASON_LABELS, Reason, Target
from remote_check.campaigns.schemas import CampaignCreate, DrawCreate
from remote_check.campaigns.visible import campaign_in_scope, draw_in_scope, visible_campaigns
from remote_check.errors import DomainError, Message, invalid
from remote_check.programme.cities import CITIES
from remote_check.programme.status import LABELS as STATUS_LABELS
from web.context import lang_of
from web.keys import CLOCK, DB, SETTINGS
from web.pages.common import parse_form, signed_in

routes = web.RouteTableDef()

REASON_CLASS = {
    Reason.PRICE_OVER_LISTED: "fail",
    Reason.PRICE_OVER_PEERS: "fail",
    Reason.UNDERPAID: "warn",
    Reason.NO_USAGE_LOGS: "warn",
    Reason.RECHECK: "warn",
}


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def _form(request: web.Request) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await request.post()).items()}


# The forms' fields as their labels name them, for refusals ("预算应为数字", "Budget must be a number").
CAMPAIGN_LABELS = {
    "city_code": Message("城市", "City"),
    "period": Message("抽查年度", "Period"),
    "title": Message("标题", "Title"),
    "budget": Message("预算", "Budget"),
    "deadline": Message("截止日期", "Deadline"),
}
DRAW_LABELS = {
    "ratio": Message("抽取比例", "Ratio"),
    "count": Message("抽取数量", "Count"),
    "seed": Message("随机种子", "Seed"),
}


async def _list_context(session: AsyncSession, request: web.Request, principal: Principal) -> dict[str, Any]:
    campaigns = await visible_campaigns(session, principal)
    cities = [c for c in CITIES if principal.city_code is None or c.code == principal.city_code]
    return {
        "campaigns": campaigns,
        "cities": cities,
        "city_names": {c.code: (c.name_en if lang_of(request) == "en" else c.name_zh) for c in CITIES},
        "can_write": allowed(principal, Permission.CAMPAIGN_WRITE),
        "error": "",
        "form": {},
    }


@routes.get("/campaigns", name="campaigns")
async def campaigns_page(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.CAMPAIGN_READ)
    async with request.app[DB]() as session:
        context = await _list_context(session, request, principal)
    return aiohttp_jinja2.render_template("campaigns/list.html", request, context)


@routes.post("/campaigns")
async def campaigns_create(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.CAMPAIGN_WRITE)
    form = await _form(request)
    try:
        require_city(principal, form.get("city_code", ""))
        typed = {k: v for k, v in form.items() if k in CAMPAIGN_LABELS}
        body = parse_form(CampaignCreate, typed, CAMPAIGN_LABELS)
        new = service.NewCampaign(body.city_code, body.period, body.budget, body.deadline, body.title)
        async with request.app[DB]() as session, session.begin():
            campaign = await service.create_campaign(
                session,
                new,
                actor=Actor.of(principal),
                now=request.app[CLOCK].now(),
                created_by=principal.user_id,
            )
            campaign_id = campaign.id
    except DomainError as exc:
        if exc.status == 403:
            raise
        async with request.app[DB]() as session:
            context = await _list_context(session, request, principal)
        context.update(error=exc.message.in_lang(lang_of(request)), form=form)
        return aiohttp_jinja2.render_template("campaigns/list.html", request, context, status=exc.status)
    raise web.HTTPSeeOther(f"/campaigns/{campaign_id}")


async def _detail_context(
    session: AsyncSession, request: web.Request, principal: Principal
) -> dict[str, Any]:
    campaign = await campaign_in_scope(session, principal, _id(request))
    draws = await service.list_draws(session, campaign.id)
    if project_scope(principal).kind == ScopeKind.CLUSTER:  # alliance staff: the published sample only
        draws = [d for d in draws if d.status == DrawStatus.PUBLISHED]
    sizes = await service.draw_sizes(session, [d.id for d in draws])
    city = next((c for c in CITIES if c.code == campaign.city_code), None)
    return {
        "campaign": campaign,
        "city": (city.name_en if lang_of(request) == "en" else city.name_zh) if city else campaign.city_code,
        "draws": [(d, sizes.get(d.id, 0), service.draw_target(d).size(d.population)) for d in draws],
        "published": any(d.status == DrawStatus.PUBLISHED for d in draws),
        "can_draw": allowed(principal, Permission.DRAW_WRITE),
        "default_ratio": request.app[SETTINGS].sampling.default_ratio,
        "error": "",
        "form": {},
    }


@routes.get("/campaigns/{id:\\d+}", name="campaign")
async def campaign_page(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.CAMPAIGN_READ)
    async with request.app[DB]() as session:
        context = await _detail_context(session, request, principal)
    return aiohttp_jinja2.render_template("campaigns/detail.html", request, context)


def _target(form: dict[str, str], default_ratio: Decimal) -> tuple[Target, str | None]:
    """The draw form (mode, then ratio or count; seed) checked by the API's :class:`DrawCreate`."""
    typed = (
        {"count": form.get("count", "")} if form.get("mode") == "count" else {"ratio": form.get("ratio", "")}
    )
    typed["seed"] = form.get("seed", "")
    body = parse_form(DrawCreate, {k: v for k, v in typed.items() if v}, DRAW_LABELS)
    if body.count is not None:
        return Target(count=body.count), body.seed
    return Target(ratio=body.ratio if body.ratio is not None else default_ratio), body.seed


@routes.post("/campaigns/{id:\\d+}/draws")
async def draw_create(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.DRAW_WRITE)
    form = await _form(request)
    settings = request.app[SETTINGS].sampling
    try:
        target, seed = _target(form, settings.default_ratio)
        async with request.app[DB]() as session, session.begin():
            campaign = await campaign_in_scope(session, principal, _id(request))
            draw = await service.create_draw(
                session,
                campaign,
                target=target,
                seed=seed,
                thresholds=service.thresholds_from(settings),
                actor=Actor.of(principal),
                now=request.app[CLOCK].now(),
                created_by=principal.user_id,
            )
            draw_id = draw.id
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        async with request.app[DB]() as session:
            context = await _detail_context(session, request, principal)
        context.update(error=exc.message.in_lang(lang_of(request)), form=form)
        return aiohttp_jinja2.render_template("campaigns/detail.html", request, context, status=exc.status)
    raise web.HTTPSeeOther(f"/draws/{draw_id}")


async def _draw_context(session: AsyncSession, request: web.Request, principal: Principal) -> dict[str, Any]:
    lang = lang_of(request)
    draw, campaign = await draw_in_scope(session, principal, _id(request))
    cluster_only = project_scope(principal).kind == ScopeKind.CLUSTER  # alliance staff: cluster projects
    rows = await review.entry_rows(session, draw.id, cluster_only=cluster_only)
    target = service.draw_target(draw).size(draw.population)
    labels = {r.value: (m.in_lang(lang), REASON_CLASS.get(r, "")) for r, m in REASON_LABELS.items()}
    return {
        "draw": draw,
        "campaign": campaign,
        "rows": rows,
        "target": target,
        "exceeds": len(rows) > target,
        "reasons": labels,
        "statuses": {s.value: m.in_lang(lang) for s, m in STATUS_LABELS.items()},
        "can_publish": allowed(principal, Permission.DRAW_WRITE) and draw.status == DrawStatus.DRAFT,
        "can_export": allowed(principal, Permission.DRAW_EXPORT),
        "error": "",
    }


@routes.get("/draws/{id:\\d+}", name="draw")
async def draw_page(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.CAMPAIGN_READ)
    async with request.app[DB]() as session:
        context = await _draw_context(session, request, principal)
    return aiohttp_jinja2.render_template("campaigns/draw.html", request, context)


@routes.post("/draws/{id:\\d+}/publish")
async def draw_publish(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.DRAW_WRITE)
    form = await _form(request)
    try:
        async with request.app[DB]() as session, session.begin():
            draw, _campaign = await draw_in_scope(session, principal, _id(request))
            if form.get("confirm") != "yes":
                raise invalid("请勾选确认后再发布", "Tick the confirmation box to publish", field="confirm")
            await service.publish_draw(
                session, draw.id, actor=Actor.of(principal), now=request.app[CLOCK].now()
            )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        async with request.app[DB]() as session:
            context = await _draw_context(session, request, principal)
        context["error"] = exc.message.in_lang(lang_of(request))
        return aiohttp_jinja2.render_template("campaigns/draw.html", request, context, status=exc.status)
    raise web.HTTPSeeOther(f"/draws/{_id(request)}")
