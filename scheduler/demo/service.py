"""Loading the demo data into the database, in the caller's transaction (it only flushes).

:func:`load_demo` refuses a database that already holds voucher projects, then runs
:data:`STEPS` in order, then writes one ``demo.load`` audit entry with the counts. Each step is an
``async`` function of a :class:`DemoLoad`; rows go in with bulk ``INSERT``s (RETURNING the new ids,
kept in :class:`DemoLoad` for the steps after). To add campaigns, draws or sessions to the demo,
write a step that calls your service with ``load.session``, ``load.now`` and ``load.actor`` (ids
are in ``load.project_ids``, ``load.user_ids``, ``load.expert_ids``), append it to
:data:`STEPS`, and put its count in ``load.counts``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.models import User
from remote_check.accounts.passwords import hash_password
from remote_check.accounts.service import NewUser, create_user
from remote_check.audit.service import Actor, record
from remote_check.errors import Conflict, Message
from remote_check.experts.models import Expert
from remote_check.programme.models import (
    Enterprise,
    Product,
    ProductModule,
    ProjectStatus,
    Supplier,
    VoucherProject,
)
from scheduler.demo.activity import campaigns_and_sessions
from scheduler.demo.outcomes import DemoFiles, concluded, held_checks
from scheduler.demo.records import DemoData


@dataclass
class DemoLoad:
    """What the steps share: the data, the session, the time, and the ids made so far."""

    session: AsyncSession
    data: DemoData
    now: dt.datetime
    actor: Actor
    supplier_ids: list[int] = field(default_factory=list)  # by DemoSupplier.index
    product_ids: list[list[int]] = field(default_factory=list)  # by supplier, then product
    enterprise_ids: list[int] = field(default_factory=list)  # by DemoEnterprise.index
    project_ids: list[int] = field(default_factory=list)  # in the order of data.projects
    user_ids: dict[str, int] = field(default_factory=dict)  # by user name
    expert_ids: list[int] = field(default_factory=list)  # in the order of data.experts
    counts: dict[str, int] = field(default_factory=dict)
    files: DemoFiles | None = None  # publication and filing: skipped without
    held: dict[int, str] = field(default_factory=dict)  # Guangzhou's checked projects: id -> outcome


Step = Callable[[DemoLoad], Awaitable[None]]


async def _insert(session: AsyncSession, model: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` in bulk and return their new ids, in the order of ``rows``."""
    if not rows:
        return []
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list((await session.scalars(stmt, rows)).all())


async def _suppliers(load: DemoLoad) -> None:
    suppliers = load.data.suppliers
    load.supplier_ids = await _insert(
        load.session,
        Supplier,
        [
            {"name": s.name, "credit_code": s.credit_code, "kind": s.kind, "teams": s.teams, "listed": True,
             "cap_amount": s.cap_amount}
            for s in suppliers
        ],
    )  # fmt: skip
    owners = [(s.index, p) for s in suppliers for p in s.products]
    ids = await _insert(
        load.session,
        Product,
        [
            {"supplier_id": load.supplier_ids[i], "name": p.name, "business_area": p.area,
             "listed_price": p.listed_price, "price_unit": p.unit, "price_period": p.period,
             "deployment": p.deployment}
            for i, p in owners
        ],
    )  # fmt: skip
    load.product_ids = [[] for _ in suppliers]
    for (index, _), product_id in zip(owners, ids, strict=True):
        load.product_ids[index].append(product_id)
    modules = [
        {"product_id": product_id, "position": position, "name": m.name, "description": m.description}
        for (_, product), product_id in zip(owners, ids, strict=True)
        for position, m in enumerate(product.modules, start=1)
    ]
    await load.session.execute(insert(ProductModule), modules)
    load.counts |= {"suppliers": len(suppliers), "products": len(ids), "modules": len(modules)}


