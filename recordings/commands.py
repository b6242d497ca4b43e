"""``remote-check recordings``: commands on recording folders."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from recordings.integrity import manifest_key, verify
from recordings.paths import recording_folders, recordings_root
from remote_check.settings import Settings


@click.group()
def recordings() -> None:
    """Recordings of check sessions (检查录像)."""


@recordings.command("verify")
@click.argument("target")
@click.pass_obj
def recordings_verify(settings: Settings, target: str) -> None:
    """Check every byte of a recording against its signed manifests: TARGET is a session id (all
    its parts and its replay, under the data folder) or a recording folder. Exit 1 naming every
    changed, missing or added file and a bad signature."""
    if target.isdigit():
        folders = recording_folders(recordings_root(settings), int(target))
        if not folders:
            raise click.ClickException(f"会话 {target} 没有录像 / session {target} has no recording")
    elif Path(target).is_dir():
        folders = [Path(target)]
    else:
        raise click.ClickException(
            f"{target}：既不是会话编号也不是文件夹 / {target}: neither a session id nor a folder"
        )
    key = manifest_key(settings.secret_key())
    problems = 0
    for folder in folders:
        report = verify(folder, key)
        if report.ok:
            click.echo(
                f"{folder.name}：录像完整，{report.files} 个文件与签名清单一致 / "
                f"{folder.name}: intact, {report.files} files match the signed manifest"
            )
            continue
        for finding in report.findings:
            click.echo(f"{folder.name}: [{finding.kind}] {finding.message}", err=True)
        problems += len(report.findings)
    if problems:
        click.echo(f"录像校验失败：{problems} 个问题 / recording check failed: {problems} problems", err=True)
        sys.exit(1)
