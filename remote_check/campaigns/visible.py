"""Campaigns and draws as a signed-in user may see them: the scope is in the query's WHERE clause.

A campaign or draw of a city the user does not see is answered exactly like one that does not
exist (404), so ids of other cities' campaigns cannot be probed.

The industrial alliance staff (产业联盟, notice 五(三)) help the cities run the cluster projects'
checks: they see the campaigns whose published sample holds a cluster project (产业集群), and of
those only the published draws (:func:`scope_campaigns`).
"""

from __future__ import annotations

from typing import TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal, Scope, ScopeKind, project_scope
from remote_check.campaigns.models import Campaign, Draw, DrawEntry, DrawStatus
from remote_check.errors import NotFound
from remote_check.programme.models import VoucherProject
from remote_check.programme.scoping import scope_cities

Ts = TypeVarTuple("Ts")


def cluster_campaigns() -> Select[int]:
    """The ids of the campaigns whose published sample holds a cluster project."""
    return (
        select(Draw.campaign_id)
        .join(DrawEntry, DrawEntry.draw_id == Draw.id)
        .join(VoucherProject, VoucherProject.id == DrawEntry.project_id)
        .where(Draw.status == DrawStatus.PUBLISHED, VoucherProject.is_cluster.is_(True))
    )


def scope_campaigns(stmt: Select[*Ts], scope: Scope) -> Select[*Ts]:
    """Restrict a statement over ``campaigns`` to those ``scope`` sees: the cities' own (see
    :func:`~remote_check.programme.scoping.scope_cities`), or for alliance staff the cluster ones."""
    if scope.kind == ScopeKind.CLUSTER:
        return stmt.where(Campaign.id.in_(cluster_campaigns()))
    return scope_cities(stmt, Campaign.city_code, scope)


async def visible_campaigns(session: AsyncSession, principal: Principal) -> list[Campaign]:
    """The campaigns ``principal`` sees, newest first (alliance staff: the cluster ones; experts: none)."""
    stmt = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    stmt = scope_campaigns(stmt, project_scope(principal))
    return list((await session.scalars(stmt)).all())


async def campaign_in_scope(session: AsyncSession, principal: Principal, campaign_id: int) -> Campaign:
    """The campaign if its city is one ``principal`` sees; 404 if absent or out of scope."""
    stmt = select(Campaign).where(Campaign.id == campaign_id)
    stmt = scope_campaigns(stmt, project_scope(principal))
    campaign = await session.scalar(stmt)
    if campaign is None:
        raise NotFound("抽查批次", "Campaign")
    return campaign


async def draw_in_scope(session: AsyncSession, principal: Principal, draw_id: int) -> tuple[Draw, Campaign]:
    """The draw and its campaign if its city is one ``principal`` sees; 404 if absent or out of scope."""
    scope = project_scope(principal)
    stmt = scope_campaigns(
        select(Draw, Campaign).join(Campaign, Campaign.id == Draw.campaign_id).where(Draw.id == draw_id),
        scope,
    )
    if scope.kind == ScopeKind.CLUSTER:
        stmt = stmt.where(Draw.status == DrawStatus.PUBLISHED)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("抽查名单", "Draw")
    draw, campaign = row
    return draw, campaign
