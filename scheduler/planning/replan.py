"""Replanning: new projects arrive (re-checks, a late draw) or experts drop out. Fixed checks keep their
time (a dropped expert on one is replaced by a free eligible expert); every other check of the previous
plan stays where it is when it still obeys every rule (a dropped expert replaced at the same time), and
only the rest, plus the new projects, are placed afresh. There is no improvement phase, so few move."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass

from scheduler.planning.instance import Fixed, Instance
from scheduler.planning.plan import Plan
from scheduler.planning.planner import Planner, Result
from scheduler.planning.state import Placed


@dataclass(frozen=True)
class Replanned:
    """The new plan; ``instance`` is the input with fixed checks' panels updated for dropped experts
    (check the plan against it); ``moved`` counts unfixed checks of the previous plan whose start
    changed or that are now unplaced; ``panels_changed`` those kept in time with a new panel;
    ``short_panels`` fixed checks that lost a dropped expert whom no free eligible expert could replace
    (the checker reports their panels: a coordinator must settle them)."""

    plan: Plan
    instance: Instance
    makespan: int
    moved: int
    kept: int
    panels_changed: int
    short_panels: tuple[str, ...]
    seconds: float


def _replacement(planner: Planner, placed: Placed, keep: Iterable[str]) -> tuple[str, ...] | None:
    """``placed``'s panel with its dropped or ineligible experts replaced by free eligible ones."""
    state = planner.state
    eligible = planner.eligible(placed.project)
    panel = [e for e in keep if e in eligible or (placed.fixed and e not in planner.dropped)]
    need = placed.project.panel - len(panel)
    if need <= 0:
        return tuple(panel[: placed.project.panel])
    masks = state.masks_of(placed)
    free = [
        e
        for e in eligible
        if e not in panel and all(state.expert[e].free(day, session) for day, session, _ in masks if session)
    ]
    if len(free) < need:
        return None
    return tuple(panel) + planner.pick(placed.project, free)[:need]


def _fixed(planner: Planner) -> tuple[tuple[Fixed, ...], tuple[str, ...]]:
    """Place the fixed checks; replace dropped experts on them. Returns the updated fixed checks and
    those whose panel stays short."""
    planner.place_fixed()
    out = []
    short = []
    for f in planner.instance.fixed:
        placed = planner.state.placed[f.project]
        if not set(f.experts) & planner.dropped:
            out.append(f)
            continue
        planner.unplace(placed)
        kept = [e for e in f.experts if e not in planner.dropped]
        placed = dataclasses.replace(placed, experts=tuple(kept))
        panel = _replacement(planner, placed, kept)
        if panel is None:
            panel = tuple(kept)
            short.append(f.project)
        planner.place(dataclasses.replace(placed, experts=panel))
        out.append(Fixed(f.project, f.start, panel))
    return tuple(out), tuple(short)


def replan(instance: Instance, previous: Plan, *, dropped: Iterable[str] = (), seed: int = 0) -> Replanned:
    """Place what is new in ``instance`` around ``previous`` (see the module docstring); experts in
    ``dropped`` take no check any more."""
    started = time.monotonic()
    planner = Planner(instance, seed=seed, dropped=frozenset(dropped))
    fixed, short = _fixed(planner)
    fixed_ids = {f.project for f in fixed}
    projects = {p.id: p for p in instance.projects}
    before = {s.project: s for s in previous.sessions if s.project in projects and s.project not in fixed_ids}
    left = []
    changed = 0
    for s in sorted(before.values(), key=lambda s: (s.start, s.project)):
        project = projects[s.project]
        spot = planner.grid.locate(instance, s.start)
        if (
            spot is None
            or spot[0] > planner.last_day[project.id]
            or not planner.state.free_without_experts(project, *spot)
        ):
            left.append(project)
            continue
        candidate = Placed(project, spot[0], spot[1], ())
        session = planner.grid.session_mask(spot[1])
        loads = planner.state.expert
        free = [e for e in s.experts if e in loads and loads[e].free(spot[0], session)]
        panel = _replacement(planner, candidate, free)
        if panel is None:
            left.append(project)
            continue
        changed += panel != s.experts
        planner.place(dataclasses.replace(candidate, experts=panel))
    new = [p for p in instance.projects if p.id not in fixed_ids and p.id not in before]
    left = planner.greedy([*left, *new])
    moved = sum(
        1
        for p, s in before.items()
        if p not in planner.state.placed
        or planner.grid.start_time(instance, planner.state.placed[p].day, planner.state.placed[p].start)
        != s.start
    )
    updated = dataclasses.replace(instance, fixed=fixed)
    planner.instance = updated
    result: Result = planner.result(left, started)
    return Replanned(
        result.plan, updated, result.makespan, moved, len(before) - moved, changed, short, result.seconds
    )
