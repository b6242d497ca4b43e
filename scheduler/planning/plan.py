"""The plan format: ``{"sessions": [{"project", "start", "experts", ...}], "unscheduled": [{"project",
"reason"}]}``; start times are local ISO times of the instance's time zone."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scheduler.planning.instance import Instance, InstanceError, parse_datetime


@dataclass(frozen=True)
class Session:
    """One placed check."""

    project: str
    start: dt.datetime
    experts: tuple[str, ...]


@dataclass(frozen=True)
class Unscheduled:
    """A project the plan could not place, with the resource that ran out."""

    project: str
    reason: str
    resource: str = ""


@dataclass(frozen=True)
class Plan:
    sessions: tuple[Session, ...]
    unscheduled: tuple[Unscheduled, ...]


def plan_to_json(plan: Plan, instance: Instance) -> dict[str, Any]:
    """The plan as JSON data, with the extra keys ``end``, ``city`` and ``supplier`` for readers."""
    projects = {p.id: p for p in instance.projects}
    length = dt.timedelta(minutes=instance.session_minutes)
    sessions = []
    for s in sorted(plan.sessions, key=lambda s: (s.start, s.project)):
        project = projects.get(s.project)
        sessions.append(
            {
                "project": s.project,
                "start": _local(s.start, instance),
                "end": _local(s.start + length, instance),
                "experts": list(s.experts),
                "city": project.city if project else None,
                "supplier": project.supplier if project else None,
            }
        )
    unscheduled = [
        {"project": u.project, "reason": u.reason, **({"resource": u.resource} if u.resource else {})}
        for u in plan.unscheduled
    ]
    return {"sessions": sessions, "unscheduled": unscheduled}


def _local(when: dt.datetime, instance: Instance) -> str:
    return when.astimezone(instance.timezone).replace(tzinfo=None).isoformat(timespec="minutes")


def parse_plan(data: object, instance: Instance) -> Plan:
    """Read a plan from decoded JSON; raises :class:`InstanceError` listing every problem of form
    (the rules themselves are the checker's business)."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise InstanceError(["plan: expected an object"])
    sessions: list[Session] = []
    raw_sessions = data.get("sessions", [])
    if not isinstance(raw_sessions, list):
        problems.append("sessions: expected a list")
        raw_sessions = []
    for i, raw in enumerate(raw_sessions):
        path = f"sessions[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{path}: expected an object")
            continue
        project = raw.get("project")
        if not isinstance(project, str):
            problems.append(f"{path}.project: expected a string")
        try:
            start = parse_datetime(raw.get("start"), instance.timezone)
        except (ValueError, TypeError):
            problems.append(f"{path}.start: expected an ISO date-time, got {json.dumps(raw.get('start'))}")
            start = None
        experts = raw.get("experts")
        if not (isinstance(experts, list) and all(isinstance(e, str) for e in experts)):
            problems.append(f"{path}.experts: expected a list of expert ids")
            experts = None
        if isinstance(project, str) and start is not None and experts is not None:
            sessions.append(Session(project, start, tuple(experts)))
    unscheduled: list[Unscheduled] = []
    raw_unscheduled = data.get("unscheduled", [])
    if not isinstance(raw_unscheduled, list):
        problems.append("unscheduled: expected a list")
        raw_unscheduled = []
    for i, raw in enumerate(raw_unscheduled):
        if not (isinstance(raw, dict) and isinstance(raw.get("project"), str)):
            problems.append(f"unscheduled[{i}].project: expected a string")
            continue
        unscheduled.append(
            Unscheduled(raw["project"], str(raw.get("reason", "")), str(raw.get("resource", "")))
        )
    if problems:
        raise InstanceError(problems)
    return Plan(tuple(sessions), tuple(unscheduled))


def load_plan(path: Path, instance: Instance) -> Plan:
    """Read a plan file; raises :class:`InstanceError` naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InstanceError([f"cannot be read: {exc.strerror}"], str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InstanceError([f"not readable JSON: {exc}"], str(path)) from None
    try:
        return parse_plan(data, instance)
    except InstanceError as exc:
        raise InstanceError(exc.problems, str(path)) from None
