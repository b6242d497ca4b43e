"""Every time in an API answer has one form, ISO 8601 with the +08:00 offset of China Standard Time
(never ``Z``); every amount on a page reads ``¥3,000,000.00``."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from remote_check.accounts.models import Role
from remote_check.money import format_money
from tests.rooms.test_connectivity import invite
from tests.web_helpers import WebServer

ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def times_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if ISO_TIME.match(value) else []
    if isinstance(value, list):
        return [t for item in value for t in times_in(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in times_in(item)]
    return []


async def test_every_time_the_api_answers_with_is_in_china_standard_time(server: WebServer) -> None:
    invited = await invite(server)  # a session booked, a guest invited: times in UTC in the database
    coordinator = invited.coordinator
    made = await coordinator.post(
        "/api/campaigns",
        json={"city_code": "4401", "period": "2020", "budget": "3000000", "deadline": "2020-06-30"},
    )
    assert made.status == 201
    found: list[str] = times_in(await made.json())
    for path in (
        "/api/sessions",
        f"/api/sessions/{invited.session_id}",
        "/api/campaigns",
        "/api/projects",
    ):
        response = await coordinator.get(path)
        assert response.status == 200, path
        found += times_in(await response.json())
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    admin = await server.signed_in("admin")
    found += times_in(await (await admin.get("/api/audit")).json())
    assert len(found) > 10
    assert [t for t in found if not t.endswith("+08:00")] == []


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("3000000"), "¥3,000,000.00"),
        (Decimal("903000.005"), "¥903,000.01"),
        (Decimal("0"), "¥0.00"),
        (Decimal("-12.5"), "-¥12.50"),
        (None, ""),
    ],
)
def test_money_reads_the_same_everywhere(amount: Decimal | None, shown: str) -> None:
    assert format_money(amount) == shown


async def test_pages_show_amounts_with_the_money_filter(server: WebServer) -> None:
    invited = await invite(server)
    coordinator = invited.coordinator
    made = await coordinator.post(
        "/api/campaigns",
        json={"city_code": "4401", "period": "2020", "budget": "3000000", "deadline": "2020-06-30"},
    )
    campaign = (await made.json())["id"]
    for path in ("/campaigns", f"/campaigns/{campaign}"):
        html = await (await coordinator.get(path)).text()
        assert "¥3,000,000.00" in html, path
        assert "3000000.00" not in html, path
    projects = await (await coordinator.get("/projects")).text()
    amounts = re.findall(r'<td class="num">([^<]*)</td>', projects)
    assert amounts
    assert all(re.fullmatch(r"¥\d{1,3}(,\d{3})*\.\d{2}", a) for a in amounts), amounts
