"""Small hand-made planning instances for the planner's tests (JSON data of issue 11's format)."""

from __future__ import annotations

import random
from typing import Any

from scheduler.planning.instance import Instance, parse_instance

DAY1, DAY2, DAY3 = "2020-04-07", "2020-04-08", "2020-04-09"


def base(**overrides: Any) -> dict[str, Any]:
    """One city (2 rooms), one supplier (1 team), three experts, no project; a 09:00-12:00 morning."""
    data: dict[str, Any] = {
        "timezone": "Asia/Shanghai",
        "days": [DAY1, DAY2, DAY3],
        "day_hours": [["09:00", "12:00"]],
        "session_minutes": 60,
        "supplier_buffer_minutes": 30,
        "cities": [{"id": "4419", "rooms": 2}],
        "suppliers": [{"id": "S1", "teams": 1}],
        "experts": [{"id": f"E{i}", "cities": ["4419"], "unavailable": [], "ties": []} for i in (1, 2, 3)],
        "enterprises": [],
        "projects": [],
        "fixed": [],
    }
    data.update(overrides)
    return data


def add_project(
    data: dict[str, Any], ident: str, *, supplier: str = "S1", enterprise: str | None = None, **fields: Any
) -> dict[str, Any]:
    """Add a project (and its enterprise, unless named) to ``data``; returns the project row."""
    enterprise = enterprise or f"C-{ident}"
    if not any(e["id"] == enterprise for e in data["enterprises"]):
        data["enterprises"].append({"id": enterprise, "city": "4419", "unavailable": []})
    row = {
        "id": ident,
        "city": "4419",
        "supplier": supplier,
        "enterprise": enterprise,
        "panel": 1,
        "priority": 0,
        "due": data["days"][-1],
        **fields,
    }
    data["projects"].append(row)
    return row


def random_instance(seed: int) -> Instance:
    """A small random instance: 2-3 cities, a few suppliers and experts, ties, unavailability, due days."""
    rng = random.Random(seed)
    cities = [f"44{n:02d}" for n in range(1, rng.randint(3, 4))]
    days = ["2020-04-07", "2020-04-08", "2020-04-09", "2020-04-10", "2020-04-13"]
    suppliers = [{"id": f"S{i}", "teams": rng.randint(1, 2)} for i in range(rng.randint(2, 4))]
    enterprises: list[dict[str, Any]] = []
    projects: list[dict[str, Any]] = []
    for i in range(rng.randint(4, 25)):
        city = rng.choice(cities)
        if enterprises and rng.random() < 0.2:
            enterprise = rng.choice(enterprises)
            city = enterprise["city"]
        else:
            enterprise = {"id": f"C{i}", "city": city, "unavailable": []}
            if rng.random() < 0.2:
                day = rng.choice(days)
                enterprise["unavailable"].append([f"{day}T09:30", f"{day}T11:00"])
            enterprises.append(enterprise)
        projects.append(
            {
                "id": f"P{i:02d}",
                "city": city,
                "supplier": rng.choice(suppliers)["id"],
                "enterprise": enterprise["id"],
                "panel": rng.choice([1, 2, 3]),
                "priority": rng.choice([0, 0, 1]),
                "due": rng.choice(days[1:] + [days[-1]] * 3),
            }
        )
    experts = []
    for i in range(rng.randint(3, 8)):
        ties = [rng.choice(suppliers)["id"]] if rng.random() < 0.3 else []
        unavailable = []
        if rng.random() < 0.3:
            day = rng.choice(days)
            unavailable.append([f"{day}T08:00", f"{day}T10:15"])
        served = rng.sample(cities, rng.randint(1, len(cities)))
        experts.append({"id": f"E{i}", "cities": served, "unavailable": unavailable, "ties": ties})
    data = {
        "timezone": "Asia/Shanghai",
        "days": days,
        "day_hours": [["09:00", "12:00"], ["14:00", "17:30"]],
        "session_minutes": rng.choice([45, 60, 90]),
        "supplier_buffer_minutes": rng.choice([0, 15, 30]),
        "cities": [{"id": c, "rooms": rng.randint(1, 2)} for c in cities],
        "suppliers": suppliers,
        "experts": experts,
        "enterprises": enterprises,
        "projects": projects,
        "fixed": [],
    }
    return parse_instance(data)
