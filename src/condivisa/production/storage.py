"""Battery and EV charging as a community would run them by simple rules (simulation, not optimal sizing).

:func:`dispatch_self_consumption` charges a battery from the community's hourly surplus and discharges it into
the hours of deficit; :func:`schedule_ev` places each day's charging of an electric vehicle in the hours of
largest surplus. The optimal sizing of storage is a linear programme elsewhere (``planning``); these are the rules
a battery management system or a charging app would follow, and what the settlement then sees.

Battery placement assumed: at an injection point of the community (behind a plant's meter or on its own). Charging
from surplus lowers the injection of a surplus hour, which leaves the shared energy of that hour unchanged as long
as charge ≤ surplus; discharging into a deficit hour raises injection, and so the shared energy, by the amount
discharged as long as discharge ≤ deficit.
"""

from __future__ import annotations

import math
import zoneinfo
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Battery:
    """A stationary battery.

    Parameters
    ----------
    energy_kwh : float
        Nominal (usable at 100 % SOC) energy capacity :math:`E` [kWh].
    power_kw : float
        Power limit of the AC side, charging and discharging :math:`P` [kW].
    efficiency_roundtrip : float, default 0.9
        Round-trip AC-to-AC efficiency :math:`\\eta`, in (0, 1]; split evenly, :math:`\\sqrt\\eta` on charge and
        on discharge [unitless].
    soc_min : float, default 0.1
        Lowest state of charge, as a fraction of ``energy_kwh`` [unitless].
    soc_max : float, default 1.0
        Highest state of charge, as a fraction of ``energy_kwh`` [unitless].
    initial_soc : float, optional
        State of charge before the first hour, fraction of ``energy_kwh``; default ``soc_min`` (empty, so no energy
        comes from before the period) [unitless].

    Raises
    ------
    ValueError
        A field out of range, named in the message.
    """

    energy_kwh: float
    power_kw: float
    efficiency_roundtrip: float = 0.9
    soc_min: float = 0.1
    soc_max: float = 1.0
    initial_soc: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.energy_kwh) and self.energy_kwh > 0):
            raise ValueError(f"energy_kwh: capacità non positiva: {self.energy_kwh} kWh")
        if not (math.isfinite(self.power_kw) and self.power_kw > 0):
            raise ValueError(f"power_kw: potenza non positiva: {self.power_kw} kW")
        if not (math.isfinite(self.efficiency_roundtrip) and 0 < self.efficiency_roundtrip <= 1):
            raise ValueError(f"efficiency_roundtrip: {self.efficiency_roundtrip} fuori da (0, 1]")
        if not (math.isfinite(self.soc_min) and math.isfinite(self.soc_max) and 0 <= self.soc_min < self.soc_max <= 1):
            raise ValueError(
                f"soc_min, soc_max: attesi 0 <= soc_min < soc_max <= 1, trovati {self.soc_min}, {self.soc_max}"
            )
        if self.initial_soc is not None and not (
            math.isfinite(self.initial_soc) and self.soc_min <= self.initial_soc <= self.soc_max
        ):
            raise ValueError(
                f"initial_soc: {self.initial_soc} fuori da [soc_min, soc_max] = [{self.soc_min}, {self.soc_max}]"
            )

    @property
    def initial_energy_kwh(self) -> float:
        """Energy stored before the first hour [kWh]."""
        soc = self.soc_min if self.initial_soc is None else self.initial_soc
        return soc * self.energy_kwh


