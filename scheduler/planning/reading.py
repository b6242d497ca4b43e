"""Reading helpers for the planning input: each accessor records a problem (path and field) and
returns a fallback, so that every problem of a file is listed at once."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")

Interval = tuple[dt.datetime, dt.datetime]


def parse_datetime(text: object, zone: ZoneInfo) -> dt.datetime:
    """An ISO date-time; without an offset it is a local time of ``zone``. Raises ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"expected an ISO date-time string, got {text!r}")
    value = dt.datetime.fromisoformat(text)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


class Reader:
    """Collects problems while reading; each accessor returns a fallback after a problem."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, text: str) -> None:
        self.problems.append(f"{path}: {text}")

    def obj(self, value: object, path: str, fields: set[str], optional: set[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(path, "expected an object")
            return None
        for key in sorted(set(value) - fields - optional):
            self.problem(f"{path}.{key}", "unknown field")
        for key in sorted(fields - set(value)):
            self.problem(f"{path}.{key}", "missing")
        return value

    def list(self, parent: dict[str, Any], key: str, path: str) -> list[Any]:
        value = parent.get(key, [])
        if not isinstance(value, list):
            self.problem(f"{path}{key}", "expected a list")
            return []
        return value

    def convert(self, value: object, path: str, make: Callable[[Any], T], what: str) -> T | None:
        try:
            return make(value)
        except (ValueError, TypeError):
            self.problem(path, f"expected {what}, got {json.dumps(value, ensure_ascii=False)}")
            return None

    def text(self, value: object, path: str) -> str | None:
        if isinstance(value, str) and value:
            return value
        self.problem(path, f"expected a non-empty string, got {json.dumps(value, ensure_ascii=False)}")
        return None

    def integer(self, value: object, path: str, minimum: int) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
            return value
        self.problem(
            path, f"expected a whole number ≥ {minimum}, got {json.dumps(value, ensure_ascii=False)}"
        )
        return None

    def ids(self, items: Iterable[tuple[str, str | None]], kind: str) -> None:
        seen: set[str] = set()
        for path, ident in items:
            if ident is not None and ident in seen:
                self.problem(path, f'duplicate {kind} "{ident}"')
            if ident is not None:
                seen.add(ident)

    def intervals(self, value: object, path: str, zone: ZoneInfo) -> tuple[Interval, ...]:
        if not isinstance(value, list):
            self.problem(path, "expected a list of [start, end]")
            return ()
        out: list[Interval] = []
        for i, pair in enumerate(value):
            where = f"{path}[{i}]"
            if not (isinstance(pair, list) and len(pair) == 2):
                self.problem(where, "expected [start, end]")
                continue
            start = self.convert(pair[0], f"{where}[0]", lambda v: parse_datetime(v, zone), "a date-time")
            end = self.convert(pair[1], f"{where}[1]", lambda v: parse_datetime(v, zone), "a date-time")
            if start is not None and end is not None:
                if end <= start:
                    self.problem(where, "end is not after start")
                else:
                    out.append((start, end))
        return tuple(out)
