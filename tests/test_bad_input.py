"""No request ever produces a 500: every API endpoint meets garbage with a clear 4xx."""

from __future__ import annotations

import logging

import pytest

from remote_check.accounts.models import Role
from tests.web_helpers import Browser, WebServer
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


@pytest.fixture
async def admin(sqlite_server: WebServer) -> Browser:
    """The province administrator, signed in."""
    await sqlite_server.add_user("admin", Role.PROVINCE_ADMIN)
    return await sqlite_server.signed_in("admin")


BAD_PART_NAME = b'--XX\r\nContent-Disposition: form-data; name="a\x01b"\r\n\r\nv\r\n--XX--\r\n'


async def test_a_control_character_in_a_form_part_is_a_400_signed_in_or_not(
    sqlite_server: WebServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = sqlite_server
    await server.add_user("coord", Role.CITY_COORDINATOR, "4419")
    signed_in = await server.signed_in("coord")
    anonymous = server.browser()
    multipart = {"Content-Type": "multipart/form-data; boundary=XX"}
    with caplog.at_level(logging.ERROR):
        for browser, path in (
            (anonymous, "/login"),
            (signed_in, "/login"),
            (signed_in, "/imports"),
            (signed_in, "/api/imports"),
            (signed_in, "/api/imports?lang=en"),
        ):
            response = await browser.post(path, data=BAD_PART_NAME, headers=multipart)
            assert response.status == 400, f"{path}: {response.status}"
            if path.startswith("/api/"):
                error = (await response.json())["error"]
                assert error["code"] == "bad_form"
                assert ("malformed" in error["message"]) == path.endswith("lang=en")
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_deeply_nested_json_and_other_content_types_are_refused(admin: Browser) -> None:
    deep = await admin.post(
        "/api/campaigns?lang=en", data=b"[" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert deep.status == 400
    assert (await deep.json())["error"]["message"] == "The request body is nested too deeply"
    as_text = await admin.post(
        "/api/campaigns?lang=en",
        data=b'{"city_code": "4419"}',
        headers={"Content-Type": "text/plain"},
    )
    assert as_text.status == 415
    assert (await as_text.json())["error"]["code"] == "unsupported_media_type"
    # a test result posted by the connectivity page goes through the same reader
    check = await admin.post(
        "/sessions/1/check/result", data=b"[" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert check.status in (400, 404)


async def test_every_error_has_code_message_and_fields_and_405_says_what_is_allowed(admin: Browser) -> None:
    wrong_method = await admin.request("PUT", "/api/campaigns?lang=en")
    assert wrong_method.status == 405
    assert set(wrong_method.headers["Allow"].split(",")) == {"GET", "POST"}
    body = await wrong_method.json()
    assert body == {"error": {"code": "method_not_allowed", "message": "Method not allowed", "fields": []}}
    # a refusal naming a field without its own message gets the refusal's message
    no_file = await admin.post("/api/imports?lang=en", data={"other": "x"})
    assert no_file.status == 422
    [field] = (await no_file.json())["error"]["fields"]
    assert field == {"field": "file", "message": "Choose an XLSX or CSV file to upload"}


@pytest.mark.parametrize(
    "query",
    [
        "/api/projects?city=",
        "/api/projects?q=",
        "/api/projects?q=%20%20",
        "/api/sessions?date_to=0",
        "/api/sessions?date_from=99999",
        "/api/sessions?date_to=9999-12-31",
        "/api/sessions?date_from=",
        "/api/audit?since=0",
        "/api/audit?actor=",
        "/api/audit?until=9999-12-31T23:59:59%2B08:00",
    ],
)
async def test_empty_query_values_and_dates_out_of_range_are_refused(admin: Browser, query: str) -> None:
    response = await admin.get(query)
    assert response.status == 422, await response.text()
    [field] = (await response.json())["error"]["fields"]
    assert field["field"] == query.split("?")[1].split("=")[0]
    assert field["message"]


async def test_blank_filter_forms_still_mean_any(admin: Browser) -> None:
    for page in (
        "/projects?city=&q=&status=&supplier_id=",
        "/sessions?city_code=&status=&date_from=&date_to=",
        "/audit?action=&actor=&since=&until=",
    ):
        assert (await admin.get(page)).status == 200, page


async def test_plain_http_answers_carry_the_policy_but_no_hsts_and_no_server_version(
    sqlite_server: WebServer,
) -> None:
    anonymous = sqlite_server.browser()
    for path in ("/login", "/api/openapi.json", "/nowhere", "/static/site.css", "/favicon.ico"):
        response = await anonymous.get(path)
        assert response.headers["Server"] == "RemoteCheck", path
        assert "Strict-Transport-Security" not in response.headers, path
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy, path
        assert "frame-ancestors 'none'" in policy, path
