"""Small helpers of the end-to-end campaign walk (tests/test_campaign_end_to_end.py): the people, the
import files, and the steps a user repeats (planning, holding a call, giving a verdict)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import FormData
from sqlalchemy import func, select

from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.database import transaction
from remote_check.experts.models import Expert
from remote_check.outcomes.sanction_models import Notice, Objection
from tests.factories import credit_code
from tests.import_files import csv_file, row
from tests.scheduling_factories import add_expert, add_principal
from tests.web_helpers import PASSWORD, Browser, WebServer
from web.keys import PLANS

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
STANDARDS = ("implementation", "finance", "function")
DIVISION = {"4419": "441900", "4406": "440600"}
CITY_NAME = {"4419": "东莞", "4406": "佛山"}


@dataclass
class People:
    """Everyone who acts in the walk, signed in."""

    admin: Browser
    coordinators: dict[str, Browser]  # by city
    experts: dict[int, Browser] = field(default_factory=dict)  # by expert id
    usernames: dict[int, str] = field(default_factory=dict)  # id(browser) -> who signed in


async def sign_in(browser: Browser, username: str) -> Browser:
    """Sign ``browser`` in (again) as ``username``."""
    response = await browser.post("/api/login", json={"username": username, "password": PASSWORD})
    assert response.status == 200, await response.text()
    browser.csrf = (await response.json())["csrf_token"]
    return browser


async def travel(server: WebServer, walk: People, when: dt.datetime, *who: Browser) -> None:
    """Move the clock to ``when``; ``who`` sign in again (days pass between the steps)."""
    server.clock.set(when)
    for browser in who:
        await sign_in(browser, walk.usernames[id(browser)])


async def people(server: WebServer, experts: int = 6) -> People:
    """The province administrator, Dongguan's and Foshan's coordinators and ``experts`` experts with
    accounts (set up as the administrator does from the command line)."""
    ids: dict[int, str] = {}
    async with transaction(server.db.factory) as session:
        await add_principal(session, "admin", Role.PROVINCE_ADMIN)
        await add_principal(session, "dg.coord", Role.CITY_COORDINATOR, "4419")
        await add_principal(session, "fs.coord", Role.CITY_COORDINATOR, "4406")
        for n in range(experts):
            expert = await add_expert(session, f"专家{n + 1}", city=None)
            user = await add_principal(session, f"expert{n + 1}", Role.EXPERT)
            expert.user_id = user.user_id
            ids[expert.id] = f"expert{n + 1}"
    walk = People(server.browser(), {"4419": server.browser(), "4406": server.browser()})
    names = [
        (walk.admin, "admin"),
        (walk.coordinators["4419"], "dg.coord"),
        (walk.coordinators["4406"], "fs.coord"),
    ]
    for expert_id, username in ids.items():
        walk.experts[expert_id] = server.browser()
        names.append((walk.experts[expert_id], username))
    for browser, username in names:
        walk.usernames[id(browser)] = username
        await sign_in(browser, username)
    return walk


def project_row(
    code: str, city: str, enterprise: str, supplier: tuple[str, str], **changes: str
) -> dict[str, str]:
    """An import row of ``city`` for a fresh enterprise and the ``(name, credit code)`` supplier."""
    return {
        **row(0),
        "project_code": code,
        "city": CITY_NAME[city],
        "enterprise_name": enterprise,
        "enterprise_credit_code": credit_code(DIVISION[city]),
        "supplier_name": supplier[0],
        "supplier_credit_code": supplier[1],
        **changes,
    }


async def import_rows(
    coordinator: Browser, rows: list[dict[str, str]], name: str, status: int = 200
) -> dict[str, Any]:
    """The coordinator uploads a CSV through the import API; its summary (or refusal)."""
    form = FormData()
    form.add_field("file", csv_file(rows), filename=name, content_type="text/csv")
    response = await coordinator.post("/api/imports", data=form)
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def ok(response: Any, status: int = 200) -> Any:
    """The JSON of a response that must have ``status``."""
    assert response.status == status, await response.text()
    return await response.json()


async def draw_and_publish(
    coordinator: Browser, city: str, count: int, seed: str
) -> tuple[int, int, list[str]]:
    """Open the city's campaign, draw ``count`` projects and publish; (campaign, draw, drawn codes)."""
    campaign = await ok(
        await coordinator.post(
            "/api/campaigns",
            json={"city_code": city, "period": "2019", "budget": "1000000.00", "deadline": "2020-06-30"},
        ),
        201,
    )
    drawn = await ok(
        await coordinator.post(f"/api/campaigns/{campaign['id']}/draws", json={"count": count, "seed": seed}),
        201,
    )
    draw_id = drawn["draw"]["id"]
    published = await ok(await coordinator.post(f"/api/draws/{draw_id}/publish"))
    assert published["status"] == "published"
    shown = await ok(await coordinator.get(f"/api/draws/{draw_id}"))
    return campaign["id"], draw_id, [e["project_code"] for e in shown["entries"]]


