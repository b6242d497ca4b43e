"""The user administration page: the list, adding a user, refusals that change nothing."""

from __future__ import annotations

from remote_check.accounts.models import Role
from tests.web_helpers import PASSWORD, Browser, WebServer


async def user_names(admin: Browser) -> list[str]:
    body = await (await admin.get("/api/users")).json()
    return [u["username"] for u in body["items"]]


def form(**changes: str) -> dict[str, str]:
    return {
        "username": "zs.coord",
        "display_name": "中山协调员",
        "role": "city_coordinator",
        "city_code": "4420",
        "organisation": "中山市工业和信息化局",
        "email": "",
        "password": PASSWORD,
        **changes,
    }


async def test_admin_adds_a_user_who_can_then_sign_in(server: WebServer) -> None:
    admin_id = await server.add_user("admin", Role.PROVINCE_ADMIN, display_name="省管理员")
    admin = await server.signed_in("admin")

    page = await (await admin.get("/users")).text()
    assert "省管理员" in page
    assert "省级管理员" in page

    added = await admin.post("/users", data={**form(), "csrf_token": admin.csrf})
    assert added.status == 303
    assert added.headers["Location"] == "/users?created=zs.coord"
    listed = await (await admin.get("/users?created=zs.coord")).text()
    assert "已添加用户 zs.coord" in listed
    assert "中山市工业和信息化局" in listed
    assert "中山" in listed

    audit = await (await admin.get("/api/audit?action=user.create")).json()
    newest = audit["items"][0]
    assert newest["actor"] == f"user:{admin_id}"
    assert newest["city_code"] == "4420"
    assert newest["details"] == {"username": "zs.coord", "role": "city_coordinator"}

    coordinator = await server.signed_in("zs.coord")
    me = await (await coordinator.get("/api/me")).json()
    assert (me["role"], me["city_code"]) == ("city_coordinator", "4420")


async def test_bad_input_is_refused_in_the_users_language_and_nothing_is_created(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    admin = await server.signed_in("admin")

    short = await admin.post("/users", data={**form(password="short"), "csrf_token": admin.csrf})
    assert short.status == 422
    html = await short.text()
    assert "密码至少 10 个字符" in html
    assert 'value="zs.coord"' in html  # the form keeps what was typed, except the password

    no_city = await admin.post("/users?lang=en", data={**form(city_code=""), "csrf_token": admin.csrf})
    assert no_city.status == 422
    assert "A city coordinator needs a city" in await no_city.text()

    no_role = await admin.post("/users", data={**form(role=""), "csrf_token": admin.csrf})
    assert no_role.status == 422

    taken = await admin.post("/users", data={**form(username="admin"), "csrf_token": admin.csrf})
    assert taken.status == 409
    assert "User name admin is taken" in await taken.text()

    assert await user_names(admin) == ["admin"]


async def test_only_administrators_manage_users(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    coordinator = await server.signed_in("dg.coord")
    assert (await coordinator.get("/users")).status == 403
    refused = await coordinator.post("/users", data={**form(), "csrf_token": coordinator.csrf})
    assert refused.status == 403

    admin = await server.signed_in("admin")
    assert await user_names(admin) == ["admin", "dg.coord"]


async def test_a_form_without_its_csrf_token_is_refused(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    admin = await server.signed_in("admin")
    admin.csrf = ""
    forged = await admin.post("/users", data=form())  # no CSRF token: a cross-site form
    assert forged.status == 403
    assert "zs.coord" not in await (await admin.get("/users")).text()
