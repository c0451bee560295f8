"""Exact cents: largest remainder, ties by id, rounding of euro."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from condivisa.allocation import UNALLOCATED, Bases, apply_regulation, eur_to_cents, split_cents
from condivisa.model.community import RegulationRule

weights = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=4), st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=12
)


@given(st.integers(0, 10**9), weights)
def test_split_adds_up_and_is_fair(total: int, w: dict[str, float]) -> None:
    if sum(w.values()) <= 0:
        with pytest.raises(ValueError):
            split_cents(total, w)
        return
    parts = split_cents(total, w)
    assert sum(parts.values()) == total
    wsum = sum(w.values())
    for k, v in parts.items():
        assert v >= 0
        assert abs(v - total * w[k] / wsum) < 1 + 1e-6  # within one cent of the exact quota


@given(st.integers(0, 10**7), weights)
def test_split_does_not_depend_on_order(total: int, w: dict[str, float]) -> None:
    if sum(w.values()) <= 0:
        return
    assert split_cents(total, w) == split_cents(total, dict(reversed(list(w.items()))))


def _split_with_fractions(total: int, w: dict[str, float], order: dict[str, int]) -> dict[str, int]:
    """Largest remainder with exact Fractions, written from the definition (the oracle of the integer version)."""
    exact = {k: Fraction(v) for k, v in w.items()}
    denom = sum(exact.values(), Fraction(0))
    quotas = {k: total * v / denom for k, v in exact.items()}
    floors = {k: int(q) for k, q in quotas.items()}
    ranked = sorted(quotas, key=lambda k: (-(quotas[k] - floors[k]), order.get(k, 0), k))
    for k in ranked[: total - sum(floors.values())]:
        floors[k] += 1
    return floors


@given(
    st.integers(0, 10**9),
    weights,
    st.dictionaries(st.text("abcdefgh", min_size=1, max_size=4), st.integers(-3, 3)),
)
def test_split_equals_exact_fractions(total: int, w: dict[str, float], order: dict[str, int]) -> None:
    if sum(w.values()) <= 0:
        return
    assert split_cents(total, w, order=order) == _split_with_fractions(total, w, order)


def test_split_takes_integer_weights_and_refuses_nan() -> None:
    assert split_cents(10, {"a": 1, "b": 3}) == {"a": 3, "b": 7}  # 2.5 and 7.5: the tie goes to "a"
    assert split_cents(1, {"a": 1e-300, "b": 3e-300}) == {"a": 0, "b": 1}
    with pytest.raises(ValueError):
        split_cents(10, {"a": float("nan"), "b": 1.0})
    with pytest.raises(ValueError):
        split_cents(10, {"a": -1.0, "b": 1.0})


def test_ties_go_to_the_smallest_id() -> None:
    assert split_cents(2, {"b": 1.0, "a": 1.0, "c": 1.0}) == {"b": 1, "a": 1, "c": 0}
    assert split_cents(100, {"x": 1.0, "y": 2.0}) == {"x": 33, "y": 67}


@pytest.mark.parametrize(("eur", "cents"), [(0.105, 11), (0.104999, 10), (1234.565, 123457), (0.0, 0)])
def test_eur_to_cents_rounds_half_up(eur: float, cents: int) -> None:
    assert eur_to_cents(eur) == cents


def rules(*items: tuple) -> list[RegulationRule]:
    return [RegulationRule(to=t, share=s, by=b) for t, s, b in items]


def test_regulation_splits_by_bases() -> None:
    bases = Bases(
        producers={"p": {"incentivised_injection": 10.0, "injected": 20.0}},
        consumers={
            "a": {"shared_withdrawal": 1.0, "withdrawn": 1.0},
            "b": {"shared_withdrawal": 3.0, "withdrawn": 1.0},
        },
    )
    alloc = apply_regulation(
        10000,
        rules(
            ("fund:social", 0.1, None),
            ("producers", 0.3, "incentivised_injection"),
            ("consumers", 0.6, "shared_withdrawal"),
        ),
        bases,
    )
    assert alloc.by_recipient() == {"fund:social": 1000, "p": 3000, "a": 1500, "b": 4500}
    equal = apply_regulation(101, rules(("consumers", 1.0, "equal")), bases)
    assert equal.by_recipient() == {"a": 51, "b": 50}


def test_nothing_to_split_on_is_reported_not_lost() -> None:
    bases = Bases(producers={}, consumers={"a": {"shared_withdrawal": 0.0, "withdrawn": 0.0}})
    alloc = apply_regulation(500, rules(("producers", 0.5, "injected"), ("consumers", 0.5, "shared_withdrawal")), bases)
    assert alloc.by_recipient() == {UNALLOCATED: 250, "a": 250}
    assert len(alloc.warnings) == 2


def test_excess_goes_first_to_non_business_consumers() -> None:
    bases = Bases(
        producers={},
        consumers={
            "h": {"shared_withdrawal": 1.0, "withdrawn": 1.0},
            "biz": {"shared_withdrawal": 1.0, "withdrawn": 1.0},
        },
        non_business=frozenset({"h"}),
    )
    alloc = apply_regulation(
        1000, rules(("consumers", 1.0, "shared_withdrawal")), bases, excess_cents=200, excess_to="consumers"
    )
    assert alloc.by_recipient() == {"h": 200 + 400, "biz": 400}
