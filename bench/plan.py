"""The planner on province-like instances, beside a simple earliest-slot greedy.

    python -m bench.plan [--sizes 300,1200,3000] [--seconds 8] [--seed 1]

Per size: time, placed, unplaced, makespan, lower bound, ratio and rules broken (by
``scheduler.planning.check``) for the planner and for the baseline; then a replan of +50 re-checks
with the first week's checks fixed: time, fixed checks moved (must be 0), unfixed checks moved.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import os
import statistics
import time
from collections import Counter, defaultdict

from bench.plan_baseline import baseline
from bench.plan_instances import generate, with_rechecks
from scheduler.planning.check import Report, check_plan
from scheduler.planning.instance import Fixed, Instance, parse_instance
from scheduler.planning.plan import Plan
from scheduler.planning.planner import plan
from scheduler.planning.replan import replan

FIXED_DAYS = 5


def _row(name: str, seconds: float, report: Report) -> str:
    return (
        f"  {name:<9} {seconds:7.2f} s  placed {report.placed:5d}  unplaced {report.unplaced:3d}  "
        f"makespan {report.makespan:3d}  bound {report.bound:3d}  ratio {report.ratio:5.3f}  "
        f"broken {len(report.violations)}"
    )


def _quality(instance: Instance, plan: Plan) -> str:
    """Mean day of key projects and of the others, supplier days beyond each one's own bound, expert load."""
    index = {day: i + 1 for i, day in enumerate(instance.days)}
    projects = {p.id: p for p in instance.projects}
    key: list[int] = []
    other: list[int] = []
    days: dict[str, set[int]] = defaultdict(set)
    load: Counter[str] = Counter({e.id: 0 for e in instance.experts})
    for s in plan.sessions:
        p, day = projects[s.project], index[s.start.date()]
        (key if p.priority > 0 else other).append(day)
        days[p.supplier].add(day)
        load.update(s.experts)
    per_day = sum((_width(a, b) + 30) // 90 for a, b in instance.day_hours)
    teams = {s.id: s.teams for s in instance.suppliers}
    count = Counter(projects[s.project].supplier for s in plan.sessions)
    extra = sum(len(d) - math.ceil(count[s] / (per_day * teams[s])) for s, d in days.items())
    busy = [n for n in load.values() if n]
    return (
        f"            mean day: key {statistics.fmean(key or [0]):.1f}, "
        f"others {statistics.fmean(other or [0]):.1f}; "
        f"supplier days beyond their bound: {extra}; expert load max {max(busy or [0])}, "
        f"mean {statistics.fmean(busy or [0]):.1f}, stdev {statistics.pstdev(busy or [0]):.1f}"
    )


def _width(a: dt.time, b: dt.time) -> int:
    return (b.hour - a.hour) * 60 + b.minute - a.minute


def _moved(before: Plan, after: Plan, ids: set[str]) -> int:
    old = {s.project: s.start for s in before.sessions if s.project in ids}
    new = {s.project: s.start for s in after.sessions}
    return sum(1 for p, start in old.items() if new.get(p) != start)


def run(size: int, seconds: float, seed: int) -> None:
    data = generate(size, seed=seed)
    instance = parse_instance(data)
    suppliers = len({p.supplier for p in instance.projects})
    print(
        f"{size} projects, {suppliers} suppliers, {len(instance.cities)} cities, "
        f"{len(instance.experts)} experts, {len(instance.days)} working days"
    )
    result = plan(instance, seconds=seconds, seed=seed)
    report = check_plan(instance, result.plan)
    print(_row("planner", result.seconds, report) + f"  (bound set by {report.bound_by})")
    print(_quality(instance, result.plan))
    started = time.perf_counter()
    simple = baseline(instance)
    took = time.perf_counter() - started
    print(_row("baseline", took, check_plan(instance, simple)))
    print(_quality(instance, simple))

    # A replan: the first week's checks are notified (fixed), 50 re-checks arrive.
    first_days = set(instance.days[:FIXED_DAYS])
    fixed = [s for s in result.plan.sessions if s.start.date() in first_days]
    bigger = parse_instance(with_rechecks(data, 50, seed=seed + 1))
    bigger = dataclasses.replace(bigger, fixed=tuple(Fixed(s.project, s.start, s.experts) for s in fixed))
    again = replan(bigger, result.plan, seed=seed)
    after = check_plan(bigger, again.plan)
    fixed_ids = {s.project for s in fixed}
    unfixed_ids = {s.project for s in result.plan.sessions} - fixed_ids
    print(
        f"  replan +50 re-checks: {again.seconds:.2f} s, fixed {len(fixed_ids)} moved "
        f"{_moved(result.plan, again.plan, fixed_ids)}, "
        f"unfixed moved {_moved(result.plan, again.plan, unfixed_ids)}"
        f" (planner says {again.moved}), placed {after.placed}, unplaced {after.unplaced}, makespan "
        f"{after.makespan}, broken {len(after.violations)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,1200,3000")
    parser.add_argument("--seconds", type=float, default=8.0, help="the planner's time budget")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.seconds, args.seed)


if __name__ == "__main__":
    main()
