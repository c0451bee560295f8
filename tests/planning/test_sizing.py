"""Sizing LP: agrees with a brute-force search on toy cases; bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

from condivisa.planning.sizing import BatteryOption, PVSite, SizingProblem, pareto_front, solve

H = 48
HOUR = np.arange(H) % 24
PV = np.clip(np.sin(np.pi * (HOUR - 6) / 12), 0, None)  # kWh per kWp
LOAD = 20 + 15 * (HOUR >= 18)


def problem(**kw: object) -> SizingProblem:
    args: dict[str, object] = {
        "load_kwh": {"A": LOAD.astype(float)},
        "sites": [PVSite("roof", "A", PV, max_kwp=80, capex_eur_per_kwp=40.0, opex_eur_per_kwp_year=0.0)],
        "incentive_eur_mwh": np.full(H, 120.0),
        "sale_price_eur_mwh": np.full(H, 30.0),
        "discount_rate": 0.05,
        "years": 20,
    }
    args.update(kw)
    return SizingProblem(**args)  # type: ignore[arg-type]


def npv_pv_only(p: SizingProblem, kwp: float) -> float:
    site = p.sites[0]
    prod = site.yield_kwh_per_kwp * kwp
    shared = np.minimum(p.load_kwh["A"], prod)
    margin = (p.incentive_eur_mwh * shared).sum() / 1000 + (p.sale_price_eur_mwh * prod).sum() / 1000
    return p.annuity_factor() * (margin - site.opex_eur_per_kwp_year * kwp) - site.capex_eur_per_kwp * kwp


def test_pv_only_matches_brute_force() -> None:
    p = problem()
    res = solve(p)
    assert res.ok
    grid = np.linspace(0, 80, 801)
    values = [npv_pv_only(p, x) for x in grid]
    best = grid[int(np.argmax(values))]
    assert res.npv_eur == pytest.approx(max(values), rel=1e-4)
    assert res.site_kwp["roof"] == pytest.approx(best, abs=0.2)
    assert res.npv_eur >= max(values) - 1e-6  # the LP is at least as good as any grid point


def greedy_shared(prod: np.ndarray, load: np.ndarray, energy: float, eta: float) -> float:
    """Shared energy with a battery charged from surplus and discharged into deficit (optimal when storing
    is always worth it and the incentive is flat)."""
    soc, shared = 0.0, 0.0
    for _ in range(2):  # second pass starts from the cyclic state
        shared = 0.0
        for pv, ld in zip(prod, load, strict=True):
            direct = min(pv, ld)
            surplus, deficit = pv - direct, ld - direct
            charge = min(surplus, (energy - soc) / eta)
            soc += charge * eta
            discharge = min(deficit * 1.0, soc * eta)
            soc -= discharge / eta
            shared += direct + discharge
    return shared


def test_battery_matches_greedy_dispatch_on_a_flat_incentive() -> None:
    eta = 0.95
    battery = BatteryOption(
        "A",
        capex_eur_per_kwh=0.0,
        capex_eur_per_kw=0.0,
        max_kwh=50.0,
        max_kw=1000.0,
        efficiency_charge=eta,
        efficiency_discharge=eta,
    )
    sites = [PVSite("roof", "A", PV, max_kwp=60, capex_eur_per_kwp=0.0, opex_eur_per_kwp_year=0.0)]
    p = problem(sites=sites, battery=battery, sale_price_eur_mwh=np.zeros(H))
    res = solve(p, "shared")
    assert res.ok
    assert res.site_kwp["roof"] == pytest.approx(60.0)
    expected = greedy_shared(PV * 60.0, LOAD.astype(float), res.battery_kwh, eta)
    assert res.shared_kwh == pytest.approx(expected, rel=1e-3)
    assert res.battery_kwh == pytest.approx(50.0, abs=1e-6)


def test_budget_binds_and_pareto_is_monotone() -> None:
    p = problem()
    front = pareto_front(p, [0.0, 500.0, 1500.0, 5000.0])
    assert front["investment_eur"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert (front["investment_eur"] <= front["budget_eur"] + 1e-6).all()
    assert np.all(np.diff(front["shared_kwh"]) >= -1e-6)


def test_plant_cap_of_one_megawatt() -> None:
    big = PVSite("field", "A", PV, max_kwp=5000, capex_eur_per_kwp=0.0, opex_eur_per_kwp_year=0.0)
    res = solve(problem(sites=[big]), "shared")
    assert res.site_kwp["field"] <= 1000.0 + 1e-6


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"load_kwh": {"A": -LOAD.astype(float)}}, "valori negativi"),
        ({"sites": [PVSite("roof", "A", PV, max_kwp=0)]}, "superficie o potenza massima nulla"),
        ({"sites": [PVSite("roof", "Z", PV, max_kwp=10)]}, "cabina Z senza carichi"),
        ({"incentive_eur_mwh": np.zeros(0), "sale_price_eur_mwh": np.zeros(0)}, "nessuna ora"),
    ],
)
def test_bad_input(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        problem(**change)
