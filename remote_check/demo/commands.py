"""``remote-check demo``: fill the database with realistic synthetic data."""

from __future__ import annotations

from typing import Any

import click

from remote_check.accounts.access import ROLE_LABELS
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor
from remote_check.clock import SystemClock
from remote_check.database import transaction
from remote_check.demo.generator import generate
from remote_check.demo.records import DemoData, Scale
from remote_check.demo.service import DemoLoad, existing_projects, load_demo
from remote_check.errors import DomainError
from remote_check.programme.cities import BY_CODE
from remote_check.settings import Settings


@click.command()
@click.option("--seed", type=int, default=1, show_default=True, help="the same seed makes the same data")
@click.option(
    "--scale",
    type=click.Choice([s.value for s in Scale]),
    default=Scale.SMALL.value,
    show_default=True,
    help="small: a few cities, ~150 projects; full: 21 cities, ~200 suppliers, ~3,000 projects",
)
@click.option("--if-empty", is_flag=True, help="skip quietly (instead of refusing) when projects exist")
@click.pass_obj
def demo(settings: Settings, seed: int, scale: str, if_empty: bool) -> None:
    """Fill an empty database with demo data and demo accounts (演示数据)."""
    from remote_check.cli import fail, run_db

    data = generate(seed, Scale(scale))

    async def _work(factory: Any) -> DemoLoad | int:
        async with transaction(factory) as session:
            held = await existing_projects(session)
            if held and if_empty:
                return held
            return await load_demo(session, data, now=SystemClock().now(), actor=Actor.cli())

    try:
        result = run_db(settings, _work)
    except DomainError as exc:
        fail(exc)
        return
    if isinstance(result, int):
        click.echo(
            f"数据库中已有 {result} 个项目，未载入演示数据 / {result} projects present, demo data skipped"
        )
        return
    _report(data, result, settings)


def _report(data: DemoData, load: DemoLoad, settings: Settings) -> None:
    click.echo(f"演示数据已载入 / demo data loaded (seed {data.seed}, {data.scale.value})")
    click.echo("  城市 City                项目 projects")
    for city in data.cities:
        if city.projects or city.code == "4403":
            note = "  (不在2020年批次 / not in the 2020 round)" if city.code == "4403" else ""
            click.echo(f"  {city.code} {city.name_zh:<4} {city.name_en:<12} {city.projects:>6}{note}")
    names = {
        "projects": "项目 projects",
        "enterprises": "企业 enterprises",
        "suppliers": "服务商 suppliers",
        "products": "产品 products",
        "modules": "功能模块 modules",
        "experts": "专家 experts",
        "users": "用户 users",
        "campaigns": "抽查批次 campaigns",
        "sessions": "核查会议 sessions",
    }
    click.echo("  合计 / totals: " + ", ".join(f"{names.get(k, k)} {v}" for k, v in load.counts.items()))
    click.echo(f"\n演示账号 / demo log-ins (密码 / password: {data.password})")
    experts = [u for u in data.users if u.role == Role.EXPERT]
    for user in data.users:
        if user.role == Role.EXPERT:
            continue
        label = ROLE_LABELS[user.role]
        ref = BY_CODE[user.city_code] if user.city_code else None
        where = f" · {ref.name_zh} {ref.name_en}" if ref else ""
        where = " · 全省 province-wide" if user.role == Role.AUDITOR and not ref else where
        click.echo(f"  {user.username:<18} {label.zh} / {label.en}{where}")
    if experts:
        label = ROLE_LABELS[Role.EXPERT]
        span = f"{experts[0].username} … {experts[-1].username}"
        click.echo(
            f"  {span:<18} {label.zh} / {label.en} ({len(experts)}, 与专家库关联 / linked to expert records)"
        )
    address = settings.public_url or f"http://{settings.host}:{settings.port}/"
    click.echo(f"\n启动服务 / start the server: remote-check serve, then open {address}")
