"""Contribution-based sharing: games, Shapley values, nucleolus, candidate regulations.

Expected values are computed independently: by hand, by brute force over all orders of the players, or by settling
the sub-community of a coalition with the engine's own ``settle``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from condivisa.engine import settle
from condivisa.engine.settle import Settlement
from condivisa.engine.timegrid import Period
from condivisa.ingest.prices import Prices
from condivisa.ingest.readings import Readings
from condivisa.model import Community, RegulationRule
from condivisa.planning.sharing_rules import (
    EXACT_SHAPLEY_MAX_PLAYERS,
    NUCLEOLUS_MAX_PLAYERS,
    TOTAL_ROW,
    Candidate,
    CommunityGame,
    TabularGame,
    coalition_value,
    compare_rules,
    game_from_settlement,
    least_core,
    nucleolus,
    regulation_from_weights,
    shapley_exact,
    shapley_monte_carlo,
)
from tests.helpers import START, community, member, plant, pod, readings

A, B = "AC001E00001", "AC001E00002"
DAY = Period(pd.Timestamp("2025-06-01").date(), pd.Timestamp("2025-06-01").date())
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def prices(values: np.ndarray | float, hours: int = 24) -> Prices:
    times = pd.date_range(START, periods=hours, freq="h")
    return Prices(pd.DataFrame({"timestamp": times, "zone": "NORD", "price_eur_mwh": values}), source="test")


def brute_force_shapley(players: list[str], v: dict[frozenset[str], float]) -> dict[str, float]:
    """Average marginal contribution over every order of the players (n! orders)."""
    total = dict.fromkeys(players, 0.0)
    orders = list(itertools.permutations(players))
    for order in orders:
        before: frozenset[str] = frozenset()
        for p in order:
            total[p] += v.get(before | {p}, 0.0) - v.get(before, 0.0)
            before = before | {p}
    return {p: t / len(orders) for p, t in total.items()}


def all_coalitions(players: list[str]) -> list[frozenset[str]]:
    return [frozenset(c) for r in range(1, len(players) + 1) for c in itertools.combinations(players, r)]


# Hand example and axioms ------------------------------------------------------------------------------------------

HAND = {
    ("a",): 10.0,
    ("b",): 20.0,
    ("c",): 30.0,
    ("a", "b"): 50.0,
    ("a", "c"): 60.0,
    ("b", "c"): 70.0,
    ("a", "b", "c"): 120.0,
}


def test_shapley_of_a_hand_example() -> None:
    # phi_a = v(a)/3 + (v(ab) - v(b))/6 + (v(ac) - v(c))/6 + (v(abc) - v(bc))/3 = 10/3 + 5 + 5 + 50/3 = 30
    # phi_b = 20/3 + 40/6 + 40/6 + 60/3 = 40; phi_c = 30/3 + 50/6 + 50/6 + 70/3 = 50
    phi = shapley_exact(TabularGame.from_values(["a", "b", "c"], HAND))
    assert phi.value == pytest.approx([30.0, 40.0, 50.0], abs=1e-12)
    assert phi.value.sum() == pytest.approx(120.0, abs=1e-12)  # efficiency
    assert phi.grand_value == 120.0
    assert phi.permutations is None
    assert np.all(phi.standard_error == 0.0)
    assert phi.as_dict() == pytest.approx({"a": 30.0, "b": 40.0, "c": 50.0})
    assert coalition_value(TabularGame.from_values(["a", "b", "c"], HAND), {"c", "b"}) == 70.0


def test_symmetric_players_get_equal_values_and_a_null_player_gets_nothing() -> None:
    # a and b are interchangeable; z adds nothing to any coalition.
    base = {("a",): 5.0, ("b",): 5.0, ("c",): 1.0, ("a", "b"): 12.0, ("a", "c"): 9.0, ("b", "c"): 9.0}
    base[("a", "b", "c")] = 20.0
    with_null = {**base, **{(*k, "z"): v for k, v in base.items()}}
    phi = shapley_exact(TabularGame.from_values(["a", "b", "c", "z"], with_null)).as_dict()
    assert phi["a"] == pytest.approx(phi["b"], abs=1e-12)
    assert phi["z"] == pytest.approx(0.0, abs=1e-12)
    # Removing the null player changes nobody's value.
    without = shapley_exact(TabularGame.from_values(["a", "b", "c"], base)).as_dict()
    assert [phi[p] for p in "abc"] == pytest.approx([without[p] for p in "abc"], abs=1e-12)
    assert sum(phi.values()) == pytest.approx(20.0, abs=1e-12)


@st.composite
def tabular_games(draw: st.DrawFn, min_players: int = 2, max_players: int = 5) -> tuple[list[str], dict[Any, float]]:
    n = draw(st.integers(min_players, max_players))
    players = [f"p{i}" for i in range(n)]
    worth = st.floats(-50, 200, allow_nan=False, allow_infinity=False)
    return players, {c: draw(worth) for c in all_coalitions(players)}


@settings(max_examples=40, deadline=None)
@given(tabular_games())
def test_exact_shapley_equals_the_average_over_all_orders(game: tuple[list[str], dict[Any, float]]) -> None:
    players, v = game
    phi = shapley_exact(TabularGame.from_values(players, v)).as_dict()
    expected = brute_force_shapley(players, v)
    assert phi == pytest.approx(expected, abs=1e-9)
    assert sum(phi.values()) == pytest.approx(v[frozenset(players)], abs=1e-9)


def test_exact_shapley_refuses_too_many_players() -> None:
    n = EXACT_SHAPLEY_MAX_PLAYERS + 1
    game = TabularGame(tuple(f"p{i}" for i in range(n)), np.zeros(1 << n))
    with pytest.raises(ValueError, match="shapley_monte_carlo"):
        shapley_exact(game)


def test_tabular_game_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown players"):
        TabularGame.from_values(["a"], {("x",): 1.0})
    with pytest.raises(ValueError, match="empty coalition"):
        TabularGame.from_values(["a"], {(): 1.0})
    with pytest.raises(ValueError, match="twice"):
        TabularGame.from_values(["a", "b"], {("a", "b"): 1.0, ("b", "a"): 2.0})


# The community game from arrays -----------------------------------------------------------------------------------


def two_member_game(owner: int) -> CommunityGame:
    # a withdraws [3, 1], b [2, 2] kWh; one plant injects [4, 4] kWh at 100 €/MWh TIP, CU_Af 10 €/MWh.
    return CommunityGame(
        members=("a", "b"),
        withdrawn=np.array([[3.0, 1.0], [2.0, 2.0]]),
        injected=np.array([[4.0, 4.0]]),
        plant_owner=np.array([owner]),
        tip_rate_eur_mwh=np.full((1, 2), 100.0),
        cu_af_eur_mwh=np.full(2, 10.0),
    )


def test_community_game_by_hand() -> None:
    # Plant owned by a: v(a) = (3 + 1) kWh x 110 €/MWh, v(b) = 0 (no plant), v(ab) = (4 + 3) x 110.
    game = two_member_game(owner=0)
    v = game.values(np.array([[False, False], [True, False], [False, True], [True, True]]))
    assert v == pytest.approx([0.0, 0.44, 0.0, 0.77], abs=1e-12)
    phi = shapley_exact(game).as_dict()
    assert phi == pytest.approx({"a": 0.44 / 2 + 0.77 / 2, "b": (0.77 - 0.44) / 2}, abs=1e-12)
    # A third party's plant is always there: now b alone shares 2 + 2 kWh.
    third = two_member_game(owner=-1)
    assert coalition_value(third, {"b"}) == pytest.approx(0.44, abs=1e-12)
    assert coalition_value(third, set()) == 0.0


def test_community_game_refuses_bad_arrays() -> None:
    ok: dict[str, Any] = {
        "members": ("a", "b"),
        "withdrawn": np.ones((2, 3)),
        "injected": np.ones((2, 3)),
        "plant_owner": np.array([0, 1]),
        "tip_rate_eur_mwh": np.ones((2, 3)),
        "cu_af_eur_mwh": np.ones(3),
    }
    CommunityGame(**ok)
    with pytest.raises(ValueError, match="hours"):
        CommunityGame(**{**ok, "injected": np.ones((2, 4))})
    with pytest.raises(ValueError, match="non-decreasing"):
        CommunityGame(**{**ok, "plant_cabina": np.array([1, 0])})
    with pytest.raises(ValueError, match="withdrawal_member"):
        CommunityGame(**{**ok, "withdrawn": np.ones((3, 3))})
    with pytest.raises(ValueError, match="out of range"):
        CommunityGame(**{**ok, "plant_owner": np.array([0, 2])})
    with pytest.raises(ValueError, match="non-negative"):
        CommunityGame(**{**ok, "withdrawn": -np.ones((2, 3))})


def six_member_game() -> CommunityGame:
    rng = np.random.default_rng(7)
    h = 48
    hour = np.arange(h) % 24
    pv = np.clip(np.sin(np.pi * (hour - 6) / 12), 0, None)
    return CommunityGame(
        members=tuple(f"m{i}" for i in range(6)),
        withdrawn=rng.uniform(0.0, 3.0, (7, h)),
        withdrawal_member=np.array([0, 1, 2, 3, 4, 5, 5]),
        withdrawal_cabina=np.array([0, 0, 0, 1, 1, 1, 0]),
        withdrawal_exempt=np.array([True, False, True, False, True, False, False]),
        injected=np.outer([6.0, 3.0, 8.0], pv),
        plant_owner=np.array([1, -1, 4]),
        plant_cabina=np.array([0, 0, 1]),
        plant_reduction=np.array([0.5, 0.0, 0.25]),
        tip_rate_eur_mwh=rng.uniform(100.0, 120.0, (3, h)),
        cu_af_eur_mwh=np.full(h, 10.57),
    )


def test_monte_carlo_converges_to_the_exact_shapley_value() -> None:
    game = six_member_game()
    exact = shapley_exact(game)
    estimate = shapley_monte_carlo(game, samples=3000, seed=1)
    assert estimate.permutations == 3000
    assert np.all(estimate.standard_error > 0)
    assert np.all(np.abs(estimate.value - exact.value) <= 4 * estimate.standard_error)
    # Every order's contributions telescope to v(N): the estimate is efficient exactly.
    assert estimate.value.sum() == pytest.approx(exact.grand_value, rel=1e-12)
    assert exact.value.sum() == pytest.approx(exact.grand_value, rel=1e-12)
    # Four times the samples, about half the standard error; the same seed, the same estimate.
    more = shapley_monte_carlo(game, samples=12000, seed=2)
    assert np.all(more.standard_error < 0.6 * estimate.standard_error)
    again = shapley_monte_carlo(game, samples=3000, seed=1)
    assert np.array_equal(again.value, estimate.value)


def test_monte_carlo_standard_error_matches_the_spread_of_the_marginals() -> None:
    # Two players, v(a) = 1, v(b) = 0, v(ab) = 3: a adds 1 or 3 with probability 1/2 each (std 1), b adds 2 or 0.
    game = TabularGame.from_values(["a", "b"], {("a",): 1.0, ("a", "b"): 3.0})
    est = shapley_monte_carlo(game, samples=4000, seed=3)
    assert est.value == pytest.approx([2.0, 1.0], abs=4 * 1 / math.sqrt(4000))
    assert est.standard_error == pytest.approx([1 / math.sqrt(4000)] * 2, rel=0.05)
    with pytest.raises(ValueError, match="at least 2"):
        shapley_monte_carlo(game, samples=1)


# The community game against the settlement ------------------------------------------------------------------------

MEMBERS = [
    member("h1", [1]),
    member("b1", [2], kind="business"),
    member("h2", [3], cabina=B),
    {**member("b2", [4], kind="business"), "pods": [{"pod": pod(4), "cabina": A}, {"pod": pod(5), "cabina": B}]},
]
PLANTS = [
    plant("p1", "b1", 10, grant_share=0.4, date="2024-03-01"),
    plant("p2", "h1", 11, date="2024-06-01", power=300),
    plant("p3", "somebody else", 12, cabina=B),
    plant("p4", "h2", 13, cabina=B, grant_share=0.2, date="2024-02-01"),
]
PODS = [pod(k) for k in (1, 2, 3, 4, 5, 10, 11, 12, 13)]


def case() -> tuple[Community, Readings, Prices]:
    rng = np.random.default_rng(11)
    w = np.zeros((24, len(PODS)))
    i = np.zeros_like(w)
    w[:, :5] = rng.uniform(0.0, 5.0, (24, 5))
    i[:, 5:] = rng.uniform(0.0, 6.0, (24, 4)) * (rng.random((24, 1)) < 0.7)
    return community(MEMBERS, PLANTS), readings(PODS, w, i), prices(rng.uniform(40.0, 260.0, 24))


def sub_settlement(
    members: list[dict[str, Any]], plants: list[dict[str, Any]], coalition: set[str], r: Readings, p: Prices, **kw: Any
) -> float:
    """TIP + valorisation of the community made of ``coalition`` (their plants, and third parties' plants)."""
    ids = {m["id"] for m in members}
    sub = community(
        [m for m in members if m["id"] in coalition],
        [q for q in plants if q["owner"] in coalition or q["owner"] not in ids],
        **kw,
    )
    return settle(sub, r, p, period=DAY).total_eur


def test_game_reproduces_the_settlement_of_every_coalition() -> None:
    c, r, p = case()
    s = settle(c, r, p, period=DAY)
    game = game_from_settlement(s, r)
    ids = [m.id for m in c.members]
    assert coalition_value(game, set()) == 0.0
    assert coalition_value(game, set(ids)) == pytest.approx(s.tip_eur + s.valorisation_eur, rel=1e-12)
    assert s.total_eur > 1.0  # the case is not trivial
    for coalition in all_coalitions(ids):
        expected = sub_settlement(MEMBERS, PLANTS, set(coalition), r, p)
        assert coalition_value(game, coalition) == pytest.approx(expected, rel=1e-10, abs=1e-12), coalition


def test_game_of_an_auc_counts_avoided_losses() -> None:
    members = [member("a", [1], building="B1"), member("b", [2], building="B1", voltage="MV"), member("c", [3])]
    members[2]["pods"][0]["building"] = "B1"
    plants = [plant("p1", "a", 9, building="B1")]
    pods = [pod(1), pod(2), pod(3), pod(9)]
    rng = np.random.default_rng(5)
    w = np.zeros((24, 4))
    i = np.zeros_like(w)
    w[:, :3] = rng.uniform(0.0, 2.0, (24, 3))
    i[:, 3] = rng.uniform(0.0, 5.0, 24)
    r, p = readings(pods, w, i), prices(120.0)
    s = settle(community(members, plants, configuration="AUC"), r, p, period=DAY)
    assert s.money.avoided_losses.sum() > 0
    game = game_from_settlement(s, r)
    assert coalition_value(game, {"a", "b", "c"}) == pytest.approx(s.total_eur, rel=1e-12)
    for coalition in all_coalitions(["a", "b", "c"]):
        expected = sub_settlement(members, plants, set(coalition), r, p, configuration="AUC")
        assert coalition_value(game, coalition) == pytest.approx(expected, rel=1e-10, abs=1e-12), coalition


def test_game_from_settlement_refuses_other_readings() -> None:
    c, r, p = case()
    s = settle(c, r, p, period=DAY)
    other = Readings(r.frame.assign(withdrawn_kwh=r.frame["withdrawn_kwh"] * 2), r.interval_minutes)
    with pytest.raises(ValueError, match="readings"):
        game_from_settlement(s, other)


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, Any]:
    n_members = draw(st.integers(1, 4))
    n_plants = draw(st.integers(1, 3))
    kinds = ["household", "business", "municipality"]
    members = [
        member(f"m{k}", [k + 1], cabina=draw(st.sampled_from([A, B])), kind=draw(st.sampled_from(kinds)))
        for k in range(n_members)
    ]
    owners = [f"m{k}" for k in range(n_members)] + ["outsider"]
    plants = [
        plant(
            f"p{k}",
            draw(st.sampled_from(owners)),
            100 + k,
            cabina=draw(st.sampled_from([A, B])),
            power=draw(st.sampled_from([50.0, 300.0, 800.0])),
            date=draw(st.sampled_from(["2021-06-01", "2024-01-01", "2025-01-01"])),
            grant_share=draw(st.sampled_from([0.0, 0.2, 0.4])),
        )
        for k in range(n_plants)
    ]
    hours = 6
    energy = st.floats(0.0, 20.0, allow_nan=False, width=32)
    w = np.zeros((24, n_members + n_plants))
    i = np.zeros_like(w)
    drawn_w = draw(st.lists(energy, min_size=hours * n_members, max_size=hours * n_members))
    drawn_i = draw(st.lists(energy, min_size=hours * n_plants, max_size=hours * n_plants))
    w[:hours, :n_members] = np.reshape(drawn_w, (hours, n_members))
    i[:hours, n_members:] = np.reshape(drawn_i, (hours, n_plants))
    coalition = draw(st.sets(st.sampled_from([m["id"] for m in members]), min_size=1))
    price = draw(st.floats(-20.0, 400.0, allow_nan=False))
    pods = [pod(k + 1) for k in range(n_members)] + [pod(100 + k) for k in range(n_plants)]
    return {"members": members, "plants": plants, "r": readings(pods, w, i), "p": prices(price), "S": coalition}


