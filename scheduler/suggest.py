"""The nearest times at which a whole check fits: pure logic, no I/O.

A refused booking offers the times closest to the one asked for at which every resource the
check needs is free (a team of the supplier with its buffer, every expert of the panel, the
enterprise), inside one working period of a working day, not in the past and ending by the
campaign's deadline. The same rules as the booking itself (:func:`scheduler.booking.allocate`
decides), fed by one query of the busy intervals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from scheduler.booking import Demand, Held, allocate_indexed, index_held

WORKING_PERIODS: tuple[tuple[dt.time, dt.time], ...] = (
    (dt.time(9, 0), dt.time(12, 0)),
    (dt.time(14, 0), dt.time(17, 30)),
)
"""The working periods of a working day (local time), as in the planner's instances."""

GRAIN = dt.timedelta(minutes=15)
"""Suggested starts fall on this grain within a period (09:00, 09:15, ...)."""

HORIZON_DAYS = 30
"""How many days on either side of the time asked for are searched (bounded by now and the deadline)."""

COUNT = 3


@dataclass(frozen=True)
class Search:
    """Where to look: the time asked for, its length, and the limits of the search."""

    wanted: dt.datetime  # the start asked for (aware)
    length: dt.timedelta
    now: dt.datetime
    tz: dt.tzinfo
    days: Sequence[dt.date]  # the working days to consider, in any order
    deadline: dt.date | None = None  # the last day a check may end on (local), if any
    periods: tuple[tuple[dt.time, dt.time], ...] = WORKING_PERIODS
    grain: dt.timedelta = GRAIN


@dataclass(frozen=True)
class Suggestion:
    starts_at: dt.datetime
    ends_at: dt.datetime


def candidate_starts(search: Search) -> list[dt.datetime]:
    """Every start on the grain whose session lies inside one working period of a working day,
    not before ``now`` and ending by the deadline; nearest to the time asked for first (an
    earlier one first on a tie)."""
    out: list[dt.datetime] = []
    for day in sorted(set(search.days)):
        if search.deadline is not None and day > search.deadline:
            continue
        for opening, closing in search.periods:
            start = dt.datetime.combine(day, opening, tzinfo=search.tz)
            end_of_period = dt.datetime.combine(day, closing, tzinfo=search.tz)
            while start + search.length <= end_of_period:
                if start >= search.now:
                    out.append(start)
                start += search.grain
    wanted = search.wanted
    out.sort(key=lambda s: (abs(s - wanted), s))
    return out


def nearest_times(
    search: Search,
    demands_at: Callable[[dt.datetime, dt.datetime], Sequence[Demand]],
    held: Iterable[Held],
    *,
    count: int = COUNT,
    skip: Callable[[dt.datetime], bool] = lambda _: False,
    starts: Sequence[dt.datetime] | None = None,
) -> list[Suggestion]:
    """The ``count`` starts nearest to ``search.wanted`` at which the whole check fits.

    ``demands_at(starts, ends)`` says what the check holds at a time (the booking's own
    :func:`scheduler.booking.session_demands`), ``held`` is every busy interval that may matter,
    ``skip`` leaves out a start (the time that was just refused, say), ``starts`` are the
    search's :func:`candidate_starts` if already computed. Sorted by time.
    """
    busy = index_held(held)
    found: list[Suggestion] = []
    for start in candidate_starts(search) if starts is None else starts:
        if len(found) >= count:
            break
        if skip(start):
            continue
        end = start + search.length
        if allocate_indexed(demands_at(start, end), busy).ok:
            found.append(Suggestion(start, end))
    return sorted(found, key=lambda s: s.starts_at)


def search_window(
    search: Search, buffer: dt.timedelta, starts: Sequence[dt.datetime] | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """The instants whose bookings can matter to any candidate of ``search`` (to query them once);
    ``starts``: its :func:`candidate_starts`, if already computed."""
    starts = candidate_starts(search) if starts is None else starts
    if not starts:
        return search.wanted, search.wanted + search.length + buffer
    return min(starts), max(starts) + search.length + buffer


def days_around(wanted: dt.date, today: dt.date, deadline: dt.date | None) -> tuple[dt.date, dt.date]:
    """The first and last day to search: ``HORIZON_DAYS`` either side of ``wanted``, not before
    today, not after the deadline."""
    horizon = dt.timedelta(days=HORIZON_DAYS)
    first = max(today, wanted - horizon) if wanted > dt.date.min + horizon else today
    # Never within a month of the calendar's end, so that no instant of the search overflows.
    last = min(wanted, dt.date.max - 2 * horizon) + horizon
    if deadline is not None:
        last = min(last, deadline)
    return first, last
