"""A check session's life (issue 9): its steps, the room's window, completion and no-show,
rescheduling, off-hours bookings, the supplier's buffer, and a guest invited twice.

Over HTTP on the real app; the test's clock is moved instead of waited for. The room itself
(entering it starts the session, the last one out completes it) is in tests/rooms/test_session_life.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.clock import SHANGHAI
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus
from scheduler.booking import off_hours
from scheduler.life import ALLOWED, HELD, OVER, Phase, RoomClosed, Window, opens_at, phase
from scheduler.models import CheckSession, SessionStatus
from scheduler.models import SessionStatus as S
from tests.scheduling_factories import (
    add_expert,
    counts,
    local,
    project_status,
)
from tests.test_sessions_web import Setup, _setup
from tests.web_helpers import WebServer

# --- pure rules --------------------------------------------------------------------------------


@dataclass
class Timed:
    status: S
    starts_at: dt.datetime
    opened_at: dt.datetime | None = None


QUARTER = dt.timedelta(minutes=15)


def test_the_room_opens_fifteen_minutes_before_or_when_the_host_opened_it() -> None:
    booked = Timed(S.BOOKED, local(13, 10))
    assert opens_at(booked, QUARTER) == local(13, 9, 45)
    assert phase(booked, local(13, 9, 44), QUARTER) == Phase.BOOKED
    assert phase(booked, local(13, 9, 45), QUARTER) == Phase.OPEN
    early = Timed(S.BOOKED, local(13, 10), opened_at=local(12, 18))
    assert phase(early, local(12, 18), QUARTER) == Phase.OPEN
    assert phase(Timed(S.IN_PROGRESS, local(13, 10)), local(13, 8), QUARTER) == Phase.IN_PROGRESS
    assert phase(Timed(S.NO_SHOW, local(13, 10)), local(13, 12), QUARTER) == Phase.NO_SHOW


def test_ended_sessions_go_nowhere_and_held_ones_cannot_be_cancelled() -> None:
    for end in OVER:
        assert ALLOWED[end] == frozenset()
    for held in HELD:
        assert S.CANCELLED not in ALLOWED[held]
    assert S.DONE not in ALLOWED[S.BOOKED]  # completed only once someone was in the room
    assert ALLOWED[S.INTERRUPTED] >= {S.IN_PROGRESS, S.DONE}


def test_the_window_refusal_says_when_the_room_opens() -> None:
    window = Window(QUARTER)
    with pytest.raises(RoomClosed) as refused:
        window.check(Timed(S.BOOKED, local(13, 10)), local(13, 9))
    assert "2020-04-13 09:45" in str(refused.value)
    assert "15 分钟" in str(refused.value)
    assert "15 minutes" in str(refused.value)
    window.check(Timed(S.BOOKED, local(13, 10)), local(13, 9, 45))


def test_weekends_and_night_hours_are_off_hours() -> None:
    assert off_hours(local(13, 10), local(13, 11), SHANGHAI) == []  # a Monday morning
    assert off_hours(local(13, 17), local(13, 18), SHANGHAI) == []
    assert off_hours(local(12, 10), local(12, 11), SHANGHAI) == ["weekend"]  # a Sunday
    assert off_hours(local(14, 2), local(14, 3), SHANGHAI) == ["hours"]  # 02:00 on a Tuesday
    assert off_hours(local(13, 17, 30), local(13, 18, 30), SHANGHAI) == ["hours"]
    assert off_hours(local(11, 2), local(11, 3), SHANGHAI) == ["weekend", "hours"]


def test_official_holidays_are_off_hours_and_swapped_working_weekends_are_not() -> None:
    assert off_hours(local(6, 10), local(6, 11), SHANGHAI) == ["holiday"]  # Monday 6 April 2020: 清明
    may_day = dt.datetime(2020, 5, 1, 10, tzinfo=SHANGHAI)  # a Friday, 劳动节
    assert off_hours(may_day, may_day + dt.timedelta(hours=1), SHANGHAI) == ["holiday"]
    assert off_hours(local(26, 10), local(26, 11), SHANGHAI) == []  # Sunday 26 April 2020 was worked (调休)
    saturday = dt.datetime(2020, 5, 9, 10, tzinfo=SHANGHAI)  # worked too
    assert off_hours(saturday, saturday + dt.timedelta(hours=1), SHANGHAI) == []
    unknown_year = dt.datetime(2099, 1, 3, 10, tzinfo=SHANGHAI)  # a Saturday the package does not know yet
    assert off_hours(unknown_year, unknown_year + dt.timedelta(hours=1), SHANGHAI) == ["weekend"]


# --- over HTTP ---------------------------------------------------------------------------------


def _body(
    project: int, panel: list[int], start: dt.datetime, minutes: int = 60, **extra: Any
) -> dict[str, Any]:
    end = start + dt.timedelta(minutes=minutes)
    return {
        "project_id": project,
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "panel": panel,
        **extra,
    }


async def _book(
    s: Setup, start: dt.datetime, project: int | None = None, panel: list[int] | None = None
) -> int:
    booked = await s.gz.post("/api/sessions", json=_body(project or s.project, panel or s.experts[:3], start))
    assert booked.status == 201, await booked.text()
    return int((await booked.json())["id"])


async def _status(server: WebServer, session_id: int) -> SessionStatus:
    async with transaction(server.db.factory) as session:
        check = await session.get(CheckSession, session_id)
        assert check is not None
        return check.status


async def _actions(server: WebServer, prefix: str) -> list[str]:
    async with transaction(server.db.factory) as session:
        rows = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like(prefix + "%")).order_by(AuditEntry.seq)
        )
        return list(rows.all())


async def test_a_sunday_or_2am_booking_is_a_warning_to_confirm(server: WebServer) -> None:
    s = await _setup(server)
    sunday = await s.gz.post("/api/sessions?lang=en", json=_body(s.project, s.experts[:3], local(12, 10)))
    assert sunday.status == 409
    error = (await sunday.json())["error"]
    assert (error["code"], [(f["field"], f["reason"]) for f in error["fields"]]) == (
        "needs_confirmation",
        [("confirm_off_hours", "weekend")],
    )
    assert "weekend" in error["message"]
    night = await s.gz.post("/api/sessions?lang=zh", json=_body(s.project, s.experts[:3], local(14, 2)))
    assert night.status == 409
    assert "工作时间" in (await night.json())["error"]["message"]
    assert (await counts(server.db.factory)).sessions == 0
    confirmed = await s.gz.post(
        "/api/sessions", json=_body(s.project, s.experts[:3], local(14, 2), confirm_off_hours=True)
    )
    assert confirmed.status == 201
    assert (await confirmed.json())["phase"] == "booked"


async def test_a_supplier_buffer_refusal_names_the_buffer(server: WebServer) -> None:
    s = await _setup(server)
    await _book(s, local(13, 10))  # 10:00-11:00, the supplier's only team busy until 11:15
    zh = await s.gz.post("/api/sessions", json=_body(s.second, s.experts[3:6], local(13, 11, 5)))
    assert zh.status == 409
    assert "须间隔 15 分钟" in (await zh.json())["error"]["message"]
    en = await s.gz.post("/api/sessions?lang=en", json=_body(s.second, s.experts[3:6], local(13, 11, 5)))
    assert "needs 15 minutes between two sessions" in (await en.json())["error"]["message"]
    assert (
        await s.gz.post("/api/sessions", json=_body(s.second, s.experts[3:6], local(13, 11, 15)))
    ).status == 201


async def test_the_same_person_cannot_be_invited_twice(server: WebServer) -> None:
    s = await _setup(server)
    sid = await _book(s, local(13, 10))
    first = {"kind": "enterprise", "name": "陈经理", "email": "Chen@Example.cn", "phone": "138 0000 0000"}
    assert (await s.gz.post(f"/api/sessions/{sid}/guests", json=first)).status == 201
    again = {"kind": "supplier", "name": "陈工", "email": "chen@example.cn"}
    refused = await s.gz.post(f"/api/sessions/{sid}/guests", json=again)
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert error["code"] == "already_invited"
    assert "已受邀" in error["message"]
    assert "陈经理" in error["message"]
    by_phone = {"kind": "enterprise", "name": "陈经理", "phone": "13800000000"}
    en = await s.gz.post(f"/api/sessions/{sid}/guests?lang=en", json=by_phone)
    assert en.status == 409
    assert "already invited to this session" in (await en.json())["error"]["message"]
    assert "same phone" in (await en.json())["error"]["message"]
    other = {"kind": "enterprise", "name": "李经理", "email": "li@example.cn", "phone": "13900000000"}
    assert (await s.gz.post(f"/api/sessions/{sid}/guests", json=other)).status == 201
    page = await s.gz.post(
        f"/sessions/{sid}/guests?lang=zh",
        data={
            "csrf_token": s.gz.csrf,
            "kind": "observer",
            "name": "x",
            "organisation": "y",
            "email": "li@example.cn",
        },
    )
    assert page.status == 409
    assert "已受邀" in await page.text()
    assert len((await (await s.gz.get(f"/api/sessions/{sid}")).json())["guests"]) == 2


async def test_reschedule_moves_time_and_panel_and_the_links_follow(server: WebServer) -> None:
    s = await _setup(server)
    sid = await _book(s, local(13, 10))
    invited = await s.gz.post(f"/api/sessions/{sid}/guests", json={"kind": "enterprise", "name": "陈经理"})
    link = (await invited.json())["link"]
    form = await (await s.gz.get(f"/sessions/{sid}/move")).text()
    assert 'value="2020-04-13"' in form
    assert 'value="10:00"' in form
    data = [
        ("csrf_token", s.gz.csrf),
        ("date", "2020-04-15"),
        ("start", "14:00"),
        ("end", "15:00"),
        ("lead", str(s.experts[3])),
        ("members", str(s.experts[4])),
        ("members", str(s.experts[5])),
    ]
    moved = await s.gz.post(f"/sessions/{sid}/move", data=data)
    assert moved.status == 303, await moved.text()
    after = await (await s.gz.get(f"/api/sessions/{sid}")).json()
    assert after["starts_at"] == "2020-04-15T14:00:00+08:00"
    assert [seat["expert_id"] for seat in after["panel"]] == s.experts[3:6]
    async with transaction(server.db.factory) as session:
        entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "session.move"))).one()
    assert entry.details is not None
    assert entry.details["panel"] == {"from": s.experts[:3], "to": s.experts[3:6]}
    sunday = await s.gz.post(f"/sessions/{sid}/move", data=[*data[:1], ("date", "2020-04-19"), *data[2:]])
    assert sunday.status == 409
    assert 'name="confirm_off_hours"' in await sunday.text()
    server.clock.set(local(15, 16, 30))  # after the old end + grace, before the new one's
    landing = await server.browser().get(urlsplit(link).path)
    assert landing.status == 200  # the link sent before the move still opens, for the new time
    assert "2020-04-15 14:00" in await landing.text()


async def test_open_early_complete_and_no_show_are_the_hosts(server: WebServer) -> None:
    s = await _setup(server)
    sid = await _book(s, local(13, 10))
    page = await (await s.gz.get(f"/sessions/{sid}")).text()
    assert 'data-phase="booked"' in page
    assert "2020-04-13 09:45" in page  # when the room opens
    refused = await s.gz.get(f"/sessions/{sid}/room?lang=en")
    assert refused.status == 409
    assert "opens at 2020-04-13 09:45" in await refused.text()
    early = await s.gz.post(f"/sessions/{sid}/open", data={"csrf_token": s.gz.csrf})
    assert early.status == 303
    assert 'data-phase="open"' in await (await s.gz.get(f"/sessions/{sid}")).text()
    assert (await s.gz.get(f"/sessions/{sid}/room")).status == 200
    too_soon = await s.gz.post(f"/api/sessions/{sid}/complete")
    assert too_soon.status == 409  # nobody has entered its room
    too_early = await s.gz.post(f"/api/sessions/{sid}/no-show", json={"reason": "企业未到"})
    assert (too_early.status, (await too_early.json())["error"]["code"]) == (409, "too_early")
    server.clock.set(local(13, 10, 20))
    s.gz = await server.signed_in("gz.coord")  # log-ins last 12 hours
    no_show = await s.gz.post(f"/api/sessions/{sid}/no-show", json={"reason": "企业未到"})
    assert no_show.status == 200
    assert (await no_show.json())["phase"] == "no_show"
    assert (await counts(server.db.factory)).bookings == 0
    assert await project_status(server.db.factory, s.project) == ProjectStatus.SAMPLED
    over = await s.gz.get(f"/sessions/{sid}/room")
    assert over.status == 410
    assert "已结束" in await over.text()
    times = {"starts_at": local(14, 10).isoformat(), "ends_at": local(14, 11).isoformat()}
    moved = await s.gz.post(f"/api/sessions/{sid}/move", json=times)
    assert (moved.status, (await moved.json())["error"]["code"]) == (409, "bad_status")
    assert await _actions(server, "session.") == ["session.book", "session.open_room", "session.no_show"]
    rebooked = await _book(s, local(14, 10))
    assert rebooked != sid


async def test_an_expert_of_a_cancelled_session_sees_it_but_nothing_after(server: WebServer) -> None:
    s = await _setup(server)
    user = await server.add_user("expert.old", Role.EXPERT)
    async with transaction(server.db.factory) as session:
        old = await add_expert(session, "旧专家")
        old.user_id = user
    first = await _book(s, local(13, 10), panel=[old.id, *s.experts[1:3]])
    contact = {"kind": "enterprise", "name": "陈经理", "email": "chen@example.cn", "phone": "13800000000"}
    assert (await s.gz.post(f"/api/sessions/{first}/guests", json=contact)).status == 201
    assert (await s.gz.post(f"/api/sessions/{first}/cancel", json={"reason": "改期"})).status == 200
    second = await _book(s, local(14, 10), panel=s.experts[3:6])
    assert (await s.gz.post(f"/api/sessions/{second}/guests", json=contact)).status == 201
    expert = await server.signed_in("expert.old")
    seen = await (await expert.get(f"/api/sessions/{first}")).json()
    assert (seen["phase"], seen["guests"]) == ("cancelled", [])  # the cancelled one, without its guests
    page = await (await expert.get(f"/sessions/{first}")).text()
    assert "已取消" in page
    assert f'href="/projects/{s.project}"' not in page
    assert "chen@example.cn" not in page
    for path in (
        f"/api/sessions/{second}",
        f"/sessions/{second}",
        f"/api/sessions/{second}/marks",
        f"/api/projects/{s.project}",
        f"/api/projects/{s.project}/checklist",
        f"/projects/{s.project}",
    ):
        assert (await expert.get(path)).status == 404, path
    listed = await (await expert.get("/api/sessions")).json()
    assert [row["id"] for row in listed["items"]] == [first]
    measured = {"camera_ok": True, "microphone_ok": True, "screen_ok": True, "fps": 30, "bitrate_kbps": 800}
    assert (await expert.post(f"/sessions/{second}/check/result", json=measured)).status == 404
    cancelled = await expert.post(f"/sessions/{first}/check/result", json=measured)
    assert cancelled.status == 409
    assert await _actions(server, "connectivity.") == []


async def test_session_pages_show_the_phase_in_both_languages(server: WebServer) -> None:
    s = await _setup(server)
    sid = await _book(s, local(13, 10))
    listed = await (await s.gz.get("/sessions?lang=en")).text()
    assert 'data-phase="booked"' in listed
    assert ">Booked<" in listed
    server.clock.set(local(13, 9, 50))
    s.gz = await server.signed_in("gz.coord")  # log-ins last 12 hours
    listed = await (await s.gz.get("/sessions")).text()
    assert 'data-phase="open"' in listed
    assert "会议室已开放" in listed
    assert (await (await s.gz.get("/api/sessions")).json())["items"][0]["phase"] == "open"
    assert await _status(server, sid) == SessionStatus.BOOKED  # "open" is derived, not stored
