"""Reports to the province over HTTP: a coordinator files, the province downloads, other cities
see nothing; the dashboard per role; alliance staff and the cluster campaigns."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
from openpyxl import load_workbook
from sqlalchemy import func, select

from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.database import transaction
from remote_check.reports import columns as C
from remote_check.reports.models import Filing
from tests.report_world import World, build_world
from tests.web_helpers import Browser, WebServer
from web.keys import SETTINGS


async def _world(server: WebServer) -> World:
    async with transaction(server.db.factory) as session:
        world = await build_world(session)
    for name, role, city in (
        ("gz.coord", Role.CITY_COORDINATOR, "4401"),
        ("fs.coord", Role.CITY_COORDINATOR, "4406"),
        ("admin", Role.PROVINCE_ADMIN, None),
        ("auditor", Role.AUDITOR, None),
        ("alliance", Role.ALLIANCE_STAFF, None),
        ("expert", Role.EXPERT, None),
    ):
        await server.add_user(name, role, city)
    return world


async def _file(browser: Browser, campaign_id: int, kind: str, note: str = "") -> int:
    response = await browser.post(
        f"/campaigns/{campaign_id}/report",
        data={"kind": kind, "note": note, "csrf_token": browser.csrf},
    )
    return response.status


def store_root(server: WebServer) -> Path:
    app = server.test_server.app
    assert app is not None
    return Path(app[SETTINGS].data_dir) / "files"


async def _filings(server: WebServer) -> int:
    async with server.db.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Filing)) or 0)


async def test_a_coordinator_files_and_the_province_downloads_what_was_filed(server: WebServer) -> None:
    world = await _world(server)
    gz = await server.signed_in("gz.coord")
    preview = await gz.get(f"/campaigns/{world.campaign_id}/report/results.xlsx")
    assert preview.status == 200
    assert await _filings(server) == 0  # a preview files nothing

    assert await _file(gz, world.campaign_id, "results", "第一次报送") == 303
    assert await _file(gz, world.campaign_id, "results", "更正后重报") == 303
    assert await _file(gz, world.campaign_id, "plan") == 303
    page = await (await gz.get("/reports")).text()
    assert re.search(r'data-filing="1" data-current="no"', page)
    assert re.search(r'data-filing="2" data-current="yes"', page)
    assert "更正后重报" in page

    admin = await server.signed_in("admin")
    listing = await (await admin.get("/reports")).text()
    assert 'data-filing="3"' in listing
    xlsx = await admin.get("/reports/filings/2.xlsx")
    assert xlsx.status == 200
    assert xlsx.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(await xlsx.read()))
    assert [c.value for c in book[C.BY_OUTCOME.zh][1]] == [c.zh for c in C.BY_OUTCOME.columns]
    pdf = await admin.get("/reports/filings/3.pdf")
    text = pypdf.PdfReader(io.BytesIO(await pdf.read())).pages[0].extract_text()
    assert "广州市2019年度服务券抽查计划" in text
    filings = (await (await admin.get("/api/reports/filings")).json())["items"]
    assert [(f["id"], f["kind"], f["current"], f["supersedes_id"]) for f in filings] == [
        (3, "plan", True, None),
        (2, "results", True, 1),
        (1, "results", False, None),
    ]
    assert filings[1]["note"] == "更正后重报"
    auditor = await server.signed_in("auditor")
    assert (await auditor.get("/reports/filings/1.pdf")).status == 200  # the superseded one is kept
    assert await _file(auditor, world.campaign_id, "plan") == 403  # the province reads, cities file
    # a stored file altered behind the system's back is refused, not served
    stored = store_root(server) / filings[2]["pdf_sha256"][:2] / filings[2]["pdf_sha256"]
    stored.chmod(0o600)
    stored.write_bytes(b"%PDF-1.4 forged")
    damaged = await auditor.get("/reports/filings/1.pdf?lang=en")
    assert damaged.status == 500
    assert "altered" in await damaged.text()

    async with server.db.factory() as session:
        audited = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "report.file"))).all()
    assert [(a.target, a.city_code, a.actor) for a in audited][1] == ("report_filing:2", "4401", "user:1")


async def test_other_cities_and_other_roles_see_no_filing_and_bad_input_changes_nothing(
    server: WebServer,
) -> None:
    world = await _world(server)
    gz = await server.signed_in("gz.coord")
    assert await _file(gz, world.campaign_id, "results") == 303
    fs = await server.signed_in("fs.coord")
    assert 'data-filing="1"' not in await (await fs.get("/reports")).text()
    assert (await fs.get("/reports/filings/1.xlsx")).status == 404
    assert (await (await fs.get("/api/reports/filings")).json())["items"] == []
    assert (await fs.get(f"/campaigns/{world.campaign_id}/report/plan.pdf")).status == 404
    assert await _file(fs, world.campaign_id, "plan") == 404
    for name in ("alliance", "expert"):
        other = await server.signed_in(name)
        assert (await other.get("/reports")).status == 403
        assert (await other.get("/reports/filings/1.pdf")).status == 403

    bad = await gz.post(
        f"/campaigns/{world.campaign_id}/report?lang=en",
        data={"kind": "bogus", "csrf_token": gz.csrf},
    )
    assert bad.status == 422
    assert "plan or results" in await bad.text()
    # no update path: a filed report cannot be replaced in place
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        response = await gz.request(method, "/reports/filings/1.pdf")
        assert response.status == 405, method
    assert await _filings(server) == 1


async def test_the_dashboard_shows_each_city_to_the_province_and_its_own_to_a_city(server: WebServer) -> None:
    world = await _world(server)
    admin = await server.signed_in("admin")
    page = await (await admin.get("/dashboard")).text()
    assert 'data-city="4401"' in page
    assert 'data-city="4406"' in page
    assert 'role="img"' in page  # the chart, with the numbers in the table beside it
    assert "各市核查进度" in page
    row = page.split('data-city="4401"')[1].split("</tr>")[0]
    numbers = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert numbers[:3] == ["5", "5", "4"]  # sampled, planned, checked
    assert numbers[3:8] == ["2", "1", "1", "0", "1"]  # by outcome
    assert world.bad_supplier in page.split('id="suppliers"')[1]
    assert "已取消资格" in page

    gz = await server.signed_in("gz.coord")
    own = await (await gz.get("/dashboard")).text()
    assert 'data-city="4401"' in own
    assert 'data-city="4406"' not in own
    assert (await (await server.signed_in("expert")).get("/dashboard")).status == 403
    shown = await (await admin.get("/api/dashboard")).json()
    guangzhou = shown["cities"][0]
    assert (guangzhou["city_code"], guangzhou["sampled"], guangzhou["checked"]) == ("4401", 5, 4)
    assert guangzhou["outcomes"]["violation"] == 1
    assert guangzhou["money"]["allocated"] == str(world.projects[0].voucher_amount)
    # the cities of the round that have not published a sample are named (Shenzhen is not in the round)
    good = next(s for s in shown["suppliers"] if s["name"] == world.good_supplier)
    assert (good["projects"], good["cities"], good["sampled"]) == (7, 2, 6)  # one not drawn
    assert "4402" in shown["not_started"]
    assert "4401" not in shown["not_started"]
    assert "4403" not in shown["not_started"]
    assert 'data-waiting="4402"' in page
    english = await (await admin.get("/dashboard?lang=en")).text()
    assert "Guangzhou 2019" in english


async def test_alliance_staff_see_and_help_run_the_cluster_campaigns(server: WebServer) -> None:
    world = await _world(server)
    alliance = await server.signed_in("alliance")
    board = await (await alliance.get("/dashboard")).text()
    assert 'data-city="4406"' in board
    assert 'data-city="4401"' not in board
    assert "money-chart" not in board  # a city's money is not the cluster's
    shown = await (await alliance.get("/api/dashboard")).json()
    assert shown["scope"] == "cluster"
    assert [(c["city_code"], c["sampled"], c["money"]) for c in shown["cities"]] == [("4406", 1, None)]
    listed = await (await alliance.get("/api/campaigns")).json()
    assert [c["id"] for c in listed["items"]] == [world.other_campaign_id]
    assert (await alliance.get(f"/campaigns/{world.other_campaign_id}")).status == 200
    assert (await alliance.get(f"/campaigns/{world.campaign_id}")).status == 404
    assert (await alliance.get(f"/api/campaigns/{world.campaign_id}")).status == 404
    assert "/campaigns" in await (await alliance.get("/")).text()
    assert re.findall(r'<td class="num">(\d+)</td>', board.split('data-city="4406"')[1])[0] == "1"
    detail = await (await alliance.get(f"/api/campaigns/{world.other_campaign_id}")).json()
    draw = await (await alliance.get(f"/api/draws/{detail['draws'][0]['id']}")).json()
    assert [e["project_code"] for e in draw["entries"]] == [world.cluster_code]  # not the plain project
    assert draw["draw"]["size"] == 2
    page = await (await alliance.get(f"/draws/{detail['draws'][0]['id']}")).text()
    assert world.cluster_code in page
    assert world.plain_code not in page
    admin = await (await (await server.signed_in("admin")).get("/dashboard")).text()
    assert re.findall(r'<td class="num">(\d+)</td>', admin.split('data-city="4406"')[1])[0] == "2"


async def test_the_dashboard_warns_of_a_city_whose_checks_cannot_finish_before_the_money_deadline(
    server: WebServer,
) -> None:
    await _world(server)
    admin = await server.signed_in("admin")
    assert 'id="deadline-warnings"' not in await (await admin.get("/dashboard")).text()
    # Foshan's money is due on Tuesday 14 April: the working days kept for the money leave none for its check
    opened = await admin.post(
        "/api/funding/periods",
        json={"city_code": "4406", "name": "第一期", "budget": "1000.00", "money_deadline": "2020-04-14"},
    )
    assert opened.status == 201, await opened.text()
    page = await (await admin.get("/dashboard")).text()
    warnings = page.split('id="deadline-warnings"')[1].split("</section>")[0]
    assert 'data-at-risk="4406"' in warnings
    assert 'data-at-risk="4401"' not in warnings
    assert "无法在资金下达期限 2020-04-14 前完成" in warnings
