"""Plant economics: PNRR grant, cash flows, stakeholder split, indicators, sensitivity.

Expected values are worked out by hand in each test (annuity sums, band caps), not taken from the implementation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from importlib import resources
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.model.community import RegulationRule
from condivisa.planning.economics import (
    FLOW_COLUMNS,
    OWNER,
    EnergyInputs,
    MarketAssumptions,
    PlantEconomics,
    ProjectInputs,
    cash_flows,
    eligible_grant_eur,
    irr,
    lcoe_eur_mwh,
    npv,
    payback_years,
    regulation_shares,
    sensitivity,
    stakeholder_cash_flows,
    summary,
    vary,
)
from condivisa.rules.grants import load_grant_rules

# ---------------------------------------------------------------------------------------------------------------
# A toy project, small enough to check by hand.
#   10 kW at 1,000 €/kW -> 10,000 € in year 0; O&M 15 €/kW/yr -> 150 €/yr; no grant, no degradation, 3 years.
#   Energy sale 25 MWh × 100 €/MWh = 2,500 €; TIP 15 MWh × 100 = 1,500 €; valorisation 15 MWh × 10 = 150 €.
#   Net of each year of operation: 2,500 + 1,500 + 150 - 150 = 4,000 €.
# ---------------------------------------------------------------------------------------------------------------


def toy(plant: dict[str, Any] | None = None, market: dict[str, Any] | None = None, **energy: Any) -> ProjectInputs:
    p: dict[str, Any] = {
        "power_kw": 10.0,
        "capex_eur_per_kw": 1000.0,
        "opex_eur_per_kw_year": 15.0,
        "degradation_per_year": 0.0,
        "lifetime_years": 3,
    }
    m: dict[str, Any] = {"sale_price_eur_mwh": 100.0, "discount_rate": 0.05}
    e: dict[str, Any] = {
        "injected_kwh": 25_000.0,
        "incentivised_kwh": 15_000.0,
        "tip_eur_mwh": 100.0,
        "valorisation_eur_mwh": 10.0,
    }
    p.update(plant or {})
    m.update(market or {})
    e.update(energy)
    return ProjectInputs(PlantEconomics(**p), MarketAssumptions(**m), EnergyInputs(**e))


def test_toy_cash_flows_by_hand() -> None:
    cf = cash_flows(toy())
    assert list(cf.index) == [0, 1, 2, 3]
    assert cf.loc[0, "capex"] == -10_000.0
    assert cf.loc[0, "net"] == -10_000.0
    for year in (1, 2, 3):
        assert cf.loc[year, "energy_sale"] == pytest.approx(2_500.0)
        assert cf.loc[year, "tip"] == pytest.approx(1_500.0)
        assert cf.loc[year, "valorisation"] == pytest.approx(150.0)
        assert cf.loc[year, "opex"] == pytest.approx(-150.0)
        assert cf.loc[year, "net"] == pytest.approx(4_000.0)
    assert cf["cumulative"].tolist() == pytest.approx([-10_000.0, -6_000.0, -2_000.0, 2_000.0])
    assert cf["discounted"].tolist() == pytest.approx([-10_000.0, 4_000 / 1.05, 4_000 / 1.05**2, 4_000 / 1.05**3])


def test_toy_npv_irr_payback_lcoe() -> None:
    inputs = toy()
    expected_npv = -10_000 + 4_000 / 1.05 + 4_000 / 1.05**2 + 4_000 / 1.05**3  # 892.99 €
    s = summary(inputs)
    assert expected_npv == pytest.approx(892.99, abs=0.01)
    assert s.npv_eur == pytest.approx(expected_npv)
    assert npv(0.05, [-10_000, 4_000, 4_000, 4_000]) == pytest.approx(expected_npv)

    # IRR: the annuity factor must be 10,000 / 4,000 = 2.5, which happens near 9.7 %.
    assert s.irr is not None
    assert 0.096 < s.irr < 0.098
    assert npv(s.irr, [-10_000, 4_000, 4_000, 4_000]) == pytest.approx(0.0, abs=1e-6)

    # Simple payback: cumulative -2,000 after year 2, +4,000 in year 3 -> 2 + 2,000 / 4,000.
    assert s.payback_years == pytest.approx(2.5)
    # Discounted: cumulative after year 2 = -10,000 + 4,000/1.05 + 4,000/1.05²; year 3 brings 4,000/1.05³.
    after_two = -10_000 + 4_000 / 1.05 + 4_000 / 1.05**2
    assert s.discounted_payback_years == pytest.approx(2 + -after_two / (4_000 / 1.05**3))
    assert s.discounted_payback_years == pytest.approx(2.7416, abs=1e-4)

    # LCOE: (10,000 + 150 × annuity) / (25 MWh × annuity), annuity = Σ 1/1.05^t for t = 1..3.
    annuity = 1 / 1.05 + 1 / 1.05**2 + 1 / 1.05**3
    assert s.lcoe_eur_mwh == pytest.approx((10_000 + 150 * annuity) / (25 * annuity))


def test_toy_taxes_by_hand() -> None:
    # Taxable income = 4,000 - depreciation 10,000 / 3 = 666.67 €; at 24 % the tax is 160 €.
    cf = cash_flows(toy(market={"tax_rate": 0.24}))
    assert cf.loc[0, "taxes"] == 0.0
    assert cf.loc[1:, "taxes"].tolist() == pytest.approx([-0.24 * (4_000 - 10_000 / 3)] * 3)
    assert cf.loc[1, "net"] == pytest.approx(4_000 - 160.0)


def test_depreciation_is_on_the_cost_net_of_the_grant() -> None:
    # Grant 40 % of 10,000 = 4,000 €, so depreciation (10,000 - 4,000) / 3 = 2,000 €/yr; F = 0.5 halves the TIP:
    # income 2,500 + 750 + 150 - 150 = 3,250 €, taxable 1,250 €, tax at 24 % = 300 €.
    cf = cash_flows(toy(plant={"grant_share": 0.40, "municipality_population": 2_000}, market={"tax_rate": 0.24}))
    assert cf.loc[1:, "taxes"].tolist() == pytest.approx([-300.0] * 3)


def test_loss_years_pay_no_tax() -> None:
    # O&M of 1,000 €/kW/yr = 10,000 € a year dwarfs the income: no tax, and no negative tax either.
    cf = cash_flows(toy(plant={"opex_eur_per_kw_year": 1_000.0}, market={"tax_rate": 0.5}))
    assert (cf["taxes"] == 0.0).all()


def test_inflation_leaves_real_npv_unchanged_without_tip() -> None:
    # Every flow but the TIP is indexed to inflation and discounting uses the nominal rate: with no TIP and no tax,
    # the NPV and the real IRR cannot depend on inflation.
    real = summary(toy(tip_eur_mwh=0.0))
    inflated = summary(toy(market={"inflation": 0.03}, tip_eur_mwh=0.0))
    assert inflated.npv_eur == pytest.approx(real.npv_eur)
    assert real.irr is not None and inflated.irr is not None
    assert inflated.irr == pytest.approx(real.irr)
    cf = cash_flows(toy(market={"inflation": 0.03}, tip_eur_mwh=0.0))
    assert cf.loc[2, "opex"] == pytest.approx(-150.0 * 1.03**2)


def test_inflation_erodes_the_nominal_tip() -> None:
    base = summary(toy())
    inflated = summary(toy(market={"inflation": 0.03}))
    # The TIP stays at 1,500 € nominal a year, so its real value falls and so does the NPV.
    assert cash_flows(toy(market={"inflation": 0.03}))["tip"].iloc[1:].tolist() == pytest.approx([1_500.0] * 3)
    assert inflated.npv_eur < base.npv_eur


# ---------------------------------------------------------------------------------------------------------------
# Grant
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("power", "cap", "grant"),
    [
        (20.0, 1500.0, 0.40 * 1500 * 20),  # 12,000: exactly 20 kW is in the first band
        (20.01, 1200.0, 0.40 * 1200 * 20.01),  # 9,604.80
        (200.0, 1200.0, 0.40 * 1200 * 200),  # 96,000
        (200.01, 1100.0, 0.40 * 1100 * 200.01),
        (600.0, 1100.0, 0.40 * 1100 * 600),  # 264,000
        (600.01, 1050.0, 0.40 * 1050 * 600.01),
        (1000.0, 1050.0, 0.40 * 1050 * 1000),  # 420,000
    ],
)
def test_grant_cap_bands(power: float, cap: float, grant: float) -> None:
    # A cost of 5,000 €/kW is above every cap, so the cap decides.
    result = eligible_grant_eur(power, 5_000.0 * power, 0.40, municipality_population=10_000)
    assert result.cap_eur_per_kw == cap
    assert result.eligible_cost_eur == pytest.approx(cap * power)
    assert result.amount_eur == pytest.approx(grant)
    assert result.eligible and result.reasons == ()


def test_grant_boundary_literals() -> None:
    assert eligible_grant_eur(20.0, 1e6, 0.40, 1_000).amount_eur == pytest.approx(12_000.0)
    assert eligible_grant_eur(20.01, 1e6, 0.40, 1_000).amount_eur == pytest.approx(9_604.8)


def test_grant_below_cap_uses_actual_cost() -> None:
    # 100 kW at 900 €/kW = 90,000 €, below the 120,000 € cap; 25 % of it.
    result = eligible_grant_eur(100.0, 90_000.0, 0.25, 5_000)
    assert result.eligible_cost_eur == 90_000.0
    assert result.amount_eur == pytest.approx(22_500.0)


@pytest.mark.parametrize("share", [0.41, 0.5, -0.01])
def test_grant_share_out_of_range_is_rejected(share: float) -> None:
    with pytest.raises(ValueError, match="grant_share"):
        eligible_grant_eur(50.0, 50_000.0, share, 1_000)
    with pytest.raises(ValueError, match="grant_share"):
        PlantEconomics(power_kw=50.0, capex_eur_per_kw=1000.0, opex_eur_per_kw_year=10.0, grant_share=share)


@pytest.mark.parametrize("population", [50_000, 120_000])
def test_large_municipality_gets_no_grant(population: int) -> None:
    result = eligible_grant_eur(50.0, 50_000.0, 0.40, population)
    assert result.amount_eur == 0.0
    assert not result.eligible
    assert any("50.000" in r for r in result.reasons)


def test_municipality_just_below_the_limit_is_eligible() -> None:
    assert eligible_grant_eur(50.0, 50_000.0, 0.40, 49_999).amount_eur == pytest.approx(20_000.0)


def test_unknown_population_is_noted_not_refused() -> None:
    result = eligible_grant_eur(50.0, 50_000.0, 0.40)
    assert result.amount_eur == pytest.approx(20_000.0)
    assert any("popolazione" in n for n in result.notes)


def test_aid_configuration_gets_no_grant() -> None:
    result = eligible_grant_eur(50.0, 50_000.0, 0.40, 1_000, configuration="AID")
    assert result.amount_eur == 0.0
    assert any("AID" in r for r in result.reasons)


@pytest.mark.parametrize(
    ("dates", "eligible"),
    [
        ({"application_date": dt.date(2025, 11, 30)}, True),
        ({"application_date": dt.date(2025, 12, 1)}, False),
        ({"works_completed": dt.date(2026, 6, 30)}, True),
        ({"works_completed": dt.date(2026, 7, 1)}, False),
        ({"in_operation": dt.date(2027, 12, 31)}, True),
        ({"in_operation": dt.date(2028, 1, 1)}, False),
        ({"works_completed": dt.date(2025, 1, 15), "in_operation": dt.date(2027, 1, 15)}, True),
        ({"works_completed": dt.date(2025, 1, 15), "in_operation": dt.date(2027, 1, 16)}, False),
    ],
)
def test_grant_deadlines(dates: dict[str, dt.date], eligible: bool) -> None:
    result = eligible_grant_eur(
        50.0,
        50_000.0,
        0.40,
        1_000,
        application_date=dates.get("application_date"),
        works_completed=dates.get("works_completed"),
        in_operation=dates.get("in_operation"),
    )
    assert result.eligible is eligible
    assert result.amount_eur == (pytest.approx(20_000.0) if eligible else 0.0)


@pytest.mark.parametrize("power", [0.0, -5.0, 1000.1])
def test_grant_power_outside_bands_is_rejected(power: float) -> None:
    with pytest.raises(ValueError, match="kW"):
        eligible_grant_eur(power, 10_000.0, 0.2, 1_000)


def test_grants_toml_figures_and_sources() -> None:
    rules = load_grant_rules()
    assert [(c.max_power_kw, c.eur_per_kw) for c in rules.cost_caps] == [
        (20.0, 1500.0),
        (200.0, 1200.0),
        (600.0, 1100.0),
        (1000.0, 1050.0),
    ]
    assert rules.max_share == 0.40
    assert rules.population_below == 50_000
    assert rules.eligible_configurations == frozenset({"CER", "AUC"})
    assert rules.works_complete_by == dt.date(2026, 6, 30)
    assert rules.in_operation_by == dt.date(2027, 12, 31)
    assert rules.applications_close == dt.date(2025, 11, 30)
    assert all(c.text for c in rules.cost_caps)
    with (resources.files("condivisa.rules") / "data" / "grants.toml").open("rb") as fh:
        doc = tomllib.load(fh)
    for name, table in doc.items():
        tables = table if isinstance(table, list) else [table]
        for t in tables:
            assert str(t.get("text", "")).strip(), f"grants.toml [{name}] has no source text"


# ---------------------------------------------------------------------------------------------------------------
# Grant in the cash flows, TIP reduction, degradation, inverter
# ---------------------------------------------------------------------------------------------------------------


def test_grant_enters_year_zero_and_halves_the_tip_at_forty_percent() -> None:
    # 10 kW at 1,000 €/kW, cap 1,500 €/kW does not bind: grant 40 % × 10,000 = 4,000 €; F = 0.5.
    cf = cash_flows(toy(plant={"grant_share": 0.40, "municipality_population": 2_000}))
    assert cf.loc[0, "grant"] == pytest.approx(4_000.0)
    assert cf.loc[0, "net"] == pytest.approx(-6_000.0)
    assert cf.loc[1, "tip"] == pytest.approx(750.0)
    assert cf.loc[1, "valorisation"] == pytest.approx(150.0)  # F never touches the valorisation


def test_no_grant_awarded_means_no_tip_reduction() -> None:
    cf = cash_flows(toy(plant={"grant_share": 0.40, "municipality_population": 80_000}))
    assert cf.loc[0, "grant"] == 0.0
    assert cf.loc[1, "tip"] == pytest.approx(1_500.0)


def test_tip_reduction_override() -> None:
    cf = cash_flows(toy(plant={"grant_share": 0.40, "municipality_population": 2_000}, tip_reduction=0.0))
    assert cf.loc[1, "tip"] == pytest.approx(1_500.0)
    cf = cash_flows(toy(tip_reduction=0.2))
    assert cf.loc[1, "tip"] == pytest.approx(1_200.0)


def test_degradation_lowers_later_years() -> None:
    d = 0.005
    cf = cash_flows(toy(plant={"degradation_per_year": d, "lifetime_years": 10}))
    injected = cf["injected_kwh"].to_numpy()
    assert injected[0] == 0.0
    assert injected[1] == pytest.approx(25_000.0)  # the first year is the input
    assert injected[10] == pytest.approx(25_000.0 * 0.995**9)
    assert np.all(np.diff(injected[1:]) < 0)
    assert np.all(np.diff(cf["incentivised_kwh"].to_numpy()[1:]) < 0)
    assert np.all(np.diff(cf["energy_sale"].to_numpy()[1:]) < 0)
    assert np.all(np.diff(cf["tip"].to_numpy()[1:]) < 0)


def test_inverter_cost_in_its_year_only() -> None:
    cf = cash_flows(
        toy(plant={"lifetime_years": 20, "inverter_replacement_year": 12, "inverter_cost_eur_per_kw": 120.0})
    )
    assert cf.loc[12, "inverter"] == pytest.approx(-1_200.0)
    assert (cf["inverter"].drop(index=12) == 0.0).all()
    # Given in money of year 0, the replacement costs 1,200 × 1.02^12 € nominal in year 12 at 2 % inflation.
    inflated = cash_flows(
        toy(
            plant={"lifetime_years": 20, "inverter_replacement_year": 12, "inverter_cost_eur_per_kw": 120.0},
            market={"inflation": 0.02},
        )
    )
    assert inflated.loc[12, "inverter"] == pytest.approx(-1_200.0 * 1.02**12)


def test_tip_is_paid_twenty_years_only() -> None:
    cf = cash_flows(toy(plant={"lifetime_years": 25}))
    assert (cf.loc[1:20, "tip"] > 0).all()
    assert (cf.loc[21:25, "tip"] == 0.0).all()
    assert (cf.loc[21:25, "valorisation"] > 0).all()


def test_from_amounts() -> None:
    e = EnergyInputs.from_amounts(
        injected_kwh=25_000.0, incentivised_kwh=15_000.0, tip_eur=1_500.0, valorisation_eur=150.0, tip_reduction=0.0
    )
    assert (e.tip_eur_mwh, e.valorisation_eur_mwh) == pytest.approx((100.0, 10.0))
    with pytest.raises(ValueError, match="incentivised_kwh"):
        EnergyInputs.from_amounts(injected_kwh=1.0, incentivised_kwh=0.0, tip_eur=5.0, valorisation_eur=0.0)


# ---------------------------------------------------------------------------------------------------------------
# Stakeholders
# ---------------------------------------------------------------------------------------------------------------

REGULATION = {"fund:social": 0.10, "producers": 0.30, "consumers": 0.60}


def test_stakeholder_split_by_hand() -> None:
    flows = stakeholder_cash_flows(toy(), REGULATION)
    net = flows.xs("net", axis=1, level="item")
    # Incentives 1,650 € a year: consumers 60 % = 990, fund 10 % = 165, owner 30 % = 495 + sale 2,500 - O&M 150.
    assert net.loc[1, "consumers"] == pytest.approx(990.0)
    assert net.loc[1, "fund:social"] == pytest.approx(165.0)
    assert net.loc[1, OWNER] == pytest.approx(495.0 + 2_500.0 - 150.0)
    assert net.loc[0, OWNER] == -10_000.0
    assert net.loc[0, "consumers"] == 0.0


def test_regulation_rules_are_accepted() -> None:
    rules = [
        RegulationRule(to="fund:social", share=0.1),
        RegulationRule(to="producers", share=0.3, by="incentivised_injection"),
        RegulationRule(to="consumers", share=0.6, by="shared_withdrawal"),
    ]
    assert regulation_shares(rules) == pytest.approx({"fund:social": 0.1, OWNER: 0.3, "consumers": 0.6})
    with pytest.raises(ValueError, match="sommano"):
        regulation_shares({"producers": 0.5, "consumers": 0.6})


def test_excess_is_carved_out_first() -> None:
    # incentivised / injected = 15 / 25 = 60 %, threshold 55 % (no grant): excess = 5 % of the 1,500 € TIP = 75 €.
    flows = stakeholder_cash_flows(toy(), {"producers": 0.5, "consumers": 0.5}, excess_to="fund:social")
    assert flows.loc[1, ("fund:social", "tip")] == pytest.approx(75.0)
    assert flows.loc[1, ("consumers", "tip")] == pytest.approx(0.5 * (1_500.0 - 75.0))
    assert flows.loc[1, ("consumers", "valorisation")] == pytest.approx(75.0)


def test_owner_is_taxed_on_its_own_share_only() -> None:
    # Owner's taxable income: 2,500 + 30 % × 1,650 - 150 - 10,000 / 3 = -488.33: no tax.
    cf = cash_flows(toy(market={"tax_rate": 0.24}), regulation=REGULATION)
    assert (cf["taxes"] == 0.0).all()
    owner = summary(toy(), regulation=REGULATION, stakeholder=OWNER)
    project = summary(toy(), regulation=REGULATION)
    assert owner.npv_eur < project.npv_eur
    consumers = summary(toy(), regulation=REGULATION, stakeholder="consumers")
    assert consumers.irr is None  # only income: no rate makes the NPV zero
    assert consumers.payback_years == 0.0


money = st.floats(0.0, 300.0, allow_nan=False)


@st.composite
def projects(draw: st.DrawFn) -> tuple[ProjectInputs, dict[str, float], str | None]:
    injected = draw(st.floats(0.0, 2e6, allow_nan=False))
    plant = PlantEconomics(
        power_kw=draw(st.floats(1.0, 1000.0)),
        capex_eur_per_kw=draw(st.floats(0.0, 3000.0)),
        opex_eur_per_kw_year=draw(st.floats(0.0, 60.0)),
        inverter_replacement_year=draw(st.none() | st.integers(1, 10)),
        inverter_cost_eur_per_kw=draw(st.floats(0.0, 200.0)),
        degradation_per_year=draw(st.floats(0.0, 0.02)),
        grant_share=draw(st.sampled_from([0.0, 0.2, 0.4])),
        municipality_population=draw(st.none() | st.integers(0, 100_000)),
        lifetime_years=draw(st.integers(10, 30)),
    )
    market = MarketAssumptions(
        sale_price_eur_mwh=draw(money),
        price_escalation=draw(st.floats(-0.03, 0.03)),
        discount_rate=draw(st.floats(0.0, 0.1)),
        tax_rate=draw(st.floats(0.0, 0.5)),
        inflation=draw(st.floats(0.0, 0.05)),
    )
    energy = EnergyInputs(
        injected_kwh=injected,
        incentivised_kwh=injected * draw(st.floats(0.0, 1.0)),
        tip_eur_mwh=draw(st.floats(0.0, 130.0)),
        valorisation_eur_mwh=draw(st.floats(0.0, 15.0)),
    )
    weights = draw(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4).filter(lambda w: sum(w) > 0.01))
    names = ["producers", "consumers", "fund:social", "m7"]
    regulation = {n: w / sum(weights) for n, w in zip(names, weights, strict=True)}
    excess_to = draw(st.sampled_from([None, "consumers", "fund:poverty"]))
    return ProjectInputs(plant, market, energy), regulation, excess_to


@settings(max_examples=60, deadline=None)
@given(projects())
def test_stakeholder_flows_add_up_to_the_project(case: tuple[ProjectInputs, dict[str, float], str | None]) -> None:
    inputs, regulation, excess_to = case
    project = cash_flows(inputs, regulation=regulation, excess_to=excess_to)
    groups = stakeholder_cash_flows(inputs, regulation, excess_to=excess_to)
    scale = 1e-9 * max(1.0, float(project[list(FLOW_COLUMNS)].abs().to_numpy().max()))
    for item in (*FLOW_COLUMNS, "net"):
        total = groups.xs(item, axis=1, level="item").to_numpy().sum(axis=1)
        np.testing.assert_allclose(total, project[item].to_numpy(), rtol=0, atol=scale, err_msg=item)
    # Nobody but the owner pays anything, and every recipient's incentive is non-negative.
    non_owner = groups.drop(columns=OWNER, level="stakeholder")
    assert (non_owner.xs("net", axis=1, level="item").to_numpy() >= -scale).all()


# ---------------------------------------------------------------------------------------------------------------
# Indicators on plain flows
# ---------------------------------------------------------------------------------------------------------------


def test_irr_undefined_cases() -> None:
    assert irr([100.0, 50.0]) is None
    assert irr([-100.0, -50.0]) is None
    assert irr([-100.0]) is None
    assert irr([0.0, 0.0]) is None
    assert irr([-100.0, 110.0]) == pytest.approx(0.10)


def test_payback_edge_cases() -> None:
    assert payback_years([-100.0, 10.0, 10.0]) is None
    assert payback_years([0.0, 10.0]) == 0.0
    # Cumulative -100, -40, +20, -10 (a late replacement), +50: paid back for good during year 4.
    assert payback_years([-100.0, 60.0, 60.0, -30.0, 60.0]) == pytest.approx(3 + 10 / 60)
    assert payback_years([-100.0, 110.0], rate=0.10) == pytest.approx(1.0)


def test_lcoe_plain() -> None:
    # 1,000 € today, 100 MWh in year 1 at 0 %: 10 €/MWh.
    assert lcoe_eur_mwh(0.0, [1_000.0, 0.0], [0.0, 100_000.0]) == pytest.approx(10.0)
    assert lcoe_eur_mwh(0.05, [1_000.0, 0.0], [0.0, 0.0]) is None
    with pytest.raises(ValueError, match="lunghezza"):
        lcoe_eur_mwh(0.05, [1.0, 2.0], [1.0])


# ---------------------------------------------------------------------------------------------------------------
# Sensitivity
# ---------------------------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.0, 400.0, allow_nan=False), min_size=2, max_size=6),
    st.floats(0.0, 0.6),
    st.sampled_from([0.0, 0.4]),
)
def test_higher_sale_price_never_lowers_npv(prices: list[float], tax: float, grant: float) -> None:
    base = toy(
        plant={"grant_share": grant, "lifetime_years": 20, "degradation_per_year": 0.005}, market={"tax_rate": tax}
    )
    table = sensitivity(base, "sale_price_eur_mwh", sorted(prices))
    assert list(table.index) == sorted(prices)
    assert np.all(np.diff(table["npv_eur"].to_numpy()) >= -1e-6)


def test_participation_scales_incentives() -> None:
    table = sensitivity(toy(), "participation", [0.6, 0.8, 1.0])
    # Each 0.2 of participation is 3 MWh of incentivised energy × 110 €/MWh = 330 € a year, over 3 years.
    annuity = 1 / 1.05 + 1 / 1.05**2 + 1 / 1.05**3
    assert np.diff(table["npv_eur"].to_numpy()) == pytest.approx([330 * annuity, 330 * annuity])
    assert table["npv_eur"].loc[1.0] == pytest.approx(summary(toy()).npv_eur)
    with pytest.raises(ValueError, match="participation"):
        sensitivity(toy(), "participation", [1.2])


def test_zonal_price_moves_sale_and_tip_in_opposite_directions() -> None:
    def tip_of_price(pz: float) -> float:  # a ≤ 200 kW class in the North, by the decree's formula
        return min(120.0, 80.0 + max(0.0, 180.0 - pz)) + 10.0

    low = vary(toy(), "zonal_price_eur_mwh", 80.0, tip_of_price=tip_of_price)
    high = vary(toy(), "zonal_price_eur_mwh", 160.0, tip_of_price=tip_of_price)
    assert (low.energy.tip_eur_mwh, high.energy.tip_eur_mwh) == (130.0, 110.0)
    assert (low.market.sale_price_eur_mwh, high.market.sale_price_eur_mwh) == (80.0, 160.0)
    table = sensitivity(toy(), "zonal_price_eur_mwh", [80.0, 160.0], tip_of_price=tip_of_price)
    # Year flow changes by 25 MWh × 80 €/MWh - 15 MWh × 20 €/MWh = 1,700 € a year.
    annuity = 1 / 1.05 + 1 / 1.05**2 + 1 / 1.05**3
    npv_by_price = table["npv_eur"]
    assert npv_by_price.loc[160.0] - npv_by_price.loc[80.0] == pytest.approx(1_700 * annuity)
    with pytest.raises(ValueError, match="tip_of_price"):
        sensitivity(toy(), "zonal_price_eur_mwh", [100.0])


def test_tip_override_and_unknown_parameter() -> None:
    table = sensitivity(toy(), "tip_eur_mwh", [0.0, 100.0])
    annuity = 1 / 1.05 + 1 / 1.05**2 + 1 / 1.05**3
    npv_by_tip = table["npv_eur"]
    assert npv_by_tip.loc[100.0] - npv_by_tip.loc[0.0] == pytest.approx(1_500 * annuity)
    with pytest.raises(ValueError, match="sconosciuto"):
        sensitivity(toy(), "price_of_tea", [1.0])
    with pytest.raises(ValueError, match="intero"):
        sensitivity(toy(), "lifetime_years", [2.5])
    assert sensitivity(toy(), "lifetime_years", [3.0])["npv_eur"].loc[3.0] == pytest.approx(summary(toy()).npv_eur)


# ---------------------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------------------

PLANT = {"power_kw": 10.0, "capex_eur_per_kw": 1000.0, "opex_eur_per_kw_year": 15.0}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"power_kw": -5.0}, "power_kw"),
        ({"power_kw": 0.0}, "power_kw"),
        ({"power_kw": 1500.0}, "power_kw"),
        ({"lifetime_years": 0}, "lifetime_years"),
        ({"capex_eur_per_kw": -1.0}, "capex_eur_per_kw"),
        ({"degradation_per_year": 1.0}, "degradation_per_year"),
        ({"inverter_replacement_year": 21}, "inverter_replacement_year"),
        ({"opex_eur_per_kw_year": float("nan")}, "opex_eur_per_kw_year"),
    ],
)
def test_bad_plant(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        PlantEconomics(**{**PLANT, **change})


@pytest.mark.parametrize("rate", [-1.0, -1.5])
def test_discount_rate_at_or_below_minus_one(rate: float) -> None:
    with pytest.raises(ValueError, match="discount_rate"):
        MarketAssumptions(sale_price_eur_mwh=100.0, discount_rate=rate)
    with pytest.raises(ValueError, match="rate"):
        npv(rate, [-1.0, 2.0])


def test_bad_market_and_energy() -> None:
    with pytest.raises(ValueError, match="tax_rate"):
        MarketAssumptions(sale_price_eur_mwh=100.0, tax_rate=1.5)
    with pytest.raises(ValueError, match="incentivised_kwh"):
        EnergyInputs(injected_kwh=100.0, incentivised_kwh=150.0, tip_eur_mwh=100.0, valorisation_eur_mwh=10.0)
    with pytest.raises(ValueError, match="withdrawn_kwh"):
        EnergyInputs(
            injected_kwh=100.0, incentivised_kwh=80.0, tip_eur_mwh=100.0, valorisation_eur_mwh=10.0, withdrawn_kwh=50.0
        )
    with pytest.raises(ValueError, match="injected_kwh"):
        EnergyInputs(injected_kwh=-1.0, incentivised_kwh=0.0, tip_eur_mwh=100.0, valorisation_eur_mwh=10.0)
    with pytest.raises(ValueError, match="flows"):
        npv(0.05, [])


def test_bad_regulation_and_excess_target() -> None:
    with pytest.raises(ValueError, match="excess_to"):
        stakeholder_cash_flows(toy(), REGULATION, excess_to="producers")
    with pytest.raises(ValueError, match="excess_to"):
        cash_flows(toy(), excess_to="consumers")
    with pytest.raises(ValueError, match="stakeholder"):
        summary(toy(), regulation=REGULATION, stakeholder="nobody")
    with pytest.raises(ValueError, match="quota"):
        regulation_shares({"producers": -0.2, "consumers": 1.2})


def test_inputs_are_immutable() -> None:
    inputs = toy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        inputs.plant.power_kw = 20.0  # type: ignore[misc]
