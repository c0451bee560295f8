"""Monitoring of a community in operation: the latest hour, daily statistics, load curves and alarms.

Pure computation: readings, the community description, measured weather and the current instant come in as
arguments; nothing here reads files, the database, the clock or the network.

Energy of an hour
-----------------
Readings are summed to the UTC hour first (quarter-hours before any minimum, as the settlement does), then the
settlement engine itself (:func:`condivisa.engine.sharing.share_energy`) computes, on the community's cabine:

- **production**: injection at the plants' PODs [kWh] (split by power when plants share a POD, as
  :func:`condivisa.engine.settle.settle` does); injection at member PODs without a declared plant is not counted;
- **consumption**: withdrawal at the members' PODs [kWh];
- **shared energy**: the hourly minimum of the two over the whole configuration, as the engine defines it;
- **incentivised energy**: the sum of the per-cabina minima (the energy that earns the TIP).

Missing readings count as zero in energies (as in the settlement) and are reported by the completeness figures
and the ``missing_data`` alarm. An hour of a POD *has data* when it holds as many intervals as the POD's
resolution (4 quarter-hours, or 1 hour); the resolution is :attr:`Readings.interval_minutes`, or, for a bare
frame, the smallest step between consecutive readings of the POD (60 min when it has one reading).

Alarms
------
Each detector returns :class:`AlarmFinding` objects, at most one per (kind, subject); thresholds are in
:class:`AlarmThresholds`:

``missing_data`` (subject: the POD)
    a POD of a member or of a plant with no reading for more than ``max_silence_h`` (6 h) before ``now``; or,
    when it is not silent, with less than ``min_completeness`` (90 %) of hours with data over the
    ``completeness_window_h`` (24 h) ending ``max_silence_h`` before ``now`` (the hours that must have arrived
    by now, given the tolerated delay). Plants count from their commissioning date.
``plant_underperformance`` (subject: the plant id; PV plants only)
    energy injected at the plant's POD over the daylight hours (sun above the horizon at mid-hour) of the last
    ``pv_window_days`` (3) days, hours with data only (at least ``pv_min_coverage``, half, of them), against
    what pvlib expects for the plant: PVWatts DC with the plant's ``power_kw`` as DC peak power, SAPM cell
    temperature, 14 % system losses, PVWatts inverter at DC/AC 1.1 (the defaults of
    :class:`condivisa.production.pv.PVArray`), on a plane tilted ``pv_tilt_deg`` (30°) facing
    ``pv_azimuth_deg`` (180°, south). With measured weather (hourly GHI [W/m²], air temperature [°C]) GHI is
    split into beam and diffuse by Erbs and transposed by Hay-Davies; the alarm fires below ``pv_min_ratio``
    (0.6). Without measured weather (or when it covers less than half of the daylight hours) the expectation
    is clear sky (Ineichen, pvlib ``Location.get_clearsky``), an upper bound that cloudy days never reach, so
    the threshold is ``pv_min_ratio_clear_sky`` (0.3). Measured energy is the POD's injection, net of any
    consumption behind the same meter; windows expecting less than ``pv_min_expected_kwh_per_kw`` (0.5 kWh
    per kW) are not judged. Severity ``critical`` below half the threshold.
``abnormal_consumption`` (subject: the POD)
    each hour of the last ``consumption_window_h`` (24 h) of a member POD against its own history over the
    ``consumption_history_days`` (28) days before: the values on days of the same type (working day, Saturday,
    Sunday or national holiday) at the same local hour, give or take ``consumption_neighbour_hours`` (1 h), at
    least ``consumption_min_history`` (8) of them. Robust z-score ``(x - median) / scale`` with
    ``scale = max(1.4826 x MAD, 0.5 x |median|, 0.05 kWh)``: 1.4826 x MAD estimates the standard deviation
    without being moved by the outliers sought; the floors keep flat histories from turning any change into an
    infinite z. The alarm fires at ``|z| > consumption_z`` (4): with a small MAD an hour must reach 3 times its
    usual value. Hourly household loads are noisy and ~24 hours per POD are tested each day: on the demo
    community (39 households, lognormal noise) these settings flag about one POD a day, a 10 % relative floor
    six to twelve. Above the history: ``warning``; below: ``info`` (with the default relative floor a drop
    reaches at most z = -2, so only rises fire).
``sharing_below_target`` (subject: ``"configurazione"``)
    shared energy / production (``sharing_basis="production"``, default; or / consumption) over the last
    ``sharing_days`` (7) days below the target: ``sharing_target``, else ``community.parameters
    ["sharing_target"]``, else 0.5.

Site of the plants: ``latitude``/``longitude`` given to the detector, else the community's own coordinates when
its model has them (attributes or parameters ``latitude``/``longitude``), else Turin (45.07 N, 7.69 E).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd
from babel.numbers import format_decimal

from condivisa.engine.sharing import Layout, share_energy
from condivisa.engine.timegrid import LOCAL_TZ, to_hourly
from condivisa.ingest.readings import Readings
from condivisa.model.community import Community, Plant
from condivisa.production.pv import PVArray
from condivisa.rules.bands import day_type

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

AlarmKind = Literal["missing_data", "plant_underperformance", "abnormal_consumption", "sharing_below_target"]
ALARM_KINDS: tuple[str, ...] = get_args(AlarmKind)
Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[str, ...] = get_args(Severity)

ALARM_KIND_LABELS: dict[str, str] = {
    "missing_data": "Dati mancanti",
    "plant_underperformance": "Impianto sotto le attese",
    "abnormal_consumption": "Consumo anomalo",
    "sharing_below_target": "Condivisione sotto l'obiettivo",
}
"""Italian name of each alarm kind, for pages, tables and emails."""

SEVERITY_LABELS: dict[str, str] = {"info": "informazione", "warning": "avviso", "critical": "critico"}

CONFIGURATION_SUBJECT = "configurazione"
"""Subject of the alarms about the whole configuration."""

TURIN_LATITUDE = 45.07
TURIN_LONGITUDE = 7.69
TURIN_ELEVATION_M = 240.0
DEFAULT_SHARING_TARGET = 0.5
"""Shared / production below which ``sharing_below_target`` fires when neither the caller nor the community
sets a target [unitless]."""

MAD_TO_SIGMA = 1.4826
"""Median absolute deviation to standard deviation for normally distributed values."""

ReadingsLike = Readings | pd.DataFrame
Instant = dt.datetime | pd.Timestamp


@dataclass(frozen=True)
class AlarmFinding:
    """One condition found by a detector.

    Attributes
    ----------
    kind : str
        One of :data:`ALARM_KINDS`.
    subject : str
        A POD, a plant id, or :data:`CONFIGURATION_SUBJECT`.
    severity : str
        ``info``, ``warning`` or ``critical``.
    message : str
        What was found, in Italian.
    details : dict
        Figures behind it (JSON-compatible: str, int, float, None, lists and dicts of them).
    """

    kind: AlarmKind
    subject: str
    severity: Severity
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlarmThresholds:
    """Thresholds and windows of the alarm detectors (see the module documentation for the methods).

    Attributes
    ----------
    max_silence_h : float
        Longest tolerated time without readings from a POD [h].
    min_completeness : float
        Least share of hours with data in the completeness window [unitless].
    completeness_window_h : int
        Length of the completeness window [h].
    pv_window_days : int
        Days of production compared with the expectation [d].
    pv_min_ratio : float
        Least measured / expected with measured weather [unitless].
    pv_min_ratio_clear_sky : float
        Least measured / expected against clear sky [unitless].
    pv_min_expected_kwh_per_kw : float
        Windows where less than this is expected are not judged [kWh/kW].
    pv_min_coverage : float
        Plants with data in less than this share of the window's daylight hours are not judged (the
        ``missing_data`` alarm reports them) [unitless].
    pv_tilt_deg, pv_azimuth_deg : float
        Plane of the plants: tilt from horizontal, azimuth (180 = south) [°].
    consumption_window_h : int
        Recent hours checked for abnormal consumption [h].
    consumption_history_days : int
        Days of history before them [d].
    consumption_z : float
        Robust z-score beyond which an hour is abnormal [unitless].
    consumption_neighbour_hours : int
        Reference hours are those within this many local hours of the hour judged [h].
    consumption_min_history : int
        Least number of reference hours for a judgement.
    consumption_floor_kwh : float
        Least scale of the z-score [kWh].
    consumption_relative_floor : float
        Least scale of the z-score as a share of the median [unitless].
    sharing_days : int
        Days over which the shared share is measured [d].
    sharing_target : float, optional
        Target share [unitless]; None: the community's ``sharing_target`` parameter, else 0.5.
    sharing_basis : str
        ``production`` (shared / production) or ``consumption`` (shared / consumption).
    """

    max_silence_h: float = 6.0
    min_completeness: float = 0.9
    completeness_window_h: int = 24
    pv_window_days: int = 3
    pv_min_ratio: float = 0.6
    pv_min_ratio_clear_sky: float = 0.3
    pv_min_expected_kwh_per_kw: float = 0.5
    pv_min_coverage: float = 0.5
    pv_tilt_deg: float = 30.0
    pv_azimuth_deg: float = 180.0
    consumption_window_h: int = 24
    consumption_history_days: int = 28
    consumption_z: float = 4.0
    consumption_neighbour_hours: int = 1
    consumption_min_history: int = 8
    consumption_floor_kwh: float = 0.05
    consumption_relative_floor: float = 0.5
    sharing_days: int = 7
    sharing_target: float | None = None
    sharing_basis: Literal["production", "consumption"] = "production"

    @property
    def lookback(self) -> pd.Timedelta:
        """How much history before ``now`` the detectors read (plus one day of margin)."""
        hours = max(
            self.max_silence_h + self.completeness_window_h,
            self.pv_window_days * 24,
            self.consumption_history_days * 24 + self.consumption_window_h,
            self.sharing_days * 24,
        )
        return pd.Timedelta(hours=float(hours) + 24.0)


DEFAULT_THRESHOLDS = AlarmThresholds()


@dataclass(frozen=True)
class HourSnapshot:
    """The community in one hour.

    Attributes
    ----------
    hour : pandas.Timestamp
        UTC start of the hour.
    local_hour : pandas.Timestamp
        The same instant in Italian local time.
    production_kwh, consumption_kwh, shared_kwh, incentivised_kwh : float
        See the module documentation [kWh].
    shared_share : float or None
        Shared / production [unitless]; None without production.
    pods_expected, pods_with_data : int
        PODs that should have readings in the hour (members' and commissioned plants'), and those that do.
    completeness : float
        ``pods_with_data / pods_expected`` [unitless] (1 when none is expected).
    missing_pods : tuple of str
        Expected PODs without data in the hour.
    """

    hour: pd.Timestamp
    local_hour: pd.Timestamp
    production_kwh: float
    consumption_kwh: float
    shared_kwh: float
    incentivised_kwh: float
    shared_share: float | None
    pods_expected: int
    pods_with_data: int
    completeness: float
    missing_pods: tuple[str, ...]


@dataclass(frozen=True)
class LoadCurve:
    """Load-curve figures of a POD or of a member's PODs together.

    Attributes
    ----------
    subject : str
        The POD or member id.
    pods : tuple of str
    weekday_kw, weekend_kw : pandas.Series
        Mean power by local hour 0..23 [kW] (= mean energy of the hour [kWh]) on working days and on Saturdays,
        Sundays and national holidays; NaN for hours never observed.
    base_load_kw : float
        The ``base_quantile`` (5th percentile) of the hourly values [kW].
    peak_kw : float
        Highest hourly value [kW].
    peak_hour : pandas.Timestamp or None
        Local start of that hour.
    mean_kw : float
        Mean hourly value [kW].
    load_factor : float
        ``mean_kw / peak_kw`` [unitless] (NaN without consumption).
    hours : int
        Hours with data for every POD (the others are left out, never taken as zero).
    """

    subject: str
    pods: tuple[str, ...]
    weekday_kw: pd.Series
    weekend_kw: pd.Series
    base_load_kw: float
    peak_kw: float
    peak_hour: pd.Timestamp | None
    mean_kw: float
    load_factor: float
    hours: int


# Inputs ---------------------------------------------------------------------------------------------------------


def _utc(value: Instant, name: str = "now") -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        raise ValueError(f"{name}: istante senza fuso orario {value!r} (serve un datetime con tzinfo)")
    return ts.tz_convert("UTC")


def _frame_and_resolution(readings: ReadingsLike) -> tuple[pd.DataFrame, dict[str, int]]:
    """The readings frame and each POD's resolution [min]."""
    if isinstance(readings, Readings):
        return readings.frame, dict(readings.interval_minutes)
    frame = readings
    missing = [c for c in ("pod", "timestamp", "withdrawn_kwh", "injected_kwh") if c not in frame.columns]
    if missing:
        raise ValueError(f"letture senza le colonne {', '.join(missing)}")
    if len(frame) and pd.DatetimeIndex(frame["timestamp"]).tz is None:
        raise ValueError("letture: timestamp senza fuso orario (attesi istanti UTC)")
    pods = frame["pod"].to_numpy(dtype=object).astype(str)
    seconds = pd.DatetimeIndex(frame["timestamp"]).as_unit("s").asi8
    order = np.lexsort((seconds, pods))
    pods, seconds = pods[order], seconds[order]
    step_min = np.diff(seconds) / 60.0
    valid = (pods[1:] == pods[:-1]) & (step_min > 0)
    finest = pd.Series(step_min[valid]).groupby(pods[1:][valid]).min()
    resolution = {str(p): 60 for p in np.unique(pods)}
    for pod, minutes in finest.items():
        resolution[str(pod)] = int(min(60.0, max(1.0, float(minutes))))
    return frame, resolution


