"""The pure sample draw: reproducible, strata always in, every supplier covered, the target respected."""

from __future__ import annotations

from decimal import Decimal

import pytest

from remote_check.campaigns.sampling import (
    Candidate,
    Contract,
    Reason,
    Target,
    Thresholds,
    draw_sample,
    median,
    rng_for,
)
from remote_check.errors import DomainError

T = Thresholds()


def cand(
    pid: int,
    supplier: int = 1,
    *,
    contract: str = "100000",
    listed: str = "100000",
    paid: str | None = None,
    logs: bool = True,
    recheck: bool = False,
    product: int | None = None,
) -> Candidate:
    return Candidate(
        id=pid,
        supplier_id=supplier,
        product_id=product if product is not None else supplier * 10,
        contract_amount=Decimal(contract),
        listed_price=Decimal(listed),
        amount_paid=Decimal(paid if paid is not None else contract),
        has_usage_logs=logs,
        under_recheck=recheck,
    )


def plain(n: int, suppliers: int = 1) -> list[Candidate]:
    """``n`` unremarkable candidates spread over ``suppliers`` suppliers."""
    return [cand(i, supplier=(i % suppliers) + 1) for i in range(1, n + 1)]


def test_same_seed_same_list_whatever_the_input_order() -> None:
    population = plain(200, suppliers=5)
    first = draw_sample(population, seed="dg-2019", target=Target(ratio=Decimal("0.2")), thresholds=T)
    again = draw_sample(
        list(reversed(population)), seed="dg-2019", target=Target(ratio=Decimal("0.2")), thresholds=T
    )
    assert first.entries == again.entries
    other = draw_sample(population, seed="dg-2019b", target=Target(ratio=Decimal("0.2")), thresholds=T)
    assert other.project_ids != first.project_ids


def test_the_documented_algorithm_can_be_redone_by_hand() -> None:
    population = plain(30, suppliers=1)
    result = draw_sample(population, seed="abc", target=Target(count=4), thresholds=T)
    rng = rng_for("abc")
    covering = rng.choice(population)
    rest = [c for c in population if c.id != covering.id]
    fill = rng.sample(rest, 3)
    assert result.project_ids == [covering.id] + [c.id for c in fill]
    assert [e.reasons for e in result.entries] == [("supplier_coverage",)] + [("random",)] * 3


def test_ratio_is_rounded_up_and_count_is_exact() -> None:
    population = plain(41, suppliers=2)
    by_ratio = draw_sample(population, seed="s", target=Target(ratio=Decimal("0.1")), thresholds=T)
    assert by_ratio.target == 5
    assert len(by_ratio.entries) == 5
    by_count = draw_sample(population, seed="s", target=Target(count=7), thresholds=T)
    assert len(by_count.entries) == 7
    assert len(set(by_count.project_ids)) == 7


def test_count_above_the_population_takes_everyone() -> None:
    result = draw_sample(plain(6, suppliers=2), seed="s", target=Target(count=30), thresholds=T)
    assert result.target == 6
    assert sorted(result.project_ids) == [1, 2, 3, 4, 5, 6]


def test_every_stratum_is_forced_in_with_its_facts() -> None:
    population = [
        *plain(50, suppliers=1),
        cand(101, contract="160000", listed="100000"),  # 1.6 x listed
        cand(102, contract="100000", paid="89999.99"),  # paid below 90%
        cand(103, logs=False),
        cand(104, recheck=True),
    ]
    result = draw_sample(population, seed="x", target=Target(count=1), thresholds=T)
    by_id = {e.project_id: e for e in result.entries}
    assert by_id[101].reasons == (Reason.PRICE_OVER_LISTED, Reason.PRICE_OVER_PEERS)
    assert by_id[101].facts["ratio_to_listed"] == "1.6000"
    assert by_id[101].facts["ratio_to_peers"] == "1.6000"
    assert by_id[102].reasons == (Reason.UNDERPAID,)
    assert by_id[102].facts["paid_ratio"] == "0.9000"  # 0.89999 shown rounded, compared exactly
    assert by_id[103].reasons == (Reason.NO_USAGE_LOGS,)
    assert by_id[104].reasons == (Reason.RECHECK,)
    assert len(result.entries) == 4
    assert result.exceeds_target
    assert result.forced == 4


def test_exactly_at_the_thresholds_is_not_forced() -> None:
    population = [cand(1, contract="150000", listed="100000"), cand(2, contract="100000", paid="90000")]
    result = draw_sample(population, seed="x", target=Target(count=1), thresholds=T)
    assert result.entries[0].reasons == (Reason.SUPPLIER_COVERAGE,)
    assert len(result.entries) == 1


