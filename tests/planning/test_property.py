"""Random small instances (seeded): the checker finds no violation in the planner's plans, the plan is
the same for the same seed, and a replan with fixed checks and new projects keeps every fixed check."""

from __future__ import annotations

import dataclasses

import pytest

from scheduler.planning.check import check_plan
from scheduler.planning.instance import Fixed
from scheduler.planning.plan import plan_to_json
from scheduler.planning.planner import plan
from scheduler.planning.replan import replan
from tests.planning.builders import random_instance


@pytest.mark.parametrize("seed", range(40))
def test_random_plans_break_no_rule(seed: int) -> None:
    instance = random_instance(seed)
    result = plan(instance, seconds=1, seed=seed)
    report = check_plan(instance, result.plan)
    assert report.violations == ()
    assert report.placed + report.unplaced == len(instance.projects)
    assert report.makespan >= report.bound
    again = plan(instance, seconds=1, seed=seed)
    assert plan_to_json(again.plan, instance) == plan_to_json(result.plan, instance)


@pytest.mark.parametrize("seed", range(20))
def test_random_replans_keep_fixed_checks(seed: int) -> None:
    instance = random_instance(seed)
    fewer = dataclasses.replace(instance, projects=instance.projects[:-3])
    before = plan(fewer, seconds=1, seed=seed).plan
    fixed = tuple(Fixed(s.project, s.start, s.experts) for s in before.sessions[::2])
    dropped = [instance.experts[0].id] if seed % 3 == 0 else []
    after = replan(dataclasses.replace(instance, fixed=fixed), before, dropped=dropped, seed=seed)
    violations = check_plan(after.instance, after.plan).violations
    # only a fixed check whose dropped expert nobody free could replace keeps a short panel
    assert all(v.split(" ")[0] in after.short_panels and "panel of" in v for v in violations)
    starts = {s.project: s.start for s in after.plan.sessions}
    assert all(starts[f.project] == f.start for f in fixed)
