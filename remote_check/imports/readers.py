"""Reading an import file (XLSX or CSV) into a plain :class:`Table` of header and cells.

Parsing is blocking work: async code calls :func:`read_bytes`, which runs it in a worker
thread (``asyncio.to_thread``) so the event loop never waits on it.
CSV may be UTF-8 (with or without BOM) or GB18030 (which covers GBK and GB2312, Excel's
usual choice on Chinese Windows). XLSX is read in openpyxl's streaming ``read_only`` mode,
first sheet only, values rather than formulas.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from remote_check.errors import DomainError, Message

Cell = str | int | float | Decimal | bool | dt.datetime | dt.date | dt.time | None
MAX_ROWS = 20_000
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass(frozen=True)
class Row:
    """One data row: its number as a spreadsheet shows it (the header is row 1) and its cells."""

    number: int
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    """A file's header cells (as text) and its non-blank data rows."""

    headers: tuple[str, ...]
    rows: tuple[Row, ...]
    header_row: int = 1


def bad_file(zh: str, en: str) -> DomainError:
    """The file as a whole cannot be read (422)."""
    return DomainError(Message(zh, en), 422, "bad_file")


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _table(rows: Iterable[Sequence[Cell]]) -> Table:
    """The first non-blank row is the header; blank rows are dropped but keep their numbers."""
    headers: tuple[str, ...] | None = None
    header_row = 1
    data: list[Row] = []
    for number, cells in enumerate(rows, start=1):
        if all(_blank(cell) for cell in cells):
            continue
        if headers is None:
            headers = tuple("" if cell is None else str(cell).strip() for cell in cells)
            header_row = number
            continue
        data.append(Row(number, tuple(cells)))
        if len(data) > MAX_ROWS:
            raise bad_file(
                f"文件超过 {MAX_ROWS} 行，请拆分后分批导入",
                f"The file has more than {MAX_ROWS} rows; split it and import the parts",
            )
    if headers is None:
        raise bad_file("文件是空的", "The file is empty")
    return Table(headers, tuple(data), header_row)


def decode_csv(data: bytes) -> str:
    """UTF-8 (BOM optional) first, then GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise bad_file(
        "无法识别 CSV 文件的编码，请另存为 UTF-8 或 GB18030 编码",
        "Cannot tell the CSV file's encoding; save it as UTF-8 or GB18030",
    )


def parse_csv(data: bytes) -> Table:
    """Parse CSV bytes (comma-separated, double quotes) into a table of text cells."""
    text = decode_csv(data)
    try:
        return _table(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise bad_file(f"CSV 格式错误：{exc}", f"Malformed CSV: {exc}") from None


_PLAIN = (str, int, float, Decimal, bool, dt.datetime, dt.date, dt.time)


def _plain(value: object) -> Cell:
    """Keep ordinary values; anything else a spreadsheet may hold (rich text, durations) as text."""
    if value is None or isinstance(value, _PLAIN):
        return value
    return str(value)


def parse_xlsx(data: bytes) -> Table:
    """Parse the first worksheet of an XLSX workbook (cached values, not formulas)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise bad_file(
            "无法读取 XLSX 文件（文件损坏或不是 Excel 工作簿）",
            "Cannot read the XLSX file (damaged, or not an Excel workbook)",
        ) from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        return _table(tuple(_plain(v) for v in row) for row in sheet.iter_rows(values_only=True))
    except DomainError:
        raise
    except Exception:
        raise bad_file("XLSX 文件内容无法解析", "The XLSX file's contents cannot be parsed") from None
    finally:
        book.close()


def parse(filename: str, data: bytes) -> Table:
    """Parse by content (an XLSX is a zip) and by name; old binary ``.xls`` is refused."""
    suffix = Path(filename).suffix.lower()
    if data.startswith(XLSX_MAGIC) or suffix in (".xlsx", ".xlsm"):
        return parse_xlsx(data)
    if data.startswith(XLS_MAGIC) or suffix == ".xls":
        raise bad_file(
            "不支持旧版 .xls 文件，请另存为 .xlsx 或 .csv",
            "Old .xls files are not supported; save as .xlsx or .csv",
        )
    if suffix not in ("", ".csv", ".txt"):
        raise bad_file(
            f"不支持的文件类型 {suffix}，请上传 .xlsx 或 .csv",
            f"Unsupported file type {suffix}; upload .xlsx or .csv",
        )
    return parse_csv(data)


async def read_bytes(filename: str, data: bytes) -> Table:
    """:func:`parse` in a worker thread."""
    return await asyncio.to_thread(parse, filename, data)
