"""Browsing projects over HTTP: scope, filters, pagination, detail, the pages."""

from __future__ import annotations

from typing import Any

import pytest

from remote_check.accounts.models import Role
from remote_check.checklist.models import ItemResult, Standard
from remote_check.database import transaction
from tests.browse_factories import (
    World,
    add_checklist_item,
    add_enterprise,
    expert_for,
    project,
    seat_on_panel,
    small_world,
)
from tests.factories import add_supplier
from tests.web_helpers import WebServer


async def seed(server: WebServer) -> World:
    async with transaction(server.db.factory) as session:
        return await small_world(session)


def codes(body: dict[str, Any]) -> list[str]:
    return [item["code"] for item in body["items"]]


async def test_dongguan_coordinator_never_sees_a_foshan_project(server: WebServer) -> None:
    world = await seed(server)
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    browser = await server.signed_in("dg.coord")

    body = await (await browser.get("/api/projects")).json()
    assert codes(body) == ["DG-001", "DG-002", "DG-003"]
    assert body["total"] == 3
    # Searching for the Foshan enterprise or a supplier both cities share finds nothing of Foshan.
    assert codes(await (await browser.get("/api/projects?q=佛山")).json()) == []
    assert "FS-001" not in codes(
        await (await browser.get(f"/api/projects?supplier_id={world.suppliers['yunzhi'].supplier.id}")).json()
    )

    refused = await browser.get("/api/projects?city=4406")
    assert refused.status == 403
    assert (await refused.json())["error"]["message"] == "无权查看其他城市的数据"

    html = await (await browser.get("/projects")).text()
    assert "DG-001" in html
    assert "FS-001" not in html
    assert "佛山顺德家电" not in html

    cities = {
        c["code"]: c["project_count"] for c in (await (await browser.get("/api/cities")).json())["items"]
    }
    assert len(cities) == 21
    assert cities["4419"] == 3
    assert cities["4406"] == 0


async def test_another_citys_project_is_not_found_in_api_and_page(server: WebServer) -> None:
    world = await seed(server)
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    browser = await server.signed_in("dg.coord")
    foshan_id = world.foshan[0].id

    api = await browser.get(f"/api/projects/{foshan_id}")
    assert api.status == 404
    assert (await api.json())["error"]["message"] == "项目不存在"
    missing = await browser.get("/api/projects/999999?lang=en")
    assert missing.status == 404
    assert (await missing.json())["error"]["message"] == "Project not found"

    page = await browser.get(f"/projects/{foshan_id}")
    assert page.status == 404
    assert "佛山顺德家电" not in await page.text()


async def test_detail_shows_listing_ratios_and_amounts_as_strings(server: WebServer) -> None:
    world = await seed(server)
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    browser = await server.signed_in("dg.coord")

    detail = await (await browser.get(f"/api/projects/{world.dongguan[0].id}")).json()
    assert detail["code"] == "DG-001"
    assert detail["contract_amount"] == "160000.00"
    assert detail["listed_price"] == "100000.00"
    assert detail["amount_paid"] == "128000.00"
    assert detail["price_ratio"] == "1.6000"
    assert detail["over_listed_price"] is True  # above the configured 1.5x
    assert detail["paid_ratio"] == "0.8000"
    assert detail["paid_below_minimum"] is True  # below 90%
    assert [m["name"] for m in detail["modules"]] == ["设备联网", "生产看板", "质量追溯"]
    assert detail["supplier_kind"] == "platform"

    fine = await (await browser.get(f"/api/projects/{world.dongguan[2].id}")).json()
    assert fine["contract_amount"] == "45000.50"
    assert fine["price_ratio"] == "0.9000"
    assert fine["over_listed_price"] is False
    assert fine["paid_below_minimum"] is False


