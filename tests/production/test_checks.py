"""validate_weather: a usable year passes; gaps, NaN and impossible values raise naming the field."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from condivisa.production import WeatherYear, validate_weather, wind_hourly_kwh
from condivisa.production.weather import lay_on_year
from condivisa.production.wind import generic_small_turbine


def with_data(weather: WeatherYear, data: pd.DataFrame) -> WeatherYear:
    return dataclasses.replace(weather, data=data)


def test_bundled_typical_year_passes(turin_year: WeatherYear) -> None:
    assert not pd.DatetimeIndex(turin_year.data.index).is_monotonic_increasing  # months from different years
    validate_weather(turin_year)


def test_calendar_years_pass_leap_included(turin_year: WeatherYear) -> None:
    for year in (2024, 2025):
        laid = lay_on_year(turin_year, year)
        validate_weather(laid)
        assert len(laid.data) == (8784 if year == 2024 else 8760)


def test_typical_year_with_missing_hours_raises(turin_year: WeatherYear) -> None:
    data = turin_year.data.drop(turin_year.data.index[1000:1010])
    with pytest.raises(ValueError, match=r"weather\.data\.index: ore mancanti.*mancano 10 ore su 8760"):
        validate_weather(with_data(turin_year, data))


def test_continuous_run_with_a_gap_raises(turin_year: WeatherYear) -> None:
    laid = lay_on_year(turin_year, 2025)
    data = laid.data.drop(laid.data.index[[100, 101, 102]])
    with pytest.raises(ValueError, match=r"primo salto: 4 h dopo 2025-01-05 03:00 UTC"):
        validate_weather(with_data(laid, data))


def test_a_week_of_hours_is_fine(turin_year: WeatherYear) -> None:
    laid = lay_on_year(turin_year, 2025)
    validate_weather(with_data(laid, laid.data.iloc[:168]))


def test_all_nan_ghi_is_a_year_without_weather(turin_year: WeatherYear) -> None:
    data = turin_year.data.copy()
    data["ghi"] = np.nan
    with pytest.raises(ValueError, match=r"weather\.data\['ghi'\]: tutti i 8760 valori sono NaN"):
        validate_weather(with_data(turin_year, data))


def test_some_nan_names_first_hour(turin_year: WeatherYear) -> None:
    laid = lay_on_year(turin_year, 2025)
    data = laid.data.copy()
    data.loc[data.index[[5000, 6000]], "temp_air"] = np.nan
    with pytest.raises(ValueError, match=r"weather\.data\['temp_air'\]: 2 valori NaN, il primo alle 2025-07-28 08:00"):
        validate_weather(with_data(laid, data))


def test_nan_in_a_column_not_asked_for_is_ignored(turin_year: WeatherYear) -> None:
    data = turin_year.data.copy()
    data["ghi"] = np.nan
    validate_weather(with_data(turin_year, data), columns=("wind_speed",))


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("ghi", 3000.0, r"weather\.data\['ghi'\]: 3000 W/m²"),
        ("dni", -50.0, r"weather\.data\['dni'\]: -50 W/m²"),
        ("temp_air", 99.0, r"weather\.data\['temp_air'\]: 99 °C"),
        ("wind_speed", -1.0, r"weather\.data\['wind_speed'\]: -1 m/s"),
    ],
)
def test_impossible_values_raise(turin_year: WeatherYear, column: str, value: float, message: str) -> None:
    data = turin_year.data.copy()
    data.loc[data.index[12], column] = value
    with pytest.raises(ValueError, match=message):
        validate_weather(with_data(turin_year, data))


def test_structure_problems_name_the_field(turin_year: WeatherYear) -> None:
    data = turin_year.data
    with pytest.raises(ValueError, match=r"weather\.data: mancano le colonne \['dni'\]"):
        validate_weather(with_data(turin_year, data.drop(columns=["dni"])))
    with pytest.raises(ValueError, match=r"weather\.data\.index: orari senza fuso"):
        validate_weather(with_data(turin_year, data.tz_localize(None)))
    with pytest.raises(ValueError, match=r"weather\.data\.index: ora ripetuta"):
        validate_weather(with_data(turin_year, pd.concat([data, data.iloc[:1]])))
    shifted = data.copy()
    shifted.index = shifted.index + pd.Timedelta(minutes=10)
    with pytest.raises(ValueError, match=r"non è l'inizio di un'ora"):
        validate_weather(with_data(turin_year, shifted))
    with pytest.raises(ValueError, match=r"weather\.data: nessuna ora"):
        validate_weather(with_data(turin_year, data.iloc[:0]))
    with pytest.raises(ValueError, match=r"weather\.latitude: 95"):
        validate_weather(dataclasses.replace(turin_year, latitude=95.0))


def test_wind_model_refuses_a_year_without_wind(turin_year: WeatherYear) -> None:
    data = turin_year.data.copy()
    data["wind_speed"] = np.nan
    with pytest.raises(ValueError, match=r"weather\.data\['wind_speed'\]: tutti"):
        wind_hourly_kwh(generic_small_turbine(), with_data(turin_year, data), 18.0)
