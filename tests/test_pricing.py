"""One rule for ratios of amounts: shown rounded once (4 decimals, half up), decided exactly.

The project API and page, a draw's recorded facts and the checklist's guidance show the same
figure for the same project.
"""

from __future__ import annotations

import html as htmllib
from decimal import Decimal

from remote_check.accounts.models import Role
from remote_check.database import transaction
from remote_check.programme.pricing import above, below, percent, ratio
from tests.factories import add_project, add_supplier, publish_sample
from tests.web_helpers import WebServer


def test_a_ratio_is_rounded_once_half_up_to_four_decimals() -> None:
    assert ratio(Decimal("160000.00"), Decimal("100000.00")) == Decimal("1.6000")
    assert ratio(Decimal("1.00005"), Decimal(1)) == Decimal("1.0001")  # half up, not half even
    assert ratio(Decimal("2.00025"), Decimal(1)) == Decimal("2.0003")
    assert ratio(Decimal(1), Decimal(0)) is None
    assert ratio(Decimal(1), Decimal(-1)) is None
    assert percent(Decimal("0.8999")) == Decimal("89.99")
    assert str(percent(Decimal("0.9000"))) == "90.00"


def test_decisions_compare_the_amounts_not_the_shown_ratio() -> None:
    contract, listed = Decimal("150000.01"), Decimal("100000.00")
    assert ratio(contract, listed) == Decimal("1.5000")
    assert above(contract, listed, Decimal("1.5"))
    assert not above(contract, Decimal(0), Decimal("1.5"))
    paid = Decimal("134999.99")
    assert ratio(paid, Decimal("150000.00")) == Decimal("0.9000")
    assert below(paid, Decimal("150000.00"), Decimal("0.90"))


async def test_the_api_the_page_the_draw_and_the_checklist_show_the_same_figures(server: WebServer) -> None:
    now = server.clock.now()
    async with transaction(server.db.factory) as session:
        supplier = await add_supplier(session, listed_price=Decimal("100000.00"))
        project = await add_project(
            session, supplier, contract=Decimal("150000.01"), paid=Decimal("135000.00")
        )
        draw = await publish_sample(session, "4419", "ratios", now=now)
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    admin = await server.signed_in("admin")

    detail = await (await admin.get(f"/api/projects/{project.id}")).json()
    assert (detail["price_ratio"], detail["paid_ratio"]) == ("1.5000", "0.9000")
    assert detail["over_listed_price"] is True  # 150000.01 > 1.5 x 100000.00, though shown as 1.5000
    assert detail["paid_below_minimum"] is True  # 135000.00 < 0.90 x 150000.01, though shown as 0.9000

    drawn = (await (await admin.get(f"/api/draws/{draw.id}")).json())["entries"]
    assert [(e["facts"]["ratio_to_listed"], e["facts"]["paid_ratio"]) for e in drawn] == [
        ("1.5000", "0.9000")
    ]
    assert {"price_over_listed", "underpaid"} <= set(drawn[0]["reasons"])

    items = (await (await admin.get(f"/api/projects/{project.id}/checklist")).json())["items"]
    guidance = {i["code"]: i["guidance_zh"] for i in items}
    assert "合同价/定价 = 1.5000，超过 1.5 倍" in guidance["F2"]
    assert "占合同金额 90.00%" in guidance["F3"]

    page = htmllib.unescape(await (await admin.get(f"/projects/{project.id}?lang=zh")).text())
    assert "为收费标准的 1.5000 倍" in page
    assert "90.00%" in page