@dataclass(frozen=True)
class DispatchResult:
    """Hour-by-hour result of :func:`dispatch_self_consumption`, all series on the input's index.

    Attributes
    ----------
    charge_kwh : pandas.Series
        Energy taken from the surplus, AC side [kWh].
    discharge_kwh : pandas.Series
        Energy delivered into the deficit, AC side [kWh].
    soc_kwh : pandas.Series
        Energy stored at the end of each hour [kWh].
    added_shared_kwh : pandas.Series
        Shared energy added by the battery in each hour [kWh], :math:`\\min(n - c + d, 0) - \\min(n, 0)` with
        :math:`n` = surplus − deficit; equal to the discharge under the rules here.
    initial_energy_kwh : float
        Energy stored before the first hour [kWh].
    """

    charge_kwh: pd.Series
    discharge_kwh: pd.Series
    soc_kwh: pd.Series
    added_shared_kwh: pd.Series
    initial_energy_kwh: float

    @property
    def added_shared_total_kwh(self) -> float:
        """Shared energy added over the period [kWh]."""
        return float(self.added_shared_kwh.sum())

    @property
    def losses_kwh(self) -> float:
        """Energy lost in conversion: charged − discharged − (final − initial stored) [kWh]."""
        final = float(self.soc_kwh.iloc[-1]) if len(self.soc_kwh) else self.initial_energy_kwh
        return float(self.charge_kwh.sum() - self.discharge_kwh.sum() - (final - self.initial_energy_kwh))


def _energy_array(values: pd.Series | npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name}: attesa una serie oraria (una dimensione), trovata forma {array.shape}")
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}: attesi valori finiti e non negativi [kWh], trovato {array[at]} all'ora {at}")
    return array


def dispatch_self_consumption(
    battery: Battery, surplus_kwh: pd.Series | npt.ArrayLike, deficit_kwh: pd.Series | npt.ArrayLike
) -> DispatchResult:
    """Charge from the community's surplus, discharge into its deficit, hour by hour (greedy rule).

    Each hour :math:`t`, with :math:`e` the stored energy, :math:`r = \\sqrt\\eta`, :math:`\\Delta t` = 1 h:

    - surplus :math:`s_t > 0`: charge :math:`c_t = \\min(s_t,\\ P\\Delta t,\\ (E\\,soc_{max} - e)/r)`,
      then :math:`e \\mathrel{+}= r\\,c_t`;
    - deficit :math:`d_t > 0`: discharge :math:`x_t = \\min(d_t,\\ P\\Delta t,\\ (e - E\\,soc_{min})\\,r)`,
      then :math:`e \\mathrel{-}= x_t / r`.

    So discharged = :math:`\\eta` × charged + :math:`r` × (initial − final stored) over any period.

    Parameters
    ----------
    battery : Battery
        The battery.
    surplus_kwh : pandas.Series or array-like
        Community surplus of each hour, injection − withdrawal where positive, else 0 [kWh].
    deficit_kwh : pandas.Series or array-like
        Community deficit of each hour, withdrawal − injection where positive, else 0 [kWh]. Same length; an hour
        cannot have both.

    Returns
    -------
    DispatchResult
        Charge, discharge, stored energy and added shared energy per hour, on the index of ``surplus_kwh`` when
        it is a Series (else of ``deficit_kwh``, else 0..n-1).

    Raises
    ------
    ValueError
        Negative or non-finite values, different lengths, or surplus and deficit in the same hour; the message
        names the argument and the hour.

    Notes
    -----
    This is the one place in Condivisa that loops over hours: the stored energy of an hour depends on the previous
    hour's, through the ``min`` of the limits, so the recursion has no closed vectorised form (the optimal
    schedule is a linear programme, in ``planning``). The loop runs on plain Python floats, about 10 ms for
    8,760 hours; numba would make it faster but is not a dependency.
    """
    surplus = _energy_array(surplus_kwh, "surplus_kwh")
    deficit = _energy_array(deficit_kwh, "deficit_kwh")
    if surplus.shape != deficit.shape:
        raise ValueError(f"surplus_kwh, deficit_kwh: lunghezze diverse, {surplus.size} e {deficit.size}")
    both = (surplus > 0) & (deficit > 0)
    if both.any():
        raise ValueError(
            f"surplus_kwh, deficit_kwh: entrambi positivi all'ora {int(np.flatnonzero(both)[0])}; "
            "dare eccedenza e deficit netti della comunità"
        )
    if isinstance(surplus_kwh, pd.Series):
        index: pd.Index = surplus_kwh.index
    elif isinstance(deficit_kwh, pd.Series):
        index = deficit_kwh.index
    else:
        index = pd.RangeIndex(surplus.size)

    root = math.sqrt(battery.efficiency_roundtrip)
    e_min = battery.soc_min * battery.energy_kwh
    e_max = battery.soc_max * battery.energy_kwh
    step = battery.power_kw  # energy limit of one hour [kWh]
    e = battery.initial_energy_kwh
    n = surplus.size
    charge = [0.0] * n
    discharge = [0.0] * n
    stored = [0.0] * n
    for t, (s, d) in enumerate(zip(surplus.tolist(), deficit.tolist(), strict=True)):
        if s > 0.0:
            c = min(s, step, (e_max - e) / root)
            if c > 0.0:
                charge[t] = c
                e = min(e_max, e + c * root)
        elif d > 0.0:
            x = min(d, step, (e - e_min) * root)
            if x > 0.0:
                discharge[t] = x
                e = max(e_min, e - x / root)
        stored[t] = e

    c_arr = np.asarray(charge)
    x_arr = np.asarray(discharge)
    net = surplus - deficit
    added = np.minimum(net - c_arr + x_arr, 0.0) - np.minimum(net, 0.0)
    return DispatchResult(
        charge_kwh=pd.Series(c_arr, index=index, name="charge_kwh"),
        discharge_kwh=pd.Series(x_arr, index=index, name="discharge_kwh"),
        soc_kwh=pd.Series(np.asarray(stored), index=index, name="soc_kwh"),
        added_shared_kwh=pd.Series(np.maximum(added, 0.0), index=index, name="added_shared_kwh"),
        initial_energy_kwh=battery.initial_energy_kwh,
    )