@SLOW
@given(configurations())
def test_game_matches_the_settlement_of_random_coalitions(cfg: dict[str, Any]) -> None:
    s = settle(community(cfg["members"], cfg["plants"]), cfg["r"], cfg["p"], period=DAY)
    game = game_from_settlement(s, cfg["r"])
    expected = sub_settlement(cfg["members"], cfg["plants"], cfg["S"], cfg["r"], cfg["p"])
    assert coalition_value(game, cfg["S"]) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    phi = shapley_exact(game)
    assert phi.value.sum() == pytest.approx(s.total_eur, rel=1e-9, abs=1e-9)


# Least core and nucleolus -----------------------------------------------------------------------------------------


def bankruptcy(estate: float, claims: list[float]) -> TabularGame:
    """v(S) = what S gets for sure once the others' claims are paid in full: max(0, E - claims outside S)."""
    players = [str(i) for i in range(len(claims))]
    v = {
        c: max(0.0, estate - sum(claims[int(i)] for i in players if i not in c))
        for c in map(frozenset, all_coalitions(players))
    }
    return TabularGame.from_values(players, v)


@pytest.mark.parametrize(
    ("estate", "expected"),
    [(100.0, [100 / 3, 100 / 3, 100 / 3]), (200.0, [50.0, 75.0, 75.0]), (300.0, [50.0, 100.0, 150.0])],
)
def test_nucleolus_of_the_talmud_estates(estate: float, expected: list[float]) -> None:
    # Aumann and Maschler (1985): the Talmud's division of estates 100, 200, 300 among claims 100, 200, 300 is the
    # nucleolus of the bankruptcy game.
    sol = nucleolus(bankruptcy(estate, [100.0, 200.0, 300.0]))
    assert sol.value == pytest.approx(expected, abs=1e-6)
    assert sol.linear_programs <= 3


