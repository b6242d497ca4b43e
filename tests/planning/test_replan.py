"""Fixed checks never move; a replan places new projects and replaces a dropped expert, moving few."""

from __future__ import annotations

import dataclasses
from typing import Any

from scheduler.planning.check import check_plan
from scheduler.planning.instance import Fixed, Instance, parse_instance
from scheduler.planning.plan import Plan
from scheduler.planning.planner import plan
from scheduler.planning.replan import replan
from tests.planning.builders import DAY1, DAY2, add_project, base


def _instance(extra: int = 0) -> dict[str, Any]:
    data = base(suppliers=[{"id": "S1", "teams": 1}, {"id": "S2", "teams": 1}])
    for i in range(4):
        add_project(data, f"P{i}", supplier="S1" if i % 2 else "S2")
    for i in range(extra):
        add_project(data, f"N{i}", priority=5)
    return data


def _fix(instance: Instance, p: Plan, projects: set[str]) -> Instance:
    fixed = tuple(Fixed(s.project, s.start, s.experts) for s in p.sessions if s.project in projects)
    return dataclasses.replace(instance, fixed=fixed)


def test_fixed_checks_are_kept_and_count_against_resources() -> None:
    data = _instance()
    data["fixed"] = [{"project": "P1", "start": f"{DAY1}T09:15", "experts": ["E1"]}]  # off the grid
    instance = parse_instance(data)
    result = plan(instance, seconds=1)
    assert check_plan(instance, result.plan).violations == ()
    by_project = {s.project: s for s in result.plan.sessions}
    assert by_project["P1"].start == instance.fixed[0].start
    assert by_project["P1"].experts == ("E1",)
    # S1's next check waits for the fixed one's end (10:15) plus the buffer
    assert by_project["P3"].start.strftime("%H:%M") >= "10:45"


def test_a_replan_keeps_fixed_and_unfixed_checks_and_places_new_ones() -> None:
    first = parse_instance(_instance())
    before = plan(first, seconds=1).plan
    bigger = _fix(parse_instance(_instance(extra=2)), before, {"P0", "P1"})
    after = replan(bigger, before)
    assert check_plan(after.instance, after.plan).violations == ()
    old = {s.project: s.start for s in before.sessions}
    new = {s.project: s.start for s in after.plan.sessions}
    assert all(new[p] == old[p] for p in old)
    assert {"N0", "N1"} <= set(new)
    assert (after.moved, after.kept, after.panels_changed) == (0, 2, 0)


def test_a_dropped_expert_is_replaced_without_moving_anything() -> None:
    instance = parse_instance(_instance())
    before = plan(instance, seconds=1).plan
    gone = before.sessions[0].experts[0]
    fixed = _fix(instance, before, {before.sessions[0].project})
    after = replan(fixed, before, dropped=[gone])
    report = check_plan(after.instance, after.plan)
    assert report.violations == ()
    assert all(gone not in s.experts for s in after.plan.sessions)
    assert {s.project: s.start for s in after.plan.sessions} == {s.project: s.start for s in before.sessions}
    assert after.moved == 0
    assert after.instance.fixed[0].start == fixed.fixed[0].start
    assert gone not in after.instance.fixed[0].experts


def test_a_check_that_no_longer_fits_moves_and_is_counted() -> None:
    data = _instance()
    instance = parse_instance(data)
    before = plan(instance, seconds=1).plan
    victim = before.sessions[0]
    enterprise = next(p.enterprise for p in instance.projects if p.id == victim.project)
    for row in data["enterprises"]:
        if row["id"] == enterprise:
            row["unavailable"] = [[f"{DAY1}T08:00", f"{DAY2}T08:00"]]
    after = replan(parse_instance(data), before)
    assert check_plan(after.instance, after.plan).violations == ()
    assert after.moved == 1
    moved = {s.project: s.start for s in after.plan.sessions}[victim.project]
    assert moved.date().isoformat() == DAY2
