"""``remote-check import FILE [--dry-run] [--city CODE]``: import voucher projects, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from remote_check.audit.service import Actor
from remote_check.clock import SystemClock
from remote_check.commandline import run_db
from remote_check.database import make_reader
from remote_check.errors import DomainError
from remote_check.imports.sandbox import UploadReader
from remote_check.imports.service import ImportSummary
from remote_check.imports.workflow import Databases, import_upload
from remote_check.settings import Settings


def summary_lines(summary: ImportSummary) -> list[str]:
    """The summary a person reads, in Chinese then English."""
    head_zh = "检查通过（未保存）" if summary.dry_run else "导入完成"
    head_en = "check passed (nothing stored)" if summary.dry_run else "import done"
    verb_zh, verb_en = ("将新增", "would add") if summary.dry_run else ("新增", "added")
    s = summary
    return [
        f"{head_zh} / {head_en}: {s.rows} 行 / rows",
        f"  {verb_zh}项目 {s.created} 个，跳过已导入的 {s.skipped} 个 / "
        f"{verb_en} {s.created} projects, skipped {s.skipped} already imported",
        f"  企业：新增 {s.enterprises_created}，沿用 {s.enterprises_reused} / "
        f"enterprises: {s.enterprises_created} new, {s.enterprises_reused} existing",
        f"  服务商：新增 {s.suppliers_created}，沿用 {s.suppliers_reused} / "
        f"suppliers: {s.suppliers_created} new, {s.suppliers_reused} existing",
        f"  产品：新增 {s.products_created}，沿用 {s.products_reused} / "
        f"products: {s.products_created} new, {s.products_reused} existing",
    ]


def problem_line(detail: dict[str, str]) -> str:
    """``第 N 行 [列名] 原因 / row N [column] reason`` for one problem of a refusal."""
    row = detail["row"]
    zh = f"第 {row} 行 [{detail['column_zh']}] {detail['zh']}"
    return f"{zh} / row {row} [{detail['column_en']}] {detail['en']}"


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--dry-run", is_flag=True, help="check everything, store nothing")
@click.option("--city", "city_code", help="accept only this city's rows (e.g. 4419); others are problems")
@click.pass_obj
def import_command(settings: Settings, file: Path, dry_run: bool, city_code: str | None) -> None:
    """Import voucher projects from an XLSX or CSV file, all or nothing (see docs/import.md).

    On any problem nothing is stored: every problem is printed as
    "第 N 行 [列名] 原因 / row N [column] reason" and the exit status is 2.
    Importing the same file again changes nothing.
    """

    async def _work(factory: async_sessionmaker[AsyncSession]) -> ImportSummary:
        return await _import(factory, file, city_code, dry_run)

    try:
        summary = run_db(settings, _work)
    except OSError as exc:
        click.echo(f"错误 / error: {exc}", err=True)
        sys.exit(2)
    except DomainError as exc:
        click.echo(f"错误 / error: {exc.message}", err=True)
        for detail in exc.details:
            if "zh" in detail:
                click.echo(problem_line(detail), err=True)
        sys.exit(2)
    for line in summary_lines(summary):
        click.echo(line)


async def _import(
    factory: async_sessionmaker[AsyncSession], file: Path, city_code: str | None, dry_run: bool
) -> ImportSummary:
    """The file is read by a limited child process (as on the server), then imported."""
    reader = UploadReader()
    try:
        with file.open("rb") as source:
            return await import_upload(
                reader,
                Databases(write=factory, read=make_reader(factory.kw["bind"])),
                file.name,
                source,
                actor=Actor.cli(),
                now=SystemClock().now(),
                restrict_city=city_code,
                dry_run=dry_run,
            )
    finally:
        await reader.close()
