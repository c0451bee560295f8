"""Hourly load profiles of members before there are meter readings: standard shapes scaled to bills, and analysis.

A prospective member usually knows only their bills: consumption per month (or per year), split by ARERA band
F1/F2/F3, by F1 and F23 (F2 and F3 together), or not split at all. :func:`profile_from_bill` turns such a bill into
an hourly series [kWh] on the UTC hour grid of :mod:`condivisa.engine.timegrid`: the shape comes from the BDEW 2025
standard load profiles (:func:`standard_profile`, via ``demandlib``) computed on Italian local time with Italian
national holidays, and it is scaled within each (month, band) so that the series reproduces the bill exactly.

The analysis functions (:func:`band_split`, :func:`base_load_kw`, :func:`daily_heatmap`, :func:`weekly_profile`,
:func:`monthly_totals`, :func:`load_duration_curve`, :func:`peak_kw`) take any hourly series [kWh] indexed by
timezone-aware hour starts, from a bill or from readings.

Pure computation: no file is read or written (``demandlib`` reads its own bundled tables).

Daylight saving time
--------------------
BDEW profiles are defined on local wall-clock time. Each real hour takes the profile value of the local wall-clock
hour it starts in: on the last Sunday of March the skipped 02:00 local hour is simply absent (the day has 23 hours,
and that wall-clock value is not used), and on the last Sunday of October both real hours that start at 02:00 local
(one in summer time, one in winter time) take the 02:00 value (the day has 25 hours: people do consume during the
repeated hour). Profiles built from bills are then rescaled, so these choices move energy only within a day, never
change the billed totals.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from numbers import Real
from types import MappingProxyType

import holidays
import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.engine.timegrid import LOCAL_TZ, Period
from condivisa.rules.bands import time_band
from condivisa.rules.rulebook import Rulebook

FloatArray = npt.NDArray[np.float64]

PROFILES: tuple[str, ...] = ("H25", "G25", "L25", "P25", "S25")
"""BDEW 2025 standard load profiles: households, commerce and business, agriculture, households with PV, households
with PV and battery."""

KIND_PROFILE: Mapping[str, str] = MappingProxyType(
    {
        "household": "H25",
        "business": "G25",
        "municipality": "G25",
        "local_authority": "G25",
        "public_body": "G25",
        "university": "G25",
        "third_sector": "G25",
        "religious": "G25",
        "environmental": "G25",
        "other": "G25",
    }
)
"""Standard profile of each kind of member.