def test_nucleolus_of_the_glove_game() -> None:
    # One left glove (L), two right gloves: a pair is worth 1. The core is the single point (1, 0, 0).
    game = TabularGame.from_values(["L", "R1", "R2"], {("L", "R1"): 1.0, ("L", "R2"): 1.0, ("L", "R1", "R2"): 1.0})
    assert nucleolus(game).value == pytest.approx([1.0, 0.0, 0.0], abs=1e-7)
    assert shapley_exact(game).value == pytest.approx([2 / 3, 1 / 6, 1 / 6], abs=1e-12)
    core = least_core(game)
    assert core.max_excess == pytest.approx(0.0, abs=1e-7)
    assert core.value == pytest.approx([1.0, 0.0, 0.0], abs=1e-7)


def test_least_core_value_of_a_talmud_estate() -> None:
    # Estate 200: excesses -x1 and v(23) - x2 - x3 = x1 - 100 are both <= eps, so eps = -50 at x1 = 50.
    sol = least_core(bankruptcy(200.0, [100.0, 200.0, 300.0]))
    assert sol.max_excess == pytest.approx(-50.0, abs=1e-7)
    assert sol.value[0] == pytest.approx(50.0, abs=1e-7)
    assert sol.value.sum() == pytest.approx(200.0, abs=1e-7)


