"""User administration page: the list of accounts and a form to add one."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from remote_check.accounts.access import ROLE_LABELS, Permission
from remote_check.accounts.models import Role
from remote_check.accounts.schemas import UserCreateRequest
from remote_check.accounts.service import NewUser, create_user, list_users
from remote_check.audit.service import Actor
from remote_check.errors import DomainError, Message
from remote_check.programme.cities import CITIES
from web.context import lang_of
from web.keys import CLOCK, DB, PASSWORDS
from web.pages.common import parse_form, signed_in

routes = web.RouteTableDef()

FIELDS = ("username", "display_name", "role", "city_code", "organisation", "email")
LABELS = {
    "username": Message("用户名", "User name"),
    "display_name": Message("姓名", "Display name"),
    "role": Message("角色", "Role"),
    "password": Message("密码", "Password"),
    "city_code": Message("城市", "City"),
    "organisation": Message("单位", "Organisation"),
    "email": Message("电子邮箱", "Email"),
}


async def _context(request: web.Request, form: dict[str, str], error: str) -> dict[str, Any]:
    lang = lang_of(request)
    async with request.app[DB]() as session:
        users = await list_users(session)
    cities = {c.code: (c.name_en if lang == "en" else c.name_zh) for c in CITIES}
    return {
        "users": users,
        "roles": [(r.value, ROLE_LABELS[r].in_lang(lang)) for r in Role],
        "role_label": {r.value: ROLE_LABELS[r].in_lang(lang) for r in Role},
        "cities": cities,
        "form": form,
        "error": error,
        "created": request.query.get("created", ""),
    }


@routes.get("/users", name="users")
async def users_page(request: web.Request) -> web.StreamResponse:
    signed_in(request, Permission.USER_ADMIN)
    context = await _context(request, dict.fromkeys(FIELDS, ""), "")
    return aiohttp_jinja2.render_template("users.html", request, context)


def _new_user(form: dict[str, str], password: str) -> NewUser:
    """The form checked by the API's :class:`UserCreateRequest` (a blank city is none)."""
    data: dict[str, str | None] = {**form, "password": password, "city_code": form["city_code"] or None}
    return NewUser(**parse_form(UserCreateRequest, data, LABELS).model_dump())


@routes.post("/users")
async def users_submit(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.USER_ADMIN)
    posted = await request.post()
    form = {k: str(posted.get(k, "")).strip() for k in FIELDS}
    try:
        new = _new_user(form, str(posted.get("password", "")))
        hashed = await request.app[PASSWORDS].hash(new.password)
        async with request.app[DB]() as session, session.begin():
            await create_user(
                session, new, actor=Actor.of(principal), now=request.app[CLOCK].now(), password_hash=hashed
            )
    except DomainError as exc:
        context = await _context(request, form, exc.message.in_lang(lang_of(request)))
        return aiohttp_jinja2.render_template("users.html", request, context, status=exc.status)
    raise web.HTTPSeeOther(f"/users?created={new.username}")
