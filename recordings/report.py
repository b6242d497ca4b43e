"""The checklist report of a recorded session, for the evidence package: pure functions, data in,
text out (HTML and CSV), in Chinese with English headers.

Each item is listed under its standard (实施真实, 财务规范, 功能完整) with its result, the expert's
notes, the ranges its marks cover on the recording (``mm:ss``: time in the replay file, not a time
of day), the names of its stills and who set the result when (Asia/Shanghai).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from remote_check import tabular
from remote_check.checklist.labels import STANDARD_LABELS
from remote_check.checklist.models import ItemResult, Standard
from remote_check.clock import format_local
from remote_check.errors import Message

RESULT_LABELS: dict[ItemResult, Message] = {
    ItemResult.PENDING: Message("待核查", "Pending"),
    ItemResult.PASS: Message("通过", "Pass"),
    ItemResult.FAIL: Message("不通过", "Fail"),
    ItemResult.NOT_APPLICABLE: Message("不适用", "Not applicable"),
}

CSV_HEADERS = (
    "标准 Standard",
    "编号 Code",
    "检查项 Item",
    "结果 Result",
    "备注 Notes",
    "录像区间 Ranges on the recording",
    "截图 Stills",
    "核查人 Checked by",
    "核查时间 Checked at",
)


@dataclass(frozen=True)
class Range:
    """A mark: from ``start`` to ``end`` seconds on the recording (``end`` unset: still open)."""

    start: float
    end: float | None


@dataclass(frozen=True)
class ReportItem:
    """One checklist item as the report shows it."""

    code: str
    standard: Standard
    title_zh: str
    title_en: str
    result: ItemResult
    notes: str
    ranges: tuple[Range, ...] = ()
    stills: tuple[str, ...] = ()
    checked_by: str = ""
    checked_at: dt.datetime | None = None


@dataclass(frozen=True)
class ReportHeader:
    """What the report is about."""

    session_id: int
    project_code: str
    enterprise: str
    session_starts_at: dt.datetime
    made_at: dt.datetime
    made_by: str


def clock_text(seconds: float) -> str:
    """A time on the recording: ``mm:ss`` (``h:mm:ss`` from one hour on)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def range_text(mark: Range) -> str:
    """``03:12–04:05``; an open mark ``03:12–``."""
    end = "" if mark.end is None else clock_text(mark.end)
    return f"{clock_text(mark.start)}–{end}"


def grouped(items: Sequence[ReportItem]) -> list[tuple[Standard, list[ReportItem]]]:
    """The items under their standard, in the notice's order; standards without items left out."""
    groups = [(standard, [i for i in items if i.standard == standard]) for standard in Standard]
    return [(standard, members) for standard, members in groups if members]


def _label(message: Message) -> str:
    return f"{message.zh} {message.en}"


def _checked_at(item: ReportItem) -> str:
    return format_local(item.checked_at) if item.checked_at is not None else ""


def _row(item: ReportItem) -> list[str]:
    return [
        _label(STANDARD_LABELS[item.standard]),
        item.code,
        f"{item.title_zh} / {item.title_en}",
        _label(RESULT_LABELS[item.result]),
        item.notes,
        "; ".join(range_text(r) for r in item.ranges),
        "; ".join(item.stills),
        item.checked_by,
        _checked_at(item),
    ]


def checklist_csv(header: ReportHeader, items: Sequence[ReportItem]) -> str:
    """The report as CSV (one row per item, grouped by standard), with a UTF-8 BOM for Excel."""
    rows = [_row(item) for _, members in grouped(items) for item in members]
    return tabular.csv_text([CSV_HEADERS, *rows], bom=True)


def checklist_html(header: ReportHeader, items: Sequence[ReportItem]) -> str:
    """The report as a self-contained HTML page."""
    e = escape
    parts = [
        "<!doctype html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>核查报告 Checklist report · 会议 Session #{header.session_id}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
        "th,td{border:1px solid #999;padding:4px 6px;text-align:left;vertical-align:top}"
        "th{background:#eee}</style></head><body>",
        f"<h1>核查报告 Checklist report · 会议 Session #{header.session_id}</h1>",
        "<dl>",
        f"<dt>项目 Project</dt><dd>{e(header.project_code)}</dd>",
        f"<dt>企业 Enterprise</dt><dd>{e(header.enterprise)}</dd>",
        f"<dt>会议时间 Session time</dt><dd>{e(format_local(header.session_starts_at))}</dd>",
        f"<dt>生成 Made</dt><dd>{e(format_local(header.made_at))} · {e(header.made_by)}</dd>",
        "</dl>",
        "<p>录像区间为回放文件中的时间（分:秒）。Ranges are times in the replay file (mm:ss). "
        "时间均为北京时间。Times of day are China Standard Time.</p>",
    ]
    for standard, members in grouped(items):
        parts.append(f"<h2>{e(_label(STANDARD_LABELS[standard]))}</h2>")
        parts.append("<table><thead><tr>")
        parts.extend(f"<th>{e(h)}</th>" for h in CSV_HEADERS[1:])
        parts.append("</tr></thead><tbody>")
        for item in members:
            cells = _row(item)[1:]
            parts.append(
                f'<tr id="item-{e(item.code)}" data-result="{e(item.result.value)}">'
                + "".join(f"<td>{e(cell)}</td>" for cell in cells)
                + "</tr>"
            )
        parts.append("</tbody></table>")
    if not items:
        parts.append("<p>该项目没有核查清单。The project has no checklist.</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
