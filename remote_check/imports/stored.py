"""What the database holds about the rows of an import file, read as plain values.

:func:`read_stored` reads (never writes) the cities, the projects the file's codes name, and
the enterprises, suppliers and products its credit codes and product names name. An import
reads them in a read transaction to check the file, then again under the write lock: equal
values mean the check still stands (:mod:`remote_check.imports.service`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Executable, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import GenerativeSelect

from remote_check.imports.validate import ProjectRecord
from remote_check.programme.models import (
    BusinessArea,
    City,
    Enterprise,
    Product,
    ProductModule,
    Supplier,
    SupplierKind,
    VoucherProject,
)

CHUNK = 2000  # keys per IN list: well under SQLite's 32,766 variables
Q = TypeVar("Q", bound=GenerativeSelect)


@dataclass(frozen=True)
class StoredCity:
    name_zh: str
    name_en: str
    in_round: bool


@dataclass(frozen=True)
class StoredEnterprise:
    id: int
    name: str
    city_code: str
    barred_until: dt.date | None


@dataclass(frozen=True)
class StoredSupplier:
    id: int
    name: str
    kind: SupplierKind
    teams: int
    listed: bool
    delisted_at: dt.datetime | None
    barred_until: dt.date | None


@dataclass(frozen=True)
class StoredProduct:
    id: int
    business_area: BusinessArea
    listed_price: Decimal
    price_unit: str
    price_period: str
    deployment: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class Stored:
    """What the database holds about a file's rows (by project code, credit code, product name)."""

    cities: dict[str, StoredCity]
    projects: dict[str, dict[str, Any]]
    enterprises: dict[str, StoredEnterprise]
    suppliers: dict[str, StoredSupplier]
    products: dict[tuple[str, str], StoredProduct]


async def _in_chunks(
    session: AsyncSession, make: Callable[[list[Any]], Executable], values: Iterable[Hashable]
) -> list[Any]:
    """Run ``make(chunk)`` over the distinct ``values`` a few hundred at a time; all rows."""
    found: list[Any] = []
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), CHUNK):
        found.extend((await session.execute(make(unique[start : start + CHUNK]))).all())
    return found


FACTS = (
    "contract_date", "contract_amount", "voucher_amount", "amount_paid", "redemption_requested_at",
    "is_key_project", "is_cluster", "has_usage_logs",
)  # fmt: skip


def _shared(stmt: Q, lock: bool) -> Q:
    return stmt.with_for_update(read=True) if lock else stmt


async def read_stored(session: AsyncSession, records: list[ProjectRecord], *, lock: bool = False) -> Stored:
    """Read what the database holds about ``records``; with ``lock`` (in a write transaction) the
    enterprises, suppliers and products are read ``FOR SHARE`` on PostgreSQL, so that nobody
    changes them before the import commits (SQLite's write lock already excludes everyone)."""

    cities = {
        code: StoredCity(zh, en, in_round)
        for code, zh, en, in_round in (
            await session.execute(select(City.code, City.name_zh, City.name_en, City.in_round))
        ).all()
    }
    p = VoucherProject
    projects = {
        row.code: {
            "city": row.city_code,
            "enterprise_credit_code": row.enterprise,
            "supplier_credit_code": row.supplier,
            "product_name": row.product,
            **{name: getattr(row, name) for name in FACTS},
        }
        for row in await _in_chunks(
            session,
            lambda codes: (
                select(
                    p.code,
                    p.city_code,
                    *(getattr(p, name) for name in FACTS),
                    Enterprise.credit_code.label("enterprise"),
                    Supplier.credit_code.label("supplier"),
                    Product.name.label("product"),
                )
                .join(Enterprise, Enterprise.id == p.enterprise_id)
                .join(Supplier, Supplier.id == p.supplier_id)
                .join(Product, Product.id == p.product_id)
                .where(p.code.in_(codes))
            ),
            (r.code for r in records),
        )
    }
    e = Enterprise
    enterprises = {
        code: StoredEnterprise(id_, name, city, barred)
        for id_, code, name, city, barred in await _in_chunks(
            session,
            lambda codes: _shared(
                select(e.id, e.credit_code, e.name, e.city_code, e.barred_until).where(
                    e.credit_code.in_(codes)
                ),
                lock,
            ),
            (r.enterprise.credit_code for r in records),
        )
    }
    s = Supplier
    suppliers = {
        code: StoredSupplier(id_, name, kind, teams, listed, delisted, barred)
        for id_, code, name, kind, teams, listed, delisted, barred in await _in_chunks(
            session,
            lambda codes: _shared(
                select(
                    s.id, s.credit_code, s.name, s.kind, s.teams, s.listed, s.delisted_at, s.barred_until
                ).where(s.credit_code.in_(codes)),
                lock,
            ),
            (r.supplier.credit_code for r in records),
        )
    }
    return Stored(
        cities, projects, enterprises, suppliers, await _read_products(session, records, suppliers, lock)
    )


async def _read_products(
    session: AsyncSession,
    records: list[ProjectRecord],
    suppliers: dict[str, StoredSupplier],
    lock: bool,
) -> dict[tuple[str, str], StoredProduct]:
    named = {(r.supplier.credit_code, r.product.name) for r in records}
    code_of = {sup.id: code for code, sup in suppliers.items()}
    pr = Product
    rows = [
        row
        for row in await _in_chunks(
            session,
            lambda ids: _shared(
                select(
                    pr.id,
                    pr.supplier_id,
                    pr.name,
                    pr.business_area,
                    pr.listed_price,
                    pr.price_unit,
                    pr.price_period,
                    pr.deployment,
                ).where(pr.supplier_id.in_(ids)),
                lock,
            ),
            code_of,
        )
        if (code_of[row.supplier_id], row.name) in named
    ]
    modules: dict[int, list[str]] = {row.id: [] for row in rows}
    for product_id, name in await _in_chunks(
        session,
        lambda ids: (
            select(ProductModule.product_id, ProductModule.name)
            .where(ProductModule.product_id.in_(ids))
            .order_by(ProductModule.product_id, ProductModule.position)
        ),
        modules,
    ):
        modules[product_id].append(name)
    return {
        (code_of[row.supplier_id], row.name): StoredProduct(
            row.id,
            row.business_area,
            row.listed_price,
            row.price_unit,
            row.price_period,
            row.deployment,
            tuple(modules[row.id]),
        )
        for row in rows
    }
