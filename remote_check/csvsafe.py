"""Cells of the CSV files we export, safe to open in a spreadsheet program.

Names and codes come from imported files and from users; a cell that starts with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return) would be run as a formula by Excel or LibreOffice
(CSV injection). Such a text is written with a leading apostrophe, which spreadsheets show as
plain text. Numbers (``int``, ``Decimal``) are written as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """``value`` as a cell no spreadsheet runs as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def row(values: Iterable[object]) -> list[object]:
    """A CSV row whose every text cell goes through :func:`cell`; other values are kept."""
    return [cell(v) if isinstance(v, str) else v for v in values]
