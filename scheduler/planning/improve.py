"""The planner's improvement steps, each bounded by a deadline (``time.monotonic()``):

- ``repair``: place a project the greedy left out by moving the (at most three) unfixed checks in its
  way elsewhere; undone unless every one of them finds a new place.
- ``shift_earlier``: move checks to earlier days, the last days first (a shorter round).
- ``compact_suppliers``: move all of a supplier's checks off its emptiest day onto days it already
  works (key projects only to earlier days), never past the current last day: fewer separate days.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from scheduler.planning.instance import Project
from scheduler.planning.state import Placed

if TYPE_CHECKING:
    from scheduler.planning.planner import Planner

MAX_EJECTED = 3


def _overlap(a: int, length_a: int, b: int, length_b: int) -> bool:
    return a < b + length_b and b < a + length_a


def _blockers(planner: Planner, project: Project, day: list[Placed], start: int) -> list[Placed] | None:
    """The unfixed checks of that day that keep ``project`` from ``start``; None when a fixed one does."""
    grid = planner.grid
    eligible = set(planner.eligible(project))
    core: list[Placed] = []
    by_experts: list[Placed] = []
    for other in day:
        if other.at is not None:  # a fixed check off the grid: never moved, its loads are counted
            continue
        p = other.project
        same_time = _overlap(other.start, grid.session_cells, start, grid.session_cells)
        supplier = p.supplier == project.supplier and _overlap(
            other.start, grid.hold_cells, start, grid.hold_cells
        )
        if (
            supplier
            or (same_time and project.city == p.city)
            or (same_time and project.enterprise == p.enterprise)
        ):
            core.append(other)
        elif same_time and eligible & set(other.experts):
            by_experts.append(other)
    if any(o.fixed for o in core):
        return None
    by_experts.sort(key=lambda o: (-len(eligible & set(o.experts)), o.project.id))
    return core + [o for o in by_experts if not o.fixed]


def _try_slot(planner: Planner, project: Project, day: int, start: int, blockers: list[Placed]) -> bool:
    state = planner.state
    ejected: list[Placed] = []
    for other in blockers:
        if len(ejected) == MAX_EJECTED:
            break
        if (
            state.free_without_experts(project, day, start)
            and len(state.free_experts(planner.eligible(project), day, start)) >= project.panel
        ):
            break
        planner.unplace(other)
        ejected.append(other)
    free = state.free_experts(planner.eligible(project), day, start)
    if not ejected or not state.free_without_experts(project, day, start) or len(free) < project.panel:
        for other in ejected:
            planner.place(other)
        return False
    mine = Placed(project, day, start, planner.pick(project, free))
    planner.place(mine)
    moved: list[Placed] = []
    for other in sorted(ejected, key=lambda o: (-o.project.priority, o.project.id)):
        found = planner.find(other.project)
        if found is None:
            for done in moved:
                planner.unplace(done)
            planner.unplace(mine)
            for original in ejected:
                planner.place(original)
            return False
        planner.place(found)
        moved.append(found)
    return True


def repair(planner: Planner, left: Iterable[Project], deadline: float) -> list[Project]:
    """Try to place each of ``left`` by moving checks in its way; returns those still unplaced."""
    still: list[Project] = []
    for project in left:
        if time.monotonic() >= deadline or len(planner.eligible(project)) < project.panel:
            still.append(project)
            continue
        by_day: dict[int, list[Placed]] = defaultdict(list)
        for placed in planner.state.placed.values():
            by_day[placed.day].append(placed)
        done = False
        for day in range(planner.last_day[project.id] + 1):
            for start in planner.grid.starts:
                blockers = _blockers(planner, project, by_day[day], start)
                if blockers and _try_slot(planner, project, day, start, blockers):
                    done = True
                    break
            if done:
                break
        if not done:
            still.append(project)
    return still


def shift_earlier(planner: Planner, deadline: float) -> None:
    """Move checks to earlier days, last days first, until nothing moves or time is up."""
    moved = True
    while moved and time.monotonic() < deadline:
        moved = False
        movable = [p for p in planner.state.placed.values() if not p.fixed and p.day > 0]
        movable.sort(key=lambda p: (-p.day, -p.project.priority, p.project.id))
        for placed in movable:
            if time.monotonic() >= deadline:
                return
            planner.unplace(placed)
            found = planner.find(placed.project, last=placed.day - 1)
            planner.place(placed if found is None else found)
            moved = moved or found is not None


def _move_all(planner: Planner, movers: list[Placed], targets: list[int]) -> bool:
    for placed in movers:
        planner.unplace(placed)
    done: list[Placed] = []
    for placed in sorted(movers, key=lambda p: (-p.project.priority, p.project.id)):
        last = planner.last_day[placed.project.id]
        found = None
        for day in targets:
            if day <= last and (placed.project.priority <= 0 or day < placed.day):
                found = planner.on_day(placed.project, day)
                if found is not None:
                    break
        if found is None:
            for other in done:
                planner.unplace(other)
            for original in movers:
                planner.place(original)
            return False
        planner.place(found)
        done.append(found)
    return True


def compact_suppliers(planner: Planner, deadline: float) -> None:
    """Fewer separate days per supplier (see the module docstring)."""
    horizon = planner.makespan() - 1
    by_supplier: dict[str, list[str]] = defaultdict(list)
    for placed in planner.state.placed.values():
        by_supplier[placed.project.supplier].append(placed.project.id)
    for supplier in sorted(by_supplier):
        tried: set[int] = set()
        while time.monotonic() < deadline:
            mine = [planner.state.placed[p] for p in by_supplier[supplier]]
            per_day = Counter(p.day for p in mine if p.at is None)
            candidates = [d for d in per_day if d not in tried]
            if len(per_day) < 2 or not candidates:
                break
            day = min(candidates, key=lambda d: (per_day[d], -d))
            tried.add(day)
            movers = [p for p in mine if p.day == day and p.at is None]
            if any(p.fixed for p in movers):
                continue
            targets = sorted(
                (d for d in per_day if d != day and d <= horizon), key=lambda d: (-per_day[d], d)
            )
            if _move_all(planner, movers, targets):
                tried.clear()


def balance_experts(planner: Planner, deadline: float) -> None:
    """Swap an expert on a panel for a free eligible one with at least two checks fewer (the time
    stays): a more even expert load. Passes repeat until nothing swaps or time is up."""
    state = planner.state
    load = state.expert_load
    swapped = True
    while swapped and time.monotonic() < deadline:
        swapped = False
        for placed in sorted(state.placed.values(), key=lambda p: (p.day, p.start, p.project.id)):
            if placed.fixed or placed.at is not None:
                continue
            eligible = planner.eligible(placed.project)
            panel = list(placed.experts)
            free = sorted(
                (e for e in state.free_experts(eligible, placed.day, placed.start) if e not in panel),
                key=lambda e: (load[e], planner.rank[e]),
            )
            if not free:
                continue
            heaviest = max(panel, key=lambda e: (load[e], planner.rank[e]))
            if load[free[0]] + 2 <= load[heaviest]:
                planner.unplace(placed)
                panel[panel.index(heaviest)] = free[0]
                planner.place(Placed(placed.project, placed.day, placed.start, tuple(panel)))
                swapped = True
