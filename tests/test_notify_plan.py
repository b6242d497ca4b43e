"""When each notice of a session is due (pure), and what an invitation's calendar says."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar

from remote_check.clock import SHANGHAI
from scheduler.models import SessionStatus
from scheduler.notify import ics
from scheduler.notify.models import Kind
from scheduler.notify.outbox import backoff
from scheduler.notify.plan import Facts, Timing, connectivity_at, items, working_day_before


def _at(y: int, m: int, d: int, h: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=SHANGHAI)


def test_the_connectivity_test_goes_out_at_17_00_of_the_working_day_before() -> None:
    assert connectivity_at(_at(2020, 4, 14, 10), 17) == _at(2020, 4, 13, 17)  # Tuesday: Monday
    assert connectivity_at(_at(2020, 4, 13, 10), 17) == _at(2020, 4, 10, 17)  # Monday: Friday
    # after the May Day holiday (1-5 May 2020) the day before is Thursday 30 April
    assert working_day_before(dt.date(2020, 5, 6)) == dt.date(2020, 4, 30)
    # Saturday 9 May 2020 was a working day (调休): Monday's test goes out then
    assert working_day_before(dt.date(2020, 5, 11)) == dt.date(2020, 5, 9)


def test_each_notice_is_due_over_its_window() -> None:
    start = _at(2020, 4, 14, 10)
    facts = Facts(7, SessionStatus.BOOKED, start, _at(2020, 4, 10, 9), None, 2)
    timing = Timing(grace=dt.timedelta(hours=1))
    found = {i.kind: i for i in items(facts, timing)}
    assert set(found) == {Kind.INVITATION, Kind.CONNECTIVITY, Kind.REMINDER, Kind.NO_SHOW}
    assert found[Kind.REMINDER].job_id == "reminder:7"
    assert found[Kind.REMINDER].due(start - dt.timedelta(minutes=15))
    assert not found[Kind.REMINDER].due(start - dt.timedelta(minutes=16))
    assert not found[Kind.REMINDER].due(start + dt.timedelta(minutes=15))  # the no-show check's turn
    assert found[Kind.NO_SHOW].due(start + dt.timedelta(minutes=20))
    assert not found[Kind.NO_SHOW].due(start + dt.timedelta(minutes=76))  # beyond the grace
    assert found[Kind.INVITATION].due(_at(2020, 4, 12))
    assert not found[Kind.INVITATION].due(start)
    assert {i.version for i in found.values()} == {2}
    started = Facts(7, SessionStatus.IN_PROGRESS, start, _at(2020, 4, 10, 9), None, 2)
    assert Kind.INVITATION not in {i.kind for i in items(started, timing)}
    cancelled = Facts(7, SessionStatus.CANCELLED, start, _at(2020, 4, 10, 9), _at(2020, 4, 11), 2)
    [cancel] = items(cancelled, timing)
    assert (cancel.kind, cancel.due(_at(2020, 4, 11, 1)), cancel.due(start)) == (Kind.CANCEL, True, False)
    assert items(Facts(7, SessionStatus.DONE, start, start, start, 1), timing) == []


def test_retries_back_off_up_to_an_hour() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [dt.timedelta(minutes=m) for m in (1, 2, 4)]
    assert backoff(20) == dt.timedelta(hours=1)


def test_an_update_keeps_the_uid_and_raises_the_sequence() -> None:
    def parsed(version: int, cancelled: bool = False) -> Calendar:
        facts = ics.EventFacts(
            3, version, _at(2020, 4, 14, 10), _at(2020, 4, 14, 11), "s", "d", "u", cancelled
        )
        return Calendar.from_ical(
            ics.invitation(
                facts, organizer="a@b.cn", attendee="c@d.cn", attendee_name="陈", stamp=_at(2020, 4, 1)
            )
        )

    first, moved, cancelled = parsed(1), parsed(2), parsed(2, cancelled=True)
    events = [next(iter(c.walk("VEVENT"))) for c in (first, moved, cancelled)]
    assert {str(e["UID"]) for e in events} == {"check-session-3@remote-check"}
    assert [int(str(e["SEQUENCE"])) for e in events] == [1, 2, 3]
    assert [str(c["METHOD"]) for c in (first, moved, cancelled)] == ["REQUEST", "REQUEST", "CANCEL"]
