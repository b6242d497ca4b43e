"""The independent checker catches each kind of violation on a deliberately broken plan."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from scheduler.planning.check import check_plan, lower_bound
from scheduler.planning.instance import Instance, parse_instance
from scheduler.planning.plan import Plan, Session, Unscheduled
from tests.planning.builders import DAY1, add_project, base

TZ = dt.timezone(dt.timedelta(hours=8))


def _at(day: str, hhmm: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=TZ)


def _world() -> Instance:
    data: dict[str, Any] = base(
        cities=[{"id": "4419", "rooms": 1}, {"id": "4401", "rooms": 1}],
        suppliers=[{"id": "S1", "teams": 1}, {"id": "S2", "teams": 1}],
    )
    data["experts"][2]["cities"] = ["4401"]
    data["experts"][1]["ties"] = ["S2"]
    data["experts"][0]["unavailable"] = [[f"{DAY1}T11:00", f"{DAY1}T12:00"]]
    add_project(data, "P1")
    add_project(data, "P2", due=DAY1)
    add_project(data, "P3", supplier="S2")
    data["enterprises"][2]["unavailable"] = [[f"{DAY1}T09:00", f"{DAY1}T09:30"]]
    return parse_instance(data)


def _ok() -> Plan:
    return Plan(
        (
            Session("P1", _at(DAY1, "09:00"), ("E1",)),
            Session("P2", _at(DAY1, "10:30"), ("E2",)),
            Session("P3", _at("2020-04-08", "09:00"), ("E1",)),
        ),
        (),
    )


def _with(plan: Plan, index: int, **changes: Any) -> Plan:
    sessions = list(plan.sessions)
    sessions[index] = dataclasses.replace(sessions[index], **changes)
    return Plan(tuple(sessions), plan.unscheduled)


def test_a_good_plan_passes_with_its_bound() -> None:
    report = check_plan(_world(), _ok())
    assert report.violations == ()
    assert (report.placed, report.makespan, report.bound, report.ratio) == (3, 2, 1, 2.0)


BROKEN = [
    ("outside a period", {"start": _at(DAY1, "11:30")}, 0, "inside one working period"),
    ("not a working day", {"start": _at("2020-04-11", "09:00")}, 0, "is not a working day"),
    ("after due", {"start": _at("2020-04-08", "10:30")}, 1, "after the due day"),
    ("panel size", {"experts": ("E1", "E2")}, 0, "panel of 2 experts"),
    ("twice on a panel", {"experts": ("E1", "E1")}, 0, "sits twice"),
    ("unknown expert", {"experts": ("E9",)}, 0, 'unknown expert "E9"'),
    ("city not served", {"experts": ("E3",)}, 0, "does not serve city"),
    ("tie", {"experts": ("E2",)}, 2, "has a tie to S2"),
    ("expert unavailable", {"start": _at(DAY1, "11:00")}, 0, "E1 is unavailable"),
    ("enterprise unavailable", {"start": _at(DAY1, "09:00")}, 2, "enterprise C-P3 is unavailable"),
    ("expert twice at once", {"start": _at(DAY1, "10:30"), "experts": ("E2",)}, 0, "expert E2: 2 checks"),
    ("rooms", {"start": _at(DAY1, "10:00"), "experts": ("E3",)}, 2, "city rooms 4419"),
    ("buffer", {"start": _at(DAY1, "10:00"), "experts": ("E3",)}, 1, "supplier teams S1"),
]


@pytest.mark.parametrize(("name", "changes", "index", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_the_checker_catches(name: str, changes: dict[str, Any], index: int, expected: str) -> None:
    report = check_plan(_world(), _with(_ok(), index, **changes))
    assert any(expected in v for v in report.violations), report.violations


def test_a_shared_enterprise_is_caught() -> None:
    data = base(suppliers=[{"id": "S1", "teams": 1}, {"id": "S2", "teams": 1}])
    add_project(data, "P1", enterprise="C1")
    add_project(data, "P2", enterprise="C1", supplier="S2")
    plan = Plan((Session("P1", _at(DAY1, "09:00"), ("E1",)), Session("P2", _at(DAY1, "09:30"), ("E2",))), ())
    assert any("enterprise C1: 2 checks" in v for v in check_plan(parse_instance(data), plan).violations)


def test_missing_duplicate_and_unknown_projects_are_caught() -> None:
    ok = _ok()
    plan = Plan((ok.sessions[0], ok.sessions[0], Session("P9", _at(DAY1, "09:00"), ("E1",))), ())
    violations = "\n".join(check_plan(_world(), plan).violations)
    assert "P1: placed more than once" in violations
    assert 'unknown project "P9"' in violations
    assert "P2: neither placed nor listed" in violations
    both = Plan(ok.sessions, (Unscheduled("P1", "x"),))
    assert any("both placed and listed" in v for v in check_plan(_world(), both).violations)


def test_fixed_checks_must_stay() -> None:
    world = _world()
    fixed = dataclasses.replace(world, fixed=(_fixed("P1"),))
    moved = _with(_ok(), 0, start=_at(DAY1, "09:30"))
    assert any("fixed check moved" in v for v in check_plan(fixed, moved).violations)
    repanelled = _with(_ok(), 0, experts=("E2",))
    assert any("panel changed" in v for v in check_plan(fixed, repanelled).violations)
    assert check_plan(fixed, _ok()).violations == ()


def _fixed(project: str) -> Any:
    from scheduler.planning.instance import Fixed

    return Fixed(project, _at(DAY1, "09:00"), ("E1",))


def test_the_lower_bound_follows_the_notes() -> None:
    # 09:00-12:00 and 14:00-17:30, D 60, B 30: k = 2 + 2 per team-day, k' = 3 + 3 per room-day
    data = base(day_hours=[["09:00", "12:00"], ["14:00", "17:30"]])
    data["suppliers"] = [{"id": "S1", "teams": 2}, {"id": "S2", "teams": 1}]
    data["cities"] = [{"id": "4419", "rooms": 2}]
    for i in range(19):  # S1: ceil(19 / 8) = 3 days, rooms ceil(19 / 12) = 2, 3 experts: ceil(57 / 18) = 4
        add_project(data, f"P{i}", panel=3)
    instance = parse_instance(data)
    assert lower_bound(instance, {p.id for p in instance.projects}) == (4, "experts of city 4419")
    data["experts"] += [{"id": f"X{i}", "cities": ["4419"]} for i in range(10)]
    instance = parse_instance(data)
    # 13 experts: ceil(57 / 78) = 1, so the supplier's 3 days
    assert lower_bound(instance, {p.id for p in instance.projects}) == (3, "supplier S1")
