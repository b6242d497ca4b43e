"""A city's results list (公布反馈, notice 一): project code, enterprise, supplier, outcome, and nothing
personal; frozen in a :class:`~remote_check.outcomes.sanction_models.Publication` when published, and
written as CSV and XLSX by :mod:`remote_check.tabular`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor, record
from remote_check.campaigns.models import Draw, DrawEntry, DrawStatus
from remote_check.errors import NotFound
from remote_check.outcomes.kinds import OUTCOME_LABELS, Outcome
from remote_check.outcomes.sanction_models import Cascade, Notice, Objection, ObjectionFile, Publication
from remote_check.programme.models import Enterprise, ProjectStatus, Supplier, VoucherProject
from remote_check.tabular import Sheet, csv_text, xlsx_bytes

# The outcome a project's status shows (a qualified project stays qualified once funded or carried over).
OUTCOME_OF: dict[ProjectStatus, Outcome] = {
    ProjectStatus.QUALIFIED: Outcome.QUALIFIED,
    ProjectStatus.FUNDED: Outcome.QUALIFIED,
    ProjectStatus.CARRIED_OVER: Outcome.QUALIFIED,
    ProjectStatus.UNQUALIFIED: Outcome.UNQUALIFIED,
    ProjectStatus.VIOLATION: Outcome.VIOLATION,
}
HEADER = ("项目编号 Project", "企业 Enterprise", "服务商 Supplier", "结论 Outcome")


@dataclass(frozen=True)
class ResultRow:
    """One line of the published list."""

    project_id: int
    code: str
    enterprise_id: int
    enterprise: str
    supplier_id: int
    supplier: str
    outcome: Outcome

    def as_json(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "code": self.code,
            "enterprise_id": self.enterprise_id,
            "enterprise": self.enterprise,
            "supplier_id": self.supplier_id,
            "supplier": self.supplier,
            "outcome": self.outcome.value,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResultRow:
        return cls(
            int(data["project_id"]),
            str(data["code"]),
            int(data["enterprise_id"]),
            str(data["enterprise"]),
            int(data["supplier_id"]),
            str(data["supplier"]),
            Outcome(data["outcome"]),
        )


async def results_of(session: AsyncSession, city_code: str) -> list[ResultRow]:
    """The city's checked projects (in a published draw) with a confirmed outcome, by project code
    (a cancelled one only when a standing violation cascade names it)."""
    rows = (
        await session.execute(
            select(VoucherProject, Enterprise.name, Supplier.name)
            .join(Enterprise, Enterprise.id == VoucherProject.enterprise_id)
            .join(Supplier, Supplier.id == VoucherProject.supplier_id)
            .where(
                VoucherProject.city_code == city_code,
                VoucherProject.status.in_([*OUTCOME_OF, ProjectStatus.CANCELLED]),
                VoucherProject.id.in_(
                    select(DrawEntry.project_id)
                    .join(Draw, Draw.id == DrawEntry.draw_id)
                    .where(Draw.status == DrawStatus.PUBLISHED)
                ),
            )
            .order_by(VoucherProject.code)
        )
    ).all()
    cancelled = [p.id for p, _, _ in rows if p.status == ProjectStatus.CANCELLED]
    violations = set(
        (
            await session.scalars(
                select(Cascade.project_id).where(
                    Cascade.project_id.in_(cancelled), Cascade.overturned_at.is_(None)
                )
            )
        ).all()
    )
    out = []
    for project, enterprise, supplier in rows:
        if project.status == ProjectStatus.CANCELLED:
            if project.id not in violations:
                continue  # cancelled without a check's outcome we can name
            outcome = Outcome.VIOLATION
        else:
            outcome = OUTCOME_OF[project.status]
        out.append(
            ResultRow(
                project.id,
                project.code,
                project.enterprise_id,
                enterprise,
                project.supplier_id,
                supplier,
                outcome,
            )
        )
    return out


async def store_publication(
    session: AsyncSession,
    actor: Actor,
    city_code: str,
    rows: list[ResultRow],
    *,
    at: dt.datetime,
    user_id: int | None,
    campaign_id: int | None,
    objection_days: int,
    objections_until: dt.date,
) -> Publication:
    """Freeze ``rows`` as the city's publication, dated ``at``; audited (``results.publish``)."""
    publication = Publication(
        city_code=city_code,
        campaign_id=campaign_id,
        published_at=at,
        published_by=user_id,
        objection_days=objection_days,
        objections_until=objections_until,
        rows=[r.as_json() for r in rows],
    )
    session.add(publication)
    await session.flush()
    await record(
        session,
        actor,
        "results.publish",
        f"publication:{publication.id}",
        at=at,
        city_code=city_code,
        details={
            "rows": len(rows),
            "projects": [r.code for r in rows],
            "objections_until": objections_until.isoformat(),
            "objection_days": objection_days,
        },
    )
    return publication


