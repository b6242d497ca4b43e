"""Ratios of money amounts, one rule for all: contract / listed price, contract / peer median,
paid / contract (pure).

**Shown ratios** (the project API and page, a draw's recorded facts, the checklist's guidance)
are the exact quotient rounded once, half-up, to 4 decimals (:data:`RATIO_PLACES`); none when
the denominator is not positive. A percentage is that same ratio times 100 (two decimals, no
second rounding): 0.89996 is shown as 0.9000 and 90.00 %.

**Decisions** (above the listed price, above the peers, underpaid) never use a shown ratio:
they compare the amounts exactly, ``amount > factor * base``, so a ratio shown as 1.5000 may
still be above a limit of 1.5.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

RATIO_PLACES = Decimal("0.0001")
PERCENT_PLACES = Decimal("0.01")


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """``numerator / denominator`` rounded half-up to 4 decimals; None if ``denominator <= 0``."""
    if denominator <= 0:
        return None
    return (numerator / denominator).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def percent(shown: Decimal) -> Decimal:
    """A ratio from :func:`ratio` as a percentage (exact: two decimals)."""
    return (shown * 100).quantize(PERCENT_PLACES)


def above(amount: Decimal, base: Decimal, factor: Decimal) -> bool:
    """``amount > factor * base``, exactly; never when ``base <= 0`` (no price to compare with)."""
    return base > 0 and amount > factor * base


def below(amount: Decimal, base: Decimal, factor: Decimal) -> bool:
    """``amount < factor * base``, exactly (paid less than the required share of the contract)."""
    return amount < factor * base
