"""Province meetings on both databases: defaults, the city quota (also under a race), personal
links, the signal test, attendance and the per-city overview."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.clock import SHANGHAI, FixedClock
from remote_check.database import transaction
from remote_check.errors import Conflict, DomainError, Forbidden
from scheduler.connectivity import Measured
from scheduler.invitations import Invitation, InvitationRefused, Refusal, sign
from scheduler.meetings import links, service
from scheduler.meetings import overview as ov
from scheduler.meetings.models import Meeting, Nomination, NomineeRole
from tests.conftest import Database
from tests.meeting_world import ENDS, SECRET, STARTS, outsider, world
from tests.test_campaign_races import race

GOOD = Measured(True, True, True, fps=29.5, bitrate_kbps=900, rtt_ms=40, user_agent="Chromium")
POOR = Measured(True, True, False, fps=12.0, bitrate_kbps=90, rtt_ms=600)


async def test_the_notice_defaults_deadline_and_signal_test(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now())
    async with db.factory() as session:
        meeting = await service.get_meeting(session, w.meeting_id)
        speakers = await service.speaker_ids(session, w.meeting_id)
    assert meeting.city_quota == 12
    assert meeting.join_deadline == dt.datetime(2020, 4, 14, 17, 0, tzinfo=SHANGHAI)
    assert meeting.test_starts_at == dt.datetime(2020, 4, 14, 18, 0, tzinfo=SHANGHAI)
    assert meeting.test_ends_at == dt.datetime(2020, 4, 14, 19, 0, tzinfo=SHANGHAI)
    assert speakers == [w.speaker.user_id]


async def test_only_the_province_creates_a_meeting(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now())
    with pytest.raises(Forbidden):
        async with transaction(db.factory) as session:
            await service.create_meeting(
                session, w.dongguan, service.MeetingFields("x", STARTS, ENDS), now=clock.now()
            )


async def test_the_thirteenth_nomination_of_a_city_is_refused(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now())
    for n in range(12):
        await outsider(db, w, n, clock.now())
    with pytest.raises(Conflict) as refused:
        await outsider(db, w, 12, clock.now())
    assert "12" in refused.value.message.zh
    assert "quota (12 people)" in refused.value.message.en
    await outsider(db, w, 13, clock.now(), city="4406", by=w.foshan)  # another city has its own 12
    async with db.factory() as session:
        views = await ov.overview(session, w.province, w.meeting_id)
    counts = {v.code: len(v.people) for v in views}
    assert counts["4419"] == 12
    assert counts["4406"] == 1
    assert len(views) == 21


async def test_a_coordinator_nominates_for_their_own_city_only(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now())
    with pytest.raises(Forbidden):
        await outsider(db, w, 1, clock.now(), city="4406", by=w.dongguan)
    with pytest.raises(Forbidden):
        await outsider(db, w, 1, clock.now(), by=w.expert)


async def test_an_existing_user_is_nominated_once_with_their_name(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now())
    nominee = service.Nominee(NomineeRole.EXPERT, user_id=w.expert.user_id)
    async with transaction(db.factory) as session:
        row = await service.nominate(session, w.dongguan, w.meeting_id, "4419", nominee, now=clock.now())
        assert (row.organisation, row.name) == ("expert单位", "expert-显示名")
    with pytest.raises(Conflict):
        async with transaction(db.factory) as session:
            await service.nominate(session, w.dongguan, w.meeting_id, "4419", nominee, now=clock.now())


async def test_nominations_close_at_the_join_deadline(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now())
    clock.set(dt.datetime(2020, 4, 14, 17, 0, tzinfo=SHANGHAI))
    with pytest.raises(Conflict):
        await outsider(db, w, 1, clock.now())


async def test_two_concurrent_nominations_cannot_make_thirteen(db: Database, clock: FixedClock) -> None:
    """A at 11 nominates the 12th and stays open; B (also seeing 11 before A commits) must wait
    for A's lock on the meeting and is then refused: never 13."""
    w = await world(db, clock.now())
    for n in range(11):
        await outsider(db, w, n, clock.now())

    def attempt(n: int):  # type: ignore[no-untyped-def]
        async def _nominate(session: AsyncSession) -> object:
            return await service.nominate(
                session,
                w.dongguan,
                w.meeting_id,
                "4419",
                service.Nominee(NomineeRole.STAFF, organisation="局", name=f"经办人{n}"),
                now=clock.now(),
            )

        return _nominate

    outcome = await race(db, attempt(100), attempt(101))
    assert isinstance(outcome, Conflict)
    async with db.factory() as session:
        views = await ov.overview(session, w.dongguan, w.meeting_id)
    assert [len(v.people) for v in views] == [12]


