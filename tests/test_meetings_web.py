"""Province meetings over HTTP, as their users do it: the province creates, coordinators nominate
for their own city (never another's), a nominee's personal link tests, joins and asks; the host
moderates; the coordinator downloads the city's attendance."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from remote_check.accounts.models import Role
from tests.web_helpers import Browser, WebServer

MEETING = {
    "title": "服务券抽查线上培训",
    "starts_at": "2020-04-15T09:00:00+08:00",
    "ends_at": "2020-04-15T12:00:00+08:00",
}
GOOD = {
    "camera_ok": True,
    "microphone_ok": True,
    "screen_ok": True,
    "fps": 29.0,
    "bitrate_kbps": 850,
    "rtt_ms": 45,
}


async def _meeting(server: WebServer) -> tuple[Browser, Browser, int]:
    speaker = await server.add_user("speaker", Role.EXPERT, None, "主讲专家")
    await server.add_user("province", Role.PROVINCE_ADMIN, None, "省厅")
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419", "东莞协调员")
    province = await server.signed_in("province")
    response = await province.post("/api/meetings", json={**MEETING, "speaker_ids": [speaker]})
    assert response.status == 201, await response.text()
    made: dict[str, Any] = await response.json()
    assert made["join_deadline"] == "2020-04-14T17:00:00+08:00"
    assert made["test_starts_at"] == "2020-04-14T18:00:00+08:00"
    return province, await server.signed_in("dg.coord"), made["id"]


async def _nominate(browser: Browser, meeting_id: int, n: int, city: str = "4419") -> Any:
    return await browser.post(
        f"/api/meetings/{meeting_id}/cities/{city}/nominations",
        json={
            "role": "expert",
            "organisation": f"东莞理工学院{n}",
            "name": f"专家{n}",
            "email": f"e{n}@dg.cn",
        },
    )


async def test_a_city_nominates_twelve_and_the_thirteenth_is_refused(server: WebServer) -> None:
    _, coordinator, meeting_id = await _meeting(server)
    for n in range(12):
        response = await _nominate(coordinator, meeting_id, n)
        assert response.status == 201, await response.text()
    refused = await _nominate(coordinator, meeting_id, 12)
    assert refused.status == 409
    assert "本市报名人数已达上限（12 人）" in (await refused.json())["error"]["message"]
    english = await coordinator.post(
        f"/api/meetings/{meeting_id}/cities/4419/nominations?lang=en",
        json={"role": "staff", "organisation": "x", "name": "y"},
    )
    assert "reached its quota (12 people)" in (await english.json())["error"]["message"]
    other = await _nominate(coordinator, meeting_id, 1, city="4406")
    assert other.status == 403
    cities = await (await coordinator.get(f"/api/meetings/{meeting_id}/cities")).json()
    assert [(c["code"], c["nominated"]) for c in cities["items"]] == [("4419", 12)]


async def test_bad_input_changes_nothing(server: WebServer) -> None:
    province, coordinator, meeting_id = await _meeting(server)
    nameless = await coordinator.post(
        f"/api/meetings/{meeting_id}/cities/4419/nominations", json={"role": "staff", "organisation": "局"}
    )
    assert nameless.status == 422
    backwards = await province.post("/api/meetings", json={**MEETING, "ends_at": "2020-04-15T08:00:00+08:00"})
    assert backwards.status == 422
    assert "结束时间" in (await backwards.json())["error"]["message"]
    assert (await coordinator.post("/api/meetings", json=MEETING)).status == 403
    anonymous = server.browser()
    assert (await anonymous.get(f"/api/meetings/{meeting_id}/cities")).status == 401
    listed = await (await province.get("/api/meetings")).json()
    assert len(listed["items"]) == 1
    cities = await (await province.get(f"/api/meetings/{meeting_id}/cities")).json()
    assert sum(c["nominated"] for c in cities["items"]) == 0
    assert len(cities["items"]) == 21


async def test_a_personal_link_tests_joins_and_asks_and_the_city_downloads_attendance(
    server: WebServer,
) -> None:
    province, coordinator, meeting_id = await _meeting(server)
    made = await (await _nominate(coordinator, meeting_id, 1)).json()
    await _nominate(coordinator, meeting_id, 2)
    link = made["link"]
    assert link.startswith("/m/")
    nominee = server.browser()  # not signed in: the link is the credential
    landing = await (await nominee.get(f"/api{link}")).json()
    assert landing["name"] == "专家1"
    assert landing["tested"] is False
    assert landing["test_link"] == f"{link}/test"
    tested = await nominee.post(f"/api{link}/signal-test", json=GOOD)
    assert tested.status == 200, await tested.text()
    assert (await tested.json())["test"]["passed"] is True
    forged = await nominee.get(f"/api{link[:-2]}xx")
    assert forged.status == 403

    cities = await (await coordinator.get(f"/api/meetings/{meeting_id}/cities")).json()
    [dongguan] = cities["items"]
    assert (dongguan["tested"], dongguan["untested"]) == (1, 1)
    figures = next(p for p in dongguan["people"] if p["name"] == "专家1")["test"]
    assert (figures["fps"], figures["bitrate_kbps"], figures["rtt_ms"]) == (29.0, 850, 45)
    assert all(p["link"] is None for p in dongguan["people"])  # links only in the answer to nominate

    assert (await nominee.post(f"/api{link}/join")).status == 204
    server.clock.advance(dt.timedelta(minutes=40))
    assert (await nominee.post(f"/api{link}/leave")).status == 204
    export = await coordinator.get(f"/api/meetings/{meeting_id}/cities/4419/attendance.csv")
    assert export.status == 200
    rows = list(csv.reader(io.StringIO((await export.text()).lstrip("\ufeff"))))
    assert rows[0][2] == "姓名 Name"
    attended = next(r for r in rows if r[2] == "专家1")
    assert attended[4:] == ["2020-04-10 09:00", "2020-04-10 09:40"]
    assert (await coordinator.get(f"/api/meetings/{meeting_id}/cities/4406/attendance.csv")).status == 403

    asked = await nominee.post(f"/api{link}/questions", json={"text": "=抽查名单何时公布？"})
    assert asked.status == 201
    question = (await asked.json())["id"]
    assert (await (await nominee.get(f"/api{link}/questions")).json())["items"] == []
    assert (await coordinator.post(f"/api/meetings/{meeting_id}/questions/{question}/show")).status == 403
    shown = await province.post(f"/api/meetings/{meeting_id}/questions/{question}/show")
    assert shown.status == 200
    speaker = await server.signed_in("speaker")
    answered = await speaker.post(f"/api/meetings/{meeting_id}/questions/{question}/answered")
    assert (await answered.json())["answered"] is True
    seen = (await (await nominee.get(f"/api{link}/questions")).json())["items"]
    assert [(q["text"], q["answered"]) for q in seen] == [("=抽查名单何时公布？", True)]

    withdrawn = await coordinator.request("DELETE", f"/api/meetings/{meeting_id}/nominations/{made['id']}")
    assert withdrawn.status == 204
    assert (await nominee.get(f"/api{link}")).status == 410


async def test_the_pages_create_nominate_land_join_and_ask(server: WebServer) -> None:
    await server.add_user("province", Role.PROVINCE_ADMIN, None, "省厅")
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419", "东莞协调员")
    province = await server.signed_in("province")
    created = await province.post(
        "/meetings",
        data={
            "title": "抽查培训",
            "starts_at": "2020-04-15T09:00",
            "ends_at": "2020-04-15T12:00",
            "city_quota": "2",
        },
    )
    assert created.status == 303, await created.text()
    where = created.headers["Location"]
    backwards = await province.post(
        "/meetings", data={"title": "x", "starts_at": "2020-04-15T09:00", "ends_at": "2020-04-15T08:00"}
    )
    assert backwards.status == 422
    assert "会议结束时间须晚于开始时间" in await backwards.text()

    coordinator = await server.signed_in("dg.coord")
    page = await (await coordinator.get(where)).text()
    assert "2020-04-14 17:00" in page
    assert 'value="4406"' not in page  # the form offers the coordinator's own city only
    form = {"city_code": "4419", "role": "staff", "organisation": "东莞市工信局", "name": "李经办"}
    nominated = await coordinator.post(f"{where}/nominate", data=form)
    assert nominated.status == 303
    shown = await (await coordinator.get(nominated.headers["Location"])).text()
    link = shown.split('id="new-link"')[1].split("<code>")[1].split("</code>")[0]
    assert "李经办" in shown
    assert "未测试" in shown
    foreign = await coordinator.post(f"{where}/nominate", data={**form, "city_code": "4406"})
    assert foreign.status == 403
    await coordinator.post(f"{where}/nominate", data={**form, "name": "王经办"})
    full = await coordinator.post(f"{where}/nominate", data={**form, "name": "第三人"})
    assert full.status == 409
    assert "本市报名人数已达上限（2 人）" in await full.text()

    nominee = server.browser()
    landing = await (await nominee.get(link)).text()
    assert "东莞市工信局 · 李经办" in landing
    assert f'href="{link}/test"' in landing
    assert (await nominee.get(f"{link}/test")).status == 200
    joined = await nominee.post(f"{link}/room")
    assert joined.status == 303
    room = await (await nominee.get(joined.headers["Location"])).text()
    assert "只收不发的会议室尚在建设中" in room
    assert (await nominee.post(f"{link}/ask", data={"text": "需要准备哪些材料？"})).status == 303
    after = await (await coordinator.get(where)).text()
    assert "在会" in after  # attendance began when the nominee joined
    server.clock.advance(dt.timedelta(minutes=30))
    left = await nominee.post(f"{link}/leave")
    assert left.status == 303
    assert "09:00–09:30" in await (await coordinator.get(where)).text()
    refused = await nominee.get(link[:-3] + "abc")
    assert refused.status == 403
    assert 'data-reason="forged"' in await refused.text()


async def test_the_host_and_a_speaker_moderate_on_the_questions_page(server: WebServer) -> None:
    province, coordinator, meeting_id = await _meeting(server)
    link = (await (await _nominate(coordinator, meeting_id, 1)).json())["link"]
    nominee = server.browser()
    await nominee.post(f"{link}/ask", data={"text": "会后是否提供课件？"})
    page = await (await province.get(f"/meetings/{meeting_id}/questions")).text()
    assert "会后是否提供课件？" in page
    question = int(page.split('id="question-')[1].split('"')[0])
    assert (await coordinator.get(f"/meetings/{meeting_id}/questions")).status == 403
    shown = await province.post(f"/meetings/{meeting_id}/questions/{question}/show")
    assert shown.status == 303
    speaker = await server.signed_in("speaker")
    assert (await speaker.post(f"/meetings/{meeting_id}/questions/{question}/show")).status == 403
    assert (await speaker.post(f"/meetings/{meeting_id}/questions/{question}/answered")).status == 303
    room = await (await nominee.get(f"{link}/room")).text()
    assert "会后是否提供课件？" in room
    assert "已回答" in room


async def test_a_cancelled_meetings_links_and_nominations_are_refused(server: WebServer) -> None:
    province, coordinator, meeting_id = await _meeting(server)
    link = (await (await _nominate(coordinator, meeting_id, 1)).json())["link"]
    assert (await coordinator.post(f"/api/meetings/{meeting_id}/cancel")).status == 403
    cancelled = await province.post(f"/api/meetings/{meeting_id}/cancel")
    assert (await cancelled.json())["cancelled"] is True
    refused = await server.browser().get(f"/api{link}")
    assert refused.status == 410
    assert (await refused.json())["error"]["code"] == "invitation_cancelled"
    assert (await _nominate(coordinator, meeting_id, 2)).status == 409
    page = await (await coordinator.get(f"/meetings/{meeting_id}")).text()
    assert 'id="cancelled"' in page


async def test_the_province_moves_a_meeting_on_its_page(server: WebServer) -> None:
    province, _, meeting_id = await _meeting(server)
    moved = await province.post(
        f"/meetings/{meeting_id}/edit",
        data={
            "title": "培训（改期）",
            "starts_at": "2020-04-16T14:00",
            "ends_at": "2020-04-16T17:00",
            "city_quota": "10",
        },
    )
    assert moved.status == 303
    made = await (await province.get(f"/api/meetings/{meeting_id}")).json()
    assert (made["title"], made["city_quota"]) == ("培训（改期）", 10)
    assert made["test_starts_at"] == "2020-04-15T18:00:00+08:00"  # the signal test follows the start


async def test_a_coordinator_nominates_an_existing_account_by_its_user_name(server: WebServer) -> None:
    _, coordinator, meeting_id = await _meeting(server)
    form = {"city_code": "4419", "role": "expert", "username": "speaker"}
    nominated = await coordinator.post(f"/meetings/{meeting_id}/nominate", data=form)
    assert nominated.status == 303
    cities = await (await coordinator.get(f"/api/meetings/{meeting_id}/cities")).json()
    [person] = cities["items"][0]["people"]
    assert person["name"] == "主讲专家"
    assert person["user_id"] is not None
    unknown = await coordinator.post(f"/meetings/{meeting_id}/nominate", data={**form, "username": "nobody"})
    assert unknown.status == 422
    assert "没有这个用户名的账号" in await unknown.text()
    again = await coordinator.post(f"/meetings/{meeting_id}/nominate", data=form)
    assert again.status == 409