@dataclass(frozen=True)
class _Hourly:
    hours: pd.DatetimeIndex
    pods: list[str]
    withdrawn: FloatArray  # (H, P) [kWh]
    injected: FloatArray  # (H, P) [kWh]
    has_data: BoolArray  # (H, P)

    def col(self, pod: str) -> int:
        return self.pods.index(pod)


def _hourly(frame: pd.DataFrame, resolution: dict[str, int], pods: list[str], hours: pd.DatetimeIndex) -> _Hourly:
    m = to_hourly(frame, pods, hours)
    need = np.array([max(1, 60 // resolution.get(p, 60)) for p in pods], dtype=np.int64)
    return _Hourly(hours, list(pods), m.withdrawn, m.injected, m.intervals >= need[None, :])


def _grid(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """UTC hour starts in ``[start, end)``."""
    return pd.date_range(start, end, freq="h", inclusive="left", tz="UTC")


def _member_pods(community: Community) -> list[str]:
    return list(dict.fromkeys(pt.pod for _, pt in community.points()))


def _plant_pods(community: Community) -> list[str]:
    return list(dict.fromkeys(p.pod for p in community.plants))


def _all_pods(community: Community) -> list[str]:
    return list(dict.fromkeys(_member_pods(community) + _plant_pods(community)))


def _commissioned_from(community: Community) -> dict[str, pd.Timestamp]:
    """For PODs of plants only (not of members): UTC local midnight of the earliest commissioning date."""
    members = set(_member_pods(community))
    out: dict[str, pd.Timestamp] = {}
    for p in community.plants:
        if p.pod in members:
            continue
        start = pd.Timestamp(p.commissioning_date).tz_localize(LOCAL_TZ).tz_convert("UTC")
        out[p.pod] = min(out.get(p.pod, start), start)
    return out


def _expected(community: Community, pods: list[str], hours: pd.DatetimeIndex) -> BoolArray:
    """(H, P): whether each POD should have readings in each hour (plants from their commissioning day)."""
    expected = np.ones((len(hours), len(pods)), dtype=bool)
    since = _commissioned_from(community)
    for j, pod in enumerate(pods):
        if pod in since:
            expected[:, j] = np.asarray(hours >= since[pod])
    return expected


def _owner(community: Community) -> dict[str, str]:
    """Who each POD belongs to, for messages: ``socio m1`` or ``impianto p1``."""
    out = {pod: f"socio {m}" for pod, m in community.member_of_pod().items()}
    for p in community.plants:
        out.setdefault(p.pod, f"impianto {p.id}")
    return out


def _num(x: float, digits: int = 1) -> str:
    """Italian number: ``1.234,5``."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(x, format=pattern, locale="it_IT"))


def _pct(x: float) -> str:
    return f"{_num(100.0 * x, 0)}%"


def _local_text(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).tz_convert(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def _local_iso(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).tz_convert(LOCAL_TZ).isoformat()


# Energy of a community, hour by hour ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Energy:
    hourly: _Hourly
    consumption: FloatArray  # (H,)
    production: FloatArray
    shared: FloatArray
    incentivised: FloatArray


def _plant_shares(plants: Sequence[Plant]) -> dict[str, float]:
    """Share of its POD's injection that goes to each plant (by power, as the settlement does)."""
    at_pod: dict[str, float] = {}
    for p in plants:
        at_pod[p.pod] = at_pod.get(p.pod, 0.0) + p.power_kw
    return {p.id: p.power_kw / at_pod[p.pod] for p in plants}


def _community_energy(
    frame: pd.DataFrame, resolution: dict[str, int], community: Community, hours: pd.DatetimeIndex
) -> _Energy:
    h = _hourly(frame, resolution, _all_pods(community), hours)
    col = {pod: j for j, pod in enumerate(h.pods)}
    points = community.points()
    cabine = sorted({pt.cabina for _, pt in points} | {p.cabina for p in community.plants})
    cab = {c: i for i, c in enumerate(cabine)}
    points = sorted(points, key=lambda pair: cab[pair[1].cabina])
    plants = sorted(community.plants, key=lambda p: (cab[p.cabina], p.commissioning_date, p.id))
    # One group per cabina: the grouping by exemption and voltage only matters for money.
    layout = Layout(
        point_group=np.array([cab[pt.cabina] for _, pt in points], dtype=np.intp),
        group_cabina=np.arange(len(cabine), dtype=np.intp),
        plant_cabina=np.array([cab[p.cabina] for p in plants], dtype=np.intp),
        n_cabine=len(cabine),
    )
    n_h = len(hours)
    withdrawn = np.ascontiguousarray(h.withdrawn[:, [col[pt.pod] for _, pt in points]].T).reshape(len(points), n_h)
    share = _plant_shares(plants)
    injected = np.zeros((len(plants), n_h))
    for j, p in enumerate(plants):
        injected[j] = h.injected[:, col[p.pod]] * share[p.id]
    energy = share_energy(withdrawn, injected, layout)
    return _Energy(
        hourly=h,
        consumption=np.asarray(energy.withdrawn[0], dtype=np.float64),
        production=np.asarray(energy.injected[0], dtype=np.float64),
        shared=np.asarray(energy.shared[0], dtype=np.float64),
        incentivised=np.asarray(energy.incentivised[0], dtype=np.float64),
    )


# Snapshot and statistics ----------------------------------------------------------------------------------------


def latest_hour(readings: ReadingsLike, community: Community, now: Instant | None = None) -> pd.Timestamp | None:
    """UTC start of the latest hour with a reading of any of the community's PODs (before ``now`` if given)."""
    frame, _ = _frame_and_resolution(readings)
    mask = frame["pod"].isin(_all_pods(community))
    if now is not None:
        mask &= frame["timestamp"] < _utc(now)
    ts = frame.loc[mask, "timestamp"]
    if ts.empty:
        return None
    return pd.Timestamp(ts.max()).tz_convert("UTC").floor("h")


def hour_snapshot(readings: ReadingsLike, community: Community, hour: Instant) -> HourSnapshot:
    """The community in the hour that contains ``hour``.

    Parameters
    ----------
    readings : Readings or pandas.DataFrame
        Columns ``pod``, ``timestamp`` (UTC interval start), ``withdrawn_kwh``, ``injected_kwh`` [kWh].
    community : Community
    hour : datetime
        Any timezone-aware instant of the hour.
    """
    frame, resolution = _frame_and_resolution(readings)
    start = _utc(hour, "hour").floor("h")
    hours = _grid(start, start + pd.Timedelta(hours=1))
    e = _community_energy(frame, resolution, community, hours)
    expected = _expected(community, e.hourly.pods, hours)[0]
    has = e.hourly.has_data[0]
    missing = tuple(p for j, p in enumerate(e.hourly.pods) if expected[j] and not has[j])
    n_expected = int(expected.sum())
    n_with = int((expected & has).sum())
    production = float(e.production[0])
    return HourSnapshot(
        hour=start,
        local_hour=start.tz_convert(LOCAL_TZ),
        production_kwh=production,
        consumption_kwh=float(e.consumption[0]),
        shared_kwh=float(e.shared[0]),
        incentivised_kwh=float(e.incentivised[0]),
        shared_share=float(e.shared[0]) / production if production > 0 else None,
        pods_expected=n_expected,
        pods_with_data=n_with,
        completeness=n_with / n_expected if n_expected else 1.0,
        missing_pods=missing,
    )


def current_snapshot(readings: ReadingsLike, community: Community, now: Instant | None = None) -> HourSnapshot | None:
    """Snapshot of the latest hour with data (before ``now`` if given); None without readings."""
    hour = latest_hour(readings, community, now)
    return None if hour is None else hour_snapshot(readings, community, hour)


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def daily_statistics(
    readings: ReadingsLike,
    community: Community,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Totals and ratios per local day (Europe/Rome: DST days have 23 or 25 hours).

    Parameters
    ----------
    readings : Readings or pandas.DataFrame
    community : Community
    start, end : datetime.date, optional
        First and last local day (inclusive); default: the days spanned by the community's readings.

    Returns
    -------
    pandas.DataFrame
        One row per local day (index ``day``, :class:`datetime.date`), columns ``hours``; ``production_kwh``,
        ``consumption_kwh``, ``shared_kwh``, ``incentivised_kwh`` [kWh]; ``self_sufficiency`` (shared /
        consumption) and ``self_consumption`` (shared / production) [unitless, NaN when the denominator is 0];
        ``peak_consumption_kwh`` with ``peak_consumption_hour`` and ``peak_production_kwh`` with
        ``peak_production_hour`` (local start of the hour of the day's highest value); ``completeness``
        (hours with data / expected POD-hours) [unitless]. Empty without readings and dates.
    """
    frame, resolution = _frame_and_resolution(readings)
    if start is None or end is None:
        ts = frame.loc[frame["pod"].isin(_all_pods(community)), "timestamp"]
        if ts.empty:
            return pd.DataFrame(index=pd.Index([], name="day"))
        local = pd.DatetimeIndex(ts).tz_convert(LOCAL_TZ)
        start = start or local.min().date()
        end = end or local.max().date()
    if end < start:
        raise ValueError(f"periodo vuoto: fine {end} prima dell'inizio {start}")
    first = pd.Timestamp(start).tz_localize(LOCAL_TZ).tz_convert("UTC")
    last = pd.Timestamp(end + dt.timedelta(days=1)).tz_localize(LOCAL_TZ).tz_convert("UTC")
    hours = _grid(first, last)
    e = _community_energy(frame, resolution, community, hours)
    expected = _expected(community, e.hourly.pods, hours)
    local = hours.tz_convert(LOCAL_TZ)
    hourly = pd.DataFrame(
        {
            "day": local.date,
            "local": local,
            "production_kwh": e.production,
            "consumption_kwh": e.consumption,
            "shared_kwh": e.shared,
            "incentivised_kwh": e.incentivised,
            "with_data": (e.hourly.has_data & expected).sum(axis=1),
            "expected": expected.sum(axis=1),
        }
    )
    g = hourly.groupby("day", sort=True)
    out = g[["production_kwh", "consumption_kwh", "shared_kwh", "incentivised_kwh"]].sum()
    out.insert(0, "hours", g.size())
    out["self_sufficiency"] = _ratio(out["shared_kwh"].to_numpy(), out["consumption_kwh"].to_numpy())
    out["self_consumption"] = _ratio(out["shared_kwh"].to_numpy(), out["production_kwh"].to_numpy())
    for what in ("consumption", "production"):
        column = f"{what}_kwh"
        at = g[column].idxmax()
        out[f"peak_{what}_kwh"] = g[column].max()
        out[f"peak_{what}_hour"] = hourly.loc[at.to_numpy(), "local"].to_numpy()
    totals = g[["with_data", "expected"]].sum()
    out["completeness"] = _ratio(
        totals["with_data"].to_numpy(dtype=np.float64), totals["expected"].to_numpy(dtype=np.float64)
    )
    out.index.name = "day"
    return out


# Load curves ----------------------------------------------------------------------------------------------------


def load_curve(
    readings: ReadingsLike,
    pods: str | Sequence[str],
    *,
    start: Instant | None = None,
    end: Instant | None = None,
    direction: Literal["withdrawn", "injected"] = "withdrawn",
    base_quantile: float = 0.05,
    subject: str | None = None,
) -> LoadCurve:
    """Average weekday and weekend profiles, base load, peak and load factor of one or more PODs together.

    Parameters
    ----------
    readings : Readings or pandas.DataFrame
    pods : str or sequence of str
        The POD, or the PODs summed hour by hour (a member's points).
    start, end : datetime, optional
        Timezone-aware bounds ``start <= hour < end``; default: the span of the PODs' readings.
    direction : str
        ``withdrawn`` (consumption) or ``injected``.
    base_quantile : float
        Quantile of the hourly values taken as base load [unitless].
    subject : str, optional
        Name carried in the result (default: the POD, or the PODs joined by ``+``).

    Raises
    ------
    ValueError
        No hour with data for every POD.
    """
    pod_list = [pods] if isinstance(pods, str) else list(pods)
    if not pod_list:
        raise ValueError("nessun POD indicato per la curva di carico")
    frame, resolution = _frame_and_resolution(readings)
    ts = frame.loc[frame["pod"].isin(pod_list), "timestamp"]
    if ts.empty:
        raise ValueError(f"nessuna lettura per {', '.join(pod_list)}")
    first = _utc(start, "start").floor("h") if start is not None else pd.Timestamp(ts.min()).floor("h")
    last = _utc(end, "end").ceil("h") if end is not None else pd.Timestamp(ts.max()).floor("h") + pd.Timedelta(hours=1)
    hours = _grid(first, last)
    h = _hourly(frame, resolution, pod_list, hours)
    values = (h.withdrawn if direction == "withdrawn" else h.injected).sum(axis=1)
    ok = h.has_data.all(axis=1)
    if not ok.any():
        raise ValueError(f"nessuna ora completa per {', '.join(pod_list)} nel periodo")
    local = pd.DatetimeIndex(hours[np.flatnonzero(ok)]).tz_convert(LOCAL_TZ)
    series = pd.Series(np.asarray(values[ok], dtype=np.float64), index=local, dtype=np.float64)
    weekend = day_type(local.tz_localize(None)) != "weekday"
    profile_hours = pd.Index(range(24), name="hour")
    by_hour = pd.Series(local.hour, index=series.index)
    weekday_kw = series[~weekend].groupby(by_hour[~weekend]).mean().reindex(profile_hours)
    weekend_kw = series[weekend].groupby(by_hour[weekend]).mean().reindex(profile_hours)
    peak = float(series.max())
    mean = float(series.mean())
    return LoadCurve(
        subject=subject or "+".join(pod_list),
        pods=tuple(pod_list),
        weekday_kw=weekday_kw.rename("weekday_kw"),
        weekend_kw=weekend_kw.rename("weekend_kw"),
        base_load_kw=float(np.quantile(series.to_numpy(), base_quantile)),
        peak_kw=peak,
        peak_hour=local[int(np.argmax(series.to_numpy()))],
        mean_kw=mean,
        load_factor=mean / peak if peak > 0 else float("nan"),
        hours=int(ok.sum()),
    )


def member_load_curve(readings: ReadingsLike, community: Community, member_id: str, **options: Any) -> LoadCurve:
    """:func:`load_curve` of a member's PODs together (options as there)."""
    for m in community.members:
        if m.id == member_id:
            if not m.pods:
                raise ValueError(f"il socio {member_id} non ha POD")
            return load_curve(readings, [pt.pod for pt in m.pods], subject=member_id, **options)
    raise ValueError(f"socio {member_id!r} non presente nella comunita'")


# Alarms ---------------------------------------------------------------------------------------------------------


def detect_missing_data(
    readings: ReadingsLike, community: Community, now: Instant, *, thresholds: AlarmThresholds = DEFAULT_THRESHOLDS
) -> list[AlarmFinding]:
    """PODs silent for more than ``max_silence_h``, or with too few hours of data (see the module docs)."""
    t = thresholds
    now_ts = _utc(now)
    frame, resolution = _frame_and_resolution(readings)
    pods = _all_pods(community)
    since = _commissioned_from(community)
    pods = [p for p in pods if p not in since or since[p] < now_ts]
    owner = _owner(community)
    recent = frame[frame["pod"].isin(pods) & (frame["timestamp"] < now_ts)]
    last = recent.groupby("pod")["timestamp"].max()
    window_end = (now_ts - pd.Timedelta(hours=t.max_silence_h)).floor("h")
    hours = _grid(window_end - pd.Timedelta(hours=t.completeness_window_h), window_end)
    h = _hourly(frame, resolution, pods, hours)
    expected = _expected(community, pods, hours)
    out: list[AlarmFinding] = []
    for j, pod in enumerate(pods):
        who = owner[pod]
        seen: pd.Timestamp | None = None
        reference: pd.Timestamp | None = since.get(pod)  # None for a member POD never read
        if pod in last.index:
            seen = pd.Timestamp(last[pod]) + pd.Timedelta(minutes=resolution.get(pod, 60))
            reference = seen if reference is None else max(seen, reference)
        silence_h = None if reference is None else max(0.0, (now_ts - reference) / pd.Timedelta(hours=1))
        if silence_h is None or silence_h > t.max_silence_h:
            severity: Severity = "critical" if silence_h is None or silence_h > 24 else "warning"
            if seen is None:
                message = f"POD {pod} ({who}): nessuna lettura ricevuta prima del {_local_text(now_ts)}"
            else:
                message = (
                    f"POD {pod} ({who}): nessuna lettura da {_num(silence_h or 0.0, 0)} ore "
                    f"(ultima fino alle {_local_text(seen)})"
                )
            out.append(
                AlarmFinding(
                    "missing_data",
                    pod,
                    severity,
                    message,
                    {
                        "reason": "silence",
                        "owner": who,
                        "last_reading_end": _local_iso(seen) if seen is not None else None,
                        "silence_h": round(silence_h, 3) if silence_h is not None else None,
                        "threshold_h": t.max_silence_h,
                    },
                )
            )
            continue
        n_expected = int(expected[:, j].sum())
        if n_expected == 0:
            continue
        n_with = int((h.has_data[:, j] & expected[:, j]).sum())
        completeness = n_with / n_expected
        if completeness < t.min_completeness:
            out.append(
                AlarmFinding(
                    "missing_data",
                    pod,
                    "critical" if completeness < 0.5 else "warning",
                    f"POD {pod} ({who}): dati completi solo in {n_with} ore su {n_expected} "
                    f"({_pct(completeness)}) tra il {_local_text(hours[0])} e il {_local_text(window_end)}",
                    {
                        "reason": "completeness",
                        "owner": who,
                        "completeness": round(completeness, 4),
                        "hours_with_data": n_with,
                        "hours_expected": n_expected,
                        "threshold": t.min_completeness,
                        "window_start": _local_iso(hours[0]),
                        "window_end": _local_iso(window_end),
                    },
                )
            )
    return out


def _site(community: Community, latitude: float | None, longitude: float | None) -> tuple[float, float]:
    """Latitude and longitude [°]: given, else the community's if its model has them, else Turin."""

    def pick(name: str, given: float | None, default: float) -> float:
        if given is not None:
            return float(given)
        own = getattr(community, name, None)
        if isinstance(own, int | float):
            return float(own)
        param = community.parameters.get(name)
        return float(param) if param is not None else default

    return pick("latitude", latitude, TURIN_LATITUDE), pick("longitude", longitude, TURIN_LONGITUDE)


def _sun_up(hours: pd.DatetimeIndex, latitude: float, longitude: float) -> BoolArray:
    """Whether the sun is above the horizon at the middle of each hour."""
    import pvlib

    mid = hours + pd.Timedelta(minutes=30)
    position = pvlib.solarposition.get_solarposition(mid, latitude, longitude)
    return np.asarray(position["apparent_elevation"].to_numpy() > 0.0)


def expected_pv_kwh(
    hours: pd.DatetimeIndex,
    power_kw: float,
    *,
    weather: pd.DataFrame | None = None,
    latitude: float = TURIN_LATITUDE,
    longitude: float = TURIN_LONGITUDE,
    elevation_m: float = TURIN_ELEVATION_M,
    tilt_deg: float = 30.0,
    azimuth_deg: float = 180.0,
) -> pd.Series:
    """AC energy a PV plant should produce in each hour [kWh], for measured weather or for clear sky.

    Parameters
    ----------
    hours : pandas.DatetimeIndex
        UTC hour starts; the sun is placed at the middle of each hour.
    power_kw : float
        DC peak power [kW].
    weather : pandas.DataFrame, optional
        Hourly, UTC index of hour starts: ``ghi_w_m2`` [W/m²], optional ``temp_air_c`` [°C] (default 20 °C) and
        ``wind_speed_m_s`` [m/s] (default 1 m/s). Hours it lacks give NaN. Without it: clear sky (Ineichen).
    latitude, longitude : float
        Site [°].
    elevation_m : float
        Site elevation [m].
    tilt_deg, azimuth_deg : float
        Plane of the array [°] (azimuth 180 = south).

    Returns
    -------
    pandas.Series
        Indexed by ``hours``.

    Notes
    -----
    GHI is split by Erbs into beam and diffuse, transposed by Hay-Davies, the beam reflected by the glass
    (physical incidence-angle model); cell temperature by SAPM (open rack, glass/polymer); PVWatts DC with the
    losses, temperature coefficient and DC/AC ratio of :class:`condivisa.production.pv.PVArray`; PVWatts
    inverter.
    """
    import pvlib
    from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS

    if power_kw <= 0:
        raise ValueError(f"potenza non positiva: {power_kw} kW")
    array = PVArray(kwp=power_kw, surface_tilt=tilt_deg, surface_azimuth=azimuth_deg)
    idx = pd.DatetimeIndex(hours).tz_convert("UTC")
    mid = idx + pd.Timedelta(minutes=30)
    position = pvlib.solarposition.get_solarposition(mid, latitude, longitude, altitude=elevation_m)
    if weather is None:
        location = pvlib.location.Location(latitude, longitude, tz="UTC", altitude=elevation_m)
        sky = location.get_clearsky(mid, solar_position=position)
        ghi, dni, dhi = sky["ghi"], sky["dni"], sky["dhi"]
        temp_air = pd.Series(20.0, index=mid)
        wind = pd.Series(1.0, index=mid)
    else:
        w = weather.copy()
        w.index = pd.DatetimeIndex(w.index).tz_convert("UTC")
        w = w[~w.index.duplicated(keep="last")].reindex(idx)
        ghi = pd.Series(w["ghi_w_m2"].to_numpy(dtype=np.float64), index=mid).clip(lower=0.0)
        split = pvlib.irradiance.erbs(ghi, position["zenith"], mid)
        dni, dhi = split["dni"].fillna(0.0), split["dhi"].where(ghi.notna())
        temp = w["temp_air_c"].to_numpy(dtype=np.float64) if "temp_air_c" in w else np.full(len(idx), np.nan)
        speed = w["wind_speed_m_s"].to_numpy(dtype=np.float64) if "wind_speed_m_s" in w else np.full(len(idx), np.nan)
        temp_air = pd.Series(temp, index=mid).fillna(20.0)
        wind = pd.Series(speed, index=mid).fillna(1.0)
    poa = pvlib.irradiance.get_total_irradiance(
        array.surface_tilt,
        array.surface_azimuth,
        position["apparent_zenith"],
        position["azimuth"],
        dni,
        ghi,
        dhi,
        dni_extra=pvlib.irradiance.get_extra_radiation(mid),
        model="haydavies",
    )
    aoi = pvlib.irradiance.aoi(
        array.surface_tilt, array.surface_azimuth, position["apparent_zenith"], position["azimuth"]
    )
    effective = poa["poa_direct"].clip(lower=0.0) * pvlib.iam.physical(aoi) + poa["poa_diffuse"].clip(lower=0.0)
    cell = pvlib.temperature.sapm_cell(
        poa["poa_global"].clip(lower=0.0),
        temp_air,
        wind,
        **TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"],
    )
    pdc0 = array.kwp * 1000.0
    dc = pvlib.pvsystem.pvwatts_dc(effective, cell, pdc0, array.gamma_pdc) * (1.0 - array.losses_percent / 100.0)
    ac = pvlib.inverter.pvwatts(dc, pdc0 / array.inverter_ratio)
    kwh = np.clip(np.asarray(ac, dtype=np.float64), 0.0, None) / 1000.0
    kwh[np.asarray(ghi.isna())] = np.nan
    return pd.Series(kwh, index=idx, name="expected_kwh")


def detect_plant_underperformance(
    readings: ReadingsLike,
    community: Community,
    now: Instant,
    weather: pd.DataFrame | None = None,
    *,
    thresholds: AlarmThresholds = DEFAULT_THRESHOLDS,
    latitude: float | None = None,
    longitude: float | None = None,
) -> list[AlarmFinding]:
    """PV plants producing less than a share of what pvlib expects (see the module documentation).

    Parameters
    ----------
    weather : pandas.DataFrame, optional
        Measured hourly weather (UTC index of hour starts): ``ghi_w_m2`` [W/m²], optional ``temp_air_c`` [°C],
        ``wind_speed_m_s`` [m/s].
    latitude, longitude : float, optional
        Site of the plants [°]; default: the community's coordinates if its model has them, else Turin.
    """
    t = thresholds
    plants = [p for p in community.plants if p.technology == "pv"]
    if not plants:
        return []
    end = _utc(now).floor("h")
    start = end - pd.Timedelta(days=t.pv_window_days)
    hours = _grid(start, end)
    lat, lon = _site(community, latitude, longitude)
    daylight = _sun_up(hours, lat, lon)
    basis = "clear_sky"
    usable: pd.DataFrame | None = None
    if weather is not None and len(weather) and "ghi_w_m2" in weather.columns:
        w = weather.copy()
        w.index = pd.DatetimeIndex(w.index).tz_convert("UTC")
        covered = np.asarray(pd.Series(w["ghi_w_m2"].to_numpy(), index=w.index).reindex(hours).notna())
        if daylight.any() and (covered & daylight).sum() >= 0.5 * daylight.sum():
            usable, basis = w, "measured_weather"
    threshold = t.pv_min_ratio if basis == "measured_weather" else t.pv_min_ratio_clear_sky
    frame, resolution = _frame_and_resolution(readings)
    h = _hourly(frame, resolution, _plant_pods(community), hours)
    share = _plant_shares(community.plants)
    local_start = start.tz_convert(LOCAL_TZ).date()
    out: list[AlarmFinding] = []
    for p in plants:
        if p.commissioning_date > local_start:
            continue
        j = h.col(p.pod)
        expected = expected_pv_kwh(
            hours,
            p.power_kw,
            weather=usable,
            latitude=lat,
            longitude=lon,
            tilt_deg=t.pv_tilt_deg,
            azimuth_deg=t.pv_azimuth_deg,
        ).to_numpy()
        mask = daylight & h.has_data[:, j] & ~np.isnan(expected)
        expected_kwh = float(expected[mask].sum())
        if mask.sum() < t.pv_min_coverage * daylight.sum():
            continue  # too few hours with data to judge
        if expected_kwh < t.pv_min_expected_kwh_per_kw * p.power_kw:
            continue  # too little expected (snow, night-long windows) to judge
        measured_kwh = float((h.injected[mask, j] * share[p.id]).sum())
        ratio = measured_kwh / expected_kwh
        if ratio >= threshold:
            continue
        against = "al meteo misurato" if basis == "measured_weather" else "a cielo sereno"
        out.append(
            AlarmFinding(
                "plant_underperformance",
                p.id,
                "critical" if ratio < threshold / 2 else "warning",
                f"Impianto {p.id} (POD {p.pod}, {_num(p.power_kw, 1)} kW): prodotti {_num(measured_kwh)} kWh "
                f"contro {_num(expected_kwh)} kWh attesi {against} nelle ore di luce degli ultimi "
                f"{t.pv_window_days} giorni ({_pct(ratio)}, soglia {_pct(threshold)})",
                {
                    "pod": p.pod,
                    "expected_kwh": round(expected_kwh, 3),
                    "measured_kwh": round(measured_kwh, 3),
                    "ratio": round(ratio, 4),
                    "threshold": threshold,
                    "basis": basis,
                    "hours": int(mask.sum()),
                    "window_start": _local_iso(start),
                    "window_end": _local_iso(end),
                    "power_kw": p.power_kw,
                    "tilt_deg": t.pv_tilt_deg,
                    "azimuth_deg": t.pv_azimuth_deg,
                    "latitude": lat,
                    "longitude": lon,
                },
            )
        )
    return out


def robust_z(
    value: float, history: FloatArray, *, floor_kwh: float = 0.05, relative_floor: float = 0.5
) -> tuple[float, float, float]:
    """Robust z-score of ``value`` against ``history`` [kWh]: ``(value - median) / scale``.

    ``scale = max(1.4826 x MAD, relative_floor x |median|, floor_kwh)``, MAD the median absolute deviation from
    the median (1.4826 x MAD estimates the standard deviation of normal values without being moved by outliers).

    Returns
    -------
    tuple of float
        ``(z, median, scale)``: z [unitless], median and scale [kWh].
    """
    median = float(np.median(history))
    mad = float(np.median(np.abs(history - median)))
    scale = max(MAD_TO_SIGMA * mad, relative_floor * abs(median), floor_kwh)
    return (value - median) / scale, median, scale


def detect_abnormal_consumption(
    readings: ReadingsLike, community: Community, now: Instant, *, thresholds: AlarmThresholds = DEFAULT_THRESHOLDS
) -> list[AlarmFinding]:
    """Member PODs whose hourly withdrawal in the last day departs from their own history (see the module docs)."""
    t = thresholds
    end = _utc(now).floor("h")
    window_start = end - pd.Timedelta(hours=t.consumption_window_h)
    hours = _grid(window_start - pd.Timedelta(days=t.consumption_history_days), end)
    pods = _member_pods(community)
    if not pods:
        return []
    frame, resolution = _frame_and_resolution(readings)
    h = _hourly(frame, resolution, pods, hours)
    local = hours.tz_convert(LOCAL_TZ)
    kind = pd.Index(["weekday", "saturday", "sunday_or_holiday"]).get_indexer(
        pd.Index(day_type(local.tz_localize(None)))
    )
    hour = local.hour.to_numpy()
    recent = np.asarray(hours >= window_start)
    owner = _owner(community)
    out: list[AlarmFinding] = []
    for j, pod in enumerate(pods):
        values = h.withdrawn[:, j]
        ok = h.has_data[:, j]
        history = ~recent & ok
        anomalies: list[dict[str, Any]] = []
        for i in np.flatnonzero(recent & ok):
            apart = np.abs(hour - hour[i])
            near = np.minimum(apart, 24 - apart) <= t.consumption_neighbour_hours
            ref = values[history & (kind == kind[i]) & near]
            if ref.size < t.consumption_min_history:
                continue
            z, median, _ = robust_z(
                float(values[i]), ref, floor_kwh=t.consumption_floor_kwh, relative_floor=t.consumption_relative_floor
            )
            if abs(z) > t.consumption_z:
                anomalies.append(
                    {
                        "hour": _local_iso(hours[int(i)]),
                        "kwh": round(float(values[i]), 4),
                        "median_kwh": round(median, 4),
                        "z": round(z, 2),
                        "references": int(ref.size),
                    }
                )
        if not anomalies:
            continue
        worst = max(anomalies, key=lambda a: abs(float(a["z"])))
        above = any(float(a["z"]) > 0 for a in anomalies)
        when = _local_text(pd.Timestamp(worst["hour"]))
        others = len(anomalies) - 1
        message = (
            f"POD {pod} ({owner[pod]}): consumo {'anomalo' if above else 'insolitamente basso'} alle {when}, "
            f"{_num(float(worst['kwh']), 2)} kWh contro una mediana di {_num(float(worst['median_kwh']), 2)} kWh "
            f"nelle stesse ore di giorni dello stesso tipo (z robusto {_num(float(worst['z']), 1)})"
        )
        if others:
            extra = "un'altra ora anomala" if others == 1 else f"altre {others} ore anomale"
            message += f"; {extra} nelle ultime {t.consumption_window_h} ore"
        out.append(
            AlarmFinding(
                "abnormal_consumption",
                pod,
                "warning" if above else "info",
                message,
                {
                    "owner": owner[pod],
                    "hours": anomalies,
                    "max_abs_z": abs(float(worst["z"])),
                    "threshold_z": t.consumption_z,
                    "history_days": t.consumption_history_days,
                },
            )
        )
    return out


def sharing_target(community: Community, thresholds: AlarmThresholds = DEFAULT_THRESHOLDS) -> float:
    """The target shared share: the thresholds', else the community's ``sharing_target`` parameter, else 0.5."""
    if thresholds.sharing_target is not None:
        return float(thresholds.sharing_target)
    return float(community.parameters.get("sharing_target", DEFAULT_SHARING_TARGET))


def detect_sharing_below_target(
    readings: ReadingsLike, community: Community, now: Instant, *, thresholds: AlarmThresholds = DEFAULT_THRESHOLDS
) -> list[AlarmFinding]:
    """The configuration's shared share over the last ``sharing_days`` days below the target."""
    t = thresholds
    end = _utc(now).floor("h")
    start = end - pd.Timedelta(days=t.sharing_days)
    frame, resolution = _frame_and_resolution(readings)
    e = _community_energy(frame, resolution, community, _grid(start, end))
    production, consumption, shared = float(e.production.sum()), float(e.consumption.sum()), float(e.shared.sum())
    denominator = production if t.sharing_basis == "production" else consumption
    if denominator <= 0:
        return []
    share = shared / denominator
    target = sharing_target(community, t)
    if share >= target:
        return []
    of = "di produzione" if t.sharing_basis == "production" else "di consumi"
    return [
        AlarmFinding(
            "sharing_below_target",
            CONFIGURATION_SUBJECT,
            "warning",
            f"Energia condivisa negli ultimi {t.sharing_days} giorni: {_num(shared)} kWh su {_num(denominator)} kWh "
            f"{of} ({_pct(share)}), sotto l'obiettivo del {_pct(target)}",
            {
                "share": round(share, 4),
                "target": target,
                "basis": t.sharing_basis,
                "shared_kwh": round(shared, 3),
                "production_kwh": round(production, 3),
                "consumption_kwh": round(consumption, 3),
                "window_start": _local_iso(start),
                "window_end": _local_iso(end),
            },
        )
    ]


def detect_alarms(
    readings: ReadingsLike,
    community: Community,
    now: Instant,
    weather: pd.DataFrame | None = None,
    *,
    thresholds: AlarmThresholds = DEFAULT_THRESHOLDS,
    latitude: float | None = None,
    longitude: float | None = None,
) -> list[AlarmFinding]:
    """All four detectors, in the order of :data:`ALARM_KINDS`.

    Parameters
    ----------
    readings : Readings or pandas.DataFrame
        At least ``thresholds.lookback`` before ``now``; readings at or after ``now`` are ignored.
    community : Community
    now : datetime
        Timezone-aware instant of the check.
    weather : pandas.DataFrame, optional
        Measured weather, see :func:`detect_plant_underperformance`.
    """
    now_ts = _utc(now)
    frame, resolution = _frame_and_resolution(readings)
    past = Readings(frame=frame[frame["timestamp"] < now_ts], interval_minutes=resolution)
    return [
        *detect_missing_data(past, community, now_ts, thresholds=thresholds),
        *detect_plant_underperformance(
            past, community, now_ts, weather, thresholds=thresholds, latitude=latitude, longitude=longitude
        ),
        *detect_abnormal_consumption(past, community, now_ts, thresholds=thresholds),
        *detect_sharing_below_target(past, community, now_ts, thresholds=thresholds),
    ]