async def plan_and_apply(server: WebServer, coordinator: Browser, user_id: int) -> dict[str, Any]:
    """Propose a plan of the coordinator's published samples, wait for the planner, apply it."""
    status = await ok(await coordinator.post("/api/plans", json={"seconds": 0.5}), 202)
    proposals = server.test_server.app[PLANS]
    await proposals.wait(proposals.get(user_id, status["id"]))
    done = await ok(await coordinator.get(f"/api/plans/{status['id']}"))
    assert done["state"] == "done", done
    applied = await ok(await coordinator.post(f"/api/plans/{status['id']}/apply", json={}))
    return {"proposal": done, "applied": applied}


async def sessions_by_code(browser: Browser) -> dict[str, dict[str, Any]]:
    """The sessions the browser sees, by project code (the latest per project)."""
    listed = await ok(await browser.get("/api/sessions"))
    return {s["project_code"]: s for s in sorted(listed["items"], key=lambda s: s["id"])}


async def user_id(server: WebServer, username: str) -> int:
    from remote_check.accounts.models import User

    async with server.db.factory() as session:
        found = await session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return int(found)


async def expert_ids(server: WebServer) -> list[int]:
    async with server.db.factory() as session:
        return list((await session.scalars(select(Expert.id).order_by(Expert.id))).all())


async def actions(server: WebServer) -> list[str]:
    """The audit log's actions, in order."""
    async with server.db.factory() as session:
        return list((await session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))).all())


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


async def panel_of(coordinator: Browser, session_id: int) -> list[tuple[int, str]]:
    """The (expert id, role) of a session's panel, the lead first."""
    detail = await ok(await coordinator.get(f"/api/sessions/{session_id}"))
    seats = sorted(detail["panel"], key=lambda s: s["role"] != "lead")
    return [(s["expert_id"], s["role"]) for s in seats]


async def hold_call(server: WebServer, walk: People, session_id: int, *, fail: bool) -> None:
    """A synthetic call at its booked time: the host opens the room, the panel enters it (the room's
    WebSocket, no media), the lead marks every checklist item (all passed, or the finance one failed),
    the host ends the session (before the lead leaves: the last one out after the end would)."""
    host = walk.coordinators["4419"]
    detail = await ok(await host.get(f"/api/sessions/{session_id}"))
    lead = walk.experts[(await panel_of(host, session_id))[0][0]]
    await travel(server, walk, at(detail["starts_at"]), host, lead)
    await ok(await host.post(f"/api/sessions/{session_id}/open", json={}))
    socket = await lead.session.ws_connect(lead.url(f"/sessions/{session_id}/room/ws"))
    await socket.receive_json(timeout=10)
    checklist = await ok(await lead.get(f"/api/projects/{detail['project_id']}/checklist"))
    for item in checklist["items"]:
        failed = fail and item["standard"] == "finance"
        await ok(
            await lead.patch(
                f"/api/projects/{detail['project_id']}/checklist/{item['code']}",
                json={"result": "fail" if failed else "pass", "notes": "发票与合同不符" if failed else ""},
            )
        )
    server.clock.set(at(detail["starts_at"]) + dt.timedelta(minutes=50))
    done = await ok(await host.post(f"/api/sessions/{session_id}/complete", json={}))
    assert done["status"] == "done"
    await socket.close()


async def give_verdict(
    server: WebServer, walk: People, project_id: int, session_id: int, outcome: str, **proposal: str
) -> dict[str, Any]:
    """The panel's opinions (all passed for a qualified outcome, the finance standard failed
    otherwise), the lead's proposal, the coordinator's confirmation; the confirmation's answer."""
    coordinator = walk.coordinators["4419"]
    url = f"/api/projects/{project_id}/verdict"
    panel = await panel_of(coordinator, session_id)
    for expert_id, _ in panel:
        expert = await sign_in(walk.experts[expert_id], walk.usernames[id(walk.experts[expert_id])])
        opinions = [
            {
                "standard": s,
                "passed": outcome == "qualified" or s != "finance",
                "reasons": "" if outcome == "qualified" or s != "finance" else "发票与合同金额不符",
            }
            for s in STANDARDS
        ]
        await ok(await expert.post(url + "/opinions", json={"opinions": opinions}))
    lead = walk.experts[panel[0][0]]
    proposed = await ok(await lead.post(url + "/proposal", json={"outcome": outcome, **proposal}))
    assert proposed["verdict"]["state"] == "proposed"
    confirmed: dict[str, Any] = await ok(await coordinator.post(url + "/confirm"))
    return confirmed


def in_order(done: list[str], expected: list[str]) -> bool:
    """Whether ``expected`` happened in this order (other actions between them)."""
    rest = iter(done)
    return all(action in rest for action in expected)


async def object_through(
    server: WebServer, notices: Sequence[Notice], code: str, party: str, text: str
) -> int:
    """The ``party`` (enterprise or supplier) of project ``code`` follows the link of the result notice
    it was sent and objects with ``text`` and a PDF; the objection's id."""
    [told] = [n.body for n in notices if code in n.body and n.recipient.startswith(f"{party}:")]
    link = re.search(r"/objections/\d{4}/\S+", told)
    assert link is not None
    form = FormData()
    form.add_field("text", text)
    form.add_field("files", PDF, filename="证明材料.pdf", content_type="application/pdf")
    submitted = await server.browser().post(link.group(0), data=form)
    assert submitted.status == 200, await submitted.text()
    assert "异议已提交" in await submitted.text()
    async with server.db.factory() as session:
        found = await session.scalar(select(func.max(Objection.id)))
    assert found is not None
    return int(found)
