"""Typical weather years from PVGIS (EU JRC), with an offline fallback to the year bundled near Turin.

This is the thin I/O layer of :mod:`condivisa.production`: the only module that opens a socket or reads an
environment variable. The request itself is pvlib's :func:`pvlib.iotools.get_pvgis_tmy`; what comes back is
checked with :func:`~condivisa.production.checks.validate_weather` before use.

Environment
-----------
``CONDIVISA_OFFLINE``
    ``1`` (or ``true``, ``yes``, ``si``) makes :func:`fetch_typical_year` skip the request, as ``online=False``
    does. Read here only, at each call: the models never read the environment.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import pandas as pd

from condivisa.production.checks import validate_weather
from condivisa.production.weather import WeatherYear, typical_year

OFFLINE_ENV = "CONDIVISA_OFFLINE"
"""Environment variable that forces the offline fallback."""

FAR_KM = 150.0
"""Distance from the bundled site beyond which the fallback note becomes a warning [km]."""

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG) [km]."""

_TRUE = {"1", "true", "yes", "si", "sì", "on"}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points on a spherical Earth [km].

    Parameters
    ----------
    lat1, lon1 : float
        First point, latitude and longitude [°].
    lat2, lon2 : float
        Second point, latitude and longitude [°].

    Returns
    -------
    float
        Distance along the surface [km], with :data:`EARTH_RADIUS_KM`; within about 0.5 % of the ellipsoidal
        distance.

    Notes
    -----
    .. math:: d = 2 R \\arcsin\\sqrt{\\sin^2\\frac{\\Delta\\varphi}{2}
              + \\cos\\varphi_1 \\cos\\varphi_2 \\sin^2\\frac{\\Delta\\lambda}{2}}
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlam = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2.0) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _check_site(latitude: float, longitude: float) -> None:
    if not (isinstance(latitude, int | float) and -90.0 <= latitude <= 90.0):
        raise ValueError(f"latitude: {latitude!r} fuori da [-90, 90] °")
    if not (isinstance(longitude, int | float) and -180.0 <= longitude <= 180.0):
        raise ValueError(f"longitude: {longitude!r} fuori da [-180, 180] °")


def weather_from_pvgis(data: pd.DataFrame, meta: dict[str, Any], *, latitude: float, longitude: float) -> WeatherYear:
    """Wrap what :func:`pvlib.iotools.get_pvgis_tmy` returned (JSON output, ``map_variables=True``).

    Parameters
    ----------
    data : pandas.DataFrame
        Hourly TMY with pvlib column names, UTC index.
    meta : dict
        PVGIS metadata; ``meta["inputs"]["location"]`` gives the site and ``meta["inputs"]["meteo_data"]``
        the databases, when present.
    latitude, longitude : float
        Site asked for [°]; used when the metadata lack the location.

    Returns
    -------
    WeatherYear
        With ``source`` naming PVGIS online, the databases and years when known.
    """
    inputs = meta.get("inputs", {}) if isinstance(meta, dict) else {}
    location = inputs.get("location", {}) if isinstance(inputs, dict) else {}
    meteo = inputs.get("meteo_data", {}) if isinstance(inputs, dict) else {}
    lat = float(location.get("latitude", latitude))
    lon = float(location.get("longitude", longitude))
    elevation = float(location.get("elevation", 0.0))
    databases = ", ".join(
        str(meteo[k]) for k in ("radiation_db", "meteo_db") if isinstance(meteo, dict) and meteo.get(k)
    )
    years = ""
    if isinstance(meteo, dict) and meteo.get("year_min") and meteo.get("year_max"):
        years = f" {meteo['year_min']}–{meteo['year_max']}"
    detail = f" ({databases}{years})" if databases or years else ""
    source = f"PVGIS TMY online, lat {lat:.3f} lon {lon:.3f}{detail} (© EU JRC)"
    return WeatherYear(data=data, latitude=lat, longitude=lon, elevation_m=elevation, source=source)


def _offline_by_env() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in _TRUE


