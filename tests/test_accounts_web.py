"""Signing in and out over HTTP: cookies, CSRF, refusals in the user's language."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from remote_check.accounts.models import Role
from tests.web_helpers import PASSWORD, WebServer, csrf_from_html


async def test_sign_in_sets_an_httponly_samesite_cookie(server: WebServer) -> None:
    await server.add_user("gz.coord", Role.CITY_COORDINATOR, "4401", "广州协调员")
    browser = server.browser()
    response = await browser.post("/api/login", json={"username": "gz.coord", "password": PASSWORD})
    assert response.status == 200
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    me = await (await browser.get("/api/me")).json()
    assert me["role"] == "city_coordinator"
    assert me["city_code"] == "4401"


async def test_wrong_password_is_refused_in_chinese_then_english(server: WebServer) -> None:
    await server.add_user("gz.coord", Role.CITY_COORDINATOR, "4401")
    browser = server.browser()
    zh = await browser.post("/api/login", json={"username": "gz.coord", "password": "nope"})
    assert zh.status == 401
    assert (await zh.json())["error"]["message"] == "用户名或密码错误"
    en = await browser.post("/api/login?lang=en", json={"username": "nobody", "password": "nope"})
    assert (await en.json())["error"]["message"] == "Wrong user name or password"
    assert (await browser.get("/api/me")).status == 401


async def test_unsafe_request_without_csrf_token_is_refused(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await server.signed_in("admin")
    browser.csrf = ""
    response = await browser.post("/api/logout")
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "csrf"
    assert (await browser.get("/api/me")).status == 200


async def test_logout_ends_the_session(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await server.signed_in("admin")
    assert (await browser.post("/api/logout")).status == 204
    assert (await browser.get("/api/me")).status == 401


async def test_login_form_and_home_page(server: WebServer) -> None:
    await server.add_user("fs.audit", Role.AUDITOR, "4406", "佛山审计")
    browser = server.browser()
    anonymous = await browser.get("/")
    assert anonymous.status == 303
    assert anonymous.headers["Location"].startswith("/login")
    form = await browser.post("/login", data={"username": "fs.audit", "password": PASSWORD, "next": "/"})
    assert form.status == 303
    home = await browser.get("/")
    html = await home.text()
    assert home.status == 200
    assert "佛山审计" in html
    assert "审计员" in html
    assert csrf_from_html(html)
    english = await (await browser.get("/?lang=en")).text()
    assert "Auditor" in english


async def test_unknown_api_path_is_a_json_404_without_trace(server: WebServer) -> None:
    response = await server.browser().get("/api/nothing-here")
    assert response.status == 404
    body = await response.json()
    assert body["error"]["message"] == "页面或接口不存在"


async def test_a_refused_log_in_is_in_the_audit_log_with_the_users_city(server: WebServer) -> None:
    from sqlalchemy import select

    from remote_check.audit.models import AuditEntry

    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    browser = server.browser()
    assert (
        await browser.post("/api/login", json={"username": "dg.coord", "password": "guess"})
    ).status == 401
    form = await browser.post("/login", data={"username": "dg.coord", "password": "guess2", "next": "/"})
    assert form.status == 401
    async with server.db.factory() as session:
        failed = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login_failed"))
        ).all()
    assert [entry.city_code for entry in failed] == ["4419", "4419"]
    assert all(entry.target == "username:dg.coord" for entry in failed)


async def test_after_signing_in_the_browser_never_leaves_the_site(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    for target in ("/\t/evil.example", "//evil.example", "https://evil.example/", "/\\evil.example"):
        browser = server.browser()
        response = await browser.post(
            "/login", data={"username": "admin", "password": PASSWORD, "next": target}
        )
        assert response.status == 303
        assert response.headers["Location"] == "/"
    browser = server.browser()
    kept = await browser.post(
        "/login", data={"username": "admin", "password": PASSWORD, "next": "/projects?city=4419"}
    )
    assert kept.headers["Location"] == "/projects?city=4419"


async def test_the_log_in_page_remembers_the_whole_address_asked_for(server: WebServer) -> None:
    response = await server.browser().get("/projects?city=4419&status=sampled")
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/projects?city=4419&status=sampled"]
