"""Campaigns and draws as a signed-in user may see them: the scope is in the query's WHERE clause.

A campaign or draw of a city the user does not see is answered exactly like one that does not
exist (404), so ids of other cities' campaigns cannot be probed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal, project_scope
from remote_check.campaigns.models import Campaign
from remote_check.programme.scoping import scope_cities


async def visible_campaigns(session: AsyncSession, principal: Principal) -> list[Campaign]:
    """The campaigns of the cities ``principal`` sees, newest first (none for alliance staff and experts)."""
    stmt = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    stmt = scope_cities(stmt, Campaign.city_code, project_scope(principal))
    return list((await session.scalars(stmt)).all())