def sorted_excesses(players: list[str], v: dict[Any, float], x: dict[str, float]) -> np.ndarray:
    proper = [c for c in all_coalitions(players) if len(c) < len(players)]
    return np.sort([v.get(c, 0.0) - sum(x[p] for p in c) for c in proper])[::-1]


def lex_leq(a: np.ndarray, b: np.ndarray, tol: float = 1e-6) -> bool:
    for u, w in zip(a, b, strict=True):
        if u < w - tol:
            return True
        if u > w + tol:
            return False
    return True


@settings(max_examples=30, deadline=None)
@given(tabular_games(min_players=2, max_players=4), st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4))
def test_nucleolus_lexicographically_minimises_the_excesses(
    game: tuple[list[str], dict[Any, float]], mix: list[float]
) -> None:
    players, v = game
    singles = [v[frozenset([p])] for p in players]
    grand = v[frozenset(players)]
    if sum(singles) > grand:  # no imputation: the nucleolus is not defined (tested below)
        v[frozenset(players)] = grand = sum(singles) + 10.0
    sol = nucleolus(TabularGame.from_values(players, v))
    x = sol.as_dict()
    assert sum(x.values()) == pytest.approx(grand, abs=1e-7)
    assert all(x[p] >= s - 1e-7 for p, s in zip(players, singles, strict=True))
    own = sorted_excesses(players, v, x)
    assert sol.max_excess == pytest.approx(own[0], abs=1e-7)
    # Any other imputation has a lexicographically larger (or equal) sorted excess vector.
    weights = np.array(mix[: len(players)]) + 1e-3
    other = np.array(singles) + (grand - sum(singles)) * weights / weights.sum()
    assert lex_leq(own, sorted_excesses(players, v, dict(zip(players, other, strict=True))))


