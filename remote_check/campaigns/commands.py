"""``remote-check sample``: draw and publish a campaign's sample (抽查名单)."""

from __future__ import annotations

import click


@click.group()
def sample() -> None:
    """Draw a campaign's sample (work in progress)."""
