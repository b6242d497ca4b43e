"""Every role against every kind of page and API call: allowed or refused.

The expectations are written out by hand here (not derived from the policy module), so a
change of the policy that opens or closes a door makes this test fail. "Refused" means 401
(not signed in), 403 (the role may not do this, or a campaign opened for another city) or 404
(a project, session, campaign or draw outside the caller's scope, answered exactly like an
absent one so that the existence of another city's data is not revealed: see
test_sessions_web and test_campaigns_web); an anonymous page visit is sent to the log-in page.
"Allowed" is any other answer: the call got past the door (a 409 or 422 from the domain is past
the door).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from remote_check.accounts.models import Role
from remote_check.clock import SHANGHAI
from remote_check.database import transaction
from remote_check.programme.models import VoucherProject
from tests import factories
from tests.web_helpers import Browser, WebServer

# The people of the scenario: Dongguan (4419) and Foshan (4406).
ROLES: dict[str, tuple[Role, str | None]] = {
    "admin": (Role.PROVINCE_ADMIN, None),
    "dg_coord": (Role.CITY_COORDINATOR, "4419"),
    "fs_coord": (Role.CITY_COORDINATOR, "4406"),
    "expert_on": (Role.EXPERT, None),  # on the panel of the Dongguan session
    "expert_off": (Role.EXPERT, None),  # on no panel
    "expert_was": (Role.EXPERT, None),  # on the panel of a cancelled session whose project was rebooked
    "auditor": (Role.AUDITOR, None),  # province-wide
    "dg_auditor": (Role.AUDITOR, "4419"),
    "alliance": (Role.ALLIANCE_STAFF, None),
}
EVERYONE = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()


@dataclass
class World:
    dg_project: int  # sampled, with a session in Dongguan
    fs_cluster: int  # an industrial-cluster project in Foshan
    dg_campaign: int
    dg_draw: int
    dg_session: int
    dg_guest: int  # invited to the Dongguan session
    dg_rebooked_project: int  # its first session was cancelled; rebooked with expert_on's panel
    dg_cancelled: int  # that first session, with expert_was on its panel
    dg_rebooked: int  # the session it was rebooked as, with guests' email and phone
    dg_supplier: int = 0  # the supplier of every project here (Dongguan and Foshan)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[World], str]
    allowed: frozenset[str]
    body: Callable[[World], Any] | None = None
    page: bool = False


def c(
    name: str,
    method: str,
    path: str,
    allowed: frozenset[str] | set[str],
    body: Any = None,
    page: bool = False,
) -> Case:
    return Case(
        name,
        method,
        lambda w: path.format(**vars(w)),
        frozenset(allowed),
        (lambda w: body(w)) if callable(body) else (lambda w: body) if body is not None else None,
        page,
    )


SEES_DG_PROJECT = {"admin", "dg_coord", "expert_on", "auditor", "dg_auditor"}
SEES_FS_CLUSTER = {"admin", "fs_coord", "auditor", "alliance"}
SEES_DG_CITY = {"admin", "dg_coord", "auditor", "dg_auditor"}  # a city's plans: not alliance staff
DG_WRITERS = {"admin", "dg_coord"}
REPLAYS = {"admin", "dg_coord", "auditor", "dg_auditor"}  # recording.read and the Dongguan session
# A session and what is under it by a seat on that session's panel, not on another of its project's.
SEES_REBOOKED = {"admin", "dg_coord", "expert_on", "auditor", "dg_auditor"}
SEES_CANCELLED = {"admin", "dg_coord", "expert_was", "auditor", "dg_auditor"}
MEASURED = {"camera_ok": True, "microphone_ok": True, "screen_ok": True, "fps": 30, "bitrate_kbps": 800}
PLANNERS = {"admin", "dg_coord", "fs_coord", "auditor", "dg_auditor"}  # who plans campaigns and samples
# Who lists campaigns: the planners, and alliance staff (the cluster projects' campaigns, issue 12).
CAMPAIGN_READERS = PLANNERS | {"alliance"}
STAFF = {"admin", "dg_coord", "fs_coord", "auditor", "dg_auditor"}  # reports: the province and the cities
REPORT_FILERS = {"admin", "dg_coord"}  # the Dongguan campaign's reports
PLAN_WRITERS = {"admin", "dg_coord", "fs_coord"}  # who proposes and applies a plan of the checks

CASES: list[Case] = [
    c("me", "GET", "/api/me", EVERYONE),
    c("cities", "GET", "/api/cities", EVERYONE),
    c("projects list", "GET", "/api/projects", EVERYONE),
    c("Dongguan project", "GET", "/api/projects/{dg_project}", SEES_DG_PROJECT),
    c("Foshan cluster project", "GET", "/api/projects/{fs_cluster}", SEES_FS_CLUSTER),
    c("Dongguan checklist", "GET", "/api/projects/{dg_project}/checklist", SEES_DG_PROJECT),
    c(
        "mark a checklist item",
        "PATCH",
        "/api/projects/{dg_project}/checklist/R1",
        {"admin", "expert_on"},
        body={"result": "pass", "notes": ""},
    ),
    c("users list", "GET", "/api/users", {"admin"}),
    c("add a user", "POST", "/api/users", {"admin"}, body={"username": "x"}),
    c("audit log", "GET", "/api/audit", {"admin", "auditor", "dg_auditor"}),
    c("audit verify", "GET", "/api/audit/verify", {"admin", "auditor"}),
    c("audit export", "GET", "/api/audit/export.csv", {"admin", "auditor", "dg_auditor"}),
    c("campaigns list", "GET", "/api/campaigns", CAMPAIGN_READERS),
    c("Dongguan campaign", "GET", "/api/campaigns/{dg_campaign}", SEES_DG_CITY),
    c(
        "open a Dongguan campaign",
        "POST",
        "/api/campaigns",
        DG_WRITERS,
        body={"city_code": "4419", "period": "2020", "budget": "1000000.00", "deadline": "2020-06-30"},
    ),
    c("draw again", "POST", "/api/campaigns/{dg_campaign}/draws", DG_WRITERS, body={"count": 1}),
    c("Dongguan draw", "GET", "/api/draws/{dg_draw}", SEES_DG_CITY),
    c("publish again", "POST", "/api/draws/{dg_draw}/publish", DG_WRITERS, body={}),
    c("redo the draw", "GET", "/api/draws/{dg_draw}/verify", SEES_DG_CITY),
    c(
        "export the sample",
        "GET",
        "/api/draws/{dg_draw}/export.csv",
        {"admin", "dg_coord", "auditor", "dg_auditor"},
    ),
    c("import", "POST", "/api/imports", {"admin", "dg_coord", "fs_coord"}, body={}),
    c("sessions list", "GET", "/api/sessions", EVERYONE),
    c("Dongguan session", "GET", "/api/sessions/{dg_session}", SEES_DG_PROJECT),
    c(
        "invite a guest",
        "POST",
        "/api/sessions/{dg_session}/guests",
        DG_WRITERS,
        body={"kind": "observer", "name": "张三", "organisation": "东莞市工信局"},
    ),
    c(
        "show a guest's link (audited)",
        "POST",
        "/api/sessions/{dg_session}/guests/{dg_guest}/link",
        DG_WRITERS,
        body={},
    ),
    c(
        "experts",
        "GET",
        "/api/experts",
        {"admin", "dg_coord", "fs_coord", "auditor", "dg_auditor", "alliance"},
    ),
    c("Dongguan session's replay", "GET", "/api/sessions/{dg_session}/replay", SEES_DG_PROJECT),
    c("render the replay again", "POST", "/api/sessions/{dg_session}/replay", DG_WRITERS, body={}),
    c("home page", "GET", "/", EVERYONE, page=True),
    c("projects page", "GET", "/projects", EVERYONE, page=True),
    c("Dongguan project page", "GET", "/projects/{dg_project}", SEES_DG_PROJECT, page=True),
    c("campaigns page", "GET", "/campaigns", CAMPAIGN_READERS, page=True),
    c("Dongguan campaign page", "GET", "/campaigns/{dg_campaign}", SEES_DG_CITY, page=True),
    c("Dongguan draw page", "GET", "/draws/{dg_draw}", SEES_DG_CITY, page=True),
    c("sessions page", "GET", "/sessions", EVERYONE, page=True),
    c("Dongguan session page", "GET", "/sessions/{dg_session}", SEES_DG_PROJECT, page=True),
    # The replay (recording.read, then the session's scope); without a recording the package and
    # the verification answer 409, past the door.
    c("Dongguan replay page", "GET", "/sessions/{dg_session}/replay", REPLAYS, page=True),
    c("Dongguan evidence package", "GET", "/sessions/{dg_session}/replay/evidence.zip", REPLAYS, page=True),
    c(
        "verify the Dongguan recording",
        "POST",
        "/sessions/{dg_session}/replay/verify",
        REPLAYS,
        body={},
        page=True,
    ),
    c("booking page", "GET", "/sessions/new", {"admin", "dg_coord", "fs_coord", "alliance"}, page=True),
    c("audit page", "GET", "/audit", {"admin", "auditor", "dg_auditor"}, page=True),
    c("users page", "GET", "/users", {"admin"}, page=True),
    c("import page", "GET", "/imports", {"admin", "dg_coord", "fs_coord"}, page=True),
    # Cancelled and rebooked with another panel: the old panel's expert sees the cancelled session
    # only; nothing of the project after it (issue 9, item 3).
    c("rebooked session", "GET", "/api/sessions/{dg_rebooked}", SEES_REBOOKED),
    c("rebooked session page", "GET", "/sessions/{dg_rebooked}", SEES_REBOOKED, page=True),
    c("rebooked session's marks", "GET", "/api/sessions/{dg_rebooked}/marks", SEES_REBOOKED),
    c("rebooked session's replay", "GET", "/api/sessions/{dg_rebooked}/replay", SEES_REBOOKED),
    c("rebooked project", "GET", "/api/projects/{dg_rebooked_project}", SEES_REBOOKED),
    c("rebooked project page", "GET", "/projects/{dg_rebooked_project}", SEES_REBOOKED, page=True),
    c("rebooked project's checklist", "GET", "/api/projects/{dg_rebooked_project}/checklist", SEES_REBOOKED),
    c(
        "mark the rebooked project's checklist",
        "PATCH",
        "/api/projects/{dg_rebooked_project}/checklist/R1",
        {"admin", "expert_on"},
        body={"result": "pass", "notes": ""},
    ),
    c(
        "connectivity result for the rebooked session",
        "POST",
        "/sessions/{dg_rebooked}/check/result",
        SEES_REBOOKED,
        body=MEASURED,
        page=True,
    ),
    c("rebooked session's room", "GET", "/sessions/{dg_rebooked}/room", SEES_REBOOKED, page=True),
    c("cancelled session", "GET", "/api/sessions/{dg_cancelled}", SEES_CANCELLED),
    c("cancelled session page", "GET", "/sessions/{dg_cancelled}", SEES_CANCELLED, page=True),
    # Schedules (issue 11): a city's week is the city's; a supplier's commitments for staff (others'
    # checks as busy blocks); an expert's own schedule for experts; holding a time like booking.
    c("Dongguan calendar", "GET", "/calendar?city=4419&week=2020-04-20", SEES_DG_CITY, page=True),
    c(
        "supplier's schedule",
        "GET",
        "/suppliers/{dg_supplier}/schedule?week=2020-04-20",
        {"admin", "dg_coord", "fs_coord", "auditor", "dg_auditor", "alliance"},
        page=True,
    ),
    c("my schedule", "GET", "/me/schedule", {"expert_on", "expert_off", "expert_was"}, page=True),
    c(
        "hold a time",
        "POST",
        "/api/holds",
        DG_WRITERS,
        body=lambda w: {
            "project_id": w.dg_project,
            "starts_at": "2020-04-22T10:00:00+08:00",
            "ends_at": "2020-04-22T11:00:00+08:00",
            "panel": [1, 2, 3],
        },
    ),
    # A city's availability (issue 11): its coordinators and the province.
    c("Dongguan availability", "GET", "/api/cities/4419/availability", DG_WRITERS),
    c("Dongguan availability page", "GET", "/cities/4419/availability", DG_WRITERS, page=True),
    c("close a Dongguan day", "POST", "/api/cities/4419/closed-days", DG_WRITERS, body={"day": "2020-05-04"}),
    c("planning page", "GET", "/plans", PLAN_WRITERS, page=True),
    c("propose a plan", "POST", "/api/plans", PLAN_WRITERS, body={"seconds": 0.2}),
    c("money index", "GET", "/funding", PLANNERS, page=True),
    c("Dongguan money page", "GET", "/funding/4419", SEES_DG_CITY, page=True),
    c("Dongguan periods", "GET", "/api/funding/cities/4419/periods", SEES_DG_CITY),
    c("Dongguan deadline", "GET", "/api/funding/cities/4419/deadline", SEES_DG_CITY),
    c(
        "open a Dongguan settlement period",
        "POST",
        "/api/funding/periods",
        DG_WRITERS,
        body={"city_code": "4419", "name": "P1", "budget": "1000.00"},
    ),
    # Verdicts (issue 12): read by whoever sees the project; opinions and suggestions by its panel's
    # experts, confirmation by its city's coordinator (the admin gets past the door: the project
    # has no held session, so the domain answers 409).
    c("Dongguan verdict", "GET", "/api/projects/{dg_project}/verdict", SEES_DG_PROJECT),
    c("verdicts list", "GET", "/verdicts", EVERYONE, page=True),
    c("verdict page", "GET", "/projects/{dg_project}/verdict", SEES_DG_PROJECT, page=True),
    c("conclusion form", "GET", "/projects/{dg_project}/conclusion", SEES_DG_PROJECT, page=True),
    c("conclusion PDF", "GET", "/projects/{dg_project}/conclusion.pdf", SEES_DG_PROJECT, page=True),
    c(
        "give opinions",
        "POST",
        "/api/projects/{dg_project}/verdict/opinions",
        {"admin", "expert_on"},
        body={"opinions": [{"standard": "finance", "passed": True}]},
    ),
    c(
        "propose a conclusion",
        "POST",
        "/api/projects/{dg_project}/verdict/proposal",
        {"admin", "expert_on"},
        body={"outcome": "qualified"},
    ),
    c("confirm a conclusion", "POST", "/api/projects/{dg_project}/verdict/confirm", DG_WRITERS),
    c(
        "return a conclusion",
        "POST",
        "/api/projects/{dg_project}/verdict/return",
        DG_WRITERS,
        body={"note": "x"},
    ),
    c("conclude a no-show", "POST", "/api/sessions/{dg_session}/no-show-verdict", DG_WRITERS, body={}),
    c(
        "suggest",
        "POST",
        "/api/projects/{dg_project}/suggestions",
        {"admin", "expert_on"},
        body={"topic": "policy", "text": "x"},
    ),
    # Reports to the province and the dashboard (issue 12): cities file their own, the province reads.
    c("dashboard", "GET", "/dashboard", STAFF | {"alliance"}, page=True),
    c("reports page", "GET", "/reports", STAFF, page=True),
    c("dashboard API", "GET", "/api/dashboard", STAFF | {"alliance"}),
    c("filed reports API", "GET", "/api/reports/filings", STAFF),
    c("Dongguan plan preview", "GET", "/campaigns/{dg_campaign}/report/plan.xlsx", SEES_DG_CITY, page=True),
    c(
        "file the Dongguan plan",
        "POST",
        "/campaigns/{dg_campaign}/report",
        REPORT_FILERS,
        body={"kind": "plan"},
        page=True,
    ),
    # Last: it changes the session the cases above look at.
    c("cancel the Dongguan session", "POST", "/api/sessions/{dg_session}/cancel", DG_WRITERS, body={}),
]


async def build_world(server: WebServer) -> World:
    ids = {name: await server.add_user(name, role, city) for name, (role, city) in ROLES.items()}
    async with transaction(server.db.factory) as session:
        bundle = await factories.add_supplier(session)
        experts = [await factories.add_expert(session, name=f"专家{i}") for i in range(7)]
        from remote_check.accounts.models import User

        on = await session.get(User, ids["expert_on"])
        off = await session.get(User, ids["expert_off"])
        was = await session.get(User, ids["expert_was"])
        assert on is not None
        assert off is not None
        assert was is not None
        experts[0].user_id = on.id
        experts[3].user_id = was.id
        await factories.add_expert(session, off, name="不在专家组")
        for _ in range(3):
            await factories.add_project(session, bundle, city_code="4419")
        cluster = await factories.add_project(session, bundle, city_code="4406")
        cluster.is_cluster = True
        expert_ids = [e.id for e in experts[:3]]
        old_panel = [e.id for e in experts[3:6]]
        new_panel = [experts[0].id, experts[6].id, experts[2].id]
    admin = await server.signed_in("admin")
    campaign = await _ok(
        admin,
        "POST",
        "/api/campaigns",
        {"city_code": "4419", "period": "2019", "budget": "500000.00", "deadline": "2020-06-30"},
    )
    draw = (
        await _ok(admin, "POST", f"/api/campaigns/{campaign['id']}/draws", {"count": 2, "seed": "matrix"})
    )["draw"]
    await _ok(admin, "POST", f"/api/draws/{draw['id']}/publish", {})
    async with server.db.factory() as session:
        from sqlalchemy import select

        sampled = (
            await session.scalars(
                select(VoucherProject.id).where(
                    VoucherProject.city_code == "4419", VoucherProject.status == "sampled"
                )
            )
        ).all()
    assert len(sampled) >= 2
    start = dt.datetime(2020, 4, 20, 10, 0, tzinfo=SHANGHAI)
    booked = await _ok(
        admin,
        "POST",
        "/api/sessions",
        {
            "project_id": sampled[0],
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(minutes=45)).isoformat(),
            "panel": expert_ids,
        },
    )
    guest = await _ok(
        admin,
        "POST",
        f"/api/sessions/{booked['id']}/guests",
        {"kind": "enterprise", "name": "陈经理"},
    )
    later = dt.datetime(2020, 4, 21, 10, 0, tzinfo=SHANGHAI)
    times = {"starts_at": later.isoformat(), "ends_at": (later + dt.timedelta(minutes=45)).isoformat()}
    contact = {"kind": "enterprise", "name": "林经理", "email": "lin@example.cn", "phone": "13800000000"}
    cancelled = await _ok(
        admin, "POST", "/api/sessions", {"project_id": sampled[1], **times, "panel": old_panel}
    )
    await _ok(admin, "POST", f"/api/sessions/{cancelled['id']}/guests", contact)
    await _ok(admin, "POST", f"/api/sessions/{cancelled['id']}/cancel", {"reason": "企业改期"})
    rebooked = await _ok(
        admin, "POST", "/api/sessions", {"project_id": sampled[1], **times, "panel": new_panel}
    )
    await _ok(admin, "POST", f"/api/sessions/{rebooked['id']}/guests", contact)
    return World(
        sampled[0],
        cluster.id,
        campaign["id"],
        draw["id"],
        booked["id"],
        guest["id"],
        sampled[1],
        cancelled["id"],
        rebooked["id"],
        bundle.supplier.id,
    )


async def _ok(browser: Browser, method: str, path: str, body: Any) -> Any:
    response = await browser.request(method, path, json=body)
    assert response.status < 300, f"{method} {path}: {response.status} {await response.text()}"
    return await response.json()


def _refused(case: Case, status: int, location: str) -> bool:
    if case.page and status == 303:
        return location.startswith("/login")
    return status in (401, 403, 404)


@pytest.mark.parametrize("who", [*ROLES, "anonymous"])
async def test_access_matrix(server: WebServer, who: str) -> None:
    world = await build_world(server)
    browser = server.browser() if who == "anonymous" else await server.signed_in(who)
    wrong = []
    for case in CASES:
        body = case.body(world) if case.body else None
        response = await browser.request(case.method, case.path(world), json=body)
        refused = _refused(case, response.status, response.headers.get("Location", ""))
        expected_allowed = who in case.allowed
        if refused == expected_allowed:
            wrong.append(
                f"{case.name}: {case.method} {case.path(world)} -> {response.status} "
                f"(expected {'allowed' if expected_allowed else 'refused'})"
            )
        assert response.status < 500, f"{case.name}: {response.status} {await response.text()}"
    assert wrong == []
