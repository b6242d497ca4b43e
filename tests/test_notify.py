"""Timed jobs and notices over real parts: an SMTP server, a WeCom robot, SQLite and PostgreSQL,
with the test's clock (the runner's timer is paused; ``run_due`` runs what is due at the clock)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from sqlalchemy import update

from remote_check.audit.service import Actor, record
from remote_check.clock import SHANGHAI, FixedClock
from remote_check.database import transaction
from scheduler.notify.changes import watch
from scheduler.notify.models import Kind, OutboxMessage, Status
from scheduler.notify.outbox import LEASE, resend
from scheduler.service import cancel_session, move_session
from tests.conftest import Database
from tests.notify_world import (
    STARTS,
    book,
    book_second,
    calendar_of,
    job_runner,
    method_of,
    notify_settings,
    outbox_rows,
    smtp_server,
    text_of,
    wecom_robot,
)
from tests.scheduling_factories import local


def _event(message: object) -> tuple[str, int, dt.datetime, str]:
    calendar = calendar_of(message)  # type: ignore[arg-type]
    event = next(iter(calendar.walk("VEVENT")))
    return (
        str(event["UID"]),
        int(str(event["SEQUENCE"])),
        event.decoded("DTSTART").astimezone(SHANGHAI),
        str(event.get("STATUS", "")),
    )


async def test_a_booking_sends_exactly_one_invitation_with_a_request_ics(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with smtp_server() as (mailbox, port), wecom_robot() as robot:
        settings = notify_settings(db, tmp_path, port, robot)
        booked = await book(db, clock)
        async with job_runner(db, settings, clock) as runner:
            planned = runner.planned()
            sid = booked.session_id
            assert planned[f"reminder:{sid}"] == STARTS - dt.timedelta(minutes=15)
            assert planned[f"no_show:{sid}"] == STARTS + dt.timedelta(minutes=15)
            # the working day before Tuesday 14 April is Monday 13 April: the signal test at 17:00
            assert planned[f"connectivity:{sid}"] == dt.datetime(2020, 4, 13, 17, tzinfo=SHANGHAI)
            assert planned[f"invitation:{sid}"] == clock.now()
            await runner.run_due()
            await runner.run_due()
    for address in (booked.guest_email, booked.expert_email, booked.coordinator_email):
        assert len(mailbox.to(address)) == 1, address
    guest_mail = mailbox.to(booked.guest_email)[0]
    assert method_of(guest_mail) == "REQUEST"
    uid, sequence, starts, status = _event(guest_mail)
    assert (uid, sequence, starts, status) == (f"check-session-{sid}@remote-check", 1, STARTS, "CONFIRMED")
    text = text_of(guest_mail)
    assert text.index("您好") < text.index("Dear")  # Chinese first
    assert "2020-04-14 10:00–11:00" in text
    assert "https://check.example.cn/join/" in text  # the guest's own signed link
    assert any(p.get_content_type() == "image/png" for p in guest_mail.walk())  # its QR code
    assert f"https://check.example.cn/sessions/{sid}" in text_of(mailbox.to(booked.expert_email)[0])
    assert len(mailbox.messages) == 3
    # the city's robot: one markdown message
    [hook] = robot.received["4401"]
    assert hook["msgtype"] == "markdown"
    assert "远程核查会议邀请" in hook["markdown"]["content"]
    rows = await outbox_rows(db)
    assert {r.status for r in rows} == {Status.SENT.value}
    assert sorted(r.recipient.split(":")[0] for r in rows) == ["expert", "guest", "user", "wecom"]


async def test_a_restart_between_booking_and_reminder_still_sends_exactly_one_reminder(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with smtp_server() as (mailbox, port):
        settings = notify_settings(db, tmp_path, port)
        booked = await book(db, clock)
        async with job_runner(db, settings, clock) as first:
            await first.run_due()
        clock.set(STARTS - dt.timedelta(minutes=10))  # the server was down when the reminder was due
        async with job_runner(db, settings, clock, own_engine=True) as second:
            assert f"reminder:{booked.session_id}" in second.planned()
            await second.run_due()
            await second.run_due()
        async with job_runner(db, settings, clock, own_engine=True) as third:
            await third.run_due()
    subjects = [str(m["Subject"]) for m in mailbox.to(booked.guest_email)]
    assert sum("即将开始" in s for s in subjects) == 1
    assert sum("会议邀请" in s for s in subjects) == 1
    # and the connectivity-test invitation, due since Monday 17:00, went out once after the restart
    assert sum("网络与设备测试" in s for s in subjects) == 1
    kinds = [r.kind for r in await outbox_rows(db) if r.recipient.startswith("guest:")]
    assert sorted(kinds) == ["connectivity", "invitation", "reminder"]


async def test_a_reminder_missed_by_more_than_the_grace_is_dropped(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with smtp_server() as (mailbox, port):
        settings = notify_settings(db, tmp_path, port, jobs_misfire_grace_minutes=5)
        booked = await book(db, clock)
        clock.set(STARTS - dt.timedelta(minutes=5))  # ten minutes after the reminder, the grace is five
        async with job_runner(db, settings, clock) as runner:
            assert f"reminder:{booked.session_id}" not in runner.planned()
            await runner.run_due()
    assert not any("即将开始" in str(m["Subject"]) for m in mailbox.messages)


async def test_two_processes_at_once_send_once(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    async with smtp_server() as (mailbox, port):
        settings = notify_settings(db, tmp_path, port)
        booked = await book(db, clock)
        async with (
            job_runner(db, settings, clock, own_engine=True) as one,
            job_runner(db, settings, clock, own_engine=True) as two,
        ):
            # on PostgreSQL only one of them runs jobs (the advisory lock); on SQLite both try
            assert [one.leading, two.leading].count(True) == (1 if db.kind == "postgresql" else 2)
            await asyncio.gather(one.run_due(), two.run_due(), one.run_due(), two.run_due())
    for address in (booked.guest_email, booked.expert_email, booked.coordinator_email):
        assert len(mailbox.to(address)) == 1, address


async def test_a_moved_check_sends_an_update_of_the_same_event(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with smtp_server() as (mailbox, port):
        settings = notify_settings(db, tmp_path, port)
        booked = await book(db, clock)
        async with job_runner(db, settings, clock) as runner:
            await runner.run_due()
            async with transaction(db.factory) as session:
                await move_session(
                    session,
                    booked.coordinator,
                    booked.session_id,
                    local(15, 14),
                    local(15, 15),
                    now=clock.now(),
                )
            await runner.sync({booked.session_id})
            await runner.run_due()
            await runner.run_due()
            assert runner.planned()[f"reminder:{booked.session_id}"] == local(15, 14) - dt.timedelta(
                minutes=15
            )
    first, update = mailbox.to(booked.guest_email)
    uid1, seq1, start1, _ = _event(first)
    uid2, seq2, start2, _ = _event(update)
    assert uid1 == uid2
    assert seq2 > seq1
    assert (start1, start2) == (STARTS, local(15, 14))
    assert method_of(update) == "REQUEST"
    assert "时间变更" in str(update["Subject"])


async def test_a_cancel_sends_method_cancel_and_nothing_after(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with smtp_server() as (mailbox, port):
        settings = notify_settings(db, tmp_path, port)
        booked = await book(db, clock)
        async with job_runner(db, settings, clock) as runner:
            await runner.run_due()
            async with transaction(db.factory) as session:
                await cancel_session(session, booked.coordinator, booked.session_id, now=clock.now())
            await runner.sync({booked.session_id})
            await runner.run_due()
            clock.set(STARTS - dt.timedelta(minutes=10))
            await runner.run_due()
    invitation, cancel = mailbox.to(booked.guest_email)
    assert method_of(cancel) == "CANCEL"
    uid, sequence, _, status = _event(cancel)
    assert uid == _event(invitation)[0]
    assert sequence > _event(invitation)[1]
    assert status == "CANCELLED"
    assert len(mailbox.to(booked.expert_email)) == 2  # its invitation and its cancellation, no reminder


async def test_a_failing_smtp_server_is_recorded_retried_with_backoff_and_resent(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with smtp_server() as (mailbox, port):
        settings = notify_settings(db, tmp_path, port, outbox_max_attempts=2)
        booked = await book(db, clock)
        mailbox.refuse = True
        async with job_runner(db, settings, clock) as runner:
            await runner.run_due()
            failed = [r for r in await outbox_rows(db) if r.channel == "email"]
            assert {r.status for r in failed} == {Status.FAILED.value}
            assert all("554" in r.error for r in failed)
            await runner.run_due()  # not yet: the first retry waits a minute
            assert {r.attempts for r in await outbox_rows(db)} == {1}
            clock.advance(dt.timedelta(minutes=1))
            await runner.run_due()
            assert {r.status for r in await outbox_rows(db)} == {Status.GAVE_UP.value}
            mailbox.refuse = False
            guest_row = next(r for r in await outbox_rows(db) if r.recipient.startswith("guest:"))
            async with transaction(db.factory) as session:
                await resend(session, booked.coordinator, guest_row.id, now=clock.now())
            assert await runner.resend_now() == 1
    assert len(mailbox.to(booked.guest_email)) == 1
    assert len(mailbox.messages) == 1
    statuses = {r.recipient.split(":")[0]: r.status for r in await outbox_rows(db)}
    assert statuses["guest"] == Status.SENT.value
    assert statuses["expert"] == Status.GAVE_UP.value


async def test_the_no_show_check_asks_the_coordinator_unless_the_enterprise_came(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with smtp_server() as (mailbox, port), wecom_robot() as robot:
        settings = notify_settings(db, tmp_path, port, robot)
        booked = await book(db, clock)
        second = await book_second(db, clock)
        async with transaction(db.factory) as session:  # the second's enterprise guest entered its room
            await record(
                session,
                Actor(f"guest:{second.guest_id}", "4401"),
                "room.join",
                f"session:{second.session_id}",
                at=STARTS,
                details={"person": f"guest:{second.guest_id}"},
            )
        clock.set(STARTS + dt.timedelta(minutes=16))
        async with job_runner(db, settings, clock) as runner:
            await runner.run_due()
    rows = [r for r in await outbox_rows(db) if r.kind == Kind.NO_SHOW.value]
    assert {r.session_id for r in rows} == {booked.session_id}
    assert {r.channel for r in rows} == {"page", "email", "wecom"}
    asked = [m for m in mailbox.to(booked.coordinator_email) if "不配合" in str(m["Subject"])]
    assert len(asked) == 1
    assert any("不配合" in h["markdown"]["content"] for h in robot.received["4401"])


async def test_on_postgresql_one_runner_runs_jobs_and_another_takes_over(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with smtp_server() as (mailbox, port):
        settings = notify_settings(db, tmp_path, port)
        booked = await book(db, clock)
        async with (
            job_runner(db, settings, clock, own_engine=True) as one,
            job_runner(db, settings, clock, own_engine=True) as two,
        ):
            if db.kind == "sqlite":  # one server: it runs them
                assert (one.leading, two.leading) == (True, True)
                return
            assert (one.leading, two.leading) == (True, False)
            assert await two.run_due() == 0
            assert await two.try_lead() is False
            assert two.planned() == {}
            await one.close()  # the holder goes away (its connection, and the lock, with it)
            assert await two.try_lead() is True
            assert f"reminder:{booked.session_id}" in two.planned()
            assert await two.run_due() == 3
    assert len(mailbox.messages) == 3


async def test_a_booking_made_in_another_process_reaches_the_job_runner_by_notify(
    postgres_db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    """Two servers on one PostgreSQL: the one that books does not run jobs; it announces the change
    (NOTIFY) and the holder of the jobs' lock plans the new check's notices."""
    db = postgres_db
    async with smtp_server() as (_mailbox, port):
        settings = notify_settings(db, tmp_path, port)
        async with (
            job_runner(db, settings, clock, own_engine=True) as leader,
            job_runner(db, settings, clock, own_engine=True) as other,
        ):
            assert (leader.leading, other.leading) == (True, False)
            heard: asyncio.Queue[set[int]] = asyncio.Queue()
            assert leader.leadership is not None
            plan_them = leader.leadership.on_notice

            def hearing(ids: set[int]) -> None:
                plan_them(ids)
                heard.put_nowait(ids)

            leader.leadership.on_notice = hearing
            watch(db.factory, other.changed)  # the booking process's commits go through `other`
            booked = await book(db, clock)
            await other.settled()  # its announcement is sent
            assert booked.session_id in await asyncio.wait_for(heard.get(), timeout=10)
            await leader.settled()
            assert f"reminder:{booked.session_id}" in leader.planned()
            assert other.planned() == {}


async def test_a_notice_sent_again_after_a_crash_is_the_same_mail(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    """A sender that dies after the SMTP server took a mail, before recording it, leaves the row
    claimed; once the claim lapses the mail goes out again, with the same Message-ID, so the
    recipient's mail client shows one message."""
    async with smtp_server() as (mailbox, port):
        settings = notify_settings(db, tmp_path, port)
        booked = await book(db, clock)
        async with job_runner(db, settings, clock) as runner:
            await runner.run_due()
            guest_row = next(r for r in await outbox_rows(db) if r.recipient.startswith("guest:"))
            async with transaction(db.factory) as session:  # what the crash left behind
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == guest_row.id)
                    .values(status=Status.SENDING.value, sent_at=None, claimed_at=clock.now())
                )
            clock.advance(LEASE + dt.timedelta(minutes=1))
            await runner.run_due()
    first, second = mailbox.to(booked.guest_email)
    assert first["Message-ID"] == second["Message-ID"]
    others = {m["Message-ID"] for m in mailbox.messages if booked.guest_email not in str(m["To"])}
    assert first["Message-ID"] not in others
    assert len(others) == len(mailbox.messages) - 2
