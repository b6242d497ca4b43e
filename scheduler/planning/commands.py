"""``remote-check plan`` and ``remote-check plan-check``: the planner and its checker on files."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import NoReturn

import click

from scheduler.planning.check import Report, check_plan
from scheduler.planning.instance import InstanceError, load_instance
from scheduler.planning.plan import load_plan, plan_to_json
from scheduler.planning.planner import plan as make_plan

_FILE = click.Path(path_type=Path, dir_okay=False)


def _bad_input(error: InstanceError) -> NoReturn:
    click.echo(f"错误：输入文件有误 / error: bad input in {error.source or 'input'}", err=True)
    for problem in error.problems:
        click.echo(f"  {error.source}: {problem}" if error.source else f"  {problem}", err=True)
    sys.exit(2)


def _figures(report: Report, seconds: float | None = None) -> None:
    click.echo(f"已安排 / placed: {report.placed}")
    click.echo(f"未安排 / unplaced: {report.unplaced}")
    click.echo(f"工期（工作日） / makespan (working days): {report.makespan}")
    click.echo(f"工期下界 / lower bound: {report.bound} ({report.bound_by})")
    click.echo(f"比值 / ratio: {report.ratio:.3f}")
    if seconds is not None:
        click.echo(f"用时 / time: {seconds:.2f} s")


@click.command("plan")
@click.argument("instance_file", metavar="INSTANCE.json", type=_FILE)
@click.option("--out", "out_file", type=_FILE, required=True, help="where to write the plan (JSON)")
@click.option("--seconds", type=click.FloatRange(min=0), default=5.0, show_default=True, help="time budget")
@click.option("--seed", type=int, default=0, show_default=True, help="the same seed makes the same plan")
def plan_command(instance_file: Path, out_file: Path, seconds: float, seed: int) -> None:
    """Plan every project's check of an instance file (排期): times and expert panels."""
    try:
        instance = load_instance(instance_file)
    except InstanceError as error:
        _bad_input(error)
    started = time.monotonic()
    result = make_plan(instance, seconds=seconds, seed=seed)
    took = time.monotonic() - started
    try:
        out_file.write_text(
            json.dumps(plan_to_json(result.plan, instance), ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
    except OSError as exc:
        click.echo(f"错误：无法写入 / error: cannot write {out_file}: {exc.strerror}", err=True)
        sys.exit(2)
    report = check_plan(instance, result.plan)
    _figures(report, took)
    for item in result.plan.unscheduled:
        click.echo(f"  {item.project}: {item.reason}")
    for violation in report.violations:  # never expected: the checker is independent of the planner
        click.echo(f"违规 / violation: {violation}", err=True)
    click.echo(f"排期已写入 / plan written: {out_file}")
    if report.violations:
        sys.exit(1)


@click.command("plan-check")
@click.argument("instance_file", metavar="INSTANCE.json", type=_FILE)
@click.argument("plan_file", metavar="PLAN.json", type=_FILE)
def plan_check_command(instance_file: Path, plan_file: Path) -> None:
    """Check a plan against its instance: every hard rule, the makespan's lower bound and ratio."""
    try:
        instance = load_instance(instance_file)
        plan = load_plan(plan_file, instance)
    except InstanceError as error:
        _bad_input(error)
    report = check_plan(instance, plan)
    for violation in report.violations:
        click.echo(f"违规 / violation: {violation}")
    _figures(report)
    if report.violations:
        click.echo(f"共 {len(report.violations)} 处违规 / {len(report.violations)} violations")
        sys.exit(1)
    click.echo("所有规则均满足 / every rule holds")
