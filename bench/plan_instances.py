"""Province-like planning instances for ``bench/plan.py`` (seeded, as JSON data of issue 11's format).

About 200 suppliers with skewed loads (a few with hundreds of projects and several teams), Guangdong's
21 cities (Guangzhou, Foshan, Dongguan larger), experts shared between neighbouring cities with a few
cities short of experts, ties to suppliers and enterprises, unavailable days, key projects, early due days.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from remote_check.programme.cities import CITIES
from scheduler.planning.calendar import working_days

CITY_WEIGHT = {"4401": 8, "4406": 6, "4419": 6, "4403": 5, "4413": 3, "4420": 3, "4404": 2, "4407": 2}
SCARCE = ("4414", "4416", "4453")  # Meizhou, Heyuan, Yunfu: few experts
PER_DAY = 6  # checks a room (or an expert) can do in a day of 09:00-12:00 and 14:00-17:30
ROUND_DAYS = 24  # the round the expert pools are sized for


def generate(projects: int, *, seed: int = 1, suppliers: int = 200) -> dict[str, Any]:
    """An instance of ``projects`` projects as JSON data."""
    rng = random.Random(seed)
    days = working_days(dt.date(2020, 4, 7), dt.date(2020, 7, 31))
    codes = [c.code for c in CITIES]
    weights = [CITY_WEIGHT.get(c, 1) for c in codes]
    supplier_weights = [1 / (i + 1) ** 1.1 for i in range(suppliers)]
    chosen_supplier = rng.choices(range(suppliers), supplier_weights, k=projects)
    chosen_city = rng.choices(codes, weights, k=projects)
    load = [chosen_supplier.count(i) for i in range(suppliers)]
    supplier_rows = [
        {"id": f"S{i + 1:03d}", "teams": max(1, min(6, round(n / 60)))} for i, n in enumerate(load)
    ]
    per_city = {c: chosen_city.count(c) for c in codes}
    city_rows = [{"id": c, "rooms": max(1, round(per_city[c] / (PER_DAY * ROUND_DAYS)))} for c in codes]
    enterprises: list[dict[str, Any]] = []
    project_rows: list[dict[str, Any]] = []
    for i in range(projects):
        city = chosen_city[i]
        same = [e for e in enterprises[-40:] if e["city"] == city]
        if same and rng.random() < 0.05:  # an enterprise with a second sampled project
            enterprise = same[-1]
        else:
            enterprise = {"id": f"C{len(enterprises) + 1:05d}", "city": city, "unavailable": []}
            if rng.random() < 0.1:
                day = rng.choice(days[:30])
                enterprise["unavailable"].append([f"{day}T09:00", f"{day}T17:30"])
            enterprises.append(enterprise)
        due = days[-1] if rng.random() < 0.85 else days[rng.randrange(12, 30)]
        project_rows.append(
            {
                "id": f"P{i + 1:05d}",
                "city": city,
                "supplier": supplier_rows[chosen_supplier[i]]["id"],
                "enterprise": enterprise["id"],
                "panel": 5 if rng.random() < 0.05 else 3,
                "priority": 1 if rng.random() < 0.1 else 0,
                "due": due.isoformat(),
            }
        )
    experts = _experts(rng, codes, per_city, days, supplier_rows, enterprises)
    return {
        "timezone": "Asia/Shanghai",
        "days": [d.isoformat() for d in days],
        "day_hours": [["09:00", "12:00"], ["14:00", "17:30"]],
        "session_minutes": 60,
        "supplier_buffer_minutes": 30,
        "cities": city_rows,
        "suppliers": supplier_rows,
        "experts": experts,
        "enterprises": enterprises,
        "projects": project_rows,
        "fixed": [],
    }


def _experts(
    rng: random.Random,
    codes: list[str],
    per_city: dict[str, int],
    days: list[dt.date],
    suppliers: list[dict[str, Any]],
    enterprises: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for index, city in enumerate(codes):
        need = math.ceil(per_city[city] * 3.3 / (PER_DAY * ROUND_DAYS))
        count = max(6, math.ceil(need * (0.6 if city in SCARCE else 1.3)))
        for _ in range(count):
            served = [city]
            if rng.random() < 0.3:  # also serves a neighbouring city
                served.append(codes[(index + rng.choice([-1, 1])) % len(codes)])
            ties: list[str] = []
            if rng.random() < 0.2:
                ties.append(rng.choice(suppliers[:20])["id"])
            if rng.random() < 0.1:
                ties.append(rng.choice(enterprises)["id"])
            unavailable = []
            if rng.random() < 0.25:
                day = rng.choice(days[:30])
                unavailable.append([f"{day}T09:00", f"{day}T17:30"])
            if rng.random() < 0.1:
                day = rng.choice(days[:30])
                unavailable.append([f"{day}T14:00", f"{day}T17:30"])
            rows.append(
                {
                    "id": f"E{len(rows) + 1:04d}",
                    "cities": served,
                    "unavailable": unavailable,
                    "ties": ties,
                }
            )
    return rows


def with_rechecks(data: dict[str, Any], count: int, *, seed: int = 2) -> dict[str, Any]:
    """``data`` plus ``count`` re-checks (same supplier and enterprise, key priority, later due day)."""
    rng = random.Random(seed)
    out = dict(data)
    originals = rng.sample(data["projects"], count)
    out["projects"] = data["projects"] + [
        {**p, "id": f"{p['id']}-R", "priority": 2, "due": data["days"][-1]} for p in originals
    ]
    return out
