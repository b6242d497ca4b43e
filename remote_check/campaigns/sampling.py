"""The reproducible sample draw (抽查名单): data in, dataclasses out, no I/O.

The algorithm (version :data:`ALGORITHM`), so that anyone can redo a draw by hand or in
another program and get the same list:

1. **Population.** The candidates are sorted by project id (ascending); ids are unique.
2. **Facts.** For every candidate: ``contract / listed price``; the median of the contract
   amounts of the *same supplier's other contracts for the same product* (the candidate itself
   excluded; the reference contracts are the candidates plus any extra contracts given, e.g. the
   supplier's contracts in other cities) and ``contract / that median`` when there are at least
   ``min_peers`` such contracts; ``paid / contract``. Ratios are shown rounded half-up to 4
   decimals; the comparisons below are exact (``contract > threshold * listed``); both as
   :mod:`remote_check.programme.pricing` does them everywhere.
3. **Target size.** Ratio mode: ``ceil(ratio * population)``, ``0 < ratio <= 1``. Count mode:
   ``count`` (at least 1), capped at the population.
4. **Forced strata** (always in, even beyond the target), in id order:
   ``price_over_listed`` (contract > ``price_over_listed`` x listed price, the notice's 大幅超出),
   ``price_over_peers`` (contract > ``price_over_peers`` x the peer median), ``underpaid``
   (paid < ``min_paid_ratio`` x contract), ``no_usage_logs``, ``recheck`` (under re-check).
5. **Random generator.** ``random.Random(n)`` of Python (Mersenne Twister), where ``n`` is the
   SHA-256 digest of the UTF-8 seed read as a big-endian integer. One generator serves steps 6
   and 7, in that order.
6. **Supplier coverage.** For each supplier with a candidate (ascending supplier id) and no
   project selected yet: ``rng.choice`` among its candidates in id order; reason
   ``supplier_coverage``. Also always in, even beyond the target.
7. **Random fill.** If fewer than the target are selected: ``rng.sample(rest, target - selected)``
   where ``rest`` is the unselected candidates in id order; reason ``random``.

Entries are listed in that order: strata (id order), coverage (supplier order), fill (draw order).
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from remote_check.errors import Message, invalid
from remote_check.programme.pricing import above, below, ratio

ALGORITHM = "rc-sample/1"


class Reason(enum.StrEnum):
    PRICE_OVER_LISTED = "price_over_listed"
    PRICE_OVER_PEERS = "price_over_peers"
    UNDERPAID = "underpaid"
    NO_USAGE_LOGS = "no_usage_logs"
    RECHECK = "recheck"
    SUPPLIER_COVERAGE = "supplier_coverage"
    RANDOM = "random"


REASON_LABELS: dict[Reason, Message] = {
    Reason.PRICE_OVER_LISTED: Message("合同价大幅超出产品定价", "Contract far above the listed price"),
    Reason.PRICE_OVER_PEERS: Message(
        "合同价大幅超出该服务商同类合同", "Contract far above the supplier's other contracts"
    ),
    Reason.UNDERPAID: Message("实际支付不足合同额90%", "Paid below 90% of the contract"),
    Reason.NO_USAGE_LOGS: Message("无使用日志", "No usage logs"),
    Reason.RECHECK: Message("重点核查项目", "Under re-check"),
    Reason.SUPPLIER_COVERAGE: Message("覆盖该服务商", "Covers its supplier"),
    Reason.RANDOM: Message("随机抽取", "Random draw"),
}


def reason_label(reason: str, lang: str) -> str:
    """The label of a stored reason in ``lang`` (the raw value if unknown)."""
    try:
        return REASON_LABELS[Reason(reason)].in_lang(lang)
    except ValueError:
        return reason


@dataclass(frozen=True)
class Candidate:
    """A project that may be drawn, with the facts the strata look at."""

    id: int
    supplier_id: int
    product_id: int
    contract_amount: Decimal
    listed_price: Decimal
    amount_paid: Decimal
    has_usage_logs: bool
    under_recheck: bool


@dataclass(frozen=True)
class Contract:
    """A reference contract for the peer median (a project of the same supplier and product)."""

    project_id: int
    supplier_id: int
    product_id: int
    amount: Decimal


@dataclass(frozen=True)
class Thresholds:
    """The strata's thresholds (from :class:`remote_check.settings.SamplingSettings`)."""

    price_over_listed: Decimal = Decimal("1.5")
    price_over_peers: Decimal = Decimal("1.5")
    min_paid_ratio: Decimal = Decimal("0.90")
    min_peers: int = 2

    def as_dict(self) -> dict[str, Any]:
        return {
            "price_over_listed": str(self.price_over_listed),
            "price_over_peers": str(self.price_over_peers),
            "min_paid_ratio": str(self.min_paid_ratio),
            "min_peers": self.min_peers,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Thresholds:
        return cls(
            price_over_listed=Decimal(str(data["price_over_listed"])),
            price_over_peers=Decimal(str(data["price_over_peers"])),
            min_paid_ratio=Decimal(str(data["min_paid_ratio"])),
            min_peers=int(data["min_peers"]),
        )


@dataclass(frozen=True)
class Target:
    """How many to draw: ``ratio`` of the population (rounded up) or a fixed ``count``."""

    ratio: Decimal | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if (self.ratio is None) == (self.count is None):
            raise invalid("请给出抽取比例或抽取数量之一", "Give either a ratio or a count", field="ratio")
        if self.ratio is not None and not Decimal(0) < self.ratio <= Decimal(1):
            raise invalid(
                "抽取比例须大于 0 且不超过 1", "The ratio must be above 0 and at most 1", field="ratio"
            )
        if self.count is not None and self.count < 1:
            raise invalid("抽取数量至少为 1", "The count must be at least 1", field="count")

    def size(self, population: int) -> int:
        if self.ratio is not None:
            return math.ceil(self.ratio * population)
        assert self.count is not None
        return min(self.count, population)


@dataclass(frozen=True)
class Entry:
    """A drawn project, why it is in the sample, and the facts behind the reasons."""

    project_id: int
    position: int
    reasons: tuple[str, ...]
    facts: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class DrawResult:
    population: int
    target: int
    forced: int  # strata and supplier coverage
    entries: tuple[Entry, ...]

    @property
    def exceeds_target(self) -> bool:
        """Whether the forced projects alone made the sample larger than the target."""
        return len(self.entries) > self.target

    @property
    def project_ids(self) -> list[int]:
        return [e.project_id for e in self.entries]


def rng_for(seed: str) -> random.Random:
    """The draw's generator: ``random.Random`` seeded with SHA-256(seed) as a big-endian integer."""
    return random.Random(int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest(), "big"))


