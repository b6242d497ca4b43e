"""User administration page: the list of accounts and a form to add one."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from remote_check.accounts.access import ROLE_LABELS, Permission
from remote_check.accounts.models import Role, User
from remote_check.accounts.service import NewUser, create_user
from remote_check.audit.service import Actor
from remote_check.errors import DomainError, invalid
from remote_check.programme.cities import CITIES
from web.context import lang_of
from web.keys import CLOCK, DB
from web.pages.common import signed_in

routes = web.RouteTableDef()

FIELDS = ("username", "display_name", "role", "city_code", "organisation", "email")


async def _context(request: web.Request, form: dict[str, str], error: str) -> dict[str, Any]:
    lang = lang_of(request)
    async with request.app[DB]() as session:
        users = (await session.scalars(select(User).order_by(User.id))).all()
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
    try:
        role = Role(form["role"])
    except ValueError:
        raise invalid("请选择角色", "Choose a role", field="role") from None
    if not form["display_name"]:
        raise invalid("请填写姓名", "Enter a display name", field="display_name")
    return NewUser(
        username=form["username"],
        display_name=form["display_name"],
        role=role,
        password=password,
        city_code=form["city_code"] or None,
        organisation=form["organisation"],
        email=form["email"],
    )


@routes.post("/users")
async def users_submit(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Permission.USER_ADMIN)
    posted = await request.post()
    form = {k: str(posted.get(k, "")).strip() for k in FIELDS}
    try:
        new = _new_user(form, str(posted.get("password", "")))
        async with request.app[DB]() as session, session.begin():
            await create_user(
                session, new, actor=Actor(principal.ref, principal.city_code), now=request.app[CLOCK].now()
            )
    except DomainError as exc:
        context = await _context(request, form, exc.message.in_lang(lang_of(request)))
        return aiohttp_jinja2.render_template("users.html", request, context, status=exc.status)
    raise web.HTTPSeeOther(f"/users?created={new.username}")
