"""Storage of the training and engagement service on SQLite and PostgreSQL: events, registrations with capacity and
waiting list, the unique (event, email) rule, private-link tokens stored as hashes, attendance, materials as bytes,
working tables, announcements, and the municipality scope of every lookup."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from condivisa.civic.engagement import attendance_statistics
from condivisa.errors import InputError
from condivisa.store import engagement as store
from condivisa.store import session_factory
from condivisa.store.models_engagement import CivicEventRegistrationRow
from condivisa.store.municipalities import ensure_municipality

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _fields(**changes: object) -> store.EventFields:
    start = NOW + dt.timedelta(days=10)
    values: dict[str, object] = {
        "kind": "course_citizens",
        "title": "Che cos'è una comunità energetica",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=2),
        "place": "Biblioteca civica, via Roma 1",
        "capacity": 2,
        "registration_open": True,
        "published": True,
        "district": "Centro",
    }
    values.update(changes)
    return store.EventFields(**values)  # type: ignore[arg-type]


def _towns(session: Session) -> tuple[int, int]:
    a = ensure_municipality(session, "Borgo Prova", region="Piemonte").id
    b = ensure_municipality(session, "Altra Prova", region="Piemonte").id
    return a, b


def _register(session: Session, town: int, event: int, n: int, **kw: object) -> tuple[store.RegistrationInfo, str]:
    args: dict[str, object] = {
        "name": f"Persona {n}",
        "email": f"persona{n}@esempio.it",
        "stakeholder_group": "citizens",
        "consent": True,
    }
    args.update(kw)
    return store.register(session, town, event, **args)  # type: ignore[arg-type]


def test_capacity_waiting_list_and_cancel_link(session: Session) -> None:
    town, other = _towns(session)
    event = store.create_event(session, town, _fields())
    regs = [_register(session, town, event, n) for n in range(1, 5)]
    assert [r.status for r, _ in regs] == ["confirmed", "confirmed", "waiting", "waiting"]
    assert [r.waiting_position for r, _ in regs] == [None, None, 1, 2]
    info = store.get_event(session, town, event)
    assert info is not None and (info.confirmed, info.waiting, info.places_left) == (2, 2, 0)

    # tokens are stored only as their hash
    stored = set(session.scalars(select(CivicEventRegistrationRow.token_hash)))
    assert all(token not in stored and store.token_hash(token) in stored for _, token in regs)

    # the private link shows its own registration only, and cancels it: the first waiting gets the place
    first, token = regs[0]
    found = store.registration_by_token(session, token)
    assert found is not None and found[0].id == first.id and found[1] == town
    assert store.registration_by_token(session, token[:-2] + "xx") is None
    cancelled = store.cancel_by_token(session, token)
    assert cancelled is not None and cancelled.status == "cancelled"
    statuses = {r.email: (r.status, r.waiting_position) for r in store.list_registrations(session, town, event)}
    assert statuses == {
        "persona1@esempio.it": ("cancelled", None),
        "persona2@esempio.it": ("confirmed", None),
        "persona3@esempio.it": ("confirmed", None),
        "persona4@esempio.it": ("waiting", 1),
    }
    assert store.cancel_by_token(session, token) is not None  # twice: nothing more happens
    assert store.get_event(session, town, event).confirmed == 2  # type: ignore[union-attr]

    # a larger capacity confirms the people waiting
    store.update_event(session, town, event, _fields(capacity=5))
    assert [r.status for r in store.list_registrations(session, town, event)][-1] == "confirmed"

    # another municipality sees nothing of this event
    assert store.get_event(session, other, event) is None
    assert store.list_registrations(session, other, event) == []
    assert store.cancel_registration(session, other, event, regs[1][0].id) is False
    with pytest.raises(LookupError):
        _register(session, other, event, 9)


def test_one_registration_per_email_and_event(session: Session) -> None:
    town, _ = _towns(session)
    event = store.create_event(session, town, _fields())
    second = store.create_event(session, town, _fields(title="Secondo incontro"))
    _reg, token = _register(session, town, event, 1)
    with pytest.raises(InputError, match="già iscritto") as err:
        _register(session, town, event, 1, email="  PERSONA1@esempio.it ", name="Altro nome")
    assert err.value.problems[0].field == "email"
    _register(session, town, second, 1)  # the same person may join another event
    # the database itself refuses a second row of the same (event, email)
    row = session.scalar(select(CivicEventRegistrationRow).where(CivicEventRegistrationRow.event_id == event))
    assert row is not None
    session.add(
        CivicEventRegistrationRow(
            event_id=event,
            name="Doppio",
            email=row.email,
            stakeholder_group="citizens",
            status="waiting",
            token_hash="0" * 64,
            consent_at=NOW,
        )
    )
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    # after cancelling, the same email may register again, at the end of the queue, with a new link
    store.cancel_by_token(session, token)
    again, new_token = _register(session, town, event, 1)
    assert again.status == "confirmed" and new_token != token
    assert store.registration_by_token(session, token) is None


def test_registration_checks(session: Session) -> None:
    town, _ = _towns(session)
    event = store.create_event(session, town, _fields())
    with pytest.raises(InputError) as err:
        _register(session, town, event, 1, name=" ", email="non-una-email", stakeholder_group="x", consent=False)
    assert {p.field for p in err.value.problems} == {"name", "email", "stakeholder_group", "privacy"}
    closed = store.create_event(session, town, _fields(registration_open=False))
    draft = store.create_event(session, town, _fields(published=False))
    past = store.create_event(
        session, town, _fields(starts_at=NOW - dt.timedelta(days=2), ends_at=NOW - dt.timedelta(days=1))
    )
    for eid in (closed, draft, past):
        with pytest.raises(InputError, match="chiuse"):
            _register(session, town, eid, 1)
    with pytest.raises(InputError) as bad:
        store.create_event(session, town, _fields(kind="sagra", title="", capacity=0, ends_at=NOW))
    assert {p.field for p in bad.value.problems} >= {"kind", "title", "capacity"}


def test_attendance_and_statistics(session: Session) -> None:
    town, other = _towns(session)
    course = store.create_event(session, town, _fields(capacity=None))
    workshop = store.create_event(session, town, _fields(kind="workshop", capacity=1))
    r1, _ = _register(session, town, course, 1)
    r2, _ = _register(session, town, course, 2, stakeholder_group="businesses")
    w1, _ = _register(session, town, workshop, 3, stakeholder_group="third_sector")
    w2, _ = _register(session, town, workshop, 4)
    assert w2.status == "waiting"
    # a waiting registration or one of another event cannot be marked present
    assert store.set_attendance(session, town, course, {r1.id, w1.id}) == 1
    assert store.set_attendance(session, town, workshop, {w1.id, w2.id}) == 1
    assert store.set_attendance(session, other, workshop, {w1.id}) == 0
    stats = attendance_statistics(store.attendance_records(session, town))
    by_kind = {r.key: (r.confirmed, r.waiting, r.attended) for r in stats.by_kind}
    assert by_kind == {"course_citizens": (2, 0, 1), "workshop": (1, 1, 1)}
    by_group = {r.key: (r.confirmed, r.attended) for r in stats.by_group}
    assert by_group == {"citizens": (1, 1), "businesses": (1, 0), "third_sector": (1, 1)}
    assert store.attendance_records(session, other) == []
    assert r2.group_label == "Imprese"


def test_materials_bytes_round_trip(session: Session) -> None:
    town, other = _towns(session)
    event = store.create_event(session, town, _fields())
    payload = bytes(range(256)) * 4096 + b"\x00fine"  # 1 MiB of every byte value, NULs included
    mid = store.add_material(
        session, town, event, filename="slide/corso.pdf", content_type="application/pdf", data=payload, public=True
    )
    hidden = store.add_material(
        session, town, event, filename="note.txt", content_type="", data=b"interno", public=False, title="Note"
    )
    found = store.material_with_data(session, town, event, mid)
    assert found is not None
    info, data = found
    assert data == payload and info.size_bytes == len(payload) and info.content_type == "application/pdf"
    assert info.filename == "slide_corso.pdf" and info.title == "slide_corso.pdf"
    assert [m.id for m in store.list_materials(session, town, event, public_only=True)] == [mid]
    assert [m.id for m in store.list_materials(session, town, event, public_only=False)] == [mid, hidden]
    assert store.material_with_data(session, town, event, hidden)[0].content_type == "application/octet-stream"  # type: ignore[index]
    assert store.material_with_data(session, other, event, mid) is None
    assert store.set_material_public(session, town, event, hidden, True)
    assert len(store.list_materials(session, town, event, public_only=True)) == 2
    assert store.delete_material(session, town, event, hidden)
    assert not store.delete_material(session, other, event, mid)
    with pytest.raises(InputError, match="10 MB") as big:
        store.add_material(
            session,
            town,
            event,
            filename="grande.bin",
            content_type="",
            data=b"x" * (10 * 1024 * 1024 + 1),
            public=True,
        )
    assert big.value.problems[0].file == "grande.bin"
    with pytest.raises(InputError, match="vuoto"):
        store.add_material(session, town, event, filename="vuoto.pdf", content_type="", data=b"", public=True)


def test_working_table_and_announcements(session: Session) -> None:
    town, other = _towns(session)
    table = store.create_event(session, town, _fields(kind="working_table", capacity=None))
    store.add_participant(
        session, town, table, organisation="Coop Sole", role="capofila", stakeholder_group="third_sector"
    )
    store.add_participant(session, town, table, organisation="Banca Locale", role="", stakeholder_group="financers")
    store.add_participant(session, town, table, organisation="Comitato Via Po", role="", stakeholder_group="citizens")
    assert [p.organisation for p in store.list_participants(session, town, table)] == [
        "Comitato Via Po",
        "Coop Sole",
        "Banca Locale",
    ]
    with pytest.raises(InputError):
        store.add_participant(session, town, table, organisation="", role="", stakeholder_group="nessuno")
    store.add_outcome(
        session, town, table, meeting_date=dt.date(2026, 3, 1), public_summary="Scelti i tetti.", internal_notes="x"
    )
    store.add_outcome(session, town, table, meeting_date=dt.date(2026, 4, 1), public_summary="", internal_notes="y")
    outcomes = store.list_outcomes(session, town, table)
    assert [o.meeting_date.month for o in outcomes] == [4, 3]
    assert store.list_outcomes(session, other, table) == []

    current = store.create_announcement(
        session,
        town,
        title="Bando tetti",
        body="Primo.\n\nSecondo\nsu due righe.",
        published_from=NOW - dt.timedelta(days=1),
    )
    store.create_announcement(
        session,
        town,
        title="Scaduto",
        body="",
        published_from=NOW - dt.timedelta(days=9),
        published_until=NOW - dt.timedelta(days=2),
    )
    store.create_announcement(session, town, title="Futuro", body="", published_from=NOW + dt.timedelta(days=3))
    shown = store.list_announcements(session, town, current_at=NOW)
    assert [a.title for a in shown] == ["Bando tetti"]
    assert shown[0].paragraphs == ["Primo.", "Secondo\nsu due righe."]
    assert len(store.list_announcements(session, town)) == 3
    assert store.list_announcements(session, other, current_at=NOW) == []
    with pytest.raises(InputError):
        store.create_announcement(session, town, title="", body="", published_from=NOW, published_until=NOW)
    assert not store.delete_announcement(session, other, current)
    assert store.delete_announcement(session, town, current)


def test_listing_filters(session: Session) -> None:
    town, _ = _towns(session)
    store.create_event(session, town, _fields(title="A", district="Nord"))
    store.create_event(session, town, _fields(title="B", kind="school", district="Sud"))
    store.create_event(session, town, _fields(title="Bozza", published=False))
    store.create_event(
        session,
        town,
        _fields(title="Passato", starts_at=NOW - dt.timedelta(days=3), ends_at=NOW - dt.timedelta(days=2)),
    )
    public = store.list_events(session, town, published_only=True, ending_after=NOW)
    assert [e.title for e in public] == ["A", "B"]
    assert [e.title for e in store.list_events(session, town, published_only=True, kind="school")] == ["B"]
    assert [e.title for e in store.list_events(session, town, published_only=True, district="Nord")] == ["A"]
    assert len(store.list_events(session, town)) == 4
    assert store.list_districts(session, town) == ["Centro", "Nord", "Sud"]


def test_concurrent_registrations_never_overbook(engine: Engine) -> None:
    """Eight people register at once for the last two places: exactly two are confirmed, the others wait."""
    sessions = session_factory(engine)
    with sessions() as s:
        town, _ = _towns(s)
        event = store.create_event(s, town, _fields(capacity=2))
    barrier = threading.Barrier(8)

    def one(n: int) -> str:
        with sessions() as s:
            barrier.wait()
            info, _token = _register(s, town, event, n)
            return info.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(one, range(8)))
    assert sorted(statuses) == ["confirmed"] * 2 + ["waiting"] * 6
    with sessions() as s:
        stored = [r.status for r in store.list_registrations(s, town, event)]
    assert stored.count("confirmed") == 2 and stored.count("waiting") == 6
