"""Pages of the public buildings service: officer import (errors listed, 422), public ranked table and map, detail,
report HTML/PDF, who may do what, and no personal data on public pages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import ROLES, World, csrf_from

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SLUG = "borgo-demo"
BASE = f"/comune/{SLUG}/edifici"
PRIVATE_EMAIL = "referente.privato@example.it"


def _token(client: TestClient) -> str:
    """A CSRF token of the client's session (any page with a form)."""
    page = client.get("/login", follow_redirects=True)
    if 'name="csrf_token"' not in page.text:
        page = client.get(BASE)
    return csrf_from(page.text)


def _upload(client: TestClient, name: str, content: bytes, slug: str = SLUG) -> object:
    return client.post(
        f"/comune/{slug}/edifici/importa",
        data={"csrf_token": _token(client)},
        files={"file": (name, content, "text/csv")},
    )


@pytest.fixture(scope="module")
def imported(clients: dict[str, TestClient]) -> None:
    """The example CSV imported by officer_a through the page, with an extra private column that must vanish."""
    lines = (EXAMPLES / "edifici-pubblici.csv").read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",referente"] + [line + f",{PRIVATE_EMAIL}" for line in lines[1:]]
    response = _upload(clients["officer_a"], "edifici-pubblici.csv", ("\n".join(lines) + "\n").encode())
    assert response.status_code == 303, response.text[:2000]  # type: ignore[attr-defined]
    assert response.headers["location"] == BASE  # type: ignore[attr-defined]


