"""Pages' forms and list parameters meet out-of-range input with a 4xx in the user's language.

The pages check their forms with the API's request models, so an amount with three decimals,
a field longer than its column or a page number beyond 64 bits is refused before the database
sees it, and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from remote_check.accounts.models import Role, User
from remote_check.audit.service import Actor
from remote_check.campaigns import service
from remote_check.campaigns.models import Campaign, Draw
from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.errors import DomainError
from tests.conftest import Database
from tests.web_helpers import PASSWORD, Browser, WebServer

CAMPAIGN = {"city_code": "4419", "period": "2019", "budget": "800000.00", "deadline": "2020-06-30"}
HUGE = "99999999999999999999"


async def _count(server: WebServer, table: type[Campaign] | type[User] | type[Draw]) -> int:
    async with server.db.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def _admin(server: WebServer) -> Browser:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    return await server.signed_in("admin")


async def test_campaign_form_refuses_what_the_api_refuses(server: WebServer) -> None:
    admin = await _admin(server)
    cases = {
        "budget": ["1.005", "1e30", "lots", "-1"],
        "period": ["2" * 33],
        "title": ["标" * 201],
        "deadline": ["30/06/2020"],
    }
    for field, values in cases.items():
        for value in values:
            refused = await admin.post(
                "/campaigns", data={**CAMPAIGN, field: value, "csrf_token": admin.csrf}
            )
            assert refused.status == 422, (field, value, await refused.text())
    zh = await (
        await admin.post("/campaigns", data={**CAMPAIGN, "budget": "lots", "csrf_token": admin.csrf})
    ).text()
    assert "预算应为数字" in zh
    en = await admin.post(
        "/campaigns?lang=en", data={**CAMPAIGN, "period": "2" * 33, "csrf_token": admin.csrf}
    )
    assert "Period is too long" in await en.text()
    assert 'value="800000.00"' in await en.text()  # the form keeps what was typed
    assert await _count(server, Campaign) == 0


async def test_draw_form_refuses_what_the_api_refuses(server: WebServer) -> None:
    admin = await _admin(server)
    made = await admin.post("/campaigns", data={**CAMPAIGN, "csrf_token": admin.csrf})
    assert made.status == 303
    url = made.headers["Location"] + "/draws"
    for form in (
        {"mode": "ratio", "ratio": "1.5"},
        {"mode": "ratio", "ratio": "0.00001"},
        {"mode": "count", "count": HUGE},
        {"mode": "count", "count": "0"},
        {"mode": "ratio", "seed": "a b"},
    ):
        refused = await admin.post(url + "?lang=en", data={**form, "csrf_token": admin.csrf})
        assert refused.status == 422, (form, await refused.text())
    html = await (
        await admin.post(url + "?lang=zh", data={"mode": "ratio", "ratio": "1.5", "csrf_token": admin.csrf})
    ).text()
    assert "抽取比例数值太大" in html
    assert await _count(server, Draw) == 0


async def test_user_form_refuses_fields_longer_than_their_columns(server: WebServer) -> None:
    admin = await _admin(server)
    base = {
        "username": "zs.coord",
        "display_name": "中山协调员",
        "role": "city_coordinator",
        "city_code": "4420",
        "organisation": "",
        "email": "",
        "password": PASSWORD,
        "csrf_token": admin.csrf,
    }
    for field, length in (("display_name", 101), ("organisation", 201), ("email", 201)):
        refused = await admin.post("/users?lang=en", data={**base, field: "x" * length})
        assert refused.status == 422, (field, await refused.text())
        assert "is too long" in await refused.text()
    zh = await (await admin.post("/users?lang=zh", data={**base, "role": ""})).text()
    assert "角色不是允许的取值" in zh
    api = await admin.post("/api/users", json={**base, "organisation": "x" * 201, "csrf_token": None})
    assert api.status == 422
    assert await _count(server, User) == 1  # the administrator alone


async def test_a_page_number_beyond_the_last_possible_is_a_422(server: WebServer) -> None:
    admin = await _admin(server)
    for path in ("/api/projects", "/api/audit", "/api/sessions", "/projects", "/audit", "/sessions"):
        for page in (HUGE, "10001"):
            response = await admin.get(f"{path}?page={page}&lang=en")
            assert response.status == 422, (path, await response.text())
            assert "page" in await response.text()
        assert (await admin.get(f"{path}?page=10000")).status == 200, path


async def test_the_service_refuses_campaign_fields_it_cannot_store(db: Database, clock: FixedClock) -> None:
    async def create(period: str = "2019", title: str = "", budget: str = "1.00") -> None:
        async with transaction(db.factory) as session:
            await service.create_campaign(
                session,
                service.NewCampaign("4419", period, Decimal(budget), dt.date(2020, 6, 30), title),
                actor=Actor.cli(),
                now=clock.now(),
                created_by=None,
            )

    for kwargs in (
        {"period": "2" * 33},
        {"title": "x" * 201},
        {"budget": "1.005"},
        {"budget": "1e30"},
        {"budget": "NaN"},
        {"budget": "-1"},
    ):
        with pytest.raises(DomainError) as refused:
            await create(**kwargs)
        assert refused.value.status == 422, kwargs
        assert refused.value.details[0]["field"] in kwargs
    await create(period=" " + "2" * 32 + " ", title="x" * 200, budget="999999999999.99")
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Campaign)) == 1
