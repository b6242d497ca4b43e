"""The nearest times at which a whole check fits (pure): around buffers, the lunch break, weekends,
holidays and swapped working weekends (调休), the deadline and the present."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from remote_check.clock import SHANGHAI
from scheduler.booking import Demand, Held, Interval, session_demands
from scheduler.planning.calendar import working_days
from scheduler.suggest import Search, Suggestion, candidate_starts, nearest_times

NOW = dt.datetime(2020, 4, 10, 9, 0, tzinfo=SHANGHAI)  # a Friday
HOUR = dt.timedelta(hours=1)
DAYS = working_days(dt.date(2020, 4, 1), dt.date(2020, 5, 31))


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2020, month, day, hour, minute, tzinfo=SHANGHAI)


def demands(starts: dt.datetime, ends: dt.datetime) -> Sequence[Demand]:
    """Supplier 7 (one team, 15 minutes' buffer), enterprise 4, experts 1-3."""
    return session_demands(
        starts_at=starts, ends_at=ends, supplier_id=7, supplier_teams=1, enterprise_id=4, expert_ids=(1, 2, 3)
    )


def search(wanted: dt.datetime, deadline: dt.date | None = None) -> Search:
    return Search(wanted=wanted, length=HOUR, now=NOW, tz=SHANGHAI, days=DAYS, deadline=deadline)


def starts(found: Sequence[Suggestion]) -> list[dt.datetime]:
    return [s.starts_at for s in found]


def test_the_supplier_buffer_pushes_the_next_time_back_and_the_next_booking_forward() -> None:
    team = "supplier:7:team:0"
    held = [
        Held(team, Interval(at(4, 13, 9), at(4, 13, 10, 15)), 1),  # 09:00-10:00 plus the buffer
        Held(team, Interval(at(4, 13, 11, 30), at(4, 13, 12, 45)), 2),  # 11:30-12:30 plus the buffer
    ]
    found = nearest_times(search(at(4, 13, 10)), demands, held)
    # 10:15 ends at 11:15, its buffer touches 11:30; 10:30 would run into it; the afternoon comes next.
    assert starts(found) == [at(4, 13, 10, 15), at(4, 13, 14), at(4, 13, 14, 15)]
    assert all(s.ends_at - s.starts_at == HOUR for s in found)


def test_a_check_never_spans_the_lunch_break() -> None:
    found = nearest_times(search(at(4, 13, 11, 30)), demands, [])
    assert starts(found) == [at(4, 13, 10, 30), at(4, 13, 10, 45), at(4, 13, 11)]
    assert at(4, 13, 11, 30) not in candidate_starts(search(at(4, 13, 11, 30)))


def test_every_resource_counts_experts_and_the_enterprise_too() -> None:
    held = [
        Held("expert:2", Interval(at(4, 13, 9), at(4, 13, 12)), 1),
        Held("enterprise:4", Interval(at(4, 13, 14), at(4, 13, 15, 30)), 2),
    ]
    found = nearest_times(search(at(4, 13, 10)), demands, held)
    assert starts(found) == [at(4, 13, 15, 30), at(4, 13, 15, 45), at(4, 13, 16)]


def test_weekends_are_skipped() -> None:
    found = nearest_times(search(at(4, 12, 10)), demands, [])  # Sunday 12 April
    assert starts(found) == [at(4, 13, 9), at(4, 13, 9, 15), at(4, 13, 9, 30)]


def test_holidays_are_skipped_and_a_swapped_working_saturday_counts() -> None:
    # 1-5 May 2020 were the Labour Day holidays; Saturday 9 May was worked instead (调休).
    holiday = nearest_times(search(at(5, 4, 10)), demands, [])
    assert starts(holiday) == [at(5, 6, 9), at(5, 6, 9, 15), at(5, 6, 9, 30)]
    sunday = nearest_times(search(at(5, 10, 10)), demands, [])
    assert starts(sunday) == [at(5, 9, 16), at(5, 9, 16, 15), at(5, 9, 16, 30)]


def test_nothing_after_the_deadline_nor_in_the_past() -> None:
    whole_day = [Held("enterprise:4", Interval(at(4, 13, 9), at(4, 13, 17, 30)), 1)]
    found = nearest_times(search(at(4, 13, 10), deadline=dt.date(2020, 4, 13)), demands, whole_day)
    assert starts(found) == [at(4, 10, 16), at(4, 10, 16, 15), at(4, 10, 16, 30)]
    assert min(candidate_starts(search(at(4, 10, 8)))) == NOW  # nothing before now
    none_left = search(at(4, 13, 10), deadline=dt.date(2020, 4, 9))
    assert nearest_times(none_left, demands, []) == []


def test_skip_leaves_out_the_time_that_was_refused() -> None:
    found = nearest_times(search(at(4, 13, 10)), demands, [], skip=lambda s: s == at(4, 13, 10))
    assert starts(found) == [at(4, 13, 9, 30), at(4, 13, 9, 45), at(4, 13, 10, 15)]  # a tie: earlier first
