"""Savings verified on the constructed dataset: a reporting year 10 % lower in known months."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.energy_management.baseline import fit_baseline
from condivisa.energy_management.savings import (
    ASHRAE14_FACTOR,
    effective_points,
    normalized_savings,
    savings_uncertainty,
    t_value,
    verify_savings,
)
from tests.energy_management.test_baseline import baseline_year, monthly_drivers, noisy_consumption

SAVING_MONTHS = (1, 2, 3, 10, 11, 12)
"""Months of 2025 in which consumption is exactly 10 % below what the 2024 behaviour gives."""


def reporting_year() -> tuple[pd.Series, pd.DataFrame, float]:
    """2025: warmer (+0.8 °C), other activity; returns consumption, drivers and the known savings [kWh]."""
    drivers = monthly_drivers(2025, shift=0.8)
    unchanged = noisy_consumption(drivers, 50002)
    factor = np.where(np.isin(drivers.index.month, SAVING_MONTHS), 0.9, 1.0)
    actual = unchanged * factor
    known = float((unchanged - actual).sum())
    return actual, drivers, known


def test_verified_savings_equal_the_known_value() -> None:
    consumption, drivers = baseline_year()
    model = fit_baseline(consumption, drivers)
    actual, rep_drivers, known = reporting_year()
    report = verify_savings(model, actual, rep_drivers, confidence=0.90)
    assert known > 4000.0  # about 10 % of six winter months
    # The gap to the known value is the baseline's prediction error plus the reporting year's noise: a few
    # percent, and within the uncertainty the method reports.
    assert report.avoided_energy_kwh == pytest.approx(known, rel=0.03)
    u = report.uncertainty
    assert abs(report.avoided_energy_kwh - known) <= u.absolute_kwh
    assert u.absolute_kwh > 0 and u.m == 12 and u.confidence == 0.90
    assert 0 < u.fractional < 0.1
    assert report.meets_ashrae14 and report.fsu_68 < u.fractional
    lo, hi = report.interval_kwh
    assert lo < known < hi
    periods = report.periods
    assert periods["cumulative_avoided_energy"].iloc[-1] == pytest.approx(report.avoided_energy_kwh)
    assert periods["avoided_energy"].sum() == pytest.approx(
        report.adjusted_baseline_kwh + report.non_routine_kwh - report.actual_kwh
    )
    saving = np.isin(periods.index.month, SAVING_MONTHS)
    assert periods.loc[saving, "enpi_regression"].to_numpy() == pytest.approx(0.9, abs=0.02)
    assert periods.loc[~saving, "enpi_regression"].to_numpy() == pytest.approx(1.0, abs=0.02)
    assert report.savings_fraction == pytest.approx(known / report.adjusted_baseline_kwh, rel=0.03)


def test_uncertainty_formula_by_hand() -> None:
    consumption, drivers = baseline_year()
    model = fit_baseline(consumption, drivers)
    actual, rep_drivers, _ = reporting_year()
    report = verify_savings(model, actual, rep_drivers, confidence=0.68)
    rho = max(model.autocorrelation, 0.0)
    n_eff = 12 * (1 - rho) / (1 + rho)
    t = t_value(0.68, 9)
    expected = (
        ASHRAE14_FACTOR
        * t
        * (model.cv_rmse_pct / 100)
        * math.sqrt((12 / n_eff) * (1 + 2 / n_eff) / 12)
        * report.adjusted_baseline_kwh
    )
    assert report.uncertainty.absolute_kwh == pytest.approx(expected)
    assert report.fsu_68 == pytest.approx(expected / report.avoided_energy_kwh)
    assert t_value(0.95, 1000) == pytest.approx(1.962, abs=1e-3)
    assert effective_points(12, -0.3) == 12
    assert effective_points(12, 0.5) == pytest.approx(4.0)


def test_non_routine_adjustment_adds_to_the_baseline() -> None:
    consumption, drivers = baseline_year()
    model = fit_baseline(consumption, drivers)
    actual, rep_drivers, known = reporting_year()
    # A new wing adds 300 kWh in each of the last three months: metered, but not the measures' fault.
    added = pd.Series(300.0, index=actual.index[-3:])
    base = verify_savings(model, actual, rep_drivers)
    report = verify_savings(
        model, actual + added.reindex(actual.index, fill_value=0.0), rep_drivers, non_routine_adjustments=added
    )
    assert report.non_routine_kwh == pytest.approx(900.0)
    assert report.avoided_energy_kwh == pytest.approx(base.avoided_energy_kwh)
    assert report.avoided_energy_kwh == pytest.approx(known, rel=0.03)
    with pytest.raises(ValueError, match="fuori"):
        verify_savings(model, actual.iloc[:6], rep_drivers, non_routine_adjustments=added)


def test_missing_reporting_period_is_excluded() -> None:
    consumption, drivers = baseline_year()
    model = fit_baseline(consumption, drivers)
    actual, rep_drivers, _ = reporting_year()
    holed = actual.copy()
    holed.iloc[6] = np.nan
    report = verify_savings(model, holed, rep_drivers)
    assert report.excluded == (actual.index[6],) and report.uncertainty.m == 11


def test_normalized_savings_under_standard_conditions() -> None:
    consumption, drivers = baseline_year()
    baseline = fit_baseline(consumption, drivers)
    actual, rep_drivers, _ = reporting_year()
    everywhere = actual / np.where(np.isin(actual.index.month, (1, 2, 3, 10, 11, 12)), 0.9, 1.0) * 0.9
    reporting = fit_baseline(everywhere, rep_drivers)  # the whole year 10 % lower
    # Standard conditions: the mean of the two years' drivers, month by month.
    standard = pd.DataFrame((drivers.to_numpy() + rep_drivers.to_numpy()) / 2, columns=drivers.columns)
    result = normalized_savings(baseline, reporting, standard)
    assert result.savings_fraction == pytest.approx(0.10, abs=0.005)
    assert result.savings_kwh == pytest.approx(0.1 * result.baseline_kwh, rel=0.05)
    assert result.uncertainty_kwh > 0 and result.fractional_uncertainty < 0.1


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.8, 1.2), st.floats(-3.0, 3.0))
def test_savings_are_zero_when_nothing_changed(seed: int, activity_scale: float, shift: float) -> None:
    consumption, drivers = baseline_year()
    model = fit_baseline(consumption, drivers)
    rng = np.random.default_rng(seed)
    rep = monthly_drivers(2025, shift=shift)
    rep["activity"] = rep["activity"] * activity_scale * rng.uniform(0.9, 1.1, len(rep))
    unchanged = model.predict(rep)  # consumption exactly as the baseline behaviour gives
    report = verify_savings(model, unchanged, rep)
    assert report.avoided_energy_kwh == pytest.approx(0.0, abs=1e-6)
    assert (report.periods["cumulative_avoided_energy"].abs() < 1e-6).all()
    assert report.uncertainty.absolute_kwh > 0  # the uncertainty is still reported
    assert not report.meets_ashrae14


def test_savings_uncertainty_input_checks() -> None:
    consumption, drivers = baseline_year()
    model = fit_baseline(consumption, drivers)
    with pytest.raises(ValueError):
        savings_uncertainty(model, 0, 1000.0, 100.0)
    with pytest.raises(ValueError):
        t_value(1.0, 5)
    assert math.isnan(savings_uncertainty(model, 12, 1000.0, 0.0).fractional)
