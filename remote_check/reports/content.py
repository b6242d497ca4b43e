"""What a report says, as plain data: a heading of facts and tables of rows (pure, no I/O).

Rows are dicts keyed by :class:`~remote_check.reports.columns.Column` keys; :func:`totals` makes
a table's totals row and :func:`cell_text` the one way a value is written in either format.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from remote_check.clock import format_local
from remote_check.errors import Message
from remote_check.money import format_money
from remote_check.programme.models import ProjectStatus
from remote_check.reports.columns import Column, Kind, Table, Total

Row = Mapping[str, Any]


class ReportKind(enum.StrEnum):
    PLAN = "plan"  # 抽查计划: the sample with its seed and reasons, the schedule
    RESULTS = "results"  # 抽查结果: by outcome, supplier, business area; sanctions; money


KIND_LABELS: dict[ReportKind, Message] = {
    ReportKind.PLAN: Message("抽查计划", "Check plan"),
    ReportKind.RESULTS: Message("抽查结果", "Check results"),
}


class Bucket(enum.StrEnum):
    """Where a sampled project stands, as the results count it."""

    QUALIFIED = "qualified"
    UNQUALIFIED = "unqualified"
    VIOLATION = "violation"
    CANCELLED = "cancelled"  # the voucher was cancelled after an unqualified or violation outcome
    PENDING = "pending"  # no outcome yet


BUCKET_LABELS: dict[Bucket, Message] = {
    Bucket.QUALIFIED: Message("合格", "Qualified"),
    Bucket.UNQUALIFIED: Message("不合格", "Unqualified"),
    Bucket.VIOLATION: Message("违规", "Violation"),
    Bucket.CANCELLED: Message("已取消兑现", "Cancelled"),
    Bucket.PENDING: Message("未出结论", "Pending"),
}

_BUCKETS: dict[ProjectStatus, Bucket] = {
    ProjectStatus.QUALIFIED: Bucket.QUALIFIED,
    ProjectStatus.FUNDED: Bucket.QUALIFIED,
    ProjectStatus.CARRIED_OVER: Bucket.QUALIFIED,
    ProjectStatus.UNQUALIFIED: Bucket.UNQUALIFIED,
    ProjectStatus.VIOLATION: Bucket.VIOLATION,
    ProjectStatus.CANCELLED: Bucket.CANCELLED,
}


def bucket(status: ProjectStatus) -> Bucket:
    """The results' bucket of a sampled project in ``status``."""
    return _BUCKETS.get(status, Bucket.PENDING)


@dataclass(frozen=True)
class Section:
    """One table of a report with its rows (in order)."""

    table: Table
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Report:
    """One report of one city's campaign, ready to render."""

    kind: ReportKind
    city_code: str
    city_name: str
    campaign_id: int
    period: str
    title: str
    made_at: dt.datetime
    facts: tuple[tuple[str, str], ...]  # (label, value), both Chinese: the heading
    sections: tuple[Section, ...]

    @property
    def heading(self) -> str:
        return f"{self.city_name}{self.period}年度服务券{KIND_LABELS[self.kind].zh}（报省汇总备案）"

    def file_name(self, extension: str) -> str:
        """An ASCII file name: ``report-4401-2019-plan.xlsx``."""
        period = "".join(c for c in self.period if c.isascii() and c.isalnum()) or "period"
        return f"report-{self.city_code}-{period}-{self.kind.value}.{extension}"


def totals(table: Table, rows: Sequence[Row]) -> dict[str, Any]:
    """The totals row (合计) of ``rows`` as ``table`` says: sums, the row count, the label."""
    out: dict[str, Any] = {}
    for column in table.columns:
        if column.total == Total.LABEL:
            out[column.key] = "合计"
        elif column.total == Total.COUNT:
            out[column.key] = len(rows)
        elif column.total == Total.SUM:
            zero: Decimal | int = Decimal("0.00") if column.kind == Kind.MONEY else 0
            out[column.key] = sum((r.get(column.key) or zero for r in rows), zero)
    return out


def has_totals(table: Table) -> bool:
    return any(c.total != Total.NONE for c in table.columns)


def cell_text(column: Column, value: Any) -> str:
    """A value as both formats write it (times in Asia/Shanghai, money as ¥1,234.00)."""
    if value is None or value == "":
        return ""
    if column.kind == Kind.MONEY and isinstance(value, Decimal):
        return format_money(value)
    if column.kind == Kind.TIME and isinstance(value, dt.datetime):
        return format_local(value)
    return str(value)