def _fallback(latitude: float, longitude: float, reason: str) -> tuple[WeatherYear, list[str]]:
    bundled = typical_year()
    km = haversine_km(latitude, longitude, bundled.latitude, bundled.longitude)
    weather = dataclasses.replace(bundled, source=f"{bundled.source}, anno incluso usato in mancanza di PVGIS")
    notes = [
        f"{reason}: si usa l'anno tipico incluso nel pacchetto (PVGIS TMY lat {bundled.latitude:.3f}, "
        f"lon {bundled.longitude:.3f}, vicino a Torino), a {km:.0f} km dal sito richiesto "
        f"(lat {latitude:.3f}, lon {longitude:.3f})."
    ]
    if km > FAR_KM:
        notes.append(
            f"ATTENZIONE: il sito richiesto dista {km:.0f} km (oltre {FAR_KM:.0f} km) dall'anno tipico incluso: "
            "irraggiamento, temperatura e vento possono essere molto diversi e la produzione stimata non vale per "
            "questo sito. Ripetere il calcolo con accesso a PVGIS."
        )
    else:
        notes.append(
            f"Il sito richiesto è entro {FAR_KM:.0f} km dall'anno tipico incluso: stima indicativa; quota e "
            "orografia possono comunque cambiare la produzione."
        )
    return weather, notes


def fetch_typical_year(
    latitude: float, longitude: float, *, timeout: float = 10.0, online: bool = True
) -> tuple[WeatherYear, list[str]]:
    """Typical meteorological year of a site from PVGIS, or the bundled one near Turin when offline.

    Parameters
    ----------
    latitude : float
        Site latitude, north positive [°].
    longitude : float
        Site longitude, east positive [°].
    timeout : float, default 10
        Seconds to wait for PVGIS [s].
    online : bool, default True
        False skips the request. The environment variable ``CONDIVISA_OFFLINE=1`` does the same.

    Returns
    -------
    weather : WeatherYear
        PVGIS's year for the site (index in 1990, pvlib's default ``coerce_year``), or the bundled typical year,
        whose coordinates stay those of the bundled site (45.0 N, 8.0 E), since its data describe that place.
    notes : list of str
        Italian sentences for the user: where the data come from; for the fallback, why, and how far the
        requested site is from the bundled one, as a warning beyond :data:`FAR_KM`.

    Raises
    ------
    ValueError
        ``latitude``, ``longitude`` or ``timeout`` out of range (never for a network problem: that falls back).

    Notes
    -----
    Falls back on any error that :mod:`requests` raises (all are :class:`OSError`: no connection, timeout,
    HTTP error such as a site over the sea, undecodable JSON) and on an answer that does not parse or fails
    :func:`~condivisa.production.checks.validate_weather`. The request uses PVGIS's defaults, horizon included.
    """
    _check_site(latitude, longitude)
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout: attesi secondi positivi, trovato {timeout!r}")
    if not online:
        return _fallback(latitude, longitude, "Modalità offline richiesta (online=False)")
    if _offline_by_env():
        return _fallback(latitude, longitude, f"Modalità offline richiesta ({OFFLINE_ENV}=1)")
    try:
        import pvlib  # imported when used: pvlib takes 0.6 s, every command started paid it

        data, meta = pvlib.iotools.get_pvgis_tmy(
            latitude, longitude, outputformat="json", map_variables=True, timeout=timeout
        )
    except OSError as exc:
        return _fallback(latitude, longitude, f"Richiesta a PVGIS non riuscita ({type(exc).__name__}: {exc})")
    except (KeyError, ValueError) as exc:  # pvlib's parser on an answer of unexpected shape
        return _fallback(latitude, longitude, f"Risposta di PVGIS non leggibile ({type(exc).__name__}: {exc})")
    try:
        weather = weather_from_pvgis(data, meta, latitude=latitude, longitude=longitude)
    except (KeyError, ValueError, TypeError) as exc:
        return _fallback(latitude, longitude, f"Risposta di PVGIS non leggibile ({type(exc).__name__}: {exc})")
    try:
        validate_weather(weather)
    except ValueError as exc:
        return _fallback(latitude, longitude, f"Risposta di PVGIS non valida ({exc})")
    return weather, [
        f"Anno tipico scaricato da PVGIS (EU JRC) per lat {weather.latitude:.3f}, lon {weather.longitude:.3f}."
    ]
