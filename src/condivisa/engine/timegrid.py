"""Hour grids in UTC for Italian local periods, and quarter-hour to hour aggregation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd

LOCAL_TZ = "Europe/Rome"


@dataclass(frozen=True)
class Period:
    """A settlement period of whole local days, ``start`` and ``end`` inclusive (Italian calendar dates)."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"periodo vuoto: fine {self.end} prima dell'inizio {self.start}")

    @property
    def start_utc(self) -> pd.Timestamp:
        """UTC instant of local midnight at the start."""
        return pd.Timestamp(self.start).tz_localize(LOCAL_TZ).tz_convert("UTC")

    @property
    def end_utc(self) -> pd.Timestamp:
        """UTC instant of local midnight after the last day (exclusive end)."""
        return pd.Timestamp(self.end + dt.timedelta(days=1)).tz_localize(LOCAL_TZ).tz_convert("UTC")

    def hours(self) -> pd.DatetimeIndex:
        """UTC start of every hour in the period (23 or 25 on DST days); an immutable index, built once per period."""
        return _hours(self.start, self.end)

    def is_calendar_year(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) and (
            self.start.year == self.end.year
        )


@lru_cache(maxsize=256)
def _hours(start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    period = Period(start, end)
    return pd.date_range(period.start_utc, period.end_utc, freq="h", inclusive="left")


def iso_local(instants: pd.Series | pd.DatetimeIndex) -> npt.NDArray[np.str_]:
    """ISO 8601 Italian local time with its UTC offset (``2025-03-30T03:00:00+02:00``), vectorised."""
    idx = pd.DatetimeIndex(instants)
    utc = idx.tz_convert("UTC").tz_localize(None)
    local = idx.tz_convert(LOCAL_TZ).tz_localize(None)
    offset_h = ((local - utc) // pd.Timedelta(hours=1)).to_numpy()
    text = np.datetime_as_string(local.to_numpy().astype("datetime64[s]"), unit="s")
    suffix = np.where(offset_h == 2, "+02:00", "+01:00")
    return np.char.add(text.astype(str), suffix)


@dataclass(frozen=True)
class HourlyMatrix:
    """Readings summed to UTC hours, as (hours x pods) arrays.

    Attributes
    ----------
    withdrawn, injected : (H, P) arrays [kWh]
    intervals : (H, P) int array
        Number of meter intervals found in each hour (4 for complete quarter-hour data, 1 for hourly).
    pods : list of str
        Column order.
    """

    withdrawn: npt.NDArray[np.float64]
    injected: npt.NDArray[np.float64]
    intervals: npt.NDArray[np.int64]
    pods: list[str]


def to_hourly(frame: pd.DataFrame, pods: list[str], hours: pd.DatetimeIndex) -> HourlyMatrix:
    """Sum interval readings to the hour (**before** any minimum is taken), on a fixed grid.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``pod``, ``timestamp`` (UTC interval start), ``withdrawn_kwh``, ``injected_kwh``.
    pods : list of str
        Columns of the result; readings of other PODs are ignored.
    hours : pandas.DatetimeIndex
        UTC hour starts of the grid, consecutive; readings outside are ignored.
    """
    n_h, n_p = len(hours), len(pods)
    pod_index = pd.Index(pods)
    col = pod_index.get_indexer(pd.Index(frame["pod"]))
    start = hours[0] if n_h else pd.Timestamp(0, tz="UTC")
    hour_pos = ((frame["timestamp"] - start) // pd.Timedelta(hours=1)).to_numpy(dtype=np.int64)
    keep = (col >= 0) & (hour_pos >= 0) & (hour_pos < n_h)
    flat = hour_pos[keep] * n_p + col[keep]
    size = n_h * n_p
    withdrawn = np.bincount(flat, weights=frame["withdrawn_kwh"].to_numpy()[keep], minlength=size).astype(np.float64)
    injected = np.bincount(flat, weights=frame["injected_kwh"].to_numpy()[keep], minlength=size).astype(np.float64)
    count = np.bincount(flat, minlength=size)
    return HourlyMatrix(
        withdrawn=withdrawn.reshape(n_h, n_p),
        injected=injected.reshape(n_h, n_p),
        intervals=count.reshape(n_h, n_p).astype(np.int64),
        pods=list(pods),
    )
