"""The money over HTTP: the API (periods, a plan, apply once, CSV, deadline), the pages, bad input, scope."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from sqlalchemy import func, select

from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus, VoucherProject
from tests.factories import add_project, add_supplier
from tests.web_helpers import Browser, WebServer

PERIOD = {"city_code": "4419", "name": "2020年第一结算期", "budget": "50000.00"}


async def _dongguan(server: WebServer) -> None:
    """Three qualified projects of 30,000 each (30% of 100,000, nothing paid yet)."""
    async with transaction(server.db.factory) as session:
        bundle = await add_supplier(session, "甲云科技有限公司")
        for _ in range(3):
            await add_project(session, bundle, status=ProjectStatus.QUALIFIED, paid=Decimal(0))


async def _coordinator(server: WebServer) -> Browser:
    await _dongguan(server)
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419", "东莞协调员")
    return await server.signed_in("dg.coord")


async def _audit_count(server: WebServer) -> int:
    async with server.db.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_a_coordinator_computes_applies_once_and_exports(server: WebServer) -> None:
    coordinator = await _coordinator(server)
    created = await coordinator.post("/api/funding/periods", json=PERIOD)
    assert created.status == 201, await created.text()
    period = await created.json()
    assert period["money_deadline"] == "2020-06-30"
    computed = await coordinator.post(f"/api/funding/periods/{period['id']}/plans", json={})
    assert computed.status == 201, await computed.text()
    plan = await computed.json()
    assert [line["reason"] for line in plan["lines"]] == ["funded", "budget_exhausted", "budget_exhausted"]
    assert plan["lines"][1]["reason_label"] == "预算不足，结转下一结算期优先拨付"
    assert (plan["funded"], plan["carried_over"], plan["remaining"]) == ("30000.00", "60000.00", "20000.00")

    applied = await coordinator.post(f"/api/funding/plans/{plan['id']}/apply", json={})
    assert applied.status == 200, await applied.text()
    assert (await applied.json())["status"] == "applied"
    before = await _audit_count(server)
    again = await coordinator.post(
        f"/api/funding/plans/{plan['id']}/apply", json={}, headers={"Accept-Language": "en"}
    )
    assert again.status == 409
    assert await _audit_count(server) == before
    async with server.db.factory() as session:
        statuses = sorted((await session.scalars(select(VoucherProject.status))).all())
    assert statuses == [ProjectStatus.CARRIED_OVER, ProjectStatus.CARRIED_OVER, ProjectStatus.FUNDED]

    exported = await coordinator.get(f"/api/funding/plans/{plan['id']}/export.csv")
    assert exported.status == 200
    rows = list(csv.reader(io.StringIO((await exported.read()).decode("utf-8-sig"))))
    assert rows[0][0] == "序号/Position"
    assert [r[7] for r in rows[1:4]] == ["funded", "budget_exhausted", "budget_exhausted"]
    assert rows[-1][1:] == ["预算余额/Remaining", "", "", "", "", "20000.00", "", ""]

    shown = await coordinator.get(f"/api/funding/periods/{period['id']}/plan")
    assert (await shown.json())["status"] == "applied"
    deadline = await (await coordinator.get("/api/funding/cities/4419/deadline")).json()
    assert deadline["at_risk"] is False
    assert deadline["deadline"] == "2020-06-30"


async def test_bad_input_is_refused_in_the_users_language_and_changes_nothing(server: WebServer) -> None:
    coordinator = await _coordinator(server)
    before = await _audit_count(server)
    for budget in ("-5", "abc", "1.001"):
        refused = await coordinator.post("/api/funding/periods?lang=en", json={**PERIOD, "budget": budget})
        assert refused.status == 422, budget
        [field] = (await refused.json())["error"]["fields"]
        assert field["field"] == "budget"
        assert field["message"].isascii()
    zh = await coordinator.post("/api/funding/periods?lang=zh", json={**PERIOD, "budget": "-5"})
    [field] = (await zh.json())["error"]["fields"]
    assert not field["message"].isascii()  # in Chinese
    # the page's form: the same refusal, shown on the page
    page = await coordinator.post("/funding/4419/periods", data={"name": "P", "budget": "很多"})
    assert page.status == 422
    assert "预算" in await page.text()
    assert await _audit_count(server) == before


async def test_another_city_and_experts_are_kept_out(server: WebServer) -> None:
    coordinator = await _coordinator(server)
    period = await (await coordinator.post("/api/funding/periods", json=PERIOD)).json()
    await server.add_user("gz.coord", Role.CITY_COORDINATOR, "4401", "广州协调员")
    await server.add_user("expert", Role.EXPERT, None, "专家")
    other = await server.signed_in("gz.coord")
    assert (await other.get(f"/api/funding/periods/{period['id']}/plan")).status == 403
    assert (await other.post("/api/funding/periods", json=PERIOD)).status == 403
    assert (await other.get("/funding/4419")).status == 403
    expert = await server.signed_in("expert")
    assert (await expert.get("/funding/4419")).status == 403
    await server.add_user("admin", Role.PROVINCE_ADMIN, None, "省管理员")
    admin = await server.signed_in("admin")
    index = await admin.get("/funding")
    assert index.status == 200
    text = await index.text()
    assert 'data-city="4419" data-at-risk="no"' in text
    assert 'data-city="4403"' not in text  # Shenzhen is not in the round
    assert (await admin.get(f"/funding/periods/{period['id']}")).status == 200
    assert (await admin.get("/funding/9999")).status == 404
    assert (await admin.get("/api/funding/cities/9999/deadline")).status == 404


async def test_the_pages_compute_and_apply(server: WebServer) -> None:
    coordinator = await _coordinator(server)
    redirect = await coordinator.get("/funding")
    assert redirect.status == 303
    created = await coordinator.post("/funding/4419/periods", data={"name": "P1", "budget": "60000"})
    assert created.status == 303
    page_url = created.headers["Location"]
    assert (await coordinator.post(page_url + "/compute")).status == 303
    page = await (await coordinator.get(page_url)).text()
    assert page.count('data-reason="funded"') == 2
    assert "结转下一结算期优先拨付" in page
    plan_id = page.split('name="plan_id" value="')[1].split('"')[0]
    assert (await coordinator.post(page_url + "/apply", data={"plan_id": plan_id})).status == 303
    page = await (await coordinator.get(page_url)).text()
    assert "已执行" in page
    assert 'id="apply"' not in page


async def test_the_city_page_warns_when_the_checks_left_cannot_finish(server: WebServer) -> None:
    coordinator = await _coordinator(server)
    async with transaction(server.db.factory) as session:
        await add_project(session, await add_supplier(session), status=ProjectStatus.SAMPLED)
    # the clock says 2020-04-10: money due on the 14th leaves no working day for checks
    early = {**PERIOD, "money_deadline": "2020-04-14"}
    assert (await coordinator.post("/api/funding/periods", json=early)).status == 201
    page = await (await coordinator.get("/funding/4419")).text()
    assert 'id="deadline-warning"' in page
    assert "无法在资金下达期限 2020-04-14 前完成" in page
    deadline = await (await coordinator.get("/api/funding/cities/4419/deadline?lang=en")).json()
    assert deadline["at_risk"] is True
    assert (deadline["remaining"], deadline["capacity"]) == (1, 0)
    assert deadline["message"].startswith("Warning")
    await server.add_user("admin", Role.PROVINCE_ADMIN, None, "省管理员")
    index = await (await (await server.signed_in("admin")).get("/funding")).text()
    assert 'data-city="4419" data-at-risk="yes"' in index
    assert 'data-city="4401" data-at-risk="no"' in index
    assert "1 个地市的剩余核查无法在资金下达期限前完成" in index


async def test_the_budget_changes_until_the_plan_is_applied(server: WebServer) -> None:
    coordinator = await _coordinator(server)
    period = await (await coordinator.post("/api/funding/periods", json=PERIOD)).json()
    changed = await coordinator.patch(f"/api/funding/periods/{period['id']}", json={"budget": "90000.00"})
    assert changed.status == 200
    assert (await changed.json())["budget"] == "90000.00"
    page = await coordinator.post(f"/funding/periods/{period['id']}/budget", data={"budget": "-1"})
    assert page.status == 422
    assert "预算" in await page.text()
    plan = await (await coordinator.post(f"/api/funding/periods/{period['id']}/plans", json={})).json()
    assert plan["funded"] == "90000.00"  # all three
    assert (await coordinator.post(f"/api/funding/plans/{plan['id']}/apply", json={})).status == 200
    late = await coordinator.patch(f"/api/funding/periods/{period['id']}?lang=en", json={"budget": "1.00"})
    assert late.status == 409
    assert "applied" in (await late.json())["error"]["message"]
    again = await coordinator.post(f"/api/funding/periods/{period['id']}/plans", json={})
    assert again.status == 409
