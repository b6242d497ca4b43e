"""The host's and speakers' Q&A page of a meeting: every question, show/hide (the host) and
"answered" (a speaker or the host)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from remote_check.accounts.access import Permission, allowed
from remote_check.clock import format_local
from remote_check.errors import Forbidden, Message
from scheduler.meetings import qa, service
from web.keys import CLOCK, DB, DB_READ
from web.pages.common import signed_in

routes = web.RouteTableDef()

QUESTIONS = r"/meetings/{meeting_id:\d+}/questions"


@routes.get(QUESTIONS, name="meeting_questions")
@aiohttp_jinja2.template("meetings/questions.html")
async def questions_page(request: web.Request) -> dict[str, Any]:
    """Every question, oldest first, with what the viewer may do to it."""
    principal = signed_in(request)
    meeting_id = int(request.match_info["meeting_id"])
    async with request.app[DB_READ]() as session:
        meeting = await service.get_meeting(session, meeting_id)
        if not await qa.is_moderator(session, principal, meeting_id):
            raise Forbidden(
                Message("只有主持人和主讲人可以查看全部问题", "Only the host and speakers see every question")
            )
        rows = await qa.questions(session, meeting_id, qa.Viewer.MODERATOR)
    return {
        "meeting": meeting,
        "questions": rows,
        "host": allowed(principal, Permission.MEETING_WRITE),
        "local": format_local,
    }


@routes.post(QUESTIONS + r"/{question_id:\d+}/{action:show|hide|answered}")
async def question_action(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request)
    meeting_id = int(request.match_info["meeting_id"])
    question_id = int(request.match_info["question_id"])
    action = request.match_info["action"]
    now = request.app[CLOCK].now()
    async with request.app[DB]() as session, session.begin():
        if action == "answered":
            await qa.mark_answered(session, principal, meeting_id, question_id, now=now)
        else:
            await qa.set_shown(session, principal, meeting_id, question_id, action == "show", now=now)
    raise web.HTTPSeeOther(f"/meetings/{meeting_id}/questions")
