"""What every command needs: :func:`run_db` (the database, then an audit checkpoint) and :func:`fail`.

Here, not in :mod:`remote_check.cli`, so that the commands of every layer (campaigns, imports,
the demo, recordings) use them without importing the composition root.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from remote_check.clock import SystemClock
from remote_check.database import make_engine, make_sessionmaker
from remote_check.errors import DomainError
from remote_check.settings import Settings

T = TypeVar("T")


def run_db(settings: Settings, work: Callable[[Any], Awaitable[T]], *, checkpoint: bool = True) -> T:
    """Run ``work(sessionmaker)`` against the configured database, then (``checkpoint``) write a
    signed checkpoint of the audit log if the work appended to it, then close the database."""

    async def _main() -> T:
        engine = make_engine(settings.db_url)
        key = settings.audit_key()
        try:
            factory = make_sessionmaker(engine, audit_key=key)
            try:
                return await work(factory)
            finally:  # a refusal may have audited too
                if checkpoint:
                    await _checkpoint(settings, factory, key)
        finally:
            await engine.dispose()

    return asyncio.run(_main())


async def _checkpoint(settings: Settings, factory: Any, key: bytes) -> None:
    """After a command: a signed checkpoint of the audit log if the command moved its head."""
    from sqlalchemy.exc import SQLAlchemyError

    from remote_check.audit.anchor import CheckpointFile, copy_sinks, write_checkpoint

    try:
        await write_checkpoint(
            factory,
            key,
            CheckpointFile(settings.audit_checkpoints_dir),
            SystemClock().now(),
            sinks=copy_sinks(settings.audit_checkpoint_copy_dir),
        )
    except (OSError, SQLAlchemyError) as exc:  # e.g. a database not migrated yet
        click.echo(f"审计检查点未写入 / audit checkpoint not written: {exc}", err=True)


def fail(error: DomainError | str) -> None:
    """Say what went wrong (and each detail) on stderr, then exit with status 2."""
    click.echo(f"错误 / error: {error}", err=True)
    if isinstance(error, DomainError):
        for detail in error.details:
            click.echo("  " + ", ".join(f"{k}={v}" for k, v in detail.items()), err=True)
    sys.exit(2)
