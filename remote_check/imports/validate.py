"""Checking an import file without the database: rows in, validated records and problems out.

Every problem names its row (as the spreadsheet numbers it, the header being row 1), its
column and the reason in Chinese and English. Checks that need the database (duplicates of
stored projects, barred enterprises, delisted suppliers) are in :mod:`remote_check.imports.service`.
Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from remote_check.clock import SHANGHAI
from remote_check.imports.cells import Bad, blank, read_cell, text
from remote_check.imports.columns import BY_FIELD, COLUMNS, HEADERS, Column, key
from remote_check.imports.readers import Table
from remote_check.programme.models import BusinessArea, SupplierKind

ORDER = {column.field: index for index, column in enumerate(COLUMNS)}


@dataclass(frozen=True)
class Problem:
    """One reason the file cannot be imported."""

    row: int
    field: str
    column_zh: str
    column_en: str
    code: str
    zh: str
    en: str

    def line(self) -> str:
        """``第 N 行 [列名] 原因 / row N [column] reason``."""
        return f"第 {self.row} 行 [{self.column_zh}] {self.zh} / row {self.row} [{self.column_en}] {self.en}"

    def detail(self) -> dict[str, str]:
        """Both languages, for :attr:`DomainError.details`."""
        return {
            "row": str(self.row),
            "field": self.field,
            "column_zh": self.column_zh,
            "column_en": self.column_en,
            "code": self.code,
            "zh": self.zh,
            "en": self.en,
        }

    def sort_key(self) -> tuple[int, int, str]:
        return (self.row, ORDER.get(self.field, len(ORDER)), self.code)


def problem_at(row: int, column: Column, code: str, zh: str, en: str) -> Problem:
    """A problem in one cell of ``column``."""
    return Problem(row, column.field, column.zh, column.en, code, zh, en)


@dataclass(frozen=True)
class EnterpriseRecord:
    name: str
    credit_code: str
    city_code: str


@dataclass(frozen=True)
class SupplierRecord:
    name: str
    credit_code: str
    kind: SupplierKind
    teams: int


@dataclass(frozen=True)
class ProductRecord:
    name: str
    business_area: BusinessArea
    listed_price: Decimal
    price_unit: str
    price_period: str
    deployment: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class ProjectRecord:
    """One valid row: a voucher project with its enterprise, supplier and product."""

    row: int
    code: str
    city_code: str
    enterprise: EnterpriseRecord
    supplier: SupplierRecord
    product: ProductRecord
    contract_date: dt.date
    contract_amount: Decimal
    voucher_amount: Decimal
    amount_paid: Decimal
    redemption_requested_at: dt.datetime
    is_key_project: bool
    is_cluster: bool
    has_usage_logs: bool


@dataclass
class Validation:
    """What the file holds: the records of valid rows, and every problem (sorted)."""

    records: list[ProjectRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0


def _header_problems(table: Table) -> tuple[dict[int, Column], list[Problem]]:
    positions: dict[int, Column] = {}
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    row = table.header_row
    for index, header in enumerate(table.headers):
        if not header:
            continue
        column = HEADERS.get(key(header))
        if column is None:
            problems.append(
                Problem(row, "", header, header, "unknown_column", "无法识别的列名", "unknown column name")
            )
        elif column.field in seen:
            problems.append(
                problem_at(row, column, "duplicate_column", "列名重复出现", "the column appears twice")
            )
        else:
            seen[column.field] = index
            positions[index] = column
    for column in COLUMNS:
        if column.required and column.field not in seen:
            problems.append(
                problem_at(row, column, "missing_column", "缺少必填列", "a required column is missing")
            )
    return positions, problems


def _read_row(
    number: int, cells: tuple[Any, ...], positions: dict[int, Column], width: int
) -> tuple[dict[str, Any], list[Problem]]:
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    present = {column.field: index for index, column in positions.items()}
    for column in COLUMNS:
        index = present.get(column.field)
        if index is None:
            if column.required:
                continue  # reported once, on the header row
            values[column.field] = read_cell(None, column)
            continue
        cell = cells[index] if index < len(cells) else None
        try:
            values[column.field] = read_cell(cell, column)
        except Bad as bad:
            problems.append(problem_at(number, column, bad.code, bad.zh, bad.en))
    for index in range(width, len(cells)):
        if not blank(cells[index]):
            problems.append(
                Problem(
                    number,
                    "",
                    f"第 {index + 1} 列",
                    f"column {index + 1}",
                    "extra_value",
                    f"该列没有列名，却填写了“{text(cells[index])[:20]}”",
                    f"a value ({text(cells[index])[:20]!r}) under no header",
                )
            )
    return values, problems + _amount_problems(number, values)


def _amount_problems(number: int, values: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    contract = values.get("contract_amount")
    if contract is not None:
        voucher = values.get("voucher_amount")
        if voucher is not None and voucher > contract:
            problems.append(
                problem_at(
                    number,
                    BY_FIELD["voucher_amount"],
                    "voucher_above_contract",
                    f"服务券金额 {voucher} 元超过合同金额 {contract} 元",
                    f"the voucher ({voucher} yuan) is above the contract amount ({contract} yuan)",
                )
            )
        paid = values.get("amount_paid")
        if paid is not None and paid > contract:
            problems.append(
                problem_at(
                    number,
                    BY_FIELD["amount_paid"],
                    "paid_above_contract",
                    f"已支付金额 {paid} 元超过合同金额 {contract} 元",
                    f"the amount paid ({paid} yuan) is above the contract amount ({contract} yuan)",
                )
            )
    signed, requested = values.get("contract_date"), values.get("redemption_requested_at")
    if signed is not None and requested is not None and requested.astimezone(SHANGHAI).date() < signed:
        problems.append(
            problem_at(
                number,
                BY_FIELD["redemption_requested_at"],
                "redemption_before_contract",
                f"兑现申请时间早于合同日期 {signed}",
                f"the redemption request is earlier than the contract date {signed}",
            )
        )
    enterprise, supplier = values.get("enterprise_credit_code"), values.get("supplier_credit_code")
    if enterprise is not None and enterprise == supplier:
        problems.append(
            problem_at(
                number,
                BY_FIELD["supplier_credit_code"],
                "same_party",
                "服务商与企业的统一社会信用代码相同",
                "the supplier and the enterprise have the same credit code",
            )
        )
    return problems


# What must agree between rows that name the same enterprise, supplier or product.
_SAME: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str, str], ...] = (
    ("project", ("project_code",), (), "项目编号", "project code"),
    ("enterprise", ("enterprise_credit_code",), ("enterprise_name", "city"), "企业", "enterprise"),
    (
        "supplier",
        ("supplier_credit_code",),
        ("supplier_name", "supplier_kind", "supplier_teams"),
        "服务商",
        "supplier",
    ),
    (
        "product",
        ("supplier_credit_code", "product_name"),
        ("business_area", "listed_price", "price_unit", "price_period", "deployment", "modules"),
        "产品",
        "product",
    ),
)


def _cross_row_problems(parsed: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    """Repeated project codes, and one enterprise, supplier or product described two ways."""
    problems: list[Problem] = []
    for what, keys, facts, what_zh, what_en in _SAME:
        first: dict[tuple[Any, ...], tuple[int, dict[str, Any]]] = {}
        for number, values in parsed:
            if any(values.get(k) is None for k in keys):
                continue
            ident = tuple(values[k] for k in keys)
            if ident not in first:
                first[ident] = (number, values)
                continue
            earlier, seen = first[ident]
            if what == "project":
                problems.append(
                    problem_at(
                        number,
                        BY_FIELD["project_code"],
                        "duplicate_in_file",
                        f"项目编号与第 {earlier} 行重复",
                        f"the same project code as row {earlier}",
                    )
                )
                continue
            for fact in facts:
                if fact in values and fact in seen and values[fact] != seen[fact]:
                    column = BY_FIELD[fact]
                    problems.append(
                        problem_at(
                            number,
                            column,
                            "conflict_in_file",
                            f"同一{what_zh}在第 {earlier} 行的“{column.zh}”不同",
                            f"the same {what_en} has a different {column.en.lower()} in row {earlier}",
                        )
                    )
    return problems


def _record(number: int, v: dict[str, Any]) -> ProjectRecord:
    return ProjectRecord(
        row=number,
        code=v["project_code"],
        city_code=v["city"],
        enterprise=EnterpriseRecord(v["enterprise_name"], v["enterprise_credit_code"], v["city"]),
        supplier=SupplierRecord(
            v["supplier_name"], v["supplier_credit_code"], v["supplier_kind"], v["supplier_teams"]
        ),
        product=ProductRecord(
            v["product_name"],
            v["business_area"],
            v["listed_price"],
            v["price_unit"],
            v["price_period"],
            v["deployment"],
            v["modules"],
        ),
        contract_date=v["contract_date"],
        contract_amount=v["contract_amount"],
        voucher_amount=v["voucher_amount"],
        amount_paid=v["amount_paid"],
        redemption_requested_at=v["redemption_requested_at"],
        is_key_project=v["is_key_project"],
        is_cluster=v["is_cluster"],
        has_usage_logs=v["has_usage_logs"],
    )


def validate(table: Table) -> Validation:
    """Check every cell, every row and the file as a whole.

    ``records`` holds the rows without problems of their own, so that the database checks can
    still report theirs; the file is importable only when ``problems`` is empty.
    """
    positions, problems = _header_problems(table)
    if not table.rows:
        problems.append(
            Problem(
                table.header_row, "", "—", "—", "no_rows", "文件中没有数据行", "the file has no data rows"
            )
        )
    parsed: list[tuple[int, dict[str, Any]]] = []
    for row in table.rows:
        values, found = _read_row(row.number, row.cells, positions, len(table.headers))
        parsed.append((row.number, values))
        problems.extend(found)
    problems.extend(_cross_row_problems(parsed))
    problems.sort(key=Problem.sort_key)
    troubled = {problem.row for problem in problems}
    complete = {column.field for column in COLUMNS}
    records = [
        _record(number, values)
        for number, values in parsed
        if number not in troubled and complete <= values.keys()
    ]
    return Validation(records=records, problems=problems, rows=len(table.rows))
