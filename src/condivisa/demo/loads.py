"""Synthetic but plausible hourly load shapes for the demo community (kWh per hour, local-time driven).

These are demo data, not standard load profiles: the design module builds members' profiles from bills with
standard load profiles. Every shape is scaled to a yearly consumption [kWh].
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.rules.bands import day_type

FloatArray = npt.NDArray[np.float64]

_HOUSEHOLD_WEEKDAY = [
    0.45,
    0.4,
    0.38,
    0.37,
    0.38,
    0.45,
    0.75,
    1.15,
    1.0,
    0.8,
    0.75,
    0.8,
    0.95,
    0.9,
    0.75,
    0.7,
    0.8,
    1.05,
    1.45,
    1.75,
    1.7,
    1.45,
    1.05,
    0.7,
]
_HOUSEHOLD_HOLIDAY = [
    0.5,
    0.42,
    0.38,
    0.37,
    0.37,
    0.4,
    0.5,
    0.7,
    0.95,
    1.15,
    1.2,
    1.25,
    1.35,
    1.2,
    1.0,
    0.9,
    0.95,
    1.15,
    1.4,
    1.65,
    1.6,
    1.4,
    1.05,
    0.75,
]
_OFFICE_WEEKDAY = [0.3] * 7 + [0.7, 1.6, 1.9, 2.0, 2.0, 1.8, 1.8, 2.0, 2.0, 1.9, 1.6, 1.0] + [0.4] * 5
_SCHOOL_WEEKDAY = [0.25] * 7 + [0.8, 2.4, 2.6, 2.6, 2.5, 2.3, 1.8, 1.4, 1.0, 0.6] + [0.3] * 7
_PARISH_HOLIDAY = [0.3] * 8 + [0.8, 1.8, 2.2, 2.0, 1.0] + [0.4] * 4 + [1.0, 1.4, 1.2] + [0.4] * 4


def _shape(kind: str, hours_utc: pd.DatetimeIndex) -> FloatArray:
    local = hours_utc.tz_convert(LOCAL_TZ).tz_localize(None)
    h = local.hour.to_numpy()
    dtype = day_type(local)
    weekday = dtype == "weekday"
    saturday = dtype == "saturday"
    doy = local.day_of_year.to_numpy()
    winter = 1.0 + 0.18 * np.cos(2 * np.pi * (doy - 15) / 365.0)
    summer = np.isin(local.month, [7, 8]) & (h >= 13) & (h <= 18)
    if kind == "household":
        base = np.where(weekday, np.take(_HOUSEHOLD_WEEKDAY, h), np.take(_HOUSEHOLD_HOLIDAY, h))
        return np.asarray(base * winter + 0.35 * summer, dtype=np.float64)
    if kind == "business":
        office = np.take(_OFFICE_WEEKDAY, h)
        base = np.where(weekday, office, np.where(saturday, 0.3 + 0.5 * (office - 0.3), 0.3))
        return np.asarray(base * (0.9 + 0.1 * winter) + 0.6 * summer * weekday, dtype=np.float64)
    if kind == "school":
        term = ~np.isin(local.month, [7, 8])
        open_day = weekday & term
        base = np.where(open_day, np.take(_SCHOOL_WEEKDAY, h), 0.25)
        return np.asarray(base * winter, dtype=np.float64)
    if kind == "parish":
        base = np.where(dtype == "sunday_or_holiday", np.take(_PARISH_HOLIDAY, h), 0.35 + 0.4 * (h == 18))
        return np.asarray(base * winter, dtype=np.float64)
    raise ValueError(f"unknown demo load kind {kind!r}")


def load_profile(kind: str, yearly_kwh: float, hours_utc: pd.DatetimeIndex, rng: np.random.Generator) -> FloatArray:
    """Hourly load [kWh] of one demo member: a shape with day-to-day and hour-to-hour noise, scaled to
    ``yearly_kwh`` over the given hours."""
    shape = _shape(kind, hours_utc)
    days = len(hours_utc) // 24 + 2
    daily = np.repeat(rng.lognormal(0.0, 0.15, days), 24)[: len(hours_utc)]
    noise = rng.lognormal(0.0, 0.25, len(hours_utc))
    series = shape * daily * noise
    return np.asarray(series * (yearly_kwh / series.sum()), dtype=np.float64)
