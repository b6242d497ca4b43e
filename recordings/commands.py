"""``remote-check recordings``: commands on recording folders."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from recordings.integrity import manifest_key, verify
from remote_check.settings import Settings


@click.group()
def recordings() -> None:
    """Recordings of check sessions (检查录像)."""


@recordings.command("verify")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.pass_obj
def recordings_verify(settings: Settings, folder: Path) -> None:
    """Check every byte of a recording folder against its signed manifest; exit 1 and name
    every changed, missing or added file and a bad signature."""
    report = verify(folder, manifest_key(settings.secret_key()))
    if report.ok:
        click.echo(
            f"录像完整：会话 {report.session_id}，{report.files} 个文件与签名清单一致 / "
            f"recording intact: session {report.session_id}, {report.files} files match the signed manifest"
        )
        return
    for finding in report.findings:
        click.echo(f"[{finding.kind}] {finding.message}", err=True)
    count = len(report.findings)
    click.echo(f"录像校验失败：{count} 个问题 / recording check failed: {count} problems", err=True)
    sys.exit(1)
