"""Reading the instance format: aware local times, and every problem listed at once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from scheduler.planning.instance import InstanceError, load_instance, parse_instance
from tests.planning.builders import DAY1, add_project, base


def test_a_good_instance_reads_into_aware_times() -> None:
    data = base()
    add_project(data, "P1", priority=2)
    data["experts"][0]["unavailable"] = [[f"{DAY1}T09:00", f"{DAY1}T12:00+08:00"]]
    data["fixed"] = [{"project": "P1", "start": f"{DAY1}T09:00", "experts": ["E1"]}]
    instance = parse_instance(data)
    assert instance.days[0] == dt.date(2020, 4, 7)
    assert instance.day_hours == ((dt.time(9), dt.time(12)),)
    start, end = instance.experts[0].unavailable[0]
    assert start.utcoffset() == end.utcoffset() == dt.timedelta(hours=8)
    assert instance.fixed[0].start == dt.datetime(2020, 4, 7, 1, tzinfo=dt.UTC)
    assert instance.projects[0].priority == 2
    assert instance.projects[0].due == dt.date(2020, 4, 9)


def test_optional_fields_default() -> None:
    data = base(experts=[{"id": "E1", "cities": ["4419"]}])
    del data["fixed"]
    data["enterprises"] = [{"id": "C1", "city": "4419"}]
    data["projects"] = [
        {"id": "P1", "city": "4419", "supplier": "S1", "enterprise": "C1", "panel": 1, "due": DAY1}
    ]
    instance = parse_instance(data)
    assert instance.projects[0].priority == 0
    assert instance.experts[0].ties == frozenset()
    assert instance.fixed == ()


def test_every_problem_is_listed_with_its_path() -> None:
    data = base(timezone="Mars/Olympus", session_minutes=0)
    add_project(data, "P1", supplier="S999")
    add_project(data, "P1", panel="3", due="2020-02-30")
    data["days"].append("2020-04-08")
    data["day_hours"].append(["11:00", "13:00"])
    data["cities"].append({"id": "4419", "rooms": 1, "colour": "red"})
    data["experts"][0]["cities"] = ["9999"]
    data["experts"][1]["unavailable"] = [["2020-04-07T10:00", "2020-04-07T09:00"]]
    data["enterprises"][0]["city"] = "0000"
    data["fixed"] = [{"project": "P7", "start": "noon", "experts": ["E8"]}]
    del data["suppliers"][0]["teams"]
    with pytest.raises(InstanceError) as caught:
        parse_instance(data)
    problems = caught.value.problems
    expected = [
        'timezone: unknown time zone "Mars/Olympus"',
        "days[3]: 2020-04-08 is not after 2020-04-09",
        "day_hours[1]: overlaps or precedes",
        "session_minutes: expected a whole number ≥ 1, got 0",
        "cities[1].colour: unknown field",
        'cities[1].id: duplicate city "4419"',
        "suppliers[0].teams: missing",
        'enterprises[0].city: unknown city "0000"',
        'experts[0].cities[0]: unknown city "9999"',
        "experts[1].unavailable[0]: end is not after start",
        'projects[0].supplier: unknown supplier "S999"',
        'projects[1].panel: expected a whole number ≥ 1, got "3"',
        'projects[1].due: expected an ISO date, got "2020-02-30"',
        'projects[1].id: duplicate project "P1"',
        'fixed[0].project: unknown project "P7"',
        'fixed[0].start: expected a date-time, got "noon"',
        'fixed[0].experts[0]: unknown expert "E8"',
    ]
    for text in expected:
        assert any(p.startswith(text) for p in problems), (text, problems)


def test_not_an_object() -> None:
    with pytest.raises(InstanceError, match="instance: expected an object"):
        parse_instance([])


def test_a_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{oops", encoding="utf-8")
    with pytest.raises(InstanceError) as caught:
        load_instance(path)
    assert caught.value.source == str(path)
    assert "not readable JSON" in caught.value.problems[0]
    data = base()
    data["projects"] = [{"id": "P1"}]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InstanceError, match=r"x\.json: projects\[0\]\.city: missing"):
        load_instance(path)