@dataclass(frozen=True)
class EVCharger:
    """An electric vehicle's charging point, a controllable load.

    Parameters
    ----------
    power_kw : float
        Charging power, grid side [kW].
    daily_energy_kwh : float
        Energy to deliver each day, grid side [kWh].
    available_hours : frozenset of int
        Local clock hours (0-23, the hour starting at that time) when the vehicle is plugged in; any iterable of
        integers is accepted and stored as a frozenset.
    timezone : str, default "Europe/Rome"
        Time zone of ``available_hours`` and of the day boundaries.

    Raises
    ------
    ValueError
        A field out of range, or ``daily_energy_kwh`` more than ``power_kw`` × the available hours of a day.
    """

    power_kw: float
    daily_energy_kwh: float
    available_hours: frozenset[int]
    timezone: str = "Europe/Rome"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.power_kw) and self.power_kw > 0):
            raise ValueError(f"power_kw: potenza di ricarica non positiva: {self.power_kw} kW")
        if not (math.isfinite(self.daily_energy_kwh) and self.daily_energy_kwh >= 0):
            raise ValueError(
                f"daily_energy_kwh: energia giornaliera negativa o non finita: {self.daily_energy_kwh} kWh"
            )
        hours = frozenset(self.available_hours)
        if not hours or any(not isinstance(h, int | np.integer) or not 0 <= h <= 23 for h in hours):
            raise ValueError(f"available_hours: attese ore intere tra 0 e 23, almeno una; trovate {sorted(hours)}")
        object.__setattr__(self, "available_hours", frozenset(int(h) for h in hours))
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"timezone: fuso orario sconosciuto {self.timezone!r}") from exc
        most = self.power_kw * len(hours)
        if self.daily_energy_kwh > most * (1 + 1e-12):
            raise ValueError(
                f"daily_energy_kwh: {self.daily_energy_kwh} kWh non entra in {len(hours)} ore a {self.power_kw} kW "
                f"({most:g} kWh al giorno al massimo)"
            )


