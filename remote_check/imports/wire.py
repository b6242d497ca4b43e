"""A file's validation as JSON: what the parsing child process sends back to the server.

JSON rather than pickle, so that whatever the child was fed can never make the server run
code; every record is a flat list in a fixed order. Pure: data in, data out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from remote_check.imports.validate import (
    EnterpriseRecord,
    Problem,
    ProductRecord,
    ProjectRecord,
    SupplierRecord,
    Validation,
)
from remote_check.programme.models import BusinessArea, SupplierKind


def _record(r: ProjectRecord) -> list[Any]:
    e, s, p = r.enterprise, r.supplier, r.product
    return [
        r.row, r.code, r.city_code,
        e.name, e.credit_code,
        s.name, s.credit_code, s.kind.value, s.teams,
        p.name, p.business_area.value, str(p.listed_price), p.price_unit, p.price_period, p.deployment,
        list(p.modules),
        r.contract_date.isoformat(), str(r.contract_amount), str(r.voucher_amount), str(r.amount_paid),
        r.redemption_requested_at.astimezone(dt.UTC).isoformat(),
        r.is_key_project, r.is_cluster, r.has_usage_logs,
    ]  # fmt: skip


def _from_record(v: list[Any]) -> ProjectRecord:
    (row, code, city, e_name, e_code, s_name, s_code, kind, teams, p_name, area, price, unit, period,
     deployment, modules, signed, contract, voucher, paid, requested, key, cluster, logs) = v  # fmt: skip
    return ProjectRecord(
        row=int(row),
        code=code,
        city_code=city,
        enterprise=EnterpriseRecord(e_name, e_code, city),
        supplier=SupplierRecord(s_name, s_code, SupplierKind(kind), int(teams)),
        product=ProductRecord(
            p_name, BusinessArea(area), Decimal(price), unit, period, deployment, tuple(modules)
        ),
        contract_date=dt.date.fromisoformat(signed),
        contract_amount=Decimal(contract),
        voucher_amount=Decimal(voucher),
        amount_paid=Decimal(paid),
        redemption_requested_at=dt.datetime.fromisoformat(requested),
        is_key_project=bool(key),
        is_cluster=bool(cluster),
        has_usage_logs=bool(logs),
    )


def _problem(p: Problem) -> list[Any]:
    return [p.row, p.field, p.column_zh, p.column_en, p.code, p.zh, p.en]


def encode(validation: Validation) -> dict[str, Any]:
    """``validation`` as plain JSON values."""
    return {
        "rows": validation.rows,
        "records": [_record(r) for r in validation.records],
        "problems": [_problem(p) for p in validation.problems],
    }


def decode(data: dict[str, Any]) -> Validation:
    """The :class:`Validation` that :func:`encode` was given."""
    return Validation(
        records=[_from_record(v) for v in data["records"]],
        problems=[Problem(int(row), *rest) for row, *rest in data["problems"]],
        rows=int(data["rows"]),
    )
