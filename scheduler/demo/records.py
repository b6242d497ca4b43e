"""The shapes of the demo data: frozen dataclasses that :mod:`scheduler.demo.generator` makes
and :mod:`scheduler.demo.service` loads. Indexes refer to positions in :class:`DemoData`'s tuples.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

from remote_check.accounts.models import Role
from remote_check.programme.models import BusinessArea, SupplierKind

DEMO_PASSWORD = "demo-password-2020"  # noqa: S105 -- every demo account's password, documented in README.md


class Scale(enum.StrEnum):
    SMALL = "small"  # a few cities, ~150 projects: for trying things out
    FULL = "full"  # the whole province, ~3,000 projects


@dataclass(frozen=True)
class DemoCity:
    code: str
    name_zh: str
    name_en: str
    projects: int


@dataclass(frozen=True)
class DemoModule:
    name: str
    description: str


@dataclass(frozen=True)
class DemoProduct:
    name: str
    area: BusinessArea
    listed_price: Decimal
    unit: str
    period: str
    deployment: str
    modules: tuple[DemoModule, ...]


@dataclass(frozen=True)
class DemoSupplier:
    index: int  # rank: 0 is the supplier with the largest expected share
    name: str
    credit_code: str
    kind: SupplierKind
    teams: int
    cap_amount: Decimal
    home_city: str
    cities: tuple[str, ...]  # where it is active (1-8 cities)
    products: tuple[DemoProduct, ...]


@dataclass(frozen=True)
class DemoEnterprise:
    index: int
    name: str
    credit_code: str
    city_code: str


@dataclass(frozen=True)
class DemoProject:
    code: str
    city_code: str
    enterprise: int  # index into DemoData.enterprises
    supplier: int  # index into DemoData.suppliers
    product: int  # index into that supplier's products
    contract_date: dt.date
    contract_amount: Decimal
    voucher_amount: Decimal
    amount_paid: Decimal
    redemption_requested_at: dt.datetime
    is_key_project: bool
    is_cluster: bool
    has_usage_logs: bool


@dataclass(frozen=True)
class DemoExpert:
    name: str
    employer: str
    employer_credit_code: str
    ties: tuple[str, ...]
    speciality: str
    home_city_code: str
    username: str


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: Role
    city_code: str | None
    organisation: str
    expert: int | None = None  # index into DemoData.experts


@dataclass(frozen=True)
class DemoData:
    """Everything one ``(seed, scale)`` makes."""

    seed: int
    scale: Scale
    password: str
    cities: tuple[DemoCity, ...]
    suppliers: tuple[DemoSupplier, ...]
    enterprises: tuple[DemoEnterprise, ...]
    projects: tuple[DemoProject, ...]
    experts: tuple[DemoExpert, ...]
    users: tuple[DemoUser, ...]

    def product_of(self, project: DemoProject) -> DemoProduct:
        """The listed product ``project`` bought."""
        return self.suppliers[project.supplier].products[project.product]
