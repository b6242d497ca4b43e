"""The planning instance of issue 11, read from plain JSON data into frozen dataclasses.

Every problem in the input is collected (path and field, e.g. ``projects[12].supplier: unknown
supplier "S999"``) and raised at once as :class:`InstanceError`; nothing is planned from bad input.
Times without an offset are local times of the instance's ``timezone``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.planning.reading import Interval, Reader, parse_datetime

__all__ = ["Interval", "parse_datetime"]


class InstanceError(ValueError):
    """Bad planning input: ``problems`` lists every problem found, each naming its path and field."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = problems
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(problems))


@dataclass(frozen=True)
class City:
    id: str
    rooms: int


@dataclass(frozen=True)
class Supplier:
    id: str
    teams: int


@dataclass(frozen=True)
class Expert:
    id: str
    cities: frozenset[str]
    unavailable: tuple[Interval, ...]
    ties: frozenset[str]


@dataclass(frozen=True)
class Enterprise:
    id: str
    city: str
    unavailable: tuple[Interval, ...]


@dataclass(frozen=True)
class Project:
    id: str
    city: str
    supplier: str
    enterprise: str
    panel: int
    priority: int
    due: dt.date


@dataclass(frozen=True)
class Fixed:
    """A check already notified: it never moves."""

    project: str
    start: dt.datetime
    experts: tuple[str, ...]


@dataclass(frozen=True)
class Instance:
    """Everything the planner needs; ``days`` are the working days, in order."""

    timezone: ZoneInfo
    days: tuple[dt.date, ...]
    day_hours: tuple[tuple[dt.time, dt.time], ...]
    session_minutes: int
    supplier_buffer_minutes: int
    cities: tuple[City, ...]
    suppliers: tuple[Supplier, ...]
    experts: tuple[Expert, ...]
    enterprises: tuple[Enterprise, ...]
    projects: tuple[Project, ...]
    fixed: tuple[Fixed, ...]

    def local(self, day: dt.date, time: dt.time) -> dt.datetime:
        """``time`` on ``day`` in the instance's time zone."""
        return dt.datetime.combine(day, time, tzinfo=self.timezone)


_TOP = {
    "timezone",
    "days",
    "day_hours",
    "session_minutes",
    "supplier_buffer_minutes",
    "cities",
    "suppliers",
    "experts",
    "enterprises",
    "projects",
}


def parse_instance(data: object) -> Instance:
    """Read an instance from decoded JSON; raises :class:`InstanceError` listing every problem."""
    r = Reader()
    top = r.obj(data, "instance", _TOP, {"fixed"})
    if top is None:
        raise InstanceError(r.problems)
    zone = ZoneInfo("Asia/Shanghai")
    tz_name = r.text(top.get("timezone"), "timezone") if "timezone" in top else None
    if tz_name is not None:
        try:
            zone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            r.problem("timezone", f'unknown time zone "{tz_name}"')
    days = _days(r, top)
    hours = _hours(r, top)
    session = (
        r.integer(top.get("session_minutes"), "session_minutes", 1) if "session_minutes" in top else None
    )
    buffer = (
        r.integer(top.get("supplier_buffer_minutes"), "supplier_buffer_minutes", 0)
        if "supplier_buffer_minutes" in top
        else None
    )
    cities = _cities(r, top)
    suppliers = _suppliers(r, top)
    city_ids = {c.id for c in cities}
    supplier_ids = {s.id for s in suppliers}
    enterprises = _enterprises(r, top, city_ids, zone)
    experts = _experts(r, top, city_ids, zone)
    projects = _projects(r, top, city_ids, supplier_ids, {e.id for e in enterprises})
    fixed = _fixed(r, top, {p.id for p in projects}, {e.id for e in experts}, zone)
    if r.problems or session is None or buffer is None:
        raise InstanceError(r.problems)
    return Instance(
        zone, days, hours, session, buffer, cities, suppliers, experts, enterprises, projects, fixed
    )


