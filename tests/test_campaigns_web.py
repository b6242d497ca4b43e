"""Campaigns and draws over HTTP: the API, the pages, and another city's coordinator kept out."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from sqlalchemy import func, select

from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.campaigns.models import Draw, DrawStatus
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus, VoucherProject
from tests.factories import add_project, add_supplier
from tests.web_helpers import Browser, WebServer

CAMPAIGN = {"city_code": "4419", "period": "2019", "budget": "800000.00", "deadline": "2020-06-30"}


async def _dongguan(server: WebServer) -> None:
    async with transaction(server.db.factory) as session:
        a = await add_supplier(session, "甲云科技有限公司")
        b = await add_supplier(session, "乙数据有限公司")
        for _ in range(12):
            await add_project(session, a)
        await add_project(session, b)
        await add_project(session, a, contract=Decimal("200000.00"))


async def _coordinator_with_draw(server: WebServer) -> tuple[Browser, int, int]:
    await _dongguan(server)
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419", "东莞协调员")
    coordinator = await server.signed_in("dg.coord")
    created = await coordinator.post("/api/campaigns", json=CAMPAIGN)
    assert created.status == 201, await created.text()
    campaign_id = (await created.json())["id"]
    drawn = await coordinator.post(
        f"/api/campaigns/{campaign_id}/draws", json={"ratio": "0.2", "seed": "dg-1"}
    )
    assert drawn.status == 201, await drawn.text()
    return coordinator, campaign_id, (await drawn.json())["draw"]["id"]


async def _audit_count(server: WebServer) -> int:
    async with server.db.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_coordinator_draws_publishes_and_exports(server: WebServer) -> None:
    coordinator, campaign_id, draw_id = await _coordinator_with_draw(server)
    shown = await (await coordinator.get(f"/api/draws/{draw_id}")).json()
    assert shown["draw"]["population"] == 14
    assert shown["draw"]["target"] == 3
    assert shown["draw"]["seed"] == "dg-1"
    first = shown["entries"][0]
    assert first["reasons"] == ["price_over_listed", "price_over_peers"]
    assert first["reason_labels"][0] == "合同价大幅超出产品定价"
    assert first["facts"]["ratio_to_listed"] == "2.0000"
    assert any(e["reasons"] == ["supplier_coverage"] for e in shown["entries"])

    published = await coordinator.post(f"/api/draws/{draw_id}/publish")
    assert published.status == 200, await published.text()
    assert (await published.json())["status"] == "published"
    again = await coordinator.post(f"/api/draws/{draw_id}/publish?lang=en")
    assert again.status == 409
    assert "cannot change" in (await again.json())["error"]["message"]
    more = await coordinator.post(f"/api/campaigns/{campaign_id}/draws", json={"count": 2})
    assert more.status == 409

    verified = await (await coordinator.get(f"/api/draws/{draw_id}/verify")).json()
    assert verified["matches"] is True
    export = await coordinator.get(f"/api/draws/{draw_id}/export.csv")
    assert export.status == 200
    assert export.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO((await export.read()).decode("utf-8-sig"))))
    assert len(rows) == 1 + len(shown["entries"])
    async with server.db.factory() as session:
        sampled = await session.scalar(
            select(func.count())
            .select_from(VoucherProject)
            .where(VoucherProject.status == ProjectStatus.SAMPLED)
        )
        exported = await session.scalar(select(func.count()).where(AuditEntry.action == "draw.export"))
    assert sampled == len(shown["entries"])
    assert exported == 1
    detail = await (await coordinator.get(f"/api/campaigns/{campaign_id}")).json()
    assert detail["campaign"]["status"] == "checking"
    assert [d["status"] for d in detail["draws"]] == ["published"]


async def test_another_citys_coordinator_is_refused_and_nothing_changes(server: WebServer) -> None:
    _, campaign_id, draw_id = await _coordinator_with_draw(server)
    await server.add_user("fs.coord", Role.CITY_COORDINATOR, "4406", "佛山协调员")
    foshan = await server.signed_in("fs.coord")
    before = await _audit_count(server)
    listed = await (await foshan.get("/api/campaigns")).json()
    assert listed["items"] == []
    # Another city's campaign or draw is answered exactly like one that does not exist.
    for method, path, real, body in [
        ("GET", "/api/campaigns/{}", campaign_id, None),
        ("GET", "/api/draws/{}", draw_id, None),
        ("GET", "/api/draws/{}/verify", draw_id, None),
        ("GET", "/api/draws/{}/export.csv", draw_id, None),
        ("POST", "/api/campaigns/{}/draws", campaign_id, {"count": 3}),
        ("POST", "/api/draws/{}/publish", draw_id, {}),
        ("GET", "/campaigns/{}", campaign_id, None),
        ("GET", "/draws/{}", draw_id, None),
    ]:
        there = await foshan.request(method, path.format(real), json=body)
        absent = await foshan.request(method, path.format(999999), json=body)
        assert (there.status, absent.status) == (404, 404), path
        assert await there.text() == await absent.text(), path
    refused = await foshan.post(f"/api/draws/{draw_id}/publish")
    assert (await refused.json())["error"]["message"] == "抽查名单不存在"
    # Opening a campaign for another city is a permission refusal (no id is involved).
    assert (await foshan.post("/api/campaigns", json={**CAMPAIGN, "period": "2020"})).status == 403
    assert await _audit_count(server) == before
    async with server.db.factory() as session:
        draw = await session.get(Draw, draw_id)
        draws = await session.scalar(select(func.count()).select_from(Draw))
        sampled = await session.scalar(
            select(func.count())
            .select_from(VoucherProject)
            .where(VoucherProject.status == ProjectStatus.SAMPLED)
        )
    assert draw is not None
    assert draw.status == DrawStatus.DRAFT
    assert draws == 1
    assert sampled == 0


async def test_bad_draw_requests_are_422_in_the_users_language(server: WebServer) -> None:
    coordinator, campaign_id, _ = await _coordinator_with_draw(server)
    too_big = await coordinator.post(f"/api/campaigns/{campaign_id}/draws", json={"ratio": "1.5"})
    assert too_big.status == 422
    assert (await too_big.json())["error"]["fields"][0] == {"field": "ratio", "message": "数值太大"}
    both = await coordinator.post(
        f"/api/campaigns/{campaign_id}/draws?lang=en", json={"ratio": "0.2", "count": 3}
    )
    assert both.status == 422
    assert "not both" in (await both.json())["error"]["fields"][0]["message"]
    seed = await coordinator.post(f"/api/campaigns/{campaign_id}/draws", json={"seed": "a b"})
    assert seed.status == 422
    dup = await coordinator.post("/api/campaigns", json=CAMPAIGN)
    assert dup.status == 409
    async with server.db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Draw)) == 1


async def test_alliance_staff_see_no_campaign_without_cluster_projects(server: WebServer) -> None:
    """Alliance staff help run the cluster projects' campaigns (tests/test_reports_web.py); a city's
    other campaigns, their budgets and draws are answered like absent ones."""
    _, campaign_id, draw_id = await _coordinator_with_draw(server)
    await server.add_user("alliance", Role.ALLIANCE_STAFF)
    alliance = await server.signed_in("alliance")
    assert (await (await alliance.get("/api/campaigns")).json())["items"] == []
    assert f"/campaigns/{campaign_id}" not in await (await alliance.get("/campaigns")).text()
    for path in (
        f"/api/campaigns/{campaign_id}",
        f"/api/draws/{draw_id}",
        f"/api/draws/{draw_id}/verify",
        f"/campaigns/{campaign_id}",
        f"/draws/{draw_id}",
    ):
        response = await alliance.get(path)
        assert response.status == 404, path
        assert "800000" not in await response.text()


async def test_experts_see_no_campaigns_and_cannot_draw(server: WebServer) -> None:
    _, campaign_id, _ = await _coordinator_with_draw(server)
    await server.add_user("expert", Role.EXPERT)
    expert = await server.signed_in("expert")
    assert (await expert.get("/api/campaigns")).status == 403  # campaigns are the city's plans
    assert (await expert.get(f"/api/campaigns/{campaign_id}")).status == 403
    assert (await expert.post(f"/api/campaigns/{campaign_id}/draws", json={})).status == 403  # their role


async def test_pages_show_the_sample_with_reason_tags_and_publish_needs_confirmation(
    server: WebServer,
) -> None:
    coordinator, campaign_id, draw_id = await _coordinator_with_draw(server)
    listing = await (await coordinator.get("/campaigns")).text()
    assert f'href="/campaigns/{campaign_id}"' in listing
    assert "东莞" in listing
    detail = await (await coordinator.get(f"/campaigns/{campaign_id}")).text()
    assert f'href="/draws/{draw_id}"' in detail
    page = await coordinator.get(f"/draws/{draw_id}")
    html = await page.text()
    assert page.status == 200
    assert 'data-reason="price_over_listed">合同价大幅超出产品定价' in html
    assert "覆盖该服务商" in html
    assert f'href="/api/draws/{draw_id}/export.csv"' in html
    assert 'name="confirm"' in html
    english = await (await coordinator.get(f"/draws/{draw_id}?lang=en")).text()
    assert "Contract far above the listed price" in english

    unconfirmed = await coordinator.post(f"/draws/{draw_id}/publish", data={"csrf_token": coordinator.csrf})
    assert unconfirmed.status == 422
    assert "Tick the confirmation box" in await unconfirmed.text()
    async with server.db.factory() as session:
        draw = await session.get(Draw, draw_id)
        assert draw is not None
        assert draw.status == DrawStatus.DRAFT
    confirmed = await coordinator.post(
        f"/draws/{draw_id}/publish", data={"csrf_token": coordinator.csrf, "confirm": "yes"}
    )
    assert confirmed.status == 303
    after = await (await coordinator.get(f"/draws/{draw_id}?lang=zh")).text()
    assert "已发布" in after
    assert 'name="confirm"' not in after


async def test_campaign_and_draw_forms(server: WebServer) -> None:
    await _dongguan(server)
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    admin = await server.signed_in("admin")
    bad = await admin.post("/campaigns", data={**CAMPAIGN, "budget": "lots", "csrf_token": admin.csrf})
    assert bad.status == 422
    assert "预算应为数字" in await bad.text()
    made = await admin.post("/campaigns", data={**CAMPAIGN, "csrf_token": admin.csrf})
    assert made.status == 303
    campaign_url = made.headers["Location"]
    drawn = await admin.post(
        f"{campaign_url}/draws", data={"mode": "count", "count": "4", "seed": "", "csrf_token": admin.csrf}
    )
    assert drawn.status == 303
    draw_id = int(drawn.headers["Location"].rsplit("/", 1)[1])
    async with server.db.factory() as session:
        draw = await session.get(Draw, draw_id)
    assert draw is not None
    assert draw.count == 4
    assert len(draw.seed) == 16  # a fresh random seed, recorded
