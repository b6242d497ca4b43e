"""Holds: a coordinator keeps a time (project, start, panel) for 5 minutes while filling the
booking form; for everyone else it is booked, and it lapses by itself."""

from __future__ import annotations

from remote_check.accounts.access import Permission
from scheduler.holds import NewHold, cancel_hold, hold_time
from scheduler.schemas import HoldCreate, HoldOut
from web.api.openapi import ClashResponse
from web.api.registry import Api, Call
from web.keys import CLOCK

api = Api("sessions")


@api.post(
    "/api/holds",
    summary="Hold a time for 5 minutes (refused with the booking's 409, naming every clash and "
    "offering the nearest free times)",
    permission=Permission.SESSION_WRITE,
    status=201,
    conflict=ClashResponse,
)
async def create_hold(call: Call, body: HoldCreate) -> HoldOut:
    new = NewHold(body.project_id, body.starts_at, body.ends_at, body.panel)
    async with call.transaction() as session:
        hold = await hold_time(session, call.user, new, now=call.request.app[CLOCK].now())
    return HoldOut(
        id=hold.id,
        project_id=hold.project_id,
        starts_at=hold.starts_at,
        ends_at=hold.ends_at,
        panel=hold.panel,
        expires_at=hold.expires_at,
    )


@api.delete(
    r"/api/holds/{hold_id:\d+}", summary="Let go of one's own hold", permission=Permission.SESSION_WRITE
)
async def delete_hold(call: Call) -> None:
    async with call.transaction() as session:
        await cancel_hold(session, call.user, call.path_int("hold_id"), now=call.request.app[CLOCK].now())
