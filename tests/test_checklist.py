"""The checklist: built from the notice's three standards, filled in by the project's panel."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, update

from remote_check.accounts.models import Role, User
from remote_check.audit.models import AuditEntry
from remote_check.campaigns.sampling import Thresholds
from remote_check.checklist.build import ModuleFacts, ProjectFacts, build_items
from remote_check.checklist.models import ChecklistItem, ItemResult, Standard
from remote_check.checklist.service import create_items
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus, VoucherProject
from tests.factories import add_expert, add_project, add_supplier, seat_on_panel
from tests.web_helpers import WebServer


def facts(**kw: object) -> ProjectFacts:
    base: dict[str, object] = {
        "code": "YSQ-1",
        "enterprise_name": "东莞某五金制品有限公司",
        "supplier_name": "甲云科技有限公司",
        "product_name": "云MES",
        "contract_amount": Decimal("160000.00"),
        "listed_price": Decimal("100000.00"),
        "price_unit": "套",
        "price_period": "年",
        "amount_paid": Decimal("144000.00"),
        "has_usage_logs": True,
    }
    base.update(kw)
    return ProjectFacts(**base)  # type: ignore[arg-type]


def test_items_follow_the_three_standards_with_one_item_per_module() -> None:
    modules = [ModuleFacts("设备数据采集", "采集设备运行数据"), ModuleFacts("生产排程")]
    items = build_items(facts(), modules)
    assert [i.code for i in items] == ["R1", "R2", "R3", "R4", "F1", "F2", "F3", "F4", "F5", "M1", "M2"]
    assert [i.position for i in items] == list(range(1, 12))
    assert {i.standard for i in items if i.code.startswith("R")} == {Standard.IMPLEMENTATION}
    assert {i.standard for i in items if i.code.startswith("F")} == {Standard.FINANCE}
    m1, m2 = items[-2:]
    assert m1.standard == Standard.FUNCTION
    assert "设备数据采集" in m1.title_zh
    assert "采集设备运行数据" in m1.guidance_zh
    assert "生产排程" in m2.guidance_en
    assert all(i.title_zh and i.title_en and i.guidance_en and i.evidence_zh and i.evidence_en for i in items)


def test_the_price_item_shows_the_computed_ratio_and_the_payment_item_the_share() -> None:
    items = {i.code: i for i in build_items(facts(), [])}
    assert "合同价/定价 = 1.6000" in items["F2"].guidance_zh
    assert "超过 1.5 倍" in items["F2"].guidance_zh
    assert "contract / listed = 1.6000" in items["F2"].guidance_en
    assert "90.00%" in items["F3"].guidance_zh
    assert "at least 90.00% required" in items["F3"].guidance_en
    fair = {i.code: i for i in build_items(facts(contract_amount=Decimal("100000.00")), [])}
    assert "= 1.0000" in fair["F2"].guidance_zh
    assert "超过" not in fair["F2"].guidance_zh
    no_logs = {i.code: i for i in build_items(facts(has_usage_logs=False), [])}
    assert "未接收到使用日志" in no_logs["R3"].guidance_zh


async def _sampled_project(server: WebServer) -> tuple[int, int]:
    """A sampled Dongguan project with its checklist, and an expert (user ``expert.a``) on its panel."""
    expert_user = await server.add_user("expert.a", Role.EXPERT, None, "甲专家")
    await server.add_user("expert.b", Role.EXPERT, None, "乙专家")
    async with transaction(server.db.factory) as session:
        bundle = await add_supplier(session)
        project = await add_project(session, bundle, status=ProjectStatus.SAMPLED)
        await create_items(session, project, Thresholds())
        a = await session.get(User, expert_user)
        b = await session.scalar(select(User).where(User.username == "expert.b"))
        assert a is not None
        assert b is not None
        on_panel = await add_expert(session, a, "甲专家")
        await add_expert(session, b, "乙专家")
        await seat_on_panel(session, project, on_panel)
        return project.id, expert_user


async def test_the_panel_expert_records_a_result_and_it_is_audited(server: WebServer) -> None:
    project_id, user_id = await _sampled_project(server)
    expert = await server.signed_in("expert.a")
    listing = await expert.get(f"/api/projects/{project_id}/checklist")
    assert listing.status == 200
    codes = [i["code"] for i in (await listing.json())["items"]]
    assert codes[:5] == ["R1", "R2", "R3", "R4", "F1"]
    assert codes[-3:] == ["M1", "M2", "M3"]
    response = await expert.patch(
        f"/api/projects/{project_id}/checklist/F2", json={"result": "fail", "notes": "合同价为定价的1.6倍"}
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["result"] == "fail"
    assert body["updated_by"] == user_id
    async with server.db.factory() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "checklist.update"))
    assert entry is not None
    assert entry.target == f"project:{project_id}/F2"
    assert entry.details["before"]["result"] == "pending"
    assert entry.details["after"] == {"result": "fail", "notes": "合同价为定价的1.6倍"}


async def test_a_fail_without_notes_is_refused_and_nothing_changes(server: WebServer) -> None:
    project_id, _ = await _sampled_project(server)
    expert = await server.signed_in("expert.a")
    response = await expert.patch(f"/api/projects/{project_id}/checklist/R3?lang=en", json={"result": "fail"})
    assert response.status == 422
    assert "needs notes" in (await response.json())["error"]["message"]
    bad = await expert.patch(f"/api/projects/{project_id}/checklist/R3", json={"result": "maybe"})
    assert bad.status == 422
    missing = await expert.patch(f"/api/projects/{project_id}/checklist/M9", json={"result": "pass"})
    assert missing.status == 404
    async with server.db.factory() as session:
        item = await session.scalar(
            select(ChecklistItem).where(ChecklistItem.project_id == project_id, ChecklistItem.code == "R3")
        )
    assert item is not None
    assert item.result == ItemResult.PENDING


async def test_only_the_panel_and_admins_may_write(server: WebServer) -> None:
    project_id, _ = await _sampled_project(server)
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    other = await server.signed_in("expert.b")
    assert (await other.get(f"/api/projects/{project_id}/checklist")).status == 404
    refused = await other.patch(f"/api/projects/{project_id}/checklist/R1", json={"result": "pass"})
    assert refused.status == 404
    coordinator = await server.signed_in("dg.coord")
    assert (await coordinator.get(f"/api/projects/{project_id}/checklist")).status == 200
    forbidden = await coordinator.patch(f"/api/projects/{project_id}/checklist/R1", json={"result": "pass"})
    assert forbidden.status == 403
    async with server.db.factory() as session:
        untouched = await session.scalar(
            select(ChecklistItem.result).where(
                ChecklistItem.project_id == project_id, ChecklistItem.code == "R1"
            )
        )
    assert untouched == ItemResult.PENDING
    admin = await server.signed_in("admin")
    done = await admin.patch(
        f"/api/projects/{project_id}/checklist/R1", json={"result": "na", "notes": "无硬件"}
    )
    assert done.status == 200
    async with server.db.factory() as session:
        rows = (await session.execute(select(ChecklistItem.code, ChecklistItem.result))).all()
    results = {code: result for code, result in rows}
    assert results["R1"] == ItemResult.NOT_APPLICABLE


async def test_a_verdict_freezes_the_checklist(server: WebServer) -> None:
    project_id, _ = await _sampled_project(server)
    async with transaction(server.db.factory) as session:
        await session.execute(
            update(VoucherProject)
            .where(VoucherProject.id == project_id)
            .values(status=ProjectStatus.QUALIFIED)
        )
    expert = await server.signed_in("expert.a")
    response = await expert.patch(f"/api/projects/{project_id}/checklist/R1", json={"result": "pass"})
    assert response.status == 409


@pytest.mark.parametrize("notes", ["", "   "])
def test_blank_module_list_still_gives_the_fixed_items(notes: str) -> None:
    items = build_items(facts(), [ModuleFacts("云存储", notes.strip())])
    assert items[-1].code == "M1"
    assert "申报说明" not in items[-1].guidance_zh
