"""``remote-check money``: open a period, compute, apply (audited as cli), the deadline; bad input refused."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from remote_check.audit.models import AuditEntry
from remote_check.cli import main
from remote_check.database import transaction
from remote_check.programme.models import ProjectStatus, VoucherProject
from tests.conftest import Database
from tests.factories import add_project, add_supplier


async def _cli(db: Database, tmp_path: Path, *args: str) -> Result:
    runner = CliRunner()
    argv = ["--data-dir", str(tmp_path / "data"), "--database-url", db.url, *args]
    return await asyncio.to_thread(runner.invoke, main, argv)


async def test_a_period_computed_and_applied_from_the_command_line(db: Database, tmp_path: Path) -> None:
    async with transaction(db.factory) as session:
        bundle = await add_supplier(session)
        for _ in range(2):
            await add_project(session, bundle, status=ProjectStatus.QUALIFIED, paid=Decimal(0))
        await add_project(session, bundle, status=ProjectStatus.SAMPLED)
    opened = await _cli(
        db, tmp_path, "money", "period", "--city", "4419", "--name", "P1", "--budget", "40000"
    )
    assert opened.exit_code == 0, opened.output
    period = re.search(r"period (\d+)", opened.output)
    assert period is not None
    assert "2020-06-30" in opened.output
    computed = await _cli(db, tmp_path, "money", "compute", period.group(1))
    assert computed.exit_code == 0, computed.output
    assert "予以兑现 / Funded" in computed.output
    assert "预算不足，结转下一结算期优先拨付" in computed.output
    plan = re.search(r"plan (\d+)", computed.output)
    assert plan is not None
    applied = await _cli(db, tmp_path, "money", "apply", plan.group(1))
    assert applied.exit_code == 0, applied.output
    assert "1 个项目拨付 / funded, 1 个结转 / carried over" in applied.output
    again = await _cli(db, tmp_path, "money", "apply", plan.group(1))
    assert again.exit_code != 0
    assert "already applied" in again.output
    async with db.factory() as session:
        statuses = sorted((await session.scalars(select(VoucherProject.status))).all())
        actors = (
            await session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "allocation.apply"))
        ).all()
    assert statuses == sorted([ProjectStatus.SAMPLED, ProjectStatus.FUNDED, ProjectStatus.CARRIED_OVER])
    assert actors == ["cli"]
    # the money deadline of 2020-06-30 is long past (the real clock): Dongguan's sampled check is late
    late = await _cli(db, tmp_path, "money", "deadline", "--city", "4419")
    assert late.exit_code == 1
    assert "警告" in late.output


async def test_bad_input_is_refused(db: Database, tmp_path: Path) -> None:
    for args in (
        ("money", "period", "--city", "4419", "--name", "P", "--budget", "lots"),
        ("money", "period", "--city", "4419", "--name", "P", "--budget", "-1"),
        ("money", "period", "--city", "4419", "--name", "P", "--budget", "1", "--deadline", "June"),
        ("money", "period", "--city", "9999", "--name", "P", "--budget", "1"),
        ("money", "deadline", "--city", "9999"),
        ("money", "apply", "12345"),
    ):
        result = await _cli(db, tmp_path, *args)
        assert result.exit_code != 0, args
        assert result.output.strip(), args
