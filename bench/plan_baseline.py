"""A deliberately simple earliest-slot greedy, the baseline of ``bench/plan.py``: projects in input
order, each at the first day and time (every gcd(session, buffer) minutes from each period's start)
where its supplier, city, enterprise and enough experts (first fit, in input order) are free."""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict

from scheduler.planning.instance import Instance
from scheduler.planning.plan import Plan, Session, Unscheduled

Busy = dict[tuple[str, int], list[tuple[int, int]]]  # (resource, day) -> [(start, end) minutes]


def _count(busy: Busy, key: tuple[str, int], start: int, end: int) -> int:
    """How many intervals of ``key`` overlap [start, end) at its most crowded instant."""
    points = sorted(
        p for a, b in busy.get(key, []) if a < end and start < b for p in ((max(a, start), 1), (b, -1))
    )
    most = now = 0
    for _, step in sorted(points, key=lambda x: (x[0], x[1])):
        now += step
        most = max(most, now)
    return most


def _blocked(instance: Instance) -> Busy:
    busy: Busy = defaultdict(list)
    for index, day in enumerate(instance.days):
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=instance.timezone)
        for who, spans in [(f"e:{e.id}", e.unavailable) for e in instance.experts] + [
            (f"c:{c.id}", c.unavailable) for c in instance.enterprises
        ]:
            for a, b in spans:
                lo = (a - midnight).total_seconds() // 60
                hi = (b - midnight).total_seconds() // 60
                if lo < 24 * 60 and hi > 0:
                    busy[who, index].append((int(lo), int(hi)))
    return busy


def baseline(instance: Instance) -> Plan:
    """The earliest-slot greedy plan (fixed checks are ignored: the bench uses none)."""
    length, buffer = instance.session_minutes, instance.supplier_buffer_minutes
    step = math.gcd(length, buffer) if buffer else length
    starts = []
    for a, b in instance.day_hours:
        minute = a.hour * 60 + a.minute
        while minute + length <= b.hour * 60 + b.minute:
            starts.append(minute)
            minute += step
    teams = {s.id: s.teams for s in instance.suppliers}
    rooms = {c.id: c.rooms for c in instance.cities}
    busy = _blocked(instance)
    sessions: list[Session] = []
    unscheduled: list[Unscheduled] = []
    for p in instance.projects:
        eligible = [
            e.id for e in instance.experts if p.city in e.cities and not e.ties & {p.supplier, p.enterprise}
        ]
        placed = False
        for day in range(bisect.bisect_right(instance.days, p.due)):
            for start in starts:
                end = start + length
                if _count(busy, (f"s:{p.supplier}", day), start, end + buffer) >= teams[p.supplier]:
                    continue
                if _count(busy, (f"r:{p.city}", day), start, end) >= rooms[p.city]:
                    continue
                if _count(busy, (f"c:{p.enterprise}", day), start, end):
                    continue
                panel = [e for e in eligible if not _count(busy, (f"e:{e}", day), start, end)][: p.panel]
                if len(panel) < p.panel:
                    continue
                busy[f"s:{p.supplier}", day].append((start, end + buffer))
                for key in (f"r:{p.city}", f"c:{p.enterprise}", *(f"e:{e}" for e in panel)):
                    busy[key, day].append((start, end))
                when = dt.datetime.combine(instance.days[day], dt.time(), tzinfo=instance.timezone)
                sessions.append(Session(p.id, when + dt.timedelta(minutes=start), tuple(panel)))
                placed = True
                break
            if placed:
                break
        if not placed:
            unscheduled.append(Unscheduled(p.id, "no slot found"))
    return Plan(tuple(sessions), tuple(unscheduled))
