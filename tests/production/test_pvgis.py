"""PVGIS client: offline fallback with its notes, distance, and the online path replayed offline.

The online path never touches the network: ``pvlib.iotools.get_pvgis_tmy`` is replaced by a fake that returns
what pvlib would (JSON output, ``map_variables=True``, index coerced to 1990), built from the bundled PVGIS file.
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pvlib
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from condivisa.production import PVArray, fetch_typical_year, haversine_km, pv_hourly_kwh
from condivisa.production.pvgis import EARTH_RADIUS_KM, OFFLINE_ENV

TURIN = (45.0703, 7.6869)
ROME = (41.9028, 12.4964)


def recorded_pvgis_answer(
    latitude: float, longitude: float, ghi_scale: float = 1.0, elevation: float = 21.0
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """What pvlib's get_pvgis_tmy returns for a site, made from the bundled PVGIS TMY file."""
    ref = resources.files("condivisa") / "data" / "weather" / "tmy_45.000_8.000_2005_2023.csv"
    with resources.as_file(ref) as path:
        data, _ = pvlib.iotools.read_pvgis_tmy(str(path), map_variables=True)
    data = data.copy()
    data.index = pd.DatetimeIndex([ts.replace(year=1990) for ts in data.index], name="time(UTC)")
    for column in ("ghi", "dni", "dhi"):
        data[column] = data[column] * ghi_scale
    meta: dict[str, Any] = {
        "inputs": {
            "location": {"latitude": latitude, "longitude": longitude, "elevation": elevation},
            "meteo_data": {"radiation_db": "PVGIS-SARAH3", "meteo_db": "ERA5", "year_min": 2005, "year_max": 2023},
        },
        "months_selected": [{"month": m, "year": 2010} for m in range(1, 13)],
    }
    return data, meta


class FakePVGIS:
    """Stands in for pvlib.iotools.get_pvgis_tmy; records its calls; answers or raises."""

    def __init__(
        self, answer: tuple[pd.DataFrame, dict[str, Any]] | None = None, error: Exception | None = None
    ) -> None:
        self.answer = answer
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def __call__(self, latitude: float, longitude: float, **kwargs: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
        self.calls.append({"latitude": latitude, "longitude": longitude, **kwargs})
        if self.error is not None:
            raise self.error
        assert self.answer is not None
        return self.answer


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePVGIS:
    """A fake that fails the test if called; tests give it an answer or an error."""
    monkeypatch.delenv(OFFLINE_ENV, raising=False)
    stub = FakePVGIS(error=AssertionError("no request expected"))
    monkeypatch.setattr(pvlib.iotools, "get_pvgis_tmy", stub)
    return stub


def test_turin_rome_distance() -> None:
    assert haversine_km(*TURIN, *ROME) == pytest.approx(525.0, abs=5.0)
    assert haversine_km(*TURIN, *TURIN) == 0.0
    assert haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * EARTH_RADIUS_KM)


