"""The demo data: realistic, reproducible, and loaded once into an empty database."""

from __future__ import annotations

import datetime as dt
import functools
import statistics
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from remote_check.accounts.models import Role, User
from remote_check.accounts.service import sign_in
from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor, verify_log
from remote_check.cli import main
from remote_check.clock import SHANGHAI, FixedClock
from remote_check.database import transaction
from remote_check.errors import Conflict
from remote_check.experts.models import Expert
from remote_check.programme.credit_code import is_valid
from remote_check.programme.models import Enterprise, Product, ProductModule, Supplier, VoucherProject
from scheduler.demo.generator import generate
from scheduler.demo.names import CLUSTER_CITIES
from scheduler.demo.records import DEMO_PASSWORD, DemoData, Scale
from scheduler.demo.service import load_demo
from tests.conftest import Database

BIG = {"4401", "4406", "4419"}
MIDDLE = {"4420", "4413", "4407", "4404", "4405", "4412"}


@functools.cache
def _data(scale: Scale, seed: int = 1) -> DemoData:
    """Generated once per test run (a full scale takes about 0.2 s)."""
    return generate(seed, scale)


def _full(seed: int = 1) -> DemoData:
    return _data(Scale.FULL, seed)


def _all_money(data: DemoData) -> list[Decimal]:
    amounts = [a for p in data.projects for a in (p.contract_amount, p.voucher_amount, p.amount_paid)]
    amounts += [prod.listed_price for s in data.suppliers for prod in s.products]
    return amounts + [s.cap_amount for s in data.suppliers]


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    assert generate(1, Scale.SMALL) == _data(Scale.SMALL)
    assert generate(1, "full") == _full(1)
    assert generate(2, Scale.SMALL) != _data(Scale.SMALL)
    assert _full(2).projects != _full(1).projects
    assert _full(2).suppliers[0].name != _full(1).suppliers[0].name


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_full_scale_projects_per_city_follow_the_documented_ranges(seed: int) -> None:
    data = _full(seed)
    counts = {c.code: c.projects for c in data.cities}
    assert len(counts) == 21
    assert counts["4403"] == 0  # Shenzhen is not in the 2020 round
    for code, count in counts.items():
        low, high = (250, 600) if code in BIG else (60, 200) if code in MIDDLE else (10, 60)
        if code != "4403":
            assert low <= count <= high, code
    assert 2_500 <= len(data.projects) <= 3_300
    assert Counter(p.city_code for p in data.projects) == {k: v for k, v in counts.items() if v}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_suppliers_are_skewed_and_work_in_one_to_eight_cities(seed: int) -> None:
    data = _full(seed)
    assert 150 <= len(data.suppliers) <= 250
    per_supplier = Counter(p.supplier for p in data.projects)
    top = sum(n for _, n in per_supplier.most_common(len(data.suppliers) // 10))
    assert 0.4 <= top / len(data.projects) <= 0.6  # the top 10% hold about half the projects
    for supplier in data.suppliers:
        assert 1 <= len(supplier.cities) <= 8
        assert 1 <= supplier.teams <= 6
        assert 1 <= len(supplier.products) <= 5
        assert len({p.name for p in supplier.products}) == len(supplier.products)
        for product in supplier.products:
            assert 3 <= len(product.modules) <= 8
            assert len({m.name for m in product.modules}) == len(product.modules)
    assert all(p.city_code in data.suppliers[p.supplier].cities for p in data.projects)
    ranked = [s for s, _ in per_supplier.most_common()]
    teams_of = {s.index: s.teams for s in data.suppliers}
    top_teams = statistics.mean(teams_of[s] for s in ranked[:20])
    assert top_teams > statistics.mean(teams_of[s] for s in ranked[-100:]) + 1  # bigger suppliers, more teams
    kinds = Counter(s.kind.value for s in data.suppliers)
    assert kinds["carrier"] == 3
    assert kinds["platform"] >= 5


@pytest.mark.parametrize(("scale", "seed"), [(Scale.FULL, 1), (Scale.FULL, 2), (Scale.SMALL, 1)])
def test_money_is_decimal_with_fen_precision_and_vouchers_follow_the_rules(scale: Scale, seed: int) -> None:
    data = _data(scale, seed)
    for amount in _all_money(data):
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2
    for p in data.projects:
        assert Decimal(10_000) <= p.contract_amount <= Decimal(2_000_000)
        assert Decimal(0) < p.voucher_amount <= min(p.contract_amount, Decimal(200_000))
        if p.voucher_amount < Decimal(200_000):
            assert Decimal("0.199") <= p.voucher_amount / p.contract_amount <= Decimal("0.501")
        assert p.amount_paid <= p.contract_amount
    ratios = Counter((p.voucher_amount / p.contract_amount).quantize(Decimal("0.01")) for p in data.projects)
    assert ratios.most_common(1)[0][0] == Decimal("0.30")
    assert any(p.voucher_amount == Decimal(200_000) for p in data.projects) or data.scale == Scale.SMALL
    median = statistics.median(p.contract_amount for p in data.projects)
    assert Decimal(70_000) <= median <= Decimal(150_000)  # log-normal, median about 10万元


@pytest.mark.parametrize("scale", [Scale.FULL, Scale.SMALL])
def test_failures_are_sprinkled_but_rare(scale: Scale) -> None:
    data = _data(scale)
    n = len(data.projects)
    over = [p for p in data.projects if p.contract_amount > data.product_of(p).listed_price * Decimal("1.5")]
    no_logs = [p for p in data.projects if not p.has_usage_logs]
    underpaid = [p for p in data.projects if p.amount_paid < p.contract_amount * Decimal("0.9")]
    for failing in (over, no_logs, underpaid):
        assert 1 <= len(failing) <= 0.1 * n
    assert 0 < sum(p.is_key_project for p in data.projects) < 0.2 * n
    cluster = [p for p in data.projects if p.is_cluster]
    assert cluster
    assert {p.city_code for p in cluster} <= set(CLUSTER_CITIES)


def test_credit_codes_are_valid_and_unique() -> None:
    data = _full(1)
    codes = [s.credit_code for s in data.suppliers] + [e.credit_code for e in data.enterprises]
    assert all(is_valid(code) for code in codes)
    assert len(set(codes)) == len(codes)
    assert all(is_valid(e.employer_credit_code) for e in data.experts)
    assert all(e.credit_code[2:6] == e.city_code for e in data.enterprises)


def test_requests_come_in_early_2020_and_are_numbered_first_come_first_served() -> None:
    data = _full(1)
    for p in data.projects:
        assert p.redemption_requested_at.utcoffset() == dt.timedelta(hours=8)
        local = p.redemption_requested_at.astimezone(SHANGHAI)
        assert dt.date(2020, 1, 1) <= local.date() <= dt.date(2020, 3, 31)
        assert 8 <= local.hour < 18
        assert p.contract_date < local.date()
    dongguan = [p for p in data.projects if p.city_code == "4419"]
    assert [p.code for p in sorted(dongguan, key=lambda p: p.redemption_requested_at)] == [
        f"FWQ2019-4419-{n:04d}" for n in range(1, len(dongguan) + 1)
    ]
    assert len({p.code for p in data.projects}) == len(data.projects)


@pytest.mark.parametrize(("scale", "experts"), [(Scale.FULL, 60), (Scale.SMALL, 12)])
def test_experts_include_conflicts_and_every_role_has_a_demo_account(scale: Scale, experts: int) -> None:
    data = _data(scale)
    assert len(data.experts) == experts
    supplier_codes = {s.credit_code for s in data.suppliers}
    assert any(e.employer_credit_code in supplier_codes for e in data.experts)  # conflicts of interest
    assert any(e.employer_credit_code not in supplier_codes for e in data.experts)
    roles = {(u.role, u.city_code) for u in data.users}
    assert {
        (Role.PROVINCE_ADMIN, None),
        (Role.CITY_COORDINATOR, "4419"),
        (Role.CITY_COORDINATOR, "4406"),
        (Role.AUDITOR, None),
        (Role.AUDITOR, "4419"),
        (Role.ALLIANCE_STAFF, None),
    } <= roles
    linked = sorted(u.expert for u in data.users if u.role == Role.EXPERT and u.expert is not None)
    assert linked == list(range(experts))
    assert data.password == DEMO_PASSWORD


def test_small_scale_is_a_few_cities_with_about_150_projects() -> None:
    small = _data(Scale.SMALL)
    cities = {c.code: c.projects for c in small.cities if c.projects}
    assert 3 <= len(cities) <= 6
    assert {"4419", "4406"} <= set(cities)
    assert 120 <= len(small.projects) <= 180
    assert 15 <= len(small.suppliers) <= 40


async def _count(db: Database, model: type[object]) -> int:
    async with db.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_small_scale_loads_and_reads_back_exactly(db: Database, clock: FixedClock) -> None:
    small = _data(Scale.SMALL)
    async with transaction(db.factory) as session:
        load = await load_demo(session, small, now=clock.now(), actor=Actor.cli())
    assert load.counts["projects"] == len(small.projects)
    assert await _count(db, VoucherProject) == len(small.projects)
    assert await _count(db, Supplier) == len(small.suppliers)
    assert await _count(db, Enterprise) == len(small.enterprises)
    assert await _count(db, Product) == sum(len(s.products) for s in small.suppliers)
    assert await _count(db, ProductModule) == sum(len(p.modules) for s in small.suppliers for p in s.products)
    async with db.factory() as session:
        stored = {p.code: p for p in await session.scalars(select(VoucherProject))}
        experts = (await session.execute(select(Expert, User).join(User, Expert.user_id == User.id))).all()
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
        assert await verify_log(session) == []
    for p in small.projects:
        row = stored[p.code]
        assert (row.contract_amount, row.voucher_amount, row.amount_paid) == (
            p.contract_amount,
            p.voucher_amount,
            p.amount_paid,
        )
        assert row.redemption_requested_at == p.redemption_requested_at
        assert (row.is_cluster, row.has_usage_logs, row.city_code) == (
            p.is_cluster,
            p.has_usage_logs,
            p.city_code,
        )
    assert len(experts) == len(small.experts)
    assert all(user.role == Role.EXPERT and user.display_name == expert.name for expert, user in experts)
    assert actions[-1] == "demo.load"
    assert actions.count("user.create") == len(small.users)
    async with transaction(db.factory) as session:
        signed = await sign_in(session, "dg.coord", DEMO_PASSWORD, now=clock.now(), hours=1)
        expert = await sign_in(session, "expert01", DEMO_PASSWORD, now=clock.now(), hours=1)
    assert (signed.principal.role, signed.principal.city_code) == (Role.CITY_COORDINATOR, "4419")
    assert expert.principal.expert_id is not None


async def test_a_second_load_is_refused_and_changes_nothing(db: Database, clock: FixedClock) -> None:
    small = _data(Scale.SMALL)
    async with transaction(db.factory) as session:
        await load_demo(session, small, now=clock.now(), actor=Actor.cli())
    audit_before = await _count(db, AuditEntry)
    with pytest.raises(Conflict) as refused:
        async with transaction(db.factory) as session:
            await load_demo(session, generate(2, Scale.SMALL), now=clock.now(), actor=Actor.cli())
    assert refused.value.status == 409
    assert f"已有 {len(small.projects)} 个服务券项目" in refused.value.message.zh
    assert "already holds" in refused.value.message.en
    assert await _count(db, VoucherProject) == len(small.projects)
    assert await _count(db, Supplier) == len(small.suppliers)
    assert await _count(db, AuditEntry) == audit_before


def test_command_line_loads_prints_the_log_ins_then_refuses_a_second_time(tmp_path: Path) -> None:
    small = _data(Scale.SMALL)
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path)]
    assert runner.invoke(main, [*base, "db", "upgrade"]).exit_code == 0
    first = runner.invoke(main, [*base, "demo", "--seed", "1", "--scale", "small"])
    assert first.exit_code == 0, first.output
    for city in small.cities:
        if city.projects:
            assert f"{city.code} {city.name_zh}" in first.output
            assert f"{city.name_en:<12} {city.projects:>6}" in first.output
    for username in (
        "province.admin",
        "dg.coord",
        "gz.coord",
        "fs.coord",
        "province.auditor",
        "dg.auditor",
        "alliance",
    ):
        assert username in first.output
    # Guangzhou's campaign concluded: one carried over, both reports filed in the data folder
    assert "结转 carried over 1" in first.output
    assert "已备案报告 reports filed 2" in first.output
    assert DEMO_PASSWORD in first.output
    assert "http://127.0.0.1:8080/" in first.output
    second = runner.invoke(main, [*base, "demo", "--seed", "2", "--scale", "small"])
    assert second.exit_code == 2
    assert "already holds" in second.output
    quiet = runner.invoke(main, [*base, "demo", "--if-empty"])
    assert quiet.exit_code == 0
    assert "skipped" in quiet.output
