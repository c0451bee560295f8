"""The energy team's storage on SQLite and PostgreSQL: team, members, meetings and decisions, actions with changes
and indicators, documents, mailing list through a real local SMTP server, team isolation, the demo team."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from condivisa.energy_team.meetings import monthly_schedule, parse_agenda
from condivisa.errors import InputError
from condivisa.notify.email import SmtpSettings
from condivisa.store import create_user, session_factory
from condivisa.store import energy_team as store
from condivisa.store.models_energy_team import MAX_DOCUMENT_BYTES, EnergyActionRow
from condivisa.store.municipalities import ensure_municipality
from condivisa.store.repository import NotFoundError
from tests.notify.sink import free_port, smtp_sink

NOW = dt.datetime(2026, 5, 20, 8, 0, tzinfo=dt.UTC)


def _users(session: Session, *names: str) -> dict[str, int]:
    return {n: create_user(session, email=f"{n}@prova.it", password_hash="x", display_name=n.title()).id for n in names}


def _team(session: Session, name: str = "Unione dei Comuni della Valle") -> tuple[int, int, int]:
    a = ensure_municipality(session, "Valle Alta", region="Piemonte")
    b = ensure_municipality(session, "Valle Bassa", region="Piemonte")
    return store.create_team(session, name, [a.id, b.id], baseline_t_co2=10_000), a.id, b.id


def test_team_members_and_memberships(session: Session) -> None:
    users = _users(session, "sindaca", "tecnico", "esterno")
    tid, a, b = _team(session)
    team = store.get_team(session, tid)
    assert team is not None and [m.name for m in team.municipalities] == ["Valle Alta", "Valle Bassa"]
    assert team.reduction_target_pct == 55 and (team.baseline_year, team.target_year) == (2005, 2030)
    store.add_member(session, tid, email="SINDACA@prova.it ", table="political", role="coordinator", municipality_id=a)
    store.add_member(session, tid, email="tecnico@prova.it", table="technical", municipality_id=b)
    assert store.memberships(session, tid, users["sindaca"]) == [("political", "coordinator")]
    assert store.memberships(session, tid, users["esterno"]) == []
    # adding again changes the role, it does not duplicate
    store.add_member(session, tid, email="tecnico@prova.it", table="technical", role="coordinator")
    assert store.memberships(session, tid, users["tecnico"]) == [("technical", "coordinator")]
    members = store.list_members(session, tid)
    assert [(m.name, m.table) for m in members] == [("Sindaca", "political"), ("Tecnico", "technical")]
    assert [t.name for t in store.list_teams(session, users["tecnico"])] == ["Unione dei Comuni della Valle"]
    assert store.list_teams(session, users["esterno"]) == []
    with pytest.raises(InputError) as err:
        store.add_member(session, tid, email="nessuno@prova.it", table="tavolo", role="capo")
    assert {p.field for p in err.value.problems} == {"email", "table", "role"}
    other = ensure_municipality(session, "Lontano", region="Lazio")
    with pytest.raises(InputError, match="non fa parte"):
        store.add_member(session, tid, email="esterno@prova.it", table="technical", municipality_id=other.id)
    with pytest.raises(InputError, match="esiste già"):
        store.create_team(session, "Unione dei Comuni della Valle", [a])
    with pytest.raises(InputError) as err:
        store.create_team(session, "Altra", [], baseline_year=2030, target_year=2020)
    assert {p.field for p in err.value.problems} >= {"municipalities"}
    with pytest.raises(InputError) as err:
        store.update_target(
            session, tid, baseline_year=2010, target_year=2005, reduction_target_pct=120, baseline_t_co2=None
        )
    assert {p.field for p in err.value.problems} == {"target_year", "reduction_target_pct"}


def test_meetings_minutes_decisions(session: Session) -> None:
    _users(session, "sindaca", "tecnico")
    tid, _, _ = _team(session)
    store.add_member(session, tid, email="sindaca@prova.it", table="political", role="coordinator")
    tech = store.add_member(session, tid, email="tecnico@prova.it", table="technical")
    starts = monthly_schedule(dt.date(2026, 3, 12), dt.time(17, 30), 3)
    ids = store.schedule_meetings(
        session,
        tid,
        table="technical",
        starts=starts,
        place="Municipio",
        agenda=parse_agenda("Avanzamento\n[relazione] R"),
    )
    meetings = store.list_meetings(session, tid)
    assert [m.id for m in meetings] == ids
    # UTC instants come back as stored on both backends: March in CET, April and May in CEST
    assert [m.starts_at.hour for m in meetings] == [16, 15, 15]
    assert meetings[0].agenda[1].kind == "report"
    store.save_minutes(session, tid, ids[0], minutes="Verbale della riunione", attendance=[tech])
    did = store.add_decision(
        session, tid, ids[0], text="Relazione sul LED", kind="report", owner="Tecnico", due_date=dt.date(2026, 4, 1)
    )
    store.set_decision_status(session, tid, did, "done")
    meeting = store.get_meeting(session, tid, ids[0])
    assert meeting is not None and meeting.minutes == "Verbale della riunione" and meeting.attendance == (tech,)
    assert [(d.text, d.kind, d.status, d.due_date) for d in meeting.decisions] == [
        ("Relazione sul LED", "report", "done", dt.date(2026, 4, 1))
    ]
    decision = store.get_decision(session, tid, did)
    assert decision is not None and decision.table == "technical"
    with pytest.raises(InputError, match="presenti non del gruppo"):
        store.save_minutes(session, tid, ids[0], minutes="x", attendance=[9999])
    with pytest.raises(InputError) as err:
        store.add_decision(session, tid, ids[0], text=" ", kind="voto")
    assert {p.field for p in err.value.problems} == {"text", "kind"}
    new_start = dt.datetime(2026, 3, 13, 16, 0, tzinfo=dt.UTC)
    store.update_meeting(session, tid, ids[0], starts_at=new_start, place="Sala", agenda=[])
    moved = store.get_meeting(session, tid, ids[0])
    assert moved is not None and moved.starts_at == new_start and moved.agenda == ()
    # another team cannot reach these rows
    other, _, _ = _team(session, "Unione Due")
    assert store.get_meeting(session, other, ids[0]) is None
    assert store.get_decision(session, other, did) is None
    with pytest.raises(NotFoundError):
        store.add_decision(session, other, ids[0], text="intrusa")
    with pytest.raises(NotFoundError):
        store.set_decision_status(session, other, did, "open")


def test_actions_changes_indicators_report(session: Session) -> None:
    users = _users(session, "sindaca")
    tid, a, _ = _team(session)
    fields = store.ActionFields(
        "IP-01", "LED", "public_lighting", a, "Ufficio", savings_mwh=200, cost_eur=100_000, status="ongoing"
    )
    aid = store.create_action(session, tid, fields, user_id=users["sindaca"])
    pv = store.create_action(
        session,
        tid,
        store.ActionFields("PV-01", "FV", "local_electricity", None, renewable_mwh=400, emission_factor=0.3),
    )
    with pytest.raises(InputError, match="già usato"):
        store.create_action(session, tid, store.ActionFields("IP-01", "Doppia", "other"))
    with pytest.raises(InputError) as err:
        store.create_action(
            session, tid, store.ActionFields("X", "", "space", savings_mwh=-1, emission_factor=9, status="fatto")
        )
    assert {p.field for p in err.value.problems} == {"title", "sector", "status", "savings_mwh", "emission_factor"}
    store.set_action_status(session, tid, aid, "completed", note="Collaudo", user_id=users["sindaca"])
    info = store.get_action(session, tid, aid)
    assert info is not None and info.fields.status == "completed" and info.municipality == "Valle Alta"
    changes = store.list_changes(session, tid, aid)
    assert [(c.status_from, c.status_to, c.note) for c in changes] == [
        ("ongoing", "completed", "Collaudo"),
        ("ongoing", "ongoing", "Azione inserita nel piano"),
    ]
    # an edit without a note records which fields changed; an identical save records nothing
    edited = store.ActionFields(**{**info.fields.__dict__, "cost_eur": 90_000.0})
    store.update_action(session, tid, aid, edited)
    store.update_action(session, tid, aid, edited)
    notes = [c.note for c in store.list_changes(session, tid, aid)]
    assert notes[0] == "Aggiornati: cost_eur" and len(notes) == 3
    iid = store.add_indicator(session, tid, aid, name="Punti luce", unit="n", target=1000)
    store.record_indicator_value(session, tid, aid, iid, on=dt.date(2026, 3, 31), value=300)
    store.record_indicator_value(session, tid, aid, iid, on=dt.date(2026, 4, 30), value=500)
    store.record_indicator_value(session, tid, aid, iid, on=dt.date(2026, 4, 30), value=550)  # replaces
    [ind] = store.list_indicators(session, aid)
    assert [(v.on, v.value) for v in ind.values] == [(dt.date(2026, 3, 31), 300), (dt.date(2026, 4, 30), 550)]
    with pytest.raises(NotFoundError):
        store.record_indicator_value(session, tid, pv, iid, on=dt.date(2026, 4, 30), value=1)
    plan = store.plan_actions(session, tid)
    assert {p.code: p.municipality for p in plan} == {"IP-01": "Valle Alta", "PV-01": None}
    # the report: a meeting held yesterday, changes after it
    [mid] = store.schedule_meetings(
        session, tid, table="political", starts=[dt.datetime.now(dt.UTC) - dt.timedelta(days=1)], place="", agenda=[]
    )
    store.add_decision(session, tid, mid, text="Approvato il piano")
    report = store.team_report(session, tid)
    assert report.since is not None
    assert sorted(c.action_code for c in report.changes) == ["IP-01"] * 3 + ["PV-01"]
    assert [d.text for d in report.decisions] == ["Approvato il piano"]
    assert [f.action.code for f in report.by_status["completed"]] == ["IP-01"]
    assert report.summary.achieved.co2_t == pytest.approx(50.0)
    assert report.summary.planned.co2_t == pytest.approx(50.0 + 120.0)
    assert report.summary.target.target_t == pytest.approx(5500.0)
    assert [r.value for r in report.readings] == [550, 300]
    # isolation
    other, _, _ = _team(session, "Unione Due")
    assert store.get_action(session, other, aid) is None
    with pytest.raises(NotFoundError):
        store.update_action(session, other, aid, fields)
    with pytest.raises(InputError, match="non fa parte"):
        store.create_action(session, other, store.ActionFields("Z", "z", "other", a + 1000))
    # the database refuses what the checks refuse
    row = session.get(EnergyActionRow, aid)
    assert row is not None
    row.status = "fatto"
    with pytest.raises(Exception, match=r"(?i)check"):
        session.commit()
    session.rollback()


def test_documents(session: Session) -> None:
    users = _users(session, "sindaca")
    tid, _, _ = _team(session)
    data = bytes(range(256)) * 40
    did = store.add_document(
        session, tid, title="Delibera", filename="../delibera.pdf", content_type="application/pdf", data=data,
        table="political", uploaded_by=users["sindaca"],
    )  # fmt: skip
    [doc] = store.list_documents(session, tid)
    assert (doc.title, doc.filename, doc.size_bytes, doc.uploader, doc.table) == (
        "Delibera", "delibera.pdf", len(data), "Sindaca", "political"
    )  # fmt: skip
    found = store.get_document(session, tid, did)
    assert found is not None and found[1] == data
    with pytest.raises(InputError, match="oltre il limite di 10 MB"):
        store.add_document(
            session, tid, title="Grande", filename="g.bin", content_type="", data=b"x" * (MAX_DOCUMENT_BYTES + 1)
        )
    with pytest.raises(InputError, match="vuoto"):
        store.add_document(session, tid, title="Vuoto", filename="v.txt", content_type="text/plain", data=b"")
    other, _, _ = _team(session, "Unione Due")
    assert store.get_document(session, other, did) is None
    assert not store.delete_document(session, other, did)
    assert store.delete_document(session, tid, did) and store.list_documents(session, tid) == []


def test_mailing_list_through_smtp_sink(session: Session) -> None:
    _users(session, "sindaca", "tecnico")
    tid, _, _ = _team(session)
    store.add_member(session, tid, email="sindaca@prova.it", table="political", role="coordinator")
    store.add_member(session, tid, email="tecnico@prova.it", table="technical")
    store.add_subscriber(session, tid, email="Agenzia@Energia.it", name="Agenzia")
    store.add_subscriber(session, tid, email="agenzia@energia.it")  # once
    with pytest.raises(InputError, match="non valido"):
        store.add_subscriber(session, tid, email="non-una-email")
    assert store.mailing_recipients(session, tid) == ["agenzia@energia.it", "sindaca@prova.it", "tecnico@prova.it"]
    with smtp_sink() as sink:
        settings = SmtpSettings.from_env({}, host=sink.host, port=sink.port)
        sent = store.send_mailing(session, tid, settings, subject="Riunione di giugno", body="Ordine del giorno...")
    assert sent.status == "sent" and sent.recipients == 3
    [received] = sink.messages
    assert sorted(received.rcpt_tos) == ["agenzia@energia.it", "sindaca@prova.it", "tecnico@prova.it"]
    assert received.message["Subject"] == "[Unione dei Comuni della Valle] Riunione di giugno"
    assert received.message["Bcc"] is None  # nobody sees the others' addresses
    assert "Ordine del giorno..." in received.message.get_content()
    # a server that is not there: recorded as failed, not raised
    down = SmtpSettings.from_env({}, host="127.0.0.1", port=free_port())
    failed = store.send_mailing(session, tid, down, subject="Prova", body="Testo")
    assert failed.status == "failed" and failed.error is not None and "SMTP" in failed.error
    assert [m.status for m in store.list_mailings(session, tid)] == ["failed", "sent"]
    with pytest.raises(InputError) as err:
        store.send_mailing(session, tid, down, subject="", body="")
    assert {p.field for p in err.value.problems} == {"subject", "body"}


def test_seed_demo_team(engine: Engine) -> None:
    with session_factory(engine)() as s:
        with pytest.raises(NotFoundError, match="caricare prima la demo"):
            store.seed_demo_team(engine)
        create_user(s, email=store.DEMO_COORDINATOR, password_hash="x", display_name="Ufficio tecnico")
    tid = store.seed_demo_team(engine, now=NOW)
    assert store.seed_demo_team(engine, now=NOW) == tid  # idempotent
    with session_factory(engine)() as s:
        team = store.get_team(s, tid)
        assert team is not None and team.name == "Unione dei Comuni del Borgo"
        assert [m.name for m in team.municipalities] == ["Altrove", "Borgo Demo"]
        assert {(m.table, m.role) for m in store.list_members(s, tid)} == {
            ("political", "coordinator"),
            ("technical", "coordinator"),
        }
        assert len(store.list_actions(s, tid)) == 4
        [meeting] = store.list_meetings(s, tid)
        assert meeting.starts_at < NOW and meeting.decisions
        assert s.scalar(select(EnergyActionRow.id).where(EnergyActionRow.code == "IP-01")) is not None
        # the seeded plan predates its meeting: nothing is news for the next progress report
        report = store.team_report(s, tid, now=NOW)
        assert report.since == meeting.starts_at and report.changes == [] and report.readings == []
        assert [d.text for d in report.decisions] == [meeting.decisions[0].text]
