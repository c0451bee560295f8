"""Next-day forecasts on the hourly grid: production of a PV plant and consumption of a POD or a member.

Every series here is indexed by the UTC start of each hour and holds energy of that hour [kWh]; a forecast is made
for one Italian local day (Europe/Rome), so it has 24 values, 23 on the day clocks go forward (the local hour
02:00 does not exist) and 25 on the day they go back (the local hour 02:00 comes twice).

Production (:func:`forecast_production`)
    With a weather forecast (hourly global horizontal irradiance GHI [W/m²], air temperature [°C], optionally wind
    speed [m/s] and the direct and diffuse components [W/m²]) the plant is simulated with the pvlib PVWatts chain
    of :func:`condivisa.production.pv.pv_hourly_kwh` (a fixed array of the plant's power [kW], tilt and azimuth
    of the :class:`Site`); missing direct and diffuse irradiance are split from GHI with the Erbs model at the
    hour's mid-point. Method label ``"weather"``.

    Without one, the same chain runs on the clear-sky irradiance of pvlib (Ineichen model with the Linke turbidity
    climatology that pvlib ships, 20 °C, 1 m/s) and the result is multiplied by the plant's **recent performance
    ratio** = measured energy / clear-sky-expected energy over the last ``ratio_days`` local days before the target
    day, both summed over the hours that have a measurement; it carries the recent weather (persistence) and the
    plant's own losses. The ratio is clamped to [0, 1.2] and is 1 when there is no usable history. Method label
    ``"clear_sky_x_recent_ratio"``.

Consumption (:func:`forecast_consumption`), method ``"similar_days"``
    For each hour of the target day, the mean of the same local hour-of-day over the ``k`` (default 4) most recent
    past days of the same day type: working day, Saturday, Sunday or national holiday (the ARERA day types of
    :func:`condivisa.rules.bands.day_type`). With fewer such days the ones there are are used; with none, every
    past day in the history. Days are local days: on a 25-hour past day the two 02:00 hours are averaged into one
    value for that day, a 23-hour past day has no 02:00 and is left out of that hour's mean; on a 25-hour target
    day both 02:00 hours get the mean of the local hour 02:00, and on a 23-hour target day the missing hour is
    simply not there. Hours with no reading (NaN) are left out of the means; an hour that no past day has is
    forecast from every past day, and as 0 kWh if none has it. The number of days used is reported.

Other plants (hydro, wind, biomass...) (:func:`forecast_recent_mean`), method ``"recent_mean"``
    For each hour, the mean of the same local hour-of-day over the last ``days`` (default 7) local days before the
    target day, whatever their day type (persistence); 0 kWh without history.

The functions are pure: no files, no network (pvlib reads its bundled turbidity table for the clear sky).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from condivisa.engine.timegrid import LOCAL_TZ, Period
from condivisa.production.pv import PVArray, pv_hourly_kwh
from condivisa.production.weather import WeatherYear
from condivisa.rules.bands import day_type

METHOD_WEATHER = "weather"
METHOD_CLEAR_SKY = "clear_sky_x_recent_ratio"
METHOD_SIMILAR_DAYS = "similar_days"
METHOD_RECENT_MEAN = "recent_mean"

RATIO_MIN = 0.0
RATIO_MAX = 1.2
"""Bounds of the recent performance ratio [unitless]."""
DEFAULT_RATIO_DAYS = 7
"""Local days of measured production behind the performance ratio."""
DEFAULT_SIMILAR_DAYS = 4
"""Past days of the same day type averaged by the consumption forecast."""
CLEAR_SKY_TEMP_AIR_C = 20.0
"""Air temperature assumed by the clear-sky production model [°C]."""
DEFAULT_WIND_SPEED_M_S = 1.0
"""Wind speed assumed when the weather forecast has none [m/s]."""

BASIS_SAME_DAY_TYPE = "same_day_type"
BASIS_ALL_DAYS = "all_days"
BASIS_NONE = "none"

_HALF_HOUR = pd.Timedelta(minutes=30)


@dataclass(frozen=True)
class Site:
    """Where a PV plant is and how its modules face.

    Parameters
    ----------
    latitude, longitude : float
        Coordinates [°], WGS84.
    altitude_m : float
        Height above sea level [m].
    surface_tilt : float
        Module tilt from horizontal [°] (default 30, as :class:`~condivisa.production.pv.PVArray`).
    surface_azimuth : float
        Module azimuth, 180 = south [°].
    """

    latitude: float
    longitude: float
    altitude_m: float = 0.0
    surface_tilt: float = 30.0
    surface_azimuth: float = 180.0

    def __post_init__(self) -> None:
        if not -90.0 <= self.latitude <= 90.0:
            raise ValueError(f"latitudine {self.latitude} fuori da [-90, 90] °")
        if not -180.0 <= self.longitude <= 180.0:
            raise ValueError(f"longitudine {self.longitude} fuori da [-180, 180] °")

    def array(self, power_kw: float) -> PVArray:
        """The PVWatts array of a plant of ``power_kw`` [kW] on this site."""
        return PVArray(kwp=power_kw, surface_tilt=self.surface_tilt, surface_azimuth=self.surface_azimuth)


REGION_CAPITALS: dict[str, Site] = {
    "Valle d'Aosta": Site(45.737, 7.320, 583.0),
    "Piemonte": Site(45.070, 7.687, 240.0),
    "Liguria": Site(44.407, 8.934, 20.0),
    "Lombardia": Site(45.464, 9.190, 120.0),
    "Trentino-Alto Adige": Site(46.067, 11.121, 194.0),
    "Veneto": Site(45.438, 12.327, 1.0),
    "Friuli-Venezia Giulia": Site(45.649, 13.777, 2.0),
    "Emilia-Romagna": Site(44.494, 11.343, 54.0),
    "Toscana": Site(43.770, 11.256, 50.0),
    "Marche": Site(43.616, 13.519, 16.0),
    "Umbria": Site(43.112, 12.389, 493.0),
    "Lazio": Site(41.903, 12.496, 21.0),
    "Abruzzo": Site(42.350, 13.399, 714.0),
    "Campania": Site(40.852, 14.268, 17.0),
    "Molise": Site(41.561, 14.668, 701.0),
    "Puglia": Site(41.117, 16.872, 5.0),
    "Basilicata": Site(40.640, 15.806, 819.0),
    "Calabria": Site(38.910, 16.587, 320.0),
    "Sicilia": Site(38.116, 13.361, 14.0),
    "Sardegna": Site(39.224, 9.122, 4.0),
}
"""Regional capitals (approximate coordinates and altitude), the site assumed when a community gives none: the
recent performance ratio absorbs most of the difference between the capital and the plant's own place."""


