"""Weather years. The bundled PVGIS typical year near Turin works offline; a typical year is laid onto any
calendar year so that production lines up with meter readings of that year."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class WeatherYear:
    """Hourly weather with pvlib names (``ghi``, ``dni``, ``dhi``, ``temp_air``, ``wind_speed``), UTC index."""

    data: pd.DataFrame
    latitude: float
    longitude: float
    elevation_m: float
    source: str


TURIN_TMY = "tmy_45.000_8.000_2005_2023.csv"


def typical_year(name: str = TURIN_TMY) -> WeatherYear:
    """Read a typical year shipped in ``condivisa/data/weather`` (PVGIS TMY format)."""
    ref = resources.files("condivisa") / "data" / "weather" / name
    with resources.as_file(ref) as path:
        import pvlib  # imported when used: pvlib takes 0.6 s, every command started paid it

        data, meta = pvlib.iotools.read_pvgis_tmy(str(path), map_variables=True)
    loc = meta.get("location", meta) if isinstance(meta, dict) else {}
    return WeatherYear(
        data=data,
        latitude=float(loc.get("latitude", 45.0)),
        longitude=float(loc.get("longitude", 8.0)),
        elevation_m=float(loc.get("elevation", 250.0)),
        source=f"PVGIS TMY {name} (© EU JRC)",
    )


def lay_on_year(weather: WeatherYear, year: int) -> WeatherYear:
    """Move a typical year's hours onto calendar ``year`` (UTC), matching month, day and hour."""
    target = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h", tz="UTC", inclusive="left")
    return lay_on_hours(weather, target)


def lay_on_hours(weather: WeatherYear, target: pd.DatetimeIndex) -> WeatherYear:
    """Weather of a typical year for any UTC hours, matching month, day and hour of each.

    29 February, when the target has it, repeats 28 February.
    """
    src = weather.data
    src_index = pd.DatetimeIndex(src.index)
    key = pd.MultiIndex.from_arrays([src_index.month, src_index.day, src_index.hour])
    day = np.where((target.month == 2) & (target.day == 29), 28, target.day)
    want = pd.MultiIndex.from_arrays([target.month, day, target.hour])
    lookup = pd.Series(np.arange(len(src)), index=key)
    lookup = lookup[~lookup.index.duplicated()]
    pos = lookup.reindex(want).to_numpy()
    if np.isnan(pos).any():
        raise ValueError("typical year has gaps: cannot lay it on a calendar year")
    data = src.iloc[pos.astype(int)].copy()
    data.index = target
    return WeatherYear(data, weather.latitude, weather.longitude, weather.elevation_m, weather.source)
