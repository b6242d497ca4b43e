"""The allocation of a period's budget (pure): properties with hypothesis and a worked example."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remote_check.funding.allocation import (
    ZERO,
    Allocation,
    AllocationReason,
    Budget,
    Candidate,
    allocate,
    order_key,
)
from remote_check.programme.models import ProjectStatus as S

T0 = dt.datetime(2020, 1, 6, 9, 0, tzinfo=dt.UTC)

money = st.decimals(min_value=0, max_value=500_000, places=2, allow_nan=False, allow_infinity=False)
caps = st.none() | st.decimals(min_value=0, max_value=800_000, places=2)


@st.composite
def candidates(draw: st.DrawFn) -> list[Candidate]:
    n = draw(st.integers(min_value=0, max_value=25))
    out = []
    for i in range(n):
        out.append(
            Candidate(
                project_id=i + 1,
                code=f"P{draw(st.integers(0, 30)):03d}",  # equal codes happen
                enterprise_id=draw(st.integers(1, 5)),
                supplier_id=draw(st.integers(1, 4)),
                due=draw(money),
                redemption_requested_at=T0 + dt.timedelta(hours=draw(st.integers(0, 50))),
                status=draw(
                    st.sampled_from([S.QUALIFIED, S.QUALIFIED, S.CARRIED_OVER, S.UNQUALIFIED, S.VIOLATION])
                ),
                is_key=draw(st.booleans()),
                under_recheck=draw(st.booleans()) and draw(st.booleans()),
                enterprise_barred=draw(st.integers(0, 9)) == 0,
                supplier_barred=draw(st.integers(0, 9)) == 0,
            )
        )
    return out


@st.composite
def budgets(draw: st.DrawFn) -> Budget:
    return Budget(
        amount=draw(st.decimals(min_value=0, max_value=3_000_000, places=2)),
        enterprise_cap=draw(caps),
        supplier_cap=draw(caps),
        supplier_caps=draw(st.dictionaries(st.integers(1, 4), st.decimals(min_value=0, max_value=900_000))),
        paid_to_enterprise=draw(st.dictionaries(st.integers(1, 5), money)),
        paid_to_supplier=draw(st.dictionaries(st.integers(1, 4), money)),
        fill_gaps=draw(st.booleans()),
    )


def _check_limits(budget: Budget, plan: Allocation) -> None:
    assert plan.funded <= budget.amount
    assert plan.remaining >= ZERO
    enterprises: dict[int, Decimal] = dict(budget.paid_to_enterprise)
    suppliers: dict[int, Decimal] = dict(budget.paid_to_supplier)
    for line in plan.lines:
        if line.funded:
            e, s = line.candidate.enterprise_id, line.candidate.supplier_id
            enterprises[e] = enterprises.get(e, ZERO) + line.funded
            suppliers[s] = suppliers.get(s, ZERO) + line.funded
            if budget.enterprise_cap is not None:
                assert enterprises[e] <= budget.enterprise_cap
            cap = budget.cap_of_supplier(s)
            if cap is not None:
                assert suppliers[s] <= cap


@settings(max_examples=300, deadline=None, database=None)
@given(budgets(), candidates())
def test_never_above_the_budget_or_a_cap(budget: Budget, given_: list[Candidate]) -> None:
    _check_limits(budget, allocate(budget, given_))


@settings(max_examples=300, deadline=None, database=None)
@given(budgets(), candidates())
def test_never_funds_a_barred_or_unqualified_project(budget: Budget, given_: list[Candidate]) -> None:
    plan = allocate(budget, given_)
    assert len(plan.lines) == len(given_)
    for line in plan.lines:
        c = line.candidate
        assert line.funded in (ZERO, c.due)  # whole or nothing
        if line.funded:
            assert line.reason is AllocationReason.FUNDED
            assert c.status in (S.QUALIFIED, S.CARRIED_OVER)
            assert not c.enterprise_barred
            assert not c.supplier_barred
            assert not c.under_recheck
        if c.status not in (S.QUALIFIED, S.CARRIED_OVER):
            assert line.reason is AllocationReason.NOT_QUALIFIED


@settings(max_examples=200, deadline=None, database=None)
@given(budgets(), candidates(), st.randoms(use_true_random=False))
def test_same_input_same_output_whatever_the_order(
    budget: Budget, given_: list[Candidate], shuffler: random.Random
) -> None:
    first = allocate(budget, given_)
    shuffled = list(given_)
    shuffler.shuffle(shuffled)
    assert allocate(budget, shuffled) == first


@settings(max_examples=300, deadline=None, database=None)
@given(budgets(), candidates())
def test_order_respected(budget: Budget, given_: list[Candidate]) -> None:
    plan = allocate(budget, given_)
    keys = [order_key(line.candidate) for line in plan.lines]
    assert keys == sorted(keys)
    assert [line.position for line in plan.lines] == list(range(1, len(plan.lines) + 1))
    carried = [i for i, line in enumerate(plan.lines) if line.reason is AllocationReason.BUDGET_EXHAUSTED]
    if not carried:
        return
    first = carried[0]
    # What was left when the first project was carried over could not pay it.
    paid_before = sum((line.funded for line in plan.lines[:first]), ZERO)
    assert plan.lines[first].candidate.due > budget.amount - paid_before
    if not budget.fill_gaps:  # 先到先得: nobody after it is paid
        assert all(not line.funded for line in plan.lines[first:])
    else:  # a later project is paid only from what the earlier ones could not use
        for i in carried:
            left = budget.amount - sum((line.funded for line in plan.lines[:i]), ZERO)
            assert plan.lines[i].candidate.due > left


def _project(pid: int, code: str, day: int, due: str, *, e: int = 0, s: int = 1, **kw: object) -> Candidate:
    return Candidate(
        project_id=pid,
        code=code,
        enterprise_id=e or pid,
        supplier_id=s,
        due=Decimal(due),
        redemption_requested_at=T0 + dt.timedelta(days=day),
        **kw,  # type: ignore[arg-type]
    )


def test_worked_example_of_the_notice() -> None:
    """A city has ¥100,000 this period and caps of ¥40,000 per enterprise, ¥60,000 per supplier.

    Carried over from the last period first (下一结算期予以优先拨付), then key projects (保障重点项目),
    then by request time (先到先得); the violation and the barred supplier's project are never paid;
    the first project the money cannot pay is carried over, and so is everyone after it.
    """
    budget = Budget(Decimal("100000"), enterprise_cap=Decimal("40000"), supplier_cap=Decimal("60000"))
    given_ = [
        _project(1, "GZ-001", 1, "30000", s=1),  # earliest plain request
        _project(2, "GZ-002", 5, "20000", s=2, is_key=True),  # key: before the earlier plain ones
        _project(3, "GZ-003", 9, "25000", s=2, status=S.CARRIED_OVER),  # first of all
        _project(4, "GZ-004", 2, "10000", s=1, status=S.VIOLATION),  # never
        _project(5, "GZ-005", 3, "15000", s=3, supplier_barred=True),  # barred supplier
        _project(6, "GZ-006", 4, "20000", s=2),  # supplier 2 would reach 65,000 > 60,000
        _project(7, "GZ-007", 6, "30000", s=3),  # 25+20+30 = 75,000; 30,000 > 25,000 left
        _project(8, "GZ-008", 7, "5000", s=4),  # would fit, but comes after 7 (先到先得)
        _project(9, "GZ-009", 8, "45000", s=4),  # one enterprise cannot get 45,000
    ]
    plan = allocate(budget, given_)
    assert [(line.candidate.code, line.reason, line.funded) for line in plan.lines] == [
        ("GZ-003", AllocationReason.FUNDED, Decimal("25000")),
        ("GZ-002", AllocationReason.FUNDED, Decimal("20000")),
        ("GZ-001", AllocationReason.FUNDED, Decimal("30000")),
        ("GZ-004", AllocationReason.NOT_QUALIFIED, ZERO),
        ("GZ-005", AllocationReason.SUPPLIER_BARRED, ZERO),
        ("GZ-006", AllocationReason.SUPPLIER_CAP, ZERO),
        ("GZ-007", AllocationReason.BUDGET_EXHAUSTED, ZERO),
        ("GZ-008", AllocationReason.BUDGET_EXHAUSTED, ZERO),
        ("GZ-009", AllocationReason.ENTERPRISE_CAP, ZERO),
    ]
    assert (plan.funded, plan.carried_over, plan.remaining) == (
        Decimal("75000"),
        Decimal("35000"),
        Decimal("25000"),
    )
    # A city that fills the gaps pays GZ-008 from what is left.
    gaps = allocate(Budget(**{**budget.__dict__, "fill_gaps": True}), given_)
    assert [line.reason for line in gaps.lines][6:8] == [
        AllocationReason.BUDGET_EXHAUSTED,
        AllocationReason.FUNDED,
    ]
    assert gaps.remaining == Decimal("20000")


def test_a_supplier_cap_of_its_own_overrides_the_default_and_earlier_payments_count() -> None:
    given_ = [_project(1, "A", 1, "30000", s=7), _project(2, "B", 2, "30000", s=8)]
    budget = Budget(
        Decimal("1000000"),
        supplier_cap=Decimal("50000"),
        supplier_caps={7: Decimal("20000")},
        paid_to_supplier={8: Decimal("25000")},
    )
    assert [line.reason for line in allocate(budget, given_).lines] == [
        AllocationReason.SUPPLIER_CAP,
        AllocationReason.SUPPLIER_CAP,
    ]


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        allocate(Budget(Decimal("-1")), [])