@dataclass(frozen=True)
class ProductionForecast:
    """Forecast production of one plant for one local day.

    Attributes
    ----------
    kwh : pandas.Series
        Energy of each hour [kWh], indexed by the UTC hour starts of the day (23, 24 or 25).
    method : str
        ``"weather"`` or ``"clear_sky_x_recent_ratio"``.
    ratio : float or None
        Recent performance ratio applied to the clear sky [unitless]; None with a weather forecast.
    history_hours : int
        Measured hours behind the ratio (0: no history, ratio 1).
    """

    kwh: pd.Series
    method: str
    ratio: float | None = None
    history_hours: int = 0


@dataclass(frozen=True)
class SimilarDays:
    """A day's hourly profile averaged over similar past days.

    Attributes
    ----------
    kwh : pandas.Series
        Energy of each hour [kWh], indexed by the UTC hour starts of the target day.
    days : tuple of datetime.date
        Past local days averaged, most recent first.
    basis : str
        ``"same_day_type"``, ``"all_days"`` (no past day of the same type) or ``"none"`` (no history: zeros).
    day_type : str
        Day type of the target day: ``"weekday"``, ``"saturday"`` or ``"sunday_or_holiday"``.
    """

    kwh: pd.Series
    days: tuple[dt.date, ...]
    basis: str
    day_type: str

    @property
    def days_used(self) -> int:
        """Number of past days averaged."""
        return len(self.days)


