"""A city's availability page and API (issue 11), on SQLite and PostgreSQL: a coordinator keeps their
own city's (another city is refused, the province sees every city); experts' and enterprises'
unavailability, closed days and rooms go in and out, each change audited, and the booking follows;
bad input is a 4xx in the user's language that changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor
from remote_check.database import transaction
from remote_check.programme.models import City, CityDayClosed, Unavailability
from scheduler.availability_admin import set_expert_cities
from tests.scheduling_factories import (
    add_campaign,
    add_enterprise,
    add_experts,
    add_project,
    add_supplier,
    local,
)
from tests.web_helpers import Browser, WebServer, csrf_from_html

API = "/api/cities/4401"


@dataclass
class Setup:
    gz: Browser
    fs: Browser
    experts: list[int]  # experts[2] serves Foshan only
    enterprise: int  # of the Guangzhou project
    fs_enterprise: int
    project: int


async def _setup(server: WebServer) -> Setup:
    await server.add_user("gz.coord", Role.CITY_COORDINATOR, "4401")
    await server.add_user("fs.coord", Role.CITY_COORDINATOR, "4406")
    async with transaction(server.db.factory) as session:
        supplier = await add_supplier(session, "粤云科技")
        project = await add_project(session, supplier)
        await add_campaign(session, [project], deadline=dt.date(2020, 6, 30))
        experts = await add_experts(session, 4)
        await set_expert_cities(session, experts[2], ["4406"], actor=Actor.cli(), now=server.clock.now())
        fs_enterprise = await add_enterprise(session, "佛山企业", city="4406")
        ids = (project.id, project.enterprise_id, fs_enterprise.id)
    gz, fs = await server.signed_in("gz.coord"), await server.signed_in("fs.coord")
    return Setup(gz, fs, experts, ids[1], ids[2], ids[0])


async def _stored(server: WebServer) -> tuple[int, int, int, int]:
    """Unavailability rows, closed days, Guangzhou's rooms, audit entries."""
    async with transaction(server.db.factory) as session:
        city = await session.get(City, "4401")
        assert city is not None
        return (
            int(await session.scalar(select(func.count(Unavailability.id))) or 0),
            int(await session.scalar(select(func.count()).select_from(CityDayClosed)) or 0),
            city.rooms,
            int(await session.scalar(select(func.count(AuditEntry.seq))) or 0),
        )


def _away(party: str, party_id: int, start: dt.datetime, hours: int = 3) -> dict[str, Any]:
    end = start + dt.timedelta(hours=hours)
    return {"kind": party, "party_id": party_id, "starts_at": start.isoformat(), "ends_at": end.isoformat()}


async def test_a_coordinator_keeps_their_city_only_and_the_province_every_city(server: WebServer) -> None:
    s = await _setup(server)
    mine = await s.gz.get(f"{API}/availability")
    assert mine.status == 200
    listed = await mine.json()
    assert listed["rooms"] == 3
    assert s.experts[2] not in [e["id"] for e in listed["experts"]]  # serves Foshan only
    assert s.experts[0] in [e["id"] for e in listed["experts"]]
    assert [e["id"] for e in listed["enterprises"]] == [s.enterprise]
    before = await _stored(server)
    assert (await s.fs.get(f"{API}/availability")).status == 403
    assert (await s.fs.get("/cities/4401/availability")).status == 403
    assert (await s.fs.post(f"{API}/closed-days", json={"day": "2020-04-20"})).status == 403
    assert (await s.fs.request("PATCH", f"{API}/rooms", json={"rooms": 1})).status == 403
    assert (
        await s.fs.post(f"{API}/unavailability", json=_away("expert", s.experts[0], local(20, 9)))
    ).status == 403
    assert (await s.gz.get("/api/cities/9999/availability")).status == 404
    assert await _stored(server) == before  # nothing changed
    await server.add_user("expert.li", Role.EXPERT)
    li = await server.signed_in("expert.li")
    assert (await li.get(f"{API}/availability")).status == 403
    assert (await li.get("/availability")).status == 403
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    admin = await server.signed_in("admin")
    assert (await admin.get("/api/cities/4406/availability")).status == 200
    page = await admin.get("/cities/4406/availability")
    assert page.status == 200
    assert "佛山企业" in await page.text()
    to_mine = await s.gz.get("/availability")
    assert to_mine.status == 303
    assert to_mine.headers["Location"] == "/cities/4401/availability"


