"""Interactive booking over HTTP: the 409 offers the nearest free times (API and form), holds,
and the schedule pages (a city's week, a supplier across cities, an expert's own) for the right
people only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update

from remote_check.accounts.models import Role
from remote_check.database import transaction
from remote_check.experts.models import Expert
from tests.scheduling_factories import add_campaign, add_experts, add_project, add_supplier, counts, local
from tests.web_helpers import Browser, WebServer, csrf_from_html

HOUR = dt.timedelta(hours=1)


@dataclass
class Setup:
    gz: Browser
    supplier: int
    projects: list[int]
    codes: list[str]
    experts: list[int]


async def _setup(server: WebServer) -> Setup:
    await server.add_user("gz.coord", Role.CITY_COORDINATOR, "4401")
    async with transaction(server.db.factory) as session:
        supplier = await add_supplier(session, "粤云科技")
        projects = [await add_project(session, supplier) for _ in range(3)]
        await add_campaign(session, projects, deadline=dt.date(2020, 6, 30))
        experts = await add_experts(session, 9)
        ids, codes = [p.id for p in projects], [p.code for p in projects]
    return Setup(await server.signed_in("gz.coord"), supplier.id, ids, codes, experts)


def _body(project: int, experts: list[int], start: dt.datetime) -> dict[str, Any]:
    return {
        "project_id": project,
        "starts_at": start.isoformat(),
        "ends_at": (start + HOUR).isoformat(),
        "panel": experts,
    }


async def test_the_409_offers_the_nearest_times_as_documented(server: WebServer) -> None:
    s = await _setup(server)
    first = await s.gz.post("/api/sessions", json=_body(s.projects[0], s.experts[:3], local(13, 9)))
    assert first.status == 201, await first.text()
    refused = await s.gz.post("/api/sessions", json=_body(s.projects[1], s.experts[3:6], local(13, 9, 30)))
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert error["code"] == "conflict"
    assert [o["starts_at"] for o in error["suggestions"]] == [
        "2020-04-13T10:15:00+08:00",
        "2020-04-13T10:30:00+08:00",
        "2020-04-13T10:45:00+08:00",
    ]
    document = await (await s.gz.get("/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert "suggestions" in schemas["ClashBody"]["properties"]
    assert "SuggestedTime" in schemas
    conflict = document["paths"]["/api/sessions"]["post"]["responses"]["409"]
    assert conflict["content"]["application/json"]["schema"]["$ref"].endswith("/ClashResponse")
    taken = error["suggestions"][0]
    ok = await s.gz.post(
        "/api/sessions", json={**_body(s.projects[1], s.experts[3:6], local(13, 9)), **taken}
    )
    assert ok.status == 201, await ok.text()


async def test_a_hold_keeps_a_time_from_another_coordinator_until_it_lapses(server: WebServer) -> None:
    s = await _setup(server)
    await server.add_user("gz.other", Role.CITY_COORDINATOR, "4401")
    other = await server.signed_in("gz.other")
    held = await s.gz.post("/api/holds", json=_body(s.projects[0], s.experts[:3], local(13, 9)))
    assert held.status == 201, await held.text()
    hold = await held.json()
    assert hold["expires_at"] == "2020-04-10T09:05:00+08:00"
    refused = await other.post("/api/sessions", json=_body(s.projects[1], s.experts[3:6], local(13, 9)))
    assert refused.status == 409
    assert "暂留" in (await refused.json())["error"]["message"]
    assert (await other.request("DELETE", f"/api/holds/{hold['id']}")).status == 404  # not theirs
    server.clock.advance(dt.timedelta(minutes=5))
    booked = await other.post("/api/sessions", json=_body(s.projects[1], s.experts[3:6], local(13, 9)))
    assert booked.status == 201, await booked.text()


async def test_the_form_offers_the_times_as_buttons_and_one_books(server: WebServer) -> None:
    s = await _setup(server)
    await s.gz.post("/api/sessions", json=_body(s.projects[0], s.experts[:3], local(13, 9)))
    page = await (await s.gz.get(f"/sessions/new?project_id={s.projects[1]}")).text()
    form = [
        ("csrf_token", csrf_from_html(page)),
        ("project_id", str(s.projects[1])),
        ("date", "2020-04-13"),
        ("start", "09:30"),
        ("end", "10:30"),
        ("lead", str(s.experts[3])),
        *[("members", str(e)) for e in s.experts[4:6]],
    ]
    refused = await s.gz.post("/sessions/new", data=form)
    html = await refused.text()
    assert refused.status == 409
    assert 'value="2020-04-13|10:15|11:15"' in html
    assert 'id="lanes"' in html  # the busy times side by side
    assert "09:00–10:15" in html  # the supplier's team, buffer included
    assert "会议室 3" in html  # the city's rooms too
    before = await counts(server.db.factory)
    booked = await s.gz.post("/sessions/new", data=[*form, ("pick", "2020-04-13|10:15|11:15")])
    assert booked.status == 303
    assert (await counts(server.db.factory)).sessions == before.sessions + 1


async def test_schedule_pages_show_what_each_may_see(server: WebServer) -> None:
    s = await _setup(server)
    booked = await (
        await s.gz.post("/api/sessions", json=_body(s.projects[0], s.experts[:3], local(13, 9)))
    ).json()
    week = "week=2020-04-15"
    calendar = await s.gz.get(f"/calendar?city=4401&{week}")
    assert calendar.status == 200
    text = await calendar.text()
    assert s.codes[0] in text
    assert f"/sessions/{booked['id']}/move" in text
    await server.add_user("fs.coord", Role.CITY_COORDINATOR, "4406")
    fs = await server.signed_in("fs.coord")
    assert (await fs.get(f"/calendar?city=4401&{week}")).status == 403
    assert (await fs.get(f"/calendar?city=9999&{week}")).status == 404
    theirs = await fs.get(f"/suppliers/{s.supplier}/schedule?{week}")
    assert theirs.status == 200
    busy = await theirs.text()
    assert s.codes[0] not in busy  # another city's check: busy, without the project
    assert "已占用" in busy
    mine = await (await s.gz.get(f"/suppliers/{s.supplier}/schedule?{week}")).text()
    assert s.codes[0] in mine
    assert (await s.gz.get("/suppliers/999999/schedule")).status == 404
    expert_user = await server.add_user("expert.li", Role.EXPERT)
    async with transaction(server.db.factory) as session:
        await session.execute(update(Expert).where(Expert.id == s.experts[0]).values(user_id=expert_user))
    li = await server.signed_in("expert.li")
    schedule = await li.get("/me/schedule")
    assert schedule.status == 200
    assert s.codes[0] in await schedule.text()
    assert (await s.gz.get("/me/schedule")).status == 403
    assert (await li.get(f"/calendar?city=4401&{week}")).status == 403
    assert (await li.get(f"/suppliers/{s.supplier}/schedule")).status == 403
