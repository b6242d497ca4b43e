"""``remote-check money``: a city's settlement periods, its allocation (compute, show, apply) and the
deadline warning, from the command line (audited as ``cli``). See :mod:`remote_check.funding`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import click

from remote_check.clock import SystemClock, format_local
from remote_check.commandline import fail, run_db
from remote_check.database import transaction
from remote_check.errors import DomainError, invalid
from remote_check.funding import service
from remote_check.funding.allocation import REASON_LABELS
from remote_check.funding.models import AllocationLine
from remote_check.money import format_money
from remote_check.programme.cities import BY_CODE, CITIES
from remote_check.programme.models import VoucherProject
from remote_check.settings import Settings
from scheduler.deadline import check_cities
from scheduler.planning.service import PlanningOptions

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    async def _work(factory: Any) -> T:
        async with transaction(factory) as session:
            return await work(session)

    try:
        return run_db(settings, _work)
    except DomainError as exc:
        fail(exc)
        raise  # fail exits


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        fail(invalid(f"--budget 应为数字：{text}", f"--budget must be a number: {text}", option="--budget"))
    return value


def _echo_lines(lines: list[tuple[AllocationLine, VoucherProject]]) -> None:
    for line, project in lines:
        label = REASON_LABELS[line.reason]
        flags = ("结转 " if line.carried_in else "") + ("重点 " if line.is_key else "")
        click.echo(
            f"{line.position:>4}  {project.code:<24} {flags:<8}{format_money(line.due):>16} "
            f"{format_money(line.funded):>16}  {label.zh} / {label.en}"
        )


@click.group("money")
def money() -> None:
    """资金下达: settlement periods, the allocation and the deadline warning."""


@money.command("period")
@click.option("--city", "city_code", required=True, help="city code, e.g. 4419")
@click.option("--name", required=True, help="the period's name, e.g. 2020年第一结算期")
@click.option("--budget", required=True, help="budget in yuan")
@click.option(
    "--deadline", default=None, help="money deadline YYYY-MM-DD (default: the funding.money_deadline setting)"
)
@click.pass_obj
def money_period(settings: Settings, city_code: str, name: str, budget: str, deadline: str | None) -> None:
    """Open a settlement period of a city with its budget."""
    day = None
    if deadline is not None:
        try:
            day = dt.date.fromisoformat(deadline)
        except ValueError:
            fail(
                invalid(
                    f"日期格式有误：{deadline}", f"Not a day (YYYY-MM-DD): {deadline}", option="--deadline"
                )
            )
    amount = _amount(budget)

    async def work(session: Any) -> tuple[int, dt.date]:
        period = await service.create_period(
            session,
            None,
            city_code=city_code,
            name=name,
            budget=amount,
            money_deadline=day,
            settings=settings.funding,
            now=SystemClock().now(),
        )
        return period.id, period.money_deadline

    period_id, money_deadline = _run(settings, work)
    click.echo(
        f"结算期 / period {period_id}: {city_code} {name} {format_money(amount)}, 期限 / due {money_deadline}"
    )


@money.command("compute")
@click.argument("period_id", metavar="PERIOD", type=int)
@click.pass_obj
def money_compute(settings: Settings, period_id: int) -> None:
    """Compute (and store) a draft allocation of the period, and show its lines."""

    async def work(session: Any) -> tuple[int, Decimal, Decimal, Decimal, list[Any]]:
        plan = await service.compute_draft(
            session, None, period_id, settings.funding, now=SystemClock().now()
        )
        return (
            plan.id,
            plan.budget,
            plan.funded,
            plan.carried_over,
            await service.plan_lines(session, plan.id),
        )

    plan_id, budget, funded, carried, lines = _run(settings, work)
    _echo_lines(lines)
    click.echo(
        f"方案 / plan {plan_id} (草稿 / draft): 预算 / budget {format_money(budget)}, 拨付 / funded "
        f"{format_money(funded)}, 结转 / carried over {format_money(carried)}, 余额 / remaining "
        f"{format_money(budget - funded)}"
    )


@money.command("apply")
@click.argument("plan_id", metavar="PLAN", type=int)
@click.pass_obj
def money_apply(settings: Settings, plan_id: int) -> None:
    """Apply a draft plan: funded projects paid, those the budget could not pay carried over."""

    async def work(session: Any) -> service.Applied:
        return await service.apply_plan(session, None, plan_id, settings.funding, now=SystemClock().now())

    applied = _run(settings, work)
    click.echo(
        f"方案 {plan_id} 已执行 / applied {format_local(applied.plan.applied_at)}: "
        f"{applied.funded_projects} 个项目拨付 / funded, {applied.carried_projects} 个结转 / carried over"
    )


@money.command("deadline")
@click.option("--city", "city_code", default=None, help="one city (default: every city of the round)")
@click.pass_obj
def money_deadline(settings: Settings, city_code: str | None) -> None:
    """Warn of the cities whose remaining checks cannot finish before the money deadline (exit 1 if any)."""
    if city_code is not None and city_code not in BY_CODE:
        fail(invalid(f"未知城市代码 {city_code}", f"Unknown city code {city_code}", option="--city"))
    codes = [city_code] if city_code else [c.code for c in CITIES if c.in_round]

    async def work(session: Any) -> list[Any]:
        return await check_cities(
            session,
            codes,
            now=SystemClock().now(),
            options=PlanningOptions.of(settings.planning),
            settings=settings.funding,
        )

    checks = _run(settings, work)
    for check in checks:
        message = check.message()
        click.echo(f"{check.city_code}  {'!!' if check.at_risk else 'ok'}  {message.zh}")
    if any(c.at_risk for c in checks):
        raise SystemExit(1)