async def _enterprises(load: DemoLoad) -> None:
    rows = [
        {"name": e.name, "credit_code": e.credit_code, "city_code": e.city_code}
        for e in load.data.enterprises
    ]
    load.enterprise_ids = await _insert(load.session, Enterprise, rows)
    load.counts["enterprises"] = len(rows)


async def _projects(load: DemoLoad) -> None:
    rows = [
        {
            "code": p.code,
            "city_code": p.city_code,
            "enterprise_id": load.enterprise_ids[p.enterprise],
            "supplier_id": load.supplier_ids[p.supplier],
            "product_id": load.product_ids[p.supplier][p.product],
            "contract_date": p.contract_date,
            "contract_amount": p.contract_amount,
            "voucher_amount": p.voucher_amount,
            "amount_paid": p.amount_paid,
            "redemption_requested_at": p.redemption_requested_at,
            "is_key_project": p.is_key_project,
            "is_cluster": p.is_cluster,
            "has_usage_logs": p.has_usage_logs,
            "under_recheck": False,
            "status": ProjectStatus.REGISTERED,
            "imported_at": load.now,
        }
        for p in load.data.projects
    ]
    load.project_ids = await _insert(load.session, VoucherProject, rows)
    load.counts["projects"] = len(rows)


async def _users_and_experts(load: DemoLoad) -> None:
    """Every demo account through :func:`create_user` (audited), sharing one argon2 hash."""
    data = load.data
    hashed = hash_password(data.password)
    for user in data.users:
        new = NewUser(
            user.username, user.display_name, user.role, data.password, user.city_code, user.organisation
        )
        row = await create_user(load.session, new, actor=load.actor, now=load.now, password_hash=hashed)
        load.user_ids[user.username] = row.id
    by_expert = {u.expert: load.user_ids[u.username] for u in data.users if u.expert is not None}
    rows = [
        {"name": e.name, "employer": e.employer, "employer_credit_code": e.employer_credit_code,
         "ties": list(e.ties), "speciality": e.speciality, "home_city_code": e.home_city_code,
         "user_id": by_expert.get(i), "active": True}
        for i, e in enumerate(data.experts)
    ]  # fmt: skip
    load.expert_ids = await _insert(load.session, Expert, rows)
    load.counts |= {"users": len(data.users), "experts": len(rows)}


# The steps of a demo load, in order. Append a step to add more (campaigns, draws, sessions).
STEPS: list[Step] = [
    _suppliers,
    _enterprises,
    _projects,
    _users_and_experts,
    held_checks,
    campaigns_and_sessions,
    concluded,
]


async def existing_projects(session: AsyncSession) -> int:
    """How many voucher projects the database holds."""
    return int(await session.scalar(select(func.count()).select_from(VoucherProject)) or 0)


async def load_demo(
    session: AsyncSession, data: DemoData, *, now: dt.datetime, actor: Actor, files: DemoFiles | None = None
) -> DemoLoad:
    """Store ``data`` by running :data:`STEPS`; refuse a database with projects or with a demo user name.

    ``files`` (the signing key and the report store) let the demo publish Guangzhou's results and
    file its reports; without, those two steps are skipped."""
    held = await existing_projects(session)
    if held:
        raise Conflict(
            Message(
                f"数据库中已有 {held} 个服务券项目：演示数据只能载入没有项目的数据库",
                f"The database already holds {held} voucher projects: demo data loads only into a database "
                "without projects",
            )
        )
    taken = await session.scalars(
        select(User.username).where(User.username.in_([u.username for u in data.users]))
    )
    if names := sorted(taken):
        raise Conflict(
            Message(
                f"演示用户名已被占用：{'、'.join(names)}",
                f"Demo user names already taken: {', '.join(names)}",
            )
        )
    load = DemoLoad(session, data, now, actor, files=files)
    for step in STEPS:
        await step(load)
    await session.flush()
    await record(
        session,
        actor,
        "demo.load",
        f"demo:{data.scale.value}:{data.seed}",
        at=now,
        details={"seed": data.seed, "scale": data.scale.value, "counts": load.counts},
    )
    return load