Households take H25. Every other kind takes G25, the BDEW profile for commerce and services (offices, shops,
public buildings: mostly weekday daytime use). For third-sector, religious, environmental and other members G25 is a
default, not a good fit for every case (a parish uses most on Sundays): pass an explicit profile name, or better the
member's own readings, when one is known.
"""

BILL_BAND_SETS: tuple[frozenset[str], ...] = (
    frozenset({"F1", "F2", "F3"}),
    frozenset({"F1", "F23"}),
    frozenset({"total"}),
)
"""Accepted band splits of a bill: F1/F2/F3, F1/F23 (F2 and F3 together) or a single ``total``."""

_BILL_BANDS: tuple[str, ...] = ("F1", "F2", "F3", "F23", "total")
_STANDARD_YEARLY_KWH = 1000.0
"""Scale of :func:`standard_profile`: about this many kWh per year (BDEW tables are for 1 GWh per year)."""
_MIN_YEAR, _MAX_YEAR = 2000, 2100


# --------------------------------------------------------------------------------------------------------------------
# Standard profiles


def profile_name(kind_or_profile: str) -> str:
    """BDEW 2025 profile name for a member kind (see :data:`KIND_PROFILE`) or an explicit profile name.

    Parameters
    ----------
    kind_or_profile : str
        A member kind (``"household"``, ``"business"``, ...) or one of :data:`PROFILES` (``"H25"``, ...).

    Returns
    -------
    str
        One of :data:`PROFILES`.

    Raises
    ------
    ValueError
        For anything else.
    """
    if kind_or_profile in PROFILES:
        return kind_or_profile
    if kind_or_profile in KIND_PROFILE:
        return KIND_PROFILE[kind_or_profile]
    raise ValueError(
        f"profilo di carico: {kind_or_profile!r} sconosciuto; attesi un tipo di membro "
        f"({', '.join(KIND_PROFILE)}) o un profilo BDEW ({', '.join(PROFILES)})"
    )


@cache
def _local_year_kwh(profile: str, year: int) -> FloatArray:
    """BDEW profile over one Italian local year, per naive local wall-clock hour (8,760 or 8,784 values) [kWh].

    demandlib works on naive time and a constant step: it gets every quarter-hour of the local calendar year (no DST
    gap or repetition) and the Italian national holidays of that year. Its values are mean power [kW] per
    quarter-hour for 1 GWh per year; the mean over the four quarter-hours of an hour is that hour's energy [kWh].
    """
    from demandlib import bdew  # heavy import (about 0.5 s), only when a profile is first needed

    classes = {"H25": bdew.H25, "G25": bdew.G25, "L25": bdew.L25, "P25": bdew.P25, "S25": bdew.S25}
    quarters = pd.date_range(dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1), freq="15min", inclusive="left")
    with warnings.catch_warnings():
        # demandlib 0.2.2 uses ``inplace=True``, deprecated in pandas 3.1 (Pandas4Warning): not our concern here.
        warnings.filterwarnings("ignore", message="The inplace keyword")
        series = classes[profile](quarters, holidays=holidays.country_holidays("IT", years=year))
    values = np.asarray(series, dtype=np.float64)
    if values.shape != (len(quarters),) or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise RuntimeError(f"demandlib {profile} {year}: profilo inatteso ({values.shape[0]} valori)")
    hourly: FloatArray = np.asarray(values.reshape(-1, 4).mean(axis=1) * (_STANDARD_YEARLY_KWH / 1e6), dtype=np.float64)
    hourly.flags.writeable = False
    return hourly


def _utc_hours(hours: pd.DatetimeIndex, what: str = "ore") -> pd.DatetimeIndex:
    """Check that ``hours`` are timezone-aware hour starts and return them in UTC."""
    idx = pd.DatetimeIndex(hours)
    if idx.tz is None:
        raise ValueError(f"{what}: servono istanti con fuso orario (ad esempio UTC), non orari locali senza fuso")
    idx = idx.tz_convert("UTC")
    if len(idx) and not (idx == idx.floor("h")).all():
        bad = idx[idx != idx.floor("h")][0]
        raise ValueError(f"{what}: {bad.isoformat()} non è l'inizio di un'ora; servono valori orari")
    if not idx.is_unique:
        bad = idx[idx.duplicated()][0]
        raise ValueError(f"{what}: ora ripetuta {bad.isoformat()}")
    return idx


def standard_profile(kind: str, hours_utc: pd.DatetimeIndex) -> FloatArray:
    """Hourly shape of a BDEW 2025 standard load profile on the given hours, on Italian local time [kWh].

    Parameters
    ----------
    kind : str
        A member kind (mapped by :data:`KIND_PROFILE`) or a profile name of :data:`PROFILES`.
    hours_utc : pandas.DatetimeIndex
        Timezone-aware hour starts (any zone; usually UTC, as from :meth:`Period.hours`), any years, unique.

    Returns
    -------
    numpy.ndarray of float
        One value per hour, in the order given: relative weights with the units of energy, the kWh of each hour for
        a consumption of about 1,000 kWh per year (BDEW's 1 GWh normalisation divided by 1,000; dynamised profiles and
        calendars make a year's sum differ slightly). Scale them to real consumption with :func:`profile_from_bill`.

    Notes
    -----
    The profile is computed by ``demandlib`` on naive Italian local time with Italian national holidays
    (``holidays.country_holidays("IT")``), which BDEW treats like Sundays, and is cached per (profile, year). Each
    real hour takes the value of the local wall-clock hour it starts in; see the module notes for DST days.
    """
    profile = profile_name(kind)
    idx = _utc_hours(hours_utc)
    local = idx.tz_convert(LOCAL_TZ).tz_localize(None)
    years = local.year.to_numpy()
    hour_of_year = (local.day_of_year.to_numpy() - 1) * 24 + local.hour.to_numpy()
    out = np.empty(len(idx), dtype=np.float64)
    for year in np.unique(years):
        mask = years == year
        out[mask] = _local_year_kwh(profile, int(year))[hour_of_year[mask]]
    return out


# --------------------------------------------------------------------------------------------------------------------
# Bills


def _kwh(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{where}: consumo non numerico ({value!r}); atteso un numero di kWh")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{where}: consumo non finito ({value!r}); atteso un numero di kWh")
    if number < 0:
        raise ValueError(f"{where}: consumo negativo ({number:g} kWh)")
    return number


def _bands(values: object, where: str) -> Mapping[str, float]:
    if not isinstance(values, Mapping):
        raise ValueError(f"{where}: attesi i consumi per fascia, ad esempio {{'F1': 100, 'F2': 80, 'F3': 120}}")
    if not values:
        raise ValueError(f"{where}: nessuna fascia indicata (attese F1, F2, F3 oppure F1, F23 oppure total)")
    for band in values:
        if band not in _BILL_BANDS:
            raise ValueError(f"{where}, {band}: fascia sconosciuta (attese F1, F2, F3, F23 o total)")
    keys = frozenset(str(band) for band in values)
    if keys not in BILL_BAND_SETS:
        if "total" in keys:
            problem = "total insieme ad altre fasce"
        elif "F23" in keys and keys & {"F2", "F3"}:
            problem = "F23 insieme a " + " e ".join(sorted(keys & {"F2", "F3"}))
        else:
            expected = frozenset({"F1", "F23"}) if "F23" in keys else frozenset({"F1", "F2", "F3"})
            problem = "manca " + ", ".join(sorted(expected - keys))
        raise ValueError(f"{where}: {problem}; usare F1, F2, F3 oppure F1, F23 oppure total")
    return MappingProxyType({str(band): _kwh(kwh, f"{where}, {band}") for band, kwh in values.items()})


@dataclass(frozen=True)
class Bill:
    """Consumption billed over one calendar year, per month or for the whole year, per ARERA band [kWh].

    Give exactly one of ``yearly`` and ``monthly``. Bands are ``"F1"``, ``"F2"``, ``"F3"``; or ``"F1"`` and
    ``"F23"`` (F2 and F3 together); or a single ``"total"`` when the bill has no band split. In a monthly bill each
    month may use its own split (e.g. a few months read only as a total).

    Parameters
    ----------
    year : int
        Calendar year of the bill (Italian local time).
    yearly : mapping of str to float, optional
        ``{band: kWh}`` for the whole year.
    monthly : mapping of int to mapping of str to float, optional
        ``{month: {band: kWh}}`` for every month 1..12.

    Raises
    ------
    ValueError
        On invalid input, in Italian, naming the place: ``"bolletta, mese 3, F2: consumo negativo (-5 kWh)"``.

    Examples
    --------
    >>> Bill(2025, yearly={"F1": 900.0, "F23": 1800.0}).total_kwh
    2700.0
    """

    year: int
    yearly: Mapping[str, float] | None = None
    monthly: Mapping[int, Mapping[str, float]] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.year, bool) or not isinstance(self.year, int | np.integer):
            raise ValueError(f"bolletta, anno: {self.year!r} non è un anno")
        if not _MIN_YEAR <= int(self.year) <= _MAX_YEAR:
            raise ValueError(f"bolletta, anno: {self.year} fuori dall'intervallo {_MIN_YEAR}–{_MAX_YEAR}")
        object.__setattr__(self, "year", int(self.year))
        if (self.yearly is None) == (self.monthly is None):
            raise ValueError("bolletta: indicare i consumi annui (yearly) oppure quelli mensili (monthly), uno solo")
        if self.yearly is not None:
            object.__setattr__(self, "yearly", _bands(self.yearly, "bolletta, anno"))
            return
        monthly = self.monthly
        if not isinstance(monthly, Mapping):
            raise ValueError("bolletta, mesi: attesi i consumi per mese, {mese: {fascia: kWh}}")
        checked: dict[int, Mapping[str, float]] = {}
        for month, values in monthly.items():
            if isinstance(month, bool) or not isinstance(month, int | np.integer) or not 1 <= month <= 12:
                raise ValueError(f"bolletta, mese {month!r}: mese inesistente (attesi i numeri da 1 a 12)")
            checked[int(month)] = _bands(values, f"bolletta, mese {int(month)}")
        missing = sorted(set(range(1, 13)) - set(checked))
        if missing:
            raise ValueError(
                f"bolletta, mesi: mancano i mesi {', '.join(map(str, missing))} (servono tutti i mesi da 1 a 12)"
            )
        object.__setattr__(self, "monthly", MappingProxyType(dict(sorted(checked.items()))))

    @property
    def total_kwh(self) -> float:
        """Total billed consumption over the year [kWh]."""
        return sum(kwh for _, _, kwh in self.groups())

    def groups(self) -> list[tuple[int | None, str, float]]:
        """Billed amounts as ``(month, band, kWh)``; ``month`` is ``None`` for a yearly bill."""
        if self.yearly is not None:
            return [(None, band, kwh) for band, kwh in self.yearly.items()]
        assert self.monthly is not None
        return [(month, band, kwh) for month, bands in self.monthly.items() for band, kwh in bands.items()]


def _bill_label(hour_bands: npt.NDArray[np.str_], split: frozenset[str]) -> npt.NDArray[np.str_]:
    """Band of each hour as the bill names it (F1/F2/F3, F1/F23 or total)."""
    if split == frozenset({"total"}):
        return np.full(len(hour_bands), "total", dtype="<U5")
    if "F23" in split:
        return np.where(hour_bands == "F1", "F1", "F23").astype("<U5")
    return hour_bands.astype("<U5")


def profile_from_bill(
    bill: Bill,
    kind_or_profile: str,
    hours_utc: pd.DatetimeIndex | None = None,
    *,
    rulebook: Rulebook | None = None,
) -> pd.Series:
    """Hourly consumption [kWh] shaped like a standard profile and matching a bill exactly, per month and band.

    Parameters
    ----------
    bill : Bill
        Billed consumption [kWh].
    kind_or_profile : str
        Member kind or BDEW profile name, as for :func:`standard_profile`.
    hours_utc : pandas.DatetimeIndex, optional
        Timezone-aware hour starts, all in the bill's local calendar year; default every hour of that year
        (8,760 or 8,784, DST-correct). Billed amounts are spread over these hours only.
    rulebook : Rulebook, optional
        Band definitions; default the bundled rulebook.

    Returns
    -------
    pandas.Series of float
        Hourly consumption [kWh] indexed by UTC hour start (``timestamp``), named ``withdrawn_kwh``. Within each
        billed group of hours, (month, band) for a monthly bill or (band) for a yearly one, the standard shape is
        scaled so that the group sums to the billed amount; a group billed 0 kWh is all zeros, and a group where the
        shape is zero but the bill is not gets the amount spread evenly over its hours. Band of each hour:
        :func:`condivisa.rules.time_band` (F23 = F2 + F3; ``total`` = every hour).

    Raises
    ------
    ValueError
        If ``hours_utc`` are not timezone-aware unique hour starts, fall outside the bill's year, or contain no hour
        of a group billed more than 0 kWh; or if the kind is unknown.
    """
    if not isinstance(bill, Bill):
        raise ValueError(f"bolletta: attesa una Bill, non {type(bill).__name__}")
    if hours_utc is None:
        idx = Period(dt.date(bill.year, 1, 1), dt.date(bill.year, 12, 31)).hours()
    else:
        idx = _utc_hours(hours_utc, "ore del profilo")
    local = idx.tz_convert(LOCAL_TZ).tz_localize(None)
    outside = local.year != bill.year
    if outside.any():
        first = idx[outside][0]
        raise ValueError(f"ore del profilo: {first.isoformat()} è fuori dall'anno della bolletta {bill.year}")

    shape = standard_profile(kind_or_profile, idx)
    hour_bands = time_band(idx, rulebook)
    months = local.month.to_numpy()
    result = np.zeros(len(idx), dtype=np.float64)
    for month, split in _splits(bill):
        in_period = np.ones(len(idx), dtype=bool) if month is None else months == month
        labels = _bill_label(hour_bands, split)
        for band in split:
            billed = _billed(bill, month, band)
            mask = in_period & (labels == band)
            if billed == 0.0:
                continue
            where = "bolletta" + ("" if month is None else f", mese {month}") + f", {band}"
            if not mask.any():
                raise ValueError(f"{where}: {billed:g} kWh fatturati ma nessuna ora del profilo in questa fascia")
            part = shape[mask]
            weight = float(part.sum())
            result[mask] = billed / mask.sum() if weight <= 0.0 else part * (billed / weight)
    return pd.Series(result, index=idx.rename("timestamp"), name="withdrawn_kwh")


def _splits(bill: Bill) -> list[tuple[int | None, frozenset[str]]]:
    if bill.yearly is not None:
        return [(None, frozenset(bill.yearly))]
    assert bill.monthly is not None
    return [(month, frozenset(bands)) for month, bands in bill.monthly.items()]


def _billed(bill: Bill, month: int | None, band: str) -> float:
    if month is None:
        assert bill.yearly is not None
        return bill.yearly[band]
    assert bill.monthly is not None
    return bill.monthly[month][band]


# --------------------------------------------------------------------------------------------------------------------
# Analysis of an hourly series


def _hourly(series: pd.Series) -> tuple[pd.DatetimeIndex, FloatArray]:
    """UTC hour starts and values [kWh] of an hourly series, checked."""
    if not isinstance(series, pd.Series):
        raise ValueError(f"serie oraria: attesa una pandas.Series, non {type(series).__name__}")
    if not isinstance(series.index, pd.DatetimeIndex):
        raise ValueError("serie oraria: l'indice deve essere di istanti (DatetimeIndex con fuso orario)")
    idx = _utc_hours(series.index, "serie oraria")
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.all(np.isfinite(values)):
        bad = idx[~np.isfinite(values)][0]
        raise ValueError(f"serie oraria: valore mancante o non finito all'ora {bad.isoformat()}")
    return idx, values


def band_split(series: pd.Series, *, rulebook: Rulebook | None = None) -> dict[str, float]:
    """Energy per ARERA band [kWh].

    Parameters
    ----------
    series : pandas.Series
        Hourly energy [kWh] indexed by timezone-aware hour starts.
    rulebook : Rulebook, optional
        Band definitions; default the bundled rulebook.

    Returns
    -------
    dict of str to float
        ``{"F1": kWh, "F2": kWh, "F3": kWh}``, every band present (0.0 when it has no hour).
    """
    idx, values = _hourly(series)
    bands = time_band(idx, rulebook)
    return {band: float(values[bands == band].sum()) for band in ("F1", "F2", "F3")}


def base_load_kw(series: pd.Series, quantile: float = 0.05) -> float:
    """Base load: a low quantile of hourly mean power [kW].

    Each hour's energy [kWh] is its mean power [kW]. The base load is the ``quantile`` quantile of these powers
    (linear interpolation between order statistics, numpy's default), not the minimum, so that a few hours of meter
    outage or unusual absence do not set it. ``quantile=0`` gives the minimum.

    Parameters
    ----------
    series : pandas.Series
        Hourly energy [kWh] indexed by timezone-aware hour starts; at least one hour.
    quantile : float, default 0.05
        Between 0 and 1.

    Returns
    -------
    float
        Base load [kW].
    """
    if isinstance(quantile, bool) or not isinstance(quantile, Real) or not 0.0 <= float(quantile) <= 1.0:
        raise ValueError(f"carico di base, quantile: {quantile!r} non valido (atteso un numero tra 0 e 1)")
    _, values = _hourly(series)
    if len(values) == 0:
        raise ValueError("carico di base: serie oraria vuota")
    return float(np.quantile(values, float(quantile)))


def peak_kw(series: pd.Series) -> float:
    """Highest hourly mean power [kW].

    Parameters
    ----------
    series : pandas.Series
        Hourly energy [kWh] indexed by timezone-aware hour starts; at least one hour.

    Returns
    -------
    float
        Peak [kW]. Being an hourly mean it is lower than the quarter-hour or instantaneous peak the meter and the
        contractual power see.
    """
    _, values = _hourly(series)
    if len(values) == 0:
        raise ValueError("potenza di picco: serie oraria vuota")
    return float(values.max())


def load_duration_curve(series: pd.Series) -> FloatArray:
    """Load duration curve: hourly mean powers sorted from highest to lowest [kW].

    Parameters
    ----------
    series : pandas.Series
        Hourly energy [kWh] indexed by timezone-aware hour starts.

    Returns
    -------
    numpy.ndarray of float
        One value per hour, non-increasing; element ``k`` is the power exceeded during ``k`` hours [kW].
    """
    _, values = _hourly(series)
    return np.sort(values)[::-1].copy()


def _local(idx: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return idx.tz_convert(LOCAL_TZ).tz_localize(None)


def daily_heatmap(series: pd.Series) -> pd.DataFrame:
    """Energy by Italian local date and local hour [kWh], for a heat map.

    Parameters
    ----------
    series : pandas.Series
        Hourly energy [kWh] indexed by timezone-aware hour starts.

    Returns
    -------
    pandas.DataFrame
        Rows: the local dates present (naive midnight timestamps, index ``date``); columns: local hour 0..23
        (``hour``). Each cell is the energy of the hours starting at that local wall-clock hour [kWh]. On the
        spring DST day the 02:00 cell is NaN (that hour does not exist); on the autumn DST day the 02:00 cell holds
        the sum of both 02:00 hours (summer and winter time). Hours missing from the series are NaN as well, so the
        sum of a row ignoring NaN is always that day's energy.
    """
    idx, values = _hourly(series)
    local = _local(idx)
    frame = pd.DataFrame({"date": local.normalize(), "hour": local.hour, "kwh": values})
    table = frame.groupby(["date", "hour"])["kwh"].sum().unstack("hour")
    table = table.reindex(columns=pd.RangeIndex(24, name="hour"))
    table.index.name = "date"
    return table.astype(np.float64)


def weekly_profile(series: pd.Series) -> pd.DataFrame:
    """Mean energy by local weekday and local hour [kWh].

    Parameters
    ----------
    series : pandas.Series
        Hourly energy [kWh] indexed by timezone-aware hour starts.

    Returns
    -------
    pandas.DataFrame
        Rows: weekday 0..6 (Monday = 0, index ``weekday``); columns: local hour 0..23 (``hour``). Each cell is the
        mean over the real hours that start at that local weekday and wall-clock hour [kWh] (so the repeated autumn
        02:00 hour counts as two samples, the skipped spring one as none); NaN where there is no such hour.
        Holidays count as their calendar weekday.
    """
    idx, values = _hourly(series)
    local = _local(idx)
    frame = pd.DataFrame({"weekday": local.day_of_week, "hour": local.hour, "kwh": values})
    table = frame.groupby(["weekday", "hour"])["kwh"].mean().unstack("hour")
    table = table.reindex(index=pd.RangeIndex(7, name="weekday"), columns=pd.RangeIndex(24, name="hour"))
    return table.astype(np.float64)


def monthly_totals(series: pd.Series) -> pd.Series:
    """Energy per Italian local calendar month [kWh].

    Parameters
    ----------
    series : pandas.Series
        Hourly energy [kWh] indexed by timezone-aware hour starts.

    Returns
    -------
    pandas.Series of float
        Indexed by the local months present (``pandas.PeriodIndex``, frequency monthly, name ``month``), in order.
    """
    idx, values = _hourly(series)
    months = _local(idx).to_period("M")
    totals = pd.Series(values, index=months).groupby(level=0).sum()
    totals.index.name = "month"
    return totals.rename("kwh").astype(np.float64)
