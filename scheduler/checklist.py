"""Marking a project's checklist: by an expert of its panel (a seat on one of its sessions) or a
province admin. Here, not in :mod:`remote_check.checklist`, because who marks follows the seats."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.audit.service import Actor, record
from remote_check.checklist.models import ChecklistItem, ItemResult
from remote_check.checklist.service import EDITABLE
from remote_check.errors import Conflict, Forbidden, Message, NotFound, invalid
from remote_check.outcomes.verdict_models import Verdict, VerdictState
from remote_check.programme.models import VoucherProject
from scheduler.access import may_mark


async def update_item(
    session: AsyncSession,
    project_id: int,
    code: str,
    *,
    result: ItemResult | None,
    notes: str | None,
    principal: Principal,
    now: dt.datetime,
) -> ChecklistItem:
    """Record an item's result and notes: an expert of the project's panel, or a province admin.

    A ``fail`` or ``not applicable`` needs a note saying why; nothing changes while the lead's
    proposed conclusion awaits the coordinator, nor after the verdict.
    """
    project = await session.get(VoucherProject, project_id)
    if project is None:
        raise NotFound("项目", "Project")
    if not await may_mark(session, principal, project_id):
        raise Forbidden(
            Message("只有该项目核查组的专家可以填写核查表", "Only the experts of this project's panel may")
        )
    if result is None and notes is None:
        raise invalid("请给出结果或说明", "Give a result or notes", field="result")
    if project.status not in EDITABLE:
        raise Conflict(
            Message(
                "项目已有核查结论，核查表不能再修改",
                "The project already has a verdict; its checklist can no longer change",
            )
        )
    proposed = await session.scalar(
        select(Verdict.id).where(Verdict.project_id == project_id, Verdict.state == VerdictState.PROPOSED)
    )
    if proposed is not None:
        raise Conflict(
            Message(
                "组长已提出结论，核查表须待协调员确认或退回后才能修改",
                "The lead proposed a conclusion: the checklist can change only if the coordinator returns it",
            )
        )
    item = await session.scalar(
        select(ChecklistItem)
        .where(ChecklistItem.project_id == project_id, ChecklistItem.code == code)
        .with_for_update()
    )
    if item is None:
        raise NotFound(f"核查项 {code}", f"Checklist item {code}")
    new_result = item.result if result is None else result
    new_notes = item.notes if notes is None else notes.strip()
    if new_result in (ItemResult.FAIL, ItemResult.NOT_APPLICABLE) and not new_notes:
        raise invalid(
            "结果为“不通过”或“不适用”时须填写说明",
            "A fail or not-applicable result needs notes saying why",
            field="notes",
        )
    before = {"result": item.result.value, "notes": item.notes}
    item.result = new_result
    item.notes = new_notes
    item.updated_at = now
    item.updated_by = principal.user_id
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "checklist.update",
        f"project:{project_id}/{code}",
        at=now,
        city_code=project.city_code,
        details={"before": before, "after": {"result": new_result.value, "notes": new_notes}},
    )
    return item
