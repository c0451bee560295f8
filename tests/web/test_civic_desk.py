"""The digital help desk's pages: questionnaire, result, tickets, offices; who may see and do what."""

from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest
from fastapi.testclient import TestClient

from condivisa.store import desk as store
from condivisa.store import make_engine, session_factory
from condivisa.store.municipalities import municipality_by_slug
from tests.web.conftest import ROLES, World, csrf_from

BASE = "/comune/borgo-demo/sportello"
ALTROVE = "/comune/altrove/sportello"

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


def _hidden(html: str) -> dict[str, str]:
    part = html.split('id="contact-form"')[1].split("</form>")[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', part))


def _request_ticket(client: TestClient, base: str = BASE, *, name: str, slot_id: int | None = None) -> str:
    """Fill the desk and ask to be contacted; returns the follow-up path."""
    token = csrf_from(client.get(base).text)
    result = client.post(base, data={"csrf_token": token, **ANSWERS})
    assert result.status_code == 200, result.text[:400]
    form = {
        **_hidden(result.text),
        "contact_name": name,
        "contact_email": f"{name.split()[0].lower()}@example.org",
        "contact_phone": "+39 011 1234567",
        "privacy": "yes",
        "slot_id": "" if slot_id is None else str(slot_id),
    }
    r = client.post(f"{base}/richiesta", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[:400]
    return str(r.headers["location"])


def _ticket_id(world: World, follow_up: str) -> int:
    token = follow_up.rsplit("/", 1)[1]
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        public = store.ticket_by_token(s, token)
        tid = next(t.id for t in store.list_tickets(s, public.municipality_id) if t.token == token)
    engine.dispose()
    return tid


def _slot(world: World, slug: str, office: str, days: int) -> int:
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        town = municipality_by_slug(s, slug)
        existing = [o for o in store.list_offices(s, town.id) if o.name == office]
        office_id = existing[0].id if existing else store.create_office(s, town.id, name=office, address="Via 1").id
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=days, minutes=secrets.randbelow(999))
        slot = store.create_slot(s, town.id, office_id, starts_at=start, ends_at=start + dt.timedelta(minutes=30))
    engine.dispose()
    return slot.id


def test_questionnaire_gives_form_reasons_and_estimate(clients: dict[str, TestClient]) -> None:
    client = clients["anonymous"]
    page = client.get(BASE)
    assert page.status_code == 200 and 'name="subject"' in page.text and 'name="roof_area_m2"' in page.text
    result = client.post(BASE, data={"csrf_token": csrf_from(page.text), **ANSWERS})
    assert result.status_code == 200
    html = result.text
    assert 'data-form="individual"' in html.split('id="recommended"')[1][:60]
    assert "D.Lgs. 199/2021, art. 30" in html and "dietro il tuo contatore" in html
    assert "kWh/kWp" in html and "€" in html
    assert "3.200 kWh" in html  # Italian number format
    assert "CER Borgo Demo" in html  # the community that covers the cabina is the alternative for the surplus


def test_bad_answers_are_shown_with_the_field_422(clients: dict[str, TestClient]) -> None:
    client = clients["anonymous"]
    token = csrf_from(client.get(BASE).text)
    r = client.post(BASE, data={"csrf_token": token, **ANSWERS, "yearly_kwh": "tanti", "region": "Atlantide"})
    assert r.status_code == 422
    assert "<code>yearly_kwh</code>" in r.text and "<code>region</code>" in r.text
    assert 'name="subject"' in r.text  # the form again
    r = client.post(BASE, data={**ANSWERS})
    assert r.status_code == 403  # no CSRF token


def test_contact_needs_consent_and_valid_email(clients: dict[str, TestClient]) -> None:
    client = clients["anonymous"]
    token = csrf_from(client.get(BASE).text)
    result = client.post(BASE, data={"csrf_token": token, **ANSWERS})
    form = {**_hidden(result.text), "contact_name": "Lia Verdi", "contact_email": "non-una-email"}
    r = client.post(f"{BASE}/richiesta", data=form)
    assert r.status_code == 422
    assert "<code>privacy</code>" in r.text and "<code>contact_email</code>" in r.text
    assert 'value="Lia Verdi"' in r.text


def test_ticket_flow_officer_answers_and_citizen_reads(world: World, clients: dict[str, TestClient]) -> None:
    slot_id = _slot(world, "borgo-demo", "Sportello Circoscrizione 3", days=10)
    citizen = clients["anonymous"]
    follow = _request_ticket(citizen, name="Giulia Bianchi", slot_id=slot_id)
    page = citizen.get(follow)
    assert page.status_code == 200 and 'data-status="open"' in page.text
    assert "Sportello Circoscrizione 3" in page.text
    assert "Giulia" not in page.text and "example.org" not in page.text and "1234567" not in page.text

    # the booked slot is not offered again
    result = citizen.post(BASE, data={"csrf_token": csrf_from(citizen.get(BASE).text), **ANSWERS})
    assert f'<option value="{slot_id}"' not in result.text
    again = {**_hidden(result.text), "contact_name": "Altro Nome", "contact_email": "altro@example.org"}
    r = citizen.post(f"{BASE}/richiesta", data={**again, "privacy": "yes", "slot_id": str(slot_id)})
    assert r.status_code == 409 and "non è più disponibile" in r.text

    officer = clients["officer_a"]
    tid = _ticket_id(world, follow)
    listing = officer.get(f"{BASE}/richieste?stato=open")
    assert listing.status_code == 200 and "Giulia Bianchi" in listing.text
    detail = officer.get(f"{BASE}/richieste/{tid}")
    assert detail.status_code == 200 and "giulia@example.org" in detail.text
    csrf = csrf_from(detail.text)
    advisers = re.findall(r'<option value="(\d+)"', detail.text.split('id="adviser_id"')[1].split("</select>")[0])
    assert advisers
    r = officer.post(f"{BASE}/richieste/{tid}/assegna", data={"csrf_token": csrf, "adviser_id": advisers[0]})
    assert r.status_code == 303
    r = officer.post(f"{BASE}/richieste/{tid}/assegna", data={"csrf_token": csrf, "adviser_id": "999999"})
    assert r.status_code == 422
    r = officer.post(f"{BASE}/richieste/{tid}/rispondi", data={"csrf_token": csrf, "answer": ""})
    assert r.status_code == 422 and "<code>answer</code>" in r.text
    answer = "Buongiorno, il suo tetto va bene: la aspettiamo allo sportello."
    r = officer.post(f"{BASE}/richieste/{tid}/rispondi", data={"csrf_token": csrf, "answer": answer})
    assert r.status_code == 303
    assert answer in citizen.get(follow).text
    r = officer.post(f"{BASE}/richieste/{tid}/chiudi", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert 'data-status="closed"' in citizen.get(follow).text
    assert "Giulia Bianchi" not in officer.get(f"{BASE}/richieste?stato=open").text
    assert "Giulia Bianchi" in officer.get(f"{BASE}/richieste?stato=closed").text


def test_officer_manages_offices_and_slots(clients: dict[str, TestClient]) -> None:
    officer = clients["officer_a"]
    assert 'id="officer-tickets"' in officer.get(BASE).text
    assert 'id="officer-tickets"' not in clients["anonymous"].get(BASE).text
    assert 'id="officer-tickets"' not in officer.get(ALTROVE).text
    page = officer.get(f"{BASE}/uffici")
    csrf = csrf_from(page.text)
    name = f"Sportello Borgo Po {secrets.token_hex(3)}"
    r = officer.post(f"{BASE}/uffici", data={"csrf_token": csrf, "name": name, "district": "Borgo Po"})
    assert r.status_code == 303
    r = officer.post(f"{BASE}/uffici", data={"csrf_token": csrf, "name": name})
    assert r.status_code == 422 and "esiste già" in r.text
    page = officer.get(f"{BASE}/uffici")
    office_id = re.search(rf'<option value="(\d+)">{name}</option>', page.text)
    assert office_id
    day = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    slot = {"csrf_token": csrf, "office_id": office_id.group(1), "day": day, "start": "10:00", "end": "10:30"}
    assert officer.post(f"{BASE}/fasce", data=slot).status_code == 303
    bad = officer.post(f"{BASE}/fasce", data={**slot, "start": "11:00", "end": "10:00"})
    assert bad.status_code == 422 and "<code>ends_at</code>" in bad.text
    assert officer.post(f"{BASE}/fasce", data={**slot, "day": "ieri"}).status_code == 422
    # the new slot is offered to citizens, shown in local time
    citizen = clients["anonymous"]
    result = citizen.post(BASE, data={"csrf_token": csrf_from(citizen.get(BASE).text), **ANSWERS})
    assert f"{name} – {dt.date.fromisoformat(day):%d/%m/%Y} 10:00" in result.text


@pytest.fixture(scope="module")
def tickets(world: World, clients: dict[str, TestClient]) -> dict[str, tuple[str, int]]:
    """One ticket in each municipality: follow-up path and id."""
    out = {}
    for slug, base, name in (("borgo-demo", BASE, "Carla Neri"), ("altrove", ALTROVE, "Piero Gialli")):
        follow = _request_ticket(clients["anonymous"], base, name=name)
        out[slug] = (follow, _ticket_id(world, follow))
    return out


PUBLIC = ["/comune/borgo-demo/sportello", "/comune/altrove/sportello"]
OFFICER_PAGES = [f"{BASE}/richieste", f"{BASE}/uffici"]
EXPECTED_OFFICER = {"admin": 200, "officer_a": 200, "manager_a": 403, "manager_b": 403, "member_a": 403}


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(role: str, clients: dict[str, TestClient], tickets: dict[str, tuple[str, int]]) -> None:
    client = clients[role]
    follow_a, tid_a = tickets["borgo-demo"]
    follow_b, tid_b = tickets["altrove"]
    for path in [*PUBLIC, follow_a, follow_b]:
        assert client.get(path).status_code == 200, path
    for path in [*OFFICER_PAGES, f"{BASE}/richieste/{tid_a}"]:
        r = client.get(path)
        assert r.status_code == (303 if role == "anonymous" else EXPECTED_OFFICER[role]), (path, r.status_code)
        if role == "anonymous":
            assert r.headers["location"].startswith("/login")
    # Altrove's officer pages and tickets: only the platform admin
    for path in [f"{ALTROVE}/richieste", f"{ALTROVE}/uffici", f"{ALTROVE}/richieste/{tid_b}"]:
        r = client.get(path)
        assert r.status_code == {"anonymous": 303, "admin": 200}.get(role, 403), (path, role)
    # a ticket id of one municipality does not exist under the other
    if role == "admin":
        assert client.get(f"{ALTROVE}/richieste/{tid_a}").status_code == 404
        assert client.get(follow_a.replace("borgo-demo", "altrove")).status_code == 404
    assert client.get(f"{BASE}/richiesta/non-esiste").status_code == 404


@pytest.mark.parametrize("role", ["officer_a", "manager_a", "member_a", "manager_b", "anonymous"])
def test_officer_actions_of_altrove_are_refused(
    role: str, clients: dict[str, TestClient], tickets: dict[str, tuple[str, int]]
) -> None:
    client = clients[role]
    csrf = csrf_from(client.get(BASE).text)
    _, tid_b = tickets["altrove"]
    expected = 303 if role == "anonymous" else 403
    for action, data in (("assegna", {"adviser_id": "1"}), ("rispondi", {"answer": "x"}), ("chiudi", {})):
        r = client.post(f"{ALTROVE}/richieste/{tid_b}/{action}", data={"csrf_token": csrf, **data})
        assert r.status_code == expected, (action, r.status_code)
        if role == "anonymous":
            assert r.headers["location"].startswith("/login")
    r = client.post(f"{ALTROVE}/uffici", data={"csrf_token": csrf, "name": "Intruso"})
    assert r.status_code == expected
    r = client.post(f"{ALTROVE}/fasce", data={"csrf_token": csrf, "office_id": "1", "day": "2030-01-01"})
    assert r.status_code == expected


def test_no_personal_data_leaks(clients: dict[str, TestClient], tickets: dict[str, tuple[str, int]]) -> None:
    follow_a, tid_a = tickets["borgo-demo"]
    follow_b, tid_b = tickets["altrove"]
    anonymous = clients["anonymous"]
    page_a = anonymous.get(follow_a).text
    page_b = anonymous.get(follow_b).text
    for secret in ("Carla", "carla@example.org", "Piero", "piero@example.org", "1234567"):
        assert secret not in page_a and secret not in page_b
        for path in PUBLIC:
            assert secret not in anonymous.get(path).text
    assert follow_b.rsplit("/", 1)[1] not in page_a and follow_a.rsplit("/", 1)[1] not in page_b
    officer = clients["officer_a"]
    listing = officer.get(f"{BASE}/richieste").text
    assert "Carla Neri" in listing and "Piero Gialli" not in listing
    assert officer.get(f"{BASE}/richieste/{tid_b}").status_code == 404  # Altrove's ticket under Borgo Demo
    for role in ("manager_a", "member_a", "manager_b"):
        r = clients[role].get(f"{BASE}/richieste/{tid_a}")
        assert "Carla" not in r.text and "carla@example.org" not in r.text


def test_english_page(clients: dict[str, TestClient]) -> None:
    client = TestClient(clients["anonymous"].app, cookies={"condivisa_lang": "en"})
    page = client.get(BASE)
    assert page.status_code == 200 and "Who you are" in page.text
    result = client.post(BASE, data={"csrf_token": csrf_from(page.text), **ANSWERS})
    assert "Recommended form" in result.text and "behind your own meter" in result.text
