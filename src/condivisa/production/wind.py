"""Micro-wind production with windpowerlib: wind at hub height from the weather year, through a power curve.

windpowerlib's own turbine library (``windpowerlib/oedb/turbine_data.csv``, shipped with the package and read
offline) starts at 800 kW: nothing in it fits a community's micro-wind plant of a few tens of kW. So a turbine
here is its power curve as data, :class:`WindTurbine`: from a manufacturer's datasheet when known, otherwise
:func:`generic_small_turbine`, labelled ``generic``. windpowerlib does the physics: the height correction
(:func:`windpowerlib.wind_speed.logarithmic_profile` or :func:`~windpowerlib.wind_speed.hellman`) and the power
curve lookup (:func:`windpowerlib.power_output.power_curve`).

Hourly means go through the curve as they are: the variability within the hour (gusts, turbulence) is not
modelled, nor are air density, wake, icing, availability and inverter losses. With a cubic curve this
underestimates energy at low mean speeds and overestimates it near rated speed; treat the result as a first
estimate, to be replaced by a measurement campaign at the site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from windpowerlib import power_output, wind_speed

from condivisa.production.checks import validate_weather
from condivisa.production.weather import WeatherYear

GENERIC_SOURCE = (
    "generic: cubic between cut-in and rated speed, flat to cut-out, "
    "P(v) = P_r (v³ - v_ci³) / (v_r³ - v_ci³); speeds typical of small turbines (IEC 61400-2 class), no product"
)


@dataclass(frozen=True)
class WindTurbine:
    """A wind turbine as its power curve (not windpowerlib's ``WindTurbine``, which reads its own library).

    Parameters
    ----------
    nominal_power_kw : float
        Rated electrical power :math:`P_r` [kW].
    wind_speeds_ms : tuple of float
        Wind speeds at hub height of the power curve, strictly increasing, from 0 or more [m/s]. Output is zero
        below the first and above the last (windpowerlib's convention): end the table at the cut-out speed.
    power_kw : tuple of float
        Electrical power at each of ``wind_speeds_ms``, between 0 and ``nominal_power_kw`` [kW]; linear in
        between.
    name : str
        Label for reports.
    source : str
        Where the curve comes from (datasheet, certification) or ``generic: ...``.

    Raises
    ------
    ValueError
        A field out of range or tables of different length, named in the message.
    """

    nominal_power_kw: float
    wind_speeds_ms: tuple[float, ...]
    power_kw: tuple[float, ...]
    name: str = "generic"
    source: str = GENERIC_SOURCE

    def __post_init__(self) -> None:
        if not (np.isfinite(self.nominal_power_kw) and self.nominal_power_kw > 0):
            raise ValueError(f"nominal_power_kw: potenza nominale non positiva: {self.nominal_power_kw} kW")
        speeds = np.asarray(self.wind_speeds_ms, dtype=float)
        power = np.asarray(self.power_kw, dtype=float)
        if speeds.ndim != 1 or speeds.size < 2 or power.shape != speeds.shape:
            raise ValueError(
                f"wind_speeds_ms, power_kw: attese due tabelle della stessa lunghezza (almeno 2 punti), "
                f"trovate {speeds.size} e {power.size}"
            )
        if not np.isfinite(speeds).all() or speeds[0] < 0 or (np.diff(speeds) <= 0).any():
            raise ValueError("wind_speeds_ms: attese velocità finite, non negative e strettamente crescenti [m/s]")
        if not np.isfinite(power).all() or (power < 0).any() or (power > self.nominal_power_kw * (1 + 1e-9)).any():
            raise ValueError(f"power_kw: attesi valori tra 0 e nominal_power_kw = {self.nominal_power_kw} kW")

    @property
    def cut_out_ms(self) -> float:
        """Last speed of the curve: above it the output is zero [m/s]."""
        return float(self.wind_speeds_ms[-1])


def generic_small_turbine(
    nominal_power_kw: float = 20.0,
    *,
    cut_in_ms: float = 3.0,
    rated_ms: float = 11.0,
    cut_out_ms: float = 25.0,
    step_ms: float = 0.5,
) -> WindTurbine:
    """A generic small turbine: zero below cut-in, cubic up to rated speed, rated power up to cut-out.

    .. math:: P(v) = P_r \\frac{v^3 - v_{ci}^3}{v_r^3 - v_{ci}^3}\\quad (v_{ci} \\le v < v_r),\\qquad
              P(v) = P_r \\quad (v_r \\le v \\le v_{co}),\\qquad P(v) = 0 \\text{ otherwise}

    Parameters
    ----------
    nominal_power_kw : float, default 20
        Rated power :math:`P_r` [kW].
    cut_in_ms : float, default 3.0
        Cut-in speed :math:`v_{ci}` (2.5-3.5 m/s on small-turbine datasheets) [m/s].
    rated_ms : float, default 11.0
        Rated speed :math:`v_r` (10-12 m/s) [m/s].
    cut_out_ms : float, default 25.0
        Cut-out speed :math:`v_{co}` (20-25 m/s; many small turbines furl instead) [m/s].
    step_ms : float, default 0.5
        Spacing of the table [m/s]; cut-in, rated and cut-out are always in it.

    Returns
    -------
    WindTurbine
        Named ``generic <P> kW``, with :data:`GENERIC_SOURCE` as source.
    """
    if not (np.isfinite(cut_in_ms) and 0 < cut_in_ms < rated_ms <= cut_out_ms and np.isfinite(cut_out_ms)):
        raise ValueError(
            f"cut_in_ms, rated_ms, cut_out_ms: attesi 0 < cut-in < nominale <= cut-out, trovati "
            f"{cut_in_ms}, {rated_ms}, {cut_out_ms} m/s"
        )
    if not (np.isfinite(step_ms) and step_ms > 0):
        raise ValueError(f"step_ms: passo non positivo: {step_ms} m/s")
    grid = np.arange(0.0, cut_out_ms, step_ms)
    speeds = np.unique(np.concatenate([grid, [cut_in_ms, rated_ms, cut_out_ms]]))
    ramp = (speeds**3 - cut_in_ms**3) / (rated_ms**3 - cut_in_ms**3)
    power = nominal_power_kw * np.clip(ramp, 0.0, 1.0)
    return WindTurbine(
        nominal_power_kw=nominal_power_kw,
        wind_speeds_ms=tuple(float(v) for v in speeds),
        power_kw=tuple(float(p) for p in power),
        name=f"generic {nominal_power_kw:g} kW",
    )


def hub_wind_speed(
    weather: WeatherYear,
    hub_height_m: float,
    *,
    roughness_length_m: float = 0.1,
    data_height_m: float = 10.0,
    profile: Literal["logarithmic", "hellman"] = "logarithmic",
) -> pd.Series:
    """Hourly wind speed at hub height [m/s], from ``weather.data["wind_speed"]`` at ``data_height_m``.

    Parameters
    ----------
    weather : WeatherYear
        Hourly weather; its ``wind_speed`` is at ``data_height_m`` (10 m in PVGIS TMY, ``WS10m``).
    hub_height_m : float
        Hub height above ground [m].
    roughness_length_m : float, default 0.1
        Roughness length :math:`z_0` [m]: 0.03 open farmland, 0.1 farmland with hedges and scattered buildings,
        0.5-1 suburbs and woods.
    data_height_m : float, default 10
        Height of the wind data [m].
    profile : {"logarithmic", "hellman"}, default "logarithmic"
        :func:`windpowerlib.wind_speed.logarithmic_profile`,
        :math:`v_{hub} = v \\ln(h_{hub}/z_0) / \\ln(h/z_0)`; or
        :func:`windpowerlib.wind_speed.hellman` with exponent :math:`1/\\ln(h_{hub}/z_0)`.

    Returns
    -------
    pandas.Series
        ``wind_speed_hub``, indexed like ``weather.data``.
    """
    validate_weather(weather, columns=("wind_speed",))
    if not (np.isfinite(roughness_length_m) and roughness_length_m > 0):
        raise ValueError(f"roughness_length_m: lunghezza di rugosità non positiva: {roughness_length_m} m")
    if not (np.isfinite(hub_height_m) and hub_height_m > roughness_length_m):
        raise ValueError(f"hub_height_m: {hub_height_m} m, attesa un'altezza maggiore di z0 = {roughness_length_m} m")
    if not (np.isfinite(data_height_m) and data_height_m > roughness_length_m):
        raise ValueError(f"data_height_m: {data_height_m} m, attesa un'altezza maggiore di z0 = {roughness_length_m} m")
    v = weather.data["wind_speed"].to_numpy(dtype=float)
    if profile not in ("logarithmic", "hellman"):
        raise ValueError(f"profile: {profile!r} sconosciuto; attesi 'logarithmic' o 'hellman'")
    if hub_height_m == data_height_m:  # v·ln(a)/ln(a) may differ from v in the last bit
        hub = v
    elif profile == "logarithmic":
        hub = wind_speed.logarithmic_profile(v, data_height_m, hub_height_m, roughness_length_m)
    elif profile == "hellman":
        hub = wind_speed.hellman(v, data_height_m, hub_height_m, roughness_length=roughness_length_m)
    return pd.Series(np.asarray(hub, dtype=float), index=weather.data.index, name="wind_speed_hub")


def wind_hourly_kwh(
    turbine: WindTurbine,
    weather: WeatherYear,
    hub_height_m: float,
    *,
    roughness_length_m: float = 0.1,
    profile: Literal["logarithmic", "hellman"] = "logarithmic",
) -> pd.Series:
    """Energy of a wind turbine in each hour [kWh].

    Parameters
    ----------
    turbine : WindTurbine
        Power curve.
    weather : WeatherYear
        Hourly weather with ``wind_speed`` at 10 m [m/s]; checked with
        :func:`~condivisa.production.checks.validate_weather` (a gap or NaN raises).
    hub_height_m : float
        Hub height above ground [m].
    roughness_length_m : float, default 0.1
        Roughness length [m], see :func:`hub_wind_speed`.
    profile : {"logarithmic", "hellman"}, default "logarithmic"
        Height correction, see :func:`hub_wind_speed`.

    Returns
    -------
    pandas.Series
        ``wind_kwh``, indexed like ``weather.data``: mean power of the hour from the curve at the hour's mean
        hub-height speed × 1 h; zero below the first and above the last speed of the curve.
    """
    hub = hub_wind_speed(weather, hub_height_m, roughness_length_m=roughness_length_m, profile=profile)
    watts = power_output.power_curve(
        hub.to_numpy(),
        np.asarray(turbine.wind_speeds_ms, dtype=float),
        np.asarray(turbine.power_kw, dtype=float) * 1000.0,
    )
    kwh = np.clip(np.asarray(watts, dtype=float) / 1000.0, 0.0, turbine.nominal_power_kw)
    return pd.Series(kwh, index=weather.data.index, name="wind_kwh")
