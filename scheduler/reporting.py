"""A city's reports with their schedule: the check sessions of the sample (time, panel) are read
here, one layer above the core's :mod:`remote_check.reports`, which never reads sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.campaigns.models import Campaign
from remote_check.experts.models import Expert
from remote_check.reports.content import Report, ReportKind
from remote_check.reports.gather import ScheduleRow, plan_report, require_draw, results_report
from scheduler.life import LABELS, Phase
from scheduler.models import CheckSession, PanelRole, PanelSeat, SessionStatus


async def schedule_rows(session: AsyncSession, project_ids: dict[int, tuple[str, str]]) -> list[ScheduleRow]:
    """The sessions (not cancelled) of the projects ``{id: (code, enterprise)}``, with their panels."""
    if not project_ids:
        return []
    checks = list(
        (
            await session.scalars(
                select(CheckSession)
                .where(
                    CheckSession.project_id.in_(project_ids),
                    CheckSession.status != SessionStatus.CANCELLED,
                )
                .order_by(CheckSession.starts_at, CheckSession.id)
            )
        ).all()
    )
    seats = (
        await session.execute(
            select(PanelSeat.session_id, PanelSeat.role, Expert.name)
            .join(Expert, Expert.id == PanelSeat.expert_id)
            .where(PanelSeat.session_id.in_([c.id for c in checks]))
            .order_by(PanelSeat.session_id, PanelSeat.id)
        )
    ).all()
    panels: dict[int, list[tuple[bool, str]]] = {}
    for session_id, role, name in seats:
        panels.setdefault(session_id, []).append((role != PanelRole.LEAD, name))
    rows = []
    for check in checks:
        code, enterprise = project_ids[check.project_id]
        names = [
            f"{name}（组长）" if not member else name for member, name in sorted(panels.get(check.id, []))
        ]
        rows.append(
            ScheduleRow(
                code,
                enterprise,
                check.starts_at,
                check.ends_at,
                LABELS[Phase(check.status.value)].zh,
                "、".join(names),
            )
        )
    return rows


async def build_report(
    session: AsyncSession, campaign: Campaign, kind: ReportKind, *, made_at: dt.datetime
) -> Report:
    """The campaign's plan or results report as of ``made_at`` (409 without a published sample)."""
    if kind == ReportKind.RESULTS:
        return await results_report(session, campaign, made_at=made_at)
    draw, sample = await require_draw(session, campaign)
    schedule = await schedule_rows(session, {s.project_id: (s.code, s.enterprise) for s in sample})
    return plan_report(campaign, draw, sample, schedule, made_at=made_at)
