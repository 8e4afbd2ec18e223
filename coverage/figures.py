"""Arithmetic of coverage figures: percentages and gaps from integer counts, rounded half up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def coverage_pct(protected: int, total: int) -> Decimal | None:
    """protected / total as a percentage with 2 decimals, rounded half up; None when total is 0."""
    if total <= 0:
        return None
    return (Decimal(protected) * 100 / Decimal(total)).quantize(CENT, rounding=ROUND_HALF_UP)


def change_points(protected: int, total: int, earlier_protected: int, earlier_total: int) -> Decimal | None:
    """The change of coverage in percentage points, from the exact fractions, rounded half up."""
    if total <= 0 or earlier_total <= 0:
        return None
    exact = Decimal(protected) * 100 / Decimal(total) - Decimal(earlier_protected) * 100 / Decimal(earlier_total)
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def gap_to_target(target_pct: Decimal | None, total: int, protected: int) -> int | None:
    """Workers still needed: round_half_up(target% x total) - protected, not below 0."""
    if target_pct is None:
        return None
    needed = (Decimal(target_pct) * Decimal(total) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(0, int(needed) - protected)
