"""A meeting's notices through the scheduler's outbox, with a real SMTP server and WeCom robot:
the invitation with the personal link and .ics, the signal-test invitation, and the reminder to
those who have not tested, each exactly once."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from remote_check.clock import SHANGHAI, FixedClock
from remote_check.database import transaction
from scheduler.connectivity import Measured
from scheduler.meetings import links, service
from scheduler.meetings.models import Nomination
from scheduler.notify.models import Status
from tests.conftest import Database
from tests.meeting_world import outsider, world
from tests.notify_world import (
    SECRET,
    calendar_of,
    job_runner,
    method_of,
    notify_settings,
    outbox_rows,
    smtp_server,
    text_of,
    wecom_robot,
)


async def test_invitation_signal_test_and_reminder_go_out_once(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    w = await world(db, clock.now())
    first = await outsider(db, w, 1, clock.now())
    await outsider(db, w, 2, clock.now())
    await outsider(db, w, 3, clock.now(), city="4406", by=w.foshan)
    async with smtp_server() as (mailbox, port), wecom_robot() as robot:
        settings = notify_settings(db, tmp_path, port, robot)
        settings = settings.model_copy(update={"wecom_webhooks": {"4419": robot.url("4419")}})
        async with job_runner(db, settings, clock) as runner:
            await runner.run_due()
            await runner.run_due()
            assert [len(mailbox.to(f"e{n}@example.cn")) for n in (1, 2, 3)] == [1, 1, 1]
            assert len(mailbox.messages) == 3
            invitation = mailbox.to("e1@example.cn")[0]
            assert method_of(invitation) == "REQUEST"
            event = next(iter(calendar_of(invitation).walk("VEVENT")))
            assert str(event["UID"]) == f"meeting-{w.meeting_id}@remote-check"
            text = text_of(invitation)
            assert text.index("专家1：您好") < text.index("Dear 专家1")
            assert "2020-04-14 17:00" in text  # the join deadline
            link = re.search(r"https://check\.example\.cn(/m/\S+)", text)
            assert link is not None
            async with db.factory() as session:
                opened, _ = await links.open_link(
                    session, link.group(1).removeprefix("/m/"), SECRET, now=clock.now(), grace_hours=2
                )
            assert opened.id == first
            assert robot.received == {}  # a personal link never goes to a group

            clock.set(dt.datetime(2020, 4, 14, 17, 0, tzinfo=SHANGHAI))  # the join deadline
            await runner.run_due()
            tests = [m for m in mailbox.messages if "信号测试" in str(m["Subject"])]
            assert len(tests) == 3
            assert "/test" in text_of(tests[0])
            [group] = robot.received["4419"]
            assert "会前信号测试" in group["markdown"]["content"]

            async with transaction(db.factory) as session:
                nominee = await session.get(Nomination, first)
                assert nominee is not None
                measured = Measured(True, True, True, fps=28.0, bitrate_kbps=800, rtt_ms=60)
                await service.record_signal_test(session, nominee, measured, now=clock.now())
            clock.set(dt.datetime(2020, 4, 14, 19, 0, tzinfo=SHANGHAI))  # the test is over
            await runner.run_due()
            await runner.run_due()
    reminded = [
        n for n in (1, 2, 3) for m in mailbox.to(f"e{n}@example.cn") if "尚未完成" in str(m["Subject"])
    ]
    assert reminded == [2, 3]
    assert "尚有 1 人未完成测试" in robot.received["4419"][1]["markdown"]["content"]
    assert len(robot.received["4419"]) == 2
    rows = [r for r in await outbox_rows(db) if r.meeting_id == w.meeting_id]
    statuses = sorted((r.kind, r.recipient.split(":")[0], r.status) for r in rows)
    sent, obsolete = Status.SENT.value, Status.OBSOLETE.value
    assert statuses == sorted(
        [("m_invitation", "nominee", sent)] * 3
        + [("m_test", "nominee", sent)] * 3
        + [("m_test", "wecom", sent), ("m_test", "wecom", obsolete)]  # 4406 has no robot configured
        + [("m_test_remind", "nominee", sent)] * 2
        + [("m_test_remind", "wecom", sent), ("m_test_remind", "wecom", obsolete)]
    )
    assert {r.session_id for r in rows} == {None}


async def test_moving_a_meeting_sends_the_invitation_again_and_cancelling_stops_notices(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    w = await world(db, clock.now())
    await outsider(db, w, 1, clock.now())
    later = service.MeetingFields(
        "服务券抽查培训",
        dt.datetime(2020, 4, 16, 9, 0, tzinfo=SHANGHAI),
        dt.datetime(2020, 4, 16, 12, 0, tzinfo=SHANGHAI),
        speaker_ids=(w.speaker.user_id,),
    )
    async with smtp_server() as (mailbox, port):
        settings = notify_settings(db, tmp_path, port)
        async with job_runner(db, settings, clock) as runner:
            await runner.run_due()
            async with transaction(db.factory) as session:
                await service.edit_meeting(session, w.province, w.meeting_id, later, now=clock.now())
            await runner.run_due()
            await runner.run_due()
            first, second = mailbox.to("e1@example.cn")
            assert "2020-04-16 09:00" in text_of(second)
            assert int(str(next(iter(calendar_of(second).walk("VEVENT")))["SEQUENCE"])) == 2
            assert "2020-04-15 09:00" in text_of(first)
            async with transaction(db.factory) as session:
                await service.cancel_meeting(session, w.province, w.meeting_id, now=clock.now())
            clock.set(dt.datetime(2020, 4, 15, 17, 0, tzinfo=SHANGHAI))  # the new test's invitation time
            await runner.run_due()
    assert len(mailbox.messages) == 2  # nothing after the cancellation