@given(
    st.floats(-90, 90),
    st.floats(-180, 180),
    st.floats(-90, 90),
    st.floats(-180, 180),
)
def test_distance_is_symmetric_and_bounded(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    d = haversine_km(lat1, lon1, lat2, lon2)
    assert d == pytest.approx(haversine_km(lat2, lon2, lat1, lon1), abs=1e-6)
    assert 0.0 <= d <= math.pi * EARTH_RADIUS_KM + 1e-6


def test_offline_far_site_falls_back_with_a_warning(fake: FakePVGIS) -> None:
    weather, notes = fetch_typical_year(*ROME, online=False)
    assert fake.calls == []
    assert (weather.latitude, weather.longitude) == (45.0, 8.0)  # the data describe the bundled site
    assert len(weather.data) == 8760
    assert "anno incluso" in weather.source
    text = " ".join(notes)
    assert "online=False" in text
    assert "anno tipico incluso nel pacchetto" in text
    assert f"a {haversine_km(*ROME, 45.0, 8.0):.0f} km dal sito richiesto" in text
    assert "ATTENZIONE" in text


def test_offline_near_site_notes_without_warning(fake: FakePVGIS) -> None:
    _, notes = fetch_typical_year(*TURIN, online=False)
    text = " ".join(notes)
    assert "a 26 km dal sito richiesto" in text
    assert "ATTENZIONE" not in text
    assert "entro 150 km" in text


def test_environment_variable_forces_offline(fake: FakePVGIS, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OFFLINE_ENV, "1")
    weather, notes = fetch_typical_year(*ROME)
    assert fake.calls == []
    assert weather.latitude == 45.0
    assert f"{OFFLINE_ENV}=1" in notes[0]


def test_online_path_returns_the_sites_data(fake: FakePVGIS) -> None:
    data, meta = recorded_pvgis_answer(*ROME, ghi_scale=1.2)
    fake.answer, fake.error = (data, meta), None
    weather, notes = fetch_typical_year(*ROME, timeout=7)
    assert len(fake.calls) == 1
    call = fake.calls[0]
    assert (call["latitude"], call["longitude"]) == ROME
    assert call["map_variables"] is True
    assert call["timeout"] == 7
    assert weather.data is data
    assert (weather.latitude, weather.longitude, weather.elevation_m) == (*ROME, 21.0)
    assert weather.source.startswith("PVGIS TMY online, lat 41.903 lon 12.496 (PVGIS-SARAH3, ERA5 2005–2023)")
    assert notes == ["Anno tipico scaricato da PVGIS (EU JRC) per lat 41.903, lon 12.496."]


def test_online_year_runs_through_the_pv_model(fake: FakePVGIS, turin_year: object) -> None:
    fake.answer, fake.error = recorded_pvgis_answer(45.0, 8.0, elevation=250.0), None
    online, _ = fetch_typical_year(45.0, 8.0)
    offline, _ = fetch_typical_year(45.0, 8.0, online=False)
    a = pv_hourly_kwh(PVArray(1.0), online).sum()
    b = pv_hourly_kwh(PVArray(1.0), offline).sum()
    assert a == pytest.approx(b, rel=1e-3)  # same data; only the years of the stamps differ (sun position)
    assert 1200 < a < 1500  # kWh/kWp/yr near Turin


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (requests.ConnectionError("no route to host"), "Richiesta a PVGIS non riuscita (ConnectionError"),
        (requests.Timeout("read timed out"), "Richiesta a PVGIS non riuscita (Timeout"),
        (
            requests.HTTPError("Location over the sea"),
            "Richiesta a PVGIS non riuscita (HTTPError: Location over the sea)",
        ),
        (KeyError("outputs"), "Risposta di PVGIS non leggibile (KeyError"),
    ],
)
def test_network_errors_fall_back(fake: FakePVGIS, error: Exception, reason: str) -> None:
    fake.error = error
    weather, notes = fetch_typical_year(*ROME)
    assert len(fake.calls) == 1
    assert weather.latitude == 45.0
    assert notes[0].startswith(reason)
    assert "ATTENZIONE" in notes[1]


def test_an_answer_without_weather_falls_back(fake: FakePVGIS) -> None:
    data, meta = recorded_pvgis_answer(*ROME)
    data["ghi"] = np.nan
    fake.answer, fake.error = (data, meta), None
    weather, notes = fetch_typical_year(*ROME)
    assert weather.latitude == 45.0
    assert notes[0].startswith("Risposta di PVGIS non valida (weather.data['ghi']: tutti")


@pytest.mark.parametrize(
    ("lat", "lon", "timeout", "field"),
    [(91.0, 8.0, 10.0, "latitude"), (45.0, -200.0, 10.0, "longitude"), (45.0, 8.0, 0.0, "timeout")],
)
def test_bad_input_raises(fake: FakePVGIS, lat: float, lon: float, timeout: float, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        fetch_typical_year(lat, lon, timeout=timeout)
    assert fake.calls == []
