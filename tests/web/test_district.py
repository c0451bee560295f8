"""Pages of the balance and of district energy management: public balance with factors' sources and years, officer
forms (422 on bad input), district pages, and who may see what."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from condivisa.store import district as ds
from condivisa.store import make_engine, session_factory
from condivisa.store.inventories import seed_demo_balance
from condivisa.store.municipalities import municipality_by_slug
from tests.energy_management.test_baseline import baseline_year, daily_temperature
from tests.energy_management.test_savings import reporting_year
from tests.web.conftest import ROLES, World, csrf_from

TEAM_PERSON = "Ginevra Quercioli-Tassinari"


def _values(series: pd.Series) -> dict[dt.date, float]:
    return {pd.Timestamp(k).date(): float(v) for k, v in series.items()}


@pytest.fixture(scope="module")
def districts(world: World) -> dict[str, int]:
    """The demo balance, a district of Borgo Demo holding the known dataset, and a district of Altrove."""
    engine = make_engine(world.url)
    seed_demo_balance(engine)
    with session_factory(engine)() as s:
        borgo = municipality_by_slug(s, "borgo-demo")
        altrove = municipality_by_slug(s, "altrove")
        did = ds.create_district(s, borgo.id, f"Quartiere scuole {id(world)}")
        site = ds.add_site(s, did, "S1", "Scuola media")
        meter = ds.add_meter(s, site, "CAL", "heat", "kWh", use="riscaldamento")
        temp = ds.add_variable(s, did, "temperatura", "temperature")
        act = ds.add_variable(s, did, "activity", "activity")
        c24, d24 = baseline_year()
        a25, d25, _ = reporting_year()
        ds.import_meter_values(s, meter, _values(c24) | _values(a25))
        ds.import_variable_values(s, temp, _values(pd.concat([daily_temperature(2024), daily_temperature(2025, 0.8)])))
        ds.import_variable_values(s, act, _values(pd.concat([d24["activity"], d25["activity"]])))
        ds.add_team_member(s, did, TEAM_PERSON, "energy manager")
        other = ds.create_district(s, altrove.id, f"Centro Altrove {id(world)}")
    engine.dispose()
    return {"borgo": did, "altrove": other}


def test_public_balance_shows_factors_sources_and_years(
    clients: dict[str, TestClient], districts: dict[str, int]
) -> None:
    page = clients["anonymous"].get("/comune/borgo-demo/bilancio")
    assert page.status_code == 200
    html = page.text
    assert "inventory-2005-baseline" in html and "inventory-2025-monitoring" in html
    assert "ISPRA" in html and 'data-carrier="electricity" data-year="2005"' in html
    assert 'data-carrier="natural_gas"' in html
    assert "no: da verificare" in html  # the verified marker of approximate factors
    assert "non presente, uso quello del" in html  # the year fallback note is shown
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="chart-emissions"' in html
    assert not re.search(r'(src|href)="https?://', html)  # nothing from another host
    assert TEAM_PERSON not in html and "manage-link" not in html
    # The grand total of the emissions table is the sum of the sector totals as shown.
    table = html.split('id="emissions-2025-monitoring"')[1].split("</table>")[0]
    rows = re.findall(r"<td class=\"num\"><strong>([\d.,]+)</strong></td>", table)
    total = re.search(r'class="num grand-total">([\d.,]+)<', table)
    assert rows and total

    def it(x: str) -> float:
        return float(x.replace(".", "").replace(",", "."))

    assert sum(it(r) for r in rows) == pytest.approx(it(total.group(1)), abs=0.1 * len(rows))


def test_report_html_and_pdf(clients: dict[str, TestClient], districts: dict[str, int]) -> None:
    html = clients["anonymous"].get("/comune/borgo-demo/bilancio/report.html")
    assert html.status_code == 200 and "ISPRA" in html.text and "Koffi" in html.text
    pdf = clients["anonymous"].get("/comune/borgo-demo/bilancio/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"


def test_who_may_see_what(clients: dict[str, TestClient], districts: dict[str, int]) -> None:
    did = districts["borgo"]
    public = ["/comune/borgo-demo/bilancio", "/comune/borgo-demo/bilancio/report.html", "/comune/altrove/bilancio"]
    officer = [
        "/comune/borgo-demo/bilancio/gestione",
        "/comune/borgo-demo/distretti",
        f"/districts/{did}",
        f"/districts/{did}/sites",
        f"/districts/{did}/baseline",
        f"/districts/{did}/savings",
        f"/districts/{did}/review",
        f"/districts/{did}/team",
    ]
    expected_officer = {"admin": 200, "officer_a": 200, "manager_a": 403, "manager_b": 403, "member_a": 403}
    for role in ROLES:
        client = clients[role]
        for url in public:
            assert client.get(url).status_code == 200, (role, url)
        for url in officer:
            status = client.get(url).status_code
            assert status == expected_officer.get(role, 303), (role, url, status)
    # Borgo Demo's officer runs nothing of Altrove.
    alt = districts["altrove"]
    for url in [
        "/comune/altrove/bilancio/gestione",
        "/comune/altrove/distretti",
        f"/districts/{alt}",
        f"/districts/{alt}/team",
    ]:
        assert clients["officer_a"].get(url).status_code == 403, url
        assert clients["admin"].get(url).status_code == 200, url
    token = csrf_from(clients["officer_a"].get("/comune/borgo-demo/bilancio/gestione").text)
    posts = [
        (
            "/comune/altrove/bilancio/gestione",
            {"kind": "baseline", "year": "2010", "rows": "residential;electricity;1"},
        ),
        ("/comune/altrove/distretti", {"name": "Intruso"}),
        (f"/districts/{alt}/sites", {"code": "X", "name": "Intruso"}),
        (f"/districts/{alt}/team/members", {"name": "Intruso", "role": "x"}),
        (f"/districts/{alt}/check", {}),
    ]
    for url, data in posts:
        assert clients["officer_a"].post(url, data={"csrf_token": token, **data}).status_code == 403, url
    assert clients["anonymous"].get("/districts/999999").status_code == 303
    assert clients["admin"].get("/districts/999999").status_code == 404
    # The team's names are for officers only.
    assert TEAM_PERSON in clients["officer_a"].get(f"/districts/{did}/team").text
    assert TEAM_PERSON not in clients["anonymous"].get("/comune/borgo-demo/bilancio").text


def test_officer_saves_an_inventory_and_bad_rows_are_named(
    clients: dict[str, TestClient], districts: dict[str, int], world: World
) -> None:
    client = clients["officer_a"]
    token = csrf_from(client.get("/comune/borgo-demo/bilancio/gestione").text)
    bad = client.post(
        "/comune/borgo-demo/bilancio/gestione",
        data={
            "csrf_token": token,
            "kind": "monitoring",
            "year": "2020",
            "rows": "residential;electricity;12\ncasa;gas;x",
        },
    )
    assert bad.status_code == 422
    assert "riga 2" in bad.text and "settore" in bad.text and "casa" in bad.text
    assert "residential;electricity;12" in bad.text  # the form is re-shown with what was typed
    good = client.post(
        "/comune/borgo-demo/bilancio/gestione",
        data={
            "csrf_token": token,
            "kind": "monitoring",
            "year": "2020",
            "population": "4100",
            "rows": "residential;electricity;9000\nresidential;natural_gas;30.000,5\npublic_lighting;electricity;400",
            "production": "pv;800",
            "shared_energy_mwh": "100",
        },
    )
    assert good.status_code == 303 and good.headers["location"] == "/comune/borgo-demo/bilancio"
    page = client.get("/comune/borgo-demo/bilancio").text
    assert "inventory-2020-monitoring" in page
    missing_csrf = client.post("/comune/borgo-demo/bilancio/gestione", data={"kind": "baseline", "year": "2020"})
    assert missing_csrf.status_code == 403
    # A community's inventory from its stored settlements.
    ok = client.post(
        "/comune/borgo-demo/bilancio/gestione/comunita",
        data={"csrf_token": token, "community_id": str(world.a), "year": "2025"},
    )
    assert ok.status_code == 303
    wrong = client.post(
        "/comune/borgo-demo/bilancio/gestione/comunita",
        data={"csrf_token": token, "community_id": str(world.b), "year": "2025"},
    )
    assert wrong.status_code == 422


def test_district_forms_fit_verify_review(clients: dict[str, TestClient], districts: dict[str, int]) -> None:
    did = districts["borgo"]
    client = clients["officer_a"]
    token = csrf_from(client.get(f"/districts/{did}/baseline").text)
    bad = client.post(
        f"/districts/{did}/baseline",
        data={
            "csrf_token": token,
            "carrier": "heat",
            "start": "2024-01-01",
            "end": "2024-12-31",
            "variables": "hdd,nessuna",
        },
    )
    assert bad.status_code == 422 and "nessuna" in bad.text
    fit = client.post(
        f"/districts/{did}/baseline",
        data={
            "csrf_token": token,
            "carrier": "heat",
            "start": "2024-01-01",
            "end": "2024-12-31",
            "variables": "hdd, activity",
            "name": "Calore 2024",
        },
    )
    assert fit.status_code == 303
    page = client.get(f"/districts/{did}/baseline").text
    assert "Baseline accettata" in page and 'data-name="hdd">12,0' in page and 'data-name="activity">3,0' in page
    bid = int(re.findall(r'id="baseline-(\d+)"', page)[0])
    enpi = client.post(
        f"/districts/{did}/enpis",
        data={"csrf_token": token, "baseline_id": str(bid), "name": "Calore / atteso", "kind": "regression",
              "target_value": "0,85", "start": "2025-01-01", "due": "2025-12-31"},
    )  # fmt: skip
    assert enpi.status_code == 303
    savings = client.post(
        f"/districts/{did}/savings",
        data={"csrf_token": token, "baseline_id": str(bid), "start": "2025-01-01", "end": "2025-12-31"},
    )
    assert savings.status_code == 303
    text = client.get(f"/districts/{did}/savings").text
    _, _, known = reporting_year()
    shown = re.search(r'class="avoided">([\d.]+) ±', text)
    assert shown and float(shown.group(1).replace(".", "")) == pytest.approx(known, rel=0.03)
    overlap = client.post(
        f"/districts/{did}/savings",
        data={"csrf_token": token, "baseline_id": str(bid), "start": "2024-06-01", "end": "2024-12-31"},
    )
    assert overlap.status_code == 422 and "deve seguire la baseline" in overlap.text
    review = client.post(
        f"/districts/{did}/review",
        data={"csrf_token": token, "baseline_id": str(bid), "start": "2025-01-01", "end": "2025-12-31",
              "review_date": "2026-02-10", "decisions": "Rinnovare la centrale termica"},
    )  # fmt: skip
    assert review.status_code == 303
    assert "Rinnovare la centrale termica" in client.get(f"/districts/{did}/review").text
    check = client.post(f"/districts/{did}/check", data={"csrf_token": token})
    assert check.status_code == 303
    overview = client.get(f"/districts/{did}").text
    assert 'id="checks"' in overview
    bad_site = client.post(f"/districts/{did}/sites", data={"csrf_token": token, "code": "S1", "name": "Doppio"})
    assert bad_site.status_code == 422 and "esiste già" in bad_site.text
    upload = client.post(
        f"/districts/{did}/import",
        data={"csrf_token": token, "target": "long"},
        files={
            "file": (
                "letture.csv",
                b"pod,timestamp,withdrawn_kwh,injected_kwh\nIT001E12121212,2025-01-01T00:00:00+01:00,1,0\n",
            )
        },
    )
    assert upload.status_code == 422 and "POD senza contatore" in upload.text
