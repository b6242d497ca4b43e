"""An independent checker of plans: it re-checks every hard rule of issue 11 on a plan against its
instance with plain date-time arithmetic (it shares nothing with the planner's grid), lists each
violation, and computes a lower bound on the makespan and the plan's ratio to it.

Makespan: the number of working days from the first day of ``days`` up to and including the last day
that holds a check. Lower bound (over the projects the plan places; fixed checks and unavailability
ignored, which keeps it valid): per supplier ceil(n / (k c)) with k = Σ_periods floor((W + B) / (D + B)),
per city ceil(n / (r k')) with k' = Σ_periods floor(W / D), per city ceil(seats / (experts serving it · k')),
over all experts ceil(seats / (experts · k')), per enterprise ceil(n / k').
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from scheduler.planning.instance import Instance, Interval
from scheduler.planning.plan import Plan, Session


@dataclass(frozen=True)
class Report:
    violations: tuple[str, ...]
    placed: int
    unplaced: int
    makespan: int
    bound: int
    bound_by: str
    ratio: float

    @property
    def ok(self) -> bool:
        return not self.violations


def _width(a: dt.time, b: dt.time) -> int:
    return (b.hour * 60 + b.minute) - (a.hour * 60 + a.minute)


def lower_bound(instance: Instance, project_ids: set[str]) -> tuple[int, str]:
    """A lower bound (working days) on the makespan of any plan placing ``project_ids``, and what sets it."""
    d, b = instance.session_minutes, instance.supplier_buffer_minutes
    k_team = sum((_width(x, y) + b) // (d + b) for x, y in instance.day_hours)
    k_room = sum(_width(x, y) // d for x, y in instance.day_hours)
    projects = [p for p in instance.projects if p.id in project_ids]
    if not projects:
        return 0, "nothing placed"
    if k_team == 0 or k_room == 0:
        return len(instance.days) + 1, "no check fits a working period"
    best = (1, "one check")
    teams = {s.id: s.teams for s in instance.suppliers}
    rooms = {c.id: c.rooms for c in instance.cities}
    serving: Counter[str] = Counter()
    for e in instance.experts:
        serving.update(e.cities)
    candidates: list[tuple[int, str]] = []
    for supplier, n in Counter(p.supplier for p in projects).items():
        candidates.append((math.ceil(n / (k_team * teams[supplier])), f"supplier {supplier}"))
    for city, n in Counter(p.city for p in projects).items():
        candidates.append((math.ceil(n / (k_room * rooms[city])), f"rooms of city {city}"))
    seats: Counter[str] = Counter()
    for p in projects:
        seats[p.city] += p.panel
    for city, n in seats.items():
        if serving[city]:
            candidates.append((math.ceil(n / (k_room * serving[city])), f"experts of city {city}"))
    if instance.experts:
        total = sum(seats.values())
        candidates.append((math.ceil(total / (k_room * len(instance.experts))), "all experts"))
    for enterprise, n in Counter(p.enterprise for p in projects).items():
        candidates.append((math.ceil(n / k_room), f"enterprise {enterprise}"))
    for value, what in candidates:
        if value > best[0]:
            best = (value, what)
    return best


def _overlaps(interval: Interval, busy: tuple[Interval, ...]) -> bool:
    return any(a < interval[1] and interval[0] < b for a, b in busy)


def _local(when: dt.datetime, instance: Instance) -> str:
    return when.astimezone(instance.timezone).strftime("%Y-%m-%d %H:%M")


class _Checker:
    def __init__(self, instance: Instance, plan: Plan) -> None:
        self.instance = instance
        self.plan = plan
        self.violations: list[str] = []
        self.length = dt.timedelta(minutes=instance.session_minutes)
        self.buffer = dt.timedelta(minutes=instance.supplier_buffer_minutes)
        self.projects = {p.id: p for p in instance.projects}
        self.experts = {e.id: e for e in instance.experts}
        self.enterprises = {e.id: e for e in instance.enterprises}

    def bad(self, text: str) -> None:
        self.violations.append(text)

    def run(self) -> list[Session]:
        seen: set[str] = set()
        good: list[Session] = []
        for s in self.plan.sessions:
            if s.project not in self.projects:
                self.bad(f'{s.project}: unknown project "{s.project}"')
            elif s.project in seen:
                self.bad(f"{s.project}: placed more than once")
            else:
                seen.add(s.project)
                good.append(s)
                self.session(s)
        for u in self.plan.unscheduled:
            if u.project in seen:
                self.bad(f"{u.project}: both placed and listed as unscheduled")
            seen.add(u.project)
        for p in self.instance.projects:
            if p.id not in seen:
                self.bad(f"{p.id}: neither placed nor listed as unscheduled")
        self.fixed(good)
        self.capacities(good)
        return good

    def session(self, s: Session) -> None:
        inst, p = self.instance, self.projects[s.project]
        start = s.start.astimezone(inst.timezone)
        end = start + self.length
        where = f"{s.project} at {_local(start, inst)}"
        if start.date() not in set(inst.days):
            self.bad(f"{where}: {start.date()} is not a working day")
        elif not any(
            inst.local(start.date(), a) <= start and end <= inst.local(start.date(), b)
            for a, b in inst.day_hours
        ):
            self.bad(f"{where}: does not lie inside one working period")
        if end.date() > p.due:
            self.bad(f"{where}: ends after the due day {p.due}")
        if len(s.experts) != p.panel:
            self.bad(f"{where}: panel of {len(s.experts)} experts, the project needs {p.panel}")
        if len(set(s.experts)) != len(s.experts):
            self.bad(f"{where}: an expert sits twice on the panel")
        for e_id in sorted(set(s.experts)):
            expert = self.experts.get(e_id)
            if expert is None:
                self.bad(f'{where}: unknown expert "{e_id}"')
                continue
            if p.city not in expert.cities:
                self.bad(f"{where}: expert {e_id} does not serve city {p.city}")
            for tie in sorted(expert.ties & {p.supplier, p.enterprise}):
                self.bad(f"{where}: expert {e_id} has a tie to {tie}")
            if _overlaps((start, end), expert.unavailable):
                self.bad(f"{where}: expert {e_id} is unavailable")
        enterprise = self.enterprises[p.enterprise]
        if _overlaps((start, end), enterprise.unavailable):
            self.bad(f"{where}: enterprise {p.enterprise} is unavailable")

    def fixed(self, sessions: list[Session]) -> None:
        by_project = {s.project: s for s in sessions}
        for f in self.instance.fixed:
            s = by_project.get(f.project)
            if s is None:
                self.bad(f"{f.project}: fixed check missing from the plan")
            elif s.start != f.start:
                self.bad(
                    f"{f.project}: fixed check moved from {_local(f.start, self.instance)} "
                    f"to {_local(s.start, self.instance)}"
                )
            elif sorted(s.experts) != sorted(f.experts):
                self.bad(f"{f.project}: fixed check's panel changed")

    def capacities(self, sessions: list[Session]) -> None:
        uses: dict[tuple[str, str], list[tuple[dt.datetime, dt.datetime, str]]] = defaultdict(list)
        for s in sessions:
            p = self.projects[s.project]
            start = s.start
            end = start + self.length
            uses["supplier", p.supplier].append((start, end + self.buffer, p.id))
            uses["city", p.city].append((start, end, p.id))
            uses["enterprise", p.enterprise].append((start, end, p.id))
            for e in set(s.experts):
                uses["expert", e].append((start, end, p.id))
        capacity = {("supplier", s.id): s.teams for s in self.instance.suppliers}
        capacity.update({("city", c.id): c.rooms for c in self.instance.cities})
        for (kind, ident), intervals in sorted(uses.items()):
            limit = capacity.get((kind, ident), 1)
            self.sweep(kind, ident, limit, intervals)

    def sweep(
        self, kind: str, ident: str, limit: int, intervals: list[tuple[dt.datetime, dt.datetime, str]]
    ) -> None:
        events = sorted([(a, 1, p) for a, _, p in intervals] + [(b, 0, p) for _, b, p in intervals])
        active: set[str] = set()
        for when, opening, project in events:  # at equal times, ends (0) come before starts (1)
            if not opening:
                active.discard(project)
                continue
            active.add(project)
            if len(active) > limit:
                what = {"supplier": "supplier teams", "city": "city rooms"}.get(kind, kind)
                self.bad(
                    f"{what} {ident}: {len(active)} checks at once at {_local(when, self.instance)} "
                    f"(limit {limit}): {', '.join(sorted(active))}"
                )


def check_plan(instance: Instance, plan: Plan) -> Report:
    """Every hard-rule violation of ``plan``, its makespan, the lower bound and the ratio."""
    checker = _Checker(instance, plan)
    sessions = checker.run()
    days = instance.days
    last = -1
    for s in sessions:
        day = s.start.astimezone(instance.timezone).date()
        last = max(last, bisect.bisect_left(days, day))
    makespan = last + 1
    bound, by = lower_bound(instance, {s.project for s in sessions})
    ratio = makespan / bound if bound else 1.0
    return Report(tuple(checker.violations), len(sessions), len(plan.unscheduled), makespan, bound, by, ratio)
