"""The database side of checking an import: what is new, what is already there, and what is refused.

:func:`make_plan` is pure: from a file's valid records and what the database holds about them
(:class:`~remote_check.imports.stored.Stored`) it returns a :class:`Plan`: the rows to store, the
number already imported unchanged, the enterprises, suppliers and products to reuse, and every
problem found against the database: another city's rows, unknown or excluded cities, project
codes stored with different data, barred enterprises and suppliers, delisted suppliers, and
enterprises, suppliers or products the file describes differently from the stored ones.

With ``restrict_city`` (a city coordinator's import) the import must not become a way to look
up other cities' data: a project code or an enterprise credit code stored for another city is
reported only as "belongs to another city", never with the stored values or which fields differ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from remote_check.imports.columns import BY_FIELD
from remote_check.imports.stored import (
    FACTS,
    Stored,
    StoredCity,
    StoredEnterprise,
    StoredProduct,
    StoredSupplier,
)
from remote_check.imports.validate import Problem, ProjectRecord, problem_at


@dataclass
class Plan:
    """What an import would do."""

    new: list[ProjectRecord] = field(default_factory=list)
    skipped: int = 0
    enterprises: dict[str, StoredEnterprise] = field(default_factory=dict)
    suppliers: dict[str, StoredSupplier] = field(default_factory=dict)
    products: dict[tuple[str, str], StoredProduct] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, rec: ProjectRecord, fieldname: str, code: str, zh: str, en: str) -> None:
        self.problems.append(problem_at(rec.row, BY_FIELD[fieldname], code, zh, en))


def _record_facts(rec: ProjectRecord) -> dict[str, Any]:
    return {
        "city": rec.city_code,
        "enterprise_credit_code": rec.enterprise.credit_code,
        "supplier_credit_code": rec.supplier.credit_code,
        "product_name": rec.product.name,
        **{name: getattr(rec, name) for name in FACTS},
    }


def _check_cities(
    plan: Plan, records: list[ProjectRecord], cities: dict[str, StoredCity], restrict_city: str | None
) -> list[ProjectRecord]:
    kept = []
    for rec in records:
        city = cities.get(rec.city_code)
        if restrict_city is not None and rec.city_code != restrict_city:
            plan.add(
                rec,
                "city",
                "other_city",
                "您只能导入本市的项目",
                "you may import only your own city's projects",
            )
        elif city is None:
            plan.add(rec, "city", "unknown_city", "系统中没有该城市", "this city is not in the system")
        elif not city.in_round:
            plan.add(
                rec,
                "city",
                "city_not_in_round",
                f"{city.name_zh}不在本轮服务券范围内",
                f"{city.name_en} is not in this voucher round",
            )
        else:
            kept.append(rec)
    return kept


def _split_existing_projects(
    plan: Plan, records: list[ProjectRecord], stored: dict[str, dict[str, Any]], restrict_city: str | None
) -> None:
    for rec in records:
        facts = stored.get(rec.code)
        if facts is None:
            plan.new.append(rec)
            continue
        if restrict_city is not None and facts["city"] != restrict_city:
            plan.add(
                rec,
                "project_code",
                "project_other_city",
                "该项目编号属于其他城市",
                "this project code belongs to another city",
            )
            continue
        differ = [name for name, value in _record_facts(rec).items() if facts[name] != value]
        if not differ:
            plan.skipped += 1
            continue
        plan.add(
            rec,
            "project_code",
            "exists_different",
            "项目编号已存在，但与已导入的数据不同：" + "、".join(BY_FIELD[n].zh for n in differ),
            "the project code exists with different data in: " + ", ".join(BY_FIELD[n].en for n in differ),
        )


def _mismatch(
    plan: Plan, rec: ProjectRecord, what: tuple[str, str], pairs: list[tuple[str, Any, Any]]
) -> None:
    for fieldname, stored, given in pairs:
        if stored != given:
            column = BY_FIELD[fieldname]
            shown = "；".join(stored) if isinstance(stored, tuple) else str(stored)
            plan.add(
                rec,
                fieldname,
                f"{what[1]}_mismatch",
                f"与系统中已登记的{what[0]}不一致（已登记为“{shown}”）",
                f"differs from the {what[1]} on record ({column.en.lower()}: {shown})",
            )


def _check_enterprise(
    plan: Plan, rec: ProjectRecord, ent: StoredEnterprise, today: dt.date, restrict_city: str | None
) -> None:
    if restrict_city is not None and ent.city_code != restrict_city:
        plan.add(
            rec,
            "enterprise_credit_code",
            "enterprise_other_city",
            "该统一社会信用代码属于其他城市的企业",
            "this credit code belongs to an enterprise of another city",
        )
        return
    if ent.barred_until is not None and ent.barred_until >= today:
        plan.add(
            rec,
            "enterprise_credit_code",
            "enterprise_barred",
            f"该企业被禁止申请财政扶持至 {ent.barred_until}",
            f"this enterprise is barred from public funding until {ent.barred_until}",
        )
    _mismatch(
        plan,
        rec,
        ("企业", "enterprise"),
        [("enterprise_name", ent.name, rec.enterprise.name), ("city", ent.city_code, rec.city_code)],
    )


def _check_supplier(plan: Plan, rec: ProjectRecord, sup: StoredSupplier, today: dt.date) -> None:
    if not sup.listed or sup.delisted_at is not None:
        plan.add(
            rec,
            "supplier_credit_code",
            "supplier_delisted",
            "该服务商已被取消上云上平台服务商资格",
            "this supplier has been delisted from the programme",
        )
    if sup.barred_until is not None and sup.barred_until >= today:
        plan.add(
            rec,
            "supplier_credit_code",
            "supplier_barred",
            f"该服务商被禁止申请财政扶持至 {sup.barred_until}",
            f"this supplier is barred from public funding until {sup.barred_until}",
        )
    given = rec.supplier
    _mismatch(
        plan,
        rec,
        ("服务商", "supplier"),
        [
            ("supplier_name", sup.name, given.name),
            ("supplier_kind", sup.kind, given.kind),
            ("supplier_teams", sup.teams, given.teams),
        ],
    )


def _check_product(plan: Plan, rec: ProjectRecord, prod: StoredProduct) -> None:
    given = rec.product
    _mismatch(
        plan,
        rec,
        ("产品", "product"),
        [
            ("business_area", prod.business_area, given.business_area),
            ("listed_price", prod.listed_price, given.listed_price),
            ("price_unit", prod.price_unit, given.price_unit),
            ("price_period", prod.price_period, given.price_period),
            ("deployment", prod.deployment, given.deployment),
            ("modules", prod.modules, given.modules),
        ],
    )


def make_plan(
    records: list[ProjectRecord],
    problems: list[Problem],
    stored: Stored,
    *,
    today: dt.date,
    restrict_city: str | None = None,
) -> Plan:
    """Check valid ``records`` against what is ``stored``; ``problems`` (the file's own) are carried on.

    Bars (``barred_until >= today``), delisting and mismatches are checked only for rows that
    would be stored: a row already imported unchanged is skipped whatever happened since. Pure.
    """
    plan = Plan(problems=list(problems))
    kept = _check_cities(plan, records, stored.cities, restrict_city)
    _split_existing_projects(plan, kept, stored.projects, restrict_city)
    for rec in plan.new:
        ent = stored.enterprises.get(rec.enterprise.credit_code)
        if ent is not None:
            plan.enterprises[rec.enterprise.credit_code] = ent
            _check_enterprise(plan, rec, ent, today, restrict_city)
        sup = stored.suppliers.get(rec.supplier.credit_code)
        if sup is not None:
            plan.suppliers[rec.supplier.credit_code] = sup
            _check_supplier(plan, rec, sup, today)
        where = (rec.supplier.credit_code, rec.product.name)
        prod = stored.products.get(where)
        if prod is not None:
            plan.products[where] = prod
            _check_product(plan, rec, prod)
    return plan
