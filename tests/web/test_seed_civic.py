"""The civic demo seed: every public service of Borgo Demo filled, idempotent, shown by the public pages."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from condivisa.store import make_engine, upgrade
from condivisa.web.app import create_app
from condivisa.web.seed import seed_demo
from condivisa.web.seed_civic import (
    ANNOUNCEMENT_TITLE,
    CALL_TITLE,
    INSTALLER_PROFILE,
    PROMOTING_CER,
    ROOF_PROFILE,
    seed_civic_demo,
)
from tests.web.conftest import csrf_from

BASE = "/comune/borgo-demo"
EVENTS = (
    "Comunità energetiche: come funzionano e come aderire",
    "Formazione del personale: registro CER e sportello energia",
    "A scuola di energia: il sole sul tetto della Rodari",
    "Tavolo di lavoro sulla transizione energetica locale",
)
ANSWERS = {
    "subject": "household",
    "goal": "both",
    "region": "Piemonte",
    "cabina": "AC001E00123",
    "tenure": "owner",
    "building": "house",
    "roof": "yes",
    "roof_area_m2": "30",
    "orientation": "sud",
    "yearly_kwh": "3.200",
    "yearly_bill_eur": "",
    "budget_eur": "9.000",
    "assembly": "unknown",
    "small_municipality": "yes",
}


def _page(client: TestClient, path: str) -> str:
    response = client.get(BASE + path)
    assert response.status_code == 200, (path, response.text[:300])
    return html.unescape(response.text)


def test_seed_civic_demo_is_idempotent_and_shown(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'civic.db'}"
    upgrade(url)
    engine = make_engine(url)
    seed_demo(engine, days=3)
    today = dt.datetime.now(ZoneInfo("Europe/Rome")).date()
    first = seed_civic_demo(engine, today=today)
    assert first["municipalities"] == 0  # seed_demo made Borgo Demo
    assert first["desk_offices"] == 2 and 6 <= first["desk_slots"] <= 60 and first["desk_slots"] % 6 == 0
    assert first["register_entries"] == 2
    assert first["match_profiles"] == 3 and first["match_calls"] == 1
    assert first["buildings"] == 12 and first["building_rankings"] == 1
    assert first["events"] == 4 and first["announcements"] == 1
    second = seed_civic_demo(engine, today=today)
    assert set(second) == set(first) and all(v == 0 for v in second.values()), second
    engine.dispose()

    with TestClient(create_app(url, secret_key="x" * 20)) as client:
        # help desk: the questionnaire, then the result offers the seeded offices' free slots
        form = client.get(f"{BASE}/sportello")
        assert form.status_code == 200
        result = client.post(f"{BASE}/sportello", data={"csrf_token": csrf_from(form.text), **ANSWERS})
        assert result.status_code == 200, result.text[:300]
        assert "Sportello Centro" in result.text and "Sportello Borgo Nuovo" in result.text

        register = _page(client, "/registro")
        assert "CER Borgo Demo" in register and PROMOTING_CER in register
        geo = client.get(f"{BASE}/registro.geojson")
        assert geo.status_code == 200
        features = {f["properties"]["nome"]: f for f in geo.json()["features"]}
        demo = features["CER Borgo Demo"]
        assert demo["geometry"]["type"] == "Polygon" and demo["properties"]["stato"] == "operating"
        assert demo["properties"]["potenza_totale_kw"] == 260 and demo["properties"]["soci"] > 30
        assert features[PROMOTING_CER]["properties"]["stato"] == "promoting"

        matching = _page(client, "/incontri")
        assert all(name in matching for name in ("CER Borgo Demo", ROOF_PROFILE, INSTALLER_PROFILE))
        assert CALL_TITLE in _page(client, "/manifestazioni")

        buildings = _page(client, "/edifici")
        assert len(re.findall(r'<tr data-code="', buildings)) == 12
        assert "non ancora calcolato" not in buildings and 'id="stale"' not in buildings

        events = _page(client, "/eventi")
        assert all(title in events for title in EVENTS) and ANNOUNCEMENT_TITLE in events
