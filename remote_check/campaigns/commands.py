"""``remote-check sample``: draw, show, verify, publish and export a campaign's sample (抽查名单)."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from remote_check.audit.service import Actor
from remote_check.campaigns import review, service
from remote_check.campaigns.models import DrawStatus
from remote_check.campaigns.sampling import Target, reason_label
from remote_check.clock import SystemClock, format_local
from remote_check.commandline import fail, run_db
from remote_check.database import transaction
from remote_check.errors import DomainError, invalid
from remote_check.settings import Settings


def _run(settings: Settings, work: Any) -> Any:

    try:
        return run_db(settings, work)
    except DomainError as exc:
        fail(exc)


def _decimal(text: str | None, option: str) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise invalid(
            f"{option} 应为数字：{text}", f"{option} must be a number: {text}", option=option
        ) from None
    if not value.is_finite():
        raise invalid(f"{option} 应为数字：{text}", f"{option} must be a number: {text}", option=option)
    return value


def _target(ratio: str | None, count: int | None, default: Decimal) -> Target:
    if ratio is not None and count is not None:
        raise invalid(
            "--ratio 与 --count 只能给出一个", "Give --ratio or --count, not both", option="--ratio"
        )
    if count is not None:
        if count < 1:
            raise invalid("--count 至少为 1", "--count must be at least 1", option="--count")
        return Target(count=count)
    value = _decimal(ratio, "--ratio")
    if value is not None and not Decimal(0) < value <= Decimal(1):
        raise invalid(
            "--ratio 须大于 0 且不超过 1", "--ratio must be above 0 and at most 1", option="--ratio"
        )
    return Target(ratio=value if value is not None else default)


@click.group()
def sample() -> None:
    """Draw a campaign's sample (抽查名单) reproducibly, publish it, verify and export it."""


@sample.command("draw")
@click.option("--city", "city_code", required=True, help="city code, e.g. 4419")
@click.option("--period", required=True, help="campaign period, e.g. 2019")
@click.option("--ratio", help="share of the population to draw, 0 < r <= 1 (default from the settings)")
@click.option("--count", type=int, help="number of projects to draw (instead of --ratio)")
@click.option("--seed", help="random seed (default: a new random one, printed and recorded)")
@click.option("--publish", is_flag=True, help="publish at once (the projects become sampled)")
@click.option("--budget", help="budget in yuan, to create the campaign if it does not exist")
@click.option("--deadline", help="deadline YYYY-MM-DD, to create the campaign if it does not exist")
@click.option("--title", default="", help="campaign title, when creating it")
@click.pass_obj
def sample_draw(
    settings: Settings,
    city_code: str,
    period: str,
    ratio: str | None,
    count: int | None,
    seed: str | None,
    publish: bool,
    budget: str | None,
    deadline: str | None,
    title: str,
) -> None:
    """Draw a sample for a city and period (creating the campaign if missing), optionally publish it."""
    now = SystemClock().now()

    async def _work(factory: Any) -> tuple[int, int, int, int, str, bool]:
        target = _target(ratio, count, settings.sampling.default_ratio)
        async with transaction(factory) as session:
            campaign = await service.find_campaign(session, city_code, period)
            if campaign is None:
                campaign = await _new_campaign(session, city_code, period, budget, deadline, title, now)
            draw = await service.create_draw(
                session,
                campaign,
                target=target,
                seed=seed,
                thresholds=service.thresholds_from(settings.sampling),
                actor=Actor.cli(),
                now=now,
                created_by=None,
            )
            if publish:
                await service.publish_draw(session, draw.id, actor=Actor.cli(), now=now)
            size = (await service.draw_sizes(session, [draw.id])).get(draw.id, 0)
            return draw.id, campaign.id, draw.population, size, draw.seed, publish

    draw_id, campaign_id, population, size, used_seed, published = _run(settings, _work)
    state = "已发布 / published" if published else "草稿 / draft"
    click.echo(
        f"抽查名单 {draw_id}（批次 {campaign_id}）：总体 {population}，抽中 {size}，"
        f"种子 {used_seed}，{state}\n"
        f"draw {draw_id} (campaign {campaign_id}): population {population}, drawn {size}, seed {used_seed}"
    )


