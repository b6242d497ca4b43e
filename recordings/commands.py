"""``remote-check recordings``: commands on recording folders."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from recordings.integrity import manifest_key, verify
from recordings.paths import recording_folders, recordings_root
from recordings.verification import FolderCheck, audited_digests, check_folder, session_of
from remote_check.settings import Settings


@click.group()
def recordings() -> None:
    """Recordings of check sessions (检查录像)."""


def _audited(settings: Settings, session_id: int) -> dict[str, str] | None:
    """The manifest digests the audit log recorded for the session (``None``: unreadable)."""
    from sqlalchemy.exc import SQLAlchemyError

    from remote_check.commandline import run_db

    if not settings.database_url and not (settings.data_dir / "remote-check.sqlite3").is_file():
        return None  # no database here: never create an empty one by looking

    async def _work(factory: Any) -> dict[str, str]:
        async with factory() as session:
            return await audited_digests(session, session_id)

    try:
        return run_db(settings, _work, checkpoint=False)
    except (OSError, SQLAlchemyError):
        return None


def _folders(settings: Settings, target: str) -> tuple[int | None, list[Path]]:
    """The session and the folders TARGET names (a session id, a session's folder, one of its
    part or replay folders, or any other folder: session ``None``)."""
    if target.isdigit():
        return int(target), recording_folders(recordings_root(settings), int(target))
    folder = Path(target)
    if not folder.is_dir():
        raise click.ClickException(
            f"{target}：既不是会话编号也不是文件夹 / {target}: neither a session id nor a folder"
        )
    found = session_of(folder)
    if found is None:
        return None, [folder]
    session_id, whole = found
    return session_id, recording_folders(folder.resolve().parent, session_id) if whole else [folder]


@recordings.command("verify")
@click.argument("target")
@click.pass_obj
def recordings_verify(settings: Settings, target: str) -> None:
    """Check every byte of a recording against its signed manifests, each manifest against the
    session and part it was made for, and its digest against the one in the audit log. TARGET is
    a session id (all its parts and its replay, under the data folder), a session's folder
    (``…/session-7``: the same), or one recording folder. Exit 1 naming every changed, missing or
    added file, a bad signature, a manifest moved from elsewhere or differing from the audited one."""
    session_id, folders = _folders(settings, target)
    if not folders:
        raise click.ClickException(f"会话 {target} 没有录像 / session {target} has no recording")
    key = manifest_key(settings.secret_key())
    if session_id is None:
        click.echo(
            "不在会话文件夹（session-<编号>/part-<n>）中：只核对签名清单 / "
            "not inside a session's folder (session-<id>/part-<n>): checked against its manifest only",
            err=True,
        )
        checks = [FolderCheck(f.name, f, verify(f, key)) for f in folders]
    else:
        audited = _audited(settings, session_id)
        checks = [check_folder(session_id, f, key, audited) for f in folders]
    problems = 0
    for check in checks:
        if check.ok:
            click.echo(
                f"{check.name}：录像完整，{check.report.files} 个文件与签名清单一致 / "
                f"{check.name}: intact, {check.report.files} files match the signed manifest"
            )
            continue
        for finding in check.report.findings:
            click.echo(f"{check.name}: [{finding.kind}] {finding.message}", err=True)
        problems += len(check.report.findings)
    if problems:
        click.echo(f"录像校验失败：{problems} 个问题 / recording check failed: {problems} problems", err=True)
        sys.exit(1)
