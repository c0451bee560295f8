"""Integer-cent arithmetic: rounding euro to cents and splitting cents by weights (largest remainder)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


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
    exact = {k: Fraction(w) for k, w in weights.items()}
    if any(w < 0 for w in exact.values()):
        raise ValueError("pesi negativi nella ripartizione")
    denom = sum(exact.values(), Fraction(0))
    if denom == 0:
        raise ValueError("pesi tutti nulli: nulla su cui ripartire")
    quotas = {k: total_cents * w / denom for k, w in exact.items()}
    floors = {k: int(q) for k, q in quotas.items()}
    left = total_cents - sum(floors.values())
    rank = order or {}
    ranked = sorted(quotas, key=lambda k: (-(quotas[k] - floors[k]), rank.get(k, 0), k))
    for k in ranked[:left]:
        floors[k] += 1
    return floors
