"""Campaigns and draws as a signed-in user may see them: the scope is in the query's WHERE clause.

A campaign or draw of a city the user does not see is answered exactly like one that does not
exist (404), so ids of other cities' campaigns cannot be probed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal, project_scope
from remote_check.campaigns.models import Campaign, Draw
from remote_check.errors import NotFound
from remote_check.programme.scoping import scope_cities


async def visible_campaigns(session: AsyncSession, principal: Principal) -> list[Campaign]:
    """The campaigns of the cities ``principal`` sees, newest first (none for alliance staff and experts)."""
    stmt = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    stmt = scope_cities(stmt, Campaign.city_code, project_scope(principal))
    return list((await session.scalars(stmt)).all())


async def campaign_in_scope(session: AsyncSession, principal: Principal, campaign_id: int) -> Campaign:
    """The campaign if its city is one ``principal`` sees; 404 if absent or out of scope."""
    stmt = select(Campaign).where(Campaign.id == campaign_id)
    stmt = scope_cities(stmt, Campaign.city_code, project_scope(principal))
    campaign = await session.scalar(stmt)
    if campaign is None:
        raise NotFound("抽查批次", "Campaign")
    return campaign


async def draw_in_scope(session: AsyncSession, principal: Principal, draw_id: int) -> tuple[Draw, Campaign]:
    """The draw and its campaign if its city is one ``principal`` sees; 404 if absent or out of scope."""
    stmt = scope_cities(
        select(Draw, Campaign).join(Campaign, Campaign.id == Draw.campaign_id).where(Draw.id == draw_id),
        Campaign.city_code,
        project_scope(principal),
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("抽查名单", "Draw")
    draw, campaign = row
    return draw, campaign
