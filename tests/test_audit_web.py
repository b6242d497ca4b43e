"""The audit log over HTTP: who sees which entries, filters, export (audited), verification."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import text

from remote_check.accounts.models import Role
from tests.test_audit import triggers_dropped
from tests.web_helpers import Browser, WebServer


async def entries(browser: Browser, params: str = "") -> dict[str, Any]:
    response = await browser.get(f"/api/audit?page_size=200&{params}")
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


PEOPLE: dict[str, tuple[Role, str | None]] = {
    "admin": (Role.PROVINCE_ADMIN, None),
    "gd.audit": (Role.AUDITOR, None),  # province-wide
    "dg.audit": (Role.AUDITOR, "4419"),
    "dg.coord": (Role.CITY_COORDINATOR, "4419"),
    "fs.coord": (Role.CITY_COORDINATOR, "4406"),
}


async def people(server: WebServer, *names: str) -> dict[str, int]:
    """Add the named users (each is one ``user.create`` entry carrying the user's city)."""
    return {name: await server.add_user(name, *PEOPLE[name]) for name in names}


async def test_a_city_auditor_sees_only_their_citys_entries_newest_first(server: WebServer) -> None:
    ids = await people(server, "fs.coord", "dg.coord", "dg.audit", "gd.audit")
    city = await server.signed_in("dg.audit")
    province = await server.signed_in("gd.audit")

    mine = await entries(city)
    targets = [(e["action"], e["target"], e["city_code"]) for e in mine["items"]]
    assert targets == [
        ("auth.login", f"user:{ids['dg.audit']}", "4419"),
        ("user.create", f"user:{ids['dg.audit']}", "4419"),
        ("user.create", f"user:{ids['dg.coord']}", "4419"),
    ]

    everything = await entries(province)
    assert everything["total"] == 6
    assert ("user.create", f"user:{ids['fs.coord']}") in {
        (e["action"], e["target"]) for e in everything["items"]
    }

    html = await (await city.get("/audit")).text()
    assert "仅显示本市的记录" in html
    assert f"user:{ids['dg.coord']}" in html
    assert f"user:{ids['fs.coord']}" not in html


async def test_filters_by_action_actor_and_time(server: WebServer) -> None:
    ids = await people(server, "dg.coord", "admin")
    server.clock.advance(dt.timedelta(hours=2))
    coordinator = await server.signed_in("dg.coord")
    await coordinator.post("/api/logout")
    admin = await server.signed_in("admin")

    auth = await entries(admin, "action=auth")
    assert {e["action"] for e in auth["items"]} == {"auth.login", "auth.logout"}
    assert {e["action"] for e in (await entries(admin, "action=auth.login"))["items"]} == {"auth.login"}
    assert (await entries(admin, "action=aut"))["total"] == 0  # a whole segment, not any prefix

    by_name = await entries(admin, "actor=dg.coord")
    assert [e["action"] for e in by_name["items"]] == ["auth.logout", "auth.login"]
    assert (await entries(admin, f"actor=user:{ids['dg.coord']}"))["total"] == 2

    later = (server.clock.now() - dt.timedelta(minutes=1)).isoformat()
    recent = await entries(admin, f"since={quote(later)}")
    assert {e["action"] for e in recent["items"]} == {"auth.login", "auth.logout"}
    earlier = await entries(admin, f"until={quote(later)}")
    assert {e["action"] for e in earlier["items"]} == {"user.create"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ("since=2020-04-10T09:00:00", "since"),  # no time zone
        ("since=2020-04-10T09:00:00%2B08:00&until=2020-04-10T08:00:00%2B08:00", "until"),
        ("page_size=500", "page_size"),
    ],
)
async def test_bad_filters_are_refused(server: WebServer, params: str, field: str) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    admin = await server.signed_in("admin")
    response = await admin.get(f"/api/audit?{params}")
    assert response.status == 422
    assert [f["field"] for f in (await response.json())["error"]["fields"]] == [field]


