"""Each hard rule of the planner on a small hand-made instance whose answer is known."""

from __future__ import annotations

import datetime as dt
from typing import Any

from scheduler.planning.check import check_plan
from scheduler.planning.instance import parse_instance
from scheduler.planning.plan import Plan
from scheduler.planning.planner import plan
from tests.planning.builders import DAY1, DAY2, add_project, base


def _plan(data: dict[str, Any]) -> Plan:
    instance = parse_instance(data)
    result = plan(instance, seconds=1)
    assert check_plan(instance, result.plan).violations == ()
    return result.plan


def _starts(p: Plan) -> dict[str, str]:
    return {s.project: s.start.strftime("%Y-%m-%d %H:%M") for s in p.sessions}


def test_a_supplier_with_one_team_keeps_its_buffer() -> None:
    data = base()
    for ident in ("P1", "P2", "P3"):
        add_project(data, ident)
    starts = sorted(_starts(_plan(data)).values())
    # 09:00-10:00 + 30 min buffer, 10:30-11:30 (+ buffer past noon), then the next day
    assert starts == [f"{DAY1} 09:00", f"{DAY1} 10:30", f"{DAY2} 09:00"]


def test_two_teams_run_two_checks_at_once() -> None:
    data = base(suppliers=[{"id": "S1", "teams": 2}])
    for ident in ("P1", "P2", "P3"):
        add_project(data, ident)
    assert sorted(_starts(_plan(data)).values()) == [f"{DAY1} 09:00", f"{DAY1} 09:00", f"{DAY1} 10:30"]


def test_an_expert_tied_to_the_supplier_never_sits() -> None:
    data = base()
    data["experts"][0]["ties"] = ["S1"]
    data["experts"][1]["ties"] = ["C-P1"]
    add_project(data, "P1")
    (session,) = _plan(data).sessions
    assert session.experts == ("E3",)


def test_experts_only_in_cities_they_serve() -> None:
    data = base(cities=[{"id": "4419", "rooms": 2}, {"id": "4401", "rooms": 1}])
    data["experts"][2]["cities"] = ["4401"]
    add_project(data, "P1", panel=2)
    (session,) = _plan(data).sessions
    assert set(session.experts) == {"E1", "E2"}


def test_an_unavailable_enterprise_waits() -> None:
    data = base()
    add_project(data, "P1")
    data["enterprises"][0]["unavailable"] = [[f"{DAY1}T08:00", f"{DAY1}T18:00"]]
    assert _starts(_plan(data)) == {"P1": f"{DAY2} 09:00"}


def test_an_unavailable_expert_is_not_chosen() -> None:
    data = base(experts=base()["experts"][:1])
    data["experts"][0]["unavailable"] = [[f"{DAY1}T09:30", f"{DAY1}T10:00"]]
    add_project(data, "P1")
    assert _starts(_plan(data)) == {"P1": f"{DAY1} 10:00"}  # starts every gcd(60, 30) minutes


def test_an_enterprise_takes_one_check_at_a_time() -> None:
    data = base(suppliers=[{"id": "S1", "teams": 1}, {"id": "S2", "teams": 1}])
    add_project(data, "P1", enterprise="C1")
    add_project(data, "P2", enterprise="C1", supplier="S2")
    assert sorted(_starts(_plan(data)).values()) == [f"{DAY1} 09:00", f"{DAY1} 10:00"]


def test_a_city_runs_no_more_checks_than_rooms() -> None:
    data = base(
        cities=[{"id": "4419", "rooms": 1}], suppliers=[{"id": f"S{i}", "teams": 1} for i in (1, 2, 3)]
    )
    for i in (1, 2, 3):
        add_project(data, f"P{i}", supplier=f"S{i}")
    assert sorted(_starts(_plan(data)).values()) == [f"{DAY1} 09:00", f"{DAY1} 10:00", f"{DAY1} 11:00"]


def test_a_check_lies_inside_one_period() -> None:
    data = base(day_hours=[["09:00", "10:00"], ["10:30", "12:00"]], session_minutes=90)
    data["supplier_buffer_minutes"] = 0
    add_project(data, "P1")
    add_project(data, "P2", supplier="S1")
    # 09:00-10:30 would cross the break: only 10:30 each day
    assert sorted(_starts(_plan(data)).values()) == [f"{DAY1} 10:30", f"{DAY2} 10:30"]


def test_a_check_that_fits_no_period_is_unplaced() -> None:
    data = base(session_minutes=240)
    add_project(data, "P1")
    result = _plan(data)
    assert result.sessions == ()
    assert [(u.project, u.resource) for u in result.unscheduled] == [("P1", "period")]


def test_every_check_ends_by_its_due_day() -> None:
    data = base()
    add_project(data, "P1", due=DAY1, priority=1)
    add_project(data, "P2", due=DAY1)
    add_project(data, "P3", due=DAY1)
    result = _plan(data)
    assert sorted(_starts(result)) == ["P1", "P2"]  # the key project first
    (left,) = result.unscheduled
    assert (left.project, left.resource) == ("P3", "due")
    assert "2020-04-08" in left.reason


def test_a_session_ends_on_its_day_even_when_due_is_earlier_than_the_first_day() -> None:
    data = base()
    add_project(data, "P1", due="2020-04-06")
    (left,) = _plan(data).unscheduled
    assert left.resource == "due"


def test_unplaced_reasons_name_the_resource() -> None:
    data = base(days=[DAY1], cities=[{"id": "4419", "rooms": 5}], suppliers=[{"id": "S1", "teams": 1}])
    for i in range(3):
        add_project(data, f"P{i}")  # one team: two a morning
    data["experts"][0]["ties"] = ["S2"]
    data["experts"][1]["ties"] = ["S2"]
    data["experts"] += [{"id": f"E{i}", "cities": ["4419"]} for i in (4, 5, 6)]
    data["suppliers"] += [{"id": "S2", "teams": 3}, {"id": "S3", "teams": 3}]
    add_project(data, "Q1", supplier="S2", panel=5)  # four untied experts only
    add_project(data, "Q2", supplier="S3", enterprise="C9")
    add_project(data, "Q3", supplier="S3", enterprise="C9")
    data["enterprises"][-1]["unavailable"] = [[f"{DAY1}T09:00", f"{DAY1}T11:00"]]
    result = _plan(data)
    reasons = {u.project: u.resource for u in result.unscheduled}
    assert reasons == {"P2": "supplier", "Q1": "experts", "Q3": "enterprise"}


def test_rooms_as_the_reason() -> None:
    data = base(days=[DAY1], cities=[{"id": "4419", "rooms": 1}])
    data["suppliers"] = [{"id": f"S{i}", "teams": 1} for i in range(4)]
    for i in range(4):
        add_project(data, f"P{i}", supplier=f"S{i}")
    (left,) = _plan(data).unscheduled
    assert left.resource == "rooms"


def test_times_are_local_to_the_instance_zone() -> None:
    data = base()
    add_project(data, "P1")
    (session,) = _plan(data).sessions
    assert session.start.utcoffset() == dt.timedelta(hours=8)
    assert session.start.astimezone(dt.UTC).hour == 1
