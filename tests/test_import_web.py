"""Importing over HTTP: the API (POST /api/imports) and the upload page (/imports)."""

from __future__ import annotations

import pytest
from aiohttp import FormData
from sqlalchemy import func, select

from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.imports.template import HERE, XLSX_NAME
from remote_check.programme.models import VoucherProject
from tests.import_files import FOSHAN, csv_file, row
from tests.web_helpers import WebServer, csrf_from_html


def upload(data: bytes, name: str = "projects.csv", **fields: str) -> FormData:
    form = FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


async def stored(server: WebServer) -> tuple[int, int]:
    async with server.db.factory() as session:
        projects = await session.scalar(select(func.count()).select_from(VoucherProject))
        audit = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "project.import")
        )
    return int(projects or 0), int(audit or 0)


async def test_a_coordinator_imports_their_city_and_a_reimport_is_skipped(server: WebServer) -> None:
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    browser = await server.signed_in("dg.coord")
    data = csv_file([row(1), row(2)])
    response = await browser.post("/api/imports", data=upload(data))
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["rows"], body["created"], body["skipped"], body["enterprises_created"]) == (2, 2, 0, 1)
    again = await (await browser.post("/api/imports", data=upload(data))).json()
    assert (again["created"], again["skipped"]) == (0, 2)
    assert await stored(server) == (2, 2)
    async with server.db.factory() as session:
        entry = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "project.import"))
        ).first()
    assert entry is not None
    assert entry.actor.startswith("user:")
    assert entry.city_code == "4419"


async def test_problems_come_back_as_fields_in_the_users_language(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await server.signed_in("admin")
    data = csv_file([row(1), row(2, amount_paid="90000"), row(3, enterprise_credit_code="123")])
    zh = await browser.post("/api/imports", data=upload(data))
    assert zh.status == 422
    error = (await zh.json())["error"]
    assert error["code"] == "import_invalid"
    assert error["message"] == "导入失败：发现 2 个问题，未保存任何数据"
    assert error["fields"][0] == {
        "row": "3",
        "field": "amount_paid",
        "column": "已支付金额（元）",
        "code": "paid_above_contract",
        "message": "已支付金额 90000.00 元超过合同金额 80000.00 元",
    }
    assert error["fields"][1]["column"] == "企业统一社会信用代码"
    en = await (await browser.post("/api/imports?lang=en", data=upload(data))).json()
    assert en["error"]["message"] == "Import refused: 2 problems found; nothing was stored"
    assert en["error"]["fields"][1]["column"] == "Enterprise credit code"
    assert en["error"]["fields"][1]["message"] == "a credit code has 18 characters, not 3"
    assert await stored(server) == (0, 0)


async def test_a_coordinator_cannot_import_another_citys_rows(server: WebServer) -> None:
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    browser = await server.signed_in("dg.coord")
    response = await browser.post("/api/imports", data=upload(csv_file([row(1), row(2, FOSHAN)])))
    assert response.status == 422
    fields = (await response.json())["error"]["fields"]
    assert [(f["row"], f["code"]) for f in fields] == [("3", "other_city")]
    assert await stored(server) == (0, 0)


async def test_refused_imports_and_dry_runs_are_audited_with_counts_only(server: WebServer) -> None:
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    browser = await server.signed_in("dg.coord")
    refused = await browser.post("/api/imports", data=upload(csv_file([row(1), row(2, FOSHAN)]), "probe.csv"))
    assert refused.status == 422
    checked = await browser.post("/api/imports?dry_run=true", data=upload(csv_file([row(1)]), "check.csv"))
    assert (await checked.json())["dry_run"] is True
    form = await browser.get("/imports")
    csrf = csrf_from_html(await form.text())
    page = await browser.post(
        "/imports", data=upload(csv_file([row(3, amount_paid="90000")]), csrf_token=csrf)
    )
    assert page.status == 422
    async with server.db.factory() as session:
        entries = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("project.import%")).order_by(AuditEntry.seq)
            )
        ).all()
    assert [(e.action, e.target, e.city_code) for e in entries] == [
        ("project.import_refused", "file:probe.csv", "4419"),
        ("project.import_dry_run", "file:check.csv", "4419"),
        ("project.import_refused", "file:projects.csv", "4419"),
    ]
    assert entries[0].actor.startswith("user:")
    assert {k: entries[0].details[k] for k in ("rows", "problems", "by_code", "dry_run")} == {
        "rows": 2,
        "problems": 1,
        "by_code": {"other_city": 1},
        "dry_run": False,
    }
    assert entries[2].details["by_code"] == {"paid_above_contract": 1}
    for entry in entries:  # counts, never the rows' contents
        assert FOSHAN["enterprise_name"] not in repr(entry.details)
        assert row(1)["enterprise_credit_code"] not in repr(entry.details)
    assert await stored(server) == (0, 0)