async def _new_campaign(
    session: Any,
    city_code: str,
    period: str,
    budget: str | None,
    deadline: str | None,
    title: str,
    now: dt.datetime,
) -> Any:
    if budget is None or deadline is None:
        names = " ".join(n for n, v in (("--budget", budget), ("--deadline", deadline)) if v is None)
        raise invalid(
            f"{city_code} 尚无 {period} 抽查批次，新建批次需要 {names}",
            f"No {period} campaign for {city_code} yet; creating it needs {names}",
            option=names.split()[0],
        )
    try:
        day = dt.date.fromisoformat(deadline)
    except ValueError:
        raise invalid(
            f"--deadline 应为 YYYY-MM-DD：{deadline}",
            f"--deadline is a date YYYY-MM-DD: {deadline}",
            option="--deadline",
        ) from None
    amount = _decimal(budget, "--budget") or Decimal(0)
    new = service.NewCampaign(city_code, period, amount, day, title)
    return await service.create_campaign(session, new, actor=Actor.cli(), now=now, created_by=None)


@sample.command("show")
@click.argument("draw_id", type=int)
@click.pass_obj
def sample_show(settings: Settings, draw_id: int) -> None:
    """Print a draw: its parameters and every project with the reasons it is in."""

    async def _work(factory: Any) -> list[str]:
        async with factory() as session:
            draw, campaign = await service.get_draw(session, draw_id)
            rows = await review.entry_rows(session, draw.id)
        target = service.draw_target(draw).size(draw.population)
        mode = f"ratio {draw.ratio}" if draw.ratio is not None else f"count {draw.count}"
        lines = [
            f"抽查名单 / draw {draw.id} · {campaign.city_code} {campaign.period} · {draw.status.value}",
            f"seed {draw.seed} · {mode} · population {draw.population} · target {target} · drawn {len(rows)}",
            f"thresholds {draw.thresholds} · made {format_local(draw.created_at)}"
            + (f" · published {format_local(draw.published_at)}" if draw.published_at else ""),
        ]
        if len(rows) > target:
            lines.append("必选项目超过目标数量 / the projects that must be in exceed the target")
        for r in rows:
            reasons = ", ".join(f"{reason_label(x, 'zh')}/{x}" for x in r.entry.reasons)
            f = r.entry.facts
            lines.append(
                f"{r.entry.position:>4}  {r.project.code}  {r.supplier.name}  {r.project.contract_amount}  "
                f"x{f.get('ratio_to_listed') or '-'} listed  x{f.get('ratio_to_peers') or '-'} peers  "
                f"paid {f.get('paid_ratio') or '-'}  [{reasons}]"
            )
        return lines

    for line in _run(settings, _work):
        click.echo(line)


@sample.command("verify")
@click.argument("draw_id", type=int)
@click.pass_obj
def sample_verify(settings: Settings, draw_id: int) -> None:
    """Redo the draw from its recorded seed and inputs; exit 1 if it does not match."""

    async def _work(factory: Any) -> review.Verification:
        async with factory() as session:
            return await review.redo_draw(session, draw_id)

    result: review.Verification = _run(settings, _work)
    if result.matches:
        click.echo(
            f"抽查名单 {draw_id} 复核一致 / draw {draw_id} matches when redone "
            f"(inputs sha256 {result.inputs_sha256})"
        )
        return
    for problem in result.problems:
        click.echo(f"不一致 / mismatch: {problem}", err=True)
    sys.exit(1)


@sample.command("publish")
@click.argument("draw_id", type=int)
@click.pass_obj
def sample_publish(settings: Settings, draw_id: int) -> None:
    """Publish a draft draw: its projects become sampled and get their checklists."""

    async def _work(factory: Any) -> DrawStatus:
        async with transaction(factory) as session:
            draw = await service.publish_draw(session, draw_id, actor=Actor.cli(), now=SystemClock().now())
            return draw.status

    _run(settings, _work)
    click.echo(f"抽查名单 {draw_id} 已发布 / draw {draw_id} published")


@sample.command("export")
@click.argument("draw_id", type=int)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True, help="CSV file"
)
@click.pass_obj
def sample_export(settings: Settings, draw_id: int, output: Path) -> None:
    """Write the draw as CSV (UTF-8 with BOM); the export is recorded in the audit log."""

    async def _work(factory: Any) -> str:
        async with transaction(factory) as session:
            return await review.export_csv(session, draw_id, actor=Actor.cli(), now=SystemClock().now())

    text = _run(settings, _work)
    output.write_text(text, encoding="utf-8", newline="")
    click.echo(f"已导出到 {output} / exported to {output}")
