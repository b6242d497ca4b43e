"""Building import files (CSV and XLSX) for the import tests, as a person would fill them in."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from openpyxl import Workbook

from remote_check.imports.columns import COLUMNS, EXAMPLE_ROWS

FIELDS = [column.field for column in COLUMNS]
DONGGUAN = dict(zip(FIELDS, EXAMPLE_ROWS[0], strict=True))
FOSHAN = dict(zip(FIELDS, EXAMPLE_ROWS[1], strict=True))


def row(n: int, base: dict[str, str] = DONGGUAN, **changes: str) -> dict[str, str]:
    """A valid row (the template's first by default) with project code ``T-000n`` and ``changes``."""
    return {**base, "project_code": f"T-{n:04d}", **changes}


def csv_file(rows: Sequence[dict[str, str]], *, english: bool = False, encoding: str = "utf-8") -> bytes:
    """A CSV with Chinese (or English) headers."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([column.en if english else column.zh for column in COLUMNS])
    writer.writerows([[r.get(f, "") for f in FIELDS] for r in rows])
    return buffer.getvalue().encode(encoding)


def xlsx_file(rows: Sequence[Mapping[str, object]]) -> bytes:
    """An XLSX with Chinese headers; cells as given (text, numbers, dates)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([column.zh for column in COLUMNS])
    for r in rows:
        sheet.append([r.get(f) for f in FIELDS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def found(details: Sequence[dict[str, str]]) -> set[tuple[int, str, str]]:
    """The (row, field, code) of every problem of a refusal."""
    return {(int(d["row"]), d["field"], d["code"]) for d in details}