@dataclass(frozen=True)
class ConsumptionForecast(SimilarDays):
    """Forecast consumption of a POD or member for one local day (see :class:`SimilarDays`); ``method`` is
    ``"similar_days"``."""

    method: str = field(default=METHOD_SIMILAR_DAYS)


# Grid helpers ------------------------------------------------------------------------------------------------


def day_hours(day: dt.date) -> pd.DatetimeIndex:
    """UTC starts of the hours of Italian local ``day`` (23, 24 or 25 of them)."""
    return Period(day, day).hours()


def local_hour_of_day(hours: pd.DatetimeIndex) -> np.ndarray:
    """Italian local hour-of-day (0..23) of UTC instants."""
    return np.asarray(pd.DatetimeIndex(hours).tz_convert(LOCAL_TZ).hour, dtype=np.int64)


def _utc_index(series: pd.Series, name: str) -> pd.DatetimeIndex:
    index = series.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError(f"{name}: serve un indice orario con fuso (UTC)")
    return index.tz_convert("UTC")


def day_type_of(day: dt.date) -> str:
    """ARERA day type of a local date: ``"weekday"``, ``"saturday"`` or ``"sunday_or_holiday"``."""
    return str(day_type(pd.DatetimeIndex([pd.Timestamp(day)]))[0])


def daily_profiles(history_kwh: pd.Series) -> pd.DataFrame:
    """Hourly values arranged by local day: one row per local date with data, columns local hours 0..23 [kWh].

    A local hour that occurs twice (the 25-hour day) holds the mean of its two values; a missing hour or one
    with NaN is NaN. Rows are sorted by date; days whose values are all NaN are dropped.
    """
    index = _utc_index(history_kwh, "storico")
    values = pd.to_numeric(pd.Series(history_kwh.to_numpy(), index=index), errors="coerce").astype(float)
    local = index.tz_convert(LOCAL_TZ).tz_localize(None)
    frame = pd.DataFrame({"date": local.normalize(), "hour": local.hour, "kwh": values.to_numpy()})
    table = frame.groupby(["date", "hour"])["kwh"].mean().unstack("hour")
    table = table.reindex(columns=range(24)).dropna(how="all").sort_index()
    table.index = pd.DatetimeIndex(table.index)
    return table


def similar_days_from_profiles(
    profiles: pd.DataFrame,
    day: dt.date,
    *,
    k: int,
    before: dt.date | None = None,
    exclude: Collection[dt.date] = (),
) -> SimilarDays:
    """The similar-days profile of ``day`` from :func:`daily_profiles` (see the module docstring).

    Parameters
    ----------
    profiles : pandas.DataFrame
        Output of :func:`daily_profiles` [kWh].
    day : datetime.date
        Target local day.
    k : int
        Most recent days of the same day type to average (>= 1).
    before : datetime.date, optional
        Only days strictly before this one are candidates (default: ``day``).
    exclude : collection of datetime.date
        Days never used (e.g. days of other demand-response campaigns).
    """
    if k < 1:
        raise ValueError(f"numero di giorni simili non positivo: {k}")
    cutoff = pd.Timestamp(before or day)
    skip = pd.DatetimeIndex([pd.Timestamp(d) for d in exclude])
    dates = pd.DatetimeIndex(profiles.index)
    candidates = dates[(dates < cutoff) & ~dates.isin(skip)]
    kind = day_type_of(day)
    hours = day_hours(day)
    if len(candidates) == 0:
        return SimilarDays(pd.Series(0.0, index=hours, name="kwh"), (), BASIS_NONE, kind)
    same = candidates[day_type(candidates) == kind]
    if len(same):
        chosen, basis = same[-k:], BASIS_SAME_DAY_TYPE
    else:
        chosen, basis = candidates, BASIS_ALL_DAYS
    mean = profiles.loc[chosen].mean(axis=0, skipna=True)
    fallback = profiles.loc[candidates].mean(axis=0, skipna=True)
    per_hour = mean.fillna(fallback).fillna(0.0)
    values = per_hour.reindex(local_hour_of_day(hours)).to_numpy(dtype=float)
    used = tuple(d.date() for d in reversed(chosen))
    return SimilarDays(pd.Series(values, index=hours, name="kwh"), used, basis, kind)


