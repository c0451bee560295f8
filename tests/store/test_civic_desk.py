"""The desk's storage on SQLite and PostgreSQL: offices, slots, tickets, no double booking, tenant isolation."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from condivisa.demo import demo_community
from condivisa.errors import InputError
from condivisa.store import create_user, save_community, session_factory
from condivisa.store import desk as store
from condivisa.store.models import RoleAssignment
from condivisa.store.models_desk import DeskSlotRow, DeskTicketRow
from condivisa.store.municipalities import ensure_municipality
from condivisa.store.repository import NotFoundError

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def _ticket(session: Session, municipality_id: int, slot_id: int | None = None, name: str = "Mario Rossi") -> str:
    return store.create_ticket(
        session,
        municipality_id,
        subject="household",
        form="cer_join",
        answers={"subject": "household"},
        orientation={"recommended": {"form": "cer_join"}},
        estimate={"total_eur": 120.5},
        contact_name=name,
        contact_email="mario@example.org",
        slot_id=slot_id,
        now=NOW,
    )


def test_offices_slots_and_ticket_life_cycle(session: Session) -> None:
    town = ensure_municipality(session, "Borgo Demo", region="Piemonte", slug="borgo-demo")
    other = ensure_municipality(session, "Altrove", region="Piemonte", slug="altrove")
    office = store.create_office(session, town.id, name="Sportello Centro", district="Centro", address="Via Roma 1")
    with pytest.raises(InputError):
        store.create_office(session, town.id, name="Sportello Centro")
    start = NOW + dt.timedelta(days=2)
    slot = store.create_slot(session, town.id, office.id, starts_at=start, ends_at=start + dt.timedelta(minutes=30))
    with pytest.raises(InputError):
        store.create_slot(session, town.id, office.id, starts_at=start, ends_at=start - dt.timedelta(minutes=1))
    with pytest.raises(NotFoundError):
        store.create_slot(session, other.id, office.id, starts_at=start, ends_at=start + dt.timedelta(hours=1))
    assert [s.id for s in store.list_slots(session, town.id, free_only=True, after=NOW)] == [slot.id]
    assert store.list_slots(session, other.id) == []

    token = _ticket(session, town.id, slot.id)
    assert store.list_slots(session, town.id, free_only=True, after=NOW) == []  # a booked slot is not offered
    public = store.ticket_by_token(session, token)
    assert public.status == "open" and public.office is not None and public.starts_at == start
    assert not hasattr(public, "contact_name")

    tid = store.list_tickets(session, town.id)[0].id
    with pytest.raises(NotFoundError):
        store.ticket_detail(session, other.id, tid)
    with pytest.raises(NotFoundError):
        store.close_ticket(session, other.id, tid)
    assert store.list_tickets(session, other.id) == []

    user = create_user(session, email="ufficio@borgo.it", password_hash="x", display_name="Anna Uffici")
    session.add(RoleAssignment(user_id=user.id, role="municipality_officer", municipality="Borgo Demo"))
    session.commit()
    assert store.advisers(session, "Borgo Demo") == [(user.id, "Anna Uffici")]
    with pytest.raises(InputError):
        store.assign_ticket(session, town.id, tid, 999_999, allowed={user.id})
    store.assign_ticket(session, town.id, tid, user.id, allowed={user.id})
    assert store.ticket_detail(session, town.id, tid).status == "assigned"
    with pytest.raises(InputError):
        store.answer_ticket(session, town.id, tid, "   ", by_user=user.id)
    store.answer_ticket(session, town.id, tid, "La richiamo lunedì.", by_user=user.id)
    detail = store.ticket_detail(session, town.id, tid)
    assert (
        detail.status == "answered" and detail.assignee_name == "Anna Uffici" and detail.contact_name == "Mario Rossi"
    )
    assert [t.id for t in store.list_tickets(session, town.id, status="answered", office_id=office.id)] == [tid]
    assert store.list_tickets(session, town.id, status="open") == []
    store.close_ticket(session, town.id, tid)
    assert store.ticket_by_token(session, token).status == "closed"
    with pytest.raises(InputError):
        store.answer_ticket(session, town.id, tid, "dopo la chiusura", by_user=user.id)
    with pytest.raises(InputError):
        store.delete_slot(session, town.id, slot.id)  # booked


def test_booked_or_past_slot_is_refused(session: Session) -> None:
    town = ensure_municipality(session, "Borgo Demo", region="Piemonte", slug="borgo-demo")
    office = store.create_office(session, town.id, name="Sportello Nord")
    start = NOW + dt.timedelta(days=1)
    slot = store.create_slot(session, town.id, office.id, starts_at=start, ends_at=start + dt.timedelta(hours=1))
    past = store.create_slot(
        session, town.id, office.id, starts_at=NOW - dt.timedelta(hours=2), ends_at=NOW - dt.timedelta(hours=1)
    )
    _ticket(session, town.id, slot.id)
    with pytest.raises(store.SlotTaken):
        _ticket(session, town.id, slot.id, name="Secondo")
    with pytest.raises(store.SlotTaken):
        _ticket(session, town.id, past.id)
    assert len(store.list_tickets(session, town.id)) == 1


def test_unique_constraint_refuses_a_second_booking(session: Session) -> None:
    """The database itself refuses two tickets on one slot (what protects concurrent posts)."""
    town = ensure_municipality(session, "Borgo Demo", region="Piemonte", slug="borgo-demo")
    office = store.create_office(session, town.id, name="Sportello Sud")
    start = NOW + dt.timedelta(days=3)
    slot = store.create_slot(session, town.id, office.id, starts_at=start, ends_at=start + dt.timedelta(hours=1))
    common = dict(
        municipality_id=town.id, status="open", subject="household", form="auc", answers={}, orientation={},
        estimate={}, contact_name="x", contact_email="x@example.org", consent_at=NOW, slot_id=slot.id,
    )  # fmt: skip
    session.add(DeskTicketRow(token="a" * 20, **common))
    session.commit()
    session.add(DeskTicketRow(token="b" * 20, **common))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_concurrent_bookings_of_one_slot(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions() as s:
        town = ensure_municipality(s, "Borgo Demo", region="Piemonte", slug="borgo-demo")
        office = store.create_office(s, town.id, name="Sportello Est")
        start = NOW + dt.timedelta(days=4)
        slot = store.create_slot(s, town.id, office.id, starts_at=start, ends_at=start + dt.timedelta(hours=1))
    barrier = threading.Barrier(4)
    outcome: list[str] = []

    def book(i: int) -> None:
        with sessions() as s:
            barrier.wait()
            try:
                _ticket(s, town.id, slot.id, name=f"Cittadino {i}")
                outcome.append("ok")
            except store.SlotTaken:
                outcome.append("taken")
            except Exception as exc:  # SQLite may report a lock instead of the constraint
                outcome.append(type(exc).__name__)

    threads = [threading.Thread(target=book, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcome.count("ok") == 1, outcome
    with sessions() as s:
        booked = s.query(DeskTicketRow).filter(DeskTicketRow.slot_id == slot.id).count()
        assert booked == 1


def test_slot_and_office_deletion(session: Session) -> None:
    town = ensure_municipality(session, "Borgo Demo", region="Piemonte", slug="borgo-demo")
    office = store.create_office(session, town.id, name="Sportello Ovest")
    start = NOW + dt.timedelta(days=5)
    slot = store.create_slot(session, town.id, office.id, starts_at=start, ends_at=start + dt.timedelta(hours=1))
    store.delete_slot(session, town.id, slot.id)
    assert session.get(DeskSlotRow, slot.id) is None
    with pytest.raises(NotFoundError):
        store.delete_slot(session, town.id, slot.id)


def test_nearby_communities_from_the_store(session: Session) -> None:
    save_community(session, demo_community(), municipality="Borgo Demo")
    nearby = store.nearby_communities(session, "Borgo Demo", today=dt.date(2026, 1, 1))
    assert len(nearby) == 1
    c = nearby[0]
    assert c.configuration == "CER" and c.zone == "NORD" and c.status == "active"
    assert {"AC001E00123", "AC001E00124"} <= c.cabine and c.pv_kw > 0
    assert store.nearby_communities(session, "Altrove") == []
