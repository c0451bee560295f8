"""Energy baseline on a constructed dataset with known answer: E = 500 + 12 HDD + 3 activity (+ seeded noise)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.energy_management.baseline import (
    ASHRAE14_HOURLY,
    ASHRAE14_MONTHLY,
    CHANGE_POINT_VARIABLE,
    INTERCEPT,
    check_acceptance,
    criteria_for_period,
    energy_performance_improvement,
    enpi_measured,
    enpi_ratio,
    enpi_regression,
    fit_baseline,
    fit_change_point_heating,
)
from condivisa.energy_management.degree_days import (
    LOCAL_TZ,
    degree_days_by_period,
    heating_degree_days,
    period_starts,
)

TRUE = {INTERCEPT: 500.0, "hdd": 12.0, "activity": 3.0}
NOISE_KWH = 15.0
ACTIVITY = {
    2024: [1200, 1100, 1300, 1250, 1400, 1350, 900, 600, 1300, 1450, 1380, 1000],
    2025: [1150, 1180, 1320, 1200, 1420, 1300, 950, 550, 1350, 1400, 1420, 980],
}
"""Production units per month (August shutdown)."""


def daily_temperature(year: int, shift: float = 0.0) -> pd.Series:
    """Deterministic daily mean temperatures of a year near Turin [°C]: a seasonal wave plus a faster wiggle."""
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D", tz=LOCAL_TZ)
    doy = np.arange(len(days), dtype=float)
    t = 13.0 + 10.0 * np.sin(2 * np.pi * (doy - 105) / 365.25) + 2.5 * np.sin(2 * np.pi * doy * 7.3 / 365.25)
    return pd.Series(t + shift, index=days)


def monthly_drivers(year: int, shift: float = 0.0) -> pd.DataFrame:
    """Monthly HDD (DPR 412/93, base 20 °C) from the daily temperatures, and activity."""
    hdd = degree_days_by_period(heating_degree_days(daily_temperature(year, shift)), "month")
    return pd.DataFrame({"hdd": hdd, "activity": np.asarray(ACTIVITY[year], dtype=float)}, index=hdd.index)


def true_consumption(drivers: pd.DataFrame) -> pd.Series:
    return TRUE[INTERCEPT] + TRUE["hdd"] * drivers["hdd"] + TRUE["activity"] * drivers["activity"]


def noisy_consumption(drivers: pd.DataFrame, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    return true_consumption(drivers) + rng.normal(0.0, NOISE_KWH, len(drivers))


def baseline_year() -> tuple[pd.Series, pd.DataFrame]:
    drivers = monthly_drivers(2024)
    return noisy_consumption(drivers, 50001), drivers


def test_constructed_dataset_recovers_known_coefficients() -> None:
    consumption, drivers = baseline_year()
    model = fit_baseline(consumption, drivers, period="month")
    assert model.variables == ("hdd", "activity")
    assert model.n == 12 and model.n_params == 3 and model.dof == 9
    for name, true in TRUE.items():
        assert abs(model.coefficients[name] - true) <= 3 * model.std_errors[name], name
    assert model.coefficients[INTERCEPT] == pytest.approx(500.0, rel=0.10)
    assert model.coefficients["hdd"] == pytest.approx(12.0, rel=0.01)
    assert model.coefficients["activity"] == pytest.approx(3.0, rel=0.01)
    assert model.r2 > 0.99
    assert model.cv_rmse_pct < ASHRAE14_MONTHLY.max_cv_rmse_pct
    assert abs(model.nmbe_pct) < 1e-6  # OLS with intercept on its own data
    assert model.t_stats["hdd"] > 2 and model.t_stats["activity"] > 2
    assert model.p_values["hdd"] < 1e-6 and model.p_values["activity"] < 1e-6
    check = check_acceptance(model)
    assert check.passed and check.criteria is ASHRAE14_MONTHLY
    # The statistics by their definitions.
    e = model.residuals.to_numpy()
    assert model.rmse == pytest.approx(math.sqrt((e @ e) / 9))
    assert model.cv_rmse_pct == pytest.approx(100 * model.rmse / consumption.mean())
    assert (model.fitted + model.residuals).to_numpy() == pytest.approx(consumption.to_numpy())


def test_acceptance_fails_on_a_poor_model() -> None:
    consumption, drivers = baseline_year()
    rng = np.random.default_rng(7)
    irrelevant = pd.DataFrame({"noise": rng.normal(size=12)}, index=drivers.index)
    model = fit_baseline(consumption, irrelevant)
    check = check_acceptance(model)
    assert not check.passed
    assert not check.cv_rmse_ok and not check.r2_ok and not check.coefficients_ok
    assert any("CV(RMSE)" in f for f in check.failures)
    assert criteria_for_period("day") is ASHRAE14_HOURLY


def test_missing_periods_are_excluded_and_bad_designs_refused() -> None:
    consumption, drivers = baseline_year()
    holed = consumption.copy()
    holed.iloc[3] = np.nan
    model = fit_baseline(holed, drivers)
    assert model.n == 11 and model.excluded == (drivers.index[3],)
    twice = drivers.assign(hdd2=2 * drivers["hdd"])
    with pytest.raises(ValueError, match="linearmente dipendenti"):
        fit_baseline(consumption, twice)
    with pytest.raises(ValueError, match="più periodi che parametri"):
        fit_baseline(consumption.iloc[:3], drivers.iloc[:3])
    mean_model = fit_baseline(consumption)
    assert mean_model.coefficients[INTERCEPT] == pytest.approx(consumption.mean())
    assert mean_model.predict(index=drivers.index).iloc[0] == pytest.approx(consumption.mean())


@settings(max_examples=40, deadline=None)
@given(
    st.floats(0.0, 5000.0),
    st.floats(-50.0, 50.0),
    st.floats(-20.0, 20.0),
    st.integers(0, 2**32 - 1),
    st.integers(6, 60),
)
def test_noise_free_data_is_fitted_exactly(b0: float, b1: float, b2: float, seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=n, freq="D", tz=LOCAL_TZ)
    drivers = pd.DataFrame({"hdd": rng.uniform(0, 20, n), "occupancy": rng.uniform(0, 100, n)}, index=index)
    consumption = b0 + b1 * drivers["hdd"] + b2 * drivers["occupancy"]
    model = fit_baseline(consumption, drivers, period="day")
    assert model.coefficients[INTERCEPT] == pytest.approx(b0, abs=1e-6)
    assert model.coefficients["hdd"] == pytest.approx(b1, abs=1e-7)
    assert model.coefficients["occupancy"] == pytest.approx(b2, abs=1e-7)
    assert model.rmse == pytest.approx(0.0, abs=1e-6)
    assert model.predict(drivers).to_numpy() == pytest.approx(consumption.to_numpy(), abs=1e-6)


def test_enpi_kinds() -> None:
    consumption, drivers = baseline_year()
    model = fit_baseline(consumption, drivers)
    assert enpi_measured(consumption).equals(consumption.rename("enpi_measured"))
    ratio = enpi_ratio(consumption, drivers["activity"])
    assert ratio.iloc[0] == pytest.approx(consumption.iloc[0] / 1200)
    zero = drivers["activity"].copy()
    zero.iloc[0] = 0.0
    assert np.isnan(enpi_ratio(consumption, zero).iloc[0])
    reg = enpi_regression(0.9 * consumption, model.predict(drivers))
    assert reg.to_numpy() == pytest.approx(0.9, rel=0.01)
    assert energy_performance_improvement(1.0, 0.9) == pytest.approx(0.1)
    assert energy_performance_improvement(2.5, 2.75) == pytest.approx(-0.1)


# --- change-point ------------------------------------------------------------------------------------------------


def change_point_data(tb: float = 16.0) -> tuple[pd.Series, pd.Series]:
    temps = pd.concat([daily_temperature(2024), daily_temperature(2025, shift=0.5)])
    rng = np.random.default_rng(3)
    consumption = 200.0 + 15.0 * np.maximum(tb - temps, 0.0) + rng.normal(0.0, 4.0, len(temps))
    return consumption, temps


def test_change_point_recovers_balance_temperature_on_daily_data() -> None:
    consumption, temps = change_point_data(16.0)
    cp = fit_change_point_heating(consumption, temps, period="day", balance_grid=np.arange(10.0, 22.01, 0.25))
    assert cp.balance_temperature == pytest.approx(16.0, abs=0.25)
    assert cp.heating_slope == pytest.approx(15.0, rel=0.02)
    assert cp.base_load == pytest.approx(200.0, rel=0.02)
    assert check_acceptance(cp.regression).passed
    # The error is smallest at the balance temperature found.
    sse = np.asarray(cp.sse)
    assert np.nanargmin(sse) == cp.grid.index(cp.balance_temperature)
    predicted = cp.predict(temps, pd.DatetimeIndex(consumption.index))
    assert (predicted - consumption).abs().mean() < 5.0


def test_change_point_on_monthly_data_is_variable_base_degree_days() -> None:
    daily, temps = change_point_data(17.0)
    monthly = daily.groupby(period_starts(pd.DatetimeIndex(daily.index), "month")).sum()
    days = pd.DataFrame({"days": pd.DatetimeIndex(monthly.index).days_in_month.astype(float)}, index=monthly.index)
    cp = fit_change_point_heating(monthly, temps, period="month", drivers=days)
    assert cp.balance_temperature == pytest.approx(17.0, abs=0.5)
    assert cp.heating_slope == pytest.approx(15.0, rel=0.03)
    # The base load is 200 kWh per day: a 30-day month without heating uses 6000 kWh.
    assert cp.base_load + 30 * cp.regression.coefficients["days"] == pytest.approx(6000.0, rel=0.01)
    design = cp.design(temps, pd.DatetimeIndex(monthly.index), days)
    assert list(design.columns) == [CHANGE_POINT_VARIABLE, "days"]
    assert design[CHANGE_POINT_VARIABLE].iloc[0] == pytest.approx(
        np.maximum(cp.balance_temperature - temps.iloc[:31], 0.0).sum()
    )


def test_change_point_with_activity() -> None:
    consumption, temps = change_point_data(15.0)
    rng = np.random.default_rng(11)
    occupancy = pd.Series(rng.uniform(20, 80, len(consumption)), index=consumption.index)
    consumption = consumption + 2.0 * occupancy
    cp = fit_change_point_heating(consumption, temps, drivers=occupancy.to_frame("occupancy"))
    assert cp.balance_temperature == pytest.approx(15.0, abs=0.5)
    assert cp.regression.coefficients["occupancy"] == pytest.approx(2.0, rel=0.05)