async def test_viewing_is_not_audited_but_exporting_is(server: WebServer) -> None:
    ids = await people(server, "dg.audit", "fs.coord", "admin")
    city = await server.signed_in("dg.audit")
    admin = await server.signed_in("admin")

    before = (await entries(admin))["total"]
    await entries(city)
    assert (await city.get("/audit")).status == 200
    assert (await entries(admin))["total"] == before

    export = await city.get("/api/audit/export.csv?action=user")
    assert export.status == 200
    assert export.content_type == "text/csv"
    assert export.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.DictReader(io.StringIO((await export.read()).decode("utf-8-sig"))))
    assert rows
    # The Dongguan auditor's own creation; not the Foshan coordinator's, nor the administrator's.
    assert [(r["action"], r["target"], r["city_code"]) for r in rows] == [
        ("user.create", f"user:{ids['dg.audit']}", "4419")
    ]

    after = await entries(admin)
    assert after["total"] == before + 1
    newest = after["items"][0]
    assert newest["action"] == "audit.export"
    assert newest["actor"] == f"user:{ids['dg.audit']}"
    assert newest["city_code"] == "4419"
    assert newest["details"] == {"filters": {"action": "user"}, "rows": 1}


async def test_only_province_wide_readers_verify_and_tampering_is_reported(server: WebServer) -> None:
    await people(server, "dg.audit", "gd.audit")
    city = await server.signed_in("dg.audit")
    province = await server.signed_in("gd.audit")

    refused = await city.get("/api/audit/verify")
    assert refused.status == 403
    assert "省级" in (await refused.json())["error"]["message"]
    assert "校验哈希链" not in await (await city.get("/audit")).text()

    intact = await (await province.get("/api/audit/verify")).json()
    assert intact["intact"] is True
    assert intact["findings"] == []
    assert intact["entries"] == intact["head_seq"] > 0
    assert "审计日志完整" in await (await province.get("/audit?verify=1")).text()

    async with triggers_dropped(server.db), server.db.engine.begin() as conn:
        await conn.execute(text("UPDATE audit_log SET actor = 'user:999' WHERE seq = 3"))
    report = await (await province.get("/api/audit/verify?lang=en")).json()
    assert report["intact"] is False
    assert report["findings"] == [
        {
            "seq": 3,
            "kind": "altered",
            "message": "entry 3 was altered (its keyed hash does not match its content)",
        }
    ]
    page = await (await province.get("/audit?verify=1&lang=zh")).text()
    assert "审计日志已被篡改" in page
    assert "第 3 条记录的内容已被修改" in page


async def test_roles_without_audit_permission_are_refused(server: WebServer) -> None:
    await people(server, "dg.coord")
    await server.add_user("expert", Role.EXPERT)
    for name in ("dg.coord", "expert"):
        browser = await server.signed_in(name)
        assert (await browser.get("/api/audit")).status == 403
        assert (await browser.get("/api/audit/export.csv")).status == 403
        assert (await browser.get("/audit")).status == 403


async def test_audit_page_filters_by_local_days_and_links_the_export(server: WebServer) -> None:
    await people(server, "dg.coord", "admin")
    server.clock.advance(dt.timedelta(days=1))  # 2020-04-11
    await server.signed_in("dg.coord")
    admin = await server.signed_in("admin")

    html = await (await admin.get("/audit?since=2020-04-11&until=2020-04-11&action=auth")).text()
    assert "共 2 条记录" in html  # the two log-ins of the 11th, not the user creations of the 10th
    assert "dg.coord" in html  # the actor is shown by name
    assert 'href="/api/audit/export.csv?action=auth&amp;since=2020-04-11T00%3A00%3A00%2B08%3A00' in html
    assert "校验哈希链" in html

    assert (await admin.get("/audit?since=11/04/2020")).status == 422
