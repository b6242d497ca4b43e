"""The rows an import inserts, made ready for the database before its write transaction.

Turning 20,000 projects into parameters (each value through its column type's bind processor:
money to fen, instants to UTC, enums to their values, dates as the dialect stores them) takes
longer than inserting them. :func:`prepare` does it while no lock is held; :func:`insert_rows`,
under the write lock, only fills in the ids the database hands out and runs one bulk statement
per table, on tables whose columns carry no types, so that the prepared values go out as they
are. The projects, the bulk of it, go straight to the driver: ``COPY`` on PostgreSQL (asyncpg),
one prepared ``executemany`` on SQLite.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Dialect, column, insert, table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.expression import TableClause

from remote_check.imports.plan import Plan
from remote_check.programme.models import (
    Enterprise,
    Product,
    ProductModule,
    ProjectStatus,
    Supplier,
    VoucherProject,
)


def _untyped(model: type[DeclarativeBase]) -> TableClause:
    return table(model.__tablename__, *(column(c.name) for c in model.__table__.c))


_SUPPLIERS, _ENTERPRISES, _PRODUCTS, _MODULES, _PROJECTS = (
    _untyped(m) for m in (Supplier, Enterprise, Product, ProductModule, VoucherProject)
)


class _Values:
    """Values of one table's columns as the dialect's bind processors make them."""

    def __init__(self, model: type[DeclarativeBase], dialect: Dialect) -> None:
        self.processors = {c.name: c.type.bind_processor(dialect) for c in model.__table__.c}

    def __call__(self, **values: Any) -> dict[str, Any]:
        out = {}
        for name, value in values.items():
            process = self.processors[name]
            out[name] = process(value) if process is not None and value is not None else value
        return out


_NEXT_ENTERPRISE_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('enterprises', 'id')) FROM generate_series(1, :n)"
)
ProductKey = tuple[str, str]  # supplier credit code, product name


@dataclass(frozen=True)
class Prepared:
    """Parameters of every row to insert; ids (of rows inserted before them) still to fill in."""

    suppliers: list[dict[str, Any]]
    enterprises: list[dict[str, Any]]
    products: list[tuple[str, dict[str, Any]]]  # supplier credit code, values
    modules: list[tuple[ProductKey, dict[str, Any]]]
    projects: list[tuple[str, str, ProductKey, dict[str, Any]]]  # enterprise, supplier, product


def prepare(plan: Plan, dialect: Dialect, now: dt.datetime) -> Prepared:
    """The parameters of what ``plan`` inserts (pure CPU work: run it off the event loop)."""
    supplier = _Values(Supplier, dialect)
    suppliers = {
        s.credit_code: supplier(
            name=s.name, credit_code=s.credit_code, kind=s.kind, teams=s.teams, listed=True
        )
        for r in plan.new
        if (s := r.supplier).credit_code not in plan.suppliers
    }
    enterprise = _Values(Enterprise, dialect)
    enterprises = {
        e.credit_code: enterprise(name=e.name, credit_code=e.credit_code, city_code=e.city_code)
        for r in plan.new
        if (e := r.enterprise).credit_code not in plan.enterprises
    }
    product, module = _Values(Product, dialect), _Values(ProductModule, dialect)
    products: dict[ProductKey, tuple[str, dict[str, Any]]] = {}
    modules: list[tuple[ProductKey, dict[str, Any]]] = []
    for r in plan.new:
        key, p = (r.supplier.credit_code, r.product.name), r.product
        if key in plan.products or key in products:
            continue
        products[key] = (key[0], product(
            name=p.name, business_area=p.business_area, listed_price=p.listed_price, price_unit=p.price_unit,
            price_period=p.price_period, deployment=p.deployment,
        ))  # fmt: skip
        modules.extend(
            (key, module(position=i, name=name, description="")) for i, name in enumerate(p.modules, start=1)
        )
    project = _Values(VoucherProject, dialect)
    projects = [
        (
            r.enterprise.credit_code,
            r.supplier.credit_code,
            (r.supplier.credit_code, r.product.name),
            project(
                code=r.code,
                city_code=r.city_code,
                contract_date=r.contract_date,
                contract_amount=r.contract_amount,
                voucher_amount=r.voucher_amount,
                amount_paid=r.amount_paid,
                redemption_requested_at=r.redemption_requested_at,
                is_key_project=r.is_key_project,
                is_cluster=r.is_cluster,
                has_usage_logs=r.has_usage_logs,
                under_recheck=False,
                status=ProjectStatus.REGISTERED,
                imported_at=now,
            ),
        )
        for r in plan.new
    ]
    return Prepared(
        list(suppliers.values()), list(enterprises.values()), list(products.values()), modules, projects
    )


async def insert_rows(session: AsyncSession, plan: Plan, prepared: Prepared) -> None:
    """Insert ``prepared`` in the caller's write transaction: a bulk statement per table."""
    suppliers = {code: s.id for code, s in plan.suppliers.items()}
    if prepared.suppliers:
        made = await session.execute(
            insert(_SUPPLIERS).returning(_SUPPLIERS.c.credit_code, _SUPPLIERS.c.id), prepared.suppliers
        )
        suppliers.update({code: id_ for code, id_ in made})
    enterprises = {code: e.id for code, e in plan.enterprises.items()}
    if prepared.enterprises:  # as many as the projects, nearly: the sequence's ids, then COPY
        connection = await session.connection()
        if connection.dialect.driver == "asyncpg":
            ids = (
                await session.scalars(
                    _NEXT_ENTERPRISE_IDS,
                    {"n": len(prepared.enterprises)},
                )
            ).all()
            names = ["id", *prepared.enterprises[0]]
            await _bulk(
                session,
                _ENTERPRISES.name,
                names,
                [(i, *v.values()) for i, v in zip(ids, prepared.enterprises, strict=True)],
            )
            enterprises.update({v["credit_code"]: i for i, v in zip(ids, prepared.enterprises, strict=True)})
        else:
            made = await session.execute(
                insert(_ENTERPRISES).returning(_ENTERPRISES.c.credit_code, _ENTERPRISES.c.id),
                prepared.enterprises,
            )
            enterprises.update({code: id_ for code, id_ in made})
    products = {key: p.id for key, p in plan.products.items()}
    if prepared.products:
        code_of = {id_: code for code, id_ in suppliers.items()}
        made = await session.execute(
            insert(_PRODUCTS).returning(_PRODUCTS.c.supplier_id, _PRODUCTS.c.name, _PRODUCTS.c.id),
            [{**values, "supplier_id": suppliers[code]} for code, values in prepared.products],
        )
        products.update({(code_of[supplier_id], name): id_ for supplier_id, name, id_ in made})
        await session.execute(
            insert(_MODULES), [{**values, "product_id": products[key]} for key, values in prepared.modules]
        )
    if prepared.projects:
        names = [*prepared.projects[0][3], "enterprise_id", "supplier_id", "product_id"]
        records = [
            (*values.values(), enterprises[enterprise], suppliers[supplier], products[product])
            for enterprise, supplier, product, values in prepared.projects
        ]
        await _bulk(session, _PROJECTS.name, names, records)


async def _bulk(session: AsyncSession, name: str, columns: list[str], records: list[tuple[Any, ...]]) -> None:
    """Insert ``records`` (values in ``columns`` order, as bind processors made them) by the
    driver's fastest way; a constraint violation is raised as SQLAlchemy's ``IntegrityError``."""
    connection = await session.connection()
    statement = insert(table(name, *(column(c) for c in columns)))
    if connection.dialect.driver == "asyncpg":
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        try:
            await driver.copy_records_to_table(name, records=records, columns=columns)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(f"COPY {name}", None, exc) from exc
    elif connection.dialect.paramstyle == "qmark":  # SQLite: one prepared statement, every row
        await connection.exec_driver_sql(str(statement.compile(dialect=connection.dialect)), records)
    else:
        await connection.execute(statement, [dict(zip(columns, r, strict=True)) for r in records])
