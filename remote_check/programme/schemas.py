"""Request and response shapes of the project browsing API.

Amounts are ``Decimal`` in Python and strings with two decimals in JSON ("100000.00"), so
no client ever sees a binary float of money.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from remote_check.database import FEN
from remote_check.ids import Id
from remote_check.paging import MAX_PAGE
from remote_check.programme.models import BusinessArea, ProjectStatus, SupplierKind
from remote_check.query import Text


def _two_decimals(value: Decimal) -> str:
    return str(value.quantize(FEN, rounding=ROUND_HALF_UP))


Amount = Annotated[
    Decimal,
    PlainSerializer(_two_decimals, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["100000.00"]}),
]
"""Yuan with fen precision; a string with two decimals in JSON."""

Ratio = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{4}$", "examples": ["1.2500"]}),
]
"""A ratio such as contract / listed price, rounded as :func:`remote_check.programme.pricing.ratio`
rounds it (4 decimals); a string in JSON."""

_STATUS_VALUES = [s.value for s in ProjectStatus]


class ProjectQuery(BaseModel):
    """Filters of the project list; a filter left out means "any" (an empty one is refused).

    Unknown parameters are ignored (``?lang=en`` may accompany any request).
    """

    model_config = ConfigDict(extra="ignore")

    city: str | None = Field(default=None, pattern=r"^\d{4}$", description="GB/T 2260 city code, e.g. 4419")
    # Declared as a plain string enum so that the query parameter's schema has no $ref.
    status: Annotated[
        ProjectStatus | None,
        WithJsonSchema({"anyOf": [{"type": "string", "enum": _STATUS_VALUES}, {"type": "null"}]}),
    ] = None
    supplier_id: Id | None = None
    q: Text | None = Field(default=None, description="Text in the project code, enterprise or supplier name")
    key_only: bool = Field(default=False, description="Only key projects (重点项目)")
    cluster_only: bool = Field(default=False, description="Only industrial-cluster pilot projects")
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=50, ge=1, le=200)


class ProjectOut(BaseModel):
    """One row of the project list."""

    id: int
    code: str
    city_code: str
    city_name_zh: str
    city_name_en: str
    enterprise_id: int
    enterprise_name: str
    supplier_id: int
    supplier_name: str
    product_id: int
    product_name: str
    contract_date: dt.date
    contract_amount: Amount
    voucher_amount: Amount
    amount_paid: Amount
    redemption_requested_at: dt.datetime
    status: ProjectStatus
    is_key_project: bool
    is_cluster: bool
    has_usage_logs: bool
    under_recheck: bool


class ProjectPage(BaseModel):
    """One page of the projects that match the filters, and how many matched in all."""

    items: list[ProjectOut]
    total: int
    page: int
    page_size: int
    pages: int


class ModuleOut(BaseModel):
    """A function module (功能模块) the supplier declared for the product."""

    position: int
    name: str
    description: str


class ProjectDetail(ProjectOut):
    """A project with its product listing and the figures the financial check compares."""

    enterprise_credit_code: str
    supplier_credit_code: str
    supplier_kind: SupplierKind
    business_area: BusinessArea
    listed_price: Amount
    price_unit: str
    price_period: str
    deployment: str
    modules: list[ModuleOut]
    price_ratio: Ratio | None = Field(description="Contract amount / listed price (None if no listed price)")
    paid_ratio: Ratio | None = Field(description="Amount paid / contract amount (None if no contract amount)")
    over_listed_price: bool = Field(description="Contract above the configured multiple of the listed price")
    paid_below_minimum: bool = Field(description="Paid less than the configured share of the contract")


class CityOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    in_round: bool
    project_count: int = Field(description="Projects of this city that the caller may see")


class CityList(BaseModel):
    items: list[CityOut]
