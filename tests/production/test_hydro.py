"""Micro-hydro run-of-river model: bounds, yearly yield, monthly regime, explicit hydraulics, bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.production import ALPINE_MONTHLY_FLOW_FACTOR, hydro_hourly_kwh
from condivisa.production.hydro import RHO_WATER, G

YEAR = pd.date_range("2025-01-01", periods=8760, freq="h", tz="UTC")
LEAP = pd.date_range("2024-01-01", periods=8784, freq="h", tz="UTC")

factors = st.lists(st.floats(0.0, 3.0), min_size=12, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    power=st.floats(0.5, 5000.0),
    monthly=factors,
    efficiency=st.floats(0.3, 1.0),
    hydraulics=st.none() | st.tuples(st.floats(1.0, 500.0), st.floats(0.01, 20.0)),
)
def test_never_above_nominal_power(
    power: float, monthly: list[float], efficiency: float, hydraulics: tuple[float, float] | None
) -> None:
    head, flow = hydraulics if hydraulics else (None, None)
    kwh = hydro_hourly_kwh(
        power, YEAR, monthly_flow_factor=monthly, efficiency=efficiency, head_m=head, design_flow_m3s=flow
    )
    assert kwh.index.equals(YEAR)
    assert (kwh >= 0).all()
    assert (kwh <= power * (1 + 1e-12)).all()


def test_default_regime_yearly_yield() -> None:
    kwh = hydro_hourly_kwh(50.0, YEAR)
    capacity_factor = kwh.sum() / (50.0 * 8760)
    assert 0.3 <= capacity_factor <= 0.7
    assert capacity_factor == pytest.approx(0.5846, abs=1e-4)  # measured: 256 MWh/yr for 50 kW


def test_snowmelt_months_beat_winter() -> None:
    kwh = hydro_hourly_kwh(50.0, LEAP)
    monthly = kwh.groupby(LEAP.month).sum()
    assert monthly[6] > monthly[1]
    assert monthly[5] > monthly[2]
    assert monthly.idxmin() == 2
    assert monthly[6] == pytest.approx(50.0 * 30 * 24)  # June flow above design: full power
    assert monthly[1] == pytest.approx(50.0 * 31 * 24 * ALPINE_MONTHLY_FLOW_FACTOR[0])
    assert kwh[LEAP.month == 2].nunique() == 1  # a monthly step


def test_explicit_hydraulics() -> None:
    head, flow, eta = 20.0, 0.3, 0.8
    kwh = hydro_hourly_kwh(50.0, YEAR, head_m=head, design_flow_m3s=flow, efficiency=eta)
    design_kw = RHO_WATER * G * flow * head * eta / 1000.0  # 47.1 kW at design flow
    january = ALPINE_MONTHLY_FLOW_FACTOR[0] * design_kw
    assert kwh.iloc[0] == pytest.approx(january)
    assert kwh[YEAR.month == 6].iloc[0] == pytest.approx(min(50.0, 1.4 * design_kw))
    small = hydro_hourly_kwh(30.0, YEAR, head_m=head, design_flow_m3s=flow, efficiency=eta)
    assert small.max() == pytest.approx(30.0)  # the generator limits what the water could give


def test_turbine_stops_below_minimum_flow() -> None:
    monthly = [0.1] * 6 + [0.5] * 6
    kwh = hydro_hourly_kwh(10.0, YEAR, monthly_flow_factor=monthly, min_flow_fraction=0.15)
    assert (kwh[YEAR.month <= 6] == 0).all()
    assert np.allclose(kwh[YEAR.month > 6], 5.0)
    runs = hydro_hourly_kwh(10.0, YEAR, monthly_flow_factor=monthly, min_flow_fraction=0.05)
    assert runs.iloc[0] == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(target=st.floats(0.02, 0.95))
def test_capacity_factor_target(target: float) -> None:
    kwh = hydro_hourly_kwh(50.0, YEAR, capacity_factor=target)
    reached = kwh.sum() / (50.0 * 8760)
    # reached from above; months switching on together at the minimum flow (April and October share 0.60 in
    # the default) can overshoot by the minimum flow times their share of the year
    days = YEAR[::24].month.value_counts()
    share = max(
        sum(days[m + 1] for m in range(12) if ALPINE_MONTHLY_FLOW_FACTOR[m] == f) / 365
        for f in ALPINE_MONTHLY_FLOW_FACTOR
    )
    assert share == pytest.approx(61 / 365)
    assert target - 1e-9 <= reached <= target + 0.15 * share + 1e-6
    assert (kwh <= 50.0 + 1e-9).all()


def test_capacity_factor_hit_exactly_where_no_month_switches() -> None:
    kwh = hydro_hourly_kwh(50.0, YEAR, capacity_factor=0.45)
    assert kwh.sum() / (50.0 * 8760) == pytest.approx(0.45, abs=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"power_kw": -5.0}, "power_kw"),
        ({"power_kw": 0.0}, "power_kw"),
        ({"efficiency": 1.2}, "efficiency"),
        ({"efficiency": 0.0}, "efficiency"),
        ({"monthly_flow_factor": [1.0] * 11}, "monthly_flow_factor"),
        ({"monthly_flow_factor": [1.0] * 11 + [-0.1]}, "monthly_flow_factor"),
        ({"monthly_flow_factor": [1.0] * 11 + [np.nan]}, "monthly_flow_factor"),
        ({"head_m": 10.0}, "head_m, design_flow_m3s"),
        ({"head_m": -10.0, "design_flow_m3s": 0.2}, "head_m"),
        ({"head_m": 10.0, "design_flow_m3s": 0.0}, "design_flow_m3s"),
        ({"min_flow_fraction": 1.0}, "min_flow_fraction"),
        ({"capacity_factor": 1.5}, "capacity_factor"),
        ({"capacity_factor": 0.9, "monthly_flow_factor": [0.0] * 6 + [1.0] * 6}, "capacity_factor"),
        ({"hours_utc": YEAR.tz_localize(None)}, "hours_utc"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"power_kw": 50.0, "hours_utc": YEAR, **kwargs}
    power, hours = args.pop("power_kw"), args.pop("hours_utc")
    with pytest.raises(ValueError, match=rf"^{field}: "):
        hydro_hourly_kwh(power, hours, **args)
