"""Check sessions over HTTP: booking, scope, clashes, guests' links and their landing page."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select

from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus
from tests import factories
from tests.conftest import Database, running_server
from tests.scheduling_factories import (
    add_expert,
    add_experts,
    add_project,
    add_supplier,
    counts,
    local,
    project_status,
)
from tests.web_helpers import Browser, WebServer, csrf_from_html


@dataclass
class Setup:
    gz: Browser
    project: int
    second: int
    cluster: int
    experts: list[int]
    tied_expert: int


async def _setup(server: WebServer) -> Setup:
    await server.add_user("gz.coord", Role.CITY_COORDINATOR, "4401", "广州协调员")
    async with transaction(server.db.factory) as session:
        supplier = await add_supplier(session, "粤云科技")
        project = await add_project(session, supplier)
        second = await add_project(session, supplier)
        cluster = await add_project(session, supplier, is_cluster=True)
        experts = await add_experts(session, 6)
        tied = await add_expert(session, "关联专家", employer_credit_code=supplier.credit_code)
    return Setup(await server.signed_in("gz.coord"), project.id, second.id, cluster.id, experts, tied.id)


def _body(project: int, experts: list[int], start: dt.datetime, minutes: int = 60) -> dict[str, Any]:
    end = start + dt.timedelta(minutes=minutes)
    return {
        "project_id": project,
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "panel": experts,
        "confirm_off_hours": True,  # most of these are on Saturday 11 April
    }


async def test_coordinator_books_then_lists_and_reads_the_session(server: WebServer) -> None:
    s = await _setup(server)
    response = await s.gz.post("/api/sessions", json=_body(s.project, s.experts[:3], local(11, 10)))
    assert response.status == 201, await response.text()
    booked = await response.json()
    assert [p["role"] for p in booked["panel"]] == ["lead", "member", "member"]
    assert booked["panel"][0]["expert_id"] == s.experts[0]
    assert booked["supplier"]["name"] == "粤云科技"
    assert dt.datetime.fromisoformat(booked["starts_at"]) == local(11, 10)
    listed = await (await s.gz.get("/api/sessions?status=booked")).json()
    assert [i["id"] for i in listed["items"]] == [booked["id"]]
    one = await (await s.gz.get(f"/api/sessions/{booked['id']}")).json()
    assert len(one["resources"]) == 6  # a supplier team, the enterprise, 3 experts, a room
    assert await project_status(server.db.factory, s.project) == ProjectStatus.SCHEDULED
    page = await (await s.gz.get("/sessions")).text()
    assert f"/sessions/{booked['id']}" in page


async def test_another_citys_things_look_like_absent_ones(server: WebServer) -> None:
    s = await _setup(server)
    booked = await (
        await s.gz.post("/api/sessions", json=_body(s.project, s.experts[:3], local(11, 10)))
    ).json()
    await server.add_user("fs.coord", Role.CITY_COORDINATOR, "4406")
    fs = await server.signed_in("fs.coord")
    refused = await fs.post("/api/sessions", json=_body(s.second, s.experts[3:6], local(12, 10)))
    absent = await fs.post("/api/sessions", json=_body(999999, s.experts[3:6], local(12, 10)))
    assert (refused.status, await refused.json()) == (404, await absent.json())
    assert (await absent.json())["error"]["message"] == "项目不存在"
    move = {"starts_at": local(12, 10).isoformat(), "ends_at": local(12, 11).isoformat()}
    guest = {"kind": "observer", "name": "林", "organisation": "省厅"}
    for method, path, body in [
        ("GET", "/api/sessions/{}", None),
        ("POST", "/api/sessions/{}/cancel", {}),
        ("POST", "/api/sessions/{}/move", move),
        ("POST", "/api/sessions/{}/guests", guest),
        ("GET", "/sessions/{}", None),
    ]:
        there = await fs.request(method, path.format(booked["id"]), json=body)
        missing = await fs.request(method, path.format(999999), json=body)
        assert (there.status, missing.status) == (404, 404), path
        assert await there.text() == await missing.text(), path
    conflicts = await fs.get(f"/api/experts?conflicts_with_project={s.project}")
    assert conflicts.status == 404
    assert (await (await fs.get("/api/sessions")).json())["total"] == 0
    assert (await counts(server.db.factory)).sessions == 1


async def test_alliance_staff_books_cluster_projects_only_and_experts_cannot_book(server: WebServer) -> None:
    s = await _setup(server)
    await server.add_user("alliance", Role.ALLIANCE_STAFF)
    alliance = await server.signed_in("alliance")
    assert (
        await alliance.post("/api/sessions", json=_body(s.project, s.experts[:3], local(11, 10)))
    ).status == 404  # not a cluster project: outside their scope
    ok = await alliance.post("/api/sessions", json=_body(s.cluster, s.experts[:3], local(11, 10)))
    assert ok.status == 201
    await server.add_user("expert.zhang", Role.EXPERT)
    expert = await server.signed_in("expert.zhang")
    assert (
        await expert.post("/api/sessions", json=_body(s.project, s.experts[3:], local(12, 10)))
    ).status == 403  # their role may not book


async def test_a_clash_is_a_409_in_the_users_language_and_changes_nothing(server: WebServer) -> None:
    s = await _setup(server)
    assert (
        await s.gz.post("/api/sessions", json=_body(s.project, s.experts[:3], local(11, 10)))
    ).status == 201
    before = await counts(server.db.factory)
    clash = _body(s.second, [s.experts[0], *s.experts[3:5]], local(11, 10, 30))
    zh = await s.gz.post("/api/sessions", json=clash)
    assert zh.status == 409
    error = (await zh.json())["error"]
    assert error["message"].startswith("时间冲突")
    assert "粤云科技" in error["message"]
    assert {f["kind"] for f in error["fields"]} == {"supplier", "expert"}
    # the busy time in China Standard Time, like every time the API answers with
    assert {(f["starts_at"], f["ends_at"]) for f in error["fields"]} == {
        ("2020-04-11T10:00:00+08:00", "2020-04-11T11:00:00+08:00")
    }
    en = await s.gz.post("/api/sessions?lang=en", json=clash)
    assert (await en.json())["error"]["message"].startswith("Time clash")
    assert await counts(server.db.factory) == before


async def test_bad_input_is_refused_with_422(server: WebServer) -> None:
    s = await _setup(server)
    naive = {**_body(s.project, s.experts[:3], local(11, 10)), "starts_at": "2020-04-11T10:00:00"}
    assert (await s.gz.post("/api/sessions", json=naive)).status == 422
    two = await s.gz.post("/api/sessions", json=_body(s.project, s.experts[:2], local(11, 10)))
    assert two.status == 422
    assert "3 或 5" in (await two.json())["error"]["message"]
    tied = await s.gz.post(
        "/api/sessions", json=_body(s.project, [s.tied_expert, *s.experts[:2]], local(11, 10))
    )
    assert tied.status == 422
    assert (await tied.json())["error"]["code"] == "conflict_of_interest"
    assert (await counts(server.db.factory)).sessions == 0


async def test_experts_are_filtered_by_conflict_with_a_project(server: WebServer) -> None:
    s = await _setup(server)
    only = await (await s.gz.get(f"/api/experts?conflicts_with_project={s.project}")).json()
    assert [(e["id"], e["conflicts"]) for e in only["items"]] == [(s.tied_expert, ["supplier"])]
    free = await (await s.gz.get(f"/api/experts?conflicts_with_project={s.project}&conflict=exclude")).json()
    assert sorted(e["id"] for e in free["items"]) == sorted(s.experts)
    await server.add_user("expert.li", Role.EXPERT)
    expert = await server.signed_in("expert.li")
    assert (await expert.get("/api/experts")).status == 403


async def link_views(server: WebServer) -> int:
    """How many times a guest's link was shown again (audited)."""
    async with server.db.factory() as session:
        views = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "guest.link_view")
        )
    return int(views or 0)


