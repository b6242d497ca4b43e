"""The outbox page for coordinators (what was sent to whom and when, what failed and why, resend),
and the experts' calendar feeds: the public ``/calendar/<token>.ics`` and the expert's own page
to get or withdraw its address."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from remote_check.accounts.access import Permission
from remote_check.audit.service import Actor
from remote_check.errors import Forbidden, Message, invalid
from remote_check.experts.models import Expert
from scheduler.notify.deliver import base_url
from scheduler.notify.feeds import feed_of, issue_feed, revoke_feeds
from scheduler.notify.models import Channel, Kind, Status
from scheduler.notify.outbox import PAGE_SIZE, OutboxFilter, list_messages, resend
from web.context import lang_of
from web.keys import CLOCK, DB, DB_READ, JOBS, SETTINGS
from web.pages.common import signed_in

routes = web.RouteTableDef()

KIND_LABELS: dict[str, Message] = {
    Kind.INVITATION: Message("会议邀请", "Invitation"),
    Kind.CONNECTIVITY: Message("网络测试邀请", "Connectivity test"),
    Kind.REMINDER: Message("会前提醒", "Reminder"),
    Kind.NO_SHOW: Message("缺席确认", "No-show check"),
    Kind.CANCEL: Message("取消通知", "Cancellation"),
    Kind.MEETING_INVITATION: Message("省级会议邀请", "Meeting invitation"),
    Kind.MEETING_TEST: Message("会前信号测试", "Meeting signal test"),
    Kind.MEETING_TEST_REMINDER: Message("信号测试提醒", "Signal test reminder"),
}
STATUS_LABELS: dict[str, Message] = {
    Status.PENDING: Message("待发送", "Pending"),
    Status.SENDING: Message("发送中", "Sending"),
    Status.SENT: Message("已发送", "Sent"),
    Status.FAILED: Message("失败（将重试）", "Failed (will retry)"),
    Status.GAVE_UP: Message("失败（已停止重试）", "Failed (gave up)"),
    Status.OBSOLETE: Message("已作废", "Obsolete"),
}
CHANNEL_LABELS: dict[str, Message] = {
    Channel.EMAIL: Message("邮件", "E-mail"),
    Channel.WECOM: Message("企业微信", "WeCom"),
    Channel.PAGE: Message("会议页面", "Session page"),
}


@routes.get("/outbox", name="outbox")
@aiohttp_jinja2.template("outbox.html")
async def outbox_page(request: web.Request) -> dict[str, Any]:
    """The notices of the user's cities, newest first; failed ones can be sent again."""
    principal = signed_in(request, Permission.SESSION_WRITE)
    lang = lang_of(request)
    status = request.query.get("status", "")
    if status and status not in set(Status):
        raise invalid("状态无效", "Unknown status", field="status")
    raw_session = request.query.get("session_id", "")
    if raw_session and not raw_session.isdigit():
        raise invalid("会议编号无效", "Not a session number", field="session_id")
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        raise invalid("页码无效", "Not a page number", field="page") from None
    where = OutboxFilter(status or None, int(raw_session) if raw_session else None)
    async with request.app[DB_READ]() as session:
        rows, total = await list_messages(session, principal, where, page=page)
    filters = {k: v for k, v in {"status": status, "session_id": raw_session}.items() if v}
    pages = max(1, -(-total // PAGE_SIZE))
    return {
        "rows": rows,
        "total": total,
        "status": status,
        "session_id": raw_session,
        "statuses": [(s.value, STATUS_LABELS[s].in_lang(lang)) for s in Status],
        "kind_label": {k: m.in_lang(lang) for k, m in KIND_LABELS.items()},
        "status_label": {k: m.in_lang(lang) for k, m in STATUS_LABELS.items()},
        "channel_label": {k: m.in_lang(lang) for k, m in CHANNEL_LABELS.items()},
        "can_resend": (Status.FAILED.value, Status.GAVE_UP.value),
        "prev_url": "/outbox?" + urlencode({**filters, "page": page - 1}) if page > 1 else "",
        "next_url": "/outbox?" + urlencode({**filters, "page": page + 1}) if page < pages else "",
    }


@routes.post(r"/outbox/{message_id:\d+}/resend")
async def resend_submit(request: web.Request) -> web.StreamResponse:
    """Send a failed notice again now (audited); back to the outbox."""
    principal = signed_in(request, Permission.SESSION_WRITE)
    app = request.app
    async with app[DB]() as session, session.begin():
        await resend(session, principal, int(request.match_info["message_id"]), now=app[CLOCK].now())
    await app[JOBS].resend_now()
    raise web.HTTPSeeOther("/outbox")


@routes.get(r"/calendar/{token:[A-Za-z0-9_-]{20,100}}.ics", name="calendar_feed")
async def calendar_feed(request: web.Request) -> web.Response:
    """An expert's checks as an iCalendar subscription (public: the token is the credential)."""
    app = request.app
    async with app[DB_READ]() as session:
        body = await feed_of(
            session, request.match_info["token"], base=base_url(app[SETTINGS]), now=app[CLOCK].now()
        )
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )


def _expert_of(request: web.Request) -> tuple[int, Actor]:
    principal = signed_in(request, Permission.SESSION_READ)
    if principal.expert_id is None:
        raise Forbidden(Message("只有专家有个人日历", "Only experts have a calendar feed"))
    return principal.expert_id, Actor.of(principal)


@routes.get("/me/calendar-feed", name="calendar_feed_page")
@aiohttp_jinja2.template("calendar_feed.html")
async def calendar_page(request: web.Request) -> dict[str, Any]:
    """The expert's page for their calendar subscription."""
    expert_id, _ = _expert_of(request)
    async with request.app[DB_READ]() as session:
        name = await session.scalar(select(Expert.name).where(Expert.id == expert_id))
    return {"name": name or "", "feed_url": "", "revoked": False}


@routes.post(r"/me/calendar-feed/{action:(new|revoke)}")
async def calendar_submit(request: web.Request) -> web.StreamResponse:
    """A new feed address (shown once; older ones stop working), or none at all."""
    expert_id, actor = _expert_of(request)
    app = request.app
    now = app[CLOCK].now()
    async with app[DB]() as session, session.begin():
        if request.match_info["action"] == "revoke":
            await revoke_feeds(session, actor, expert_id, now=now)
            token = ""
        else:
            token = await issue_feed(session, actor, expert_id, now=now)
        name = await session.scalar(select(Expert.name).where(Expert.id == expert_id))
    url = f"{base_url(app[SETTINGS])}/calendar/{token}.ics" if token else ""
    context = {"name": name or "", "feed_url": url, "revoked": not token}
    response = aiohttp_jinja2.render_template("calendar_feed.html", request, context)
    response.headers["Cache-Control"] = "no-store"
    return response
