"""Micro-wind: the generic power curve's shape, the height correction, the Turin yield, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.production import WeatherYear, WindTurbine, generic_small_turbine, hub_wind_speed, wind_hourly_kwh


def wind_weather(speeds: list[float] | np.ndarray) -> WeatherYear:
    """Consecutive hours with only ``wind_speed`` [m/s] at 10 m."""
    index = pd.date_range("2025-01-01", periods=len(speeds), freq="h", tz="UTC")
    data = pd.DataFrame({"wind_speed": np.asarray(speeds, dtype=float)}, index=index)
    return WeatherYear(data=data, latitude=45.0, longitude=8.0, elevation_m=250.0, source="test")


def curve_at(turbine: WindTurbine, speeds: list[float] | np.ndarray) -> np.ndarray:
    """Power at hub-height speeds: data at hub height (10 m) leaves the speeds unchanged."""
    return wind_hourly_kwh(turbine, wind_weather(speeds), 10.0).to_numpy()


curve_parameters = st.tuples(st.floats(1.0, 100.0), st.floats(1.5, 5.0), st.floats(3.0, 12.0), st.floats(0.0, 15.0))


def build(parameters: tuple[float, float, float, float]) -> tuple[WindTurbine, float, float]:
    """A generic turbine from power, cut-in, rated - cut-in, cut-out - rated; with its cut-in and cut-out."""
    power, cut_in, rated_gap, cut_out_gap = parameters
    cut_out = cut_in + rated_gap + cut_out_gap
    turbine = generic_small_turbine(power, cut_in_ms=cut_in, rated_ms=cut_in + rated_gap, cut_out_ms=cut_out)
    return turbine, cut_in, cut_out


@settings(max_examples=50, deadline=None)
@given(parameters=curve_parameters, speeds=st.lists(st.floats(0.0, 40.0), min_size=1, max_size=50))
def test_generic_curve_shape(parameters: tuple[float, float, float, float], speeds: list[float]) -> None:
    turbine, cut_in, cut_out = build(parameters)
    assert turbine.cut_out_ms == cut_out
    power = curve_at(turbine, speeds)
    v = np.asarray(speeds)
    assert (power >= 0).all()
    assert (power <= turbine.nominal_power_kw).all()
    assert (power[v <= cut_in] == 0).all()
    assert (power[v > cut_out] == 0).all()
    assert (power[(v > cut_in) & (v <= cut_out)] > 0).all()


@settings(max_examples=50, deadline=None)
@given(parameters=curve_parameters)
def test_generic_curve_is_monotone_up_to_cut_out(parameters: tuple[float, float, float, float]) -> None:
    turbine, _, cut_out = build(parameters)
    v = np.linspace(0.0, cut_out, 400)
    power = curve_at(turbine, v)
    assert (np.diff(power) >= -1e-12).all()
    assert power[-1] == pytest.approx(turbine.nominal_power_kw)


def test_generic_curve_values() -> None:
    turbine = generic_small_turbine(20.0, cut_in_ms=3.0, rated_ms=11.0, cut_out_ms=25.0)
    assert turbine.name == "generic 20 kW"
    assert turbine.source.startswith("generic")
    power = curve_at(turbine, [2.9, 3.0, 7.0, 11.0, 18.0, 25.0, 25.1])
    cubic = 20.0 * (7.0**3 - 27.0) / (11.0**3 - 27.0)
    assert power == pytest.approx([0.0, 0.0, cubic, 20.0, 20.0, 20.0, 0.0])


def test_datasheet_curve_is_used_as_given() -> None:
    turbine = WindTurbine(5.0, (2.0, 4.0, 10.0, 20.0), (0.0, 1.0, 5.0, 4.0), name="example", source="test table")
    assert curve_at(turbine, [1.0, 3.0, 7.0, 15.0, 21.0]) == pytest.approx([0.0, 0.5, 3.0, 4.5, 0.0])


def test_height_correction() -> None:
    weather = wind_weather([0.0, 4.0, 8.0])
    same = hub_wind_speed(weather, 10.0)
    assert same.to_numpy() == pytest.approx([0.0, 4.0, 8.0])
    log = hub_wind_speed(weather, 18.0, roughness_length_m=0.1)
    assert log.iloc[1] == pytest.approx(4.0 * np.log(180.0) / np.log(100.0))
    power_law = hub_wind_speed(weather, 18.0, roughness_length_m=0.1, profile="hellman")
    assert power_law.iloc[1] == pytest.approx(4.0 * 1.8 ** (1.0 / np.log(180.0)))


def test_turin_typical_year_yield(turin_year: WeatherYear) -> None:
    """The Po valley is calm: 1.2 m/s mean at 10 m in this TMY; measured 202 (15 m), 242 (18 m), 268 (20 m) kWh/yr."""
    turbine = generic_small_turbine(20.0)
    energy = {hub: wind_hourly_kwh(turbine, turin_year, hub).sum() for hub in (15.0, 18.0, 20.0)}
    assert energy[15.0] < energy[18.0] < energy[20.0]
    assert energy[18.0] == pytest.approx(242.4, abs=1.0)
    for kwh in energy.values():
        capacity_factor = kwh / (20.0 * 8760)
        assert 0.0005 < capacity_factor < 0.01  # tiny but not zero: micro-wind is not viable here
    hourly = wind_hourly_kwh(turbine, turin_year, 18.0)
    assert hourly.index.equals(turin_year.data.index)
    assert hourly.max() <= 20.0


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: WindTurbine(-1.0, (0.0, 5.0), (0.0, 1.0)), "nominal_power_kw"),
        (lambda: WindTurbine(5.0, (0.0, 5.0, 5.0), (0.0, 1.0, 2.0)), "wind_speeds_ms"),
        (lambda: WindTurbine(5.0, (-1.0, 5.0), (0.0, 1.0)), "wind_speeds_ms"),
        (lambda: WindTurbine(5.0, (0.0, 5.0), (0.0, 6.0)), "power_kw"),
        (lambda: WindTurbine(5.0, (0.0, 5.0), (0.0,)), "wind_speeds_ms, power_kw"),
        (lambda: generic_small_turbine(20.0, cut_in_ms=12.0, rated_ms=11.0), "cut_in_ms, rated_ms, cut_out_ms"),
        (lambda: generic_small_turbine(-20.0), "nominal_power_kw"),
        (lambda: wind_hourly_kwh(generic_small_turbine(), wind_weather([5.0]), 0.05), "hub_height_m"),
        (
            lambda: wind_hourly_kwh(generic_small_turbine(), wind_weather([5.0]), 18.0, roughness_length_m=0.0),
            "roughness_length_m",
        ),
        (lambda: wind_hourly_kwh(generic_small_turbine(), wind_weather([5.0, np.nan]), 18.0), r"weather\.data"),
    ],
)
def test_bad_input_names_the_field(build: object, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}"):
        build()  # type: ignore[operator]
