"""A sampled project's checklist: read it, and record an item's result and notes.

Projects outside the caller's scope are answered as not found (nothing of them leaves the
database); changes are for the experts of the project's panel and province admins.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Permission, Principal, project_scope
from remote_check.checklist import service
from remote_check.checklist.schemas import ChecklistItemOut, ChecklistItemUpdate, ChecklistOut
from remote_check.errors import NotFound
from remote_check.programme.models import VoucherProject
from remote_check.programme.scoping import scope_projects
from web.api.registry import Api, Call
from web.keys import CLOCK

api = Api("checklist")


async def visible_project(session: AsyncSession, principal: Principal, project_id: int) -> VoucherProject:
    """The project if ``principal``'s scope includes it; otherwise 404."""
    stmt = select(VoucherProject).where(VoucherProject.id == project_id)
    # scope_projects is hinted for SQLAlchemy 2.0's Select; 2.1's is variadic.
    scoped = cast("Select[VoucherProject]", scope_projects(cast(Any, stmt), project_scope(principal)))
    project = await session.scalar(scoped)
    if project is None:
        raise NotFound("项目", "Project")
    return project


@api.get(
    "/api/projects/{id:\\d+}/checklist",
    summary="A project's checklist (实施真实, 财务规范, 功能完整)",
    permission=Permission.PROJECT_READ,
)
async def get_checklist(call: Call) -> ChecklistOut:
    async with call.read() as session:
        project = await visible_project(session, call.user, call.path_int("id"))
        items = await service.list_items(session, project.id)
    return ChecklistOut(
        project_id=project.id, project_code=project.code, items=[ChecklistItemOut.of(i) for i in items]
    )


@api.patch(
    "/api/projects/{id:\\d+}/checklist/{code:[A-Z]\\d{1,3}}",
    summary="Record a checklist item's result and notes (the project's panel experts, admins)",
    permission=Permission.CHECKLIST_WRITE,
)
async def update_item(call: Call, body: ChecklistItemUpdate) -> ChecklistItemOut:
    principal = call.user
    async with call.transaction() as session:
        project = await visible_project(session, principal, call.path_int("id"))
        item = await service.update_item(
            session,
            project.id,
            call.request.match_info["code"],
            result=body.result,
            notes=body.notes,
            principal=principal,
            now=call.request.app[CLOCK].now(),
        )
        return ChecklistItemOut.of(item)