def test_nucleolus_refuses_large_games_and_games_without_imputations() -> None:
    n = NUCLEOLUS_MAX_PLAYERS + 1
    with pytest.raises(ValueError, match="at most"):
        nucleolus(TabularGame(tuple(f"p{i}" for i in range(n)), np.zeros(1 << n)))
    with pytest.raises(ValueError, match="no imputation"):
        nucleolus(TabularGame.from_values(["a", "b"], {("a",): 2.0, ("b",): 2.0, ("a", "b"): 3.0}))


# Regulations ------------------------------------------------------------------------------------------------------


def settled() -> tuple[Settlement, Readings]:
    c, r, p = case()
    return settle(c, r, p, period=DAY), r


def cents(frame: pd.DataFrame) -> pd.DataFrame:
    return (frame * 100).round().astype(int)


def test_compare_rules_columns_add_up_to_the_settlement_total() -> None:
    s, r = settled()
    phi = shapley_exact(game_from_settlement(s, r))
    candidates: dict[str, Candidate] = {
        "own": s.community.regulation,
        "consumers by withdrawal": [RegulationRule(to="consumers", share=1.0, by="withdrawn")],
        "producers half": [
            RegulationRule(to="fund:social", share=0.05),
            RegulationRule(to="h1", share=0.05),
            RegulationRule(to="producers", share=0.5, by="injected"),
            RegulationRule(to="consumers", share=0.4, by="equal"),
        ],
        "contribution": phi.as_dict(),
    }
    frame = compare_rules(s, candidates)
    assert list(frame.columns) == list(candidates)
    assert list(frame.index[:4]) == ["h1", "b1", "h2", "b2"]
    assert frame.index[-1] == TOTAL_ROW
    body = cents(frame.drop(index=TOTAL_ROW))
    total = s.allocation.total_cents
    assert total > 0
    assert (body.sum() == total).all()
    assert (cents(frame.loc[[TOTAL_ROW]]) == total).all(axis=None)
    assert (body >= 0).all(axis=None)
    # The community's own regulation gives exactly what the settlement allocated.
    own = {k: v for k, v in body["own"].items() if v}
    assert own == s.allocation.by_recipient()
    table = body.to_dict()
    # The contribution column is the Shapley split, to the cent (largest remainder on the rounded total).
    expected = {m: total * phi.as_dict()[m] / phi.grand_value for m in ["h1", "b1", "h2", "b2"]}
    for m, amount in expected.items():
        assert abs(table["contribution"][m] - amount) < 1.0
    # A third party's plant is a producer, not a player: only producer rules pay it.
    assert table["producers half"]["somebody else"] > 0
    assert table["contribution"]["somebody else"] == 0
    assert compare_rules(s, {"own": s.community.regulation}, totals=False).index[-1] != TOTAL_ROW


