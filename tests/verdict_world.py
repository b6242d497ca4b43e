"""A checked project ready for its verdict: a held (done) session in Guangzhou with a panel of three
experts who can sign in, its checklist marked (one item with a moment on the recording), the
city's coordinator and another city's; and a no-show session of a second project."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from recordings.models import ItemMark
from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.checklist.models import ItemResult, Standard
from remote_check.programme.models import ProjectStatus
from scheduler.models import CheckSession, PanelRole, PanelSeat, SessionStatus
from tests import factories
from tests.browse_factories import add_checklist_item
from tests.scheduling_factories import add_enterprise, add_principal, add_project, add_supplier, local

PROJECT_NAME = "广州云端制造有限公司"
ITEMS = (
    ("A1", Standard.IMPLEMENTATION, "系统已部署并正常使用", "Deployed and in use"),
    ("B1", Standard.FINANCE, "合同、发票与转账记录齐全", "Contract, invoices and transfers"),
    ("C1", Standard.FUNCTION, "交付功能符合申报模块", "Functions as declared"),
)


@dataclass
class VerdictWorld:
    project_id: int
    project_code: str
    session_id: int
    experts: list[Principal]  # the lead first
    coordinator: Principal  # Guangzhou (4401)
    other_coordinator: Principal  # Foshan (4406)
    no_show_project_id: int
    no_show_session_id: int


async def _session(
    session: AsyncSession, project_id: int, status: SessionStatus, start: dt.datetime, by: int
) -> CheckSession:
    check = CheckSession(
        project_id=project_id,
        city_code="4401",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        status=status,
        created_at=start - dt.timedelta(days=3),
        created_by=by,
        started_at=start if status == SessionStatus.DONE else None,
        ended_at=start + dt.timedelta(hours=1),
        ended_by=by,
    )
    session.add(check)
    await session.flush()
    return check


async def verdict_world(session: AsyncSession, *, mark: ItemResult = ItemResult.PASS) -> VerdictWorld:
    """The world above; every checklist item marked ``mark`` (pending leaves them unmarked)."""
    coordinator = await add_principal(session, "gz.coord", Role.CITY_COORDINATOR, "4401")
    other = await add_principal(session, "fs.coord", Role.CITY_COORDINATOR, "4406")
    supplier = await add_supplier(session, "粤云科技有限公司")
    enterprise = await add_enterprise(session, PROJECT_NAME)
    project = await add_project(session, supplier, enterprise=enterprise, status=ProjectStatus.CHECKED)
    check = await _session(session, project.id, SessionStatus.DONE, local(8, 10), coordinator.user_id)
    experts: list[Principal] = []
    for n, name in enumerate(("李组长", "王专家", "陈专家")):
        user = await add_principal(session, f"expert{n + 1}", Role.EXPERT)
        expert = await factories.add_expert(session, None, name)
        expert.user_id = user.user_id
        session.add(
            PanelSeat(
                session_id=check.id, expert_id=expert.id, role=PanelRole.LEAD if n == 0 else PanelRole.MEMBER
            )
        )
        experts.append(Principal(user.user_id, Role.EXPERT, None, name, expert_id=expert.id))
    for position, (code, standard, zh, en) in enumerate(ITEMS):
        item = await add_checklist_item(session, project, code, standard, position, zh, en, mark)
        item.notes = "" if mark == ItemResult.PASS else "说明"
        if code == "A1":
            session.add(
                ItemMark(
                    session_id=check.id,
                    item_id=item.id,
                    start=192.0,
                    end=245.0,
                    created_by=experts[0].user_id,
                    created_at=local(8, 10, 5),
                )
            )
    absent = await add_project(session, supplier, status=ProjectStatus.SAMPLED)
    no_show = await _session(session, absent.id, SessionStatus.NO_SHOW, local(8, 14), coordinator.user_id)
    await session.flush()
    return VerdictWorld(
        project.id,
        project.code,
        check.id,
        experts,
        coordinator,
        other,
        absent.id,
        no_show.id,
    )
