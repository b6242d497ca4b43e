"""The planning pages and API on the real server: propose (the planner off the event loop), follow
the progress, read the plan per city and per supplier, apply it all or nothing."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from sqlalchemy import func, select

from remote_check.accounts.models import Role
from remote_check.clock import FixedClock
from remote_check.database import transaction
from scheduler.models import CheckSession
from scheduler.planning.proposals import Proposal, Proposals, ProposalState
from scheduler.planning.service import db_id
from scheduler.service import NewSession, book_session
from tests.conftest import Database, running_server
from tests.planning.sample_world import World, make_world
from tests.scheduling_factories import PASSWORD, counts
from tests.web_helpers import Browser, WebServer, csrf_from_html
from web.keys import PLANS


async def _world(server: WebServer) -> World:
    async with transaction(server.db.factory) as session:
        return await make_world(session)


def _plans(server: WebServer) -> Proposals:
    plans: Proposals = server.test_server.app[PLANS]
    return plans


async def _proposed(server: WebServer, browser: Browser, user_id: int) -> Proposal:
    response = await browser.post("/api/plans", json={"seconds": 0.5})
    assert response.status == 202, await response.text()
    status = await response.json()
    assert status["state"] in ("running", "done")
    assert 0 <= status["progress"] <= 1
    proposal = _plans(server).get(user_id, status["id"])
    await _plans(server).wait(proposal)
    return proposal


async def _session_count(db: Database) -> int:
    async with db.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(CheckSession)) or 0)


async def test_the_admin_proposes_reads_and_applies_a_plan_of_every_city(server: WebServer) -> None:
    world = await _world(server)
    admin = await server.signed_in("admin", PASSWORD)
    proposal = await _proposed(server, admin, world.admin.user_id)
    status = await (await admin.get(f"/api/plans/{proposal.id}")).json()
    assert status | {"elapsed_seconds": 0} == {
        "id": proposal.id,
        "state": "done",
        "city_code": None,
        "progress": 1.0,
        "elapsed_seconds": 0,
        "budget_seconds": 0.5,
        "to_place": 5,
        "placed": 5,
        "unplaced": 0,
        "makespan_days": status["makespan_days"],
        "booked": [],
    }
    page = await admin.get(f"/plans/{proposal.id}")
    html = await page.text()
    assert page.status == 200
    for text in ("东莞", "佛山", "甲服务商", "乙服务商", world.dg_projects[0].code, "应用方案", "已预订"):
        assert text in html
    listing = await (await admin.get("/plans")).text()
    assert f'href="/plans/{proposal.id}"' in listing
    before = await _session_count(server.db)
    applied = await admin.post(f"/plans/{proposal.id}/apply", data={"csrf_token": csrf_from_html(html)})
    assert applied.status == 303
    assert await _session_count(server.db) == before + 5
    status = await (await admin.get(f"/api/plans/{proposal.id}")).json()
    assert status["state"] == "applied"
    assert len(status["booked"]) == 5
    again = await admin.post(f"/api/plans/{proposal.id}/apply", json={})
    assert again.status == 409  # applied once


async def test_a_clash_meanwhile_books_nothing_and_the_page_names_the_check(server: WebServer) -> None:
    world = await _world(server)
    coord = await server.signed_in("dg.coord", PASSWORD)
    proposal = await _proposed(server, coord, world.dg_coord.user_id)
    assert proposal.result is not None
    assert proposal.source.city_code == "4419"
    first = next(s for s in proposal.result.plan.sessions if s.project in proposal.source.to_place)
    code = proposal.source.projects[first.project].code
    async with transaction(server.db.factory) as session:
        free = [e for e in world.experts[1:] if e not in world.booked_panel and f"E{e}" not in first.experts]
        await book_session(
            session,
            world.admin,
            NewSession(
                world.draft_project,
                first.start,
                first.start + dt.timedelta(hours=1),
                [db_id(first.experts[0]), *free[:2]],
            ),
            now=server.clock.now(),
        )
    before = await counts(server.db.factory)
    page = await coord.get(f"/plans/{proposal.id}")
    html = await page.text()
    assert "佛山" not in html  # another city's booked check is planned around, not shown
    refused = await coord.post(f"/plans/{proposal.id}/apply", data={"csrf_token": csrf_from_html(html)})
    assert refused.status == 409
    assert code in await refused.text()
    assert await counts(server.db.factory) == before
    api = await coord.post(f"/api/plans/{proposal.id}/apply", json={})
    assert api.status == 409
    error = (await api.json())["error"]
    assert error["code"] == "plan_clash"
    assert error["fields"][0]["project"] == code


async def test_a_proposal_is_its_makers_and_other_roles_may_not_plan(server: WebServer) -> None:
    world = await _world(server)
    dg = await server.signed_in("dg.coord", PASSWORD)
    proposal = await _proposed(server, dg, world.dg_coord.user_id)
    fs = await server.signed_in("fs.coord", PASSWORD)
    assert (await fs.get(f"/api/plans/{proposal.id}")).status == 404
    assert (await fs.get(f"/plans/{proposal.id}")).status == 404
    assert (await fs.post(f"/api/plans/{proposal.id}/apply", json={})).status == 404
    await server.add_user("auditor", Role.AUDITOR)
    auditor = await server.signed_in("auditor")
    assert (await auditor.post("/api/plans", json={})).status == 403
    assert (await auditor.get("/plans")).status == 403


def test_progress_is_the_share_of_the_time_budget_used() -> None:
    running = Proposal(1, 1, source=None, seconds=4.0, started=time.monotonic() - 1.0)  # type: ignore[arg-type]
    assert 0.25 <= running.progress() < 0.99
    late = Proposal(2, 1, source=None, seconds=1.0, started=time.monotonic() - 5.0)  # type: ignore[arg-type]
    assert late.progress() == 0.99  # never "finished" before it is
    late.state = ProposalState.DONE
    assert late.progress() == 1.0


async def test_the_planning_page_proposes_with_the_settings_budget(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with running_server(db, clock, tmp_path, planning={"seconds": 0.3}) as server:
        world = await _world(server)
        admin = await server.signed_in("admin", PASSWORD)
        page = await admin.get("/plans")
        html = await page.text()
        assert "生成排期方案" in html
        started = await admin.post("/plans", data={"csrf_token": csrf_from_html(html)})
        assert started.status == 303
        proposal = _plans(server).of(world.admin.user_id)[0]
        assert started.headers["Location"] == f"/plans/{proposal.id}"
        assert proposal.seconds == 0.3
        await _plans(server).wait(proposal)
        shown = await admin.get(f"/plans/{proposal.id}")
        assert "各服务商日程" in await shown.text()