def rows_of(publication: Publication) -> list[ResultRow]:
    """The publication's frozen rows."""
    return [ResultRow.from_json(r) for r in publication.rows]


def table(rows: list[ResultRow], lang: str = "zh") -> list[list[object]]:
    """The list as a table, the header first."""
    header: list[object] = list(HEADER)
    return [header] + [
        [r.code, r.enterprise, r.supplier, OUTCOME_LABELS[r.outcome].in_lang(lang)] for r in rows
    ]


def csv_file(rows: list[ResultRow]) -> bytes:
    """The list as UTF-8 CSV (with a BOM, for Excel)."""
    return csv_text(table(rows), bom=True).encode("utf-8")


def xlsx_file(rows: list[ResultRow], *, created: dt.datetime) -> bytes:
    """The list as an XLSX workbook."""
    return xlsx_bytes(
        [Sheet("抽查结果", table(rows), widths=(24, 36, 36, 12), freeze_header=True)], created=created
    )


def may_see(principal: Principal, city_code: str) -> bool:
    """Published results are public-ish: every signed-in user of the city, and the province's
    (administrators; auditors without a city)."""
    if principal.role == Role.PROVINCE_ADMIN:
        return True
    if principal.role == Role.AUDITOR and principal.city_code is None:
        return True
    return principal.city_code == city_code


async def publications_of(session: AsyncSession, principal: Principal) -> list[Publication]:
    """The publications ``principal`` may see, the newest first."""
    stmt = select(Publication).order_by(Publication.published_at.desc(), Publication.id.desc())
    rows = (await session.scalars(stmt)).all()
    return [p for p in rows if may_see(principal, p.city_code)]


async def visible_publication(
    session: AsyncSession, principal: Principal, publication_id: int
) -> Publication:
    """The publication if ``principal`` may see it; 404 otherwise (like an unknown one)."""
    publication = await session.get(Publication, publication_id)
    if publication is None or not may_see(principal, publication.city_code):
        raise NotFound("公布的抽查结果", "Published results")
    return publication


async def objections_of(
    session: AsyncSession, publication_id: int
) -> list[tuple[Objection, list[ObjectionFile]]]:
    """The publication's objections with their files' descriptions (content deferred), the oldest first."""
    objections = (
        await session.scalars(
            select(Objection).where(Objection.publication_id == publication_id).order_by(Objection.id)
        )
    ).all()
    files = (
        await session.scalars(
            select(ObjectionFile)
            .where(ObjectionFile.objection_id.in_([o.id for o in objections]))
            .options(defer(ObjectionFile.content))
            .order_by(ObjectionFile.id)
        )
    ).all()
    return [(o, [f for f in files if f.objection_id == o.id]) for o in objections]


async def notices_of(session: AsyncSession, principal: Principal, limit: int = 100) -> list[Notice]:
    """The latest notices without a session (re-checks, results, objection decisions) of the cities
    ``principal`` may see."""
    stmt = select(Notice).order_by(Notice.id.desc()).limit(limit)
    if principal.role != Role.PROVINCE_ADMIN:
        stmt = stmt.where(Notice.city_code == (principal.city_code or ""))
    return list((await session.scalars(stmt)).all())
