"""XLSX files for the import tests, bombs among them: a few hundred kilobytes that expand to
gigabytes, built in the test in well under a second.

A bomb part repeats one piece many times. Deflate with a full flush after each piece starts
afresh, so every repeat compresses to the same bytes: the stream is compressed once and
repeated, and the zip is written by hand around it (Python's ``zipfile`` would compress the
whole gigabyte).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
MB = 1024 * 1024


@dataclass(frozen=True)
class Part:
    """One zip member: its deflated bytes, CRC-32 and uncompressed size."""

    name: str
    deflated: bytes
    crc: int
    size: int


def part(name: str, head: bytes, piece: bytes = b"", times: int = 0, tail: bytes = b"") -> Part:
    """``head + piece * times + tail`` deflated, in time that does not grow with ``times``."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(piece) + compressor.flush(zlib.Z_FULL_FLUSH) if times else b""
    end = compressor.compress(tail) + compressor.flush()
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(piece, crc)
    crc = zlib.crc32(tail, crc)
    return Part(name, start + repeat * times + end, crc, len(head) + len(piece) * times + len(tail))


def zip_of(parts: Sequence[Part]) -> bytes:
    """A zip archive of ``parts`` (deflated, no zip64: every part under 4 GB)."""
    out = bytearray()
    central = bytearray()
    for p in parts:
        name = p.name.encode()
        header = (0x04034B50, 20, 0, 8, 0, 0x21, p.crc, len(p.deflated), p.size, len(name), 0)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *header[1:], 0, 0, 0, 0, len(out)) + name
        out += struct.pack("<IHHHHHIIIHH", *header) + name + p.deflated
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(central), start, 0)
    return bytes(out)


def _small(name: str, text: str) -> Part:
    return part(name, text.encode())


def workbook(sheet: Part, strings: Part | None = None) -> bytes:
    """An XLSX of one worksheet (``xl/worksheets/sheet1.xml``) and maybe a shared-string table."""
    overrides = f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
    overrides += f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT}.worksheet+xml"/>'
    rels = f'<Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
    if strings is not None:
        overrides += f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>'
        rels += f'<Relationship Id="rId2" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/>'
    parts = [
        _small(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>',
        ),
        _small(
            "_rels/.rels",
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        ),
        _small(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        ),
        _small("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{RELS}">{rels}</Relationships>'),
        sheet,
        *([strings] if strings is not None else []),
    ]
    return zip_of(parts)


def sheet_of(rows: Sequence[Sequence[str]], blank_rows: int = 0) -> Part:
    """A worksheet of text cells (inline strings), then ``blank_rows`` empty ``<row/>`` elements."""
    body = "".join(
        "<row>" + "".join(f'<c t="inlineStr"><is><t>{escape(v)}</t></is></c>' for v in r) + "</row>"
        for r in rows
    )
    return part(
        "xl/worksheets/sheet1.xml",
        f'<worksheet xmlns="{MAIN}"><sheetData>{body}'.encode(),
        b"<row/>" * 4096,
        blank_rows // 4096,
        b"</sheetData></worksheet>",
    )


def _one_shared_cell() -> Part:
    xml = f'<worksheet xmlns="{MAIN}"><sheetData><row><c t="s"><v>0</v></c></row></sheetData></worksheet>'
    return part("xl/worksheets/sheet1.xml", xml.encode())


def shared_string_bomb(chars: int) -> bytes:
    """A workbook whose one cell is a shared string of ``chars`` letters (a multiple of 1 MiB)."""
    sheet = _one_shared_cell()
    strings = part(
        "xl/sharedStrings.xml",
        f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode(),
        b"A" * MB,
        chars // MB,
        b"</t></si></sst>",
    )
    return workbook(sheet, strings)


def blank_rows_bomb(rows: int) -> bytes:
    """A workbook of a header and ``rows`` blank rows (a multiple of 4,096)."""
    return workbook(sheet_of([["项目编号", "城市"]], blank_rows=rows))


def many_strings(count: int) -> bytes:
    """A workbook whose shared-string table holds ``count`` one-letter strings."""
    sheet = _one_shared_cell()
    entry = b"<si><t>x</t></si>"
    strings = part(
        "xl/sharedStrings.xml",
        f'<sst xmlns="{MAIN}">'.encode() + entry * (count % 4096),
        entry * 4096,
        count // 4096,
        b"</sst>",
    )
    return workbook(sheet, strings)