async def test_links_are_shown_when_issued_and_again_only_on_an_audited_request(server: WebServer) -> None:
    s = await _setup(server)
    sid = (
        await (await s.gz.post("/api/sessions", json=_body(s.project, s.experts[:3], local(11, 10)))).json()
    )["id"]
    guest = await (
        await s.gz.post(f"/api/sessions/{sid}/guests", json={"kind": "enterprise", "name": "陈经理"})
    ).json()
    assert guest["link"].startswith("http")
    read = await (await s.gz.get(f"/api/sessions/{sid}")).json()
    assert [(g["id"], g["link"], g["link_expires_at"]) for g in read["guests"]] == [(guest["id"], None, None)]
    assert await link_views(server) == 0
    shown = await s.gz.post(f"/api/sessions/{sid}/guests/{guest['id']}/link")
    assert shown.status == 200
    assert (await shown.json())["link"] == guest["link"]
    async with server.db.factory() as session:
        entry = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "guest.link_view"))
        ).one()
    assert (entry.target, entry.city_code) == (f"guest:{guest['id']}", "4401")
    assert entry.details == {"session": sid}
    renewed = await (await s.gz.post(f"/api/sessions/{sid}/guests/{guest['id']}/renew")).json()
    assert renewed["link"] != guest["link"]
    await s.gz.post(f"/api/sessions/{sid}/guests/{guest['id']}/revoke")
    withdrawn = await s.gz.post(f"/api/sessions/{sid}/guests/{guest['id']}/link?lang=en")
    assert withdrawn.status == 409
    assert "withdrawn" in (await withdrawn.json())["error"]["message"]
    await server.add_user("gz.auditor", Role.AUDITOR, "4401")
    auditor = await server.signed_in("gz.auditor")
    assert (await auditor.post(f"/api/sessions/{sid}/guests/{guest['id']}/link")).status == 403
    assert await link_views(server) == 1


