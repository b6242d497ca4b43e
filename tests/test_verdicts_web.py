"""The verdict over HTTP on the real app (SQLite and PostgreSQL): the JSON API, the pages' forms,
refusals in the user's language that change nothing, and the conclusion form as a page and a PDF."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus
from tests.scheduling_factories import project_status
from tests.verdict_world import PROJECT_NAME, VerdictWorld, verdict_world
from tests.web_helpers import Browser, WebServer, csrf_from_html

ALL_PASS: list[dict[str, Any]] = [
    {"standard": s, "passed": True, "reasons": ""} for s in ("implementation", "finance", "function")
]


async def _world(server: WebServer) -> VerdictWorld:
    async with transaction(server.db.factory) as session:
        return await verdict_world(session)


async def test_the_api_walks_opinions_proposal_and_confirmation(server: WebServer) -> None:
    w = await _world(server)
    url = f"/api/projects/{w.project_id}/verdict"
    experts = [await server.signed_in(f"expert{n}") for n in (1, 2, 3)]
    bad = await experts[1].post(
        url + "/opinions?lang=en",
        json={"opinions": [{"standard": "finance", "passed": False, "reasons": ""}]},
    )
    assert bad.status == 422
    assert "reasons" in (await bad.json())["error"]["message"]
    for b in experts:
        answer = await b.post(url + "/opinions", json={"opinions": ALL_PASS})
        assert answer.status == 200, await answer.text()
    member = await experts[1].post(url + "/proposal", json={"outcome": "qualified"})
    assert member.status == 403
    proposed = await experts[0].post(url + "/proposal", json={"outcome": "qualified", "reasons": "均通过"})
    assert proposed.status == 200, await proposed.text()
    body = await proposed.json()
    assert body["verdict"]["state"] == "proposed"
    assert [t["passes"] for t in body["tallies"]] == [3, 3, 3]
    assert body["checklist"][0]["moments"] == [192.0]

    foshan = await server.signed_in("fs.coord")
    assert f'data-project="{w.project_id}"' not in await (await foshan.get("/verdicts")).text()
    coordinator = await server.signed_in("gz.coord")
    listed = await (await coordinator.get("/verdicts")).text()
    assert f'data-state="proposed" data-project="{w.project_id}"' in listed  # the coordinator's to-do, first
    assert (await foshan.post(url + "/confirm")).status == 404  # another city: as if absent
    assert (await foshan.get(url)).status == 404
    expert_confirms = await experts[0].post(url + "/confirm")
    assert expert_confirms.status == 403
    confirmed = await coordinator.post(url + "/confirm")
    assert confirmed.status == 200, await confirmed.text()
    assert (await confirmed.json())["project_status"] == "qualified"
    assert await project_status(server.db.factory, w.project_id) == ProjectStatus.QUALIFIED
    again = await coordinator.post(url + "/confirm")
    assert again.status == 409
    assert "没有待确认的结论" in (await again.json())["error"]["message"]


async def test_a_no_show_and_suggestions_through_the_api(server: WebServer) -> None:
    w = await _world(server)
    coordinator = await server.signed_in("gz.coord")
    answer = await coordinator.post(f"/api/sessions/{w.no_show_session_id}/no-show-verdict", json={})
    assert answer.status == 200, await answer.text()
    assert (await answer.json())["verdict"]["no_show"] is True
    assert await project_status(server.db.factory, w.no_show_project_id) == ProjectStatus.UNQUALIFIED
    expert = await server.signed_in("expert2")
    empty = await expert.post(
        f"/api/projects/{w.project_id}/suggestions", json={"topic": "problem", "text": ""}
    )
    assert empty.status == 422
    added = await expert.post(
        f"/api/projects/{w.project_id}/suggestions", json={"topic": "problem", "text": "企业财务人员未到场"}
    )
    assert added.status == 201
    page = await coordinator.get(f"/projects/{w.project_id}")
    html = await page.text()
    assert 'id="problems"' in html
    assert "企业财务人员未到场" in html


async def _form_post(browser: Browser, path: str, data: dict[str, str]) -> Any:
    page = await browser.get(path.rsplit("/", 1)[0] if path.endswith(("/opinions", "/proposal")) else path)
    csrf = csrf_from_html(await page.text()) or browser.csrf
    return await browser.post(path, data={**data, "csrf_token": csrf})


async def test_the_pages_forms_and_the_conclusion_form(server: WebServer) -> None:
    w = await _world(server)
    page = f"/projects/{w.project_id}/verdict"
    for n in (1, 2, 3):
        b = await server.signed_in(f"expert{n}")
        form = {f"passed-{s}": "yes" for s in ("implementation", "finance", "function")}
        if n == 3:
            form["passed-finance"] = "no"
        refused = await _form_post(b, page + "/opinions", form)
        if n == 3:  # a fail without reasons: the page again, with the reason, nothing saved
            assert refused.status == 422
            assert "理由" in await refused.text()
            form["reasons-finance"] = "付款凭证缺失"
            refused = await _form_post(b, page + "/opinions", form)
        assert refused.status == 303
    lead = await server.signed_in("expert1")
    shown = await (await lead.get(page)).text()
    assert '<span class="moment">03:12</span>' in shown  # experts do not replay: the time, no link
    english = await (await lead.get(page + "?lang=en")).text()
    assert "The lead&#39;s proposal" in english or "The lead's proposal" in english
    assert 'id="proposal-form"' in shown
    assert "付款凭证缺失" in shown
    proposed = await _form_post(
        lead, page + "/proposal", {"outcome": "qualified", "violation": "", "reasons": ""}
    )
    assert proposed.status == 303
    coordinator = await server.signed_in("gz.coord")
    html = await (await coordinator.get(page + "?lang=zh")).text()
    assert 'id="confirm"' in html
    assert f'href="/sessions/{w.session_id}/replay?t=192"' in html
    assert (await _form_post(coordinator, page + "/confirm", {})).status == 303
    assert await project_status(server.db.factory, w.project_id) == ProjectStatus.QUALIFIED

    printed = await coordinator.get(f"/projects/{w.project_id}/conclusion")
    text = await printed.text()
    assert printed.status == 200
    assert PROJECT_NAME in text
    assert "/static/verdicts/form.css" in text
    assert "@media print" in await (await coordinator.get("/static/verdicts/form.css")).text()
    assert f"/sessions/{w.session_id}/replay?t=192" in text
    assert "无" in text  # B1 and C1 have no moment
    pdf = await coordinator.get(f"/projects/{w.project_id}/conclusion.pdf")
    assert pdf.status == 200
    assert pdf.content_type == "application/pdf"
    extracted = "".join(p.extract_text() for p in PdfReader(io.BytesIO(await pdf.read())).pages)
    assert PROJECT_NAME in extracted
    assert "合格" in extracted
    foshan = await server.signed_in("fs.coord")
    assert (await foshan.get(f"/projects/{w.project_id}/conclusion.pdf")).status == 404


async def test_the_coordinator_concludes_a_no_show_from_the_session_page(server: WebServer) -> None:
    w = await _world(server)
    coordinator = await server.signed_in("gz.coord")
    session_page = await (await coordinator.get(f"/sessions/{w.no_show_session_id}")).text()
    assert f'href="/projects/{w.no_show_project_id}/verdict" id="verdict-link"' in session_page
    page = f"/projects/{w.no_show_project_id}/verdict"
    shown = await (await coordinator.get(page)).text()
    assert 'id="no-show-form"' in shown
    assert 'id="opinion-form"' not in shown
    done = await _form_post(coordinator, page + "/no-show", {"note": "企业联系人未进入会议室"})
    assert done.status == 303
    assert await project_status(server.db.factory, w.no_show_project_id) == ProjectStatus.UNQUALIFIED
    again = await _form_post(coordinator, page + "/no-show?lang=en", {"note": ""})
    assert again.status == 409
    assert "already has a conclusion" in await again.text()
    text = await (await coordinator.get(page)).text()
    assert "按照抽查不通过处理" in text
    assert 'data-outcome="unqualified"' in text
