"""Production models: PV with pvlib on a weather year (offline typical year bundled)."""

from condivisa.production.checks import WEATHER_KEYS, validate_weather
from condivisa.production.hydro import ALPINE_MONTHLY_FLOW_FACTOR, hydro_hourly_kwh
from condivisa.production.pv import PVArray, pv_hourly_kwh
from condivisa.production.pvgis import fetch_typical_year, haversine_km
from condivisa.production.storage import Battery, DispatchResult, EVCharger, dispatch_self_consumption, schedule_ev
from condivisa.production.weather import TURIN_TMY, WeatherYear, typical_year
from condivisa.production.wind import WindTurbine, generic_small_turbine, hub_wind_speed, wind_hourly_kwh

__all__ = [
    "ALPINE_MONTHLY_FLOW_FACTOR",
    "TURIN_TMY",
    "WEATHER_KEYS",
    "Battery",
    "DispatchResult",
    "EVCharger",
    "PVArray",
    "WeatherYear",
    "WindTurbine",
    "dispatch_self_consumption",
    "fetch_typical_year",
    "generic_small_turbine",
    "haversine_km",
    "hub_wind_speed",
    "hydro_hourly_kwh",
    "pv_hourly_kwh",
    "schedule_ev",
    "typical_year",
    "validate_weather",
    "wind_hourly_kwh",
]