def test_price_far_above_the_suppliers_other_contracts() -> None:
    # Listed price is low for everyone (a per-unit price), so only the peer comparison tells.
    population = [cand(i, contract="50000", listed="40000") for i in range(1, 6)]
    population.append(cand(6, contract="90000", listed="80000"))
    result = draw_sample(population, seed="p", target=Target(count=1), thresholds=T)
    first = result.entries[0]
    assert first.project_id == 6
    assert first.reasons == (Reason.PRICE_OVER_PEERS,)
    assert first.facts["peer_median"] == "50000.00"
    assert first.facts["peer_count"] == 5
    assert first.facts["ratio_to_peers"] == "1.8000"


def test_peer_median_uses_contracts_from_elsewhere_but_needs_enough_of_them() -> None:
    alone = [cand(1, contract="90000", listed="80000")]
    few = draw_sample(
        alone,
        seed="p",
        target=Target(count=1),
        thresholds=T,
        contracts=[Contract(900, 1, 10, Decimal("10000"))],
    )
    assert few.entries[0].reasons == (Reason.SUPPLIER_COVERAGE,)
    assert few.entries[0].facts["peer_median"] is None
    elsewhere = [Contract(900 + i, 1, 10, Decimal("40000")) for i in range(3)]
    enough = draw_sample(alone, seed="p", target=Target(count=1), thresholds=T, contracts=elsewhere)
    assert enough.entries[0].reasons == (Reason.PRICE_OVER_PEERS,)
    other_product = [Contract(900 + i, 1, 11, Decimal("40000")) for i in range(3)]
    unrelated = draw_sample(alone, seed="p", target=Target(count=1), thresholds=T, contracts=other_product)
    assert unrelated.entries[0].facts["peer_count"] == 0


def test_every_supplier_in_the_city_gets_at_least_one_project() -> None:
    population = plain(100, suppliers=1) + [cand(200 + s, supplier=s) for s in range(2, 9)]
    result = draw_sample(population, seed="cov", target=Target(count=3), thresholds=T)
    suppliers = {c.id: c.supplier_id for c in population}
    assert {suppliers[i] for i in result.project_ids} == set(range(1, 9))
    assert len(result.entries) == 8  # coverage beats the target of 3
    assert result.exceeds_target
    assert all(e.reasons == (Reason.SUPPLIER_COVERAGE,) for e in result.entries)


def test_a_supplier_already_in_by_a_stratum_is_not_covered_twice() -> None:
    population = [cand(1, logs=False), cand(2), cand(3), cand(4, supplier=2)]
    result = draw_sample(population, seed="k", target=Target(count=2), thresholds=T)
    assert result.project_ids[0] == 1
    assert result.entries[1].project_id == 4
    assert result.entries[1].reasons == (Reason.SUPPLIER_COVERAGE,)
    assert len(result.entries) == 2


def test_random_fill_never_repeats_a_forced_project() -> None:
    population = [cand(i, logs=i % 3 != 0) for i in range(1, 31)]
    result = draw_sample(population, seed="r", target=Target(ratio=Decimal("1")), thresholds=T)
    assert sorted(result.project_ids) == list(range(1, 31))
    assert [e.position for e in result.entries] == list(range(1, 31))


def test_empty_population_draws_nothing() -> None:
    result = draw_sample([], seed="e", target=Target(ratio=Decimal("0.2")), thresholds=T)
    assert result.entries == ()
    assert result.target == 0
    assert result.population == 0


@pytest.mark.parametrize(
    ("ratio", "count", "field"),
    [
        (Decimal("1.01"), None, "ratio"),
        (Decimal(0), None, "ratio"),
        (None, 0, "count"),
        (None, None, "ratio"),
    ],
)
def test_bad_targets_are_refused(ratio: Decimal | None, count: int | None, field: str) -> None:
    with pytest.raises(DomainError) as caught:
        Target(ratio=ratio, count=count)
    assert caught.value.status == 422
    assert caught.value.details == [{"field": field}]


def test_both_ratio_and_count_is_refused() -> None:
    with pytest.raises(DomainError):
        Target(ratio=Decimal("0.2"), count=3)


def test_empty_seed_and_duplicate_ids_are_refused() -> None:
    with pytest.raises(DomainError):
        draw_sample(plain(3), seed="", target=Target(count=1), thresholds=T)
    with pytest.raises(ValueError, match="unique"):
        draw_sample([cand(1), cand(1)], seed="s", target=Target(count=1), thresholds=T)


def test_median() -> None:
    assert median([Decimal(3), Decimal(1), Decimal(2)]) == 2
    assert median([Decimal(4), Decimal(1), Decimal(2), Decimal(3)]) == Decimal("2.5")


def test_thresholds_round_trip() -> None:
    custom = Thresholds(Decimal("2"), Decimal("1.8"), Decimal("0.95"), 3)
    assert Thresholds.from_dict(custom.as_dict()) == custom
