"""Filing a report to the province (报省汇总备案): a recorded, immutable act.

:func:`render` makes a report's two files (XLSX, PDF); :func:`file_report` stores their bytes in
the :class:`~remote_check.files.FileStore` under their SHA-256 and inserts the filing, which
supersedes the campaign's current filing of that kind, with one audit entry, in the caller's
transaction. There is no update path: a filing is corrected by filing again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from remote_check.accounts.access import Principal, project_scope
from remote_check.audit.service import Actor, record
from remote_check.campaigns.models import Campaign
from remote_check.errors import NotFound
from remote_check.files import FileStore
from remote_check.programme.scoping import scope_cities
from remote_check.reports.content import Report, ReportKind
from remote_check.reports.models import Filing
from remote_check.reports.pdf import report_pdf
from remote_check.reports.xlsx import report_xlsx


def report_store(data_dir: Path) -> FileStore:
    """Where filed reports' files live: ``<data>/files`` (the web app and the command line alike)."""
    return FileStore(data_dir / "files")


@dataclass(frozen=True)
class Rendered:
    """A report and its two files' bytes."""

    report: Report
    xlsx: bytes
    pdf: bytes


def render(report: Report) -> Rendered:
    """Both files of ``report`` (CPU work: call it outside a write transaction)."""
    return Rendered(report, report_xlsx(report), report_pdf(report))


@dataclass(frozen=True)
class FilingView:
    """A filing as lists show it: ``current`` unless a later filing supersedes it."""

    filing: Filing
    period: str
    current: bool


async def _current(session: AsyncSession, campaign_id: int, kind: ReportKind) -> Filing | None:
    later = aliased(Filing)
    return await session.scalar(
        select(Filing).where(
            Filing.campaign_id == campaign_id,
            Filing.kind == kind,
            ~select(later.id).where(later.supersedes_id == Filing.id).exists(),
        )
    )


async def file_report(
    session: AsyncSession,
    store: FileStore,
    rendered: Rendered,
    *,
    actor: Actor,
    filed_by: int | None,
    now: dt.datetime,
    note: str = "",
) -> Filing:
    """Store the files and record the filing, superseding the current one of its campaign and kind.

    The campaign's row is locked first, so two filings at once are ordered, never both current.
    """
    report = rendered.report
    campaign = await session.scalar(
        select(Campaign).where(Campaign.id == report.campaign_id).with_for_update()
    )
    if campaign is None:
        raise NotFound("抽查批次", "Campaign")
    previous = await _current(session, campaign.id, report.kind)
    filing = Filing(
        campaign_id=campaign.id,
        city_code=campaign.city_code,
        kind=report.kind,
        xlsx_sha256=store.put(rendered.xlsx),
        xlsx_size=len(rendered.xlsx),
        pdf_sha256=store.put(rendered.pdf),
        pdf_size=len(rendered.pdf),
        filed_at=now,
        filed_by=filed_by,
        note=note,
        supersedes_id=previous.id if previous else None,
    )
    session.add(filing)
    await session.flush()
    await record(
        session,
        actor,
        "report.file",
        f"report_filing:{filing.id}",
        at=now,
        city_code=campaign.city_code,
        details={
            "campaign": campaign.id,
            "period": campaign.period,
            "kind": report.kind.value,
            "xlsx_sha256": filing.xlsx_sha256,
            "pdf_sha256": filing.pdf_sha256,
            "supersedes": filing.supersedes_id,
            "made_at": report.made_at.isoformat(),
        },
    )
    return filing


def _scoped(principal: Principal) -> Select[Filing, str]:
    stmt = select(Filing, Campaign.period).join(Campaign, Campaign.id == Filing.campaign_id)
    return scope_cities(stmt, Filing.city_code, project_scope(principal))


async def visible_filings(session: AsyncSession, principal: Principal) -> list[FilingView]:
    """The filings of the cities ``principal`` sees (the province: all), newest first."""
    rows = (
        await session.execute(_scoped(principal).order_by(Filing.filed_at.desc(), Filing.id.desc()))
    ).all()
    superseded = {f.supersedes_id for f, _ in rows if f.supersedes_id is not None}
    return [FilingView(f, period, f.id not in superseded) for f, period in rows]


async def filing_in_scope(session: AsyncSession, principal: Principal, filing_id: int) -> Filing:
    """The filing if its city is one ``principal`` sees; 404 if absent or out of scope."""
    row = (await session.execute(_scoped(principal).where(Filing.id == filing_id))).first()
    if row is None:
        raise NotFound("报备文件", "Filed report")
    return row[0]