async def test_who_may_import_and_what_must_be_sent(server: WebServer) -> None:
    await server.add_user("expert", Role.EXPERT)
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    data = csv_file([row(1)])
    assert (await server.browser().post("/api/imports", data=upload(data))).status == 401
    expert = await server.signed_in("expert")
    assert (await expert.post("/api/imports", data=upload(data))).status == 403
    admin = await server.signed_in("admin")
    missing = await admin.post("/api/imports", json={"file": "nope"})
    assert missing.status == 422
    assert (await missing.json())["error"]["fields"] == [
        {"field": "file", "message": "请选择要上传的 XLSX 或 CSV 文件"}
    ]
    broken = await admin.post("/api/imports", data=upload(b"PK\x03\x04junk", "p.xlsx"))
    assert broken.status == 422
    assert "XLSX" in (await broken.json())["error"]["message"]
    checked = await admin.post("/api/imports?dry_run=true", data=upload(data))
    assert (await checked.json())["dry_run"] is True
    assert await stored(server) == (0, 0)


async def test_the_upload_page_shows_every_problem_then_the_summary(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await server.signed_in("admin")
    page = await browser.get("/imports")
    html = await page.text()
    assert page.status == 200
    assert 'enctype="multipart/form-data"' in html
    assert "企业统一社会信用代码" in html
    token = csrf_from_html(html)
    browser.csrf = ""  # the form carries its token as a field, as a browser sends it
    bad = csv_file([row(1, voucher_amount="99999"), row(2, city="Gotham")])
    refused = await browser.post("/imports", data=upload(bad, csrf_token=token))
    html = await refused.text()
    assert refused.status == 422
    assert "导入失败：发现 2 个问题" in html
    assert "服务券金额 99999.00 元超过合同金额 80000.00 元" in html
    assert "未知城市：Gotham" in html
    good = await browser.post("/imports?lang=en", data=upload((HERE / XLSX_NAME).read_bytes(), XLSX_NAME,
                                                              csrf_token=token))  # fmt: skip
    html = await good.text()
    assert good.status == 200
    assert "Import done" in html
    assert await stored(server) == (2, 1)


async def test_the_templates_can_be_downloaded(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await server.signed_in("admin")
    xlsx = await browser.get("/imports/template.xlsx")
    assert xlsx.status == 200
    assert await xlsx.read() == (HERE / XLSX_NAME).read_bytes()
    assert "attachment" in xlsx.headers["Content-Disposition"]
    csv = await browser.get("/imports/template.csv")
    assert (await csv.read()).decode("utf-8-sig").startswith("项目编号,城市,企业名称")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_the_template_a_user_downloads_can_be_uploaded_as_it_is(server: WebServer, kind: str) -> None:
    """A coordinator may import only their own city's rows: their template's examples are in it."""
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    await server.add_user("fs.coord", Role.CITY_COORDINATOR, "4406")
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    stored_before = 0
    for user in ("dg.coord", "fs.coord", "admin"):
        browser = await server.signed_in(user)
        template = await (await browser.get(f"/imports/template.{kind}")).read()
        response = await browser.post("/api/imports", data=upload(template, f"template.{kind}"))
        assert response.status == 200, (user, await response.text())
        body = await response.json()
        assert (body["created"], body["skipped"]) == (2, 0), user
        stored_now, _ = await stored(server)
        assert stored_now == stored_before + 2
        stored_before = stored_now
    async with server.db.factory() as session:
        cities = (await session.scalars(select(VoucherProject.city_code).order_by(VoucherProject.id))).all()
    assert cities == ["4419", "4419", "4406", "4406", "4419", "4406"]
