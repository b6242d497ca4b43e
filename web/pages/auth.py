"""Log-in, log-out and the home page of each role."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp_jinja2
from aiohttp import web

from remote_check.accounts.access import ROLE_LABELS, Permission, Principal, allowed
from remote_check.accounts.service import sign_out
from remote_check.clock import local
from remote_check.errors import DomainError
from remote_check.programme.cities import BY_CODE
from scheduler.models import SessionStatus
from scheduler.queries import SessionFilter, list_sessions
from web.context import SESSION_COOKIE, lang_of, set_session_cookie
from web.keys import CLOCK, DB, SETTINGS
from web.pages.common import signed_in
from web.signin import sign_in_request

routes = web.RouteTableDef()


def safe_next(target: str) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if any(ord(char) < 0x20 or char in "\\\x7f" for char in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return "/"
    return urlunsplit(("", "", parts.path, parts.query, ""))


@routes.get("/login", name="login")
@aiohttp_jinja2.template("login.html")
async def login_page(request: web.Request) -> dict[str, Any]:
    return {"error": "", "next": safe_next(request.query.get("next", "/")), "username": ""}


@routes.post("/login")
async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", ""))
    target = safe_next(str(form.get("next", "/")))
    hours = request.app[SETTINGS].session_hours
    try:
        signed = await sign_in_request(request, username, str(form.get("password", "")))
    except DomainError as exc:
        context = {"error": exc.message.in_lang(lang_of(request)), "next": target, "username": username}
        page = aiohttp_jinja2.render_template("login.html", request, context, status=exc.status)
        page.headers.update(exc.headers)
        return page
    response = web.HTTPSeeOther(target)
    set_session_cookie(response, request, signed.token, hours)
    raise response


@routes.post("/logout")
async def logout_submit(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request)
    async with request.app[DB]() as session, session.begin():
        await sign_out(
            session, request.cookies.get(SESSION_COOKIE, ""), principal, now=request.app[CLOCK].now()
        )
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def _cards(principal: Principal, lang: str) -> list[dict[str, str]]:
    zh = lang != "en"
    cards = []
    if allowed(principal, Permission.CAMPAIGN_WRITE):
        cards.append(
            {
                "href": "/campaigns",
                "title": "抽查批次与抽查名单" if zh else "Campaigns and samples",
                "text": "建立批次、抽取并发布名单" if zh else "Create rounds, draw and publish samples",
            }
        )
    if allowed(principal, Permission.PROJECT_IMPORT):
        cards.append(
            {
                "href": "/imports",
                "title": "导入项目" if zh else "Import projects",
                "text": "上传 XLSX 或 CSV 项目清单" if zh else "Upload an XLSX or CSV list of projects",
            }
        )
    cards.append(
        {
            "href": "/projects",
            "title": "服务券项目" if zh else "Voucher projects",
            "text": "按城市、状态、服务商筛选" if zh else "Filter by city, status, supplier",
        }
    )
    cards.append(
        {
            "href": "/sessions",
            "title": "核查会议" if zh else "Check sessions",
            "text": "视频核查的时间与参会人员" if zh else "Times and people of video checks",
        }
    )
    if allowed(principal, Permission.DASHBOARD_READ):
        cards.append(
            {
                "href": "/dashboard",
                "title": "核查进度" if zh else "Progress",
                "text": "各市进度、结果、资金与截止日期" if zh else "Checks, outcomes, money, deadlines",
            }
        )
    if allowed(principal, Permission.REPORT_READ):
        cards.append(
            {
                "href": "/reports",
                "title": "报省汇总备案" if zh else "Reports to the province",
                "text": "抽查计划与结果（XLSX、PDF）" if zh else "Check plans and results (XLSX, PDF)",
            }
        )
    if allowed(principal, Permission.AUDIT_READ):
        cards.append(
            {
                "href": "/audit",
                "title": "审计日志" if zh else "Audit log",
                "text": "谁在何时做了什么" if zh else "Who did what, when",
            }
        )
    if allowed(principal, Permission.USER_ADMIN):
        cards.append(
            {
                "href": "/users",
                "title": "用户管理" if zh else "Users",
                "text": "账号与角色" if zh else "Accounts and roles",
            }
        )
    return cards


@routes.get("/", name="home")
@aiohttp_jinja2.template("home.html")
async def home(request: web.Request) -> dict[str, Any]:
    principal = signed_in(request)
    lang = lang_of(request)
    city = BY_CODE.get(principal.city_code or "")
    today = local(request.app[CLOCK].now()).date()
    async with request.app[DB]() as session:
        rows, _ = await list_sessions(
            session, principal, SessionFilter(status=SessionStatus.BOOKED, date_from=today), page_size=8
        )
    return {
        "role_label": ROLE_LABELS[principal.role].in_lang(lang),
        "city": (city.name_en if lang == "en" else city.name_zh) if city else "",
        "cards": _cards(principal, lang),
        "upcoming": rows,
    }