def test_public_page_shows_ranked_table_and_map(imported: None, clients: dict[str, TestClient]) -> None:
    page = clients["anonymous"].get(BASE)
    assert page.status_code == 200
    html = page.text
    assert 'id="buildings-table"' in html
    rows = re.findall(r'<tr data-code="([A-Z0-9]+)">', html)
    assert len(rows) == 12 and set(rows) >= {"MUN01", "SCP01", "CIM01"}
    assert "/static/leaflet/leaflet.js" in html and 'id="buildings-map"' in html
    data = json.loads(re.search(r'id="buildings-map-data">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert len(data["features"]) == 12
    assert {f["properties"]["rank"] for f in data["features"]} == set(range(1, 13))
    assert all(f["geometry"]["type"] == "Point" for f in data["features"])  # CSV: no footprints
    # Italian number formats: thousands with a dot, decimals with a comma
    assert re.search(r'class="num">\d{1,3}\.\d{3}</td>', html)
    assert re.search(r'class="num"><strong>\d+,\d</strong>', html)
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from another host


def test_officer_sees_import_and_recompute(imported: None, clients: dict[str, TestClient]) -> None:
    html = clients["officer_a"].get(BASE).text
    assert 'id="import-link"' in html and 'id="recompute"' in html
    assert 'id="import-link"' not in clients["member_a"].get(BASE).text


def test_detail_page_has_chart_and_explained_score(imported: None, clients: dict[str, TestClient]) -> None:
    page = clients["anonymous"].get(f"{BASE}/SCP01")
    assert page.status_code == 200
    assert "Scuola primaria &#34;G. Rodari&#34;" in page.text or "Rodari" in page.text
    assert "<svg" in page.text and 'class="monthly-chart"' in page.text
    assert 'id="score-table"' in page.text and "Energia condivisa con i vicini" in page.text
    assert clients["anonymous"].get(f"{BASE}/NOPE").status_code == 404
    english = TestClient(clients["anonymous"].app, cookies={"condivisa_lang": "en"})
    assert "Shared with neighbours" in english.get(f"{BASE}/SCP01").text


def test_report_html_and_pdf(imported: None, clients: dict[str, TestClient]) -> None:
    page = clients["anonymous"].get(f"{BASE}/report.html")
    assert page.status_code == 200
    assert "Ipotesi e fonti" in page.text and "pvlib" in page.text and "D.M. 414/2023" in page.text
    assert page.text.count("<svg") == 12
    pdf = clients["anonymous"].get(f"{BASE}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_bad_upload_lists_problems_and_stores_nothing(imported: None, clients: dict[str, TestClient]) -> None:
    header = (EXAMPLES / "edifici-pubblici.csv").read_text(encoding="utf-8").splitlines()[0]
    bad = (
        header
        + "\nNEW01,Nuovo,uffici,,45.07,7.69,,0.6,20,180,1000,AC1,,"
        + "\nNEW02,Nuovo 2,uffici,,95,7.69,100,0.6,20,180,-3,AC1,XYZ,\n"
    )
    officer = clients["officer_a"]
    response = _upload(officer, "nuovi.csv", bad.encode())
    assert response.status_code == 422  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    for where in (
        "riga 2, <code>roof_area_m2</code>",
        "riga 3, <code>latitude</code>",
        "riga 3, <code>consumption_kwh_year</code>",
        "riga 3, <code>orientation</code>",
    ):
        assert where in text
    assert "nuovi.csv" in text
    codes = re.findall(r'<tr data-code="([A-Z0-9]+)">', officer.get(BASE).text)
    assert "NEW01" not in codes and len(codes) == 12
    assert _upload(officer, "vuoto.csv", b"").status_code == 422  # type: ignore[attr-defined]
    assert _upload(officer, "latin1.csv", "città".encode("latin-1")).status_code == 422  # type: ignore[attr-defined]


def test_reimport_geojson_updates_and_households_recompute(imported: None, clients: dict[str, TestClient]) -> None:
    officer = clients["officer_a"]
    geo = (EXAMPLES / "edifici-pubblici.geojson").read_bytes()
    response = officer.post(
        f"{BASE}/importa",
        data={"csrf_token": _token(officer)},
        files={"file": ("edifici-pubblici.geojson", geo, "application/geo+json")},
    )
    assert response.status_code == 303
    html = officer.get(BASE).text
    assert "0 nuovi, 12 aggiornati" in html
    data = json.loads(re.search(r'id="buildings-map-data">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert {f["geometry"]["type"] for f in data["features"]} == {"Polygon"}
    shared_before = officer.get(f"{BASE}/MAG01").text
    bad = officer.post(
        f"{BASE}/famiglie", data={"csrf_token": _token(officer), "cabina": "AC001E00124", "households": "molte"}
    )
    assert bad.status_code == 422 and "households" in bad.text
    ok = officer.post(
        f"{BASE}/famiglie",
        data={"csrf_token": _token(officer), "cabina": "AC001E00124", "households": "200", "kwh_per_household": "2700"},
    )
    assert ok.status_code == 303
    assert 'id="households-table"' in officer.get(f"{BASE}/importa").text
    shared_after = officer.get(f"{BASE}/MAG01").text

    def shared(html: str) -> str:
        return re.search(r'id="shared">([^<]+)<', html).group(1)  # type: ignore[union-attr]

    assert shared(shared_before) != shared(shared_after)  # more neighbours' demand, recomputed
    assert officer.post(f"{BASE}/ricalcola", data={"csrf_token": _token(officer)}).status_code == 303


PUBLIC = [BASE, f"{BASE}/MUN01", f"{BASE}/report.html"]
OFFICER_PAGES = [f"{BASE}/importa"]
OFFICER_ACTIONS = ["importa", "famiglie", "ricalcola"]
EXPECTED_OFFICER = {
    "admin": 200,
    "officer_a": 200,
    "manager_a": 403,
    "manager_b": 403,
    "member_a": 403,
    "anonymous": 303,
}


@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(imported: None, clients: dict[str, TestClient], role: str) -> None:
    client = clients[role]
    for url in PUBLIC:
        assert client.get(url).status_code == 200, url
    for url in OFFICER_PAGES:
        response = client.get(url)
        assert response.status_code == EXPECTED_OFFICER[role], (url, response.status_code)
        if role == "anonymous":
            assert response.headers["location"].startswith("/login")
    allowed = EXPECTED_OFFICER[role] == 200
    for action in OFFICER_ACTIONS:
        token = _token(client)
        if action == "importa":
            csv = (EXAMPLES / "edifici-pubblici.csv").read_bytes()
            response = client.post(f"{BASE}/importa", data={"csrf_token": token}, files={"file": ("e.csv", csv)})
        elif action == "famiglie":
            response = client.post(
                f"{BASE}/famiglie", data={"csrf_token": token, "cabina": "AC001E00124", "households": "200"}
            )
        else:
            response = client.post(f"{BASE}/ricalcola", data={"csrf_token": token})
        expected = 303 if allowed or role == "anonymous" else 403
        assert response.status_code == expected, (action, response.status_code)
        if role == "anonymous":
            assert response.headers["location"].startswith("/login")
    # without the CSRF token nobody gets through
    assert client.post(f"{BASE}/ricalcola", data={}).status_code == 403


def test_officer_of_borgo_demo_cannot_run_altrove(clients: dict[str, TestClient]) -> None:
    officer = clients["officer_a"]
    assert officer.get("/comune/altrove/edifici/importa").status_code == 403
    csv = (EXAMPLES / "edifici-pubblici.csv").read_bytes()
    assert _upload(officer, "e.csv", csv, slug="altrove").status_code == 403  # type: ignore[attr-defined]
    for action in ("ricalcola", "famiglie"):
        response = officer.post(
            f"/comune/altrove/edifici/{action}", data={"csrf_token": _token(officer), "cabina": "X"}
        )
        assert response.status_code == 403
    assert clients["admin"].get("/comune/altrove/edifici/importa").status_code == 200
    assert clients["anonymous"].get("/comune/altrove/edifici").status_code == 200
    assert clients["anonymous"].get("/comune/nessuno/edifici").status_code == 404


def test_no_personal_data_on_public_pages(imported: None, world: World, clients: dict[str, TestClient]) -> None:
    for role in ("anonymous", "member_a", "manager_b"):
        for url in PUBLIC:
            html = clients[role].get(url).text
            assert PRIVATE_EMAIL not in html
            for email in world.emails.values():
                assert email not in html
            people = [n for n in world.b_names + world.a_other_names if not n.startswith("Comune di")]
            for name in people:
                assert f">{name}<" not in html and f'"{name}"' not in html
    pdf = clients["anonymous"].get(f"{BASE}/report.pdf").content
    assert PRIVATE_EMAIL.encode() not in pdf
