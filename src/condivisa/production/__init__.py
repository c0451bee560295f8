"""Production models: PV with pvlib on a weather year (offline typical year bundled)."""

from condivisa.production.pv import PVArray, pv_hourly_kwh
from condivisa.production.weather import TURIN_TMY, WeatherYear, typical_year

__all__ = ["TURIN_TMY", "PVArray", "WeatherYear", "pv_hourly_kwh", "typical_year"]
