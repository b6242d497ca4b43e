"""Province meetings: the province creates and edits, a coordinator nominates for their city and
downloads its attendance; a nominee's personal link (``/api/m/<token>``) shows the meeting, takes
the signal test's result, records joining and leaving, and posts questions; the host moderates."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Permission, require_city
from remote_check.audit.service import Actor, record
from remote_check.csvsafe import row as csv_row
from remote_check.errors import Forbidden, Message
from remote_check.tabular import csv_text
from scheduler.connectivity import Measured
from scheduler.meetings import links, qa, service
from scheduler.meetings import overview as ov
from scheduler.meetings.models import Meeting, Nomination
from scheduler.meetings.schemas import (
    Landing,
    MeetingCityList,
    MeetingCityOut,
    MeetingCreate,
    MeetingList,
    MeetingOut,
    NominationCreate,
    NominationOut,
    QuestionCreate,
    QuestionList,
    QuestionOut,
)
from web.api.registry import Api, Call
from web.keys import CLOCK, SECRET, SETTINGS
from web.pages.connectivity import CheckResult

api = Api("meetings")

MEETING = r"/api/meetings/{meeting_id:\d+}"
CITY = MEETING + r"/cities/{city_code:\d{4}}"
QUESTION = MEETING + r"/questions/{question_id:\d+}"
LINK = r"/api/m/{token:[0-9A-Za-z._-]{1,200}}"


def _fields(body: MeetingCreate) -> service.MeetingFields:
    return service.MeetingFields(
        title=body.title,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        kind=body.kind,
        city_quota=body.city_quota,
        join_deadline=body.join_deadline,
        test_starts_at=body.test_starts_at,
        test_ends_at=body.test_ends_at,
        speaker_ids=tuple(body.speaker_ids),
    )


@api.post(
    "/api/meetings", summary="Create a province meeting", permission=Permission.MEETING_WRITE, status=201
)
async def create_meeting(call: Call, body: MeetingCreate) -> MeetingOut:
    async with call.transaction() as session:
        meeting = await service.create_meeting(
            session, call.user, _fields(body), now=call.request.app[CLOCK].now()
        )
        return MeetingOut.of(meeting, await service.speaker_ids(session, meeting.id))


@api.get("/api/meetings", summary="List the province's meetings", permission=Permission.MEETING_NOMINATE)
async def meetings(call: Call) -> MeetingList:
    async with call.read() as session:
        rows = await ov.list_meetings(session, call.user)
        return MeetingList(items=[MeetingOut.of(m, await service.speaker_ids(session, m.id)) for m in rows])


@api.get(MEETING, summary="One province meeting", permission=Permission.MEETING_NOMINATE)
async def meeting(call: Call) -> MeetingOut:
    async with call.read() as session:
        found = await service.get_meeting(session, call.path_int("meeting_id"))
        return MeetingOut.of(found, await service.speaker_ids(session, found.id))


@api.patch(MEETING, summary="Change a province meeting", permission=Permission.MEETING_WRITE)
async def edit_meeting(call: Call, body: MeetingCreate) -> MeetingOut:
    async with call.transaction() as session:
        changed = await service.edit_meeting(
            session, call.user, call.path_int("meeting_id"), _fields(body), now=call.request.app[CLOCK].now()
        )
        return MeetingOut.of(changed, await service.speaker_ids(session, changed.id))


@api.post(MEETING + "/cancel", summary="Cancel a province meeting", permission=Permission.MEETING_WRITE)
async def cancel_meeting(call: Call) -> MeetingOut:
    async with call.transaction() as session:
        cancelled = await service.cancel_meeting(
            session, call.user, call.path_int("meeting_id"), now=call.request.app[CLOCK].now()
        )
        return MeetingOut.of(cancelled, await service.speaker_ids(session, cancelled.id))


@api.get(
    MEETING + "/cities",
    summary="Per city: nominated, tested (with the figures), not yet tested, attended",
    permission=Permission.MEETING_NOMINATE,
)
async def cities(call: Call) -> MeetingCityList:
    async with call.read() as session:
        views = await ov.overview(session, call.user, call.path_int("meeting_id"))
    return MeetingCityList(items=[MeetingCityOut.of(v, call.lang) for v in views])


@api.post(
    CITY + "/nominations",
    summary="Nominate a person for a city (its coordinator; at most the meeting's quota)",
    permission=Permission.MEETING_NOMINATE,
    status=201,
)
async def nominate(call: Call, body: NominationCreate) -> NominationOut:
    nominee = service.Nominee(body.role, body.user_id, body.organisation, body.name, body.email)
    async with call.transaction() as session:
        row = await service.nominate(
            session,
            call.user,
            call.path_int("meeting_id"),
            call.request.match_info["city_code"],
            nominee,
            now=call.request.app[CLOCK].now(),
        )
    link = links.link_path(row, call.request.app[SECRET])
    return NominationOut.of(ov.Person(row, None, ()), link=link)


@api.delete(
    MEETING + r"/nominations/{nomination_id:\d+}",
    summary="Withdraw a nomination (its personal link stops working)",
    permission=Permission.MEETING_NOMINATE,
)
async def withdraw(call: Call) -> None:
    async with call.transaction() as session:
        row = await session.get(Nomination, call.path_int("nomination_id"))
        if row is not None and row.meeting_id != call.path_int("meeting_id"):
            row = None
        await service.withdraw(session, call.user, row.id if row else 0, now=call.request.app[CLOCK].now())


@api.get(
    CITY + "/attendance.csv",
    summary="A city's attendance: who, from when to when (audited)",
    permission=Permission.MEETING_NOMINATE,
    produces="text/csv",
)
async def attendance_csv(call: Call) -> web.Response:
    city = call.request.match_info["city_code"]
    require_city(call.user, city)
    now = call.request.app[CLOCK].now()
    meeting_id = call.path_int("meeting_id")
    async with call.transaction() as session:
        views = [v for v in await ov.overview(session, call.user, meeting_id) if v.code == city]
        await record(
            session,
            Actor.of(call.user),
            "meeting.attendance_export",
            f"meeting:{meeting_id}",
            at=now,
            city_code=city,
        )
    rows = [ov.ATTENDANCE_HEADER, *(csv_row(r) for r in ov.attendance_rows(views, now=now))]
    return web.Response(
        body=csv_text(rows, bom=True).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="meeting-{meeting_id}-{city}-attendance.csv"'},
    )


# -- the host and the speakers: the Q&A -------------------------------------------------------


@api.get(MEETING + "/questions", summary="Every question (the host and speakers)", permission=None)
async def all_questions(call: Call) -> QuestionList:
    meeting_id = call.path_int("meeting_id")
    async with call.read() as session:
        await service.get_meeting(session, meeting_id)
        if not await qa.is_moderator(session, call.user, meeting_id):
            raise Forbidden(
                Message("只有主持人和主讲人可以查看全部问题", "Only the host and speakers see every question")
            )
        rows = await qa.questions(session, meeting_id, qa.Viewer.MODERATOR)
    return QuestionList(items=[QuestionOut.of(q) for q in rows])


async def _show(call: Call, shown: bool) -> QuestionOut:
    async with call.transaction() as session:
        q = await qa.set_shown(
            session,
            call.user,
            call.path_int("meeting_id"),
            call.path_int("question_id"),
            shown,
            now=call.request.app[CLOCK].now(),
        )
        return QuestionOut.of(q)


@api.post(
    QUESTION + "/show", summary="Show a question to everyone (the host)", permission=Permission.MEETING_WRITE
)
async def show_question(call: Call) -> QuestionOut:
    return await _show(call, True)


@api.post(QUESTION + "/hide", summary="Hide a question again (the host)", permission=Permission.MEETING_WRITE)
async def hide_question(call: Call) -> QuestionOut:
    return await _show(call, False)


@api.post(QUESTION + "/answered", summary="Mark a question answered (a speaker)")
async def answer_question(call: Call) -> QuestionOut:
    async with call.transaction() as session:
        q = await qa.mark_answered(
            session,
            call.user,
            call.path_int("meeting_id"),
            call.path_int("question_id"),
            now=call.request.app[CLOCK].now(),
        )
        return QuestionOut.of(q)


# -- the nominee's personal link (public: the signed link is the credential) ------------------


async def _opened(call: Call, session: AsyncSession) -> tuple[Nomination, Meeting]:
    app = call.request.app
    return await links.open_link(
        session,
        call.request.match_info["token"],
        app[SECRET],
        now=app[CLOCK].now(),
        grace_hours=app[SETTINGS].invitation_grace_hours,
    )


@api.get(LINK, summary="What a nominee's personal link shows", public=True)
async def landing(call: Call) -> Landing:
    async with call.read() as session:
        nomination, found = await _opened(call, session)
        tested = await ov.has_tested(session, nomination.id)
        speakers = await service.speaker_ids(session, found.id)
    base = f"/m/{call.request.match_info['token']}"
    return Landing(
        meeting=MeetingOut.of(found, speakers),
        name=nomination.name,
        organisation=nomination.organisation,
        city_code=nomination.city_code,
        tested=tested,
        test_link=f"{base}/test",
        room_link=f"{base}/room",
    )


@api.post(LINK + "/signal-test", summary="Store what the nominee's signal test measured", public=True)
async def signal_test(call: Call, body: CheckResult) -> NominationOut:
    async with call.transaction() as session:
        nomination, _ = await _opened(call, session)
        test = await service.record_signal_test(
            session, nomination, Measured(**body.model_dump()), now=call.request.app[CLOCK].now()
        )
    return NominationOut.of(ov.Person(nomination, test, ()))


@api.post(LINK + "/join", summary="The nominee enters the meeting", public=True, status=204)
async def join(call: Call) -> None:
    async with call.transaction() as session:
        nomination, _ = await _opened(call, session)
        await service.join(session, nomination, now=call.request.app[CLOCK].now())


@api.post(LINK + "/leave", summary="The nominee leaves the meeting", public=True, status=204)
async def leave(call: Call) -> None:
    async with call.transaction() as session:
        nomination, _ = await _opened(call, session)
        await service.leave(session, nomination, now=call.request.app[CLOCK].now())


@api.get(LINK + "/questions", summary="The shown questions (what attendees see)", public=True)
async def shown_questions(call: Call) -> QuestionList:
    async with call.read() as session:
        nomination, _ = await _opened(call, session)
        rows = await qa.questions(session, nomination.meeting_id, qa.Viewer.ATTENDEE)
    return QuestionList(items=[QuestionOut.of(q) for q in rows])


@api.post(
    LINK + "/questions", summary="Post a question (hidden until the host shows it)", public=True, status=201
)
async def ask(call: Call, body: QuestionCreate) -> QuestionOut:
    async with call.transaction() as session:
        nomination, _ = await _opened(call, session)
        q = await qa.post(session, nomination, body.text, now=call.request.app[CLOCK].now())
        return QuestionOut.of(q)