async def test_a_round_trip_through_the_api_is_audited_and_the_booking_follows(server: WebServer) -> None:
    s = await _setup(server)
    added = []
    for body in (
        _away("expert", s.experts[0], local(20, 9)),
        _away("enterprise", s.enterprise, local(21, 9)),
    ):
        response = await s.gz.post(f"{API}/unavailability", json={**body, "reason": "出差"})
        assert response.status == 201, await response.text()
        added.append(await response.json())
    assert added[0]["starts_at"] == "2020-04-20T09:00:00+08:00"
    closed = await s.gz.post(f"{API}/closed-days", json={"day": "2020-04-22", "reason": "停电"})
    assert closed.status == 201
    rooms = await s.gz.request("PATCH", f"{API}/rooms", json={"rooms": 2})
    assert rooms.status == 200
    listed = await (await s.gz.get(f"{API}/availability")).json()
    assert [(u["kind"], u["name"]) for u in listed["unavailable"]] == [
        ("expert", "专家1"),
        ("enterprise", added[1]["name"]),
    ]
    assert listed["closed_days"] == [{"day": "2020-04-22", "reason": "停电"}]
    assert listed["rooms"] == 2
    # the booking follows: the closed day is refused
    start = local(22, 10)
    booking = {
        "project_id": s.project,
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
        "panel": s.experts[1:2] + s.experts[3:4] + [s.experts[0]],
    }
    refused = await s.gz.post("/api/sessions", json=booking)
    assert refused.status == 409
    assert "2020-04-22" in (await refused.json())["error"]["message"]
    for entry in added:
        assert (await s.gz.request("DELETE", f"{API}/unavailability/{entry['id']}")).status == 204
    assert (await s.gz.request("DELETE", f"{API}/closed-days/2020-04-22")).status == 204
    assert (await s.gz.request("DELETE", f"{API}/closed-days/2020-04-22")).status == 404  # open already
    listed = await (await s.gz.get(f"{API}/availability")).json()
    assert (listed["unavailable"], listed["closed_days"]) == ([], [])
    assert (await s.gz.post("/api/sessions", json=booking)).status == 201
    async with transaction(server.db.factory) as session:
        audit = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.city_code).where(
                    AuditEntry.action.in_(
                        [
                            "availability.unavailable",
                            "availability.available",
                            "city.close",
                            "city.reopen",
                            "city.rooms",
                        ]
                    )
                )
            )
        ).all()
    assert sorted(audit) == sorted(
        [
            ("availability.unavailable", "4401"),
            ("availability.unavailable", "4401"),
            ("city.close", "4401"),
            ("city.rooms", "4401"),
            ("availability.available", "4401"),
            ("availability.available", "4401"),
            ("city.reopen", "4401"),
        ]
    )


async def test_bad_input_is_a_4xx_in_the_users_language_changing_nothing(server: WebServer) -> None:
    s = await _setup(server)
    foshan = await s.fs.post(
        "/api/cities/4406/unavailability", json=_away("enterprise", s.fs_enterprise, local(20, 9))
    )
    assert foshan.status == 201
    before = await _stored(server)
    bad: list[tuple[str, str, Any, int, str]] = [
        (
            "POST",
            "/unavailability",
            {**_away("expert", s.experts[0], local(20, 9)), "ends_at": local(20, 8).isoformat()},
            422,
            "结束时间必须晚于开始时间",
        ),
        ("POST", "/unavailability", _away("expert", s.experts[2], local(20, 9)), 422, "不在本市执行核查"),
        ("POST", "/unavailability", _away("enterprise", s.fs_enterprise, local(20, 9)), 422, "不是本市企业"),
        (
            "POST",
            "/unavailability",
            {**_away("expert", s.experts[0], local(20, 9)), "starts_at": "2020-04-20T09:00"},
            422,
            "",
        ),
        (
            "POST",
            "/unavailability",
            {**_away("expert", s.experts[0], local(20, 9)), "reason": "长" * 201},
            422,
            "",
        ),
        (
            "POST",
            "/unavailability",
            {**_away("expert", s.experts[0], local(20, 9)), "kind": "supplier"},
            422,
            "",
        ),
        ("POST", "/closed-days", {"day": "2020-02-30"}, 422, ""),
        ("PATCH", "/rooms", {"rooms": 0}, 422, ""),
        ("PATCH", "/rooms", {"rooms": 101}, 422, ""),
        ("DELETE", f"/unavailability/{(await foshan.json())['id']}", None, 404, ""),  # Foshan's entry
    ]
    for method, path, body, status, words in bad:
        response = await s.gz.request(method, API + path, json=body)
        assert response.status == status, (path, body, await response.text())
        error = (await response.json())["error"]
        assert words in error["message"]
    english = await s.gz.post(
        f"{API}/unavailability?lang=en",
        json={**_away("expert", s.experts[0], local(20, 9)), "ends_at": local(20, 8).isoformat()},
    )
    assert "The end must be after the start" in (await english.json())["error"]["message"]
    assert await _stored(server) == before


