"""Marks and stills during a recorded call: an expert of the panel says when a checklist item is
shown, and takes stills of the screen share as evidence.

The time of a mark is read from the room's recording clock by the server at the moment the request
arrives (``RoomHost.recording_time``), never taken from the browser. The room is asked before the
transaction opens, so no write lock waits on a media worker.
"""

from __future__ import annotations

from recordings import actions, marks
from recordings.schemas import EvidenceOut, MarkIn, MarkOut, StillIn, StillOut
from remote_check.accounts.access import Permission, Principal
from scheduler.access import session_in_scope
from scheduler.models import CheckSession
from web.api.registry import Api, Call
from web.keys import CLOCK, ROOMS
from web.rooms.admission import room_id

api = Api("marks")


async def _panel_session(call: Call) -> tuple[Principal, CheckSession]:
    principal = call.user
    async with call.read() as session:
        return principal, await actions.marking_session(session, principal, call.path_int("id"))


@api.get(
    "/api/sessions/{id:\\d+}/marks",
    summary="The marks and stills of a session's recording",
    permission=Permission.SESSION_READ,
)
async def list_marks(call: Call) -> EvidenceOut:
    async with call.read() as session:
        check = await session_in_scope(session, call.user, call.path_int("id"))
        found = await marks.marks_of(session, check.id)
        stills = await marks.stills_of(session, check.id)
    return EvidenceOut(
        session_id=check.id,
        marks=[MarkOut.of(mark, code) for mark, code in found],
        stills=[StillOut.of(still, code) for still, code in stills],
    )


@api.post(
    "/api/sessions/{id:\\d+}/marks",
    summary="Mark the start or the end of an item being shown, on the recording's clock (panel experts)",
    permission=Permission.CHECKLIST_WRITE,
)
async def mark_item(call: Call, body: MarkIn) -> MarkOut:
    principal, check = await _panel_session(call)
    now_on_recording = await call.request.app[ROOMS].recording_time(room_id(check.id))
    async with call.transaction() as session:
        mark, code = await actions.mark_item(
            session,
            principal,
            check,
            body.item,
            body.edge,
            seconds=now_on_recording.seconds,
            part=now_on_recording.part,
            now=call.request.app[CLOCK].now(),
        )
        return MarkOut.of(mark, code)


@api.post(
    "/api/sessions/{id:\\d+}/stills",
    summary="Take a still of the screen share as evidence (panel experts); decoded off the event loop",
    permission=Permission.CHECKLIST_WRITE,
)
async def take_still(call: Call, body: StillIn) -> StillOut:
    principal, check = await _panel_session(call)
    async with call.read() as session:
        item = await marks.item_of(session, check.project_id, body.item) if body.item else None
    taken = await call.request.app[ROOMS].take_still(room_id(check.id))
    async with call.transaction() as session:
        still = await actions.keep_still(
            session,
            principal,
            check,
            item,
            code=body.item,
            part=taken.part,
            file=taken.file,
            seconds=taken.seconds,
            now=call.request.app[CLOCK].now(),
        )
        return StillOut.of(still, body.item)
