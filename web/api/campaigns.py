"""Campaigns, their draws (抽查名单), publishing and the CSV export.

A city coordinator sees and changes only their own city's campaigns: a campaign or draw of a
city the caller does not see is answered 404, like one that does not exist
(:mod:`remote_check.campaigns.visible`); opening a campaign for another city is refused (403).
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Permission, ScopeKind, project_scope, require_city
from remote_check.audit.service import Actor
from remote_check.campaigns import review, service
from remote_check.campaigns.models import Draw
from remote_check.campaigns.sampling import ALGORITHM, Target, reason_label
from remote_check.campaigns.schemas import (
    CampaignCreate,
    CampaignDetail,
    CampaignList,
    CampaignOut,
    DrawCreate,
    DrawEntryOut,
    DrawOut,
    DrawSummary,
    DrawVerification,
    campaign_out,
    draw_summary,
)
from remote_check.campaigns.visible import campaign_in_scope, draw_in_scope, visible_campaigns
from web.api.registry import Api, Call
from web.keys import CLOCK, SETTINGS

api = Api("campaigns")


async def summary_of(session: AsyncSession, draw: Draw) -> DrawSummary:
    sizes = await service.draw_sizes(session, [draw.id])
    return draw_summary(draw, sizes.get(draw.id, 0), service.draw_target(draw).size(draw.population))


async def draw_out(
    session: AsyncSession, draw: Draw, city_code: str, lang: str, *, cluster_only: bool = False
) -> DrawOut:
    """A draw with every drawn project (``cluster_only``: its cluster projects, for alliance staff),
    its reasons (codes and labels in ``lang``) and facts."""
    rows = await review.entry_rows(session, draw.id, cluster_only=cluster_only)
    size = (await service.draw_sizes(session, [draw.id])).get(draw.id, 0) if cluster_only else len(rows)
    summary = draw_summary(draw, size, service.draw_target(draw).size(draw.population))
    return DrawOut(
        draw=summary,
        city_code=city_code,
        algorithm=str(draw.inputs.get("algorithm", ALGORITHM)),
        thresholds=draw.thresholds,
        exceeds_target=summary.size > summary.target,
        entries=[
            DrawEntryOut(
                position=r.entry.position,
                project_id=r.project.id,
                project_code=r.project.code,
                enterprise_name=r.enterprise.name,
                supplier_name=r.supplier.name,
                product_name=r.product.name,
                contract_amount=r.project.contract_amount,
                status=r.project.status.value,
                reasons=list(r.entry.reasons),
                reason_labels=[reason_label(x, lang) for x in r.entry.reasons],
                facts=r.entry.facts,
            )
            for r in rows
        ],
    )


@api.get(
    "/api/campaigns", summary="List the campaigns of the cities you see", permission=Permission.CAMPAIGN_READ
)
async def list_campaigns(call: Call) -> CampaignList:
    async with call.read() as session:
        campaigns = await visible_campaigns(session, call.user)
    return CampaignList(items=[campaign_out(c) for c in campaigns])


@api.post("/api/campaigns", summary="Open a campaign", permission=Permission.CAMPAIGN_WRITE, status=201)
async def create_campaign(call: Call, body: CampaignCreate) -> CampaignOut:
    principal = call.user
    require_city(principal, body.city_code)
    async with call.transaction() as session:
        campaign = await service.create_campaign(
            session,
            service.NewCampaign(body.city_code, body.period, body.budget, body.deadline, body.title),
            actor=Actor.of(principal),
            now=call.request.app[CLOCK].now(),
            created_by=principal.user_id,
        )
        return campaign_out(campaign)


@api.get("/api/campaigns/{id:\\d+}", summary="A campaign and its draws", permission=Permission.CAMPAIGN_READ)
async def get_campaign(call: Call) -> CampaignDetail:
    async with call.read() as session:
        campaign = await campaign_in_scope(session, call.user, call.path_int("id"))
        draws = await service.list_draws(session, campaign.id)
        sizes = await service.draw_sizes(session, [d.id for d in draws])
    return CampaignDetail(
        campaign=campaign_out(campaign),
        draws=[draw_summary(d, sizes.get(d.id, 0), service.draw_target(d).size(d.population)) for d in draws],
    )


@api.post(
    "/api/campaigns/{id:\\d+}/draws",
    summary="Draw a draft sample (ratio or count, optional seed)",
    permission=Permission.DRAW_WRITE,
    status=201,
)
async def create_draw(call: Call, body: DrawCreate) -> DrawOut:
    principal = call.user
    settings = call.request.app[SETTINGS].sampling
    async with call.transaction() as session:
        campaign = await campaign_in_scope(session, principal, call.path_int("id"))
        target = (
            Target(count=body.count)
            if body.count is not None
            else Target(ratio=body.ratio if body.ratio is not None else settings.default_ratio)
        )
        draw = await service.create_draw(
            session,
            campaign,
            target=target,
            seed=body.seed,
            thresholds=service.thresholds_from(settings),
            actor=Actor.of(principal),
            now=call.request.app[CLOCK].now(),
            created_by=principal.user_id,
        )
        return await draw_out(session, draw, campaign.city_code, call.lang)


@api.get(
    "/api/draws/{id:\\d+}",
    summary="A draw: its projects and why each is in it",
    permission=Permission.CAMPAIGN_READ,
)
async def get_draw(call: Call) -> DrawOut:
    async with call.read() as session:
        draw, campaign = await draw_in_scope(session, call.user, call.path_int("id"))
        cluster_only = project_scope(call.user).kind == ScopeKind.CLUSTER
        return await draw_out(session, draw, campaign.city_code, call.lang, cluster_only=cluster_only)


@api.post(
    "/api/draws/{id:\\d+}/publish",
    summary="Publish a draft draw: its projects become sampled; it cannot change afterwards",
    permission=Permission.DRAW_WRITE,
)
async def publish_draw(call: Call) -> DrawSummary:
    principal = call.user
    async with call.transaction() as session:
        draw, _campaign = await draw_in_scope(session, principal, call.path_int("id"))
        draw = await service.publish_draw(
            session, draw.id, actor=Actor.of(principal), now=call.request.app[CLOCK].now()
        )
        return await summary_of(session, draw)


@api.get(
    "/api/draws/{id:\\d+}/verify",
    summary="Redo the draw from its recorded seed and say whether it matches",
    permission=Permission.CAMPAIGN_READ,
)
async def verify_draw(call: Call) -> DrawVerification:
    async with call.read() as session:
        draw, _campaign = await draw_in_scope(session, call.user, call.path_int("id"))
        result = await review.redo_draw(session, draw.id)
    return DrawVerification(
        draw_id=draw.id,
        matches=result.matches,
        inputs_sha256=result.inputs_sha256,
        recorded_sha256=result.recorded_sha256,
        problems=[p.in_lang(call.lang) for p in result.problems],
    )


@api.get(
    "/api/draws/{id:\\d+}/export.csv",
    summary="The sample as CSV (audited)",
    permission=Permission.DRAW_EXPORT,
    produces="text/csv",
)
async def export_draw(call: Call) -> web.Response:
    principal = call.user
    async with call.transaction() as session:
        draw, campaign = await draw_in_scope(session, principal, call.path_int("id"))
        text = await review.export_csv(
            session, draw.id, actor=Actor.of(principal), now=call.request.app[CLOCK].now()
        )
    return web.Response(
        body=text.encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="draw-{draw.id}-{campaign.city_code}.csv"'},
    )
