"""Which campaign a check belongs to, and its deadline: no check ends after it.

A project belongs to the campaign whose published draw (抽查名单) lists it; should several
campaigns' published draws list it, the latest published one counts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.campaigns.models import Campaign, Draw, DrawEntry, DrawStatus
from remote_check.clock import SHANGHAI
from remote_check.errors import DomainError, Message

_CAMPAIGN_OF = (
    select(Campaign)
    .join(Draw, Draw.campaign_id == Campaign.id)
    .join(DrawEntry, DrawEntry.draw_id == Draw.id)
    .where(DrawEntry.project_id == bindparam("project_id"), Draw.status == DrawStatus.PUBLISHED)
    .order_by(Draw.published_at.desc(), Draw.id.desc())
    .limit(1)
)  # built once: it runs on every booking


async def campaign_of(session: AsyncSession, project_id: int) -> Campaign | None:
    """The campaign whose published draw lists the project (the latest published), if any."""
    return (await session.scalars(_CAMPAIGN_OF, {"project_id": project_id})).first()


def check_deadline(ends_at: dt.datetime, campaign: Campaign | None) -> None:
    """Refuse (409 ``past_deadline``) a check that ends after its campaign's deadline (China time)."""
    if campaign is None:
        return
    if ends_at.astimezone(SHANGHAI).date() > campaign.deadline:
        day = campaign.deadline.isoformat()
        raise DomainError(
            Message(
                f"该时间晚于抽查工作“{campaign.title}”的截止日期 {day}，未预订",
                f"This time is after the deadline of campaign {campaign.title} ({day}); nothing booked",
            ),
            409,
            "past_deadline",
            [{"field": "starts_at", "deadline": day}],
        )
