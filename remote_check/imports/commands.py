"""``remote-check import FILE``."""

from __future__ import annotations

import click


@click.command("import")
def import_command() -> None:
    """Import voucher projects from an XLSX or CSV file (work in progress)."""
