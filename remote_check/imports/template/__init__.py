"""The import template shipped beside this module, and the code that makes it.

``voucher-projects-template.csv`` (UTF-8 with BOM, so Excel shows the Chinese) and
``voucher-projects-template.xlsx`` (a data sheet and a sheet explaining the columns) hold the
headers of :data:`~remote_check.imports.columns.COLUMNS` and the two example rows (a Dongguan
and a Foshan project: valid for the province, whose imports take every city). Both are
byte-for-byte reproducible: ``python -m remote_check.imports.template`` rewrites them, and a
test checks that the shipped files equal what this code makes.

A city coordinator may import only their own city's rows, so the web app gives them a template
whose example rows are both in their city (:func:`example_rows`).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import random
import re
import zipfile
from pathlib import Path
from typing import Any

from remote_check import tabular
from remote_check.imports.cells import read_cell
from remote_check.imports.columns import COLUMNS, EXAMPLE_ROWS, Kind
from remote_check.programme import credit_code
from remote_check.programme.cities import CityRef

HERE = Path(__file__).parent
CSV_NAME = "voucher-projects-template.csv"
XLSX_NAME = "voucher-projects-template.xlsx"
_FIXED_TIME = (2020, 3, 27, 0, 0, 0)
_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


_FIELDS = tuple(column.field for column in COLUMNS)
_EXAMPLE_ENTERPRISES = ("精密五金有限公司", "美厨电器有限公司")


def example_rows(city: CityRef | None = None) -> tuple[tuple[str, ...], ...]:
    """The example rows: the shipped ones, or with ``city`` both moved into that city.

    A moved row gets a project code, an enterprise name and a (valid, fixed) enterprise credit
    code of its own city, so that no two cities' templates name the same project or enterprise;
    its supplier and product are the shipped ones, which every city may reuse.
    """
    if city is None:
        return EXAMPLE_ROWS
    rows = []
    for index, (row, enterprise) in enumerate(zip(EXAMPLE_ROWS, _EXAMPLE_ENTERPRISES, strict=True), start=1):
        values = dict(zip(_FIELDS, row, strict=True))
        values.update(
            project_code=f"{city.code}-2019-{index:04d}",
            city=city.name_zh,
            enterprise_name=f"{city.name_zh}市{enterprise}",
            enterprise_credit_code=credit_code.generate(
                random.Random(f"template {city.code} {index}"), division=f"{city.code}00"
            ),
        )
        rows.append(tuple(values[name] for name in _FIELDS))
    return tuple(rows)


@functools.lru_cache(maxsize=32)
def template_csv(city: CityRef | None = None) -> bytes:
    """The CSV template: Chinese headers, then the example rows (of ``city``, when given)."""
    rows = [[column.zh for column in COLUMNS], *example_rows(city)]
    return tabular.csv_text(rows).encode("utf-8-sig")


def _typed(row: tuple[str, ...]) -> list[Any]:
    """Example cells as a spreadsheet holds them: numbers, dates and times rather than text."""
    values: list[Any] = []
    for column, cell in zip(COLUMNS, row, strict=True):
        if column.kind in (Kind.MONEY, Kind.COUNT, Kind.DATE):
            values.append(read_cell(cell, column))
        elif column.kind == Kind.DATETIME:
            instant: dt.datetime = read_cell(cell, column)
            values.append(instant.astimezone(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None))
        else:
            values.append(cell)
    return values


def _reproducible(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry times and fixed document timestamps."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _STAMP.sub(rb"\g<1>2020-03-27T00:00:00Z\g<2>", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, content)
    return out.getvalue()


def _number_format(kind: Kind) -> str | None:
    formats = {
        Kind.MONEY: "0.00",
        Kind.DATE: "yyyy-mm-dd",
        Kind.DATETIME: "yyyy-mm-dd hh:mm",
        Kind.TEXT: "@",
        Kind.CREDIT_CODE: "@",
    }
    return formats.get(kind)


@functools.lru_cache(maxsize=32)
def template_xlsx(city: CityRef | None = None) -> bytes:
    """The XLSX template: sheet 1 the data (headers and examples, of ``city`` when given),
    sheet 2 the columns explained."""
    data = tabular.Sheet(
        "项目 Projects",
        [[column.zh for column in COLUMNS], *(_typed(row) for row in example_rows(city))],
        widths=[24 if column.kind != Kind.MODULES else 40 for column in COLUMNS],
        formats=[_number_format(column.kind) for column in COLUMNS],
        freeze_header=True,
    )
    notes = tabular.Sheet(
        "说明 Notes",
        [
            ["列名", "Column", "必填 Required", "说明", "Notes"],
            *(
                [
                    column.zh,
                    column.en,
                    "是 yes" if column.required else f"否 no（{column.default or '—'}）",
                    column.note_zh,
                    column.note_en,
                ]
                for column in COLUMNS
            ),
        ],
        widths=(24, 26, 14, 48, 56),
    )
    created = dt.datetime(*_FIXED_TIME, tzinfo=dt.UTC)
    return _reproducible(tabular.xlsx_bytes([data, notes], created=created))


def write(folder: Path = HERE) -> list[Path]:
    """(Re)write both template files into ``folder``."""
    written = []
    for name, data in ((CSV_NAME, template_csv()), (XLSX_NAME, template_xlsx())):
        path = folder / name
        path.write_bytes(data)
        written.append(path)
    return written