def load_instance(path: Path) -> Instance:
    """Read an instance file; raises :class:`InstanceError` naming the file and every problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InstanceError([f"cannot be read: {exc.strerror}"], str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InstanceError([f"not readable JSON: {exc}"], str(path)) from None
    try:
        return parse_instance(data)
    except InstanceError as exc:
        raise InstanceError(exc.problems, str(path)) from None


def _days(r: Reader, top: dict[str, Any]) -> tuple[dt.date, ...]:
    days: list[dt.date] = []
    for i, value in enumerate(r.list(top, "days", "")):
        day = r.convert(value, f"days[{i}]", lambda v: dt.date.fromisoformat(v), "an ISO date")
        if day is None:
            continue
        if days and day <= days[-1]:
            r.problem(f"days[{i}]", f"{day} is not after {days[-1]} (days must be in order, once each)")
        days.append(day)
    if "days" in top and not days and not r.problems:
        r.problem("days", "no working day given")
    return tuple(days)


def _hours(r: Reader, top: dict[str, Any]) -> tuple[tuple[dt.time, dt.time], ...]:
    out: list[tuple[dt.time, dt.time]] = []
    for i, pair in enumerate(r.list(top, "day_hours", "")):
        where = f"day_hours[{i}]"
        if not (isinstance(pair, list) and len(pair) == 2):
            r.problem(where, 'expected ["HH:MM", "HH:MM"]')
            continue
        start = r.convert(pair[0], f"{where}[0]", lambda v: dt.time.fromisoformat(v), "a time HH:MM")
        end = r.convert(pair[1], f"{where}[1]", lambda v: dt.time.fromisoformat(v), "a time HH:MM")
        if start is None or end is None:
            continue
        if end <= start:
            r.problem(where, "end is not after start")
        elif out and start < out[-1][1]:
            r.problem(where, "overlaps or precedes the period before it (periods must be in order)")
        else:
            out.append((start, end))
    if "day_hours" in top and not out and not r.problems:
        r.problem("day_hours", "no working period given")
    return tuple(out)


def _counted(r: Reader, top: dict[str, Any], key: str, count: str, kind: str) -> list[tuple[str, int]]:
    """``[{"id": ..., count: n}, ...]`` under ``key``, each id once and each count at least 1."""
    out: list[tuple[str, int]] = []
    seen: list[tuple[str, str | None]] = []
    for i, raw in enumerate(r.list(top, key, "")):
        item = r.obj(raw, f"{key}[{i}]", {"id", count}, set())
        if item is None:
            continue
        ident = r.text(item.get("id"), f"{key}[{i}].id") if "id" in item else None
        number = r.integer(item.get(count), f"{key}[{i}].{count}", 1) if count in item else None
        seen.append((f"{key}[{i}].id", ident))
        if ident is not None and number is not None:
            out.append((ident, number))
    r.ids(seen, kind)
    return out


def _cities(r: Reader, top: dict[str, Any]) -> tuple[City, ...]:
    return tuple(City(ident, rooms) for ident, rooms in _counted(r, top, "cities", "rooms", "city"))


def _suppliers(r: Reader, top: dict[str, Any]) -> tuple[Supplier, ...]:
    counted = _counted(r, top, "suppliers", "teams", "supplier")
    return tuple(Supplier(ident, teams) for ident, teams in counted)


def _known(r: Reader, value: object, path: str, known: set[str], kind: str) -> str | None:
    ident = r.text(value, path)
    if ident is not None and ident not in known:
        r.problem(path, f'unknown {kind} "{ident}"')
        return None
    return ident


def _enterprises(r: Reader, top: dict[str, Any], cities: set[str], zone: ZoneInfo) -> tuple[Enterprise, ...]:
    out: list[Enterprise] = []
    seen: list[tuple[str, str | None]] = []
    for i, raw in enumerate(r.list(top, "enterprises", "")):
        path = f"enterprises[{i}]"
        item = r.obj(raw, path, {"id", "city"}, {"unavailable"})
        if item is None:
            continue
        ident = r.text(item.get("id"), f"{path}.id") if "id" in item else None
        city = _known(r, item.get("city"), f"{path}.city", cities, "city") if "city" in item else None
        busy = r.intervals(item.get("unavailable", []), f"{path}.unavailable", zone)
        seen.append((f"{path}.id", ident))
        if ident is not None and city is not None:
            out.append(Enterprise(ident, city, busy))
    r.ids(seen, "enterprise")
    return tuple(out)


def _experts(r: Reader, top: dict[str, Any], cities: set[str], zone: ZoneInfo) -> tuple[Expert, ...]:
    out: list[Expert] = []
    seen: list[tuple[str, str | None]] = []
    for i, raw in enumerate(r.list(top, "experts", "")):
        path = f"experts[{i}]"
        item = r.obj(raw, path, {"id", "cities"}, {"unavailable", "ties"})
        if item is None:
            continue
        ident = r.text(item.get("id"), f"{path}.id") if "id" in item else None
        served = [
            _known(r, c, f"{path}.cities[{j}]", cities, "city")
            for j, c in enumerate(r.list(item, "cities", f"{path}."))
        ]
        # A tie to a supplier or enterprise outside this instance is harmless, so any id is accepted.
        ties = [r.text(t, f"{path}.ties[{j}]") for j, t in enumerate(r.list(item, "ties", f"{path}."))]
        busy = r.intervals(item.get("unavailable", []), f"{path}.unavailable", zone)
        seen.append((f"{path}.id", ident))
        if ident is not None:
            out.append(
                Expert(ident, frozenset(c for c in served if c), busy, frozenset(t for t in ties if t))
            )
    r.ids(seen, "expert")
    return tuple(out)


_PROJECT = {"id", "city", "supplier", "enterprise", "panel", "due"}


def _projects(
    r: Reader, top: dict[str, Any], cities: set[str], suppliers: set[str], enterprises: set[str]
) -> tuple[Project, ...]:
    out: list[Project] = []
    seen: list[tuple[str, str | None]] = []
    for i, raw in enumerate(r.list(top, "projects", "")):
        path = f"projects[{i}]"
        item = r.obj(raw, path, _PROJECT, {"priority"})
        if item is None:
            continue
        ident = r.text(item.get("id"), f"{path}.id") if "id" in item else None
        city = _known(r, item.get("city"), f"{path}.city", cities, "city") if "city" in item else None
        supplier = (
            _known(r, item.get("supplier"), f"{path}.supplier", suppliers, "supplier")
            if "supplier" in item
            else None
        )
        enterprise = (
            _known(r, item.get("enterprise"), f"{path}.enterprise", enterprises, "enterprise")
            if "enterprise" in item
            else None
        )
        panel = r.integer(item.get("panel"), f"{path}.panel", 1) if "panel" in item else None
        priority = r.integer(item.get("priority", 0), f"{path}.priority", -(10**9))
        due = (
            r.convert(item.get("due"), f"{path}.due", lambda v: dt.date.fromisoformat(v), "an ISO date")
            if "due" in item
            else None
        )
        seen.append((f"{path}.id", ident))
        fields = (ident, city, supplier, enterprise, panel, priority, due)
        if all(f is not None for f in fields):
            out.append(Project(*fields))  # type: ignore[arg-type]
    r.ids(seen, "project")
    return tuple(out)


def _fixed(
    r: Reader, top: dict[str, Any], projects: set[str], experts: set[str], zone: ZoneInfo
) -> tuple[Fixed, ...]:
    out: list[Fixed] = []
    seen: list[tuple[str, str | None]] = []
    for i, raw in enumerate(r.list(top, "fixed", "")):
        path = f"fixed[{i}]"
        item = r.obj(raw, path, {"project", "start", "experts"}, set())
        if item is None:
            continue
        project = (
            _known(r, item.get("project"), f"{path}.project", projects, "project")
            if "project" in item
            else None
        )
        start = (
            r.convert(item.get("start"), f"{path}.start", lambda v: parse_datetime(v, zone), "a date-time")
            if "start" in item
            else None
        )
        panel = [
            _known(r, e, f"{path}.experts[{j}]", experts, "expert")
            for j, e in enumerate(r.list(item, "experts", f"{path}."))
        ]
        seen.append((f"{path}.project", project))
        if project is not None and start is not None and all(panel):
            out.append(Fixed(project, start, tuple(e for e in panel if e)))
    r.ids(seen, "fixed check of project")
    return tuple(out)
