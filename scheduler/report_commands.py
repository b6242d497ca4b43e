"""``remote-check reports file|list``: file a campaign's plan or results with the province from the
command line (audited as ``cli``), and list the filings (see :mod:`remote_check.reports.filing`)."""

from __future__ import annotations

import asyncio
from typing import Any

import click
from sqlalchemy import select

from remote_check.audit.service import Actor
from remote_check.campaigns.models import Campaign
from remote_check.clock import SystemClock, format_local
from remote_check.commandline import fail, run_db
from remote_check.database import transaction
from remote_check.errors import DomainError, NotFound, invalid
from remote_check.reports.content import ReportKind
from remote_check.reports.filing import file_report, render, report_store
from remote_check.reports.models import Filing
from remote_check.settings import Settings
from scheduler.reporting import build_report


@click.group("reports")
def reports() -> None:
    """Reports to the province (报省汇总备案)."""


@reports.command("file")
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
@click.option("--kind", type=click.Choice([k.value for k in ReportKind]), required=True)
@click.option("--note", default="", help="a note kept with the filing (at most 500 characters)")
@click.pass_obj
def file_command(settings: Settings, campaign_id: int, kind: str, note: str) -> None:
    """Make the campaign's report now, store it and record the filing (supersedes the current one)."""
    if len(note) > 500:
        fail(invalid("备注不能超过500字", "The note is at most 500 characters", field="note"))
        return
    now = SystemClock().now()

    async def _work(factory: Any) -> Filing:
        async with factory() as session:
            campaign = await session.get(Campaign, campaign_id)
            if campaign is None:
                raise NotFound("抽查批次", "Campaign")
            report = await build_report(session, campaign, ReportKind(kind), made_at=now)
        rendered = await asyncio.to_thread(render, report)  # seconds of CPU: off the loop, as the pages do
        async with transaction(factory) as session:
            return await file_report(
                session,
                report_store(settings.data_dir),
                rendered,
                actor=Actor.cli(),
                filed_by=None,
                now=now,
                note=note,
            )

    try:
        filing = run_db(settings, _work)
    except DomainError as exc:
        fail(exc)
        return
    superseded = f", 取代 / supersedes #{filing.supersedes_id}" if filing.supersedes_id else ""
    click.echo(f"已备案 / filed #{filing.id} ({filing.city_code} {kind}{superseded})")
    click.echo(f"  xlsx {filing.xlsx_sha256} ({filing.xlsx_size} B)")
    click.echo(f"  pdf  {filing.pdf_sha256} ({filing.pdf_size} B)")


@reports.command("list")
@click.option("--city", default="", help="one city's filings (GB/T 2260 code)")
@click.pass_obj
def list_command(settings: Settings, city: str) -> None:
    """The filings, newest first; * marks the current one of its campaign and kind."""

    async def _work(factory: Any) -> list[Filing]:
        async with factory() as session:
            stmt = select(Filing).order_by(Filing.filed_at.desc(), Filing.id.desc())
            if city:
                stmt = stmt.where(Filing.city_code == city)
            return list((await session.scalars(stmt)).all())

    filings = run_db(settings, _work)
    superseded = {f.supersedes_id for f in filings}
    for f in filings:
        mark = " " if f.id in superseded else "*"
        click.echo(
            f"{mark} #{f.id} {f.city_code} campaign {f.campaign_id} {f.kind.value:<7} "
            f"{format_local(f.filed_at)} pdf {f.pdf_sha256[:12]} {f.note}"
        )