async def test_a_personal_link_opens_until_withdrawn_or_expired(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now())
    nomination_id = await outsider(db, w, 1, clock.now())
    async with db.factory() as session:
        row = await session.get(Nomination, nomination_id)
        assert row is not None
        path = links.link_path(row, SECRET)
        token = path.removeprefix("/m/")
        opened, meeting = await links.open_link(session, token, SECRET, now=clock.now(), grace_hours=2)
        assert (opened.id, meeting.id) == (nomination_id, w.meeting_id)
        # a guest link's key does not open a meeting link with the same numbers
        guest_token = sign(Invitation(row.id, row.meeting_id, row.link_nonce), SECRET)
        with pytest.raises(InvitationRefused) as forged:
            await links.open_link(session, guest_token, SECRET, now=clock.now(), grace_hours=2)
        assert forged.value.reason == Refusal.FORGED
        with pytest.raises(InvitationRefused) as expired:
            await links.open_link(session, token, SECRET, now=ENDS + dt.timedelta(hours=2), grace_hours=2)
        assert expired.value.reason == Refusal.EXPIRED
    async with transaction(db.factory) as session:
        await service.withdraw(session, w.dongguan, nomination_id, now=clock.now())
    async with db.factory() as session:
        with pytest.raises(InvitationRefused) as revoked:
            await links.open_link(session, token, SECRET, now=clock.now(), grace_hours=2)
    assert revoked.value.reason == Refusal.REVOKED


async def test_another_citys_nomination_cannot_be_withdrawn(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now())
    nomination_id = await outsider(db, w, 1, clock.now())
    with pytest.raises(DomainError) as refused:
        async with transaction(db.factory) as session:
            await service.withdraw(session, w.foshan, nomination_id, now=clock.now())
    assert refused.value.status == 404


async def test_signal_tests_and_attendance_per_city(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now())
    for n in range(3):
        await outsider(db, w, n, clock.now())
    ids = [await outsider(db, w, n, clock.now()) for n in range(3, 6)]
    f = await outsider(db, w, 9, clock.now(), city="4406", by=w.foshan)
    evening = dt.datetime(2020, 4, 14, 18, 10, tzinfo=SHANGHAI)
    async with transaction(db.factory) as session:
        one = await session.get(Nomination, ids[0])
        two = await session.get(Nomination, ids[1])
        assert one is not None
        assert two is not None
        await service.record_signal_test(session, one, POOR, now=evening)
        await service.record_signal_test(session, one, GOOD, now=evening + dt.timedelta(minutes=5))
        await service.record_signal_test(session, two, POOR, now=evening)
        await service.join(session, one, now=STARTS)
        await service.leave(session, one, now=STARTS + dt.timedelta(minutes=50))
        await service.join(session, one, now=STARTS + dt.timedelta(minutes=55))
    async with db.factory() as session:
        (dongguan,) = await ov.overview(session, w.dongguan, w.meeting_id)
        province = {v.code: v for v in await ov.overview(session, w.province, w.meeting_id)}
    by_id = {p.nomination.id: p for p in dongguan.people}
    assert f not in by_id
    assert len(dongguan.people) == 6
    latest, poor = by_id[ids[0]].test, by_id[ids[1]].test
    assert latest is not None
    assert latest.passed  # the latest test counts
    assert poor is not None
    assert not poor.passed
    assert poor.bitrate_kbps == 90
    assert dongguan.tested == 2
    assert len(dongguan.untested) == 4
    assert dongguan.attended == 1
    assert province["4406"].untested[0].nomination.id == f
    rows = ov.attendance_rows([dongguan], now=ENDS)
    mine = [r for r in rows if r[2] == "专家3"]
    assert mine[0][4:] == ["2020-04-15 09:00", "2020-04-15 09:50"]
    assert mine[1][4].startswith("2020-04-15 09:55")
    assert "still in" in mine[1][5]


async def test_the_quota_cannot_drop_below_a_citys_nominations(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now(), quota=3)
    for n in range(3):
        await outsider(db, w, n, clock.now())
    fields = service.MeetingFields("服务券抽查培训", STARTS, ENDS, city_quota=2)
    with pytest.raises(Conflict):
        async with transaction(db.factory) as session:
            await service.edit_meeting(session, w.province, w.meeting_id, fields, now=clock.now())
    async with transaction(db.factory) as session:
        later = service.MeetingFields("服务券抽查培训（改）", STARTS, ENDS, city_quota=5)
        meeting: Meeting = await service.edit_meeting(
            session, w.province, w.meeting_id, later, now=clock.now()
        )
        assert meeting.city_quota == 5
        assert meeting.title.endswith("（改）")


async def test_a_time_out_of_range_is_refused(db: Database, clock: FixedClock) -> None:
    w = await world(db, clock.now())
    far = dt.datetime(1, 1, 1, 9, 0, tzinfo=dt.UTC)
    with pytest.raises(DomainError) as refused:
        async with transaction(db.factory) as session:
            await service.create_meeting(
                session, w.province, service.MeetingFields("x", far, ENDS), now=clock.now()
            )
    assert refused.value.status == 422
