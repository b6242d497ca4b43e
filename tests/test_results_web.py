"""The results and objection pages on the real server: a coordinator publishes, the city and the
province read the list and its files, another city does not; a party objects through its link (a
bad file is refused in its language); the coordinator overturns the violation."""

from __future__ import annotations

import io

from aiohttp import FormData
from openpyxl import load_workbook
from sqlalchemy import select

from remote_check.accounts.models import Role
from remote_check.audit.service import Actor
from remote_check.database import transaction
from remote_check.outcomes.cascade import apply_outcome
from remote_check.outcomes.kinds import Outcome
from remote_check.outcomes.sanction_models import Objection, PartyKind, Publication
from remote_check.programme.models import Supplier
from scheduler.objection_links import ObjectionLink, sign
from tests.sanction_world import NOW, build_world
from tests.scheduling_factories import add_principal
from tests.web_helpers import WebServer
from web.keys import SECRET

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _form(text: str, name: str, content: bytes) -> FormData:
    form = FormData()
    form.add_field("text", text)
    form.add_field("files", content, filename=name, content_type="application/pdf")
    return form


async def test_publish_read_object_and_overturn(server: WebServer) -> None:
    world = await build_world(server.db)
    async with transaction(server.db.factory) as s:
        await apply_outcome(s, Actor.of(world.coordinator), world.violator, Outcome.VIOLATION, at=NOW)
        await add_principal(s, "coord4403", Role.CITY_COORDINATOR, "4403")
    coordinator = await server.signed_in("coord4401")
    listing = await (await coordinator.get("/results")).text()
    assert "公布本市抽查结果" in listing
    published = await coordinator.post("/results", data={"csrf_token": coordinator.csrf})
    assert published.status == 303, await published.text()
    async with transaction(server.db.factory) as s:
        publication = await s.scalar(select(Publication))
        assert publication is not None
    listing = await (await coordinator.get("/results")).text()
    assert "服务券抽查结果" in listing  # the parties' notices, and what could not be sent
    assert "无收件地址" in listing
    page = await coordinator.get(f"/results/{publication.id}")
    html = await page.text()
    assert page.status == 200
    assert "违规云科技有限公司" in html
    assert "违规" in html
    workbook = await (await coordinator.get(f"/results/{publication.id}.xlsx")).read()
    assert load_workbook(io.BytesIO(workbook)).active is not None
    csv = await coordinator.get(f"/results/{publication.id}.csv")
    assert "违规制造有限公司" in (await csv.read()).decode("utf-8-sig")
    admin = await server.signed_in("admin")
    assert (await admin.get(f"/results/{publication.id}")).status == 200  # the province reads it
    other = await server.signed_in("coord4403")
    assert (await other.get(f"/results/{publication.id}")).status == 404  # another city does not
    assert (await other.get(f"/results/{publication.id}.csv")).status == 404
    assert (await server.browser().get(f"/results/{publication.id}")).status in (302, 303, 401)

    token = sign(
        ObjectionLink(publication.id, world.violator, PartyKind.SUPPLIER, publication.objections_until),
        server.test_server.app[SECRET],
    )
    guest = server.browser()
    form = await guest.get(f"/objections/4401/{token}")
    assert form.status == 200
    assert "提交异议" in await form.text()
    bad = await guest.post(f"/objections/4401/{token}", data=_form("异议", "合同.pdf", b"GIF89a not a pdf"))
    assert bad.status == 400
    assert "不是 PDF" in await bad.text()
    wrong_city = await guest.get(f"/objections/4403/{token}")
    assert wrong_city.status == 403
    done = await guest.post(f"/objections/4401/{token}", data=_form("价格合理，附同类合同", "合同.pdf", PDF))
    assert done.status == 200
    assert "异议已提交" in await done.text()
    async with transaction(server.db.factory) as s:
        objection = await s.scalar(select(Objection))
        assert objection is not None
    html = await (await coordinator.get(f"/results/{publication.id}")).text()
    assert "价格合理，附同类合同" in html
    assert "合同.pdf" in html
    decided = await coordinator.post(
        f"/objections/{objection.id}/decision",
        data={
            "csrf_token": coordinator.csrf,
            "decision": "overturn",
            "new_outcome": "qualified",
            "reason": "同类合同价格相符",
        },
    )
    assert decided.status == 303, await decided.text()
    async with transaction(server.db.factory) as s:
        supplier = await s.get(Supplier, world.supplier)
        assert supplier is not None
        assert supplier.listed
        assert supplier.barred_until is None
    assert "已撤销原结论" in await (await coordinator.get(f"/results/{publication.id}")).text()


async def test_the_api_publishes_reads_and_lists_the_bars(server: WebServer) -> None:
    world = await build_world(server.db)
    async with transaction(server.db.factory) as s:
        await apply_outcome(s, Actor.of(world.coordinator), world.violator, Outcome.VIOLATION, at=NOW)
        await add_principal(s, "coord4403", Role.CITY_COORDINATOR, "4403")
    coordinator = await server.signed_in("coord4401")
    other = await server.signed_in("coord4403")
    refused = await other.post("/api/cities/4401/publications")
    assert refused.status == 403
    created = await coordinator.post("/api/cities/4401/publications")
    assert created.status == 201, await created.text()
    body = await created.json()
    assert [r["outcome"] for r in body["rows"]] == ["violation"]
    assert body["objections_until"] == "2020-04-17"
    assert (await coordinator.get(f"/api/publications/{body['id']}")).status == 200
    assert (await other.get(f"/api/publications/{body['id']}")).status == 404
    bars = await (await coordinator.get("/api/bars")).json()
    assert sorted(b["party_kind"] for b in bars["items"]) == ["enterprise", "supplier"]
    assert {b["ends_on"] for b in bars["items"]} == {"2025-04-09"}
    register = await (await coordinator.get("/sanctions")).text()
    assert "违规云科技有限公司" in register
    assert "2025-04-09" in register
    missing = await coordinator.post("/api/objections/99/decision", json={"uphold": True, "reason": "x"})
    assert missing.status == 404
