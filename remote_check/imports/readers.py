"""Reading an import file (XLSX or CSV) into a plain :class:`Table` of header and cells.

Parsing is blocking work on untrusted input: the server and the command line run it in a child
process with memory and CPU limits (:mod:`remote_check.imports.sandbox`), never in their own.
CSV may be UTF-8 (with or without BOM) or GB18030 (which covers GBK and GB2312, Excel's
usual choice on Chinese Windows). XLSX is read in openpyxl's streaming ``read_only`` mode,
first sheet only, values rather than formulas, within :class:`~remote_check.imports.limits.Limits`:
the zip's declared sizes and shared strings are checked first, then rows and columns are counted
as they stream and reading stops past the limits.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from remote_check.errors import DomainError
from remote_check.imports.limits import Limits, bad_file, check_archive, check_shared_strings, check_size

Cell = str | int | float | Decimal | bool | dt.datetime | dt.date | dt.time | None
MAX_ROWS = 20_000
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Bytes no CSV holds (in UTF-8 and GB18030 alike every byte below 0x20 is itself): NUL and the
# control characters other than tab, line feed, vertical tab, form feed and carriage return.
_CONTROL = frozenset((*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F))
_SNIFF = 64 * 1024


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


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _bounded(rows: Iterable[Sequence[Cell]], limits: Limits) -> Iterator[Sequence[Cell]]:
    """``rows`` up to the sheet-row limit, each cut to the column limit; stop at anything beyond."""
    for number, cells in enumerate(rows, start=1):
        if number > limits.max_sheet_rows:
            raise bad_file(
                f"工作表超过 {limits.max_sheet_rows:,} 行（空行也计算在内），请删除多余的行",
                f"The sheet goes beyond row {limits.max_sheet_rows:,} (blank rows count too); "
                "delete the rows that are not needed",
            )
        if len(cells) > limits.max_columns:
            if not all(_blank(cell) for cell in cells[limits.max_columns :]):
                raise bad_file(
                    f"第 {number} 行超过 {limits.max_columns} 列",
                    f"Row {number} has more than {limits.max_columns} columns",
                )
            cells = cells[: limits.max_columns]
        yield cells


def _table(rows: Iterable[Sequence[Cell]], limits: Limits) -> Table:
    """The first non-blank row is the header; blank rows are dropped but keep their numbers."""
    headers: tuple[str, ...] | None = None
    header_row = 1
    data: list[Row] = []
    for number, cells in enumerate(_bounded(rows, limits), start=1):
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


def looks_binary(data: bytes) -> bool:
    """Whether the start of ``data`` holds a NUL or more than 1% control bytes: no CSV does."""
    sample = data[:_SNIFF]
    controls = sum(1 for byte in sample if byte in _CONTROL)
    return b"\x00" in sample or controls * 100 > len(sample)


def parse_csv(data: bytes, limits: Limits | None = None) -> Table:
    """Parse CSV bytes (comma-separated, double quotes) into a table of text cells."""
    if looks_binary(data) and not data.startswith(UTF16_BOMS):
        raise bad_file(
            "这不是 CSV 或 XLSX 文件（内容是二进制数据），请上传 .xlsx 或 .csv 文件",
            "This is not a CSV or XLSX file (its content is binary); upload an .xlsx or .csv file",
        )
    text = decode_csv(data)
    try:
        return _table(csv.reader(io.StringIO(text, newline="")), limits or Limits())
    except csv.Error as exc:
        raise bad_file(f"CSV 格式错误：{exc}", f"Malformed CSV: {exc}") from None


_PLAIN = (str, int, float, Decimal, bool, dt.datetime, dt.date, dt.time)


def _plain(value: object) -> Cell:
    """Keep ordinary values; anything else a spreadsheet may hold (rich text, durations) as text."""
    if value is None or isinstance(value, _PLAIN):
        return value
    return str(value)


def _unreadable() -> DomainError:
    return bad_file(
        "无法读取 XLSX 文件（文件损坏或不是 Excel 工作簿）",
        "Cannot read the XLSX file (damaged, or not an Excel workbook)",
    )


def parse_xlsx(data: bytes, limits: Limits | None = None) -> Table:
    """Parse the first worksheet of an XLSX workbook (cached values, not formulas).

    The zip's central directory and the shared strings are checked before openpyxl reads
    anything; rows past ``max_sheet_rows`` and columns past ``max_columns`` are never built.
    """
    from openpyxl import load_workbook

    limits = limits or Limits()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _unreadable() from None
    with archive:
        check_archive(archive, limits)
        try:
            check_shared_strings(archive, limits)
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except DomainError:
            raise
        except (MemoryError, RecursionError):
            raise
        except Exception:
            raise _unreadable() from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        rows = sheet.iter_rows(
            max_row=limits.max_sheet_rows + 1, max_col=limits.max_columns + 1, values_only=True
        )
        return _table((tuple(_plain(v) for v in row) for row in rows), limits)
    except (DomainError, MemoryError, RecursionError):
        raise
    except Exception:
        raise bad_file("XLSX 文件内容无法解析", "The XLSX file's contents cannot be parsed") from None
    finally:
        book.close()


def parse(filename: str, data: bytes, limits: Limits | None = None) -> Table:
    """Parse by content (an XLSX is a zip) and by name; old binary ``.xls`` and anything that is
    neither CSV nor XLSX are refused."""
    limits = limits or Limits()
    check_size(len(data), limits)
    suffix = Path(filename).suffix.lower()
    if data.startswith(XLSX_MAGIC) or suffix in (".xlsx", ".xlsm"):
        return parse_xlsx(data, limits)
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
    return parse_csv(data, limits)
