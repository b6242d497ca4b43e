"""``remote-check demo``: fill the database with realistic synthetic data."""

from __future__ import annotations

from typing import Any

import click

from remote_check.accounts.access import ROLE_LABELS
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor
from remote_check.clock import SystemClock
from remote_check.commandline import fail, run_db
from remote_check.database import transaction
from remote_check.errors import DomainError
from remote_check.programme.cities import BY_CODE
from remote_check.reports.filing import report_store
from remote_check.settings import Settings
from scheduler.demo.activity import CallNow, call_now
from scheduler.demo.generator import generate
from scheduler.demo.outcomes import DemoFiles
from scheduler.demo.records import DemoData, Scale
from scheduler.demo.service import DemoLoad, existing_projects, load_demo
from scheduler.guests import link_for
from scheduler.models import GuestKind


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

    data = generate(seed, Scale(scale))

    async def _work(factory: Any) -> tuple[DemoLoad, CallNow | None] | int:
        now = SystemClock().now()
        async with transaction(factory) as session:
            held = await existing_projects(session)
            if held and if_empty:
                return held
            files = DemoFiles(
                settings.secret_key(), report_store(settings.data_dir), server_address(settings)
            )
            load = await load_demo(session, data, now=now, actor=Actor.cli(), files=files)
            return load, await call_now(session, now)

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
    load, call = result
    _report(data, load, settings)
    if call is not None:
        click.echo("")
        for line in call_lines(call, settings):
            click.echo(line)


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
        "unplaced": "未能排期 unplaced",
        "held": "广州已核查 Guangzhou checked",
        "verdicts": "结论 verdicts",
        "rechecks": "重点核查 re-checks",
        "funded": "已拨付 funded",
        "carried": "结转 carried over",
        "filed": "已备案报告 reports filed",
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


GUEST_ROLES = {
    GuestKind.ENTERPRISE: "企业 enterprise",
    GuestKind.SUPPLIER: "服务商 supplier",
    GuestKind.OBSERVER: "观察员 observer",
}


def server_address(settings: Settings) -> str:
    """Where the server started with these settings is reached: ``public_url`` when set."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    scheme = "https" if settings.tls_cert else "http"
    host = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host  # noqa: S104
    return f"{scheme}://{host}:{settings.port}"


def call_lines(call: CallNow, settings: Settings) -> list[str]:
    """The "try a call" part of the demo's report: one join link for each role of the session under
    way. Staff sign in first (the room is on the session's page); guests' signed links need no
    log-in. The links are signed with the data folder's key, the one the server uses."""
    base = server_address(settings)
    check = call.session
    room = f"{base}/sessions/{check.id}/room"
    lines = [
        f"试一次通话 / Try a call: 核查会议 #{check.id} 正在进行 / session #{check.id} is under way now "
        f"({int((check.ends_at - check.starts_at).total_seconds() // 60)} min)",
        "  每个链接在单独的浏览器标签页中打开；职员需先登录，不同账号请用不同的浏览器或无痕窗口。",
        "  Open each link in a tab of its own; staff sign in first (one browser profile or private window",
        "  per account); guests' links need no log-in.",
        f"  {'主持人 host':<22} 登录 / log in: {call.host:<12} {room}",
    ]
    for username, name, lead in call.experts:
        role = "专家组长 lead expert" if lead else "专家 expert"
        lines.append(f"  {role:<22} 登录 / log in: {username:<12} {room}  ({name})")
    secret = settings.secret_key()
    for guest in call.guests:
        link = link_for(guest, check, secret, settings.invitation_grace_hours)
        lines.append(
            f"  {GUEST_ROLES[guest.kind]:<22} {base}{link.href}  ({guest.organisation} · {guest.name})"
        )
    lines.append(
        "  会前连通测试 / connectivity test: 嘉宾链接后加 /check / add /check to a guest link; "
        f"staff: {base}/sessions/{check.id}/check"
    )
    return lines
