"""The demo shows the whole flow: a published Dongguan sample with checklists and booked sessions."""

from __future__ import annotations

from sqlalchemy import func, select

from remote_check.accounts.models import User
from remote_check.audit.service import Actor
from remote_check.campaigns.models import Campaign, Draw, DrawStatus
from remote_check.checklist.models import ChecklistItem
from remote_check.clock import SHANGHAI, FixedClock
from remote_check.database import transaction
from remote_check.demo.generator import generate
from remote_check.demo.records import Scale
from remote_check.demo.service import load_demo
from remote_check.experts.models import Expert
from remote_check.programme.models import ProjectStatus, VoucherProject
from scheduler.models import CheckSession, Guest, PanelSeat
from tests.conftest import Database


async def test_demo_has_a_published_sample_and_sessions_on_coming_working_days(
    db: Database, clock: FixedClock
) -> None:
    async with transaction(db.factory) as session:
        await load_demo(session, generate(1, Scale.SMALL), now=clock.now(), actor=Actor.cli())
    async with db.factory() as session:
        draws = {
            city: status
            for city, status in (
                await session.execute(select(Campaign.city_code, Draw.status).join(Draw))
            ).all()
        }
        assert draws == {"4419": DrawStatus.PUBLISHED, "4406": DrawStatus.DRAFT}
        sampled = (
            await session.scalars(
                select(VoucherProject.id).where(VoucherProject.status != ProjectStatus.REGISTERED)
            )
        ).all()
        assert sampled
        with_items = await session.scalar(
            select(func.count(func.distinct(ChecklistItem.project_id))).where(
                ChecklistItem.project_id.in_(sampled)
            )
        )
        assert with_items == len(sampled)
        sessions = (await session.scalars(select(CheckSession).order_by(CheckSession.starts_at))).all()
        assert len(sessions) == 6
        for check in sessions:
            local = check.starts_at.astimezone(SHANGHAI)
            assert check.starts_at > clock.now()
            assert local.weekday() < 5
            assert 9 <= local.hour < 17
            seats = await session.scalar(select(func.count()).where(PanelSeat.session_id == check.id))
            guests = await session.scalar(select(func.count()).where(Guest.session_id == check.id))
            assert (seats, guests) == (3, 2)
        expert01_panels = await session.scalar(
            select(func.count())
            .select_from(PanelSeat)
            .join(Expert, Expert.id == PanelSeat.expert_id)
            .join(User, User.id == Expert.user_id)
            .where(User.username == "expert01")
        )
        assert expert01_panels
