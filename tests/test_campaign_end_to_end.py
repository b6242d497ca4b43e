"""One campaign, end to end, through the real HTTP app on SQLite and PostgreSQL (issue 12's "done
when"): Dongguan imports and draws its sample, plans and holds its checks, the panels give their
verdicts (qualified, unqualified, violation, no-show); the violation's cascade reaches the supplier's
project in Foshan, which Foshan's planner books; the results are published; the parties object through
the links they were sent: the unqualified verdict is overturned (qualified), the violation upheld (its
bars stand); the money is allocated with a budget too small for both qualified projects, both reports
are filed, and the province's dashboard shows it all. (Overturning a violation, which withdraws its
re-checks not yet held, is tested in tests/test_objections.py and tests/test_results_web.py.)"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from remote_check.outcomes.sanction_models import Notice
from tests.campaign_walk import (
    actions,
    at,
    draw_and_publish,
    give_verdict,
    hold_call,
    import_rows,
    in_order,
    object_through,
    ok,
    people,
    plan_and_apply,
    project_row,
    sessions_by_code,
    sign_in,
    travel,
    user_id,
)
from tests.factories import credit_code
from tests.web_helpers import WebServer

VIOLATOR = ("违规云科技有限公司", credit_code("440100"))
HONEST = ("守规云科技有限公司", credit_code("440100"))
OTHER = ("粤信通信息服务有限公司", credit_code("440100"))


async def test_one_campaign_from_the_import_to_the_province_dashboard(server: WebServer) -> None:
    walk = await people(server)
    dg, fs = walk.coordinators["4419"], walk.coordinators["4406"]

    # 1. import: each city's coordinator uploads its file (Foshan's violator project comes later)
    dongguan = [
        project_row("DG-Q", "4419", "东莞合格制造有限公司", HONEST),
        project_row("DG-U", "4419", "东莞不合格制造有限公司", HONEST, is_key_project="是"),
        project_row("DG-V", "4419", "东莞违规制造有限公司", VIOLATOR),
        project_row("DG-N", "4419", "东莞缺席制造有限公司", OTHER),
    ]
    summary = await import_rows(dg, dongguan, "东莞2019.csv")
    assert (summary["rows"], summary["created"], summary["skipped"]) == (4, 4, 0)
    assert (await import_rows(fs, [project_row("FS-1", "4406", "佛山美厨电器有限公司", OTHER)], "佛山.csv"))[
        "created"
    ] == 1

    # 2. draw: both cities publish their sample; Foshan's violator project arrives after its draw
    dg_campaign, dg_draw, drawn = await draw_and_publish(dg, "4419", 4, "dg-e2e")
    assert sorted(drawn) == ["DG-N", "DG-Q", "DG-U", "DG-V"]
    assert (await ok(await dg.get(f"/api/draws/{dg_draw}/verify")))["matches"] is True
    _, fs_draw, fs_drawn = await draw_and_publish(fs, "4406", 1, "fs-e2e")
    assert fs_drawn == ["FS-1"]
    late = await import_rows(
        fs, [project_row("FS-V", "4406", "佛山连带制造有限公司", VIOLATOR)], "佛山补录.csv"
    )
    assert late["created"] == 1

    # 3. plan: Dongguan's coordinator proposes and applies; four checks booked
    dg_id = await user_id(server, "dg.coord")
    planned = await plan_and_apply(server, dg, dg_id)
    assert (planned["proposal"]["to_place"], planned["proposal"]["placed"]) == (4, 4)
    checks = await sessions_by_code(dg)
    assert sorted(checks) == ["DG-N", "DG-Q", "DG-U", "DG-V"]
    assert {c["status"] for c in checks.values()} == {"booked"}
    assert "plan.apply" in await actions(server)

    # 4. calls: the host opens each room, the panel enters and marks the checklist, the host ends it
    for code in ("DG-Q", "DG-U", "DG-V"):
        await hold_call(server, walk, checks[code]["id"], fail=code != "DG-Q")
    no_show = checks["DG-N"]
    await travel(server, walk, at(no_show["starts_at"]) + dt.timedelta(minutes=20), dg)
    await ok(await dg.post(f"/api/sessions/{no_show['id']}/no-show", json={}))
    checks = await sessions_by_code(dg)
    assert {c: checks[c]["status"] for c in checks} == {
        "DG-Q": "done",
        "DG-U": "done",
        "DG-V": "done",
        "DG-N": "no_show",
    }

    # 5. verdicts: the panels' opinions, the leads' proposals, the coordinator's confirmations
    await travel(server, walk, max(at(c["ends_at"]) for c in checks.values()) + dt.timedelta(hours=2), dg, fs)
    ids = {code: c["project_id"] for code, c in checks.items()}
    qualified = await give_verdict(
        server, walk, ids["DG-Q"], checks["DG-Q"]["id"], "qualified", reasons="均通过"
    )
    assert qualified["project_status"] == "qualified"
    unqualified = await give_verdict(
        server, walk, ids["DG-U"], checks["DG-U"]["id"], "unqualified", reasons="财务不规范"
    )
    assert unqualified["project_status"] == "unqualified"
    violation = await give_verdict(
        server,
        walk,
        ids["DG-V"],
        checks["DG-V"]["id"],
        "violation",
        violation="price_inflated",
        reasons="合同价格明显高于市场价格",
    )
    assert violation["project_status"] == "violation"
    absent = await ok(
        await dg.post(f"/api/sessions/{no_show['id']}/no-show-verdict", json={"note": "企业未到场"})
    )
    assert absent["verdict"]["no_show"] is True

    # 6. the cascade: the violator's Foshan project is under re-check, in Foshan's sample, planned there
    bars = await ok(await dg.get("/api/bars"))
    assert sorted((b["party_kind"], b["ends_on"]) for b in bars["items"]) == [
        ("enterprise", "2025-04-12"),
        ("supplier", "2025-04-12"),
    ]
    barred = [project_row("FS-X", "4406", "佛山新申请制造有限公司", VIOLATOR)]
    refused = await import_rows(fs, barred, "佛山新批次.csv", status=422)  # checked at import
    assert {f["code"] for f in refused["error"]["fields"]} == {"supplier_delisted", "supplier_barred"}
    fs_sample = await ok(await fs.get(f"/api/draws/{fs_draw}"))
    added = {e["project_code"]: e for e in fs_sample["entries"]}
    assert added["FS-V"]["reasons"] == ["recheck"]
    assert added["FS-V"]["facts"]["source_project"] == "DG-V"
    async with server.db.factory() as session:
        told = (await session.scalars(select(Notice).where(Notice.kind == "recheck"))).all()
    [foshan_told] = told  # Foshan is told (it has no address on file yet: the gap shows)
    assert (foshan_told.recipient, foshan_told.status) == ("city:4406", "no_address")
    await travel(server, walk, server.clock.now() + dt.timedelta(minutes=30), dg, fs)  # Foshan reads it
    replanned = await plan_and_apply(server, fs, await user_id(server, "fs.coord"))
    assert (replanned["proposal"]["to_place"], replanned["proposal"]["placed"]) == (2, 2)
    fs_checks = await sessions_by_code(fs)
    assert fs_checks["FS-V"]["status"] == "booked"
    assert fs_checks["FS-V"]["city_code"] == "4406"
    booked_at = at(fs_checks["FS-V"]["starts_at"]).strftime("%Y-%m-%d %H:%M")
    assert f"FS-V（{booked_at}）" in foshan_told.body  # booked when the handover proposed
    assert "the project above is under re-check" in foshan_told.body
    assert "FS-V" not in await sessions_by_code(dg)  # Dongguan does not see Foshan's checks

    # 7. publication; the unqualified project's enterprise objects through its link; the coordinator
    #    overturns the verdict (qualified) and publishes the list as it now stands
    publication = await ok(await dg.post("/api/cities/4419/publications"), 201)
    assert {r["code"]: r["outcome"] for r in publication["rows"]} == {
        "DG-Q": "qualified",
        "DG-U": "unqualified",
        "DG-V": "violation",
        "DG-N": "unqualified",
    }
    async with server.db.factory() as session:
        notices = (
            await session.scalars(select(Notice).where(Notice.kind == "result").order_by(Notice.id))
        ).all()
    assert len(notices) == 8  # each project's enterprise and supplier, told (no address given: the gap shows)
    enterprise_objection = await object_through(
        server, notices, "DG-U", "enterprise", "发票金额与合同一致，附银行回单"
    )
    supplier_objection = await object_through(server, notices, "DG-V", "supplier", "价格合理，附同类合同")
    page = await (await dg.get(f"/results/{publication['id']}")).text()
    assert "发票金额与合同一致，附银行回单" in page
    assert "价格合理，附同类合同" in page
    decided = await ok(
        await dg.post(
            f"/api/objections/{enterprise_objection}/decision",
            json={"uphold": False, "reason": "银行回单证实付款，财务规范", "new_outcome": "qualified"},
        )
    )
    assert (decided["decision"], decided["new_outcome"]) == ("overturned", "qualified")
    upheld = await ok(
        await dg.post(
            f"/api/objections/{supplier_objection}/decision",
            json={"uphold": True, "reason": "同类合同价格远低于本合同"},
        )
    )
    assert (upheld["decision"], upheld["new_outcome"]) == ("upheld", None)
    verdict = await ok(await dg.get(f"/api/projects/{ids['DG-U']}/verdict"))
    assert verdict["project_status"] == "qualified"
    republished = await ok(await dg.post("/api/cities/4419/publications"), 201)  # the list as it stands
    assert {r["code"]: r["outcome"] for r in republished["rows"]}["DG-U"] == "qualified"
    assert len((await ok(await dg.get("/api/bars")))["items"]) == 2  # the violation's bars stand

    # 8. money: a budget for one voucher of 24,000: the key project first, the other carried over
    period = await ok(
        await dg.post(
            "/api/funding/periods",
            json={"city_code": "4419", "name": "2020年第一结算期", "budget": "30000.00"},
        ),
        201,
    )
    plan = await ok(await dg.post(f"/api/funding/periods/{period['id']}/plans", json={}), 201)
    assert [(line["project_code"], line["funded"], line["reason"]) for line in plan["lines"]] == [
        ("DG-U", "24000.00", "funded"),  # a key project (重点项目) comes first
        ("DG-Q", "0.00", "budget_exhausted"),
    ]  # never the unqualified, the no-show or the barred violation
    assert (plan["funded"], plan["carried_over"], plan["remaining"]) == ("24000.00", "24000.00", "6000.00")
    assert (await ok(await dg.post(f"/api/funding/plans/{plan['id']}/apply", json={})))["status"] == "applied"
    statuses = {
        c: (await ok(await dg.get(f"/api/projects/{i}/verdict")))["project_status"] for c, i in ids.items()
    }
    assert statuses == {"DG-Q": "carried_over", "DG-U": "funded", "DG-V": "violation", "DG-N": "unqualified"}

    # 9. both reports filed to the province
    for kind in ("plan", "results"):
        filed = await dg.post(f"/campaigns/{dg_campaign}/report", data={"kind": kind, "csrf_token": dg.csrf})
        assert filed.status == 303, await filed.text()
    admin = await sign_in(walk.admin, "admin")
    filings = (await ok(await admin.get("/api/reports/filings")))["items"]
    assert sorted((f["city_code"], f["kind"], f["current"]) for f in filings) == [
        ("4419", "plan", True),
        ("4419", "results", True),
    ]
    assert (await admin.get(filings[0]["pdf_url"])).status == 200

    # 10. the province's dashboard shows it all
    board = await ok(await admin.get("/api/dashboard"))
    cities = {c["city_code"]: c for c in board["cities"]}
    dongguan_row = cities["4419"]
    assert (dongguan_row["sampled"], dongguan_row["planned"], dongguan_row["checked"]) == (4, 4, 4)
    assert dongguan_row["outcomes"] == {
        "qualified": 2,
        "unqualified": 1,
        "violation": 1,
        "cancelled": 0,
        "pending": 0,
    }
    assert dongguan_row["money"] == {
        "budget": "30000.00",
        "allocated": "24000.00",
        "allocated_projects": 1,
        "carried_over": "24000.00",
        "carried_over_projects": 1,
    }
    assert (cities["4406"]["sampled"], cities["4406"]["planned"], cities["4406"]["outcomes"]["pending"]) == (
        2,
        2,
        2,
    )
    suppliers = {row["name"]: row for row in board["suppliers"]}
    violator = suppliers[VIOLATOR[0]]
    assert (violator["cities"], violator["outcomes"]["violation"], violator["under_recheck"]) == (2, 1, 1)
    assert (violator["listed"], violator["barred_until"]) == (False, "2025-04-12")
    assert suppliers[HONEST[0]]["outcomes"]["qualified"] == 2
    assert not {"4419", "4406"} & set(board["not_started"])

    # the audit log tells the same story, in order
    assert in_order(
        await actions(server),
        [
            "project.import",
            "draw.publish",
            "plan.apply",
            "session.start",
            "checklist.update",
            "session.complete",
            "session.no_show",
            "verdict.opinion",
            "verdict.propose",
            "verdict.confirm",
            "project.outcome",
            "cascade.apply",
            "verdict.no_show",
            "plan.apply",
            "results.publish",
            "objection.submit",
            "objection.submit",
            "objection.decide",
            "objection.decide",
            "results.publish",
            "allocation.compute",
            "allocation.apply",
            "report.file",
            "report.file",
        ],
    )
