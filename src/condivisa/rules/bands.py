"""ARERA time bands F1/F2/F3 of any hour, with Italian national holidays and DST days."""

from __future__ import annotations

from functools import cache

import holidays
import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.rules.rulebook import Rulebook, load_rulebook

LOCAL_TZ = "Europe/Rome"


@cache
def _italian_holidays(year: int) -> frozenset[pd.Timestamp]:
    return frozenset(pd.Timestamp(d) for d in holidays.country_holidays("IT", years=year))


def italian_holidays(years: range | list[int]) -> set[pd.Timestamp]:
    """National holidays of Italy (``holidays.Italy``) as local midnight timestamps (naive)."""
    out: set[pd.Timestamp] = set()
    for y in years:
        out |= _italian_holidays(int(y))
    return out


def day_type(local_dates: pd.DatetimeIndex) -> npt.NDArray[np.str_]:
    """'weekday', 'saturday' or 'sunday_or_holiday' for naive local dates."""
    days = local_dates.normalize()
    hol = italian_holidays(sorted(set(days.year)))
    is_holiday = days.isin(list(hol)) if hol else np.zeros(len(days), dtype=bool)
    dow = days.day_of_week.to_numpy()
    out = np.where(dow == 5, "saturday", "weekday").astype("<U17")
    out[(dow == 6) | np.asarray(is_holiday)] = "sunday_or_holiday"
    return out


def time_band(hours: pd.DatetimeIndex, rulebook: Rulebook | None = None) -> npt.NDArray[np.str_]:
    """Band (``"F1"``, ``"F2"``, ``"F3"``) of each hour.

    Parameters
    ----------
    hours : pandas.DatetimeIndex
        Start of each hour. Timezone-aware instants (any zone, e.g. UTC) are converted to Italian local time;
        naive values are read as Italian local time.

    Returns
    -------
    numpy.ndarray of str
        One band per hour. An hour takes the band of its local start, so on DST days the 23 or 25 local hours
        each get their own band correctly.
    """
    rb = rulebook or load_rulebook()
    idx = pd.DatetimeIndex(hours)
    local = idx.tz_convert(LOCAL_TZ).tz_localize(None) if idx.tz is not None else idx
    kinds = day_type(local)
    hour = local.hour.to_numpy()
    out = np.empty(len(local), dtype="<U2")
    for kind, table in rb.bands.items():
        lookup = np.array([table[h] for h in range(24)], dtype="<U2")
        mask = kinds == kind
        out[mask] = lookup[hour[mask]]
    return out