def test_compare_rules_routes_the_yearly_excess_first() -> None:
    c, r, p = case()
    s = settle(c.model_copy(update={"excess_to": "fund:excess"}), r, p, period=DAY)
    excess = round(sum(x.excess_eur for x in s.excess_sets) * 100)
    assert excess > 0
    frame = cents(compare_rules(s, {"own": s.community.regulation, "equal": {"h1": 1.0, "b2": 1.0}}, totals=False))
    own = {k: v for k, v in frame["own"].items() if v}
    assert own == s.allocation.by_recipient()
    # The excess goes to its fund before any rule; the rest is split half and half.
    table = frame.to_dict()
    assert table["equal"]["fund:excess"] == excess
    assert table["equal"]["h1"] + table["equal"]["b2"] == s.allocation.total_cents - excess
    assert abs(table["equal"]["h1"] - table["equal"]["b2"]) <= 1


def test_compare_rules_refuses_invalid_candidates() -> None:
    s, _ = settled()
    with pytest.raises(ValueError, match="half"):
        compare_rules(s, {"half": [RegulationRule(to="fund:social", share=0.5)]})
    with pytest.raises(ValueError, match="stranger"):
        compare_rules(s, {"x": [RegulationRule(to="stranger", share=1.0)]})
    with pytest.raises(ValueError, match="no rules"):
        compare_rules(s, {"empty": []})
    with pytest.raises(ValueError, match="no candidate"):
        compare_rules(s, {})


