"""Pages of the register: public register, map data and open data, registration and manage link, office review,
label criteria and label review; authorization of every route for every role; no personal data leaks."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import secrets
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from condivisa.civic.register import CSV_COLUMNS, validate_entry
from condivisa.store import make_engine, session_factory
from condivisa.store.models_register import RegisterEntryRow
from condivisa.store.municipalities import municipality_by_slug
from condivisa.store.register import (
    award_label,
    get_application,
    publish_entry,
    register_entry,
    submit_application,
)
from tests.web.conftest import ROLES, World, csrf_from

AREA = {"type": "Polygon", "coordinates": [[[7.68, 45.06], [7.70, 45.06], [7.70, 45.08], [7.68, 45.08], [7.68, 45.06]]]}
SECRET_EMAIL = "privato.segreteria@cer-riservata.it"
PUBLIC_EMAIL = "info@cer-pubblica.it"
REVIEW_NOTE = "nota-interna-del-revisore"
EVIDENCE = {
    "famiglie_vulnerabili": {"value": 15.0, "note": "elenco"},
    "filiera_locale": {"value": True, "note": ""},
    "assemblee_aperte": {"value": 3.0, "note": ""},
    "regolamento_pubblicato": {"value": True, "note": "https://cer.it/reg"},
    "fondo_poverta_energetica": {"value": 6.0, "note": ""},
}


@dataclass(frozen=True)
class Data:
    tag: str
    borgo_entry: int
    borgo_token: str
    borgo_application: int
    expired_entry: int
    pending_entry: int
    altrove_entry: int
    altrove_token: str
    altrove_application: int
    officer_id: int


def _admin_id(world: World) -> int:
    from condivisa.store import get_user_by_email

    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        user = get_user_by_email(s, email=world.emails["admin"])
        assert user is not None
        uid = user.id
    engine.dispose()
    return uid


@pytest.fixture(scope="module")
def data(world: World) -> Data:
    tag = secrets.token_hex(3)
    uid = _admin_id(world)
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        borgo = municipality_by_slug(s, "borgo-demo").id
        altrove = municipality_by_slug(s, "altrove").id

        def published(mid: int, name: str, **extra: str) -> tuple[int, str]:
            fields = {"name": name, "configuration": "CER", "status": "operating", **extra}
            entry_id, token = register_entry(s, mid, validate_entry(fields))
            row = s.get(RegisterEntryRow, entry_id)
            assert row is not None
            publish_entry(s, row, user_id=uid)
            return entry_id, token

        b_id, b_token = published(
            borgo, f"CER Riservata {tag}", contact_email=SECRET_EMAIL, cabina_area=json.dumps(AREA)
        )
        row = s.get(RegisterEntryRow, b_id)
        assert row is not None
        b_app = submit_application(s, row, EVIDENCE)
        exp_id, _ = published(
            borgo,
            f"CER Scaduta {tag}",
            configuration="AUC",
            latitude="45.07",
            longitude="7.69",
            contact_email=PUBLIC_EMAIL,
            contact_public="on",
        )
        row = s.get(RegisterEntryRow, exp_id)
        assert row is not None
        old = get_application(s, borgo, submit_application(s, row, EVIDENCE))
        award_label(s, old, user_id=uid, awarded_on=dt.date(2020, 1, 10), review={}, note=REVIEW_NOTE)
        pending_id, _ = register_entry(
            s, borgo, validate_entry({"name": f"CER In Attesa {tag}", "configuration": "CER", "status": "promoting"})
        )
        a_id, a_token = published(altrove, f"CER Altrove {tag}")
        row = s.get(RegisterEntryRow, a_id)
        assert row is not None
        a_app = submit_application(s, row, EVIDENCE)
    engine.dispose()
    return Data(tag, b_id, b_token, b_app, exp_id, pending_id, a_id, a_token, a_app, uid)


def csrf(client: TestClient) -> str:
    return csrf_from(client.get("/comune/borgo-demo/registro/iscrizione").text)


def public_routes(d: Data) -> list[str]:
    return [
        "/comune/borgo-demo/registro",
        "/comune/borgo-demo/registro?status=operating&configuration=CER&label=no&q=cer",
        "/comune/borgo-demo/registro.csv",
        "/comune/borgo-demo/registro.geojson",
        "/comune/borgo-demo/registro/iscrizione",
        f"/comune/borgo-demo/registro/{d.borgo_entry}",
        f"/comune/borgo-demo/registro/gestisci/{d.borgo_token}",
    ]


def officer_routes(d: Data) -> list[str]:
    return [
        "/comune/borgo-demo/registro/gestione",
        "/comune/borgo-demo/registro/gestione/nuova",
        f"/comune/borgo-demo/registro/gestione/{d.borgo_entry}/modifica",
        "/comune/borgo-demo/registro/criteri",
        f"/comune/borgo-demo/registro/etichetta/{d.borgo_application}",
    ]


def test_authorization_of_every_get_route(clients: dict[str, TestClient], data: Data) -> None:
    expected_officer = {
        "admin": 200,
        "officer_a": 200,
        "manager_a": 403,
        "manager_b": 403,
        "member_a": 403,
        "anonymous": 303,
    }
    for role in ROLES:
        client = clients[role]
        for url in public_routes(data):
            assert client.get(url).status_code == 200, (role, url)
        for url in officer_routes(data):
            response = client.get(url)
            assert response.status_code == expected_officer[role], (role, url, response.status_code)
            if role == "anonymous":
                assert response.headers["location"].startswith("/login")
        # an entry waiting for review is not public
        pending = client.get(f"/comune/borgo-demo/registro/{data.pending_entry}").status_code
        assert pending == (200 if role in ("admin", "officer_a") else 404), role
    # officer of Borgo Demo on Altrove's office pages
    officer = clients["officer_a"]
    for url in [
        "/comune/altrove/registro/gestione",
        "/comune/altrove/registro/criteri",
        f"/comune/altrove/registro/etichetta/{data.altrove_application}",
        f"/comune/altrove/registro/gestione/{data.altrove_entry}/modifica",
    ]:
        assert officer.get(url).status_code == 403, url
    assert clients["admin"].get("/comune/altrove/registro/gestione").status_code == 200
    # objects of another municipality are not found under this one
    assert officer.get(f"/comune/borgo-demo/registro/etichetta/{data.altrove_application}").status_code == 404
    assert officer.get(f"/comune/borgo-demo/registro/{data.altrove_entry}").status_code == 404
    assert clients["anonymous"].get("/comune/nessuno/registro").status_code == 404
    assert clients["anonymous"].get("/comune/borgo-demo/registro/gestisci/token-sbagliato").status_code == 404


def test_officer_actions_are_refused_to_others(clients: dict[str, TestClient], data: Data) -> None:
    posts = [
        (f"/comune/altrove/registro/gestione/{data.altrove_entry}/pubblica", {}),
        (f"/comune/altrove/registro/gestione/{data.altrove_entry}/rifiuta", {"reason": "no"}),
        ("/comune/altrove/registro/gestione/nuova", {"name": "X", "configuration": "CER", "status": "operating"}),
        ("/comune/altrove/registro/criteri", {"criterion_id": "", "code": "x", "title": "X", "kind": "boolean"}),
        ("/comune/altrove/registro/criteri/impostazioni", {"min_score_pct": "10", "validity_years": "5"}),
        (
            f"/comune/altrove/registro/etichetta/{data.altrove_application}",
            {"decision": "award", "awarded_on": "2026-01-01"},
        ),
    ]
    for role, status in [("officer_a", 403), ("manager_a", 403), ("manager_b", 403), ("member_a", 403)]:
        client = clients[role]
        token = csrf(client)
        for url, fields in posts:
            response = client.post(url, data={"csrf_token": token, **fields})
            assert response.status_code == status, (role, url, response.status_code)
    anonymous = clients["anonymous"]
    token = csrf(anonymous)
    for url, fields in posts:
        assert anonymous.post(url, data={"csrf_token": token, **fields}).status_code == 303
    # nothing changed: Altrove's application still waits
    assert (
        "in valutazione" in clients["admin"].get(f"/comune/altrove/registro/etichetta/{data.altrove_application}").text
    )
    # without the CSRF token even the officer is refused
    response = clients["officer_a"].post(f"/comune/borgo-demo/registro/gestione/{data.pending_entry}/pubblica")
    assert response.status_code == 403


def test_registration_validation_and_manage_link(clients: dict[str, TestClient], data: Data) -> None:
    anonymous = clients["anonymous"]
    token = csrf(anonymous)
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    form = {
        "csrf_token": token,
        "name": f"CER Nuova {data.tag}",
        "configuration": "CER",
        "status": "promoting",
        "cabina_area": json.dumps(bowtie),
        "plants": "fotovoltaico; 40; Palestra",
    }
    response = anonymous.post("/comune/borgo-demo/registro/iscrizione", data=form)
    assert response.status_code == 422
    assert "<code>cabina_area</code>: poligono non valido" in response.text
    assert f"CER Nuova {data.tag}" in response.text and "Palestra" in response.text  # form re-shown with values
    assert 'class="field-error"' in response.text

    form["cabina_area"] = json.dumps(AREA)
    response = anonymous.post("/comune/borgo-demo/registro/iscrizione", data=form)
    assert response.status_code == 303
    manage = response.headers["location"]
    assert re.fullmatch(r"/comune/borgo-demo/registro/gestisci/[A-Za-z0-9_-]{20,}", manage)
    page = anonymous.get(manage)
    assert page.status_code == 200 and "Iscrizione ricevuta" in page.text and manage in page.text
    assert 'data-publication="submitted"' in page.text
    assert f"CER Nuova {data.tag}" not in anonymous.get("/comune/borgo-demo/registro").text
    # the link works under its own municipality only
    token_part = manage.rsplit("/", 1)[1]
    assert anonymous.get(f"/comune/altrove/registro/gestisci/{token_part}").status_code == 404
    # the label needs a published entry
    response = anonymous.post(manage + "/etichetta", data={"csrf_token": token, "value_famiglie_vulnerabili": "20"})
    assert response.status_code == 422 and "pubblicata" in response.text


def test_manage_token_edits_its_own_entry_only(clients: dict[str, TestClient], data: Data, world: World) -> None:
    client = clients["member_a"]  # any visitor holding the link; a login changes nothing
    token = csrf(client)
    url = f"/comune/borgo-demo/registro/gestisci/{data.altrove_token}"
    assert client.get(f"/comune/borgo-demo/registro/gestisci/{data.altrove_token}").status_code == 404
    url = f"/comune/altrove/registro/gestisci/{data.altrove_token}"
    page = client.get(url)
    assert f"CER Altrove {data.tag}" in page.text and f"CER Riservata {data.tag}" not in page.text
    fields = {
        "csrf_token": token,
        "name": f"CER Altrove rinominata {data.tag}",
        "configuration": "CER",
        "status": "operating",
        "entry_id": str(data.borgo_entry),
        "id": str(data.borgo_entry),
    }
    assert client.post(url, data=fields).status_code == 303
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        altrove = s.get(RegisterEntryRow, data.altrove_entry)
        borgo = s.get(RegisterEntryRow, data.borgo_entry)
        assert altrove is not None and borgo is not None
        assert altrove.name == f"CER Altrove rinominata {data.tag}" and altrove.publication == "submitted"
        assert borgo.name == f"CER Riservata {data.tag}" and borgo.publication == "published"
        # put Altrove's entry back as it was for the other tests
        altrove.name = f"CER Altrove {data.tag}"
        altrove.publication = "published"
        s.commit()
    engine.dispose()
    # a bad edit is re-shown with the message
    response = client.post(url, data={**fields, "website": "ftp://x"})
    assert response.status_code == 422 and "<code>website</code>" in response.text


def test_register_filters_map_and_badges(clients: dict[str, TestClient], data: Data) -> None:
    client = clients["anonymous"]
    page = client.get("/comune/borgo-demo/registro").text
    assert f"CER Riservata {data.tag}" in page and f"CER Scaduta {data.tag}" in page
    assert f"CER In Attesa {data.tag}" not in page
    assert 'src="/static/leaflet/leaflet.js"' in page and "tile" not in page.lower()
    assert 'data-label="expired"' in page and "Etichetta scaduta" in page
    map_json = re.search(r'<script type="application/json" id="register-map-data">(.*?)</script>', page, re.S)
    assert map_json
    features = json.loads(map_json.group(1))["features"]
    names = {f["properties"]["nome"]: f["geometry"]["type"] for f in features}
    assert names[f"CER Riservata {data.tag}"] == "Polygon" and names[f"CER Scaduta {data.tag}"] == "Point"

    auc = client.get("/comune/borgo-demo/registro", params={"configuration": "AUC"}).text
    assert f"CER Scaduta {data.tag}" in auc and f"CER Riservata {data.tag}" not in auc
    auc_map = json.loads(re.search(r'id="register-map-data">(.*?)</script>', auc, re.S).group(1))  # type: ignore[union-attr]
    assert all(f["properties"]["configurazione"] == "AUC" for f in auc_map["features"])
    searched = client.get("/comune/borgo-demo/registro", params={"q": f"riservata {data.tag}"}).text
    assert f"CER Riservata {data.tag}" in searched and f"CER Scaduta {data.tag}" not in searched
    expired_is_not_valid = client.get("/comune/borgo-demo/registro", params={"label": "yes"}).text
    assert f"CER Scaduta {data.tag}" not in expired_is_not_valid
    odd = client.get("/comune/borgo-demo/registro", params={"status": "boh"})
    assert odd.status_code == 200 and "filtro ignorato" in odd.text


def test_open_data_has_no_private_data(clients: dict[str, TestClient], data: Data, world: World) -> None:
    client = clients["anonymous"]
    csv_text = client.get("/comune/borgo-demo/registro.csv").text
    rows = {r["nome"]: r for r in csv.DictReader(io.StringIO(csv_text))}
    assert tuple(next(csv.reader(io.StringIO(csv_text)))) == CSV_COLUMNS
    assert rows[f"CER Scaduta {data.tag}"]["email_contatto"] == PUBLIC_EMAIL
    assert rows[f"CER Scaduta {data.tag}"]["etichetta"] == "scaduta"
    assert rows[f"CER Scaduta {data.tag}"]["etichetta_scadenza"] == "2022-01-10"
    assert rows[f"CER Riservata {data.tag}"]["email_contatto"] == ""
    geo = client.get("/comune/borgo-demo/registro.geojson")
    assert geo.headers["content-type"].startswith("application/geo+json")
    collection = geo.json()
    assert collection["type"] == "FeatureCollection"
    pages = [
        csv_text,
        geo.text,
        client.get("/comune/borgo-demo/registro").text,
        client.get(f"/comune/borgo-demo/registro/{data.borgo_entry}").text,
        client.get(f"/comune/borgo-demo/registro/{data.expired_entry}").text,
    ]
    for text in pages:
        assert SECRET_EMAIL not in text
        assert data.borgo_token not in text and data.altrove_token not in text
        assert REVIEW_NOTE not in text
        assert "officer" not in text.lower() and "admin" not in text.lower()
        citizens = [n for n in world.a_other_names if "Borgo Demo" not in n][:10] + world.b_names[:5]
        for name in citizens:
            assert name not in text
        for email in world.emails.values():
            assert email not in text
    assert f"CER Altrove {data.tag}" not in csv_text  # another municipality
    assert PUBLIC_EMAIL in pages[4]


def test_criteria_pages_and_422(clients: dict[str, TestClient]) -> None:
    officer = clients["officer_a"]
    page = officer.get("/comune/borgo-demo/registro/criteri")
    assert "famiglie_vulnerabili" in page.text and "Regolamento n. 413" in page.text
    token = csrf_from(page.text)
    bad = officer.post(
        "/comune/borgo-demo/registro/criteri",
        data={
            "csrf_token": token,
            "criterion_id": "",
            "code": "nuovo_x",
            "title": "Nuovo",
            "kind": "min_share",
            "threshold": "150",
            "weight": "1",
            "active": "on",
        },
    )
    assert bad.status_code == 422 and "<code>soglia</code>" in bad.text
    bad = officer.post(
        "/comune/borgo-demo/registro/criteri/impostazioni",
        data={"csrf_token": token, "min_score_pct": "abc", "validity_years": "2"},
    )
    assert bad.status_code == 422 and "<code>min_score_pct</code>" in bad.text


def test_label_review_award_and_refusal(clients: dict[str, TestClient], data: Data) -> None:
    officer = clients["officer_a"]
    page = officer.get(f"/comune/borgo-demo/registro/etichetta/{data.borgo_application}")
    assert 'data-eligible="yes">idonea' in page.text
    token = csrf_from(page.text)
    url = f"/comune/borgo-demo/registro/etichetta/{data.borgo_application}"
    bad = officer.post(url, data={"csrf_token": token, "decision": "refuse", "reason": ""})
    assert bad.status_code == 422 and "<code>reason</code>" in bad.text
    bad = officer.post(url, data={"csrf_token": token, "decision": "award", "awarded_on": "ieri"})
    assert bad.status_code == 422 and "<code>awarded_on</code>" in bad.text
    today = dt.date.today()
    done = officer.post(
        url,
        data={
            "csrf_token": token,
            "decision": "award",
            "awarded_on": today.isoformat(),
            "met_famiglie_vulnerabili": "yes",
            "note_famiglie_vulnerabili": REVIEW_NOTE,
        },
    )
    assert done.status_code == 303
    again = officer.post(url, data={"csrf_token": token, "decision": "award", "awarded_on": today.isoformat()})
    assert again.status_code == 422
    page = clients["anonymous"].get(f"/comune/borgo-demo/registro/{data.borgo_entry}").text
    expiry = (
        today.replace(year=today.year + 2)
        if not (today.month == 2 and today.day == 29)
        else dt.date(today.year + 2, 2, 28)
    )
    assert 'data-label="valid"' in page
    assert expiry.strftime("%d/%m/%Y") in page and today.strftime("%d/%m/%Y") in page
    assert REVIEW_NOTE not in page
    manage = clients["anonymous"].get(f"/comune/borgo-demo/registro/gestisci/{data.borgo_token}").text
    assert 'data-label="valid"' in manage and REVIEW_NOTE not in manage


def test_office_adds_and_links_a_stored_community(clients: dict[str, TestClient], data: Data, world: World) -> None:
    officer = clients["officer_a"]
    page = officer.get("/comune/borgo-demo/registro/gestione/nuova")
    token = csrf_from(page.text)
    fields = {
        "csrf_token": token,
        "name": f"CER Demo ufficio {data.tag}",
        "configuration": "CER",
        "status": "operating",
        "members_count": "3",
        "community_id": str(world.b),
    }
    bad = officer.post("/comune/borgo-demo/registro/gestione/nuova", data=fields)
    assert bad.status_code == 422 and "<code>community_id</code>" in bad.text  # Altrove's community
    fields["community_id"] = str(world.a)
    response = officer.post("/comune/borgo-demo/registro/gestione/nuova", data=fields)
    assert response.status_code == 303
    detail = clients["anonymous"].get(response.headers["location"]).text
    assert "dati aggiornati dalla piattaforma" in detail  # live members count from the stored community
    assert ">39<" in detail or "39 " in detail
