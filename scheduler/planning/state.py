"""What every resource holds, per working day, on the planner's grid.

A resource of capacity c keeps, per day, layers of bitmasks: layer j has bit i set when cell i holds
more than j occupations. It is free for a mask when layer c-1 has none of its bits. Layers grow past
the capacity (fixed checks may overbook), so counts stay exact and removal is always right.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from scheduler.planning.grid import Grid
from scheduler.planning.instance import Instance, Project


class Load:
    """Occupations of one resource of capacity ``cap``, per day."""

    __slots__ = ("cap", "days")

    def __init__(self, cap: int, days: int) -> None:
        self.cap = cap
        self.days: list[list[int]] = [[0] * cap for _ in range(days)]

    def free(self, day: int, mask: int) -> bool:
        return not self.days[day][self.cap - 1] & mask

    def add(self, day: int, mask: int) -> None:
        layers = self.days[day]
        if layers[-1] & mask:
            layers.append(0)
        for j in range(len(layers) - 1, 0, -1):
            layers[j] |= layers[j - 1] & mask
        layers[0] |= mask

    def remove(self, day: int, mask: int) -> None:
        layers = self.days[day]
        for j in range(len(layers) - 1):
            layers[j] = (layers[j] & ~mask) | (layers[j + 1] & mask)
        layers[-1] &= ~mask


@dataclass
class Placed:
    """A check on the grid (``fixed``: it never moves)."""

    project: Project
    day: int
    start: int
    experts: tuple[str, ...]
    fixed: bool = False
    at: dt.datetime | None = None  # the exact start of a fixed check off the grid


@dataclass
class State:
    """Occupations of suppliers, experts, enterprises and cities, and the checks placed."""

    instance: Instance
    grid: Grid
    supplier: dict[str, Load] = field(default_factory=dict)
    expert: dict[str, Load] = field(default_factory=dict)
    enterprise: dict[str, Load] = field(default_factory=dict)
    city: dict[str, Load] = field(default_factory=dict)
    expert_load: dict[str, int] = field(default_factory=dict)
    placed: dict[str, Placed] = field(default_factory=dict)

    @classmethod
    def empty(cls, instance: Instance, grid: Grid, dropped: frozenset[str] = frozenset()) -> State:
        """No check placed yet; unavailability (and experts in ``dropped``: all days) is blocked."""
        n = len(instance.days)
        state = cls(instance, grid)
        state.supplier = {s.id: Load(s.teams, n) for s in instance.suppliers}
        state.city = {c.id: Load(c.rooms, n) for c in instance.cities}
        everything = (1 << grid.cells) - 1
        for e in instance.experts:
            load = state.expert[e.id] = Load(1, n)
            state.expert_load[e.id] = 0
            for interval in e.unavailable:
                for day, mask in grid.masks(instance, interval).items():
                    load.add(day, mask)
            if e.id in dropped:
                for day in range(n):
                    load.add(day, everything)
        for c in instance.enterprises:
            load = state.enterprise[c.id] = Load(1, n)
            for interval in c.unavailable:
                for day, mask in grid.masks(instance, interval).items():
                    load.add(day, mask)
        return state

    def masks_of(self, placed: Placed) -> list[tuple[int, int, int]]:
        """(day, session mask, supplier hold mask) of a placed check."""
        if placed.at is None:
            return [(placed.day, self.grid.session_mask(placed.start), self.grid.hold_mask(placed.start))]
        length = dt.timedelta(minutes=self.instance.session_minutes)
        session = self.grid.masks(self.instance, (placed.at, placed.at + length))
        hold = self.grid.masks(
            self.instance, (placed.at, placed.at + length), self.instance.supplier_buffer_minutes
        )
        return [(day, session.get(day, 0), hold[day]) for day in hold]

    def apply(self, placed: Placed, sign: int) -> None:
        """Add (sign 1) or remove (sign -1) a check's occupations."""
        p = placed.project
        for day, session, hold in self.masks_of(placed):
            loads = [(self.supplier[p.supplier], hold), (self.city[p.city], session)]
            loads.append((self.enterprise[p.enterprise], session))
            loads.extend((self.expert[e], session) for e in placed.experts if e in self.expert)
            for load, mask in loads:
                if mask:
                    (load.add if sign > 0 else load.remove)(day, mask)
        for e in placed.experts:
            if e in self.expert_load:
                self.expert_load[e] += sign
        if sign > 0:
            self.placed[p.id] = placed
        else:
            self.placed.pop(p.id, None)

    def free_without_experts(self, project: Project, day: int, start: int) -> bool:
        grid = self.grid
        session = grid.session_mask(start)
        return (
            self.supplier[project.supplier].free(day, grid.hold_mask(start))
            and self.city[project.city].free(day, session)
            and self.enterprise[project.enterprise].free(day, session)
        )

    def free_experts(self, candidates: list[str], day: int, start: int) -> list[str]:
        session = self.grid.session_mask(start)
        expert = self.expert
        return [e for e in candidates if expert[e].free(day, session)]
