"""A small province for the planning tests: published samples in Dongguan (4419) and Foshan (4406),
a draft one, a check booked before, an expert tied to a supplier, and the people who plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.campaigns.models import (
    Campaign,
    CampaignStatus,
    Draw,
    DrawEntry,
    DrawMode,
    DrawStatus,
)
from remote_check.programme.models import ProjectStatus, Supplier, VoucherProject
from scheduler.service import NewSession, book_session
from tests.scheduling_factories import (
    AT,
    add_expert,
    add_principal,
    add_project,
    add_supplier,
    local,
)

DEADLINE = dt.date(2020, 4, 17)  # a Friday: the working days are 13 to 17 April 2020


async def add_sample(
    session: AsyncSession,
    city: str,
    projects: list[VoucherProject],
    *,
    status: DrawStatus = DrawStatus.PUBLISHED,
    deadline: dt.date = DEADLINE,
) -> Campaign:
    """A campaign of ``city`` whose draw (published by default) holds ``projects``."""
    campaign = Campaign(
        city_code=city,
        period="2019",
        title="测试批次",
        budget=Decimal("1000000.00"),
        deadline=deadline,
        status=CampaignStatus.CHECKING,
        created_at=AT,
    )
    session.add(campaign)
    await session.flush()
    draw = Draw(
        campaign_id=campaign.id,
        seed="s",
        mode=DrawMode.COUNT,
        count=len(projects),
        thresholds={},
        inputs={},
        population=len(projects),
        status=status,
        created_at=AT,
    )
    session.add(draw)
    await session.flush()
    session.add_all(
        DrawEntry(draw_id=draw.id, project_id=p.id, position=i, reasons=["random"], facts={})
        for i, p in enumerate(projects, start=1)
    )
    await session.flush()
    return campaign


@dataclass
class World:
    admin: Principal
    dg_coord: Principal
    fs_coord: Principal
    dg_projects: list[VoucherProject]  # sampled, published, to place; the first is a key project
    fs_projects: list[VoucherProject]  # sampled, published, to place
    draft_project: int  # in a draft draw: never planned
    booked_project: int  # Foshan, booked before the plan: fixed
    booked_session: int
    booked_panel: list[int]
    tied_expert: int  # employed by supplier_a
    supplier_a: Supplier
    experts: list[int]
    dg_campaign: int


async def make_world(session: AsyncSession) -> World:
    """The world above; the caller commits."""
    admin = await add_principal(session, "admin", Role.PROVINCE_ADMIN)
    dg_coord = await add_principal(session, "dg.coord", Role.CITY_COORDINATOR, "4419")
    fs_coord = await add_principal(session, "fs.coord", Role.CITY_COORDINATOR, "4406")
    supplier_a = await add_supplier(session, "甲服务商", teams=1)
    supplier_b = await add_supplier(session, "乙服务商", teams=2)
    tied = await add_expert(session, "关联专家", employer_credit_code=supplier_a.credit_code)
    experts = [tied.id] + [(await add_expert(session, f"专家{i}")).id for i in range(8)]
    dg = [
        await add_project(session, supplier_a, city="4419"),
        await add_project(session, supplier_a, city="4419"),
        await add_project(session, supplier_b, city="4419"),
    ]
    dg[0].is_key_project = True
    fs = [
        await add_project(session, supplier_a, city="4406"),
        await add_project(session, supplier_b, city="4406"),
    ]
    booked = await add_project(session, supplier_b, city="4406")
    supplier_c = await add_supplier(session, "丙服务商")  # the draft's: free whenever the plan's are busy
    draft = await add_project(session, supplier_c, city="4419", status=ProjectStatus.SAMPLED)
    await session.flush()
    dg_campaign = await add_sample(session, "4419", dg)
    await add_sample(session, "4406", [*fs, booked])
    other = Campaign(
        city_code="4419",
        period="2018",
        title="草稿",
        budget=Decimal("1.00"),
        deadline=DEADLINE,
        status=CampaignStatus.PLANNING,
        created_at=AT,
    )
    session.add(other)
    await session.flush()
    draft_draw = Draw(
        campaign_id=other.id,
        seed="d",
        mode=DrawMode.COUNT,
        count=1,
        thresholds={},
        inputs={},
        population=1,
        status=DrawStatus.DRAFT,
        created_at=AT,
    )
    session.add(draft_draw)
    await session.flush()
    session.add(DrawEntry(draw_id=draft_draw.id, project_id=draft.id, position=1, reasons=[], facts={}))
    await session.flush()
    panel = experts[4:7]
    check = await book_session(
        session, admin, NewSession(booked.id, local(14, 9), local(14, 10), panel), now=AT
    )
    return World(
        admin,
        dg_coord,
        fs_coord,
        dg,
        fs,
        draft.id,
        booked.id,
        check.id,
        panel,
        tied.id,
        supplier_a,
        experts,
        dg_campaign.id,
    )
