"""Hand-computed settlements of tiny configurations (the regulation's rules as fixed cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from condivisa.engine import settle
from condivisa.engine.timegrid import Period
from condivisa.ingest.prices import Prices
from tests.helpers import START, community, member, plant, pod, readings


def flat_prices(hours: int, price: float, zone: str = "NORD") -> Prices:
    times = pd.date_range(START, periods=hours, freq="h")
    return Prices(pd.DataFrame({"timestamp": times, "zone": zone, "price_eur_mwh": price}), source="test")


def one_day() -> Period:
    return Period(pd.Timestamp("2025-06-01").date(), pd.Timestamp("2025-06-01").date())


def test_two_cabine_shared_vs_incentivised() -> None:
    # Cabina A: member m1 withdraws 3 kWh/h, plant p1 injects 5 kWh/h. Cabina B: m2 withdraws 4, nothing injected.
    c = community([member("m1", [1]), member("m2", [2], cabina="AC001E00002")], [plant("p1", "m1", 9)])
    w = np.zeros((24, 3))
    i = np.zeros((24, 3))
    w[:, 0], w[:, 1], i[:, 2] = 3.0, 4.0, 5.0
    s = settle(c, readings([pod(1), pod(2), pod(9)], w, i), flat_prices(24, 100.0), period=one_day())
    assert s.energy.shared.sum() == pytest.approx(24 * 5.0)  # min(7, 5) configuration-wide
    assert s.energy.incentivised.sum() == pytest.approx(24 * 3.0)  # min(3, 5) in A + min(4, 0) in B
    # TIP at Pz 100: min(120, 80 + 80) + 10 (Piemonte PV) = 130 €/MWh on 72 kWh.
    assert s.tip_eur == pytest.approx(72 * 130 / 1000)
    cu_af = s.cu_af_eur_mwh[0]
    assert s.valorisation_eur == pytest.approx(72 * cu_af / 1000)
    # m2's points are in a cabina with no plant: no shared withdrawal.
    shares = dict(zip(s.point_members, s.energy.point_shared_withdrawal, strict=True))
    assert shares == pytest.approx({"m1": 72.0, "m2": 0.0})


def test_plants_are_queued_by_date_of_entry_into_operation() -> None:
    # Demand 6 kWh/h; the older plant p_old injects 4, the newer p_new 5 (listed first in the file).
    c = community(
        [member("m1", [1])],
        [
            plant("p_new", "x", 8, date="2025-01-10", power=300),
            plant("p_old", "y", 9, date="2024-02-01", power=100),
        ],
    )
    w = np.full((24, 3), 0.0)
    i = np.zeros((24, 3))
    w[:, 0], i[:, 1], i[:, 2] = 6.0, 5.0, 4.0
    s = settle(c, readings([pod(1), pod(8), pod(9)], w, i), flat_prices(24, 150.0), period=one_day())
    res = {r.id: r for r in s.plant_results}
    assert res["p_old"].incentivised_kwh == pytest.approx(24 * 4.0)
    assert res["p_new"].incentivised_kwh == pytest.approx(24 * 2.0)
    # Each at its own TIP: 100 kW -> 80+30+10 = 120; 300 kW -> 70+30+10 = 110 €/MWh.
    assert res["p_old"].tip_eur == pytest.approx(96 * 120 / 1000)
    assert res["p_new"].tip_eur == pytest.approx(48 * 110 / 1000)


def test_plant_without_tip_keeps_its_place_in_the_queue() -> None:
    c = community(
        [member("m1", [1])],
        [plant("p_obl", "x", 8, date="2024-01-10", tip_share=0.0), plant("p2", "y", 9, date="2024-06-01")],
    )
    w = np.zeros((24, 3))
    i = np.zeros((24, 3))
    w[:, 0], i[:, 1], i[:, 2] = 5.0, 3.0, 3.0
    s = settle(c, readings([pod(1), pod(8), pod(9)], w, i), flat_prices(24, 150.0), period=one_day())
    res = {r.id: r for r in s.plant_results}
    assert res["p_obl"].incentivised_kwh == pytest.approx(72.0)
    assert res["p_obl"].tip_eur == 0.0
    assert res["p2"].incentivised_kwh == pytest.approx(48.0)
    # The obligation plant's energy still earns the valorisation.
    assert s.money.valorisation.sum() == pytest.approx(120.0 * s.cu_af_eur_mwh[0] / 1000)


def test_grant_reduction_spares_the_exempt_members_share() -> None:
    # A household (exempt) withdraws 2, a business 2; one plant with a 40 % grant (F = 0.5) injects 4.
    c = community([member("h", [1]), member("b", [2], kind="business")], [plant("p1", "b", 9, grant_share=0.4)])
    w = np.zeros((24, 3))
    i = np.zeros((24, 3))
    w[:, 0], w[:, 1], i[:, 2] = 2.0, 2.0, 4.0
    s = settle(c, readings([pod(1), pod(2), pod(9)], w, i), flat_prices(24, 150.0), period=one_day())
    full = 120.0  # 80 + 30 + 10 at Pz 150
    # Half the energy (the household's) at the full TIP, half at TIP x (1 - 0.5).
    assert s.tip_eur == pytest.approx(24 * (2 * full + 2 * full * 0.5) / 1000)


def test_exempt_energy_goes_first_to_plants_with_a_grant() -> None:
    # Household withdraws 2 of 4; p_grant (older) injects 2, p_plain injects 2. The exempt 2 kWh all go to p_grant.
    c = community(
        [member("h", [1]), member("b", [2], kind="business")],
        [
            plant("p_plain", "b", 8, date="2024-07-01"),
            plant("p_grant", "b", 9, date="2024-03-01", grant_share=0.4),
        ],
    )
    w = np.zeros((24, 4))
    i = np.zeros((24, 4))
    w[:, 0], w[:, 1], i[:, 2], i[:, 3] = 2.0, 2.0, 2.0, 2.0
    s = settle(c, readings([pod(1), pod(2), pod(8), pod(9)], w, i), flat_prices(24, 150.0), period=one_day())
    res = {r.id: r for r in s.plant_results}
    assert res["p_grant"].tip_eur == pytest.approx(48 * 120 / 1000)  # no reduction at all
    assert res["p_plain"].tip_eur == pytest.approx(48 * 120 / 1000)


def test_auc_avoided_losses() -> None:
    members = [member("a", [1], building="B1"), member("b", [2], building="B1", voltage="MV")]
    c = community(members, [plant("p1", "a", 9, building="B1")], configuration="AUC")
    w = np.zeros((24, 3))
    i = np.zeros((24, 3))
    w[:, 0], w[:, 1], i[:, 2] = 1.0, 1.0, 4.0
    s = settle(c, readings([pod(1), pod(2), pod(9)], w, i), flat_prices(24, 100.0), period=one_day())
    # 2 kWh/h shared, half at LV (2.6 %) and half at MV (1.2 %), valued at Pz = 100 €/MWh.
    expected = 24 * (1 * 0.026 + 1 * 0.012) * 100 / 1000
    assert s.money.avoided_losses.sum() == pytest.approx(expected)


def test_yearly_excess_per_set_and_per_plant() -> None:
    # TIP-only plant fully used (share 1.0 > 0.55): excess = TIP x 0.45.
    c = community([member("m1", [1])], [plant("p1", "m1", 9)])
    w = np.zeros((24, 2))
    i = np.zeros((24, 2))
    w[:, 0], i[:, 1] = 10.0, 4.0
    s = settle(c, readings([pod(1), pod(9)], w, i), flat_prices(24, 150.0), period=one_day())
    (tip_only,) = s.excess_sets
    assert tip_only.share == pytest.approx(1.0)
    assert tip_only.excess_eur == pytest.approx(s.tip_eur * 0.45)
    assert s.plant_results[0].excess_eur == pytest.approx(s.tip_eur * 0.45)
    assert any("quota eccedentaria" in w for w in s.warnings)


def test_quarter_hours_are_summed_before_the_minimum() -> None:
    # Within one hour the member withdraws only in the first quarter, the plant injects only in the last.
    c = community([member("m1", [1])], [plant("p1", "m1", 9)])
    w = np.zeros((96, 2))
    i = np.zeros((96, 2))
    w[0::4, 0] = 1.0
    i[3::4, 1] = 1.0
    s = settle(c, readings([pod(1), pod(9)], w, i, minutes=15), flat_prices(24, 150.0), period=one_day())
    assert s.energy.shared.sum() == pytest.approx(24.0)  # per quarter-hour it would be zero


def test_allocation_adds_up_to_the_cent() -> None:
    c = community([member("m1", [1]), member("m2", [2]), member("m3", [3])], [plant("p1", "m2", 9)])
    rng = np.random.default_rng(3)
    w = rng.uniform(0, 3, (24, 4))
    i = np.zeros((24, 4))
    w[:, 3] = 0
    i[:, 3] = rng.uniform(0, 6, 24)
    s = settle(c, readings([pod(1), pod(2), pod(3), pod(9)], w, i), flat_prices(24, 90.0), period=one_day())
    lines = s.allocation.by_recipient()
    assert sum(lines.values()) == s.allocation.total_cents
    assert all(v >= 0 for v in lines.values())
    assert set(lines) == {"fund:social", "m1", "m2", "m3"}


def test_injection_at_a_point_without_a_declared_plant_is_ignored_and_named() -> None:
    # m2's point injects 2 kWh/h but no plant is declared on it: not counted, and the warning names it.
    c = community([member("m1", [1]), member("m2", [2])], [plant("p1", "m1", 9)])
    w = np.zeros((24, 3))
    i = np.zeros((24, 3))
    w[:, 0], i[:, 1], i[:, 2] = 3.0, 2.0, 1.0
    s = settle(c, readings([pod(1), pod(2), pod(9)], w, i), flat_prices(24, 100.0), period=one_day())
    stray = [x for x in s.warnings if "senza impianto dichiarato" in x]
    assert len(stray) == 1 and pod(2) in stray[0] and pod(1) not in stray[0]
    assert s.energy.injected.sum() == pytest.approx(24 * 1.0)
    i[:, 1] = 0.0
    s = settle(c, readings([pod(1), pod(2), pod(9)], w, i), flat_prices(24, 100.0), period=one_day())
    assert not [x for x in s.warnings if "senza impianto dichiarato" in x]
