"""Money as people read it: yuan with a thousands separator and two decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


def format_money(value: Decimal | None) -> str:
    """``Decimal("3000000")`` -> ``¥3,000,000.00``; the one way pages and exports show an amount."""
    if value is None:
        return ""
    amount = value.quantize(FEN, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"
