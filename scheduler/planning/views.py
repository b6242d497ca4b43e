"""A proposal as the pages show it: a calendar per city, a supplier's checks across cities, what
could not be placed and why (in the reader's language, with names instead of planner ids). Pure."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from remote_check.errors import Message
from remote_check.programme.cities import BY_CODE
from scheduler.planning.plan import Plan
from scheduler.planning.service import Source

_IDS = re.compile(r"\b[PSCE]\d+\b")


@dataclass(frozen=True)
class Row:
    """One check of the proposal."""

    day: dt.date
    start: str  # HH:MM, local
    end: str
    project: str  # code
    city: str  # code
    enterprise: str
    supplier: str
    experts: tuple[str, ...]  # names, the lead first
    fixed: bool  # booked before: it stays where it is


@dataclass(frozen=True)
class CityDays:
    code: str
    name: Message
    days: list[tuple[dt.date, list[Row]]]


@dataclass(frozen=True)
class SupplierRows:
    name: str
    rows: list[Row]
    cities: int  # how many cities it works in


@dataclass(frozen=True)
class Unplaced:
    project: str
    city: str
    reason: Message


@dataclass(frozen=True)
class ProposalView:
    placed: int  # new checks placed
    fixed: int  # checks booked before, kept where they are
    makespan: int  # working days
    first: dt.date | None
    last: dt.date | None
    cities: list[CityDays]
    suppliers: list[SupplierRows]
    unplaced: list[Unplaced]


def city_name(code: str) -> Message:
    ref = BY_CODE.get(code)
    return Message(ref.name_zh, ref.name_en) if ref else Message(code, code)


def translate(reason: str, source: Source) -> Message:
    """The planner's "中文 / English" reason split in two, its ids replaced by names."""
    names = {**source.suppliers, **source.enterprises, **source.experts}
    names |= {k: v.code for k, v in source.projects.items()}
    zh, _, en = reason.partition(" / ")

    def named(text: str) -> str:
        return _IDS.sub(lambda m: names.get(m.group(0), m.group(0)), text)

    return Message(named(zh), named(en or zh))


def proposal_view(source: Source, plan: Plan, makespan: int) -> ProposalView:
    """The proposal's checks visible in ``source``'s scope, by city and by supplier."""
    inst = source.instance
    fixed = {f.project for f in inst.fixed}
    length = dt.timedelta(minutes=inst.session_minutes)
    rows: list[Row] = []
    for s in plan.sessions:
        ref = source.projects[s.project]
        if source.city_code is not None and ref.city_code != source.city_code:
            continue  # another city's booked check: counted by the planner, not shown here
        start = s.start.astimezone(inst.timezone)
        rows.append(
            Row(
                start.date(),
                f"{start:%H:%M}",
                f"{start + length:%H:%M}",
                ref.code,
                ref.city_code,
                ref.enterprise,
                ref.supplier,
                tuple(source.experts.get(e, e) for e in s.experts),
                s.project in fixed,
            )
        )
    rows.sort(key=lambda r: (r.day, r.start, r.city, r.project))
    by_city: dict[str, dict[dt.date, list[Row]]] = {}
    by_supplier: dict[str, list[Row]] = {}
    for row in rows:
        by_city.setdefault(row.city, {}).setdefault(row.day, []).append(row)
        by_supplier.setdefault(row.supplier, []).append(row)
    new = [r for r in rows if not r.fixed]
    return ProposalView(
        placed=len(new),
        fixed=len(rows) - len(new),
        makespan=makespan,
        first=min((r.day for r in new), default=None),
        last=max((r.day for r in new), default=None),
        cities=[
            CityDays(code, city_name(code), sorted(days.items())) for code, days in sorted(by_city.items())
        ],
        suppliers=[
            SupplierRows(name, items, len({r.city for r in items}))
            for name, items in sorted(by_supplier.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ],
        unplaced=[
            Unplaced(
                source.projects[u.project].code,
                source.projects[u.project].city_code,
                translate(u.reason, source),
            )
            for u in plan.unscheduled
        ],
    )
