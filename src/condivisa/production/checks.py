"""Checks on weather years before any production model runs on them.

A weather year with gaps, NaN or impossible values would otherwise come out of pvlib or windpowerlib as a year of
silent zeros. :func:`validate_weather` turns those cases into a :class:`ValueError` that names the field, the
problem and the first hour concerned. It is pure: it reads neither files, nor the network, nor the environment.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from condivisa.production.weather import WeatherYear

WEATHER_KEYS: tuple[str, ...] = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
"""Columns the PV model reads (pvlib names): irradiance [W/m²], air temperature [°C], wind speed at 10 m [m/s]."""

HOURS_TYPICAL_YEAR = 8760
"""Hours of a typical meteorological year: 365 days, no 29 February."""

# Plausible bounds of hourly values, inclusive [unit of the column]. Irradiance: the solar constant is about
# 1361 W/m², and hourly ground values stay well below 1500 W/m²; a tolerance of 1 W/m² admits the "-0.0" and
# tiny negatives that PVGIS and satellite products write at night. Wind: 75 m/s is beyond any hourly record.
_BOUNDS: dict[str, tuple[float, float, str]] = {
    "ghi": (-1.0, 1500.0, "W/m²"),
    "dni": (-1.0, 1500.0, "W/m²"),
    "dhi": (-1.0, 1500.0, "W/m²"),
    "temp_air": (-60.0, 60.0, "°C"),
    "wind_speed": (0.0, 75.0, "m/s"),
}


def _stamp(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def _check_hours(index: pd.DatetimeIndex) -> None:
    """Hourly stamps with no gap: either a continuous run of hours or a complete typical year."""
    if index.has_duplicates:
        first = index[index.duplicated()][0]
        raise ValueError(f"weather.data.index: ora ripetuta {_stamp(first)}; attese ore distinte")
    off_hour = (index.minute != 0) | (index.second != 0) | (index.microsecond != 0) | (index.nanosecond != 0)
    if off_hour.any():
        first = index[off_hour][0]
        raise ValueError(f"weather.data.index: {_stamp(first)} non è l'inizio di un'ora; attesi dati orari")
    ordered = index.sort_values()
    one_hour = pd.Timedelta(hours=1)
    steps = (ordered[1:] - ordered[:-1]).to_numpy()
    hourly = steps == one_hour.to_timedelta64()
    if hourly.all():
        return  # a continuous run of hours (a calendar year, or any period)
    # Not continuous: acceptable only as a typical year (months taken from different years), whose
    # month-day-hour slots must cover a whole 365-day year exactly once.
    keys = pd.MultiIndex.from_arrays([index.month, index.day, index.hour])
    full = pd.date_range("2001-01-01", periods=HOURS_TYPICAL_YEAR, freq="h")
    want = pd.MultiIndex.from_arrays([full.month, full.day, full.hour])
    missing = want.difference(keys)
    if len(missing) == 0 and not keys.has_duplicates:
        return
    gap_at = int(np.flatnonzero(~hourly)[0])
    gap_h = pd.Timedelta(steps[gap_at]) / one_hour
    detail = f"primo salto: {gap_h:g} h dopo {_stamp(ordered[gap_at])}"
    if len(missing) > 0:
        month, day, hour = missing[0]
        detail += (
            f"; come anno tipico mancano {len(missing)} ore su {HOURS_TYPICAL_YEAR}"
            f" (prima: {day:02d}/{month:02d} ore {hour:02d} UTC)"
        )
    raise ValueError(
        "weather.data.index: ore mancanti, l'indice non è né una sequenza oraria continua né un anno tipico "
        f"completo ({detail})"
    )


def validate_weather(weather: WeatherYear, columns: Sequence[str] = WEATHER_KEYS) -> None:
    """Raise :class:`ValueError` unless ``weather`` is a usable hourly weather year.

    Checked, in this order: site coordinates; a timezone-aware :class:`pandas.DatetimeIndex` of hour-start
    stamps, neither empty nor repeated; no missing hour (the stamps are either a continuous run of hours,
    any length, or a complete typical year of 8,760 month-day-hour slots, as PVGIS TMY files are, with
    months from different years); the ``columns`` present, numeric, without NaN, within physical bounds.

    Parameters
    ----------
    weather : WeatherYear
        Hourly weather with pvlib column names.
    columns : sequence of str, default :data:`WEATHER_KEYS`
        Columns the caller's model needs (``("wind_speed",)`` for wind alone).

    Raises
    ------
    ValueError
        The message names the field (``weather.latitude``, ``weather.data.index``,
        ``weather.data['ghi']``...), what is wrong, and the first hour concerned.
    """
    if not -90.0 <= weather.latitude <= 90.0:
        raise ValueError(f"weather.latitude: {weather.latitude} fuori da [-90, 90] °")
    if not -180.0 <= weather.longitude <= 180.0:
        raise ValueError(f"weather.longitude: {weather.longitude} fuori da [-180, 180] °")
    data = weather.data
    if not isinstance(data.index, pd.DatetimeIndex):
        raise ValueError(f"weather.data.index: atteso un DatetimeIndex, trovato {type(data.index).__name__}")
    if data.index.tz is None:
        raise ValueError("weather.data.index: orari senza fuso; attesi orari con fuso (UTC)")
    if len(data) == 0:
        raise ValueError("weather.data: nessuna ora; anno meteo vuoto")
    index = data.index.tz_convert("UTC")
    _check_hours(index)
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise ValueError(f"weather.data: mancano le colonne {absent}; presenti {list(data.columns)}")
    for name in columns:
        column = data[name]
        if not pd.api.types.is_numeric_dtype(column.dtype):
            raise ValueError(f"weather.data[{name!r}]: valori non numerici (dtype {column.dtype})")
        values = column.to_numpy(dtype=float)
        nan = np.isnan(values)
        if nan.all():
            raise ValueError(f"weather.data[{name!r}]: tutti i {len(values)} valori sono NaN; anno senza dati meteo")
        if nan.any():
            first = index[int(np.flatnonzero(nan)[0])]
            raise ValueError(f"weather.data[{name!r}]: {int(nan.sum())} valori NaN, il primo alle {_stamp(first)}")
        if name in _BOUNDS:
            low, high, unit = _BOUNDS[name]
            bad = (values < low) | (values > high)
            if bad.any():
                at = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"weather.data[{name!r}]: {values[at]:g} {unit} alle {_stamp(index[at])} fuori da "
                    f"[{low:g}, {high:g}] {unit} ({int(bad.sum())} valori fuori intervallo)"
                )
