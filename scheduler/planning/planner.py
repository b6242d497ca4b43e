"""The planner: places every project's check (a start inside one working period of a working day and a
panel of experts) under the hard rules of issue 11. Pure and synchronous: data in, dataclasses out.

Approach: bottleneck-first greedy on a time grid (projects whose supplier, city rooms or city experts
need the most days go first, then higher priority, then earlier due day), each at its earliest feasible
start with the eligible experts least needed elsewhere and least loaded; then, within the time budget,
checks are moved to earlier days (the last days first), which shortens the round and compacts each
supplier's days. Fixed checks never move and count against every resource.
"""

from __future__ import annotations

import bisect
import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from scheduler.planning.grid import Grid, make_grid
from scheduler.planning.improve import balance_experts, compact_suppliers, repair, shift_earlier
from scheduler.planning.instance import Instance, Project
from scheduler.planning.plan import Plan, Session, Unscheduled
from scheduler.planning.reasons import why_unplaced
from scheduler.planning.state import Placed, State


@dataclass(frozen=True)
class Result:
    """A plan, its makespan in working days and the seconds it took."""

    plan: Plan
    makespan: int
    seconds: float


class Planner:
    """The greedy placement and its improvement, over one :class:`State`."""

    def __init__(self, instance: Instance, *, seed: int = 0, dropped: frozenset[str] = frozenset()) -> None:
        self.instance = instance
        self.grid: Grid = make_grid(instance)
        self.state = State.empty(instance, self.grid, dropped)
        self.dropped = dropped
        self.last_day = {p.id: bisect.bisect_right(instance.days, p.due) - 1 for p in instance.projects}
        self.first_open: dict[str, int] = {s.id: 0 for s in instance.suppliers}
        self._eligible: dict[tuple[str, str, str], list[str]] = {}
        rng = random.Random(seed)
        order = [e.id for e in instance.experts]
        rng.shuffle(order)
        self.rank = {e: i for i, e in enumerate(order)}
        self.other_pressure = self._pressures()
        self.bound = self._bounds()

    def _pressures(self) -> dict[tuple[str, str], int]:
        """Per (expert, city): how scarce, 0-4, the expert's other cities are (use them there last)."""
        seats: Counter[str] = Counter()
        for p in self.instance.projects:
            seats[p.city] += p.panel
        supply: Counter[str] = Counter()
        for e in self.instance.experts:
            supply.update(e.cities)
        pressure = {c: seats[c] / supply[c] if supply[c] else 0.0 for c in seats}
        top = max(pressure.values(), default=0.0) or 1.0
        out: dict[tuple[str, str], int] = {}
        for e in self.instance.experts:
            for c in e.cities:
                other = max((pressure.get(o, 0.0) for o in e.cities if o != c), default=0.0)
                out[e.id, c] = int(4 * other / top)
        return out

    def _bounds(self) -> dict[str, float]:
        """Per project: the days its most loaded resource (supplier, city rooms, city experts) needs."""
        inst, grid = self.instance, self.grid
        per_day_team = per_day_room = 0
        for a, b in inst.day_hours:
            width = (b.hour - a.hour) * 60 + b.minute - a.minute
            per_day_team += (width + inst.supplier_buffer_minutes) // (
                inst.session_minutes + inst.supplier_buffer_minutes
            )
            per_day_room += width // inst.session_minutes
        del grid
        per_day_team, per_day_room = max(per_day_team, 1), max(per_day_room, 1)
        by_supplier: Counter[str] = Counter(p.supplier for p in inst.projects)
        by_city: Counter[str] = Counter(p.city for p in inst.projects)
        seats: Counter[str] = Counter()
        for p in inst.projects:
            seats[p.city] += p.panel
        experts: Counter[str] = Counter()
        for e in inst.experts:
            experts.update(e.cities)
        teams = {s.id: s.teams for s in inst.suppliers}
        rooms = {c.id: c.rooms for c in inst.cities}
        out = {}
        for p in inst.projects:
            out[p.id] = max(
                by_supplier[p.supplier] / (teams[p.supplier] * per_day_team),
                by_city[p.city] / (rooms[p.city] * per_day_room),
                seats[p.city] / (max(experts[p.city], 1) * per_day_room),
            )
        return out

    def eligible(self, project: Project) -> list[str]:
        """Experts who may sit on this project's panel (city served, no tie), best first."""
        key = (project.city, project.supplier, project.enterprise)
        found = self._eligible.get(key)
        if found is None:
            found = [
                e.id
                for e in self.instance.experts
                if project.city in e.cities
                and project.supplier not in e.ties
                and project.enterprise not in e.ties
                and e.id not in self.dropped
            ]
            self._eligible[key] = found
        return found

    def pick(self, project: Project, free: list[str]) -> tuple[str, ...]:
        load, rank, pressure = self.state.expert_load, self.rank, self.other_pressure
        city = project.city
        free.sort(key=lambda e: (pressure[e, city], load[e], rank[e]))
        return tuple(free[: project.panel])

    def find(self, project: Project, last: int | None = None, first: int = 0) -> Placed | None:
        """The earliest feasible (day, start, panel) up to day ``last`` (default: the due day)."""
        limit = self.last_day[project.id] if last is None else min(last, self.last_day[project.id])
        if len(self.eligible(project)) < project.panel:
            return None
        day = max(first, self.first_open[project.supplier])
        while day <= limit:
            found = self.on_day(project, day)
            if found is not None:
                return found
            day += 1
        return None

    def on_day(self, project: Project, day: int) -> Placed | None:
        """The earliest feasible start and panel on ``day``, or None."""
        state, grid = self.state, self.grid
        eligible = self.eligible(project)
        supplier = state.supplier[project.supplier]
        city = state.city[project.city]
        enterprise = state.enterprise[project.enterprise]
        supplier_open = False
        for start in grid.starts:
            if not supplier.free(day, grid.hold_mask(start)):
                continue
            supplier_open = True
            session = grid.session_mask(start)
            if not (city.free(day, session) and enterprise.free(day, session)):
                continue
            free = state.free_experts(eligible, day, start)
            if len(free) >= project.panel:
                return Placed(project, day, start, self.pick(project, free))
        if not supplier_open and day == self.first_open[project.supplier]:
            self.first_open[project.supplier] = day + 1
        return None

    def place(self, placed: Placed) -> None:
        self.state.apply(placed, 1)

    def unplace(self, placed: Placed) -> None:
        self.state.apply(placed, -1)
        supplier = placed.project.supplier
        self.first_open[supplier] = min(self.first_open[supplier], placed.day)

    def place_fixed(self) -> None:
        projects = {p.id: p for p in self.instance.projects}
        for f in self.instance.fixed:
            spot = self.grid.locate(self.instance, f.start)
            if spot is None:
                placed = Placed(projects[f.project], 0, 0, f.experts, fixed=True, at=f.start)
            else:
                placed = Placed(projects[f.project], spot[0], spot[1], f.experts, fixed=True)
            self.place(placed)

    def order(self, projects: Iterable[Project]) -> list[Project]:
        return sorted(projects, key=lambda p: (-round(self.bound[p.id], 1), -p.priority, p.due, p.id))

    def greedy(self, projects: Iterable[Project]) -> list[Project]:
        """Place each project at its earliest feasible start; returns those that found none."""
        left = []
        for project in self.order(projects):
            found = self.find(project)
            if found is None:
                left.append(project)
            else:
                self.place(found)
        return left

    def makespan(self) -> int:
        return 1 + max((p.day for p in self.state.placed.values() if p.at is None), default=-1)

    def result(self, left: Iterable[Project], started: float) -> Result:
        sessions = []
        fixed_at = {f.project: f.start for f in self.instance.fixed}
        for placed in self.state.placed.values():
            when = fixed_at.get(placed.project.id) if placed.fixed else None
            start = when or self.grid.start_time(self.instance, placed.day, placed.start)
            sessions.append(Session(placed.project.id, start, placed.experts))
        sessions.sort(key=lambda s: (s.start, s.project))
        unscheduled = []
        for project in sorted(left, key=lambda p: p.id):
            resource, reason = why_unplaced(self, project)
            unscheduled.append(Unscheduled(project.id, reason, resource))
        plan = Plan(tuple(sessions), tuple(unscheduled))
        return Result(plan, self.makespan(), time.monotonic() - started)


def plan(instance: Instance, *, seconds: float = 5.0, seed: int = 0) -> Result:
    """Plan every project of ``instance``. ``seconds`` bounds the improvement phase; the result is
    deterministic for a given input and seed unless that budget runs out."""
    started = time.monotonic()
    planner = Planner(instance, seed=seed)
    planner.place_fixed()
    fixed = {f.project for f in instance.fixed}
    left = planner.greedy(p for p in instance.projects if p.id not in fixed)
    deadline = started + seconds
    left = repair(planner, left, started + seconds / 2)  # leave time for the other steps
    shift_earlier(planner, deadline)
    compact_suppliers(planner, deadline)
    if left:  # room freed by the improvement may now take them
        left = repair(planner, planner.greedy(left), deadline)
    balance_experts(planner, deadline)
    return planner.result(left, started)
