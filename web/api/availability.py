"""A city's availability (issue 11's rules' data), for its coordinators and the province: the
unavailability of the experts serving the city and of its enterprises, its closed days and its
rooms. Another city's is 403; each change is audited; bad input is a 4xx changing nothing."""

from __future__ import annotations

from remote_check.accounts.access import Permission
from remote_check.audit.service import Actor
from scheduler.availability_admin import set_city_rooms
from scheduler.availability_city import (
    CityAvailability,
    Entry,
    add_city_unavailability,
    check_city,
    city_availability,
    close_day_of_city,
    parse_day,
    remove_city_unavailability,
    reopen_city_day,
)
from scheduler.availability_schemas import (
    CityAvailabilityOut,
    ClosedDayAdded,
    ClosedDayCreate,
    ClosedDayOut,
    PartyOut,
    RoomsUpdate,
    UnavailableAdded,
    UnavailableCreate,
    UnavailableOut,
)
from web.api.registry import Api, Call
from web.keys import CLOCK

api = Api("availability")

CITY = r"/api/cities/{code:\d{4}}"
WRITE = Permission.AVAILABILITY_WRITE


def entry_out(entry: Entry) -> UnavailableOut:
    row = entry.row
    return UnavailableOut(
        id=row.id,
        kind=row.kind,
        party_id=row.party_id,
        name=entry.party.name,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
    )


def availability_out(found: CityAvailability) -> CityAvailabilityOut:
    """The JSON of a city's availability."""
    return CityAvailabilityOut(
        city_code=found.city.code,
        rooms=found.city.rooms,
        closed_days=[ClosedDayOut(day=c.day, reason=c.reason) for c in found.closed],
        unavailable=[entry_out(e) for e in found.unavailable],
        experts=[PartyOut(kind=p.kind, id=p.id, name=p.name) for p in found.experts],
        enterprises=[PartyOut(kind=p.kind, id=p.id, name=p.name) for p in found.enterprises],
    )


@api.get(CITY + "/availability", summary="A city's rooms, closed days and unavailability", permission=WRITE)
async def get_availability(call: Call) -> CityAvailabilityOut:
    async with call.read() as session:
        found = await city_availability(
            session, call.user, call.request.match_info["code"], now=call.request.app[CLOCK].now()
        )
        return availability_out(found)


@api.post(
    CITY + "/unavailability",
    summary="Mark an expert serving the city or one of its enterprises unavailable (with the checks "
    "already booked then, which stay booked)",
    permission=WRITE,
    status=201,
)
async def add_unavailable(call: Call, body: UnavailableCreate) -> UnavailableAdded:
    async with call.transaction() as session:
        entry = await add_city_unavailability(
            session,
            call.user,
            call.request.match_info["code"],
            body.kind,
            body.party_id,
            body.starts_at,
            body.ends_at,
            body.reason,
            now=call.request.app[CLOCK].now(),
        )
        return UnavailableAdded(**entry_out(entry).model_dump(), affected_sessions=list(entry.affected))


@api.delete(CITY + r"/unavailability/{entry_id:\d+}", summary="Remove one unavailability", permission=WRITE)
async def remove_unavailable(call: Call) -> None:
    async with call.transaction() as session:
        await remove_city_unavailability(
            session,
            call.user,
            call.request.match_info["code"],
            call.path_int("entry_id"),
            now=call.request.app[CLOCK].now(),
        )


@api.post(
    CITY + "/closed-days",
    summary="Close a day in the city (with the checks already booked that day, which stay booked)",
    permission=WRITE,
    status=201,
)
async def close_day(call: Call, body: ClosedDayCreate) -> ClosedDayAdded:
    async with call.transaction() as session:
        affected = await close_day_of_city(
            session,
            call.user,
            call.request.match_info["code"],
            body.day,
            body.reason,
            now=call.request.app[CLOCK].now(),
        )
    return ClosedDayAdded(day=body.day, reason=body.reason, affected_sessions=list(affected))


@api.delete(
    CITY + r"/closed-days/{day:\d{4}-\d{2}-\d{2}}", summary="Open a closed day again", permission=WRITE
)
async def reopen_day(call: Call) -> None:
    code = call.request.match_info["code"]
    day = parse_day(call.request.match_info["day"])
    async with call.transaction() as session:
        await reopen_city_day(session, call.user, code, day, now=call.request.app[CLOCK].now())


@api.patch(
    CITY + "/rooms",
    summary="Set how many checks the city holds at once (409 if fewer than it has booked at once)",
    permission=WRITE,
)
async def set_rooms(call: Call, body: RoomsUpdate) -> RoomsUpdate:
    code = call.request.match_info["code"]
    async with call.transaction() as session:
        await check_city(session, call.user, code)
        await set_city_rooms(
            session, code, body.rooms, actor=Actor.of(call.user), now=call.request.app[CLOCK].now()
        )
    return body
