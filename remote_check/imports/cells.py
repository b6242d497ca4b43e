"""Reading one cell of an import file as the value its column needs.

Each reader returns the value or raises :class:`Bad` with a problem code and the reason in
Chinese and English. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from remote_check.clock import SHANGHAI
from remote_check.imports.columns import (
    BUSINESS_AREA_BY_LABEL,
    BUSINESS_AREAS,
    NO,
    SUPPLIER_KIND_BY_LABEL,
    SUPPLIER_KINDS,
    YES,
    Column,
    Kind,
    key,
    split_modules,
)
from remote_check.imports.readers import Cell
from remote_check.programme import credit_code
from remote_check.programme.cities import BY_CODE, BY_NAME

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("10000000000")  # 100 亿元: beyond any voucher project
FLOAT_NOISE = Decimal("0.000001")
YEARS = range(2000, 2100)

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$|^(\d{4})(\d{2})(\d{2})$")
_DATETIME = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s+|T)(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:\.\d+)?\s*秒?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


class Bad(Exception):
    """A cell that cannot be read; ``code`` names the kind of problem."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code = code
        self.zh = zh
        self.en = en


def blank(cell: Cell) -> bool:
    """Empty, or only spaces."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


def text(cell: Cell) -> str:
    """A cell as trimmed text; whole numbers from a spreadsheet lose their ``.0``."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    return str(cell).strip()


def _shown(cell: Cell) -> str:
    value = text(cell)
    return value if len(value) <= 40 else value[:40] + "…"


def read_text(cell: Cell, column: Column) -> str:
    value = text(cell)
    if column.max_length and len(value) > column.max_length:
        raise Bad(
            "too_long",
            f"不能超过 {column.max_length} 个字符（实际 {len(value)} 个）",
            f"at most {column.max_length} characters (this has {len(value)})",
        )
    return value


def read_credit_code(cell: Cell, column: Column) -> str:
    code = credit_code.normalise(text(cell))
    found = credit_code.problem(code)
    if found is not None:
        raise Bad("bad_credit_code", found.message.zh, found.message.en)
    return code


def read_city(cell: Cell, column: Column) -> str:
    raw = unicodedata.normalize("NFKC", text(cell)).strip()
    if raw.isdigit() and len(raw) == 6 and raw.endswith("00"):
        raw = raw[:4]
    name = raw.removesuffix("市").lower().removesuffix(" city").strip()
    city = BY_CODE.get(raw) or BY_NAME.get(name) or BY_NAME.get(raw)
    if city is None:
        raise Bad("unknown_city", f"未知城市：{_shown(cell)}", f"unknown city: {_shown(cell)}")
    return city.code


def _choice(table: dict[str, Any], labels: dict[Any, tuple[str, str]], what: tuple[str, str]) -> Reader:
    def read(cell: Cell, column: Column) -> Any:
        found = table.get(key(text(cell)))
        if found is None:
            zh = "、".join(names[0] for names in labels.values())
            en = ", ".join(names[1] for names in labels.values())
            raise Bad(
                "bad_choice",
                f"{what[0]}“{_shown(cell)}”无效，应为：{zh}",
                f"{what[1]} {_shown(cell)!r} is not one of: {en}",
            )
        return found

    return read


def read_count(cell: Cell, column: Column) -> int:
    value: int | None = None
    if isinstance(cell, int) and not isinstance(cell, bool):
        value = cell
    elif isinstance(cell, float) and cell.is_integer():
        value = int(cell)
    elif isinstance(cell, str) and unicodedata.normalize("NFKC", cell).strip().isdigit():
        value = int(unicodedata.normalize("NFKC", cell).strip())
    if value is None or value < 1 or value > 1000:
        raise Bad("bad_number", "应为 1 到 1000 的整数", "must be a whole number from 1 to 1000")
    return value


def read_money(cell: Cell, column: Column) -> Decimal:
    amount: Decimal | None = None
    if isinstance(cell, bool):
        amount = None
    elif isinstance(cell, int | Decimal):
        amount = Decimal(cell)
    elif isinstance(cell, float):
        raw = Decimal(repr(cell))
        near = raw.quantize(FEN)
        amount = near if abs(near - raw) < FLOAT_NOISE else raw
    elif isinstance(cell, str):
        cleaned = unicodedata.normalize("NFKC", cell)
        for junk in ("¥", "元", ",", " "):
            cleaned = cleaned.replace(junk, "")
        try:
            amount = Decimal(cleaned)
        except InvalidOperation:
            amount = None
    if amount is None or not amount.is_finite():
        raise Bad("bad_amount", f"金额“{_shown(cell)}”不是数字", f"amount {_shown(cell)!r} is not a number")
    if amount < 0:
        raise Bad("bad_amount", "金额不能为负数", "an amount cannot be negative")
    if amount != amount.quantize(FEN):
        raise Bad(
            "bad_amount", "金额最多精确到分（两位小数）", "amounts go to the fen (two decimals) at most"
        )
    if amount > MAX_AMOUNT:
        raise Bad("bad_amount", "金额过大", "the amount is too large")
    if amount == 0 and column.field != "amount_paid":
        raise Bad("bad_amount", "金额必须大于 0", "the amount must be above 0")
    return amount.quantize(FEN)


