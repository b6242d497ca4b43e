"""The province's column order (省厅汇总表格式): every table of the reports, defined once.

The XLSX and the PDF render the same lists, so the two formats never disagree on a column's
place, header or total. A column's ``total`` says what its totals row holds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.StrEnum):
    TEXT = "text"
    INT = "int"
    MONEY = "money"
    TIME = "time"  # an aware datetime, shown in Asia/Shanghai


class Total(enum.StrEnum):
    NONE = "none"
    SUM = "sum"  # the column's sum (ints, money)
    COUNT = "count"  # the number of rows
    LABEL = "label"  # the word 合计


@dataclass(frozen=True)
class Column:
    """One column: the row's key, its header (zh first), how it is shown and totalled."""

    key: str
    zh: str
    en: str
    kind: Kind = Kind.TEXT
    total: Total = Total.NONE
    width: int = 14  # characters, in the XLSX; the PDF shares the page in this proportion


@dataclass(frozen=True)
class Table:
    """A table of a report: its sheet's name and its columns, in the province's order."""

    name: str
    zh: str
    en: str
    columns: tuple[Column, ...]


K, T = Kind, Total

SAMPLE = Table(
    "sample",
    "抽查名单",
    "Sample",
    (
        Column("position", "序号", "No.", K.INT, T.LABEL, 6),
        Column("code", "项目编号", "Project", K.TEXT, T.COUNT, 24),
        Column("enterprise", "工业企业", "Enterprise", width=24),
        Column("supplier", "服务商", "Supplier", width=24),
        Column("product", "产品名称", "Product", width=12),
        Column("area", "业务领域", "Business area", width=10),
        Column("contract_amount", "合同金额（元）", "Contract (yuan)", K.MONEY, T.SUM, 15),
        Column("voucher_amount", "服务券金额（元）", "Voucher (yuan)", K.MONEY, T.SUM, 15),
        Column("ratio_to_listed", "合同价/产品定价", "Contract/listed", width=9),
        Column("ratio_to_peers", "合同价/同类中位数", "Contract/peers", width=9),
        Column("paid_ratio", "支付比例", "Paid ratio", width=7),
        Column("reasons", "抽取原因", "Reasons", width=28),
    ),
)

SCHEDULE = Table(
    "schedule",
    "核查安排",
    "Schedule",
    (
        Column("position", "序号", "No.", K.INT, T.LABEL, 6),
        Column("code", "项目编号", "Project", K.TEXT, T.COUNT, 20),
        Column("enterprise", "工业企业", "Enterprise", width=28),
        Column("starts_at", "核查开始时间", "Starts", K.TIME, width=17),
        Column("ends_at", "核查结束时间", "Ends", K.TIME, width=17),
        Column("state", "状态", "State", width=10),
        Column("panel", "专家组（组长在前）", "Panel (lead first)", width=30),
    ),
)

RESULTS = Table(
    "results",
    "抽查结果明细",
    "Results",
    (
        Column("position", "序号", "No.", K.INT, T.LABEL, 6),
        Column("code", "项目编号", "Project", K.TEXT, T.COUNT, 20),
        Column("enterprise", "工业企业", "Enterprise", width=28),
        Column("supplier", "服务商", "Supplier", width=28),
        Column("area", "业务领域", "Business area", width=12),
        Column("outcome", "抽查结果", "Outcome", width=10),
        Column("voucher_amount", "服务券金额（元）", "Voucher (yuan)", K.MONEY, T.SUM),
        Column("money", "资金情况", "Money", width=12),
    ),
)

# The breakdowns: one row per outcome, supplier or business area, the same counting columns.
_COUNTS = (
    Column("sampled", "抽查项目数", "Sampled", K.INT, T.SUM, 10),
    Column("qualified", "合格", "Qualified", K.INT, T.SUM, 8),
    Column("unqualified", "不合格", "Unqualified", K.INT, T.SUM, 8),
    Column("violation", "违规", "Violation", K.INT, T.SUM, 8),
    Column("cancelled", "已取消兑现", "Cancelled", K.INT, T.SUM, 10),
    Column("pending", "未出结论", "Pending", K.INT, T.SUM, 10),
    Column("voucher_amount", "服务券金额（元）", "Voucher (yuan)", K.MONEY, T.SUM),
)

BY_OUTCOME = Table(
    "by_outcome",
    "按结果",
    "By outcome",
    (
        Column("outcome", "抽查结果", "Outcome", K.TEXT, T.LABEL, 14),
        Column("projects", "项目数", "Projects", K.INT, T.SUM, 10),
        Column("voucher_amount", "服务券金额（元）", "Voucher (yuan)", K.MONEY, T.SUM),
    ),
)

BY_SUPPLIER = Table(
    "by_supplier",
    "按服务商",
    "By supplier",
    (
        Column("supplier", "服务商", "Supplier", K.TEXT, T.LABEL, 28),
        Column("credit_code", "统一社会信用代码", "Credit code", width=20),
        *_COUNTS,
    ),
)

BY_AREA = Table(
    "by_area",
    "按业务领域",
    "By business area",
    (Column("area", "业务领域", "Business area", K.TEXT, T.LABEL, 14), *_COUNTS),
)

SANCTIONS = Table(
    "sanctions",
    "处理情况",
    "Sanctions",
    (
        Column("party", "主体类型", "Party", K.TEXT, T.LABEL, 10),
        Column("name", "名称", "Name", K.TEXT, T.COUNT, 28),
        Column("credit_code", "统一社会信用代码", "Credit code", width=20),
        Column("measure", "处理措施", "Measure", width=24),
        Column("until", "限制截止日期", "Barred until", width=14),
    ),
)

MONEY = Table(
    "money",
    "资金下达",
    "Money",
    (
        Column("item", "项目", "Item", K.TEXT, T.NONE, 20),
        Column("projects", "项目数", "Projects", K.INT, T.NONE, 10),
        Column("amount", "金额（元）", "Amount (yuan)", K.MONEY, T.NONE, 16),
    ),
)

PLAN_TABLES = (SAMPLE, SCHEDULE)
RESULT_TABLES = (RESULTS, BY_OUTCOME, BY_SUPPLIER, BY_AREA, SANCTIONS, MONEY)
