"""``remote-check reports file|list``: a filing from the command line, superseded by the next, and
bad input refused (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from remote_check.audit.models import AuditEntry
from remote_check.cli import main
from remote_check.database import transaction
from remote_check.reports.filing import report_store
from remote_check.reports.models import Filing
from tests.conftest import Database
from tests.report_world import build_world


async def _cli(db: Database, tmp_path: Path, *args: str) -> Result:
    runner = CliRunner()
    argv = ["--data-dir", str(tmp_path / "data"), "--database-url", db.url, *args]
    return await asyncio.to_thread(runner.invoke, main, argv)


async def test_a_filing_from_the_command_line_is_stored_listed_and_superseded(
    db: Database, tmp_path: Path
) -> None:
    async with transaction(db.factory) as session:
        world = await build_world(session)
    first = await _cli(db, tmp_path, "reports", "file", str(world.campaign_id), "--kind", "results")
    second = await _cli(
        db, tmp_path, "reports", "file", str(world.campaign_id), "--kind", "results", "--note", "更正"
    )
    assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
    assert "supersedes #1" in second.output
    listed = await _cli(db, tmp_path, "reports", "list", "--city", "4401")
    lines = listed.output.splitlines()
    assert lines[0].startswith("* #2 4401")
    assert lines[0].endswith("更正")
    assert lines[1].startswith("  #1 4401")
    async with db.factory() as session:
        filing = await session.get_one(Filing, 2)
        audited = (
            await session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "report.file"))
        ).all()
    assert report_store(tmp_path / "data").get(filing.pdf_sha256).startswith(b"%PDF")
    assert audited == ["cli", "cli"]


async def test_bad_input_files_nothing(db: Database, tmp_path: Path) -> None:
    async with transaction(db.factory) as session:
        world = await build_world(session)
    cases = [
        await _cli(db, tmp_path, "reports", "file", "999", "--kind", "plan"),
        await _cli(db, tmp_path, "reports", "file", str(world.campaign_id), "--kind", "verdict"),
        await _cli(
            db, tmp_path, "reports", "file", str(world.campaign_id), "--kind", "plan", "--note", "长" * 501
        ),
    ]
    assert [r.exit_code for r in cases] == [2, 2, 2]
    assert "Campaign" in cases[0].output
    assert "note" in cases[2].output
    async with db.factory() as session:
        assert (await session.scalars(select(Filing))).all() == []
