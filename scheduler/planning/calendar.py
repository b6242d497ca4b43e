"""Working days from China's official calendar (holidays and swapped working weekends, 调休) via
the ``chinesecalendar`` package, minus days a city marks closed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import chinese_calendar  # type: ignore[import-untyped]


class UnknownYear(ValueError):
    """The official calendar of this year is not known (yet) to the installed package."""


def is_working_day(day: dt.date) -> bool:
    """True on an official working day (a 调休 Saturday counts, a holiday weekday does not)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise UnknownYear(
            f"官方日历未知：{day.year} 年（请升级 chinesecalendar） / "
            f"the official calendar of {day.year} is not known (upgrade chinesecalendar)"
        ) from None


def is_working_day_or_weekday(day: dt.date) -> bool:
    """:func:`is_working_day`, or Monday to Friday for a year the official calendar does not know yet
    (the rules that only warn or count days go on; the planner refuses such a year instead)."""
    try:
        return is_working_day(day)
    except UnknownYear:
        return day.weekday() < 5


def working_days(first: dt.date, last: dt.date, closed: Iterable[dt.date] = ()) -> list[dt.date]:
    """The working days from ``first`` to ``last`` (both included), in order, without ``closed``."""
    shut = set(closed)
    out: list[dt.date] = []
    day = first
    while day <= last:
        if day not in shut and is_working_day(day):
            out.append(day)
        day += dt.timedelta(days=1)
    return out
