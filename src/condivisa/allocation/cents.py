"""Integer-cent arithmetic: rounding euro to cents and splitting cents by weights (largest remainder)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal


def eur_to_cents(amount_eur: float) -> int:
    """Round an amount in euro to whole cents, halves away from zero.

    The float is first rounded to 1e-6 € so that binary noise (0.105 stored as 0.10499999...) cannot flip a
    half-cent.
    """
    return int(Decimal(f"{amount_eur:.6f}").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


def split_cents(
    total_cents: int, weights: Mapping[str, float], *, order: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Split ``total_cents`` among keys in proportion to ``weights`` so that the parts add up exactly.

    Largest-remainder method (Hamilton): each key gets the floor of its exact quota, and the cents left over go
    one each to the largest fractional remainders; ties are broken by ``order`` (default: key, ascending).
    Quotas are computed with exact fractions, so the result does not depend on the order of ``weights``.

    Parameters
    ----------
    total_cents : int
        Amount to split [cent], >= 0.
    weights : mapping of str to float
        Non-negative weights with a positive sum.
    order : mapping of str to int, optional
        Tie-break rank of each key (lower wins).

    Raises
    ------
    ValueError
        Negative total or weight, or weights summing to zero.
    """
    if total_cents < 0:
        raise ValueError(f"importo negativo da ripartire: {total_cents} centesimi")
    # Exact integers instead of Fractions (same quotas, about ten times faster): every weight is n/d exactly
    # (a float's d is a power of two), so over the common denominator D the weights are the integers n*D/d, and
    # the quota of key k is total*W_k/S with S their sum: floor and remainder by integer division.
    ratios = {k: w.as_integer_ratio() for k, w in weights.items()}
    if any(n < 0 for n, _ in ratios.values()):
        raise ValueError("pesi negativi nella ripartizione")
    common = math.lcm(*(d for _, d in ratios.values())) if ratios else 1
    scaled = {k: n * (common // d) for k, (n, d) in ratios.items()}
    denom = sum(scaled.values())
    if denom == 0:
        raise ValueError("pesi tutti nulli: nulla su cui ripartire")
    floors: dict[str, int] = {}
    remainders: dict[str, int] = {}
    for k, w in scaled.items():
        floors[k], remainders[k] = divmod(total_cents * w, denom)
    left = total_cents - sum(floors.values())
    if left:
        rank = order or {}
        ranked = sorted(scaled, key=lambda k: (-remainders[k], rank.get(k, 0), k))
        for k in ranked[:left]:
            floors[k] += 1
    return floors
