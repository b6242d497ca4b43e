"""A province meeting and the people around it, for the meeting tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role, User
from remote_check.accounts.service import NewUser, create_user, principal_for
from remote_check.audit.service import Actor
from remote_check.clock import SHANGHAI
from remote_check.database import transaction
from scheduler.meetings.models import NomineeRole
from scheduler.meetings.service import MeetingFields, Nominee, create_meeting, nominate
from tests.conftest import Database

STARTS = dt.datetime(2020, 4, 15, 9, 0, tzinfo=SHANGHAI)
ENDS = dt.datetime(2020, 4, 15, 12, 0, tzinfo=SHANGHAI)
SECRET = b"meeting-test-secret-0123456789abcdef"


@dataclass
class World:
    province: Principal
    dongguan: Principal  # coordinator of 4419
    foshan: Principal  # coordinator of 4406
    speaker: Principal  # an expert who speaks
    expert: Principal  # an expert who does not
    meeting_id: int


async def _user(db: Database, now: dt.datetime, name: str, role: Role, city: str | None) -> Principal:
    async with transaction(db.factory) as session:
        user: User = await create_user(
            session,
            NewUser(name, f"{name}-显示名", role, "correct-horse-battery", city, organisation=f"{name}单位"),
            actor=Actor.cli(),
            now=now,
        )
        return await principal_for(session, user)


async def world(db: Database, now: dt.datetime, *, quota: int = 12) -> World:
    """A province admin, two coordinators, a speaker and a training on 2020-04-15 09:00-12:00."""
    province = await _user(db, now, "province", Role.PROVINCE_ADMIN, None)
    dongguan = await _user(db, now, "dongguan", Role.CITY_COORDINATOR, "4419")
    foshan = await _user(db, now, "foshan", Role.CITY_COORDINATOR, "4406")
    speaker = await _user(db, now, "speaker", Role.EXPERT, None)
    expert = await _user(db, now, "expert", Role.EXPERT, None)
    async with transaction(db.factory) as session:
        meeting = await create_meeting(
            session,
            province,
            MeetingFields("服务券抽查培训", STARTS, ENDS, city_quota=quota, speaker_ids=(speaker.user_id,)),
            now=now,
        )
        meeting_id = meeting.id
    return World(province, dongguan, foshan, speaker, expert, meeting_id)


async def outsider(
    db: Database, w: World, n: int, now: dt.datetime, *, city: str = "4419", by: Principal | None = None
) -> int:
    """Nominate a named outsider (an expert) for ``city``; return the nomination's id."""
    async with transaction(db.factory) as session:
        row = await nominate(
            session,
            by or w.dongguan,
            w.meeting_id,
            city,
            Nominee(NomineeRole.EXPERT, organisation=f"单位{n}", name=f"专家{n}", email=f"e{n}@example.cn"),
            now=now,
        )
        return row.id
