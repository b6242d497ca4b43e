"""The planner's time grid: each working day cut into cells of ``cell`` minutes from the first period's
start; a check may start every ``gcd(session, buffer)`` minutes from each period's start, as long as it
ends inside that period. Occupations are bitmasks of cells (bit i = cell i of that day)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from scheduler.planning.instance import Instance, Interval


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


@dataclass(frozen=True)
class Grid:
    cell: int  # minutes per cell
    origin: int  # minutes after local midnight of cell 0
    cells: int  # cells per day (to the last period's end plus the buffer)
    starts: tuple[int, ...]  # cells where a check may start, ascending
    period_of: tuple[int, ...]  # the working period of each start
    session_cells: int
    hold_cells: int  # session plus supplier buffer
    day_index: dict[dt.date, int]

    def session_mask(self, start: int) -> int:
        return ((1 << self.session_cells) - 1) << start

    def hold_mask(self, start: int) -> int:
        return ((1 << self.hold_cells) - 1) << start

    def start_time(self, instance: Instance, day: int, start: int) -> dt.datetime:
        minute = self.origin + start * self.cell
        base = dt.datetime.combine(instance.days[day], dt.time(), tzinfo=instance.timezone)
        return base + dt.timedelta(minutes=minute)

    def locate(self, instance: Instance, when: dt.datetime) -> tuple[int, int] | None:
        """(day, start cell) of a start time on the grid, or None when it is not an allowed start."""
        local = when.astimezone(instance.timezone)
        day = self.day_index.get(local.date())
        minute = local.hour * 60 + local.minute - self.origin
        if day is None or local.second or local.microsecond or minute % self.cell:
            return None
        cell = minute // self.cell
        return (day, cell) if cell in self.starts else None

    def masks(self, instance: Instance, interval: Interval, extra_minutes: int = 0) -> dict[int, int]:
        """Cells (per day index) touched by ``interval`` plus ``extra_minutes``; partial cells count."""
        start, end = interval
        end = end + dt.timedelta(minutes=extra_minutes)
        out: dict[int, int] = {}
        first = start.astimezone(instance.timezone).date() - dt.timedelta(days=1)
        last = end.astimezone(instance.timezone).date()
        day = first
        while day <= last:
            index = self.day_index.get(day)
            if index is not None:
                zero = dt.datetime.combine(day, dt.time(), tzinfo=instance.timezone) + dt.timedelta(
                    minutes=self.origin
                )
                a = (start - zero).total_seconds() / 60 / self.cell
                b = (end - zero).total_seconds() / 60 / self.cell
                lo, hi = max(0, math.floor(a)), min(self.cells, math.ceil(b))
                if lo < hi:
                    out[index] = ((1 << (hi - lo)) - 1) << lo
            day += dt.timedelta(days=1)
        return out


def make_grid(instance: Instance) -> Grid:
    """The grid of ``instance`` (see the module docstring)."""
    length, buffer = instance.session_minutes, instance.supplier_buffer_minutes
    periods = [(_minutes(a), _minutes(b)) for a, b in instance.day_hours]
    origin = periods[0][0]
    step = math.gcd(length, buffer) if buffer else length
    cell = step
    for a, _ in periods:
        cell = math.gcd(cell, a - origin)
    cells = math.ceil((periods[-1][1] + buffer - origin) / cell)
    starts: list[int] = []
    period_of: list[int] = []
    for p, (a, b) in enumerate(periods):
        minute = a
        while minute + length <= b:
            starts.append((minute - origin) // cell)
            period_of.append(p)
            minute += step
    return Grid(
        cell=cell,
        origin=origin,
        cells=cells,
        starts=tuple(starts),
        period_of=tuple(period_of),
        session_cells=length // cell,
        hold_cells=(length + buffer) // cell,
        day_index={day: i for i, day in enumerate(instance.days)},
    )
