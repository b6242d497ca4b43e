"""The improvement steps: a project the greedy left out is placed by moving a check in its way, and a
supplier's checks gather on fewer days."""

from __future__ import annotations

from collections import Counter

from scheduler.planning.check import check_plan
from scheduler.planning.instance import parse_instance
from scheduler.planning.planner import Planner, plan
from tests.planning.builders import DAY1, DAY2, add_project, base


def test_a_check_in_the_way_moves_so_that_nothing_is_left_out() -> None:
    data = base(days=[DAY1, DAY2], day_hours=[["09:00", "10:00"]], cities=[{"id": "4419", "rooms": 1}])
    data["suppliers"] = [{"id": "SA", "teams": 1}, {"id": "SB", "teams": 1}]
    add_project(data, "A1", supplier="SA", enterprise="C1", priority=1)  # the greedy takes day 1 for it
    add_project(data, "B1", supplier="SB", enterprise="C1", due=DAY1)  # ...which B1 needed
    instance = parse_instance(data)
    planner = Planner(instance)
    assert [p.id for p in planner.greedy(instance.projects)] == ["B1"]
    result = plan(instance, seconds=1)
    assert check_plan(instance, result.plan).violations == ()
    assert result.plan.unscheduled == ()
    days = {s.project: s.start.date().isoformat() for s in result.plan.sessions}
    assert days == {"B1": DAY1, "A1": DAY2}


def test_a_supplier_works_fewer_separate_days() -> None:
    # S1 has two checks; the key projects of S2/S3 take the room's morning of day 1 first
    data = base(days=[DAY1, DAY2, "2020-04-09"], cities=[{"id": "4419", "rooms": 1}])
    data["suppliers"] = [{"id": "S1", "teams": 1}, {"id": "S2", "teams": 1}, {"id": "S3", "teams": 1}]
    add_project(data, "K2", supplier="S2", priority=1)
    add_project(data, "K3", supplier="S3", priority=1)
    add_project(data, "P1", supplier="S1")
    add_project(data, "P2", supplier="S1")
    instance = parse_instance(data)
    greedy = Planner(instance)
    greedy.greedy(instance.projects)
    assert len({p.day for p in greedy.state.placed.values() if p.project.supplier == "S1"}) == 2
    result = plan(instance, seconds=1)
    assert check_plan(instance, result.plan).violations == ()
    s1_days = Counter(s.start.date() for s in result.plan.sessions if s.project in {"P1", "P2"})
    assert len(s1_days) == 1


def test_expert_load_is_balanced() -> None:
    data = base(suppliers=[{"id": "S1", "teams": 3}], cities=[{"id": "4419", "rooms": 3}])
    data["experts"] += [{"id": f"E{i}", "cities": ["4419"]} for i in (4, 5, 6)]
    for i in range(12):
        add_project(data, f"P{i}", panel=2)
    instance = parse_instance(data)
    result = plan(instance, seconds=1)
    assert check_plan(instance, result.plan).violations == ()
    load = Counter(e for s in result.plan.sessions for e in s.experts)
    assert sorted(load.values()) == [4, 4, 4, 4, 4, 4]
