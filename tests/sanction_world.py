"""A supplier about to be found in violation, with projects in many states and cities, for the tests
of the cascade, the objections and the publication."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role, User
from remote_check.clock import SHANGHAI
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus, Supplier
from scheduler.service import NewSession, book_session
from tests.conftest import Database
from tests.scheduling_factories import (
    add_campaign,
    add_enterprise,
    add_experts,
    add_principal,
    add_project,
    add_supplier,
)

NOW = dt.datetime(2020, 4, 10, 9, 0, tzinfo=SHANGHAI)
DEADLINE = dt.date(2020, 6, 30)


@dataclass(frozen=True)
class World:
    """Ids of the rows: ``violator`` is checked in 4401 and about to be found in violation."""

    supplier: int
    enterprise: int
    violator: int
    registered_4401: int  # joins 4401's draw
    registered_4403: int  # 4403 has no campaign
    sampled_4404: int
    qualified_4405: int
    scheduled_4406: int  # booked
    session_4406: int
    funded_4401: int
    cancelled_4401: int
    other_supplier_project: int
    admin: Principal
    coordinator: Principal  # of 4401, with an e-mail address
    experts: list[int]


async def build_world(db: Database) -> World:
    """The rows of :class:`World`, committed."""
    async with transaction(db.factory) as s:
        admin = await add_principal(s, "admin", Role.PROVINCE_ADMIN)
        coordinator = await add_principal(s, "coord4401", Role.CITY_COORDINATOR, "4401")
        mail = "coord4401@example.cn"
        await s.execute(update(User).where(User.id == coordinator.user_id).values(email=mail))
        experts = await add_experts(s, 4)
        supplier = await add_supplier(s, "违规云科技有限公司")
        other = await add_supplier(s, "守规云科技有限公司")
        enterprise = await add_enterprise(s, "违规制造有限公司", city="4401")
        violator = await add_project(s, supplier, enterprise=enterprise, status=ProjectStatus.CHECKED)
        bystander = await add_project(s, other, status=ProjectStatus.SAMPLED)
        await add_campaign(s, [violator, bystander], deadline=DEADLINE, city="4401")
        reg_4401 = await add_project(s, supplier, status=ProjectStatus.REGISTERED)
        reg_4403 = await add_project(s, supplier, city="4403", status=ProjectStatus.REGISTERED)
        sampled = await add_project(s, supplier, city="4404")
        await add_campaign(s, [sampled], deadline=DEADLINE, city="4404")
        qualified = await add_project(s, supplier, city="4405", status=ProjectStatus.QUALIFIED)
        scheduled = await add_project(s, supplier, city="4406")
        await add_campaign(s, [scheduled], deadline=DEADLINE, city="4406")
        funded = await add_project(s, supplier, status=ProjectStatus.FUNDED)
        cancelled = await add_project(s, supplier, status=ProjectStatus.CANCELLED)
    async with transaction(db.factory) as s:
        start = dt.datetime(2020, 4, 14, 10, 0, tzinfo=SHANGHAI)
        check = await book_session(
            s,
            admin,
            NewSession(scheduled.id, start, start + dt.timedelta(hours=1), experts[:3], None),
            now=NOW,
        )
    return World(
        supplier=supplier.id,
        enterprise=enterprise.id,
        violator=violator.id,
        registered_4401=reg_4401.id,
        registered_4403=reg_4403.id,
        sampled_4404=sampled.id,
        qualified_4405=qualified.id,
        scheduled_4406=scheduled.id,
        session_4406=check.id,
        funded_4401=funded.id,
        cancelled_4401=cancelled.id,
        other_supplier_project=bystander.id,
        admin=admin,
        coordinator=coordinator,
        experts=experts,
    )


async def supplier_row(db: Database, supplier_id: int) -> Supplier:
    async with transaction(db.factory) as s:
        row = await s.get(Supplier, supplier_id)
        assert row is not None
        return row
