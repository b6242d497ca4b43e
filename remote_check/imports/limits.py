"""What an uploaded file may expand to, and the checks made before and while it is parsed.

An XLSX is a zip of XML parts, so a small upload can expand enormously (a "zip bomb"): one
shared string of a gigabyte, or twenty million blank rows, in a few hundred kilobytes.
:func:`check_archive` reads the sizes every part declares in the zip's central directory and
refuses the file before anything is decompressed (Python's ``zipfile`` never yields more than
a part's declared size: a part that lies about it fails its CRC check). :func:`check_shared_strings`
streams the shared-string table and stops past its limits. Rows and columns are counted while
the sheet is read (:mod:`remote_check.imports.readers`). What these checks cannot see (styles
that explode into objects, say) is bounded by the child process's memory and CPU limits
(:mod:`remote_check.imports.sandbox`).

Too big is 413 (``too_large``); over a limit or malformed is 422 (``bad_file``).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

from defusedxml.ElementTree import iterparse

from remote_check.errors import DomainError, Message

MB = 1024 * 1024
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
CONTENT_TYPES = "[Content_Types].xml"
_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


@dataclass(frozen=True)
class Limits:
    """Bounds on an import file; the defaults leave room for 20,000 rows of long text."""

    max_file_bytes: int = 20 * MB  # the file as uploaded
    max_part_bytes: int = 100 * MB  # one part of a workbook, uncompressed (a 20,000-row sheet: ~30 MB)
    max_total_bytes: int = 160 * MB  # every part together, uncompressed
    max_ratio: int = 100  # uncompressed / compressed size of a part (real sheets: 5 to 20)
    ratio_floor_bytes: int = 1 * MB  # parts smaller than this may compress as well as they like
    max_parts: int = 1000
    max_sheet_rows: int = 50_000  # rows as the sheet numbers them, blank ones included
    max_columns: int = 100
    max_strings: int = 1_000_000  # entries of the shared-string table
    max_string_chars: int = 32_767  # one cell (Excel's own limit)
    max_strings_chars: int = 40_000_000  # the whole shared-string table
    memory_bytes: int = 1024 * MB  # the parsing child's address space
    cpu_seconds: int = 60  # the parsing child's CPU time
    wall_seconds: float = 120.0  # how long the server waits for the child


def too_large(zh: str, en: str) -> DomainError:
    """The file is, or expands to, more than may be read (413)."""
    return DomainError(Message(zh, en), 413, "too_large")


def bad_file(zh: str, en: str) -> DomainError:
    """The file as a whole cannot be read (422)."""
    return DomainError(Message(zh, en), 422, "bad_file")


def _mb(size: int) -> str:
    return f"{size / MB:,.0f} MB"


def check_size(size: int, limits: Limits) -> None:
    """Refuse a file larger than ``max_file_bytes`` (413)."""
    if size > limits.max_file_bytes:
        raise too_large(
            f"文件太大（{_mb(size)}），最大 {_mb(limits.max_file_bytes)}，请拆分后分批导入",
            f"The file is too large ({_mb(size)}; at most {_mb(limits.max_file_bytes)}); "
            "split it and import the parts",
        )


def check_archive(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse a workbook whose central directory declares too many parts, too large a part or
    total, or a part compressed far more than any real workbook; nothing is decompressed."""
    parts = archive.infolist()
    if len(parts) > limits.max_parts:
        raise bad_file(
            f"XLSX 文件包含 {len(parts)} 个部件，超过上限 {limits.max_parts}",
            f"The XLSX file has {len(parts)} parts, more than {limits.max_parts}",
        )
    total = 0
    for part in parts:
        size = part.file_size
        total += size
        if size > limits.max_part_bytes:
            raise too_large(
                f"XLSX 文件解压后过大：{part.filename} 有 {_mb(size)}，上限 {_mb(limits.max_part_bytes)}",
                f"The XLSX file expands too far: {part.filename} is {_mb(size)} uncompressed "
                f"(at most {_mb(limits.max_part_bytes)})",
            )
        ratio = size / max(part.compress_size, 1)
        if size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
            raise bad_file(
                f"XLSX 文件的压缩比异常（{part.filename} 压缩了 {ratio:,.0f} 倍，正常不超过 "
                f"{limits.max_ratio} 倍），疑似压缩炸弹，拒绝读取",
                f"The XLSX file is compressed abnormally ({part.filename}: {ratio:,.0f} times, real "
                f"workbooks at most {limits.max_ratio}); refused as a possible zip bomb",
            )
    if total > limits.max_total_bytes:
        raise too_large(
            f"XLSX 文件解压后过大：共 {_mb(total)}，上限 {_mb(limits.max_total_bytes)}",
            f"The XLSX file expands too far: {_mb(total)} uncompressed "
            f"(at most {_mb(limits.max_total_bytes)})",
        )


def _shared_strings_part(archive: zipfile.ZipFile) -> str | None:
    """The shared-string table's part, as ``[Content_Types].xml`` names it (openpyxl's way)."""
    try:
        source = archive.open(CONTENT_TYPES)
    except KeyError:
        return None
    with source:
        for _event, element in iterparse(source):
            if element.tag == f"{_TYPES_NS}Override" and element.get("ContentType") == SHARED_STRINGS_TYPE:
                return element.get("PartName", "").lstrip("/") or None
    return None


def check_shared_strings(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Stream the shared-string table; stop at the first entry past the count or length limits."""
    name = _shared_strings_part(archive)
    if name is None or name not in archive.NameToInfo:
        return
    count = total = 0
    with archive.open(name) as source:
        root = None
        for event, element in iterparse(source, events=("start", "end")):
            if root is None:
                root = element
            if event != "end" or element.tag != f"{_SHEET_NS}si":
                continue
            count += 1
            chars = sum(len(t.text or "") for t in element.iter(f"{_SHEET_NS}t"))
            total += chars
            root.clear()  # keep nothing of what was counted
            if chars > limits.max_string_chars:
                raise bad_file(
                    f"XLSX 文件中有一个单元格超过 {limits.max_string_chars:,} 个字符",
                    f"A cell of the XLSX file holds more than {limits.max_string_chars:,} characters",
                )
            if count > limits.max_strings or total > limits.max_strings_chars:
                raise bad_file(
                    f"XLSX 文件的共享字符串超过上限（{limits.max_strings:,} 个、"
                    f"共 {limits.max_strings_chars:,} 个字符）",
                    f"The XLSX file's shared strings exceed the limit ({limits.max_strings:,} strings, "
                    f"{limits.max_strings_chars:,} characters in all)",
                )