async def test_filters_combine_and_match_text_in_code_enterprise_and_supplier(server: WebServer) -> None:
    world = await seed(server)
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await server.signed_in("admin")

    async def find(params: str) -> list[str]:
        response = await browser.get(f"/api/projects?{params}")
        assert response.status == 200, await response.text()
        return codes(await response.json())

    assert await find("") == ["DG-001", "DG-002", "DG-003", "FS-001", "FS-002"]
    assert await find("city=4406") == ["FS-001", "FS-002"]
    assert await find("status=sampled") == ["DG-002", "FS-001"]
    assert await find("status=sampled&city=4419") == ["DG-002"]
    assert await find(f"supplier_id={world.suppliers['yuelian'].supplier.id}") == ["DG-003", "FS-002"]
    assert await find("key_only=true") == ["DG-001"]
    assert await find("cluster_only=true") == ["DG-002", "FS-002"]
    assert await find("q=dg-00") == ["DG-001", "DG-002", "DG-003"]  # case-insensitive code
    assert await find("q=长安五金") == ["DG-002", "DG-003"]  # enterprise name
    assert await find("q=粤联") == ["DG-003", "FS-002"]  # supplier name
    assert await find("q=%25") == []  # a literal %, not a wildcard
    # a parameter is either left out or given a value (the page's blank form fields are left out)
    assert (await browser.get("/api/projects?city=&status=&q=")).status == 422
    page = await (await browser.get("/projects?city=&status=&q=")).text()
    assert all(code in page for code in ["DG-001", "DG-002", "DG-003", "FS-001", "FS-002"])


@pytest.mark.parametrize(
    ("params", "field"),
    [("page_size=201", "page_size"), ("page=0", "page"), ("status=lost", "status"), ("city=Foshan", "city")],
)
async def test_bad_filters_are_refused_with_the_field_named(
    server: WebServer, params: str, field: str
) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await server.signed_in("admin")
    response = await browser.get(f"/api/projects?{params}&lang=en")
    assert response.status == 422
    body = await response.json()
    assert [f["field"] for f in body["error"]["fields"]] == [field]
    assert body["error"]["message"] == f"Invalid input: {field}"


async def test_pages_split_the_list_without_overlap(server: WebServer) -> None:
    async with transaction(server.db.factory) as session:
        bundle = await add_supplier(session, "中山云服务有限公司")
        enterprise = await add_enterprise(session, "4420", "中山灯饰有限公司")
        for n in range(7, 0, -1):
            await project(session, f"ZS-{n:03d}", bundle, enterprise)
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await server.signed_in("admin")

    seen: list[str] = []
    for page in (1, 2, 3):
        body = await (await browser.get(f"/api/projects?page_size=3&page={page}")).json()
        assert (body["total"], body["pages"], body["page"]) == (7, 3, page)
        seen += codes(body)
    assert seen == [f"ZS-{n:03d}" for n in range(1, 8)]
    beyond = await (await browser.get("/api/projects?page_size=3&page=4")).json()
    assert (beyond["items"], beyond["total"]) == ([], 7)

    html = await (await browser.get("/projects?page_size=3&page=2&city=4420")).text()
    assert "ZS-004" in html
    assert "ZS-001" not in html
    assert 'href="/projects?city=4420&amp;page_size=3&amp;page=1"' in html
    assert 'href="/projects?city=4420&amp;page_size=3&amp;page=3"' in html


async def test_expert_sees_only_projects_of_sessions_on_their_panel(server: WebServer) -> None:
    world = await seed(server)
    expert_user = await server.add_user("expert.li", Role.EXPERT, display_name="李专家")
    idle_user = await server.add_user("expert.wang", Role.EXPERT)
    async with transaction(server.db.factory) as session:
        expert = await expert_for(session, expert_user, "李专家")
        await expert_for(session, idle_user, "王专家")
        await seat_on_panel(session, world.foshan[0], expert)
        await seat_on_panel(session, world.dongguan[1], expert)

    browser = await server.signed_in("expert.li")
    assert codes(await (await browser.get("/api/projects")).json()) == ["DG-002", "FS-001"]
    assert (await browser.get(f"/api/projects/{world.foshan[0].id}")).status == 200
    assert (await browser.get(f"/api/projects/{world.foshan[1].id}")).status == 404
    assert (await browser.get(f"/api/projects/{world.dongguan[0].id}")).status == 404

    idle = await server.signed_in("expert.wang")
    assert (await (await idle.get("/api/projects")).json())["total"] == 0
    assert (await idle.get(f"/api/projects/{world.foshan[0].id}")).status == 404