# Consumption ------------------------------------------------------------------------------------------------------


def forecast_consumption(history_kwh: pd.Series, day: dt.date, *, k: int = DEFAULT_SIMILAR_DAYS) -> ConsumptionForecast:
    """Forecast the hourly consumption of a POD or member for local ``day`` by similar past days.

    Parameters
    ----------
    history_kwh : pandas.Series
        Past hourly consumption [kWh], indexed by UTC hour starts (NaN or absent = no reading); values on or
        after ``day`` are ignored.
    day : datetime.date
        Target local day.
    k : int, default 4
        Past days of the same day type to average.

    Returns
    -------
    ConsumptionForecast
        ``kwh`` per UTC hour of the day, the days used and whether they share the day type.
    """
    found = similar_days_from_profiles(daily_profiles(history_kwh), day, k=k)
    return ConsumptionForecast(kwh=found.kwh, days=found.days, basis=found.basis, day_type=found.day_type)


# Production -------------------------------------------------------------------------------------------------------


def _simulate(power_kw: float, site: Site, irradiance: pd.DataFrame) -> pd.Series:
    """PVWatts AC energy [kWh] of each hour of ``irradiance`` (columns ghi, dni, dhi, temp_air, wind_speed)."""
    weather = WeatherYear(
        data=irradiance, latitude=site.latitude, longitude=site.longitude, elevation_m=site.altitude_m, source=""
    )
    return pv_hourly_kwh(site.array(power_kw), weather)


def clear_sky_kwh(hours: pd.DatetimeIndex, power_kw: float, site: Site) -> pd.Series:
    """Clear-sky production [kWh] of a plant of ``power_kw`` [kW] in each UTC hour of ``hours``.

    Irradiance from pvlib's Ineichen clear-sky model at each hour's mid-point, 20 °C and 1 m/s, run through the
    PVWatts chain of :func:`condivisa.production.pv.pv_hourly_kwh`.
    """
    hours = pd.DatetimeIndex(hours).tz_convert("UTC")
    if len(hours) == 0:
        return pd.Series(np.zeros(0), index=hours, name="kwh")
    import pvlib  # imported when used: pvlib takes 0.6 s, every command started paid it

    location = pvlib.location.Location(site.latitude, site.longitude, tz="UTC", altitude=site.altitude_m)
    sky = location.get_clearsky(hours + _HALF_HOUR, model="ineichen")
    frame = pd.DataFrame(
        {
            "ghi": sky["ghi"].to_numpy(dtype=float),
            "dni": sky["dni"].to_numpy(dtype=float),
            "dhi": sky["dhi"].to_numpy(dtype=float),
            "temp_air": CLEAR_SKY_TEMP_AIR_C,
            "wind_speed": DEFAULT_WIND_SPEED_M_S,
        },
        index=hours,
    )
    if _is_continuous(hours):
        return _simulate(power_kw, site, frame).rename("kwh")
    # pv_hourly_kwh wants a continuous run of hours: simulate the covering run and pick the hours asked.
    full = pd.date_range(hours.min(), hours.max(), freq="h")
    filled = frame.reindex(full)
    filled[["ghi", "dni", "dhi"]] = filled[["ghi", "dni", "dhi"]].fillna(0.0)
    filled[["temp_air", "wind_speed"]] = filled[["temp_air", "wind_speed"]].fillna(
        {"temp_air": CLEAR_SKY_TEMP_AIR_C, "wind_speed": DEFAULT_WIND_SPEED_M_S}
    )
    return _simulate(power_kw, site, filled).reindex(hours).rename("kwh")


