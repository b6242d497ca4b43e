"""A sampled project's checklist: read it, and record an item's result and notes.

Projects outside the caller's scope are answered as not found (nothing of them leaves the
database); changes are for the experts of the project's panel and province admins.
"""

from __future__ import annotations

from remote_check.accounts.access import Permission
from remote_check.checklist import service
from remote_check.checklist.schemas import ChecklistItemOut, ChecklistItemUpdate, ChecklistOut
from scheduler import checklist
from scheduler.access import project_in_scope
from web.api.registry import Api, Call
from web.keys import CLOCK

api = Api("checklist")


@api.get(
    "/api/projects/{id:\\d+}/checklist",
    summary="A project's checklist (实施真实, 财务规范, 功能完整)",
    permission=Permission.PROJECT_READ,
)
async def get_checklist(call: Call) -> ChecklistOut:
    async with call.read() as session:
        project = await project_in_scope(session, call.user, call.path_int("id"))
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
        project = await project_in_scope(session, principal, call.path_int("id"))
        item = await checklist.update_item(
            session,
            project.id,
            call.request.match_info["code"],
            result=body.result,
            notes=body.notes,
            principal=principal,
            now=call.request.app[CLOCK].now(),
        )
        return ChecklistItemOut.of(item)
