"""The columns of an import file: one row is one voucher project with its enterprise, supplier and product.

A header matches a column by its Chinese header, its English header or its field name (case,
spaces and full-width characters do not matter). ``docs/import.md`` documents every column;
``tests/test_import.py`` checks that it names each one.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from typing import TypeVar

from remote_check.programme.models import BusinessArea, SupplierKind


class Kind(enum.StrEnum):
    """How a cell is read."""

    TEXT = "text"
    CREDIT_CODE = "credit_code"
    CITY = "city"
    SUPPLIER_KIND = "supplier_kind"
    COUNT = "count"
    BUSINESS_AREA = "business_area"
    MONEY = "money"
    MODULES = "modules"
    DATE = "date"
    DATETIME = "datetime"
    FLAG = "flag"


@dataclass(frozen=True)
class Column:
    """One column: its field, headers, whether it must be filled, how it is read, and its limits."""

    field: str
    zh: str
    en: str
    required: bool
    kind: Kind
    max_length: int = 0
    default: str = ""
    note_zh: str = ""
    note_en: str = ""


K = Kind
E = TypeVar("E", bound=enum.Enum)

COLUMNS: tuple[Column, ...] = (
    Column("project_code", "项目编号", "Project code", True, K.TEXT, 40,
           note_zh="服务券项目的唯一编号", note_en="the voucher project's unique number"),
    Column("city", "城市", "City", True, K.CITY,
           note_zh="地市代码（如 4419）或名称（东莞、东莞市、Dongguan）",
           note_en="city code (e.g. 4419) or name (东莞, 东莞市, Dongguan)"),
    Column("enterprise_name", "企业名称", "Enterprise name", True, K.TEXT, 200),
    Column("enterprise_credit_code", "企业统一社会信用代码", "Enterprise credit code", True, K.CREDIT_CODE,
           note_zh="18 位，校验位按 GB 32100-2015 检查",
           note_en="18 characters, check digit per GB 32100-2015"),
    Column("supplier_name", "服务商名称", "Supplier name", True, K.TEXT, 200),
    Column("supplier_credit_code", "服务商统一社会信用代码", "Supplier credit code", True, K.CREDIT_CODE,
           note_zh="18 位，校验位按 GB 32100-2015 检查",
           note_en="18 characters, check digit per GB 32100-2015"),
    Column("supplier_kind", "服务商类型", "Supplier kind", True, K.SUPPLIER_KIND,
           note_zh="平台商、服务商或基础电信运营商", note_en="platform, service provider or carrier"),
    Column("supplier_teams", "服务商团队数", "Supplier teams", False, K.COUNT, default="1",
           note_zh="可同时参加核查的团队数，正整数",
           note_en="teams that can attend checks at once, a whole number"),
    Column("product_name", "产品名称", "Product name", True, K.TEXT, 200),
    Column("business_area", "服务类别", "Business area", True, K.BUSINESS_AREA,
           note_zh="研发设计、生产管控、经营管理、售后服务或云基础设施",
           note_en="R&D and design, production control, business management, after-sales "
                   "or cloud infrastructure"),
    Column("listed_price", "收费标准（元）", "Listed price (yuan)", True, K.MONEY,
           note_zh="平台上该产品的标价", note_en="the product's price listed on the platform"),
    Column("price_unit", "计价单位", "Price unit", False, K.TEXT, 32, default="套",
           note_zh="如 套、账号、节点", note_en="e.g. 套 (set), 账号 (account), 节点 (node)"),
    Column("price_period", "计价周期", "Price period", False, K.TEXT, 32, default="年",
           note_zh="如 年、月、次", note_en="e.g. 年 (year), 月 (month), 次 (once)"),
    Column("deployment", "部署方式", "Deployment", False, K.TEXT, 32, default="公有云",
           note_zh="如 公有云、私有云、混合云", note_en="e.g. 公有云 (public cloud), 私有云, 混合云"),
    Column("modules", "功能模块", "Function modules", True, K.MODULES, 100,
           note_zh="产品申报的功能模块，用；或 ; 分隔",
           note_en="the product's declared modules, separated by ；or ;"),
    Column("contract_date", "合同日期", "Contract date", True, K.DATE,
           note_zh="如 2019-11-05、2019/11/5、2019年11月5日", note_en="e.g. 2019-11-05, 2019/11/5"),
    Column("contract_amount", "合同金额（元）", "Contract amount (yuan)", True, K.MONEY,
           note_zh="大于 0，精确到分", note_en="above 0, to the fen"),
    Column("voucher_amount", "服务券金额（元）", "Voucher amount (yuan)", True, K.MONEY,
           note_zh="大于 0，不超过合同金额", note_en="above 0, at most the contract amount"),
    Column("amount_paid", "已支付金额（元）", "Amount paid (yuan)", True, K.MONEY,
           note_zh="企业已实际支付的金额，不超过合同金额",
           note_en="what the enterprise has paid, at most the contract amount"),
    Column("redemption_requested_at", "兑现申请时间", "Redemption request time", True, K.DATETIME,
           note_zh="如 2020-01-15 10:30；未写时区按北京时间",
           note_en="e.g. 2020-01-15 10:30; China time unless an offset is given"),
    Column("is_key_project", "重点项目", "Key project", False, K.FLAG, default="否",
           note_zh="是/否", note_en="yes/no"),
    Column("is_cluster", "产业集群", "Industrial cluster", False, K.FLAG, default="否",
           note_zh="产业集群试点项目：是/否", note_en="industrial-cluster pilot project: yes/no"),
    Column("has_usage_logs", "有使用日志", "Usage logs present", False, K.FLAG, default="是",
           note_zh="平台是否已采集到使用日志：是/否",
           note_en="whether the platform holds usage logs: yes/no"),
)  # fmt: skip

BY_FIELD: dict[str, Column] = {column.field: column for column in COLUMNS}

SUPPLIER_KINDS: dict[SupplierKind, tuple[str, str]] = {
    SupplierKind.PLATFORM: ("平台商", "Platform"),
    SupplierKind.SERVICE_PROVIDER: ("服务商", "Service provider"),
    SupplierKind.CARRIER: ("基础电信运营商", "Carrier"),
}

BUSINESS_AREAS: dict[BusinessArea, tuple[str, str]] = {
    BusinessArea.RD_DESIGN: ("研发设计", "R&D and design"),
    BusinessArea.PRODUCTION_CONTROL: ("生产管控", "Production control"),
    BusinessArea.BUSINESS_MANAGEMENT: ("经营管理", "Business management"),
    BusinessArea.AFTER_SALES: ("售后服务", "After-sales"),
    BusinessArea.CLOUD_INFRASTRUCTURE: ("云基础设施", "Cloud infrastructure"),
}

YES = frozenset({"是", "y", "yes", "true", "1", "√", "✓"})
NO = frozenset({"否", "n", "no", "false", "0", "×", "✗"})


def key(text: str) -> str:
    """How headers and labels are compared: NFKC, no spaces, lower case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