def read_modules(cell: Cell, column: Column) -> tuple[str, ...]:
    names = split_modules(text(cell))
    if not names:
        raise Bad("missing", "至少填写一个功能模块", "give at least one function module")
    for name in names:
        if len(name) > column.max_length:
            raise Bad(
                "too_long",
                f"功能模块名称不能超过 {column.max_length} 个字符：{name[:20]}…",
                f"a module name has at most {column.max_length} characters: {name[:20]}…",
            )
    repeated = [name for i, name in enumerate(names) if name in names[:i]]
    if repeated:
        raise Bad("duplicate_module", f"功能模块重复：{repeated[0]}", f"module listed twice: {repeated[0]}")
    return tuple(names)


def _year_ok(year: int) -> None:
    if year not in YEARS:
        raise Bad("bad_date", f"年份 {year} 不合理", f"the year {year} is not plausible")


def read_date(cell: Cell, column: Column) -> dt.date:
    if isinstance(cell, dt.datetime):
        value = cell.date()
    elif isinstance(cell, dt.date):
        value = cell
    else:
        raw = unicodedata.normalize("NFKC", text(cell)).removesuffix(" 00:00:00").removesuffix(" 00:00")
        match = _DATE.match(raw) if isinstance(cell, str) else None
        if match is None:
            raise Bad("bad_date", f"日期“{_shown(cell)}”无法识别", f"cannot read the date {_shown(cell)!r}")
        parts = [int(p) for p in match.groups() if p is not None]
        try:
            value = dt.date(parts[0], parts[1], parts[2])
        except ValueError:
            raise Bad("bad_date", f"日期“{_shown(cell)}”不存在", f"no such date: {_shown(cell)}") from None
    _year_ok(value.year)
    return value


def _offset(raw: str) -> dt.tzinfo:
    if raw.upper() == "Z":
        return dt.UTC
    sign = -1 if raw[0] == "-" else 1
    digits = raw[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    if minutes > 14 * 60:
        raise Bad("bad_datetime", "时区偏移无效", "the time zone offset is not valid")
    return dt.timezone(sign * dt.timedelta(minutes=minutes))


def read_datetime(cell: Cell, column: Column) -> dt.datetime:
    """An instant; without an offset it is China time (Asia/Shanghai)."""
    if isinstance(cell, dt.datetime):
        value = cell if cell.tzinfo is not None else cell.replace(tzinfo=SHANGHAI)
    elif isinstance(cell, dt.date):
        value = dt.datetime.combine(cell, dt.time(), tzinfo=SHANGHAI)
    else:
        raw = unicodedata.normalize("NFKC", text(cell))
        match = _DATETIME.match(raw) if isinstance(cell, str) else None
        if match is None:
            raise Bad(
                "bad_datetime",
                f"时间“{_shown(cell)}”无法识别，格式如 2020-01-15 10:30",
                f"cannot read the time {_shown(cell)!r}; write e.g. 2020-01-15 10:30",
            )
        year, month, day, hour, minute, second, zone = match.groups()
        tz = _offset(zone) if zone else SHANGHAI
        try:
            value = dt.datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=tz
            )
        except ValueError:
            raise Bad(
                "bad_datetime", f"时间“{_shown(cell)}”不存在", f"no such time: {_shown(cell)}"
            ) from None
    _year_ok(value.year)
    return value


def read_flag(cell: Cell, column: Column) -> bool:
    if isinstance(cell, bool):
        return cell
    word = key(text(cell))
    if word in YES:
        return True
    if word in NO:
        return False
    raise Bad("bad_flag", f"“{_shown(cell)}”应为 是 或 否", f"{_shown(cell)!r} should be yes or no")


Reader = Callable[[Cell, Column], Any]

READERS: dict[Kind, Reader] = {
    Kind.TEXT: read_text,
    Kind.CREDIT_CODE: read_credit_code,
    Kind.CITY: read_city,
    Kind.SUPPLIER_KIND: _choice(SUPPLIER_KIND_BY_LABEL, SUPPLIER_KINDS, ("服务商类型", "supplier kind")),
    Kind.COUNT: read_count,
    Kind.BUSINESS_AREA: _choice(BUSINESS_AREA_BY_LABEL, BUSINESS_AREAS, ("服务类别", "business area")),
    Kind.MONEY: read_money,
    Kind.MODULES: read_modules,
    Kind.DATE: read_date,
    Kind.DATETIME: read_datetime,
    Kind.FLAG: read_flag,
}


def read_cell(cell: Cell, column: Column) -> Any:
    """The value of ``cell`` for ``column``: a blank optional cell takes the column's default."""
    if blank(cell):
        if column.required:
            raise Bad("missing", "必填项为空", "required but empty")
        cell = column.default
    return READERS[column.kind](cell, column)
