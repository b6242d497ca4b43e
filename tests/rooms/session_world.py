"""A check session with its people, for the room tests: a host, experts on and off the panel,
observers, staff of another city, and guests with their links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp.test_utils import TestServer

from remote_check.accounts.models import Role
from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.experts.models import Expert
from scheduler.guests import NewGuest, add_guest, link_for
from scheduler.lifecycle import open_room
from scheduler.models import GuestKind
from scheduler.service import NewSession, book_session
from tests.conftest import Database
from tests.rooms.synthetic import Changes, EncodedClip, SyntheticClient
from tests.scheduling_factories import add_expert, add_principal, add_project, add_supplier, local
from tests.web_helpers import Browser, WebServer
from web.keys import SECRET, SETTINGS


@dataclass
class World:
    web: WebServer
    session_id: int
    cluster_session_id: int
    tokens: dict[str, str]  # guest kind -> link token
    guest_ids: dict[str, int]

    def room_ws(self, session_id: int | None = None) -> str:
        return str(self.web.test_server.make_url(f"/sessions/{session_id or self.session_id}/room/ws"))

    def guest_ws(self, token: str, lang: str = "zh") -> str:
        return str(self.web.test_server.make_url(f"/join/{token}/ws?lang={lang}"))

    async def staff(self, username: str) -> Browser:
        return await self.web.signed_in(username)


USERS = [
    ("gz.coord", Role.CITY_COORDINATOR, "4401"),
    ("sz.coord", Role.CITY_COORDINATOR, "4403"),
    ("admin", Role.PROVINCE_ADMIN, None),
    ("gz.auditor", Role.AUDITOR, "4401"),
    ("alliance", Role.ALLIANCE_STAFF, None),
    ("expert.on", Role.EXPERT, None),
    ("expert.off", Role.EXPERT, None),
]


async def build_world(server: TestServer, db: Database, clock: FixedClock) -> World:
    """A session on 11 April 10:00-11:00 in Guangzhou, with an enterprise, a supplier and an
    observer guest; a cluster session too, whose room the host opened early. Booked on 10 April
    09:00; the clock is then at 11 April 09:50, when the session's room is open."""
    web = WebServer(server, db, clock)
    async with transaction(db.factory) as session:
        principals = {name: await add_principal(session, name, role, city) for name, role, city in USERS}
        supplier = await add_supplier(session, "粤云科技")
        project = await add_project(session, supplier)
        cluster = await add_project(session, supplier, is_cluster=True)
        experts: list[Expert] = [await add_expert(session, f"专家{i}") for i in range(4)]
        experts[0].user_id = principals["expert.on"].user_id
        experts[3].user_id = principals["expert.off"].user_id
        coordinator = principals["gz.coord"]
        check = await book_session(
            session,
            coordinator,
            NewSession(
                project.id,
                local(11, 10),
                local(11, 11),
                [e.id for e in experts[:3]],
                confirmed_off_hours=True,
            ),
            now=clock.now(),
        )
        other = await book_session(
            session,
            coordinator,
            NewSession(
                cluster.id,
                local(12, 10),
                local(12, 11),
                [e.id for e in experts[:3]],
                confirmed_off_hours=True,
            ),
            now=clock.now(),
        )
        tokens, ids = {}, {}
        secret, grace = server.app[SECRET], server.app[SETTINGS].invitation_grace_hours
        for kind, name, organisation in (
            (GuestKind.ENTERPRISE, "陈经理", ""),
            (GuestKind.SUPPLIER, "李工", ""),
            (GuestKind.OBSERVER, "林", "省审计厅"),
        ):
            guest, check = await add_guest(
                session, coordinator, check.id, NewGuest(kind, name, organisation), now=clock.now()
            )
            tokens[kind.value] = link_for(guest, check, secret, grace).href.removeprefix("/join/")
            ids[kind.value] = guest.id
        await open_room(session, coordinator, other.id, now=clock.now())  # the cluster session's, early
    clock.set(local(11, 9, 50))  # the session's room is open (from 15 minutes before)
    return World(web, check.id, other.id, tokens, ids)


async def join_staff(
    world: World, usernames: Sequence[str], clip: EncodedClip, changes: Changes, into: list[SyntheticClient]
) -> None:
    """Synthetic participants for staff users, signed in and joined in turn, added to ``into`` as
    they are made (the caller closes them, even when a join fails)."""
    for username in usernames:
        http = (await world.staff(username)).session
        into.append(SyntheticClient(world.room_ws(), username, clip, changes=changes, http=http))
        await into[-1].join(name=False)
