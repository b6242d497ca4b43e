"""The room and the session's life, over the real WebSocket: the room opens only in its window (the
host can open it earlier), entering it starts the session (held: it can no longer be moved), the
host ends it, and the last one out after the scheduled end completes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from remote_check.audit.models import AuditEntry
from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus, VoucherProject
from scheduler.models import CheckSession, SessionStatus
from tests.conftest import Database
from tests.rooms.conftest import ServerFactory
from tests.rooms.session_world import World, build_world
from tests.rooms.test_session_room import first, me_in_roster, refused_status
from tests.scheduling_factories import local


async def _session(db: Database, session_id: int) -> tuple[CheckSession, ProjectStatus]:
    async with transaction(db.factory) as session:
        check = await session.get(CheckSession, session_id)
        assert check is not None
        project = await session.get(VoucherProject, check.project_id)
        assert project is not None
        return check, project.status


async def _audited(db: Database, action: str, session_id: int) -> list[dict[str, Any]]:
    async with transaction(db.factory) as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.target == f"session:{session_id}")
            .order_by(AuditEntry.seq)
        )
        return [dict(row.details or {}, actor=row.actor) for row in rows]


async def test_the_room_opens_in_its_window_or_when_the_host_opens_it(world: World, db: Database) -> None:
    world.web.clock.set(local(11, 9))  # an hour before the start: the room opens at 09:45
    visitor = world.web.browser()
    token = world.tokens["enterprise"]
    page = await visitor.get(f"/join/{token}/room?lang=en")
    assert page.status == 409
    html = await page.text()
    assert 'data-reason="room_not_open"' in html
    assert "it opens at 2020-04-11 09:45 China time (15 minutes before the session starts)" in html
    landing = await (await visitor.get(f"/join/{token}?lang=zh")).text()
    assert "2020-04-11 09:45" in landing  # the invitation says when the room opens
    assert await refused_status(visitor.session, world.guest_ws(token)) == 409
    host = await world.staff("gz.coord")
    expert = await world.staff("expert.on")
    assert await refused_status(expert.session, world.room_ws()) == 409
    assert await refused_status(host.session, world.room_ws()) == 409
    session_page = await (await host.get(f"/sessions/{world.session_id}")).text()
    assert 'id="open-room"' in session_page
    assert "open-room" not in await (await expert.get(f"/sessions/{world.session_id}")).text()
    assert (await expert.post(f"/api/sessions/{world.session_id}/open")).status == 403
    opened = await host.post(f"/sessions/{world.session_id}/open", data={"csrf_token": host.csrf})
    assert opened.status == 303
    enterprise = await visitor.session.ws_connect(world.guest_ws(token))
    assert await enterprise.receive_json(timeout=10) == {"type": "waiting"}
    await enterprise.close()
    [opening] = await _audited(db, "session.open_room", world.session_id)
    assert opening["actor"].startswith("user:")


async def test_entering_starts_the_session_and_the_last_one_out_after_the_end_completes_it(
    make_rooms_server: ServerFactory, db: Database, clock: FixedClock
) -> None:
    server = await make_rooms_server()
    world = await build_world(server, db, clock)
    try:
        host = await world.staff("gz.coord")
        expert_ws = await (await world.staff("expert.on")).session.ws_connect(world.room_ws())
        await me_in_roster(expert_ws)
        check, project = await _session(db, world.session_id)
        assert (check.status, check.started_at, project) == (
            SessionStatus.IN_PROGRESS,
            local(11, 9, 50),
            ProjectStatus.SCHEDULED,
        )
        times = {"starts_at": local(13, 10).isoformat(), "ends_at": local(13, 11).isoformat()}
        moved = await host.post(f"/api/sessions/{world.session_id}/move?lang=en", json=times)
        assert moved.status == 409
        assert "has not been held" in (await moved.json())["error"]["message"]
        assert (await host.post(f"/api/sessions/{world.session_id}/cancel", json={})).status == 409
        host_ws = await host.session.ws_connect(world.room_ws())
        await me_in_roster(host_ws)
        clock.set(local(11, 10, 30))
        await expert_ws.close()  # leaves before the end, with the host still in
        while any(
            p["role"] == "expert" and p["connected"] for p in (await first(host_ws, "roster"))["people"]
        ):
            pass
        clock.set(local(11, 11, 5))  # after the scheduled end
        await host_ws.close()  # the last one out
        await world.web.close()
        await server.close()  # every handler has finished, its audit entries written
        check, project = await _session(db, world.session_id)
        assert (check.status, check.ended_at, check.ended_by) == (SessionStatus.DONE, local(11, 11, 5), None)
        assert project == ProjectStatus.CHECKED
        [completed] = await _audited(db, "session.complete", world.session_id)
        assert (completed["how"], completed["actor"]) == ("last_leave", "system")
        assert len(await _audited(db, "session.start", world.session_id)) == 1
    finally:
        await world.web.close()


async def test_the_host_ends_the_session_from_the_room_and_it_closes(world: World, db: Database) -> None:
    host = await world.staff("gz.coord")
    room = await (await host.get(f"/sessions/{world.session_id}/room")).text()
    assert f'action="/sessions/{world.session_id}/complete"' in room
    host_ws = await host.session.ws_connect(world.room_ws())
    await me_in_roster(host_ws)
    ended = await host.post(f"/sessions/{world.session_id}/complete", data={"csrf_token": host.csrf})
    assert ended.status == 303
    check, project = await _session(db, world.session_id)
    assert (check.status, check.ended_at) == (SessionStatus.DONE, local(11, 9, 50))
    assert project == ProjectStatus.CHECKED
    page = await (await host.get(f"/sessions/{world.session_id}?lang=en")).text()
    assert 'data-phase="done"' in page
    assert ">Completed<" in page
    visitor = world.web.browser()
    refused = await visitor.get(f"/join/{world.tokens['observer']}/room?lang=en")
    assert refused.status == 410
    assert "This check session is over" in await refused.text()
    assert await refused_status(visitor.session, world.guest_ws(world.tokens["observer"])) == 410
    await host_ws.close()
    assert (
        await host.post(f"/sessions/{world.session_id}/complete", data={"csrf_token": host.csrf})
    ).status == 409
