"""Pages of the inter-municipal energy team: who may see and do what (coordinator, political and technical tables,
platform admin, others), meetings and decisions, actions and indicators, documents, the mailing list through a real
local SMTP server, the progress report and the Covenant-style export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from condivisa.store import energy_team as store
from condivisa.store import make_engine, session_factory
from condivisa.store.municipalities import municipality_by_slug
from tests.notify.sink import free_port, smtp_sink
from tests.web.conftest import ROLES, World, csrf_from

MEMBERS = ("admin", "officer_a", "manager_a", "member_a")
"""Roles that see the team: the admin, the coordinator (officer_a), a political (manager_a) and a technical
(member_a) member; manager_b is not in the team."""


@dataclass(frozen=True)
class Team:
    id: int
    political: int
    technical: int
    action: int
    indicator: int
    document: int
    political_decision: int
    technical_decision: int


@pytest.fixture(scope="module")
def team(world: World) -> Iterator[Team]:
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        borgo = municipality_by_slug(s, "borgo-demo")
        altrove = municipality_by_slug(s, "altrove")
        tid = store.create_team(s, f"Unione di prova {secrets.token_hex(3)}", [borgo.id, altrove.id])
        store.add_member(s, tid, email=world.emails["officer_a"], table="political", role="coordinator")
        store.add_member(s, tid, email=world.emails["manager_a"], table="political", municipality_id=borgo.id)
        store.add_member(s, tid, email=world.emails["member_a"], table="technical", municipality_id=altrove.id)
        start = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
        [pol] = store.schedule_meetings(s, tid, table="political", starts=[start], place="Municipio", agenda=[])
        [tec] = store.schedule_meetings(s, tid, table="technical", starts=[start], place="Ufficio", agenda=[])
        aid = store.create_action(
            s, tid, store.ActionFields("IP-01", "LED pubblici", "public_lighting", borgo.id, savings_mwh=100)
        )
        iid = store.add_indicator(s, tid, aid, name="Punti luce", unit="n", target=500)
        doc = store.add_document(
            s, tid, title="Delibera di adesione", filename="delibera.txt", content_type="text/plain", data=b"testo"
        )
        pd = store.add_decision(s, tid, pol, text="Decisione politica di prova")
        td = store.add_decision(s, tid, tec, text="Relazione tecnica di prova", kind="report")
        store.add_subscriber(s, tid, email="iscritta.segreta@esterni.it")
    engine.dispose()
    yield Team(tid, pol, tec, aid, iid, doc, pd, td)


def token(client: TestClient, role: str) -> str:
    return csrf_from(client.get("/login" if role == "anonymous" else "/teams").text)


def expected_read(role: str) -> int:
    return 200 if role in MEMBERS else 303 if role == "anonymous" else 403


def test_every_page_by_role(clients: dict[str, TestClient], team: Team) -> None:
    base = f"/teams/{team.id}"
    pages = [
        base,
        f"{base}/meetings",
        f"{base}/meetings/{team.political}",
        f"{base}/meetings/{team.technical}",
        f"{base}/actions",
        f"{base}/actions/{team.action}",
        f"{base}/documents",
        f"{base}/documents/{team.document}",
        f"{base}/mailing",
        f"{base}/report",
        f"{base}/export.csv",
    ]
    for role in ROLES:
        client = clients[role]
        r = client.get("/teams")
        assert r.status_code == (303 if role == "anonymous" else 200), role
        for page in pages:
            r = client.get(page)
            assert r.status_code == expected_read(role), (role, page, r.status_code)
            if role == "anonymous":
                assert r.headers["location"].startswith("/login")
            if r.status_code == 403:
                assert "iscritta.segreta" not in r.text and "manager.a@prova.it" not in r.text
    assert clients["admin"].get("/teams/999999").status_code == 404
    assert clients["admin"].get(f"{base}/meetings/999999").status_code == 404
    assert clients["officer_a"].get(f"{base}/actions/999999").status_code == 404
    # the team appears in its members' lists only
    name_of = clients["admin"].get(base).text
    title = re.search(r"<h1>([^<]+)</h1>", name_of)
    assert title
    for role in ("officer_a", "manager_a", "member_a"):
        assert title.group(1) in clients[role].get("/teams").text
    assert title.group(1) not in clients["manager_b"].get("/teams").text


def test_coordinator_actions_by_role(clients: dict[str, TestClient], team: Team) -> None:
    base = f"/teams/{team.id}"
    for role in ROLES:
        client = clients[role]
        csrf_token = token(client, role)
        code = f"T-{role[:6]}"
        posts = [
            (f"{base}/meetings", {"table": "political", "starts_at": "2031-01-15T17:30", "count": "1", "agenda": ""}),
            (f"{base}/actions", {"code": code, "title": "Prova", "sector": "other", "savings_mwh": "1"}),
            (f"{base}/actions/{team.action}/status", {"status": "ongoing", "note": f"da {role}"}),
            (f"{base}/actions/{team.action}/indicators/{team.indicator}/values", {"on": "2026-01-31", "value": "5"}),
            (f"{base}/mailing/subscribers", {"email": f"{role}@iscritti.it"}),
            (f"{base}/target", {"baseline_year": "2005", "target_year": "2030", "reduction_target_pct": "55"}),
        ]
        for url, data in posts:
            r = client.post(url, data={"csrf_token": csrf_token, **data})
            if role in ("admin", "officer_a"):
                assert r.status_code == 303, (role, url, r.text[:1500])
            elif role == "anonymous":
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), (role, url)
            else:
                assert r.status_code == 403, (role, url, r.status_code)
    # without the CSRF token nothing is done
    r = clients["officer_a"].post(f"{base}/actions", data={"code": "NO-CSRF", "title": "x", "sector": "other"})
    assert r.status_code == 403


def test_tables_write_only_their_meetings(clients: dict[str, TestClient], team: Team) -> None:
    base = f"/teams/{team.id}"
    cases = {
        # role: (political meeting, technical meeting)
        "officer_a": (303, 303),  # coordinator: both
        "admin": (303, 303),
        "manager_a": (303, 403),  # political table member
        "member_a": (403, 303),  # technical table member
        "manager_b": (403, 403),  # not in the team
    }
    for role, (political, technical) in cases.items():
        client = clients[role]
        csrf_token = token(client, role)
        for mid, expected in ((team.political, political), (team.technical, technical)):
            r = client.post(
                f"{base}/meetings/{mid}/decisions",
                data={"csrf_token": csrf_token, "text": f"Decisione di {role}", "kind": "decision"},
            )
            assert r.status_code == expected, (role, mid, r.status_code)
            r = client.post(
                f"{base}/meetings/{mid}/minutes", data={"csrf_token": csrf_token, "minutes": f"Verbale di {role}"}
            )
            assert r.status_code == expected, (role, mid, "minutes")
        for did, expected in ((team.political_decision, political), (team.technical_decision, technical)):
            r = client.post(f"{base}/decisions/{did}", data={"csrf_token": csrf_token, "status": "in_progress"})
            assert r.status_code == expected, (role, did, "status")
        # only the coordinator edits a meeting's date, place and agenda
        r = client.post(
            f"{base}/meetings/{team.political}",
            data={"csrf_token": csrf_token, "starts_at": "2031-02-01T18:00", "place": "Sala", "agenda": "Punto"},
        )
        assert r.status_code == (303 if role in ("admin", "officer_a") else 403), (role, "edit")
    # members read the pages but see no forms of the other table
    page = clients["member_a"].get(f"{base}/meetings/{team.political}").text
    assert 'id="decision-form"' not in page and 'id="minutes-form"' not in page
    page = clients["member_a"].get(f"{base}/meetings/{team.technical}").text
    assert 'id="decision-form"' in page and 'id="minutes-form"' in page
    assert 'id="schedule-form"' not in clients["member_a"].get(f"{base}/meetings").text
    assert "Decisione di member_a" in page


def test_schedule_series_and_bad_input(clients: dict[str, TestClient], team: Team) -> None:
    client = clients["officer_a"]
    base = f"/teams/{team.id}"
    csrf_token = token(client, "officer_a")
    r = client.post(
        f"{base}/meetings",
        data={
            "csrf_token": csrf_token,
            "table": "technical",
            "starts_at": "2032-03-10T17:30",
            "count": "3",
            "place": "Sala tecnica",
            "agenda": "Avanzamento\n[relazione] Relazione al tavolo politico",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == f"{base}/meetings"
    page = client.get(f"{base}/meetings").text
    for day in ("10/03/2032 17:30", "10/04/2032 17:30", "10/05/2032 17:30"):  # local time kept across DST
        assert day in page
    r = client.post(
        f"{base}/meetings",
        data={"csrf_token": csrf_token, "table": "tavolo", "starts_at": "domani", "count": "40", "agenda": "[voto] x"},
    )
    assert r.status_code == 422
    for field in ("starts_at", "table", "count", "agenda"):
        assert f"<code>{field}</code>" in r.text
    r = client.post(
        f"{base}/actions",
        data={"csrf_token": csrf_token, "code": "", "title": "x", "sector": "other", "cost_eur": "mille"},
    )
    assert r.status_code == 422 and "<code>cost_eur</code>" in r.text and "numero non valido" in r.text
    r = client.post(
        f"{base}/actions",
        data={"csrf_token": csrf_token, "code": "", "title": "x", "sector": "other", "cost_eur": "1.000,50"},
    )
    assert r.status_code == 422 and "<code>code</code>" in r.text and 'value="1.000,50"' in r.text


def test_action_update_shows_in_report_and_export(clients: dict[str, TestClient], team: Team) -> None:
    client = clients["officer_a"]
    base = f"/teams/{team.id}"
    csrf_token = token(client, "officer_a")
    r = client.post(
        f"{base}/actions",
        data={
            "csrf_token": csrf_token,
            "code": "PV-09",
            "title": "Fotovoltaico sul magazzino",
            "sector": "local_electricity",
            "renewable_mwh": "120,5",
            "emission_factor": "0,3",
            "cost_eur": "150000",
            "start_date": "2026-02-01",
            "end_date": "2027-06-30",
            "instrument": "grants",
            "status": "planned",
        },
    )
    assert r.status_code == 303
    aid = int(r.headers["location"].rsplit("/", 1)[1])
    r = client.post(
        f"{base}/actions/{aid}/status", data={"csrf_token": csrf_token, "status": "completed", "note": "Collaudato"}
    )
    assert r.status_code == 303
    page = client.get(f"{base}/actions/{aid}").text
    assert "36,2 t CO₂" in page or "36,1 t CO₂" in page  # 120.5 MWh x 0.3 t/MWh = 36.15 t
    report = clients["manager_a"].get(f"{base}/report").text
    assert "Collaudato" in report and "Fotovoltaico sul magazzino" in report
    assert "Decisione politica di prova" in report
    rows = list(csv.DictReader(io.StringIO(clients["member_a"].get(f"{base}/export.csv").text.lstrip("\ufeff"))))
    [pv] = [row for row in rows if row["Action code"] == "PV-09"]
    assert pv["Sector"] == "Local electricity production" and pv["Implementation status"] == "Completed"
    assert pv["Estimated renewable energy production (MWh/a)"] == "120.5"
    assert pv["Estimated CO2 reduction (t CO2/a)"] == "36.15"
    assert pv["Implementation timeframe: start"] == "2026" and pv["Local authority"] == "Joint action"


def test_documents_upload_download(clients: dict[str, TestClient], team: Team) -> None:
    base = f"/teams/{team.id}"
    client = clients["officer_a"]
    csrf_token = token(client, "officer_a")
    data = "Verbale firmato – città".encode()
    r = client.post(
        f"{base}/documents",
        data={"csrf_token": csrf_token, "title": "Verbale firmato", "table": "political"},
        files={"file": ("verbale città.txt", data, "text/plain")},
    )
    assert r.status_code == 303
    listing = clients["member_a"].get(f"{base}/documents").text
    match = re.search(rf'href="{base}/documents/(\d+)">Verbale firmato', listing)
    assert match
    r = clients["member_a"].get(f"{base}/documents/{match.group(1)}")
    assert r.status_code == 200 and r.content == data and "attachment" in r.headers["content-disposition"]
    assert clients["manager_b"].get(f"{base}/documents/{match.group(1)}").status_code == 403
    r = client.post(f"{base}/documents", data={"csrf_token": csrf_token, "title": "Niente"})
    assert r.status_code == 422 and "nessun file scelto" in r.text
    r = clients["member_a"].post(
        f"{base}/documents", data={"csrf_token": token(clients["member_a"], "member_a")}, files={"file": ("a", b"x")}
    )
    assert r.status_code == 403


def test_mailing_list_send(
    clients: dict[str, TestClient], team: Team, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = f"/teams/{team.id}"
    client = clients["officer_a"]
    csrf_token = token(client, "officer_a")
    # members do not see external subscribers' addresses
    assert "iscritta.segreta" not in clients["member_a"].get(f"{base}/mailing").text
    assert "iscritta.segreta" in client.get(f"{base}/mailing").text
    with smtp_sink() as sink:
        monkeypatch.setenv("CONDIVISA_SMTP_HOST", sink.host)
        monkeypatch.setenv("CONDIVISA_SMTP_PORT", str(sink.port))
        r = client.post(
            f"{base}/mailing/send",
            data={"csrf_token": csrf_token, "subject": "Convocazione", "body": "Riunione il 15 alle 17:30."},
        )
    assert r.status_code == 303, r.text[:1000]
    [received] = sink.messages
    for role in ("officer_a", "manager_a", "member_a"):
        assert world.emails[role] in received.rcpt_tos
    assert "iscritta.segreta@esterni.it" in received.rcpt_tos
    assert world.emails["manager_b"] not in received.rcpt_tos
    assert received.message["Subject"].endswith("] Convocazione") and received.message["Bcc"] is None
    # a server that does not answer: the page says so (no 500), the attempt is recorded
    monkeypatch.setenv("CONDIVISA_SMTP_PORT", str(free_port()))
    r = client.post(f"{base}/mailing/send", data={"csrf_token": csrf_token, "subject": "Di nuovo", "body": "Testo"})
    assert r.status_code == 502 and "invio non riuscito" in r.text and "Non inviato" in r.text
    monkeypatch.delenv("CONDIVISA_SMTP_HOST")
    r = client.post(f"{base}/mailing/send", data={"csrf_token": csrf_token, "subject": "Senza", "body": "server"})
    assert r.status_code == 422 and "CONDIVISA_SMTP_HOST" in r.text


def test_admin_creates_team_and_coordinator_adds_members(clients: dict[str, TestClient], world: World) -> None:
    admin = clients["admin"]
    page = admin.get("/teams").text
    ids = re.findall(r'name="municipalities" value="(\d+)"', page)
    assert len(ids) >= 2
    name = f"Unione nuova {secrets.token_hex(3)}"
    csrf_token = token(admin, "admin")
    r = admin.post("/teams", data={"csrf_token": csrf_token, "name": name, "municipalities": ids[:2]})
    assert r.status_code == 303
    base = r.headers["location"]
    r = admin.post("/teams", data={"csrf_token": csrf_token, "name": name, "municipalities": ids[:2]})
    assert r.status_code == 422 and "esiste già" in r.text
    r = clients["officer_a"].post(
        "/teams", data={"csrf_token": token(clients["officer_a"], "officer_a"), "name": "x", "municipalities": ids}
    )
    assert r.status_code == 403
    assert clients["officer_a"].get(base).status_code == 403
    r = admin.post(
        f"{base}/members",
        data={
            "csrf_token": csrf_token,
            "email": world.emails["officer_a"],
            "table": "technical",
            "role": "coordinator",
        },
    )
    assert r.status_code == 303
    assert clients["officer_a"].get(base).status_code == 200
    r = admin.post(f"{base}/members", data={"csrf_token": csrf_token, "email": "ignoto@prova.it", "table": "x"})
    assert r.status_code == 422 and "nessun utente registrato" in r.text


def test_english_catalog_covers_the_templates() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "src" / "condivisa" / "web"
    with (root / "locale" / "en" / "LC_MESSAGES" / "energy_team.po").open("rb") as fh:
        catalog = read_po(fh, locale="en")
    translated = {m.id for m in catalog if m.id and m.string}
    used: set[str] = set()
    for path in (root / "templates").glob("energy_team_*.html"):
        used |= set(re.findall(r't\("([^"]+)"\)', path.read_text()))
        used |= set(re.findall(r"t\('([^']+)'\)", path.read_text()))
    from condivisa.energy_team import meetings, plan

    for labels in (plan.SECTORS, plan.STATUSES, plan.INSTRUMENTS, plan.ORIGINS, meetings.TABLES, meetings.ROLES,
                   meetings.ITEM_KINDS, meetings.DECISION_KINDS, meetings.DECISION_STATUSES):  # fmt: skip
        used |= set(labels.values())
    used |= {plan.INTER_MUNICIPAL}
    missing = sorted(used - translated)
    assert not missing, missing
