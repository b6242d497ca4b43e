"""The notices in the server: the outbox page (city-scoped, resend), jobs derived again after a
booking change made through the API, the no-show notice on the session page, the experts' feeds."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from icalendar import Calendar

from remote_check.accounts.models import Role
from remote_check.clock import FixedClock
from scheduler.notify.models import Status
from tests.conftest import Database, running_server
from tests.notify_world import STARTS, book, outbox_rows, smtp_server
from tests.scheduling_factories import local
from web.keys import JOBS


def _mail(port: int) -> dict[str, Any]:
    return {
        "public_url": "https://check.example.cn",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "mail_from": "notices@check.example.cn",
    }


async def test_the_outbox_page_shows_failures_to_the_citys_coordinators_and_resends(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with smtp_server() as (mailbox, port):
        booked = await book(db, clock)
        async with running_server(db, clock, tmp_path, **_mail(port)) as server:
            runner = server.test_server.app[JOBS]
            mailbox.refuse = True
            await runner.run_due()
            coordinator = await server.signed_in("coord")
            page = await (await coordinator.get("/outbox")).text()
            assert page.count('data-status="failed"') == 3
            assert "554" in page
            assert "重发" in page
            await server.add_user("fs.coord", Role.CITY_COORDINATOR, "4406")
            foshan = await server.signed_in("fs.coord")
            assert "data-status" not in await (await foshan.get("/outbox")).text()
            guest_row = next(r for r in await outbox_rows(db) if r.recipient.startswith("guest:"))
            refused = await foshan.post(f"/outbox/{guest_row.id}/resend", data={"csrf_token": foshan.csrf})
            assert refused.status == 404
            mailbox.refuse = False
            done = await coordinator.post(
                f"/outbox/{guest_row.id}/resend", data={"csrf_token": coordinator.csrf}
            )
            assert done.status == 303
            assert len(mailbox.to(booked.guest_email)) == 1
            again = await coordinator.post(
                f"/outbox/{guest_row.id}/resend", data={"csrf_token": coordinator.csrf}
            )
            assert again.status == 409  # sent: nothing to resend
            listed = await (await coordinator.get("/outbox?status=sent")).text()
            assert listed.count('data-status="sent"') == 1
            api = await (await coordinator.get("/api/outbox?status=failed")).json()
            assert api["total"] == 2
            assert all("554" in item["error"] for item in api["items"])
            expert_row = next(i for i in api["items"] if i["recipient"].startswith("expert:"))
            assert (await foshan.post(f"/api/outbox/{expert_row['id']}/resend")).status == 404
            resent = await coordinator.post(f"/api/outbox/{expert_row['id']}/resend")
            assert resent.status == 200, await resent.text()
            assert (await resent.json())["status"] == "sent"
            assert len(mailbox.to(booked.expert_email)) == 1
            assert (await (await foshan.get("/api/outbox")).json())["total"] == 0
    statuses = {r.recipient.split(":")[0]: r.status for r in await outbox_rows(db)}
    assert statuses == {"guest": Status.SENT.value, "expert": Status.SENT.value, "user": Status.FAILED.value}


async def test_a_move_through_the_api_derives_the_jobs_again_and_sends_the_update(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    async with smtp_server() as (mailbox, port):
        booked = await book(db, clock)
        async with running_server(db, clock, tmp_path, **_mail(port)) as server:
            runner = server.test_server.app[JOBS]
            sid = booked.session_id
            assert runner.planned()[f"reminder:{sid}"] == STARTS - dt.timedelta(minutes=15)
            await runner.run_due()
            coordinator = await server.signed_in("coord")
            moved = await coordinator.post(
                f"/api/sessions/{sid}/move",
                json={"starts_at": local(15, 14).isoformat(), "ends_at": local(15, 15).isoformat()},
            )
            assert moved.status == 200, await moved.text()
            await runner.settled()  # the commit hook derived the session's jobs again
            assert runner.planned()[f"reminder:{sid}"] == local(15, 14) - dt.timedelta(minutes=15)
            await runner.run_due()
    subjects = [str(m["Subject"]) for m in mailbox.to(booked.guest_email)]
    assert len(subjects) == 2
    assert "时间变更" in subjects[1]


async def test_the_no_show_check_puts_a_notice_on_the_session_page(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    booked = await book(db, clock)
    async with running_server(db, clock, tmp_path) as server:
        coordinator = await server.signed_in("coord")
        page = await (await coordinator.get(f"/sessions/{booked.session_id}")).text()
        assert 'id="no-show-asked"' not in page
        clock.set(STARTS + dt.timedelta(minutes=16))
        await server.test_server.app[JOBS].run_due()
        coordinator = await server.signed_in("coord")  # the first sign-in expired meanwhile
        page = await (await coordinator.get(f"/sessions/{booked.session_id}")).text()
        assert 'id="no-show-asked"' in page
        assert "不配合" in page


async def test_an_experts_feed_lists_their_checks_and_a_withdrawn_one_answers_404(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    booked = await book(db, clock)
    async with running_server(db, clock, tmp_path, public_url="https://check.example.cn") as server:
        expert = await server.signed_in("li.expert")
        assert (await expert.get("/me/calendar-feed")).status == 200
        made = await (await expert.post("/me/calendar-feed/new", data={"csrf_token": expert.csrf})).text()
        match = re.search(r"https://check\.example\.cn(/calendar/[A-Za-z0-9_-]+\.ics)", made)
        assert match is not None
        anyone = server.browser()
        feed = await anyone.get(match.group(1))
        assert feed.status == 200
        assert feed.content_type == "text/calendar"
        calendar = Calendar.from_ical(await feed.read())
        events = list(calendar.walk("VEVENT"))
        assert [str(e["UID"]) for e in events] == [f"check-session-{booked.session_id}@remote-check"]
        assert events[0].decoded("DTSTART") == STARTS
        newer = await (await expert.post("/me/calendar-feed/new", data={"csrf_token": expert.csrf})).text()
        assert match.group(1) not in newer
        assert (await anyone.get(match.group(1))).status == 404  # a new address revokes the old
        second = re.search(r"https://check\.example\.cn(/calendar/[A-Za-z0-9_-]+\.ics)", newer)
        assert second is not None
        assert (await anyone.get(second.group(1))).status == 200
        await expert.post("/me/calendar-feed/revoke", data={"csrf_token": expert.csrf})
        assert (await anyone.get(second.group(1))).status == 404
        coordinator = await server.signed_in("coord")
        assert (await coordinator.get("/me/calendar-feed")).status == 403  # only experts have one
