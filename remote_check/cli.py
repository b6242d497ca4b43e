"""The ``remote-check`` command line: the composition root (it may import every layer)."""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path
from typing import Any

import click

from remote_check.accounts.models import Role
from remote_check.accounts.service import NewUser, create_user
from remote_check.audit.service import Actor, verify_log
from remote_check.clock import SystemClock
from remote_check.commandline import fail, run_db
from remote_check.database import make_engine, transaction
from remote_check.errors import DomainError
from remote_check.files import owner_only_files, private_folder
from remote_check.migrate import upgrade
from remote_check.settings import Settings, load_settings

SHUTDOWN_SECONDS = 8.0
"""How long a stop waits for the last requests and sockets before closing them (aiohttp: 60 s)."""


@click.group()
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path, dir_okay=False), help="TOML settings file"
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path, file_okay=False), help="data folder (default ./var)"
)
@click.option("--database-url", help="database URL (default: SQLite in the data folder)")
@click.pass_context
def main(
    ctx: click.Context, config_file: Path | None, data_dir: Path | None, database_url: str | None
) -> None:
    """Remote Check: video spot-checks of cloud service-voucher projects (上云上平台服务券抽查)."""
    owner_only_files()
    ctx.obj = load_settings(config_file, data_dir=data_dir, database_url=database_url)


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(settings: Settings, revision: str) -> None:
    """Create or migrate the schema (Alembic)."""
    private_folder(settings.data_dir)

    async def _main() -> None:
        engine = make_engine(settings.db_url)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(_main())
    click.echo(f"数据库已升级到 {revision} / database upgraded to {revision}: {settings.db_url}")


@main.command()
@click.option("--host", help="address to listen on (default 127.0.0.1)")
@click.option("--port", type=int, help="port (default 8080)")
@click.option("--tls-cert", type=click.Path(path_type=Path, dir_okay=False), help="TLS certificate (PEM)")
@click.option("--tls-key", type=click.Path(path_type=Path, dir_okay=False), help="TLS private key (PEM)")
@click.option("--self-signed", is_flag=True, help="make (once) and use a self-signed pair in the data folder")
@click.pass_obj
def serve(
    settings: Settings,
    host: str | None,
    port: int | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    self_signed: bool,
) -> None:
    """Run the web server (HTTPS with --tls-cert/--tls-key or --self-signed)."""
    from aiohttp import web

    from remote_check.tls import make_self_signed, server_context
    from web.app import create_app

    if self_signed:
        tls_cert = tls_cert or settings.data_dir / "tls" / "cert.pem"
        tls_key = tls_key or settings.data_dir / "tls" / "key.pem"
        if not tls_cert.exists():
            hosts = sorted({host or settings.host, "localhost", "127.0.0.1"})
            make_self_signed(tls_cert, tls_key, hosts, now=SystemClock().now())
            click.echo(f"自签名证书 / self-signed certificate: {tls_cert}")
    given = {"host": host, "port": port, "tls_cert": tls_cert, "tls_key": tls_key}
    settings = settings.model_copy(update={k: v for k, v in given.items() if v is not None})
    ssl_context = None
    if settings.tls_cert and settings.tls_key:
        ssl_context = server_context(settings.tls_cert, settings.tls_key)
    elif settings.tls_cert or settings.tls_key:
        fail("--tls-cert 与 --tls-key 须同时给出 / give both --tls-cert and --tls-key")
    scheme = "https" if ssl_context else "http"
    click.echo(f"数据库 / database: {settings.db_url}")
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ssl_context=ssl_context,
        # a stop waits this long for the last requests and sockets (rooms close theirs at once and
        # finish their recordings as a host's stop would), not aiohttp's default minute
        shutdown_timeout=SHUTDOWN_SECONDS,
        print=lambda _: click.echo(f"服务已启动 / serving on {scheme}://{settings.host}:{settings.port}/"),
    )


@main.group()
def users() -> None:
    """User accounts."""


@users.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="name shown to others (单位+姓名 for guests)")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--city", "city_code", help="city code, e.g. 4419 (coordinators; auditors of one city)")
@click.option("--organisation", default="")
@click.option("--email", default="")
@click.option("--password", help="password (asked for when not given)")
@click.pass_obj
def users_add(
    settings: Settings,
    username: str,
    display_name: str,
    role: str,
    city_code: str | None,
    organisation: str,
    email: str,
    password: str | None,
) -> None:
    """Add a user with a password (hashed with argon2)."""
    secret = password or getpass.getpass("密码 / password: ")
    new = NewUser(username, display_name, Role(role), secret, city_code, organisation, email)

    async def _work(factory: Any) -> int:
        async with transaction(factory) as session:
            user = await create_user(session, new, actor=Actor.cli(), now=SystemClock().now())
            return user.id

    try:
        user_id = run_db(settings, _work)
    except DomainError as exc:
        fail(exc)
    click.echo(f"已添加用户 {username} (id {user_id}) / user added")


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.pass_obj
def audit_verify(settings: Settings) -> None:
    """Check the keyed hash chain of the whole audit log and the database against the signed
    checkpoints in the data folder; exit 1 and name every break, truncation and rewrite."""
    from remote_check.audit.anchor import CheckpointFile

    checkpoints = CheckpointFile(settings.audit_checkpoints_dir)

    async def _work(factory: Any) -> tuple[int, list[Any]]:
        from sqlalchemy import func, select

        from remote_check.audit.models import AuditEntry

        async with factory() as session:
            total = await session.scalar(select(func.count()).select_from(AuditEntry))
            return int(total or 0), await verify_log(session, settings.audit_key(), checkpoints)

    total, findings = run_db(settings, _work, checkpoint=False)
    if not findings:
        seen = len(checkpoints.lines())
        click.echo(
            f"审计日志完整：{total} 条记录，与 {seen} 个签名检查点一致 / "
            f"audit log intact: {total} entries, consistent with {seen} signed checkpoints"
        )
        return
    for finding in findings:
        click.echo(
            f"第 {finding.seq} 条 [{finding.kind}] {finding.message_zh} / {finding.message_en}", err=True
        )
    sys.exit(1)


def _register() -> None:
    from recordings.commands import recordings
    from remote_check.campaigns.commands import sample
    from remote_check.imports.commands import import_command
    from scheduler.availability_commands import city, experts, unavailable
    from scheduler.demo.commands import demo
    from scheduler.funding_commands import money
    from scheduler.planning.commands import plan_check_command, plan_command
    from scheduler.report_commands import reports

    main.add_command(import_command)
    main.add_command(sample)
    main.add_command(demo)
    main.add_command(recordings)
    main.add_command(plan_command)
    main.add_command(plan_check_command)
    main.add_command(experts)
    main.add_command(unavailable)
    main.add_command(city)
    main.add_command(money)
    main.add_command(reports)


_register()
