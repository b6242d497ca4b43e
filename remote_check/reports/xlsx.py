"""A report as an XLSX workbook: a cover sheet (the heading and its facts), then one sheet per
table in the province's column order with a totals row (合计), written by :mod:`remote_check.tabular`."""

from __future__ import annotations

from typing import Any

from remote_check.clock import format_local, local
from remote_check.reports.columns import Column, Kind
from remote_check.reports.content import Report, Row, has_totals, totals
from remote_check.tabular import Sheet, xlsx_bytes

COVER = "说明"
FORMATS = {Kind.MONEY: "#,##0.00", Kind.TIME: "yyyy-mm-dd hh:mm", Kind.INT: "0"}


def _value(column: Column, row: Row) -> Any:
    value = row.get(column.key)
    if column.kind == Kind.TIME and value is not None:
        return local(value).replace(tzinfo=None)  # a spreadsheet's time is local and naive
    return "" if value is None else value


def report_xlsx(report: Report) -> bytes:
    """The workbook's bytes; reading it back gives the same rows and totals."""
    cover: list[list[object]] = [
        ["项目", "内容"],
        ["报告", report.heading],
        ["城市", report.city_name],
        ["生成时间", format_local(report.made_at)],
        *(list[object]([label, value]) for label, value in report.facts),
    ]
    sheets = [Sheet(COVER, cover, widths=(20, 60))]
    for section in report.sections:
        columns = section.table.columns
        rows: list[list[object]] = [[c.zh for c in columns]]
        rows.extend([_value(c, r) for c in columns] for r in section.rows)
        if has_totals(section.table):
            total = totals(section.table, section.rows)
            rows.append([total.get(c.key, "") for c in columns])
        sheets.append(
            Sheet(
                section.table.zh,
                rows,
                widths=[c.width for c in columns],
                formats=[FORMATS.get(c.kind) for c in columns],
                freeze_header=True,
            )
        )
    return xlsx_bytes(sheets, created=report.made_at)
