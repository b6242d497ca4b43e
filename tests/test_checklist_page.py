"""The checklist on the project page: guidance for everyone, a form per item for those who may mark."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update

from remote_check.accounts.models import Role, User
from remote_check.audit.models import AuditEntry
from remote_check.campaigns.sampling import Thresholds
from remote_check.checklist.models import ChecklistItem, ItemResult
from remote_check.checklist.service import create_items
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus, VoucherProject
from scheduler.models import CheckSession, SessionStatus
from tests.factories import add_expert, add_project, add_supplier, seat_on_panel
from tests.web_helpers import Browser, WebServer


@dataclass
class Sampled:
    project_id: int
    session_id: int


async def sampled_project(server: WebServer) -> Sampled:
    """A sampled Dongguan project (price 1.6× the listed one) with its checklist; ``expert.a`` sits
    on its panel, ``expert.b`` is an expert of no panel."""
    user_a = await server.add_user("expert.a", Role.EXPERT, None, "甲专家")
    user_b = await server.add_user("expert.b", Role.EXPERT, None, "乙专家")
    async with transaction(server.db.factory) as session:
        bundle = await add_supplier(session)
        project = await add_project(
            session, bundle, status=ProjectStatus.SAMPLED, contract=Decimal("160000.00")
        )
        await create_items(session, project, Thresholds())
        on_panel = await add_expert(session, await session.get(User, user_a), "甲专家")
        await add_expert(session, await session.get(User, user_b), "乙专家")
        check = await seat_on_panel(session, project, on_panel)
        return Sampled(project.id, check.id)


def row(html: str, code: str) -> str:
    """The table row of item ``code``."""
    match = re.search(rf'<tr id="item-{code}"[^>]*>(.*?)</tr>', html, re.S)
    assert match is not None, f"no row for {code}"
    return match.group(1)


def form_fields(row_html: str) -> tuple[str, str]:
    """The form's action and the CSRF token it carries."""
    action = re.search(r'<form method="post" action="([^"]+)"', row_html)
    token = re.search(r'name="csrf_token" value="([^"]*)"', row_html)
    assert action is not None
    assert token is not None
    return action.group(1), token.group(1)


async def submit(browser: Browser, action: str, fields: dict[str, str]) -> tuple[int, str, str]:
    """Post the form as a browser without JavaScript does: urlencoded, the token in the form only."""
    header_token, browser.csrf = browser.csrf, ""
    try:
        response = await browser.post(action, data=fields)
        return response.status, response.headers.get("Location", ""), await response.text()
    finally:
        browser.csrf = header_token


async def item(server: WebServer, project_id: int, code: str) -> ChecklistItem:
    async with server.db.factory() as session:
        found: ChecklistItem | None = await session.scalar(
            select(ChecklistItem).where(ChecklistItem.project_id == project_id, ChecklistItem.code == code)
        )
    assert found is not None
    return found


async def audit_count(server: WebServer) -> int:
    async with server.db.factory() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "checklist.update")
            )
            or 0
        )


def summary_cell(html: str, standard: str, result: str) -> str:
    match = re.search(rf'<tr[^>]*data-standard="{standard}">(.*?)</tr>', html, re.S)
    assert match is not None
    cell = re.search(rf'data-result="{result}">(\d+)<', match.group(1))
    assert cell is not None
    return cell.group(1)


async def test_the_panel_expert_marks_an_item_through_the_form(server: WebServer) -> None:
    s = await sampled_project(server)
    expert = await server.signed_in("expert.a")
    page = await expert.get(f"/projects/{s.project_id}")
    assert page.status == 200
    html = await page.text()
    f2 = row(html, "F2")
    assert "合同价/定价 = 1.6000" in htmllib.unescape(f2)  # the guidance, with the computed ratio
    assert "平台“收费标准”截图" in htmllib.unescape(f2)  # the evidence it needs
    action, token = form_fields(f2)
    assert action == f"/projects/{s.project_id}/checklist/F2"
    assert summary_cell(html, "finance", "pending") == "5"

    status, location, _ = await submit(
        expert, action, {"csrf_token": token, "result": "fail", "notes": "合同价为定价的1.6倍，无数量依据"}
    )
    assert status == 303
    assert location == f"/projects/{s.project_id}#item-F2"

    after = await (await expert.get(f"/projects/{s.project_id}")).text()
    marked = row(after, "F2")
    assert '<span class="tag fail">不通过</span>' in marked
    assert "合同价为定价的1.6倍，无数量依据" in marked
    assert '<option value="fail" selected>' in marked
    assert summary_cell(after, "finance", "fail") == "1"
    assert summary_cell(after, "finance", "pending") == "4"
    assert summary_cell(after, "total", "fail") == "1"
    saved = await item(server, s.project_id, "F2")
    assert (saved.result, saved.notes) == (ItemResult.FAIL, "合同价为定价的1.6倍，无数量依据")
    async with server.db.factory() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "checklist.update"))
    assert entry is not None
    assert entry.target == f"project:{s.project_id}/F2"
    assert entry.details["after"]["result"] == "fail"

    english = await (await expert.get(f"/projects/{s.project_id}?lang=en")).text()
    assert "contract / listed = 1.6000" in row(english, "F2")
    assert '<span class="tag fail">Fail</span>' in row(english, "F2")


async def test_a_form_without_its_token_changes_nothing(server: WebServer) -> None:
    s = await sampled_project(server)
    expert = await server.signed_in("expert.a")
    status, _, _ = await submit(expert, f"/projects/{s.project_id}/checklist/R1", {"result": "pass"})
    assert status == 403
    assert (await item(server, s.project_id, "R1")).result == ItemResult.PENDING