def test_regulation_from_weights_clips_negative_values() -> None:
    rules = regulation_from_weights({"a": 3.0, "b": -1.0, "c": 1.0, "d": 0.0})
    assert [r.to for r in rules] == ["a", "c"]
    assert [r.share for r in rules] == pytest.approx([0.75, 0.25], abs=1e-15)
    with pytest.raises(ValueError, match="no positive weight"):
        regulation_from_weights({"a": -1.0, "b": 0.0})
    with pytest.raises(ValueError, match="total_share"):
        regulation_from_weights({"a": 1.0}, total_share=0.0)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e9, allow_nan=False, allow_subnormal=False), min_size=1, max_size=40).filter(
        lambda ws: any(w > 0 for w in ws)
    ),
    st.sampled_from([1.0, 0.9, 0.625]),
)
def test_regulation_from_weights_is_accepted_by_the_community(weights: list[float], share: float) -> None:
    ids = [f"m{i}" for i in range(len(weights))]
    rules = regulation_from_weights(dict(zip(ids, weights, strict=True)), total_share=share)
    assert sum(r.share for r in rules) == share  # exactly, in the order the community adds them
    assert sum(reversed([r.share for r in rules])) == share
    positive = {i: w for i, w in zip(ids, weights, strict=True) if w > 0}
    denom = math.fsum(positive.values())
    assert {r.to for r in rules} <= set(positive)
    # Only a weight worth less than one unit of 2^-53 of the money may be left without a rule.
    assert all(share * positive[i] / denom < 2.0**-53 for i in set(positive) - {r.to for r in rules})
    for r in rules:
        assert r.share == pytest.approx(share * positive[r.to] / denom, rel=1e-9, abs=1e-15)
    extra = [RegulationRule(to="fund:social", share=1.0 - share)] if share < 1.0 else []
    members = [member(i, [k + 1]) for k, i in enumerate(ids)]
    c = community(members, [], regulation=[r.model_dump() for r in [*extra, *rules]])  # validates
    assert len(c.regulation) == len(rules) + len(extra)
