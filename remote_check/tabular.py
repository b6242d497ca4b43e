"""The one writer of every CSV and XLSX file the system makes; each text cell is made formula-safe.

Names, codes and notes come from imported files and from users: a text cell starting with ``=``,
``+``, ``-`` or ``@`` (or a tab or carriage return) would be run as a formula by a spreadsheet
program (CSV injection). :func:`csv_text` writes such a text with a leading apostrophe
(:func:`remote_check.csvsafe.cell`); :func:`xlsx_bytes` stores it as text with Excel's "quote
prefix", so that it is shown, and stays, text even when edited. Numbers and other values are
written as they are.

Nothing else may call ``csv.writer``/``csv.DictWriter`` or make an openpyxl ``Workbook``:
``tests/test_csv_exports.py`` scans the code for it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from remote_check import csvsafe

BOM = "\ufeff"


def csv_text(rows: Iterable[Sequence[object]], *, bom: bool = False, lineterminator: str = "\r\n") -> str:
    """``rows`` as CSV text (a header is just the first row); ``bom``: start with a UTF-8 BOM, so
    that Excel reads the Chinese as UTF-8."""
    buffer = io.StringIO(newline="")
    if bom:
        buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator=lineterminator)
    writer.writerows(csvsafe.row(values) for values in rows)
    return buffer.getvalue()


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its ``rows`` (the first is the header, shown bold), the width of each
    column, the number format of each column's cells below the header (``None``: general), and
    whether the header stays in view when scrolling."""

    title: str
    rows: Sequence[Sequence[object]]
    widths: Sequence[float] = ()
    formats: Sequence[str | None] = ()
    freeze_header: bool = False


def xlsx_bytes(
    sheets: Sequence[Sheet], *, creator: str = "remote-check", created: dt.datetime | None = None
) -> bytes:
    """An XLSX workbook of ``sheets``; ``created`` (aware) fixes the document's creation time."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    for number, spec in enumerate(sheets):
        sheet = book.active if number == 0 and book.active is not None else book.create_sheet()
        sheet.title = spec.title
        for line, values in enumerate(spec.rows, start=1):
            for column, value in enumerate(values, start=1):
                cell = sheet.cell(line, column)
                cell.value = value
                if isinstance(value, str) and value.startswith(csvsafe.FORMULA_STARTS):
                    cell.data_type = "s"  # openpyxl takes "=..." for a formula
                    cell.quotePrefix = True
        columns = max((len(values) for values in spec.rows), default=0)
        for column in range(1, columns + 1):
            sheet.cell(1, column).font = Font(bold=True)
            if column <= len(spec.widths):
                sheet.column_dimensions[get_column_letter(column)].width = spec.widths[column - 1]
            number_format = spec.formats[column - 1] if column <= len(spec.formats) else None
            if number_format is not None:
                for line in range(2, len(spec.rows) + 1):
                    sheet.cell(line, column).number_format = number_format
        if spec.freeze_header:
            sheet.freeze_panes = "A2"
    book.properties.creator = creator
    if created is not None:
        book.properties.created = created.astimezone(dt.UTC).replace(tzinfo=None)  # openpyxl: naive UTC
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