async def test_an_expert_off_the_panel_gets_no_form_and_is_refused(server: WebServer) -> None:
    s = await sampled_project(server)
    other = await server.signed_in("expert.b")
    page = await other.get(f"/projects/{s.project_id}")
    assert page.status == 404
    assert '<form method="post" action="/projects/' not in await page.text()
    status, _, _ = await submit(
        other, f"/projects/{s.project_id}/checklist/R1", {"csrf_token": other.csrf, "result": "pass"}
    )
    assert status == 404
    assert (await item(server, s.project_id, "R1")).result == ItemResult.PENDING
    assert await audit_count(server) == 0


async def test_an_expert_whose_session_was_cancelled_no_longer_sees_the_project(server: WebServer) -> None:
    """Access follows the seat on a session that takes place (issue 9, item 3): the panel of a
    cancelled session sees neither the project nor its checklist, and may not mark it."""
    s = await sampled_project(server)
    async with transaction(server.db.factory) as session:
        await session.execute(
            update(CheckSession).where(CheckSession.id == s.session_id).values(status=SessionStatus.CANCELLED)
        )
    expert = await server.signed_in("expert.a")
    assert (await expert.get(f"/projects/{s.project_id}")).status == 404
    assert (await expert.get(f"/api/projects/{s.project_id}/checklist")).status == 404
    status, _, _ = await submit(
        expert,
        f"/projects/{s.project_id}/checklist/R1?lang=en",
        {"csrf_token": expert.csrf, "result": "pass", "notes": "seen on video"},
    )
    assert status == 404
    assert (await item(server, s.project_id, "R1")).result == ItemResult.PENDING


async def test_a_fail_without_notes_is_refused_in_the_users_language(server: WebServer) -> None:
    s = await sampled_project(server)
    expert = await server.signed_in("expert.a")
    action, token = form_fields(row(await (await expert.get(f"/projects/{s.project_id}")).text(), "R3"))

    status, _, zh = await submit(expert, action, {"csrf_token": token, "result": "fail", "notes": "  "})
    assert status == 422
    r3 = row(zh, "R3")
    assert "结果为“不通过”或“不适用”时须填写说明" in r3
    assert '<option value="fail" selected>' in r3  # the choice typed is kept
    assert "autofocus" in r3
    assert '<span class="tag pending">待核查</span>' in r3

    status, _, en = await submit(
        expert, f"{action}?lang=en", {"csrf_token": token, "result": "na", "notes": ""}
    )
    assert status == 422
    assert "A fail or not-applicable result needs notes saying why" in row(en, "R3")
    assert '<option value="na" selected>' in row(en, "R3")

    # ?lang=en was remembered in a cookie; back to Chinese.
    status, _, bad = await submit(
        expert, f"{action}?lang=zh", {"csrf_token": token, "result": "maybe", "notes": "x"}
    )
    assert status == 422
    assert "以下内容无效：结果" in bad
    assert ">x</textarea>" in row(bad, "R3")

    status, _, missing = await submit(
        expert, f"/projects/{s.project_id}/checklist/M9", {"csrf_token": token, "result": "pass"}
    )
    assert status == 404
    assert "核查项 M9不存在" in missing

    assert (await item(server, s.project_id, "R3")).result == ItemResult.PENDING
    assert await audit_count(server) == 0
    # Switching language on a refused page (its address is the form's) leads back to the item.
    back = await expert.get(f"/projects/{s.project_id}/checklist/R3?lang=en")
    assert back.status == 303
    assert back.headers["Location"] == f"/projects/{s.project_id}?lang=en#item-R3"


async def test_a_locked_checklist_is_refused_and_keeps_what_was_typed(server: WebServer) -> None:
    s = await sampled_project(server)
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    admin = await server.signed_in("admin")
    action, token = form_fields(row(await (await admin.get(f"/projects/{s.project_id}")).text(), "F4"))
    async with transaction(server.db.factory) as session:
        await session.execute(
            update(VoucherProject)
            .where(VoucherProject.id == s.project_id)
            .values(status=ProjectStatus.QUALIFIED)
        )
    status, _, refused = await submit(
        admin, f"{action}?lang=en", {"csrf_token": token, "result": "pass", "notes": "发票已查验"}
    )
    assert status == 409
    assert "its checklist can no longer change" in refused
    assert "发票已查验" in row(refused, "F4")
    assert '<form method="post" action="/projects/' not in refused
    assert "its checklist is locked" in refused
    assert (await item(server, s.project_id, "F4")).result == ItemResult.PENDING


async def test_a_coordinator_sees_the_guidance_but_no_form(server: WebServer) -> None:
    s = await sampled_project(server)
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    coordinator = await server.signed_in("dg.coord")
    html = await (await coordinator.get(f"/projects/{s.project_id}")).text()
    assert "核查要点与所需材料" in row(html, "R1")
    assert "合同价/定价 = 1.6000" in htmllib.unescape(row(html, "F2"))
    assert '<form method="post" action="/projects/' not in html
    assert summary_cell(html, "total", "pending") == str(4 + 5 + 3)
    status, _, refused = await submit(
        coordinator,
        f"/projects/{s.project_id}/checklist/R1?lang=en",
        {"csrf_token": coordinator.csrf, "result": "pass"},
    )
    assert status == 403
    assert "Your role may not do this" in refused
    assert (await item(server, s.project_id, "R1")).result == ItemResult.PENDING
    assert await audit_count(server) == 0