def median(values: Sequence[Decimal]) -> Decimal:
    """The median (mean of the two middle values for an even count); ``values`` is not empty."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _ratio(numerator: Decimal, denominator: Decimal) -> str | None:
    shown = ratio(numerator, denominator)
    return None if shown is None else str(shown)


def _peer_amounts(
    candidates: Sequence[Candidate], contracts: Iterable[Contract]
) -> dict[tuple[int, int], dict[int, Decimal]]:
    by_pair: dict[tuple[int, int], dict[int, Decimal]] = defaultdict(dict)
    for contract in contracts:
        by_pair[(contract.supplier_id, contract.product_id)][contract.project_id] = contract.amount
    for c in candidates:
        by_pair[(c.supplier_id, c.product_id)][c.id] = c.contract_amount
    return by_pair


def assess(
    candidate: Candidate, peers: dict[int, Decimal], thresholds: Thresholds
) -> tuple[list[Reason], dict[str, Any]]:
    """The strata ``candidate`` falls in and the facts behind them (JSON-safe: numbers as strings)."""
    reasons: list[Reason] = []
    others = [amount for project_id, amount in peers.items() if project_id != candidate.id]
    peer_median = median(others) if len(others) >= thresholds.min_peers else None
    contract, listed, paid = candidate.contract_amount, candidate.listed_price, candidate.amount_paid
    if above(contract, listed, thresholds.price_over_listed):
        reasons.append(Reason.PRICE_OVER_LISTED)
    if peer_median is not None and above(contract, peer_median, thresholds.price_over_peers):
        reasons.append(Reason.PRICE_OVER_PEERS)
    if below(paid, contract, thresholds.min_paid_ratio):
        reasons.append(Reason.UNDERPAID)
    if not candidate.has_usage_logs:
        reasons.append(Reason.NO_USAGE_LOGS)
    if candidate.under_recheck:
        reasons.append(Reason.RECHECK)
    facts: dict[str, Any] = {
        "supplier_id": candidate.supplier_id,
        "product_id": candidate.product_id,
        "contract_amount": str(contract),
        "listed_price": str(listed),
        "ratio_to_listed": _ratio(contract, listed),
        "peer_count": len(others),
        "peer_median": None if peer_median is None else str(peer_median.quantize(Decimal("0.01"))),
        "ratio_to_peers": None if peer_median is None else _ratio(contract, peer_median),
        "amount_paid": str(paid),
        "paid_ratio": _ratio(paid, contract),
        "has_usage_logs": candidate.has_usage_logs,
        "under_recheck": candidate.under_recheck,
    }
    return reasons, facts


def draw_sample(
    candidates: Sequence[Candidate],
    *,
    seed: str,
    target: Target,
    thresholds: Thresholds,
    contracts: Sequence[Contract] = (),
) -> DrawResult:
    """Draw the sample as the module docstring describes; the same inputs give the same list."""
    if not seed:
        raise invalid("随机种子不能为空", "The seed may not be empty", field="seed")
    ordered = sorted(candidates, key=lambda c: c.id)
    if len({c.id for c in ordered}) != len(ordered):
        raise ValueError("candidate ids must be unique")
    size = target.size(len(ordered))
    peers = _peer_amounts(ordered, contracts)
    assessed = {c.id: assess(c, peers[(c.supplier_id, c.product_id)], thresholds) for c in ordered}

    picked: list[tuple[Candidate, list[str]]] = []
    chosen: set[int] = set()
    for c in ordered:
        strata = assessed[c.id][0]
        if strata:
            picked.append((c, [str(r) for r in strata]))
            chosen.add(c.id)

    rng = rng_for(seed)
    by_supplier: dict[int, list[Candidate]] = defaultdict(list)
    for c in ordered:
        by_supplier[c.supplier_id].append(c)
    covered = {c.supplier_id for c, _ in picked}
    for supplier_id in sorted(by_supplier):
        if supplier_id in covered:
            continue
        c = rng.choice(by_supplier[supplier_id])
        picked.append((c, [str(Reason.SUPPLIER_COVERAGE)]))
        chosen.add(c.id)
    forced = len(picked)

    missing = size - len(picked)
    if missing > 0:
        rest = [c for c in ordered if c.id not in chosen]
        for c in rng.sample(rest, missing):
            picked.append((c, [str(Reason.RANDOM)]))

    entries = tuple(
        Entry(project_id=c.id, position=i, reasons=tuple(reasons), facts=assessed[c.id][1])
        for i, (c, reasons) in enumerate(picked, start=1)
    )
    return DrawResult(population=len(ordered), target=size, forced=forced, entries=entries)


def candidate_to_json(c: Candidate) -> dict[str, Any]:
    """A candidate as stored in a draw's frozen inputs."""
    return {
        "id": c.id,
        "supplier_id": c.supplier_id,
        "product_id": c.product_id,
        "contract_amount": str(c.contract_amount),
        "listed_price": str(c.listed_price),
        "amount_paid": str(c.amount_paid),
        "has_usage_logs": c.has_usage_logs,
        "under_recheck": c.under_recheck,
    }


def candidate_from_json(data: dict[str, Any]) -> Candidate:
    return Candidate(
        id=int(data["id"]),
        supplier_id=int(data["supplier_id"]),
        product_id=int(data["product_id"]),
        contract_amount=Decimal(data["contract_amount"]),
        listed_price=Decimal(data["listed_price"]),
        amount_paid=Decimal(data["amount_paid"]),
        has_usage_logs=bool(data["has_usage_logs"]),
        under_recheck=bool(data["under_recheck"]),
    )


def contract_to_json(c: Contract) -> list[Any]:
    return [c.project_id, c.supplier_id, c.product_id, str(c.amount)]


def contract_from_json(data: Sequence[Any]) -> Contract:
    return Contract(int(data[0]), int(data[1]), int(data[2]), Decimal(str(data[3])))


def inputs_digest(inputs: dict[str, Any]) -> str:
    """SHA-256 of the frozen inputs in canonical JSON, to show that they were not changed."""
    text = json.dumps(inputs, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
