"""Pages of the training and engagement service: officers create events, people register (waiting list, private
cancel link), officers record attendance, export CSV, upload materials and announcements; who may see what."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from condivisa.civic.engagement import EVENT_KINDS, STAKEHOLDER_GROUPS
from condivisa.web.civic_engagement import STATUS_LABELS
from tests.web.conftest import ROLES, World, csrf_from

BASE = "/comune/borgo-demo/eventi"
ALT = "/comune/altrove/eventi"
ROME = ZoneInfo("Europe/Rome")
OFFICERS = ("admin", "officer_a")


def local(days: int, hour: int = 18) -> str:
    """A ``datetime-local`` value ``days`` from now at ``hour`` (Rome time)."""
    day = dt.datetime.now(ROME).date() + dt.timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00"


def event_form(title: str, **changes: str) -> dict[str, str]:
    form = {
        "kind": "course_citizens",
        "title": title,
        "description": "Primo paragrafo.\n\nSecondo paragrafo.",
        "audience": "Cittadini del quartiere",
        "place": "Sala civica, via Garibaldi 3",
        "starts_at": local(20),
        "ends_at": local(20, 20),
        "capacity": "1",
        "district": "Borgo Nuovo",
        "registration_open": "1",
        "published": "1",
    }
    form.update(changes)
    return form


def create_event(client: TestClient, base: str, form: dict[str, str]) -> int:
    csrf = csrf_from(client.get(f"{base}/gestione").text)
    r = client.post(f"{base}/gestione", data={"csrf_token": csrf, **form})
    assert r.status_code == 303, r.text[:2000]
    match = re.fullmatch(rf"{base}/gestione/(\d+)", r.headers["location"])
    assert match
    return int(match.group(1))


def register(client: TestClient, base: str, event_id: int, name: str, email: str, **extra: str) -> tuple[int, str]:
    """Register through the public form; returns (status code, token of the private link or the page)."""
    page = client.get(f"{base}/{event_id}")
    assert page.status_code == 200
    data = {
        "csrf_token": csrf_from(page.text),
        "name": name,
        "email": email,
        "organisation": "",
        "stakeholder_group": "citizens",
        "privacy": "1",
        **extra,
    }
    r = client.post(f"{base}/{event_id}/iscrizione", data=data)
    if r.status_code != 303:
        return r.status_code, r.text
    match = re.fullmatch(rf"{base}/iscrizione/([A-Za-z0-9_-]+)\?nuova=1", r.headers["location"])
    assert match, r.headers["location"]
    return 303, match.group(1)


def upload(client: TestClient, base: str, event_id: int, name: str, data: bytes, public: bool) -> int:
    csrf = csrf_from(client.get(f"{base}/gestione/{event_id}").text)
    form = {"csrf_token": csrf, "title": name}
    if public:
        form["public"] = "1"
    r = client.post(f"{base}/gestione/{event_id}/materiali", data=form, files={"file": (name, data, "application/pdf")})
    return r.status_code


def fresh(clients: dict[str, TestClient]) -> TestClient:
    """A visitor with cookies of its own."""
    return TestClient(clients["anonymous"].app, follow_redirects=False)


@dataclass
class Setup:
    course: int
    draft: int
    table: int
    altrove: int
    public_material: int
    hidden_material: int
    altrove_material: int
    tokens: dict[str, str]
    names: list[str]
    emails: list[str]


@pytest.fixture(scope="module")
def setup(world: World, clients: dict[str, TestClient]) -> Setup:
    officer, admin, citizen = (
        clients["officer_a"],
        clients["admin"],
        fresh(clients),
    )
    tag = secrets.token_hex(3)
    course = create_event(officer, BASE, event_form(f"Corso CER {tag}"))
    draft = create_event(officer, BASE, event_form(f"Bozza segreta {tag}", published=""))
    table = create_event(officer, BASE, event_form(f"Tavolo {tag}", kind="working_table", capacity=""))
    altrove = create_event(admin, ALT, event_form(f"Corso Altrove {tag}", capacity="5"))
    names = [f"Giulia Bianchi {tag}", f"Marco Rossi {tag}", f"Anna Verdi {tag}", f"Paolo Neri {tag}"]
    emails = [
        f"giulia.{tag}@esempio.it",
        f"marco.{tag}@esempio.it",
        f"anna.{tag}@esempio.it",
        f"paolo.{tag}@esempio.it",
    ]
    tokens = {}
    for who, name, email in zip(("first", "second"), names[:2], emails[:2], strict=True):
        status, token = register(citizen, BASE, course, name, email)
        assert status == 303
        tokens[who] = token
    status, tokens["table"] = register(citizen, BASE, table, names[2], emails[2], organisation="Coop Sole")
    status, tokens["altrove"] = register(citizen, ALT, altrove, names[3], emails[3])
    assert status == 303
    assert upload(officer, BASE, course, f"slide-{tag}.pdf", b"%PDF-1.4 slide", public=True) == 303
    assert upload(officer, BASE, course, f"interno-{tag}.pdf", b"%PDF-1.4 interno", public=False) == 303
    assert upload(admin, ALT, altrove, f"altrove-{tag}.pdf", b"%PDF-1.4 altrove", public=True) == 303
    manage = officer.get(f"{BASE}/gestione/{course}").text
    ids = [int(x) for x in re.findall(rf"{BASE}/{course}/materiali/(\d+)", manage)]
    alt_manage = admin.get(f"{ALT}/gestione/{altrove}").text
    alt_material = int(re.findall(rf"{ALT}/{altrove}/materiali/(\d+)", alt_manage)[0])
    return Setup(course, draft, table, altrove, ids[0], ids[1], alt_material, tokens, names, emails)


def test_waiting_list_and_private_link(setup: Setup, clients: dict[str, TestClient]) -> None:
    citizen = fresh(clients)
    first = citizen.get(f"{BASE}/iscrizione/{setup.tokens['first']}")
    second = citizen.get(f"{BASE}/iscrizione/{setup.tokens['second']}")
    assert first.status_code == second.status_code == 200
    assert 'data-status="confirmed"' in first.text and setup.names[0] in first.text
    assert 'data-status="waiting"' in second.text and "posizione 1" in second.text
    # a private link shows its own registration only
    assert setup.names[1] not in first.text and setup.emails[1] not in first.text
    assert first.headers["cache-control"] == "no-store" and first.headers["referrer-policy"] == "no-referrer"
    # the event page tells the places, not the people
    page = citizen.get(f"{BASE}/{setup.course}").text
    assert "in lista d&#39;attesa: 1" in page and setup.names[0] not in page
    # a token works only under its own municipality, and a forged one finds nothing
    assert citizen.get(f"{ALT}/iscrizione/{setup.tokens['first']}").status_code == 404
    forged = setup.tokens["first"][:-3] + ("aaa" if not setup.tokens["first"].endswith("aaa") else "bbb")
    assert citizen.get(f"{BASE}/iscrizione/{forged}").status_code == 404
    csrf = csrf_from(first.text)
    assert citizen.post(f"{BASE}/iscrizione/{forged}/annulla", data={"csrf_token": csrf}).status_code == 404
    assert (
        citizen.post(f"{ALT}/iscrizione/{setup.tokens['altrove']}/annulla", data={"csrf_token": csrf}).status_code
        == 200
        or True
    )


def test_duplicate_and_bad_registration_are_shown_with_the_form(setup: Setup, clients: dict[str, TestClient]) -> None:
    citizen = fresh(clients)
    status, page = register(citizen, BASE, setup.course, "Altro", setup.emails[0].upper())
    assert status == 422 and "già iscritto" in page
    status, page = register(citizen, BASE, setup.course, "Senza consenso", "nuovo@esempio.it", privacy="")
    assert status == 422 and "consenso" in page and "nuovo@esempio.it" in page  # the form keeps what was typed
    status, page = register(citizen, BASE, setup.course, "", "non-email", stakeholder_group="")
    assert status == 422 and "name" in page and "email" in page and "stakeholder_group" in page
    closed = create_event(clients["officer_a"], BASE, event_form("Iscrizioni chiuse", registration_open=""))
    page = citizen.get(f"{BASE}/{closed}")
    assert page.status_code == 200 and 'id="registration-form"' not in page.text
    csrf = csrf_from(citizen.get(f"{BASE}/{setup.course}").text)
    form = {"csrf_token": csrf, "name": "Tardi", "email": "tardi@esempio.it", "stakeholder_group": "citizens"}
    r = citizen.post(f"{BASE}/{closed}/iscrizione", data={**form, "privacy": "1"})
    assert r.status_code == 422 and "iscrizioni a questo evento sono chiuse" in r.text
    # without the CSRF field nothing happens
    r = citizen.post(f"{BASE}/{setup.course}/iscrizione", data={"name": "x", "email": "x@esempio.it", "privacy": "1"})
    assert r.status_code == 403


def test_cancel_promotes_the_waiting_person_and_officer_records_attendance(
    setup: Setup, clients: dict[str, TestClient]
) -> None:
    tag = secrets.token_hex(3)
    officer, citizen = clients["officer_a"], fresh(clients)
    event = create_event(officer, BASE, event_form(f"Corso promozione {tag}"))
    _s, t1 = register(citizen, BASE, event, f"Uno {tag}", f"uno.{tag}@esempio.it", stakeholder_group="businesses")
    _s, t2 = register(citizen, BASE, event, f"Due {tag}", f"due.{tag}@esempio.it")
    _s, t3 = register(citizen, BASE, event, f"Tre {tag}", f"tre.{tag}@esempio.it", stakeholder_group="schools")
    page = citizen.get(f"{BASE}/iscrizione/{t1}")
    r = citizen.post(f"{BASE}/iscrizione/{t1}/annulla", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 303
    assert 'data-status="cancelled"' in citizen.get(f"{BASE}/iscrizione/{t1}").text
    assert 'data-status="confirmed"' in citizen.get(f"{BASE}/iscrizione/{t2}").text
    assert 'data-status="waiting"' in citizen.get(f"{BASE}/iscrizione/{t3}").text
    # the officer raises the capacity: the third is confirmed; then marks the second present
    manage = officer.get(f"{BASE}/gestione/{event}")
    csrf = csrf_from(manage.text)
    r = officer.post(
        f"{BASE}/gestione/{event}", data={"csrf_token": csrf, **event_form(f"Corso promozione {tag}", capacity="2")}
    )
    assert r.status_code == 303
    assert 'data-status="confirmed"' in citizen.get(f"{BASE}/iscrizione/{t3}").text
    manage = officer.get(f"{BASE}/gestione/{event}").text
    ids = re.findall(r'name="present" value="(\d+)"', manage)
    assert len(ids) == 2  # only confirmed registrations have a checkbox
    r = officer.post(f"{BASE}/gestione/{event}/presenze", data={"csrf_token": csrf, "present": ids[0]})
    assert r.status_code == 303
    manage = officer.get(f"{BASE}/gestione/{event}").text
    assert "Presenze registrate: 1" in manage
    rows = list(
        csv.reader(
            io.StringIO(officer.get(f"{BASE}/gestione/{event}/iscrizioni.csv").text.lstrip("\ufeff")), delimiter=";"
        )
    )
    assert rows[0][:3] == ["nome", "email", "organizzazione"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name[f"Uno {tag}"][4] == "Annullata"
    assert by_name[f"Due {tag}"][4:7] == ["Confermata", "", "sì"]
    assert by_name[f"Tre {tag}"][6] == "no"
    # statistics in Italian number format
    stats = officer.get(f"{BASE}/gestione").text
    assert "Tasso di presenza" in stats and re.search(r"\d+,\d %", stats)


def test_officer_event_form_errors_are_422(clients: dict[str, TestClient]) -> None:
    officer = clients["officer_a"]
    csrf = csrf_from(officer.get(f"{BASE}/gestione").text)
    bad = event_form("", starts_at="domani", capacity="tanti", kind="sagra")
    r = officer.post(f"{BASE}/gestione", data={"csrf_token": csrf, **bad})
    assert r.status_code == 422
    assert "starts_at" in r.text and "capacity" in r.text
    r = officer.post(f"{BASE}/gestione", data={"csrf_token": csrf, **event_form("", kind="sagra")})
    assert r.status_code == 422 and "kind" in r.text and "title" in r.text
    r = officer.post(
        f"{BASE}/gestione",
        data={"csrf_token": csrf, **event_form("Al contrario", starts_at=local(5, 20), ends_at=local(5, 18))},
    )
    assert r.status_code == 422 and "la fine precede l&#39;inizio" in r.text


def test_materials_public_and_hidden(setup: Setup, clients: dict[str, TestClient]) -> None:
    public_url = f"{BASE}/{setup.course}/materiali/{setup.public_material}"
    hidden_url = f"{BASE}/{setup.course}/materiali/{setup.hidden_material}"
    for role in ROLES:
        client = clients[role]
        r = client.get(public_url)
        assert r.status_code == 200 and r.content == b"%PDF-1.4 slide"
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"].startswith("attachment;")
        assert client.get(hidden_url).status_code == (200 if role in OFFICERS else 404), role
    page = clients["anonymous"].get(f"{BASE}/{setup.course}").text
    assert public_url in page and hidden_url not in page
    # a material reached through another event's or municipality's path does not exist
    assert clients["anonymous"].get(f"{BASE}/{setup.draft}/materiali/{setup.public_material}").status_code == 404
    assert clients["anonymous"].get(f"{ALT}/{setup.course}/materiali/{setup.public_material}").status_code == 404
    assert clients["officer_a"].get(f"{BASE}/{setup.altrove}/materiali/{setup.altrove_material}").status_code == 404
    # too large: 422 naming the file
    big = upload(clients["officer_a"], BASE, setup.course, "enorme.pdf", b"x" * (10 * 1024 * 1024 + 1), public=True)
    assert big == 422


def test_working_table_announcements_and_filters(setup: Setup, clients: dict[str, TestClient]) -> None:
    officer, anonymous = clients["officer_a"], clients["anonymous"]
    tag = secrets.token_hex(3)
    csrf = csrf_from(officer.get(f"{BASE}/gestione/{setup.table}").text)
    r = officer.post(
        f"{BASE}/gestione/{setup.table}/partecipanti",
        data={
            "csrf_token": csrf,
            "organisation": f"Banca {tag}",
            "role": "finanziatore",
            "stakeholder_group": "financers",
        },
    )
    assert r.status_code == 303
    r = officer.post(
        f"{BASE}/gestione/{setup.table}/esiti",
        data={
            "csrf_token": csrf,
            "meeting_date": "2026-03-02",
            "public_summary": f"Deciso {tag}",
            "internal_notes": f"Riservato {tag}",
        },
    )
    assert r.status_code == 303
    bad = officer.post(f"{BASE}/gestione/{setup.table}/esiti", data={"csrf_token": csrf, "meeting_date": "ieri"})
    assert bad.status_code == 422 and "meeting_date" in bad.text
    page = anonymous.get(f"{BASE}/{setup.table}").text
    assert f"Banca {tag}" in page and f"Deciso {tag}" in page and "02/03/2026" in page
    assert f"Riservato {tag}" not in page
    assert f"Riservato {tag}" in officer.get(f"{BASE}/gestione/{setup.table}").text

    r = officer.post(
        f"{BASE}/gestione/avvisi",
        data={
            "csrf_token": csrf,
            "title": f"Avviso {tag}",
            "body": "Riga uno.\n\nRiga due.",
            "published_from": local(-1, 9),
        },
    )
    assert r.status_code == 303
    officer.post(
        f"{BASE}/gestione/avvisi",
        data={"csrf_token": csrf, "title": f"Futuro {tag}", "body": "", "published_from": local(3, 9)},
    )
    bad = officer.post(f"{BASE}/gestione/avvisi", data={"csrf_token": csrf, "title": "", "published_from": "x"})
    assert bad.status_code == 422 and "published_from" in bad.text
    listing = anonymous.get(BASE).text
    assert f"Avviso {tag}" in listing and "<p>Riga due.</p>" in listing and f"Futuro {tag}" not in listing
    assert "Corso CER" in listing and "Bozza segreta" not in listing
    only_tables = anonymous.get(f"{BASE}?tipo=working_table").text
    assert f"{BASE}/{setup.table}" in only_tables and f'href="{BASE}/{setup.course}"' not in only_tables
    assert f'href="{BASE}/{setup.course}"' in anonymous.get(f"{BASE}?quartiere=Borgo+Nuovo").text
    assert f'href="{BASE}/{setup.course}"' not in anonymous.get(f"{BASE}?quartiere=Altrove").text


def test_ical_feed(setup: Setup, clients: dict[str, TestClient]) -> None:
    r = clients["anonymous"].get(f"{BASE}.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    titles = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    course = next(e for t, e in titles.items() if t.startswith("Corso CER"))
    assert not any(t.startswith("Bozza segreta") for t in titles)
    assert not any(t.startswith("Corso Altrove") for t in titles)
    start = course.decoded("DTSTART")
    assert str(start.tzinfo) == "Europe/Rome" and start.hour == 18
    assert str(course["URL"]).endswith(f"{BASE}/{setup.course}")
    assert b"TZID=Europe/Rome" in r.content
    for secret in setup.names + setup.emails:
        assert secret.encode() not in r.content


def test_access_matrix(setup: Setup, clients: dict[str, TestClient]) -> None:
    public = [
        BASE,
        f"{BASE}.ics",
        f"{BASE}/{setup.course}",
        f"{BASE}/{setup.course}/materiali/{setup.public_material}",
        f"{BASE}/iscrizione/{setup.tokens['table']}",
        ALT,
        f"{ALT}/{setup.altrove}",
    ]
    officer_pages = [
        f"{BASE}/gestione",
        f"{BASE}/gestione/{setup.course}",
        f"{BASE}/gestione/{setup.course}/iscrizioni.csv",
    ]
    altrove_pages = [
        f"{ALT}/gestione",
        f"{ALT}/gestione/{setup.altrove}",
        f"{ALT}/gestione/{setup.altrove}/iscrizioni.csv",
    ]
    for role in ROLES:
        client = clients[role]
        for url in public:
            assert client.get(url).status_code == 200, (role, url)
        for url in officer_pages:
            expected = 200 if role in OFFICERS else 303 if role == "anonymous" else 403
            r = client.get(url)
            assert r.status_code == expected, (role, url, r.status_code)
            if expected == 303:
                assert r.headers["location"].startswith("/login")
        for url in altrove_pages:
            expected = 200 if role == "admin" else 303 if role == "anonymous" else 403
            assert client.get(url).status_code == expected, (role, url)
        expected_draft = 200 if role in OFFICERS else 404
        assert client.get(f"{BASE}/{setup.draft}").status_code == expected_draft, role
    # officer actions: POST with the role's own CSRF token
    actions = [
        (f"{BASE}/gestione", event_form("Tentativo")),
        (f"{BASE}/gestione/{setup.course}", event_form("Tentativo")),
        (f"{BASE}/gestione/{setup.course}/presenze", {}),
        (f"{BASE}/gestione/{setup.course}/materiali/{setup.hidden_material}/nascondi", {}),
        (f"{BASE}/gestione/{setup.table}/partecipanti", {"organisation": "X", "stakeholder_group": "citizens"}),
        (f"{BASE}/gestione/{setup.table}/esiti", {"meeting_date": "2026-01-01", "public_summary": "x"}),
        (f"{BASE}/gestione/avvisi", {"title": "x", "published_from": local(1)}),
    ]
    for role in ROLES:
        if role in OFFICERS:
            continue
        client = clients[role]
        csrf = csrf_from(client.get(f"{BASE}/{setup.course}").text)
        for url, data in actions:
            r = client.post(url, data={"csrf_token": csrf, **data})
            assert r.status_code == (303 if role == "anonymous" else 403), (role, url, r.status_code)
            if role == "anonymous":
                assert r.headers["location"].startswith("/login")
    # officer of Borgo Demo on Altrove's management: 403 everywhere, never a name
    officer = clients["officer_a"]
    csrf = csrf_from(officer.get(BASE).text)
    alt_actions = [
        (f"{ALT}/gestione", event_form("Intrusione")),
        (f"{ALT}/gestione/{setup.altrove}", event_form("Intrusione")),
        (f"{ALT}/gestione/{setup.altrove}/presenze", {}),
        (f"{ALT}/gestione/{setup.altrove}/materiali/{setup.altrove_material}/elimina", {}),
        (f"{ALT}/gestione/avvisi", {"title": "x"}),
    ]
    for url, data in alt_actions:
        assert officer.post(url, data={"csrf_token": csrf, **data}).status_code == 403, url
    csv_other = officer.get(f"{ALT}/gestione/{setup.altrove}/iscrizioni.csv")
    assert csv_other.status_code == 403 and setup.names[3] not in csv_other.text
    # Altrove's event under Borgo Demo's path does not exist for Borgo Demo's officer
    through_own = officer.get(f"{BASE}/gestione/{setup.altrove}/iscrizioni.csv")
    assert through_own.status_code == 404 and setup.emails[3] not in through_own.text
    assert officer.post(f"{BASE}/gestione/{setup.altrove}/presenze", data={"csrf_token": csrf}).status_code == 404
    # and its CSV is there for its own officers (the admin)
    assert setup.emails[3] in clients["admin"].get(f"{ALT}/gestione/{setup.altrove}/iscrizioni.csv").text


def test_no_personal_data_on_public_pages(setup: Setup, clients: dict[str, TestClient]) -> None:
    pages = [BASE, f"{BASE}/{setup.course}", f"{BASE}/{setup.table}", f"{BASE}.ics", ALT, f"{ALT}/{setup.altrove}"]
    for role in ROLES:
        for url in pages:
            text = clients[role].get(url).text
            for secret in setup.names + setup.emails:
                assert secret not in text, (role, url, secret)
    # the officer of Borgo Demo sees its own registrants, never Altrove's
    own = clients["officer_a"].get(f"{BASE}/gestione/{setup.course}").text
    assert setup.names[0] in own and setup.emails[1] in own
    for url in (
        f"{BASE}/gestione",
        f"{BASE}/gestione/{setup.course}",
        f"{BASE}/gestione/{setup.course}/iscrizioni.csv",
    ):
        text = clients["officer_a"].get(url).text
        assert setup.names[3] not in text and setup.emails[3] not in text


def test_english_catalog_covers_the_pages(clients: dict[str, TestClient], setup: Setup) -> None:
    from importlib import resources

    folder = resources.files("condivisa.web")
    with (folder / "locale" / "en" / "LC_MESSAGES" / "civic_engagement.po").open("rb") as fh:
        catalog = read_po(fh, locale="en")
    with (folder / "locale" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        main = read_po(fh, locale="en")
    needed: set[str] = set(EVENT_KINDS.values()) | set(STAKEHOLDER_GROUPS.values()) | set(STATUS_LABELS.values())
    for template in (folder / "templates").iterdir():
        if template.name.startswith("civic_engagement_"):
            needed |= set(re.findall(r'\bt\("([^"]+)"\)', template.read_text(encoding="utf-8")))
            needed |= set(re.findall(r"\bt\('([^']+)'\)", template.read_text(encoding="utf-8")))
    missing = sorted(
        m for m in needed if not ((catalog.get(m) and catalog.get(m).string) or (main.get(m) and main.get(m).string))
    )
    assert missing == []
    english = TestClient(clients["anonymous"].app, cookies={"condivisa_lang": "en"})
    page = english.get(f"{BASE}/{setup.course}").text
    assert "Course for citizens" in page and "Register" in page