def _is_continuous(hours: pd.DatetimeIndex) -> bool:
    if len(hours) < 2:
        return True
    steps = np.diff(hours.asi8)
    return bool(np.all(steps == pd.Timedelta(hours=1).value))


def performance_ratio(measured_kwh: pd.Series, expected_kwh: pd.Series) -> float:
    """Measured energy / expected energy over the hours present in both, clamped to [0, 1.2].

    Parameters
    ----------
    measured_kwh, expected_kwh : pandas.Series
        Energy per hour [kWh] on the same index; NaN measurements are left out of both sums.

    Returns
    -------
    float
        The ratio [unitless]; 1 when nothing was expected (no daylight hour measured).
    """
    both = pd.DataFrame({"m": measured_kwh, "e": expected_kwh}).dropna()
    expected = float(both["e"].sum())
    if expected <= 0.0:
        return 1.0
    return float(min(max(float(both["m"].sum()) / expected, RATIO_MIN), RATIO_MAX))


def recent_performance_ratio(
    history_kwh: pd.Series | None, day: dt.date, power_kw: float, site: Site, *, days: int = DEFAULT_RATIO_DAYS
) -> tuple[float, int]:
    """Performance ratio of a plant over the ``days`` local days before ``day``, and the hours it rests on.

    Parameters
    ----------
    history_kwh : pandas.Series or None
        Measured production (injection) [kWh] indexed by UTC hour starts; NaN or absent hours are no data.
    day : datetime.date
        The forecast day (excluded).
    power_kw : float
        Plant power [kW].
    site : Site
    days : int, default 7

    Returns
    -------
    tuple of (float, int)
        :func:`performance_ratio` of measured to clear-sky energy, and the number of measured hours (0 gives 1.0).
    """
    if days < 1:
        raise ValueError(f"giorni di storico non positivi: {days}")
    if history_kwh is None or history_kwh.empty:
        return 1.0, 0
    index = _utc_index(history_kwh, "storico di produzione")
    window = Period(day - dt.timedelta(days=days), day - dt.timedelta(days=1)).hours()
    measured = pd.Series(history_kwh.to_numpy(dtype=float), index=index)
    measured = measured[~measured.index.duplicated()].reindex(window).dropna()
    if measured.empty:
        return 1.0, 0
    expected = clear_sky_kwh(pd.DatetimeIndex(measured.index), power_kw, site)
    return performance_ratio(measured, expected), len(measured)


def _weather_frame(weather: pd.DataFrame, hours: pd.DatetimeIndex, site: Site) -> pd.DataFrame:
    if not isinstance(weather.index, pd.DatetimeIndex) or weather.index.tz is None:
        raise ValueError("previsione meteo: serve un indice orario con fuso (UTC)")
    for column in ("ghi", "temp_air"):
        if column not in weather.columns:
            raise ValueError(f"previsione meteo: manca la colonna {column!r} (ghi in W/m², temp_air in °C)")
    data = weather.copy()
    data.index = weather.index.tz_convert("UTC")
    data = data[~data.index.duplicated()].reindex(hours)
    missing = data["ghi"].isna() | data["temp_air"].isna()
    if missing.any():
        first = pd.Timestamp(hours[int(np.flatnonzero(missing.to_numpy())[0])])
        raise ValueError(
            f"previsione meteo: mancano {int(missing.sum())} ore del giorno, la prima alle {first:%Y-%m-%d %H:%M} UTC"
        )
    ghi = data["ghi"].astype(float).clip(lower=0.0)
    wind = data["wind_speed"].astype(float) if "wind_speed" in data else pd.Series(np.nan, index=hours)
    frame = pd.DataFrame(
        {"ghi": ghi, "temp_air": data["temp_air"].astype(float), "wind_speed": wind.fillna(DEFAULT_WIND_SPEED_M_S)},
        index=hours,
    )
    if "dni" in data and "dhi" in data and not (data["dni"].isna().any() or data["dhi"].isna().any()):
        frame["dni"] = data["dni"].astype(float).clip(lower=0.0)
        frame["dhi"] = data["dhi"].astype(float).clip(lower=0.0)
    else:
        mid = hours + _HALF_HOUR
        import pvlib  # imported when used: pvlib takes 0.6 s, every command started paid it

        location = pvlib.location.Location(site.latitude, site.longitude, tz="UTC", altitude=site.altitude_m)
        zenith = location.get_solarposition(mid)["zenith"].to_numpy(dtype=float)
        split = pvlib.irradiance.erbs(ghi.to_numpy(), zenith, mid.day_of_year.to_numpy())
        frame["dni"] = np.clip(np.nan_to_num(np.asarray(split["dni"], dtype=float)), 0.0, 1400.0)
        frame["dhi"] = np.clip(np.nan_to_num(np.asarray(split["dhi"], dtype=float)), 0.0, 1400.0)
    return frame[["ghi", "dni", "dhi", "temp_air", "wind_speed"]]


