"""PV production with pvlib (PVWatts DC and inverter models, SAPM cell temperature)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from condivisa.production.checks import validate_weather
from condivisa.production.weather import WeatherYear


@dataclass(frozen=True)
class PVArray:
    """A fixed PV array.

    Parameters
    ----------
    kwp : float
        DC peak power [kW].
    surface_tilt : float
        Tilt from horizontal [°].
    surface_azimuth : float
        Azimuth, 180 = south [°].
    losses_percent : float
        System losses (PVWatts) [%].
    gamma_pdc : float
        Power temperature coefficient [1/°C].
    inverter_ratio : float
        DC/AC ratio [unitless].
    """

    kwp: float
    surface_tilt: float = 30.0
    surface_azimuth: float = 180.0
    losses_percent: float = 14.0
    gamma_pdc: float = -0.004
    inverter_ratio: float = 1.1


def pv_hourly_kwh(array: PVArray, weather: WeatherYear) -> pd.Series:
    """AC energy of each hour [kWh], indexed like ``weather.data`` (hour-start stamps).

    Irradiance of the hour is evaluated at its mid-point (+30 min) for the solar position.
    """
    if array.kwp <= 0:
        raise ValueError(f"potenza di picco non positiva: {array.kwp} kWp")
    validate_weather(weather)
    import pvlib  # imported when used: pvlib takes 0.6 s, every command started paid it
    from pvlib.modelchain import ModelChain
    from pvlib.pvsystem import PVSystem
    from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS

    location = pvlib.location.Location(weather.latitude, weather.longitude, tz="UTC", altitude=weather.elevation_m)
    system = PVSystem(
        surface_tilt=array.surface_tilt,
        surface_azimuth=array.surface_azimuth,
        module_parameters={"pdc0": array.kwp * 1000.0, "gamma_pdc": array.gamma_pdc},
        inverter_parameters={"pdc0": array.kwp * 1000.0 / array.inverter_ratio},
        temperature_model_parameters=TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"],
        # PVWatts combines named loss terms; one term carries the whole system loss.
        losses_parameters={
            "soiling": array.losses_percent,
            "shading": 0.0,
            "snow": 0.0,
            "mismatch": 0.0,
            "wiring": 0.0,
            "connections": 0.0,
            "lid": 0.0,
            "nameplate_rating": 0.0,
            "age": 0.0,
            "availability": 0.0,
        },
    )
    chain = ModelChain(system, location, aoi_model="physical", spectral_model="no_loss", losses_model="pvwatts")
    frame = weather.data[["ghi", "dni", "dhi", "temp_air", "wind_speed"]].copy()
    frame.index = frame.index + pd.Timedelta(minutes=30)
    chain.run_model(frame)
    ac = chain.results.ac.clip(lower=0.0).fillna(0.0) / 1000.0
    return pd.Series(ac.to_numpy(dtype=float), index=weather.data.index, name="pv_kwh")
