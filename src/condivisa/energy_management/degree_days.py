"""Degree days from outdoor air temperature: heating (Italian DPR 412/93 and Eurostat) and cooling, per day and per
period.

Daily mean temperature
    Temperatures come as a pandas Series with a timezone-aware index (hourly, quarter-hourly or daily values). Days
    are **local days in Europe/Rome**: the 23-hour day of the spring DST change and the 25-hour day of the autumn one
    are days like the others, and their mean is taken over the hours they have. With ``method="mean"`` (default) the
    daily mean is the mean of the day's values; with ``method="minmax"`` it is ``(Tmax + Tmin) / 2``, the
    meteorological convention used when only extremes are known. A day with less than ``min_coverage`` (default
    0.75, our choice) of its expected values (from the median time step and the length of that local day) has no
    mean (NaN) and no degree days: missing days are never filled.

Heating degree days, Italian convention (``convention="dpr412"``)
    DPR 26 agosto 1993 n. 412, art. 1 comma 1 lettera e): the *gradi-giorno* of a place are the sum, over all the
    days of the conventional annual heating period, of the positive daily differences only between the indoor
    temperature, conventionally 20 °C, and the daily mean outdoor temperature; the unit is the degree-day (GG,
    K·day):

    .. math:: HDD_d = \\max(0,\\ 20 - T_{m,d})

    The heating period depends on the climatic zone (art. 2 assigns it from the place's yearly GG:
    :func:`climate_zone`); the dates are those of DPR 74/2013 art. 4 (which took over art. 9 of DPR 412/93):
    A 1 Dec–15 Mar, B 1 Dec–31 Mar, C 15 Nov–31 Mar, D 1 Nov–15 Apr, E 15 Oct–15 Apr, F no limit
    (:data:`HEATING_SEASONS`). Passing ``zone`` counts only the days of that period; without it every day counts
    (what an energy baseline usually wants: the building heats when it is cold, not by the calendar). A
    ``threshold`` below 20 °C counts a day only when its mean is at or below it (still measured from 20 °C): a
    common refinement in energy-management practice that leaves out mild days when heating is off. It is not part
    of the DPR definition and is off by default.

Heating degree days, EU convention (``convention="eurostat"``)
    Eurostat (dataset ``nrg_chdd``, JRC MARS method): :math:`HDD_d = 18 - T_{m,d}` when :math:`T_{m,d} \\le 15`
    °C, else 0.

Cooling degree days
    :math:`CDD_d = T_{m,d} - T_b` when :math:`T_{m,d} \\ge T_{th}`, else 0. Default is Eurostat's convention
    (base 21 °C, threshold 24 °C); a threshold equal to the base gives the plain ``max(0, Tm - Tb)``. Italy has no
    statutory cooling degree days.

Periods
    :func:`degree_days_by_period` sums daily values into local days, ISO weeks (Monday to Sunday) or calendar
    months, labelled by the local midnight that starts them (:func:`period_starts`).

Pure computation: no files, no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

LOCAL_TZ = "Europe/Rome"

PERIOD_DAY = "day"
PERIOD_WEEK = "week"
PERIOD_MONTH = "month"
PERIODS = (PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH)

CONVENTION_DPR412 = "dpr412"
CONVENTION_EUROSTAT = "eurostat"

DPR412_INDOOR_C = 20.0
"""Conventional indoor temperature of DPR 412/93 art. 1 [°C]."""
EUROSTAT_HDD_BASE_C = 18.0
EUROSTAT_HDD_THRESHOLD_C = 15.0
EUROSTAT_CDD_BASE_C = 21.0
EUROSTAT_CDD_THRESHOLD_C = 24.0

DEFAULT_MIN_COVERAGE = 0.75

HEATING_SEASONS: Mapping[str, tuple[tuple[int, int], tuple[int, int]] | None] = {
    "A": ((12, 1), (3, 15)),
    "B": ((12, 1), (3, 31)),
    "C": ((11, 15), (3, 31)),
    "D": ((11, 1), (4, 15)),
    "E": ((10, 15), (4, 15)),
    "F": None,
}
"""Heating period per climatic zone, ((first month, day), (last month, day)) inclusive; ``None``: no limit.
DPR 74/2013 art. 4 comma 2 (formerly DPR 412/93 art. 9)."""

CLIMATE_ZONE_LIMITS: tuple[tuple[str, float], ...] = (
    ("A", 600.0),
    ("B", 900.0),
    ("C", 1400.0),
    ("D", 2100.0),
    ("E", 3000.0),
)
"""Upper limits of yearly GG per climatic zone (DPR 412/93 art. 2); above 3000 GG the zone is F."""


def climate_zone(yearly_degree_days: float) -> str:
    """Climatic zone of DPR 412/93 art. 2 from a place's yearly degree days (GG).

    Parameters
    ----------
    yearly_degree_days : float
        Conventional yearly heating degree days of the place [K·day], >= 0.

    Returns
    -------
    str
        ``"A"`` (<= 600) ... ``"E"`` (<= 3000), ``"F"`` (> 3000).
    """
    if not yearly_degree_days >= 0:
        raise ValueError(f"gradi-giorno annui non validi: {yearly_degree_days} (servono valori >= 0)")
    for zone, upper in CLIMATE_ZONE_LIMITS:
        if yearly_degree_days <= upper:
            return zone
    return "F"


def _local_index(series: pd.Series, what: str) -> pd.DatetimeIndex:
    index = series.index
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError(f"{what}: l'indice deve essere un DatetimeIndex, non {type(index).__name__}")
    if index.tz is None:
        raise ValueError(f"{what}: l'indice deve avere un fuso orario (es. Europe/Rome o UTC), è senza fuso")
    return index.tz_convert(LOCAL_TZ)


def period_starts(index: pd.DatetimeIndex, period: str) -> pd.DatetimeIndex:
    """The local midnight (Europe/Rome) starting the day, ISO week (Monday) or month of each timestamp.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Timezone-aware timestamps.
    period : {"day", "week", "month"}

    Returns
    -------
    pandas.DatetimeIndex
        Same length as ``index``, in Europe/Rome.
    """
    if index.tz is None:
        raise ValueError("period_starts: l'indice deve avere un fuso orario")
    if period not in PERIODS:
        raise ValueError(f"periodo {period!r} non valido; servono {', '.join(PERIODS)}")
    naive = index.tz_convert(LOCAL_TZ).tz_localize(None).normalize()
    if period == PERIOD_WEEK:
        naive = naive - pd.to_timedelta(naive.day_of_week, unit="D")
    elif period == PERIOD_MONTH:
        naive = naive - pd.to_timedelta(naive.day - 1, unit="D")
    # Local midnight is never ambiguous nor missing in Europe/Rome (the clocks change at 02:00 and 03:00).
    return pd.DatetimeIndex(naive).tz_localize(LOCAL_TZ)


def _local_day_hours(days: pd.DatetimeIndex) -> np.ndarray:
    """Length in hours of each local day (23, 24 or 25); ``days`` are local midnights."""
    naive = days.tz_localize(None)
    nxt = pd.DatetimeIndex(naive + pd.Timedelta(days=1)).tz_localize(LOCAL_TZ)
    seconds = (nxt.tz_convert("UTC") - days.tz_convert("UTC")).total_seconds()
    return np.asarray(seconds, dtype=float) / 3600.0


def daily_mean_temperature(
    temp_air: pd.Series, *, method: str = "mean", min_coverage: float = DEFAULT_MIN_COVERAGE
) -> pd.Series:
    """Daily mean outdoor temperature per local day (Europe/Rome).

    Parameters
    ----------
    temp_air : pandas.Series
        Air temperature [°C] with a timezone-aware DatetimeIndex: sub-daily values (hourly, 15-minute) or one value
        per day. NaN values count as missing.
    method : {"mean", "minmax"}
        Mean of the day's values, or ``(max + min) / 2``.
    min_coverage : float
        Minimum share of a day's expected values (0..1) for the day to have a mean [unitless].

    Returns
    -------
    pandas.Series
        Daily mean [°C] indexed by local midnight, every day from the first to the last one of the data; NaN for
        days without enough values.
    """
    if method not in ("mean", "minmax"):
        raise ValueError(f"metodo {method!r} non valido; servono 'mean' o 'minmax'")
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"copertura minima {min_coverage} fuori da 0..1")
    local = _local_index(temp_air, "temperatura")
    values = pd.Series(np.asarray(temp_air, dtype=float), index=local).sort_index()
    if values.index.has_duplicates:
        raise ValueError("temperatura: istanti ripetuti nell'indice")
    if values.empty:
        return pd.Series([], index=pd.DatetimeIndex([], tz=LOCAL_TZ), dtype=float, name="temp_air_mean")
    days = period_starts(pd.DatetimeIndex(values.index), PERIOD_DAY)
    all_days = pd.date_range(days.min(), days.max(), freq="D", tz=LOCAL_TZ)
    grouped = values.groupby(days)
    mean = grouped.mean() if method == "mean" else (grouped.max() + grouped.min()) / 2.0
    mean = mean.reindex(all_days)
    count = grouped.count().reindex(all_days).fillna(0).to_numpy(dtype=float)
    stamps = pd.DatetimeIndex(values.index)
    steps = np.asarray((stamps[1:] - stamps[:-1]).total_seconds()) if len(stamps) > 1 else np.array([86400.0])
    step_hours = float(np.median(steps)) / 3600.0
    # One value per day (step of 23 h or more): each day expects one value; else the day's length over the step.
    expected = np.ones(len(all_days)) if step_hours >= 23.0 else _local_day_hours(all_days) / step_hours
    enough = count >= min_coverage * expected - 1e-9
    enough &= count > 0
    out = mean.where(enough)
    out.name = "temp_air_mean"
    return out.astype(float)


def _season_mask(days: pd.DatetimeIndex, zone: str | None) -> np.ndarray:
    if zone is None:
        return np.ones(len(days), dtype=bool)
    if zone not in HEATING_SEASONS:
        raise ValueError(f"zona climatica {zone!r} non valida; servono {', '.join(HEATING_SEASONS)}")
    season = HEATING_SEASONS[zone]
    if season is None:
        return np.ones(len(days), dtype=bool)
    (m0, d0), (m1, d1) = season
    key = days.month * 100 + days.day
    start, end = m0 * 100 + d0, m1 * 100 + d1
    # Every season spans the new year: from ``start`` to 31 Dec and from 1 Jan to ``end``.
    return np.asarray((key >= start) | (key <= end), dtype=bool)


def in_heating_season(day: dt.date, zone: str) -> bool:
    """Whether a local day falls in the heating period of a climatic zone (:data:`HEATING_SEASONS`)."""
    idx = pd.DatetimeIndex([pd.Timestamp(day)]).tz_localize(LOCAL_TZ)
    return bool(_season_mask(idx, zone)[0])


def heating_degree_days(
    temp_air: pd.Series,
    *,
    convention: str = CONVENTION_DPR412,
    base: float | None = None,
    threshold: float | None = None,
    zone: str | None = None,
    method: str = "mean",
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> pd.Series:
    """Heating degree days per local day.

    Parameters
    ----------
    temp_air : pandas.Series
        Air temperature [°C], timezone-aware index, sub-daily or daily (see :func:`daily_mean_temperature`).
    convention : {"dpr412", "eurostat"}
        Sets the defaults of ``base`` and ``threshold``: DPR 412/93 base 20 °C counted whenever the mean is below
        it; Eurostat base 18 °C counted when the mean is <= 15 °C.
    base : float, optional
        Base (indoor) temperature [°C]; overrides the convention's.
    threshold : float, optional
        A day counts only when its mean is <= ``threshold`` [°C]; default the convention's (``base`` for DPR).
    zone : str, optional
        Climatic zone "A".."F": days outside its heating period (:data:`HEATING_SEASONS`) count 0.
    method, min_coverage
        How the daily mean is taken (:func:`daily_mean_temperature`).

    Returns
    -------
    pandas.Series
        Degree days per local day [K·day], NaN for days without a mean.
    """
    if convention == CONVENTION_DPR412:
        b = DPR412_INDOOR_C if base is None else base
        th = b if threshold is None else threshold
    elif convention == CONVENTION_EUROSTAT:
        b = EUROSTAT_HDD_BASE_C if base is None else base
        th = EUROSTAT_HDD_THRESHOLD_C if threshold is None else threshold
    else:
        raise ValueError(f"convenzione {convention!r} non valida; servono 'dpr412' o 'eurostat'")
    tm = daily_mean_temperature(temp_air, method=method, min_coverage=min_coverage)
    return heating_degree_days_from_daily(tm, base=b, threshold=th, zone=zone)


def heating_degree_days_from_daily(
    daily_mean: pd.Series, *, base: float, threshold: float | None = None, zone: str | None = None
) -> pd.Series:
    """Heating degree days from daily mean temperatures already computed (index: local midnights).

    :math:`HDD_d = base - T_{m,d}` when :math:`T_{m,d} \\le threshold` (default ``base``) and the day is in the
    zone's heating period, else 0; NaN where the mean is NaN [K·day].
    """
    th = base if threshold is None else threshold
    idx = _local_index(daily_mean, "temperatura media giornaliera")
    tm = np.asarray(daily_mean, dtype=float)
    hdd = np.where(tm <= th, np.maximum(base - tm, 0.0), 0.0)
    hdd = np.where(_season_mask(idx, zone), hdd, 0.0)
    hdd = np.where(np.isnan(tm), np.nan, hdd)
    return pd.Series(hdd, index=idx, name="hdd")


def cooling_degree_days(
    temp_air: pd.Series,
    *,
    base: float = EUROSTAT_CDD_BASE_C,
    threshold: float | None = EUROSTAT_CDD_THRESHOLD_C,
    method: str = "mean",
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> pd.Series:
    """Cooling degree days per local day.

    Parameters
    ----------
    temp_air : pandas.Series
        Air temperature [°C], timezone-aware index, sub-daily or daily.
    base : float, default 21
        Base temperature [°C] (Eurostat: 21 °C).
    threshold : float or None, default 24
        A day counts only when its mean is >= ``threshold`` [°C] (Eurostat: 24 °C); ``None`` means ``base``.
    method, min_coverage
        How the daily mean is taken (:func:`daily_mean_temperature`).

    Returns
    -------
    pandas.Series
        :math:`T_{m,d} - base` on counted days, else 0; NaN for days without a mean [K·day].
    """
    th = base if threshold is None else threshold
    tm_s = daily_mean_temperature(temp_air, method=method, min_coverage=min_coverage)
    tm = tm_s.to_numpy(dtype=float)
    cdd = np.where(tm >= th, np.maximum(tm - base, 0.0), 0.0)
    cdd = np.where(np.isnan(tm), np.nan, cdd)
    return pd.Series(cdd, index=tm_s.index, name="cdd")


def degree_days_by_period(daily: pd.Series, period: str = PERIOD_MONTH, *, max_missing_days: int = 0) -> pd.Series:
    """Sum daily degree days into local days, ISO weeks or calendar months.

    Parameters
    ----------
    daily : pandas.Series
        Degree days per local day [K·day] (timezone-aware index of local midnights); NaN is a missing day.
    period : {"day", "week", "month"}
    max_missing_days : int, default 0
        A period with more missing days than this (NaN, or absent because the data start or end inside it) is NaN.

    Returns
    -------
    pandas.Series
        Degree days per period [K·day], indexed by the local midnight starting each period.
    """
    if max_missing_days < 0:
        raise ValueError(f"giorni mancanti ammessi negativi: {max_missing_days}")
    idx = _local_index(daily, "gradi-giorno giornalieri")
    starts = period_starts(idx, period)
    values = pd.Series(np.asarray(daily, dtype=float), index=idx)
    total = values.groupby(starts).sum(min_count=1)
    present = values.groupby(starts).count()
    labels = pd.DatetimeIndex(total.index)
    if period == PERIOD_DAY:
        expected = np.ones(len(labels))
    elif period == PERIOD_WEEK:
        expected = np.full(len(labels), 7.0)
    else:
        expected = np.asarray(labels.days_in_month, dtype=float)
    missing = expected - present.reindex(labels).to_numpy(dtype=float)
    out = total.where(missing <= max_missing_days)
    out.name = daily.name
    return out.astype(float)