HEADERS: dict[str, Column] = {
    key(name): column for column in COLUMNS for name in (column.zh, column.en, column.field)
}


def _labels(table: dict[E, tuple[str, str]]) -> dict[str, E]:
    return {key(name): member for member, names in table.items() for name in (*names, str(member.value))}


SUPPLIER_KIND_BY_LABEL: dict[str, SupplierKind] = {
    **_labels(SUPPLIER_KINDS),
    key("服务提供商"): SupplierKind.SERVICE_PROVIDER,
    key("运营商"): SupplierKind.CARRIER,
    key("telecom carrier"): SupplierKind.CARRIER,
}
BUSINESS_AREA_BY_LABEL: dict[str, BusinessArea] = {
    **_labels(BUSINESS_AREAS),
    key("R&D design"): BusinessArea.RD_DESIGN,
    key("after sales"): BusinessArea.AFTER_SALES,
    key("云基础设施服务"): BusinessArea.CLOUD_INFRASTRUCTURE,
}


def split_modules(text: str) -> list[str]:
    """The module names of a ``功能模块`` cell, in order, blanks dropped."""
    unified = text.replace("；", ";").replace("\n", ";")
    return [part.strip() for part in unified.split(";") if part.strip()]


EXAMPLE_ROWS: tuple[tuple[str, ...], ...] = (
    (
        "DG-2019-0001", "东莞", "东莞市长安精密五金有限公司", "91441900MA4UH3QK2N",
        "广东云智工业互联网科技有限公司", "91440101MA59C2LX7C", "平台商", "2",
        "云MES生产管理系统", "生产管控", "60000.00", "套", "年", "公有云",
        "生产排程；设备联网；质量追溯；报表看板", "2019-09-12", "80000.00", "24000.00",
        "80000.00", "2019-12-20 10:30", "否", "是", "是",
    ),
    (
        "FS-2019-0002", "4406", "佛山市顺德区美厨电器有限公司", "91440606MA51R7T64K",
        "粤信通信息服务有限公司", "914401013045276856", "服务商", "1",
        "云ERP经营管理平台", "经营管理", "30000.00", "账号", "年", "公有云",
        "采购管理; 销售管理; 库存管理; 财务核算", "2019/10/8", "45000.00", "13500.00",
        "42000.00", "2020-01-06 15:00+08:00", "是", "否", "是",
    ),
)  # fmt: skip
"""Two example rows for the template; the credit codes carry correct check digits."""
