"""``remote-check sample``: draw (creating the campaign), show, verify, publish, export."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from remote_check.campaigns.models import Campaign, Draw, DrawStatus
from remote_check.cli import main
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus, VoucherProject
from tests.conftest import Database
from tests.factories import add_project, add_supplier


async def _cli(db: Database, tmp_path: Path, *args: str) -> Result:
    runner = CliRunner()
    argv = ["--data-dir", str(tmp_path / "data"), "--database-url", db.url, "sample", *args]
    return await asyncio.to_thread(runner.invoke, main, argv)


async def _projects(db: Database) -> None:
    async with transaction(db.factory) as session:
        a = await add_supplier(session)
        b = await add_supplier(session)
        for _ in range(9):
            await add_project(session, a)
        await add_project(session, b, has_usage_logs=False)


async def test_draw_names_the_missing_options_and_changes_nothing(db: Database, tmp_path: Path) -> None:
    await _projects(db)
    result = await _cli(db, tmp_path, "draw", "--city", "4419", "--period", "2019", "--budget", "100000")
    assert result.exit_code == 2
    assert "--deadline" in result.output
    both = await _cli(
        db, tmp_path, "draw", "--city", "4419", "--period", "2019", "--ratio", "0.2", "--count", "3"
    )
    assert both.exit_code == 2
    assert "--ratio" in both.output
    big = await _cli(db, tmp_path, "draw", "--city", "4419", "--period", "2019", "--ratio", "1.2")
    assert big.exit_code == 2
    assert "--ratio" in big.output
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Campaign)) == 0


async def test_draw_publish_show_verify_export(db: Database, tmp_path: Path) -> None:
    await _projects(db)
    made = await _cli(
        db,
        tmp_path,
        *("draw", "--city", "4419", "--period", "2019", "--count", "3", "--seed", "S1"),
        *("--budget", "300000", "--deadline", "2020-06-30", "--publish"),
    )
    assert made.exit_code == 0, made.output
    assert "seed S1" in made.output
    async with db.factory() as session:
        draw = await session.scalar(select(Draw))
        sampled = await session.scalar(
            select(func.count())
            .select_from(VoucherProject)
            .where(VoucherProject.status == ProjectStatus.SAMPLED)
        )
    assert draw is not None
    assert draw.status == DrawStatus.PUBLISHED
    assert sampled == 3

    shown = await _cli(db, tmp_path, "show", str(draw.id))
    assert shown.exit_code == 0
    assert "no_usage_logs" in shown.output
    assert "seed S1" in shown.output
    verified = await _cli(db, tmp_path, "verify", str(draw.id))
    assert verified.exit_code == 0
    assert "matches" in verified.output
    again = await _cli(db, tmp_path, "publish", str(draw.id))
    assert again.exit_code == 2
    assert "cannot change" in again.output

    target = tmp_path / "sample.csv"
    exported = await _cli(db, tmp_path, "export", str(draw.id), "-o", str(target))
    assert exported.exit_code == 0
    rows = list(csv.reader(target.open(encoding="utf-8-sig")))
    assert len(rows) == 4
    assert rows[1][2]  # the enterprise's name


async def test_verify_fails_when_the_stored_list_was_altered(db: Database, tmp_path: Path) -> None:
    await _projects(db)
    made = await _cli(
        db,
        tmp_path,
        *("draw", "--city", "4419", "--period", "2019", "--ratio", "0.5", "--seed", "S2"),
        *("--budget", "1", "--deadline", "2020-06-30"),
    )
    assert made.exit_code == 0, made.output
    async with transaction(db.factory) as session:
        draw = await session.scalar(select(Draw))
        assert draw is not None
        draw.seed = "S3"
        draw_id = draw.id
    result = await _cli(db, tmp_path, "verify", str(draw_id))
    assert result.exit_code == 1
    assert "mismatch" in result.output
