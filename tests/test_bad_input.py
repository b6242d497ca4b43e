"""No request ever produces a 500: every API endpoint meets garbage with a clear 4xx."""

from __future__ import annotations

import pytest

from remote_check.accounts.models import Role
from tests.web_helpers import WebServer
from web.api.openapi import openapi_path
from web.keys import API

GARBAGE: list[tuple[str, bytes]] = [
    ("not json", b"{not json"),
    ("empty object", b"{}"),
    ("a list", b"[1, 2]"),
    (
        "wrong types",
        b'{"city_code": 4419, "ratio": "lots", "starts_at": "tomorrow", "panel": "x", "result": 7}',
    ),
    ("null", b"null"),
    ("deep", b"[" * 50 + b"]" * 50),
]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_endpoint_answers_garbage_with_a_4xx_in_the_users_language(
    sqlite_server: WebServer, lang: str
) -> None:
    server = sqlite_server
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await server.signed_in("admin")
    endpoints = server.test_server.app[API].endpoints
    assert len(endpoints) > 20
    for endpoint in endpoints:
        path, params = openapi_path(endpoint.path)
        for param in params:
            path = path.replace(
                "{" + param["name"] + "}", "999999" if param["schema"]["type"] == "integer" else "Z9"
            )
        for label, payload in GARBAGE:
            response = await browser.request(
                endpoint.method,
                f"{path}?lang={lang}&page=-1&page_size=abc",
                data=payload,
                headers={"Content-Type": "application/json"},
            )
            text = await response.text()
            assert response.status < 500, f"{endpoint.method} {path} with {label}: {response.status} {text}"
            if response.status >= 400:
                message = (await response.json())["error"]["message"]
                assert message
                has_chinese = any("\u4e00" <= ch <= "\u9fff" for ch in message)
                assert has_chinese == (lang == "zh"), f"{endpoint.method} {path} with {label}: {message}"


async def test_ids_beyond_the_databases_range_are_not_found(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await server.signed_in("admin")
    huge = "99999999999999999999"
    for path in (f"/api/projects/{huge}", f"/api/sessions/{huge}", f"/api/draws/{huge}", f"/projects/{huge}"):
        response = await browser.get(path)
        assert response.status == 404, path
    for query in (f"supplier_id={huge}", "supplier_id=-1"):
        response = await browser.get(f"/api/projects?{query}")
        assert response.status == 422, query
    refused = await browser.get(f"/api/experts?conflicts_with_project={huge}")
    assert refused.status == 422