def forecast_production(
    day: dt.date,
    power_kw: float,
    site: Site,
    *,
    weather: pd.DataFrame | None = None,
    history_kwh: pd.Series | None = None,
    ratio_days: int = DEFAULT_RATIO_DAYS,
) -> ProductionForecast:
    """Forecast the hourly production of a PV plant for local ``day`` (see the module docstring).

    Parameters
    ----------
    day : datetime.date
        Target local day.
    power_kw : float
        Plant power [kW] (> 0).
    site : Site
        Coordinates and orientation.
    weather : pandas.DataFrame, optional
        Hourly weather forecast indexed by UTC hour starts covering the day: ``ghi`` [W/m²], ``temp_air`` [°C],
        optionally ``wind_speed`` [m/s], ``dni`` and ``dhi`` [W/m²]. When given, method ``"weather"``.
    history_kwh : pandas.Series, optional
        Measured production [kWh] per UTC hour, for the recent performance ratio of the clear-sky method.
    ratio_days : int, default 7
        Local days before ``day`` behind the ratio.

    Returns
    -------
    ProductionForecast
    """
    if power_kw <= 0:
        raise ValueError(f"potenza dell'impianto non positiva: {power_kw} kW")
    hours = day_hours(day)
    if weather is not None:
        kwh = _simulate(power_kw, site, _weather_frame(weather, hours, site))
        return ProductionForecast(kwh=kwh.rename("kwh"), method=METHOD_WEATHER)
    ratio, n = recent_performance_ratio(history_kwh, day, power_kw, site, days=ratio_days)
    clear = clear_sky_kwh(hours, power_kw, site)
    return ProductionForecast(kwh=(clear * ratio).rename("kwh"), method=METHOD_CLEAR_SKY, ratio=ratio, history_hours=n)


def forecast_recent_mean(history_kwh: pd.Series, day: dt.date, *, days: int = DEFAULT_RATIO_DAYS) -> SimilarDays:
    """Forecast local ``day`` as the mean of each local hour over the last ``days`` days before it [kWh].

    The persistence forecast used for plants that are not PV; days are taken whatever their day type, and only
    those within ``days`` calendar days of ``day`` (``basis`` is ``"all_days"``, or ``"none"`` without history).
    """
    if days < 1:
        raise ValueError(f"giorni di storico non positivi: {days}")
    profiles = daily_profiles(history_kwh)
    first = pd.Timestamp(day - dt.timedelta(days=days))
    dates = pd.DatetimeIndex(profiles.index)
    recent = profiles[(dates >= first) & (dates < pd.Timestamp(day))]
    hours = day_hours(day)
    kind = day_type_of(day)
    if recent.empty:
        return SimilarDays(pd.Series(0.0, index=hours, name="kwh"), (), BASIS_NONE, kind)
    per_hour = recent.mean(axis=0, skipna=True).fillna(0.0)
    values = per_hour.reindex(local_hour_of_day(hours)).to_numpy(dtype=float)
    used = tuple(d.date() for d in reversed(pd.DatetimeIndex(recent.index)))
    return SimilarDays(pd.Series(values, index=hours, name="kwh"), used, BASIS_ALL_DAYS, kind)
