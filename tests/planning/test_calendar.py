"""Working days from China's official calendar (holidays, 调休 working weekends), minus closed days."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.planning.calendar import UnknownYear, is_working_day, working_days
from scheduler.planning.check import check_plan
from scheduler.planning.instance import parse_instance
from scheduler.planning.planner import plan
from tests.planning.builders import add_project, base


def test_labour_day_2020_and_its_swapped_weekend() -> None:
    days = working_days(dt.date(2020, 4, 25), dt.date(2020, 5, 10))
    assert dt.date(2020, 4, 26) in days  # a Sunday worked (调休)
    assert dt.date(2020, 5, 9) in days  # a Saturday worked (调休)
    assert not any(dt.date(2020, 5, d) in days for d in range(1, 6))  # 劳动节
    assert dt.date(2020, 4, 25) not in days  # an ordinary Saturday
    assert is_working_day(dt.date(2020, 4, 27))


def test_closed_days_of_a_city_are_left_out() -> None:
    days = working_days(dt.date(2020, 4, 27), dt.date(2020, 4, 30), closed=[dt.date(2020, 4, 28)])
    assert days == [dt.date(2020, 4, 27), dt.date(2020, 4, 29), dt.date(2020, 4, 30)]


def test_an_unknown_year_is_a_clear_error() -> None:
    with pytest.raises(UnknownYear, match="2099"):
        working_days(dt.date(2099, 1, 1), dt.date(2099, 1, 3))


def test_the_planner_uses_a_swapped_working_saturday() -> None:
    days = working_days(dt.date(2020, 5, 1), dt.date(2020, 5, 11))
    assert days[0] == dt.date(2020, 5, 6)
    data = base(days=[d.isoformat() for d in days], day_hours=[["09:00", "10:00"]])
    for i in range(4):
        add_project(data, f"P{i}")
    instance = parse_instance(data)
    result = plan(instance, seconds=1)
    assert check_plan(instance, result.plan).violations == ()
    assert [s.start.date().isoformat() for s in result.plan.sessions] == [
        "2020-05-06",
        "2020-05-07",
        "2020-05-08",
        "2020-05-09",  # a Saturday, worked
    ]
