"""Re-checks in the cities' samples: a project put under re-check that was never sampled joins its
city's current campaign's published draw with the reason 违规连带重点核查 (and its checklist); an
overturn takes it out again."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.campaigns.models import Campaign, CampaignStatus, Draw, DrawEntry, DrawStatus
from remote_check.campaigns.sampling import Reason, Thresholds
from remote_check.checklist.models import ChecklistItem, ItemResult
from remote_check.programme.models import ProjectStatus, VoucherProject

CASCADE_NOTE = "违规连带重点核查"


@dataclass
class CityDraw:
    """A city's current campaign and its published draw (the next free position in it)."""

    campaign: Campaign
    draw: Draw
    thresholds: Thresholds
    next_position: int


@dataclass
class DrawCache:
    """The current draws of the cities met so far (None: no open campaign with a published draw)."""

    found: dict[str, CityDraw | None] = field(default_factory=dict)

    async def of(self, session: AsyncSession, city_code: str) -> CityDraw | None:
        if city_code not in self.found:
            self.found[city_code] = await current_draw(session, city_code)
        return self.found[city_code]


async def current_draw(session: AsyncSession, city_code: str) -> CityDraw | None:
    """The city's latest campaign not closed that has a published draw."""
    row = (
        await session.execute(
            select(Campaign, Draw)
            .join(Draw, Draw.campaign_id == Campaign.id)
            .where(
                Campaign.city_code == city_code,
                Campaign.status != CampaignStatus.CLOSED,
                Draw.status == DrawStatus.PUBLISHED,
            )
            .order_by(Campaign.created_at.desc(), Campaign.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    campaign, draw = row
    last = await session.scalar(select(func.max(DrawEntry.position)).where(DrawEntry.draw_id == draw.id))
    try:
        thresholds = Thresholds.from_dict(draw.thresholds)
    except (KeyError, TypeError, ValueError):
        thresholds = Thresholds()
    return CityDraw(campaign, draw, thresholds, (last or 0) + 1)


def add_to_sample(
    session: AsyncSession, project: VoucherProject, city: CityDraw, source_code: str
) -> DrawEntry:
    """Put the (registered) ``project`` in ``city``'s draw, status sampled; the caller makes the
    checklists of all the projects it added at once (:func:`create_items_many`) and flushes."""
    entry = DrawEntry(
        draw_id=city.draw.id,
        project_id=project.id,
        position=city.next_position,
        reasons=[Reason.RECHECK.value],
        facts={"note": CASCADE_NOTE, "source_project": source_code},
    )
    city.next_position += 1
    session.add(entry)
    project.status = ProjectStatus.SAMPLED
    return entry


async def remove_from_sample(session: AsyncSession, project: VoucherProject, entry_id: int) -> bool:
    """Undo :func:`add_to_sample` for a project not checked since: its entry and its untouched checklist
    go, it is registered again. False (nothing changed) once the project has moved on."""
    if project.status != ProjectStatus.SAMPLED:
        return False
    touched = await session.scalar(
        select(func.count(ChecklistItem.id)).where(
            ChecklistItem.project_id == project.id, ChecklistItem.result != ItemResult.PENDING
        )
    )
    await session.execute(delete(DrawEntry).where(DrawEntry.id == entry_id))
    if not touched:
        await session.execute(delete(ChecklistItem).where(ChecklistItem.project_id == project.id))
    project.status = ProjectStatus.REGISTERED
    return True