def _group_offsets(values: FloatArray, groups: npt.NDArray[np.int64]) -> FloatArray:
    """For values ordered by group (equal codes adjacent), the sum of the earlier values of the same group.

    Summed within each group only (a row per group), so no rounding from a long running total leaks in.
    """
    if values.size == 0:
        return np.zeros(0)
    new = np.r_[True, groups[1:] != groups[:-1]]
    starts = np.flatnonzero(new)
    row = np.cumsum(new) - 1
    column = np.arange(values.size) - starts[row]
    matrix = np.zeros((starts.size, int(column.max()) + 1))
    matrix[row, column] = values
    before = np.zeros_like(matrix)
    before[:, 1:] = np.cumsum(matrix[:, :-1], axis=1)
    return np.asarray(before[row, column], dtype=np.float64)


def schedule_ev(charger: EVCharger, surplus_kwh: pd.Series | npt.ArrayLike, hours_utc: pd.DatetimeIndex) -> pd.Series:
    """Hourly charging load of an electric vehicle, placed in the hours of largest surplus [kWh].

    Each local day (``charger.timezone``), among the hours in ``charger.available_hours``:

    1. surplus first: hours by decreasing surplus (earlier first on ties) each take
       :math:`\\min(P\\Delta t, s_t)` until the day's energy is placed. This places as much of the day's energy on
       surplus as any schedule can (:math:`\\min(E, \\sum_t \\min(P\\Delta t, s_t))`), so it is the greedy choice
       that is also optimal for one vehicle;
    2. the rest from the grid: the remaining energy goes into the remaining power of the available hours,
       earliest first (the vehicle is ready as soon as it can be).

    Parameters
    ----------
    charger : EVCharger
        The charging point and its daily need.
    surplus_kwh : pandas.Series or array-like
        Community surplus of each hour, before this load [kWh]; aligned with ``hours_utc``.
    hours_utc : pandas.DatetimeIndex
        Hour-start stamps, timezone-aware, strictly increasing.

    Returns
    -------
    pandas.Series
        ``ev_kwh``, indexed by ``hours_utc``: never above ``power_kw`` × 1 h, zero outside the available hours,
        summing to ``daily_energy_kwh`` on every day whose available hours are all in ``hours_utc``. A day cut by
        the ends of ``hours_utc``, or the spring day whose 02:00 does not exist, gets what fits.

    Raises
    ------
    ValueError
        Bad ``surplus_kwh`` or ``hours_utc``, named in the message.
    """
    if not isinstance(hours_utc, pd.DatetimeIndex) or hours_utc.tz is None:
        raise ValueError("hours_utc: atteso un DatetimeIndex con fuso orario (UTC)")
    if not hours_utc.is_monotonic_increasing or hours_utc.has_duplicates:
        raise ValueError("hours_utc: attese ore strettamente crescenti")
    surplus = _energy_array(surplus_kwh, "surplus_kwh")
    if surplus.size != len(hours_utc):
        raise ValueError(f"surplus_kwh: {surplus.size} valori per {len(hours_utc)} ore di hours_utc")
    local = hours_utc.tz_convert(charger.timezone)
    day_key = np.asarray(local.year * 10000 + local.month * 100 + local.day, dtype=np.int64)
    _, day = np.unique(day_key, return_inverse=True)
    day = day.astype(np.int64)
    available = np.isin(np.asarray(local.hour), sorted(charger.available_hours))
    position = np.arange(surplus.size)
    step = charger.power_kw
    need = charger.daily_energy_kwh

    # 1. surplus first, by decreasing surplus within each day
    cap = np.where(available, np.minimum(step, surplus), 0.0)
    order = np.lexsort((position, -surplus, day))
    before = _group_offsets(cap[order], day[order])
    first = np.zeros_like(surplus)
    first[order] = np.clip(need - before, 0.0, cap[order])

    # 2. the rest into the remaining power, earliest first (``position`` is already grouped by day)
    placed_by_day = np.bincount(day, weights=first, minlength=int(day.max()) + 1 if day.size else 0)
    rest = need - placed_by_day
    rest[rest <= 1e-12 * max(need, 1.0)] = 0.0  # rounding of the first pass, not energy left to place
    room = np.where(available, step - first, 0.0)
    before = _group_offsets(room, day)
    second = np.clip(rest[day] - before, 0.0, room)
    return pd.Series(first + second, index=hours_utc, name="ev_kwh")
