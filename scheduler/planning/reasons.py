"""Why a project could not be placed: the resource that runs out (supplier teams, experts for that
city, the enterprise's availability, city rooms, or the due day)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from scheduler.planning.instance import Project

if TYPE_CHECKING:
    from scheduler.planning.planner import Planner

SUPPLIER, EXPERTS, ENTERPRISE, ROOMS, DUE = "supplier", "experts", "enterprise", "rooms", "due"
PERIOD = "period"

_TEXT = {
    SUPPLIER: ("服务商团队已排满", "the supplier's teams are busy at every free time"),
    EXPERTS: ("该市可用专家不足", "not enough experts for that city at any free time"),
    ENTERPRISE: ("企业无空闲时间", "the enterprise is unavailable at every free time"),
    ROOMS: ("该市会议室已排满", "the city's rooms are full at every free time"),
}


def why_unplaced(planner: Planner, project: Project) -> tuple[str, str]:
    """(resource, reason) for a project the planner left unplaced."""
    state, grid, inst = planner.state, planner.grid, planner.instance
    eligible = planner.eligible(project)
    if len(eligible) < project.panel:
        return EXPERTS, (
            f"该市仅 {len(eligible)} 名无利益关联的专家，需 {project.panel} 名 / only {len(eligible)} "
            f"experts serve city {project.city} without a tie to {project.supplier} or "
            f"{project.enterprise}; the panel needs {project.panel}"
        )
    if not grid.starts:
        return PERIOD, (
            f"没有足够长的工作时段容纳 {inst.session_minutes} 分钟的检查 / no working period is long enough "
            f"for a check of {inst.session_minutes} minutes"
        )
    last = planner.last_day[project.id]
    if last < 0:
        return DUE, f"截止日 {project.due} 前没有工作日 / no working day up to the due day {project.due}"
    sole: Counter[str] = Counter()
    blocking: Counter[str] = Counter()
    supplier = state.supplier[project.supplier]
    city = state.city[project.city]
    enterprise = state.enterprise[project.enterprise]
    for day in range(len(inst.days)):
        for start in grid.starts:
            session = grid.session_mask(start)
            failing = []
            if not supplier.free(day, grid.hold_mask(start)):
                failing.append(SUPPLIER)
            if not city.free(day, session):
                failing.append(ROOMS)
            if not enterprise.free(day, session):
                failing.append(ENTERPRISE)
            if len(state.free_experts(eligible, day, start)) < project.panel:
                failing.append(EXPERTS)
            if day > last:
                if not failing:
                    return DUE, (
                        f"截止日 {project.due} 前无可用时间，之后 {inst.days[day]} 可安排 / no free time up "
                        f"to the due day {project.due}; {inst.days[day]} would fit"
                    )
                continue
            blocking.update(failing)
            if len(failing) == 1:
                sole[failing[0]] += 1
    counts = sole or blocking
    resource = max(sorted(counts), key=lambda r: counts[r]) if counts else SUPPLIER
    zh, en = _TEXT[resource]
    who = {SUPPLIER: project.supplier, EXPERTS: project.city, ENTERPRISE: project.enterprise}
    name = who.get(resource, project.city)
    return resource, f"{zh}（{name}，截止 {project.due}） / {en} ({name}) up to the due day {project.due}"
