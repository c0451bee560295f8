"""Invariants of the engine, checked with hypothesis on random configurations and readings."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from condivisa.engine import Layout, settle, share_energy, value_energy
from condivisa.engine.timegrid import Period
from condivisa.ingest.prices import Prices
from tests.helpers import START, community, member, plant, pod, readings

HOURS = 6
PERIOD = Period(pd.Timestamp("2025-06-01").date(), pd.Timestamp("2025-06-01").date())
energy = st.floats(min_value=0.0, max_value=50.0, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def configurations(draw: st.DrawFn) -> dict:
    n_members = draw(st.integers(1, 5))
    n_plants = draw(st.integers(0, 3))
    cabine = ["AC001E00001", "AC001E00002"]
    kinds = ["household", "business", "municipality", "third_sector"]
    members = [
        member(f"m{k}", [k + 1], cabina=draw(st.sampled_from(cabine)), kind=draw(st.sampled_from(kinds)))
        for k in range(n_members)
    ]
    plants = [
        plant(
            f"p{k}",
            f"m{draw(st.integers(0, n_members - 1))}",
            100 + k,
            cabina=draw(st.sampled_from(cabine)),
            power=draw(st.sampled_from([50.0, 300.0, 800.0])),
            date=draw(st.sampled_from(["2024-01-01", "2024-06-01", "2025-01-01"])),
            grant_share=draw(st.sampled_from([0.0, 0.2, 0.4])),
        )
        for k in range(n_plants)
    ]
    pods = [pod(k + 1) for k in range(n_members)] + [pod(100 + k) for k in range(n_plants)]
    w = draw(arrays(np.float64, (HOURS, len(pods)), elements=energy))
    i = draw(arrays(np.float64, (HOURS, len(pods)), elements=energy))
    i[:, :n_members] = 0.0  # injection only at plant PODs
    price = draw(st.floats(-20, 400, allow_nan=False))
    return {"members": members, "plants": plants, "pods": pods, "w": w, "i": i, "price": price}


def run(cfg: dict, members: list | None = None) -> object:
    c = community(members if members is not None else cfg["members"], cfg["plants"])
    times = pd.date_range(START, periods=24, freq="h")
    prices = Prices(pd.DataFrame({"timestamp": times, "zone": "NORD", "price_eur_mwh": cfg["price"]}))
    w = np.zeros((24, len(cfg["pods"])))
    i = np.zeros_like(w)
    w[:HOURS], i[:HOURS] = cfg["w"], cfg["i"]
    return settle(c, readings(cfg["pods"], w, i), prices, period=PERIOD)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(configurations())
def test_shared_bounded_and_incentivised_below_shared(cfg: dict) -> None:
    s = run(cfg)
    e = s.energy
    tol = 1e-9
    assert np.all(e.shared <= np.minimum(e.withdrawn, e.injected) + tol)
    assert np.all(e.incentivised <= e.shared + tol)
    assert np.all(e.plant_incentivised >= -tol)
    assert np.all(e.plant_incentivised <= e.plant_injected + tol)
    assert np.allclose(e.plant_incentivised.sum(axis=0), e.incentivised)
    assert np.isclose(e.point_shared_withdrawal.sum(), e.incentivised.sum())
    assert np.all(s.money.plant_tip >= -tol)
    assert np.isclose(s.money.tip.sum(), s.money.plant_tip.sum())


@FAST
@given(configurations())
def test_allocation_adds_up_and_is_never_negative(cfg: dict) -> None:
    s = run(cfg)
    by = s.allocation.by_recipient()
    assert sum(by.values()) == s.allocation.total_cents
    assert all(v >= 0 for v in by.values())


@FAST
@given(configurations(), st.randoms(use_true_random=False))
def test_reordering_members_changes_nothing(cfg: dict, rnd: object) -> None:
    shuffled = list(cfg["members"])
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = run(cfg), run(cfg, shuffled)
    assert np.allclose(a.energy.shared, b.energy.shared)
    assert np.allclose(a.energy.incentivised, b.energy.incentivised)
    assert a.tip_eur == b.tip_eur or np.isclose(a.tip_eur, b.tip_eur)
    assert a.allocation.by_recipient() == b.allocation.by_recipient()


@FAST
@given(configurations())
def test_renaming_members_changes_nothing(cfg: dict) -> None:
    # Rename keeping the order of ids (tie-breaks are by id), owners renamed alike.
    renamed = [{**m, "id": "socio-" + m["id"], "name": "X"} for m in cfg["members"]]
    plants = [{**p, "owner": "socio-" + p["owner"]} for p in cfg["plants"]]
    a = run(cfg)
    b = run({**cfg, "plants": plants}, renamed)
    assert np.allclose(a.money.plant_tip, b.money.plant_tip)
    assert {
        ("socio-" + k if not k.startswith("fund:") and k != "unallocated" else k): v
        for k, v in a.allocation.by_recipient().items()
    } == b.allocation.by_recipient()


@FAST
@given(configurations())
def test_quarter_hours_summed_equal_hourly(cfg: dict) -> None:
    # Split each hour's energy into 4 random quarter-hours: the settlement must be the same.
    c = community(cfg["members"], cfg["plants"])
    rng = np.random.default_rng(0)
    w = np.zeros((24, len(cfg["pods"])))
    i = np.zeros_like(w)
    w[:HOURS], i[:HOURS] = cfg["w"], cfg["i"]
    split = rng.dirichlet(np.ones(4), size=w.shape).transpose(0, 2, 1)  # (24, 4, P)
    wq = (w[:, None, :] * split).reshape(96, -1)
    iq = (i[:, None, :] * split).reshape(96, -1)
    times = pd.date_range(START, periods=24, freq="h")
    prices = Prices(pd.DataFrame({"timestamp": times, "zone": "NORD", "price_eur_mwh": cfg["price"]}))
    hourly = settle(c, readings(cfg["pods"], w, i), prices, period=PERIOD)
    quarter = settle(c, readings(cfg["pods"], wq, iq, minutes=15), prices, period=PERIOD)
    assert np.allclose(hourly.energy.shared, quarter.energy.shared)
    assert np.allclose(hourly.energy.incentivised, quarter.energy.incentivised)
    assert np.allclose(hourly.money.plant_tip, quarter.money.plant_tip)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (8, 4), elements=energy), arrays(np.float64, (8, 2), elements=energy))
def test_core_incentivised_is_sum_of_per_cabina_minima(w: np.ndarray, i: np.ndarray) -> None:
    layout = Layout(
        point_group=np.array([0, 0, 1, 2]), group_cabina=np.array([0, 1, 1]), plant_cabina=np.array([0, 1]), n_cabine=2
    )
    e = share_energy(w.T.copy(), i.T.copy(), layout)
    expected = np.minimum(w[:, :2].sum(1), i[:, 0]) + np.minimum(w[:, 2:].sum(1), i[:, 1])
    assert np.allclose(e.incentivised, expected)
    assert np.allclose(e.shared, np.minimum(w.sum(1), i.sum(1)))


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.float64, (5, 8), elements=energy),
    arrays(np.float64, (3, 8), elements=energy),
    st.sampled_from([0.0, 0.2, 0.4]),
)
def test_a_batch_of_configurations_equals_each_alone(w: np.ndarray, i: np.ndarray, grant: float) -> None:
    # Configuration A: points 0-2 (cabina 0, one exempt group), plants 0-1; configuration B: points 3-4, plant 2.
    tariff = np.full((1, 8), 110.0)
    reduction = np.array([grant, 0.0, grant]) * 1.25
    a = Layout(np.array([0, 0, 1]), np.array([0, 0]), np.array([0, 0]), 1)
    b = Layout(np.array([0, 1]), np.array([0, 0]), np.array([0]), 1)
    both = Layout(np.array([0, 0, 1, 2, 3]), np.array([0, 0, 1, 1]), np.array([0, 0, 1]), 2, np.array([0, 1]))
    exempt_both = np.array([True, False, True, False])

    def run(layout: Layout, w_rows: np.ndarray, i_rows: np.ndarray, red: np.ndarray, exempt: np.ndarray):
        e = share_energy(w_rows, i_rows, layout)
        m = value_energy(
            e,
            layout,
            tariff,
            np.zeros(len(i_rows), dtype=np.intp),
            red,
            np.ones(len(i_rows)),
            np.full(8, 11.0),
            group_exempt=exempt,
        )
        return e, m

    eb, mb = run(both, w, i, reduction, exempt_both)
    ea, ma = run(a, w[:3], i[:2], reduction[:2], exempt_both[:2])
    e2, m2 = run(b, w[3:], i[2:], reduction[2:], exempt_both[2:])
    assert np.allclose(eb.shared, np.vstack([ea.shared, e2.shared]))
    assert np.allclose(eb.incentivised, np.vstack([ea.incentivised, e2.incentivised]))
    assert np.allclose(
        eb.point_shared_withdrawal, np.concatenate([ea.point_shared_withdrawal, e2.point_shared_withdrawal])
    )
    assert np.allclose(mb.plant_tip, np.concatenate([ma.plant_tip, m2.plant_tip]))
    assert np.allclose(mb.tip, np.vstack([ma.tip, m2.tip]))
    assert np.allclose(mb.valorisation, np.vstack([ma.valorisation, m2.valorisation]))