async def test_alliance_staff_see_cluster_projects_of_every_city(server: WebServer) -> None:
    await seed(server)
    await server.add_user("alliance", Role.ALLIANCE_STAFF)
    browser = await server.signed_in("alliance")
    assert codes(await (await browser.get("/api/projects")).json()) == ["DG-002", "FS-002"]


async def test_projects_page_shows_filters_and_status_tags_in_both_languages(server: WebServer) -> None:
    await seed(server)
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await server.signed_in("admin")

    html = await (await browser.get("/projects?status=sampled")).text()
    assert '<option value="sampled" selected>已抽中</option>' in html
    assert '<span class="tag sampled">已抽中</span>' in html
    assert "DG-002" in html
    assert "FS-001" in html
    assert "DG-001" not in html
    assert "共 2 个项目" in html

    english = await (await browser.get("/projects?lang=en&status=qualified")).text()
    assert '<span class="tag qualified">Qualified</span>' in english
    assert "45,000.50" in english
    assert "1 projects" in english

    assert (await browser.get("/projects?page_size=500")).status == 422


async def test_project_page_shows_facts_and_checklist_grouped_by_standard(server: WebServer) -> None:
    world = await seed(server)
    dg1 = world.dongguan[0]
    async with transaction(server.db.factory) as session:
        # Inserted out of order: the page orders by position within each standard.
        await add_checklist_item(session, dg1, "F-2", Standard.FUNCTION, 6, "模块二", "Module two")
        await add_checklist_item(
            session, dg1, "I-1", Standard.IMPLEMENTATION, 1, "系统已部署", "System deployed"
        )
        await add_checklist_item(
            session, dg1, "M-1", Standard.FINANCE, 3, "合同定价合理", "Fair price", ItemResult.FAIL
        )
        await add_checklist_item(
            session, dg1, "F-1", Standard.FUNCTION, 5, "模块一", "Module one", ItemResult.PASS
        )
        await add_checklist_item(session, dg1, "I-2", Standard.IMPLEMENTATION, 2, "正常使用", "In use")
    await server.add_user("dg.audit", Role.AUDITOR, "4419")
    browser = await server.signed_in("dg.audit")

    html = await (await browser.get(f"/projects/{dg1.id}")).text()
    assert "东莞精密模具有限公司" in html
    assert "为收费标准的 1.6000 倍" in html
    assert "超过 1.5 倍" in html
    assert "低于 90%" in html
    order = [
        html.index(text)
        for text in (
            "实施真实",
            "系统已部署",
            "正常使用",
            "财务规范",
            "合同定价合理",
            "功能完整",
            "模块一",
            "模块二",
        )
    ]
    assert order == sorted(order)
    assert '<span class="tag fail">不通过</span>' in html

    english = await (await browser.get(f"/projects/{dg1.id}?lang=en")).text()
    assert "Sound finances" in english
    assert "Fair price" in english
    assert "1.6000× the listed price" in english

    empty = await (await browser.get(f"/projects/{world.dongguan[1].id}?lang=zh")).text()
    assert "尚未生成核查清单" in empty


async def test_anonymous_visitors_are_sent_to_sign_in(server: WebServer) -> None:
    browser = server.browser()
    assert (await browser.get("/api/projects")).status == 401
    page = await browser.get("/projects")
    assert page.status == 303
    assert page.headers["Location"].startswith("/login")