async def test_join_links_name_the_configured_public_address(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with running_server(db, clock, tmp_path, public_url="https://check.gdii.example/") as server:
        s = await _setup(server)
        booked = await s.gz.post("/api/sessions", json=_body(s.project, s.experts[:3], local(11, 10)))
        sid = (await booked.json())["id"]
        invited = await s.gz.post(
            f"/api/sessions/{sid}/guests",
            json={"kind": "enterprise", "name": "陈经理"},
            headers={"Host": "attacker.example"},  # ignored: the configured address wins
        )
        link = (await invited.json())["link"]
    assert link.startswith("https://check.gdii.example/join/")


async def test_without_a_public_address_links_follow_the_request_for_development(server: WebServer) -> None:
    s = await _setup(server)
    sid = (
        await (await s.gz.post("/api/sessions", json=_body(s.project, s.experts[:3], local(11, 10)))).json()
    )["id"]
    invited = await s.gz.post(
        f"/api/sessions/{sid}/guests",
        json={"kind": "enterprise", "name": "陈经理"},
        headers={"Host": "dev.local:8080"},
    )
    assert (await invited.json())["link"].startswith("http://dev.local:8080/join/")


async def test_guest_link_landing_page_and_its_refusals(server: WebServer) -> None:
    s = await _setup(server)
    booked = await (
        await s.gz.post("/api/sessions", json=_body(s.project, s.experts[:3], local(11, 10)))
    ).json()
    sid = booked["id"]
    invited = await s.gz.post(f"/api/sessions/{sid}/guests", json={"kind": "enterprise", "name": "陈经理"})
    assert invited.status == 201
    guest = await invited.json()
    path = urlsplit(guest["link"]).path
    assert path.startswith("/join/")
    visitor = server.browser()
    landing = await visitor.get(path)
    html = await landing.text()
    assert landing.status == 200
    assert "陈经理" in html
    assert booked["enterprise"]["name"] in html
    assert "2020-04-11 10:00–11:00" in html
    assert "视频会议室将在此打开" in html
    token = path.removeprefix("/join/")
    altered = await visitor.get("/join/" + token.replace(f"{guest['id']}.", f"{guest['id'] + 1}.", 1))
    assert altered.status == 403
    assert "改动" in await altered.text()
    foreign = await server.browser().get(f"/sessions/{sid + 1}/join/{token}?lang=en")
    assert foreign.status == 403
    assert "another check session" in await foreign.text()
    revoked = await s.gz.post(f"/api/sessions/{sid}/guests/{guest['id']}/revoke")
    assert (await revoked.json())["revoked"] is True
    gone = await visitor.get(path)
    assert gone.status == 410
    assert "撤销" in await gone.text()


async def test_a_link_expires_after_the_session_and_grace(server: WebServer) -> None:
    s = await _setup(server)
    booked = await (
        await s.gz.post("/api/sessions", json=_body(s.project, s.experts[:3], local(11, 10)))
    ).json()
    guest = await (
        await s.gz.post(
            f"/api/sessions/{booked['id']}/guests",
            json={"kind": "observer", "name": "林", "organisation": "省厅"},
        )
    ).json()
    visitor = server.browser()
    server.clock.set(local(11, 12, 59))
    assert (await visitor.get(urlsplit(guest["link"]).path)).status == 200
    server.clock.set(local(11, 13))
    expired = await visitor.get(urlsplit(guest["link"]).path)
    assert expired.status == 410
    assert "过期" in await expired.text()


async def test_pages_book_show_panel_guests_qr_and_cancel(server: WebServer) -> None:
    s = await _setup(server)
    form = await (await s.gz.get(f"/sessions/new?project_id={s.project}")).text()
    assert "关联专家" in form
    assert "回避" in form
    csrf = csrf_from_html(form)
    data = [
        ("csrf_token", csrf),
        ("project_id", str(s.project)),
        ("date", "2020-04-11"),
        ("start", "10:00"),
        ("end", "11:00"),
        ("lead", str(s.experts[0])),
        ("members", str(s.experts[1])),
        ("members", str(s.experts[2])),
    ]
    short = await s.gz.post("/sessions/new", data=[d for d in data if d != ("members", str(s.experts[2]))])
    assert short.status == 422
    assert "3 或 5" in await short.text()
    warned = await s.gz.post("/sessions/new", data=data)  # a Saturday: a warning to confirm
    assert warned.status == 409
    assert "周末" in await warned.text()
    assert (await counts(server.db.factory)).sessions == 0
    booked = await s.gz.post("/sessions/new", data=[*data, ("confirm_off_hours", "yes")])
    assert booked.status == 303
    detail_path = booked.headers["Location"]
    sid = int(detail_path.rsplit("/", 1)[1])
    added = await s.gz.post(
        f"/sessions/{sid}/guests", data={"csrf_token": csrf, "kind": "supplier", "name": "黄工"}
    )
    assert added.status == 200  # the answer shows the new link once, with its QR code
    assert added.headers["Cache-Control"] == "no-store"
    shown = await added.text()
    assert "<svg" in shown
    link = re.search(r'value="(http[^"]*/join/[^"]*)"', shown)
    assert link is not None
    page = await (await s.gz.get(detail_path)).text()
    assert "粤云科技" in page  # the supplier guest's organisation defaults to the supplier
    assert "黄工" in page
    assert "组长" in page
    assert "/join/" not in page  # reading the page never shows a link
    assert "<svg" not in page
    assert "显示链接" in page
    guest_id = int(re.findall(r"/guests/(\d+)/link", page)[0])
    assert await link_views(server) == 0
    again = await s.gz.post(f"/sessions/{sid}/guests/{guest_id}/link", data={"csrf_token": csrf})
    assert again.status == 200
    assert link.group(1) in await again.text()
    assert "<svg" in await again.text()
    assert await link_views(server) == 1
    reload = await s.gz.get(f"/sessions/{sid}/guests/{guest_id}/link?lang=en")  # reload, switch language
    assert (reload.status, reload.headers["Location"]) == (303, f"{detail_path}?lang=en")
    cancelled = await s.gz.post(f"/sessions/{sid}/cancel", data={"csrf_token": csrf, "reason": "企业停产"})
    assert cancelled.status == 303
    assert "已取消" in await (await s.gz.get(detail_path)).text()
    assert (await counts(server.db.factory)).bookings == 0
    assert await project_status(server.db.factory, s.project) == ProjectStatus.SAMPLED


async def test_the_session_page_leads_into_the_room(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await server.signed_in("admin")
    async with transaction(server.db.factory) as session:
        bundle = await factories.add_supplier(session)
        project = await factories.add_project(session, bundle, status=ProjectStatus.SAMPLED)
        expert = await factories.add_expert(session)
        check = await factories.seat_on_panel(session, project, expert, at=server.clock.now())
    page = await (await browser.get(f"/sessions/{check.id}")).text()
    assert f'href="/sessions/{check.id}/room"' in page
    assert "进入会议室" in page