async def test_the_page_adds_lists_and_removes_and_shows_a_refusal(server: WebServer) -> None:
    s = await _setup(server)
    page = await s.gz.get("/cities/4401/availability")
    assert page.status == 200
    html = await page.text()
    csrf = csrf_from_html(html)
    assert "专家1" in html
    assert "专家3" not in html  # serves Foshan only
    base = "/cities/4401/availability"
    form = {
        "csrf_token": csrf,
        "party": f"expert:{s.experts[0]}",
        "starts_at": "2020-04-20T09:00",
        "ends_at": "2020-04-20T12:00",
        "reason": "出差",
    }
    done = await s.gz.post(base + "/unavailable", data=form)
    assert done.status == 303
    assert done.headers["Location"] == base + "?done=unavailable"
    closed = await s.gz.post(
        base + "/closed", data={"csrf_token": csrf, "day": "2020-04-22", "reason": "停电"}
    )
    assert closed.status == 303
    assert (await s.gz.post(base + "/rooms", data={"csrf_token": csrf, "rooms": "2"})).status == 303
    shown = await (await s.gz.get(base + "?done=rooms")).text()
    assert "已更新会议室数" in shown
    assert "2020-04-20 09:00" in shown
    assert "停电" in shown
    assert 'value="2"' in shown
    before = await _stored(server)
    refused = await s.gz.post(base + "/unavailable", data={**form, "ends_at": "2020-04-20T08:00"})
    assert refused.status == 422
    text = await refused.text()
    assert "结束时间必须晚于开始时间" in text
    assert 'value="2020-04-20T08:00"' in text  # what was typed stays
    assert (await s.gz.post(base + "/rooms", data={"csrf_token": csrf, "rooms": "zero"})).status == 422
    assert (await s.gz.post(base + "/closed", data={"csrf_token": csrf, "day": "someday"})).status == 422
    assert await _stored(server) == before
    assert (
        await s.fs.post(base + "/closed", data={"csrf_token": s.fs.csrf, "day": "2020-04-23"})
    ).status == 403
    async with transaction(server.db.factory) as session:
        entry = await session.scalar(select(Unavailability.id))
    assert (await s.gz.post(f"{base}/unavailable/{entry}/delete", data={"csrf_token": csrf})).status == 303
    assert (await s.gz.post(f"{base}/closed/2020-04-22/delete", data={"csrf_token": csrf})).status == 303
    after = await _stored(server)
    assert after[:3] == (0, 0, 2)


async def test_the_checks_already_booked_in_that_time_are_named_and_stay_booked(server: WebServer) -> None:
    s = await _setup(server)
    start = local(20, 10)
    booked = await s.gz.post(
        "/api/sessions",
        json={
            "project_id": s.project,
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
            "panel": [s.experts[0], s.experts[1], s.experts[3]],
        },
    )
    assert booked.status == 201, await booked.text()
    check = (await booked.json())["id"]
    expert = await s.gz.post(f"{API}/unavailability", json=_away("expert", s.experts[0], local(20, 9)))
    assert (await expert.json())["affected_sessions"] == [check]
    other_day = await s.gz.post(f"{API}/unavailability", json=_away("enterprise", s.enterprise, local(21, 9)))
    assert (await other_day.json())["affected_sessions"] == []
    closed = await s.gz.post(f"{API}/closed-days", json={"day": "2020-04-20"})
    assert (await closed.json())["affected_sessions"] == [check]
    csrf = csrf_from_html(await (await s.gz.get("/cities/4401/availability")).text())
    again = await s.gz.post(
        "/cities/4401/availability/closed", data={"csrf_token": csrf, "day": "2020-04-20"}
    )
    assert again.headers["Location"] == f"/cities/4401/availability?done=closed&affected={check}"
    page = await (await s.gz.get(again.headers["Location"])).text()
    assert f'href="/sessions/{check}/move"' in page
    assert (await (await s.gz.get(f"/api/sessions/{check}")).json())["status"] == "booked"
