"""Inventories and balances: the local electricity factor by hand, BEI -> MEI, totals that add up."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.balance import (
    SECTORS,
    ConsumptionRow,
    FactorError,
    FactorYearWarning,
    Inventory,
    LocalProduction,
    balance_matrix,
    carrier_series,
    compare,
    compute_balance,
    custom_factor,
    local_electricity_factor,
    progress_series,
    sector_series,
)
from condivisa.balance.factors import FactorTable, parse_factors


def _src(year: int, value: float, *, constant: bool = False) -> dict[str, object]:
    return {"year": year, "value": value, "source": "test", "verified": True, "constant": constant}


TABLE: FactorTable = parse_factors(
    {
        "carriers": {
            "electricity": {"values": [_src(2000, 0.4), _src(2010, 0.3)]},
            "natural_gas": {"values": [_src(2006, 0.2, constant=True)]},
            "diesel": {"values": [_src(2006, 0.25, constant=True)]},
            "biomass": {"values": [_src(2006, 0.0, constant=True)]},
            "district_heating": {"parameter": True, "source": "test", "note": "locale"},
        },
        "production": {"pv": _src(2010, 0.0), "biogas": _src(2010, 0.1)},
    }
)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# --- the local electricity factor, computed by hand ---------------------------------------------------------


def test_local_factor_formula_by_hand() -> None:
    # EFE = [(TCE - LPE - GEP) x NEEFE + CO2LPE + CO2GEP] / TCE
    # TCE 1000, LPE 200, GEP 100, NEEFE 0.3, CO2LPE 10, CO2GEP 0: (700 x 0.3 + 10) / 1000 = 0.22
    assert local_electricity_factor(1000.0, 0.3, 200.0, 10.0, 100.0, 0.0) == pytest.approx(0.22)
    # PV only: (800 x 0.3) / 1000 = 0.24
    assert local_electricity_factor(1000.0, 0.3, 200.0) == pytest.approx(0.24)
    # nothing local: the national factor, exactly
    assert local_electricity_factor(1000.0, 0.3) == 0.3
    # net exporter: (CO2LPE + CO2GEP) / (LPE + GEP) = 15 / 150
    assert local_electricity_factor(100.0, 0.3, 150.0, 15.0) == pytest.approx(0.1)


def test_local_factor_rejects_negative_input() -> None:
    with pytest.raises(ValueError, match="LPE"):
        local_electricity_factor(100.0, 0.3, -1.0)


def _town(year: int = 2010, **kw: object) -> Inventory:
    rows = (
        ConsumptionRow("residential", "electricity", 600.0),
        ConsumptionRow("tertiary", "electricity", 400.0),
        ConsumptionRow("residential", "natural_gas", 500.0),
        ConsumptionRow("transport_private", "diesel", 100.0),
    )
    args: dict[str, object] = {
        "entity": "Paese",
        "kind": "municipality",
        "year": year,
        "rows": rows,
        "production": (LocalProduction("pv", 200.0),),
        "shared_energy_mwh": 50.0,
        "population": 100,
    }
    args.update(kw)
    return Inventory(**args)  # type: ignore[arg-type]


def test_balance_by_hand_with_each_rule() -> None:
    # TCE 1000, NEEFE(2010) 0.3, PV 200 (0 t), shared 50
    local = compute_balance(_town(), table=TABLE)
    assert local.local_electricity_factor == pytest.approx(800 * 0.3 / 1000)  # 0.24
    expected = 1000 * 0.24 + 500 * 0.2 + 100 * 0.25  # 240 + 100 + 25
    assert local.total_emissions_t == pytest.approx(expected)
    assert local.emissions_by_sector["residential"] == pytest.approx(600 * 0.24 + 100)
    assert local.emissions_by_carrier["electricity"] == pytest.approx(240.0)
    assert local.avoided_by_local_t == pytest.approx(1000 * 0.3 - 240)
    assert local.per_capita_t == pytest.approx(expected / 100)
    assert local.shared_share == pytest.approx(0.05)

    shared = compute_balance(_town(), table=TABLE, electricity_rule="shared_only")
    assert shared.local_electricity_factor == pytest.approx(950 * 0.3 / 1000)
    national = compute_balance(_town(), table=TABLE, electricity_rule="national")
    assert national.local_electricity_factor == 0.3
    assert national.total_emissions_t == pytest.approx(300 + 100 + 25)


def test_emitting_local_production_enters_co2lpe() -> None:
    inv = _town(production=(LocalProduction("biogas", 200.0),))
    b = compute_balance(inv, table=TABLE)
    assert b.local_electricity_factor == pytest.approx((800 * 0.3 + 200 * 0.1) / 1000)


def test_fallback_year_is_warned_and_noted() -> None:
    with pytest.warns(FactorYearWarning):
        b = compute_balance(_town(year=2015), table=TABLE)
    assert b.national_electricity_factor is not None and b.national_electricity_factor.year == 2010
    assert any("2015" in n and "2010" in n for n in b.notes)


def test_errors_name_the_bad_input() -> None:
    with pytest.raises(ValueError, match="settore sconosciuto 'scuole'"):
        ConsumptionRow("scuole", "electricity", 1.0)
    with pytest.raises(ValueError, match="residential/electricity"):
        ConsumptionRow("residential", "electricity", -1.0)
    with pytest.raises(ValueError, match="energia condivisa"):
        _town(shared_energy_mwh=500.0)
    with pytest.raises(FactorError, match="district_heating"):
        compute_balance(_town(rows=(ConsumptionRow("residential", "district_heating", 10.0),)), table=TABLE)
    with pytest.raises(FactorError, match="gasolio_x"):
        compute_balance(_town(rows=(ConsumptionRow("residential", "gasolio_x", 10.0),)), table=TABLE)
    with pytest.raises(ValueError, match="electricity_rule"):
        compute_balance(_town(), table=TABLE, electricity_rule="boh")  # type: ignore[arg-type]


def test_district_heating_with_override() -> None:
    inv = _town(rows=(ConsumptionRow("residential", "district_heating", 100.0),))
    local = custom_factor("district_heating", 0.15, "rete locale", year=2010)
    b = compute_balance(inv, table=TABLE, overrides={"district_heating": local})
    assert b.total_emissions_t == pytest.approx(15.0)
    assert b.local_electricity_factor is None  # no electricity consumed


# --- BEI -> MEI ---------------------------------------------------------------------------------------------


def _gas_only(year: int, mwh: float, population: int) -> Inventory:
    rows = (ConsumptionRow("residential", "natural_gas", mwh),)
    return Inventory("Paese", "municipality", year, rows, population=population)


def test_reduction_and_progress_by_hand() -> None:
    bei = compute_balance(_gas_only(2005, 5000.0, 1000), table=TABLE)  # 1000 t
    mei = compute_balance(_gas_only(2020, 3500.0, 1000), table=TABLE)  # 700 t
    p = compare(bei, mei, target_reduction_pct=55.0, target_year=2030)
    assert p.baseline_t == pytest.approx(1000.0) and p.monitoring_t == pytest.approx(700.0)
    assert p.reduction_t == pytest.approx(300.0)
    assert p.reduction_pct == pytest.approx(30.0)
    assert p.target_t == pytest.approx(450.0)
    assert p.remaining_t == pytest.approx(250.0)
    assert p.achieved_share == pytest.approx(300 / 550)
    assert p.linear_path_pct == pytest.approx(55.0 * 15 / 25)  # 33 %
    assert not p.on_track
    series = progress_series(p)
    assert series["x"] == [2005, 2020, 2030]
    assert series["target_path"] == pytest.approx([1000.0, 670.0, 450.0])


def test_per_capita_comparison() -> None:
    bei = compute_balance(_gas_only(2005, 5000.0, 1000), table=TABLE)  # 1.0 t/ab.
    mei = compute_balance(_gas_only(2020, 4000.0, 1250), table=TABLE)  # 0.64 t/ab.
    p = compare(bei, mei, per_capita=True)
    assert p.reduction_pct == pytest.approx(36.0)
    no_pop_inv = Inventory("Paese", "municipality", 2020, (ConsumptionRow("other", "diesel", 1.0),))
    no_pop = compute_balance(no_pop_inv, table=TABLE)
    with pytest.raises(ValueError, match="popolazione"):
        compare(bei, no_pop, per_capita=True)
    with pytest.raises(ValueError, match="anno base"):
        compare(mei, bei)


# --- everything adds up --------------------------------------------------------------------------------------


def assert_adds_up(b: object) -> None:
    from condivisa.balance import Balance

    assert isinstance(b, Balance)
    total = b.total_emissions_t
    assert close(math.fsum(b.emissions_by_sector.values()), total)
    assert close(math.fsum(b.emissions_by_carrier.values()), total)
    assert close(math.fsum(r.t_co2 for r in b.rows), total)
    assert close(math.fsum(b.consumption_by_sector.values()), b.total_consumption_mwh)
    assert close(math.fsum(b.consumption_by_carrier.values()), b.total_consumption_mwh)
    m = balance_matrix(b)
    assert all(close(math.fsum(row), t) for row, t in zip(m["cells"], m["sector_totals"], strict=True))
    columns = [math.fsum(col) for col in zip(*m["cells"], strict=True)]
    assert all(close(c, t) for c, t in zip(columns, m["carrier_totals"], strict=True))
    assert close(m["total"], total)


rows_strategy = st.lists(
    st.builds(
        ConsumptionRow,
        sector=st.sampled_from(list(SECTORS)),
        carrier=st.sampled_from(["electricity", "natural_gas", "diesel", "biomass"]),
        mwh=st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(
    rows=rows_strategy,
    year=st.integers(min_value=2000, max_value=2030),
    pv=st.floats(min_value=0.0, max_value=1e6, allow_nan=False),
    biogas=st.floats(min_value=0.0, max_value=1e5, allow_nan=False),
    shared_fraction=st.floats(min_value=0.0, max_value=1.0),
    gep=st.floats(min_value=0.0, max_value=1e5, allow_nan=False),
    rule=st.sampled_from(["local", "shared_only", "national"]),
)
def test_random_inventories_add_up(
    rows: list[ConsumptionRow], year: int, pv: float, biogas: float, shared_fraction: float, gep: float, rule: str
) -> None:
    production = (LocalProduction("pv", pv), LocalProduction("biogas", biogas))
    inv = Inventory(
        "X",
        "district",
        year,
        tuple(rows),
        production=production,
        shared_energy_mwh=(pv + biogas) * shared_fraction,
        green_purchases_mwh=gep,
        population=1000,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FactorYearWarning)
        b = compute_balance(inv, table=TABLE, electricity_rule=rule)  # type: ignore[arg-type]
    assert_adds_up(b)
    if b.local_electricity_factor is not None:
        assert 0.0 <= b.local_electricity_factor <= 0.4 + 1e-12


# --- the demo municipality --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> tuple[object, object, object]:
    from condivisa.balance.demo import demo_balances

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return demo_balances()


def test_demo_balance_adds_up(demo: tuple[object, object, object]) -> None:
    from condivisa.balance import Balance, Progress

    bei, mei, progress = demo
    assert isinstance(bei, Balance) and isinstance(mei, Balance) and isinstance(progress, Progress)
    for b in (bei, mei):
        assert_adds_up(b)
        assert b.total_emissions_t > 0 and b.per_capita_t is not None
    assert (bei.year, mei.year) == (2005, 2025)
    assert mei.local_production_mwh > 0 and 0 < mei.shared_energy_mwh <= mei.local_production_mwh
    assert mei.local_electricity_factor is not None and mei.national_electricity_factor is not None
    assert mei.local_electricity_factor < mei.national_electricity_factor.value
    assert any("2023" in n for n in mei.notes)  # 2025 is not in the ISPRA series: nearest earlier year
    assert 0 < progress.reduction_pct < 100


def test_demo_chart_data(demo: tuple[object, object, object]) -> None:
    from condivisa.balance import Balance

    bei, mei, _ = demo
    assert isinstance(bei, Balance) and isinstance(mei, Balance)
    by_sector = sector_series([bei, mei])
    assert by_sector["x"] == [2005, 2025]
    for i, b in enumerate((bei, mei)):
        assert close(math.fsum(s["values"][i] for s in by_sector["series"]), b.total_emissions_t)
    by_carrier = carrier_series([bei, mei], "consumption")
    assert by_carrier["unit"] == "MWh"
    assert {s["key"] for s in by_carrier["series"]} >= {"electricity", "natural_gas"}
    for i, b in enumerate((bei, mei)):
        assert close(math.fsum(s["values"][i] for s in by_carrier["series"]), b.total_consumption_mwh)
