"""``remote-check demo``: fill the database with realistic synthetic data."""

from __future__ import annotations

import click


@click.command()
def demo() -> None:
    """Fill the database with demo data (work in progress)."""
