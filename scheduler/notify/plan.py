"""Which notices a session needs and when: pure, from the session's row and the clock.

Each :class:`Item` is due over ``[at, until)``: the invitation (and an update after a move) from
the booking until the start; the connectivity-test invitation from 17:00 (local) of the working
day before until the start (a check booked later gets it at once); the reminder ``reminder``
before the start; the no-show check ``no_show`` after it; the cancellation until the start it
cancelled. The reminder and the no-show check are dropped once they are ``grace`` late, so a
restart after a long outage does not remind people of a check that is over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from remote_check.clock import SHANGHAI
from scheduler.models import SessionStatus
from scheduler.notify.models import Kind
from scheduler.planning.calendar import is_working_day_or_weekday

LIVE = (SessionStatus.BOOKED, SessionStatus.IN_PROGRESS, SessionStatus.INTERRUPTED)


@dataclass(frozen=True)
class Timing:
    """When the timed notices go out (from the settings)."""

    reminder: dt.timedelta = dt.timedelta(minutes=15)
    no_show: dt.timedelta = dt.timedelta(minutes=15)
    grace: dt.timedelta = dt.timedelta(hours=1)
    connectivity_hour: int = 17


@dataclass(frozen=True)
class Facts:
    """What the plan needs of a session (a :class:`~scheduler.models.CheckSession`)."""

    id: int
    status: SessionStatus
    starts_at: dt.datetime
    created_at: dt.datetime
    ended_at: dt.datetime | None
    version: int


@dataclass(frozen=True)
class Item:
    """One notice of one session, due over ``[at, until)``."""

    kind: Kind
    session_id: int
    version: int
    at: dt.datetime
    until: dt.datetime

    @property
    def job_id(self) -> str:
        """The APScheduler job's id: ``reminder:12``."""
        return f"{self.kind.value}:{self.session_id}"

    def due(self, now: dt.datetime) -> bool:
        return self.at <= now < self.until


def working_day_before(day: dt.date) -> dt.date:
    """The last official working day before ``day`` (holidays and 调休 counted); a day before the
    known calendar counts as working if it is a weekday."""
    day -= dt.timedelta(days=1)
    for _ in range(40):  # the longest holiday is about nine days
        if is_working_day_or_weekday(day):
            return day
        day -= dt.timedelta(days=1)
    return day


def connectivity_at(starts_at: dt.datetime, hour: int) -> dt.datetime:
    """``hour`` o'clock (Asia/Shanghai) on the working day before the session's day."""
    day = working_day_before(starts_at.astimezone(SHANGHAI).date())
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI).astimezone(dt.UTC)


def items(facts: Facts, timing: Timing) -> list[Item]:
    """Every notice ``facts`` needs, whether due yet or not."""
    start, sid, version = facts.starts_at, facts.id, facts.version
    if facts.status == SessionStatus.CANCELLED:
        ended = facts.ended_at or facts.created_at
        return [Item(Kind.CANCEL, sid, version, ended, start)]
    if facts.status not in LIVE:
        return []
    test_at = min(connectivity_at(start, timing.connectivity_hour), start)
    reminder_at = start - timing.reminder
    no_show_at = start + timing.no_show
    found = [
        Item(Kind.CONNECTIVITY, sid, version, test_at, start),  # booked late: at once
        Item(Kind.REMINDER, sid, version, reminder_at, min(reminder_at + timing.grace, no_show_at)),
        Item(Kind.NO_SHOW, sid, version, no_show_at, no_show_at + timing.grace),
    ]
    if facts.status == SessionStatus.BOOKED:
        found.insert(0, Item(Kind.INVITATION, sid, version, facts.created_at, start))
    return found


def due_items(facts: Facts, timing: Timing, now: dt.datetime) -> list[Item]:
    """The notices of ``facts`` due at ``now``."""
    return [item for item in items(facts, timing) if item.due(now)]
