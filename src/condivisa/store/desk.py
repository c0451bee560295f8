"""The digital help desk's storage: district offices, appointment slots, tickets; the communities it knows.

Every function takes the municipality's id and refuses rows of another municipality (:class:`NotFoundError`), so a
page can never reach another municipality's tickets by guessing ids. Contact data of a ticket are returned only by
:func:`ticket_detail` and :func:`list_tickets` (officers' pages); :func:`ticket_by_token` gives the citizen's public
follow-up view without them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from condivisa.civic.desk import NearbyCommunity
from condivisa.errors import InputError
from condivisa.rules.rulebook import zone_of_region
from condivisa.store.models import CommunityRow, PlantRow, PointRow, RoleAssignment, User, utc_now
from condivisa.store.models_desk import TICKET_STATUSES, DeskOfficeRow, DeskSlotRow, DeskTicketRow
from condivisa.store.repository import NotFoundError

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "assign": ("open", "assigned", "answered"),
    "answer": ("open", "assigned", "answered"),
    "close": ("open", "assigned", "answered"),
}
"""Statuses from which each officer action is allowed (a closed ticket changes no more)."""


class SlotTaken(Exception):
    """The appointment slot was booked by someone else in the meantime (or no longer exists)."""


@dataclass(frozen=True)
class Office:
    id: int
    name: str
    district: str
    address: str


@dataclass(frozen=True)
class Slot:
    """An appointment slot; ``ticket_id`` is set when booked."""

    id: int
    office_id: int
    office_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    ticket_id: int | None


@dataclass(frozen=True)
class PublicTicket:
    """What the citizen's follow-up page shows: no contact data."""

    token: str
    municipality_id: int
    status: str
    form: str
    created_at: dt.datetime
    answer: str | None
    answered_at: dt.datetime | None
    office: Office | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None


@dataclass(frozen=True)
class Ticket:
    """A ticket as officers see it, contact data included."""

    id: int
    token: str
    status: str
    subject: str
    form: str
    answers: dict[str, Any]
    orientation: dict[str, Any]
    estimate: dict[str, Any]
    contact_name: str
    contact_email: str
    contact_phone: str | None
    office: Office | None
    starts_at: dt.datetime | None
    assigned_to: int | None
    assignee_name: str | None
    answer: str | None
    created_at: dt.datetime
    answered_at: dt.datetime | None
    closed_at: dt.datetime | None


def _office(row: DeskOfficeRow | None) -> Office | None:
    return None if row is None else Office(row.id, row.name, row.district, row.address)


# Offices and slots ----------------------------------------------------------------------------------------------


def create_office(
    session: Session, municipality_id: int, *, name: str, district: str = "", address: str = ""
) -> Office:
    """Add a district office.

    Raises
    ------
    InputError
        Empty name, or an office of that name already exists in the municipality.
    """
    name = name.strip()
    if not name:
        raise InputError.one("il nome dell'ufficio è obbligatorio", field="name")
    if len(name) > 200 or len(district) > 200 or len(address) > 300:
        raise InputError.one("testo troppo lungo (nome e quartiere 200 caratteri, indirizzo 300)", field="name")
    exists = session.scalar(
        select(DeskOfficeRow.id).where(DeskOfficeRow.municipality_id == municipality_id, DeskOfficeRow.name == name)
    )
    if exists is not None:
        raise InputError.one(f"esiste già un ufficio di nome «{name}»", field="name")
    row = DeskOfficeRow(municipality_id=municipality_id, name=name, district=district.strip(), address=address.strip())
    session.add(row)
    session.commit()
    return Office(row.id, row.name, row.district, row.address)


def list_offices(session: Session, municipality_id: int) -> list[Office]:
    """Offices of the municipality, by name."""
    rows = session.scalars(
        select(DeskOfficeRow).where(DeskOfficeRow.municipality_id == municipality_id).order_by(DeskOfficeRow.name)
    )
    return [Office(r.id, r.name, r.district, r.address) for r in rows]


def _office_row(session: Session, municipality_id: int, office_id: int) -> DeskOfficeRow:
    row = session.get(DeskOfficeRow, office_id)
    if row is None or row.municipality_id != municipality_id:
        raise NotFoundError(f"ufficio {office_id} non trovato")
    return row


def create_slot(
    session: Session, municipality_id: int, office_id: int, *, starts_at: dt.datetime, ends_at: dt.datetime
) -> Slot:
    """Add an appointment slot at an office of the municipality.

    Raises
    ------
    NotFoundError
        The office is not the municipality's.
    InputError
        End not after start, naive instants, or a slot with the same start at that office.
    """
    office = _office_row(session, municipality_id, office_id)
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InputError.one("orari senza fuso orario", field="starts_at")
    if ends_at <= starts_at:
        raise InputError.one("la fine dell'appuntamento deve essere dopo l'inizio", field="ends_at")
    if ends_at - starts_at > dt.timedelta(hours=8):
        raise InputError.one("un appuntamento dura al massimo 8 ore", field="ends_at")
    clash = session.scalar(
        select(DeskSlotRow.id).where(DeskSlotRow.office_id == office_id, DeskSlotRow.starts_at == starts_at)
    )
    if clash is not None:
        raise InputError.one("esiste già una fascia con questo inizio in questo ufficio", field="starts_at")
    row = DeskSlotRow(office_id=office_id, starts_at=starts_at, ends_at=ends_at)
    session.add(row)
    session.commit()
    return Slot(row.id, office.id, office.name, row.starts_at, row.ends_at, None)


def list_slots(
    session: Session, municipality_id: int, *, free_only: bool = False, after: dt.datetime | None = None
) -> list[Slot]:
    """Slots of the municipality's offices by start; ``free_only`` leaves out booked ones, ``after`` past ones."""
    query = (
        select(DeskSlotRow, DeskOfficeRow.name, DeskTicketRow.id)
        .join(DeskOfficeRow, DeskOfficeRow.id == DeskSlotRow.office_id)
        .outerjoin(DeskTicketRow, DeskTicketRow.slot_id == DeskSlotRow.id)
        .where(DeskOfficeRow.municipality_id == municipality_id)
        .order_by(DeskSlotRow.starts_at, DeskOfficeRow.name)
    )
    if free_only:
        query = query.where(DeskTicketRow.id.is_(None))
    if after is not None:
        query = query.where(DeskSlotRow.starts_at > after)
    return [Slot(s.id, s.office_id, name, s.starts_at, s.ends_at, tid) for s, name, tid in session.execute(query)]


def delete_slot(session: Session, municipality_id: int, slot_id: int) -> None:
    """Remove a free slot.

    Raises
    ------
    NotFoundError
        No such slot in the municipality.
    InputError
        The slot is booked.
    """
    row = session.get(DeskSlotRow, slot_id)
    if row is None:
        raise NotFoundError(f"fascia {slot_id} non trovata")
    _office_row(session, municipality_id, row.office_id)
    if session.scalar(select(DeskTicketRow.id).where(DeskTicketRow.slot_id == slot_id)) is not None:
        raise InputError.one("la fascia è prenotata: non si può eliminare", field="slot_id")
    session.delete(row)
    session.commit()


# Tickets --------------------------------------------------------------------------------------------------------


def create_ticket(
    session: Session,
    municipality_id: int,
    *,
    subject: str,
    form: str,
    answers: dict[str, Any],
    orientation: dict[str, Any],
    estimate: dict[str, Any],
    contact_name: str,
    contact_email: str,
    contact_phone: str | None = None,
    slot_id: int | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Store a citizen's request and book its slot; returns the public follow-up token.

    The booking relies on the unique ``slot_id`` of ``desk_tickets``: when two requests book the same slot at
    once, the database refuses the second.

    Raises
    ------
    SlotTaken
        The slot is booked already, is past, or is not the municipality's.
    """
    now = now or utc_now()
    office_id = None
    if slot_id is not None:
        slot = session.get(DeskSlotRow, slot_id)
        office = None if slot is None else session.get(DeskOfficeRow, slot.office_id)
        if slot is None or office is None or office.municipality_id != municipality_id or slot.starts_at <= now:
            raise SlotTaken(f"fascia {slot_id} non disponibile")
        office_id = office.id
    token = secrets.token_urlsafe(18)
    row = DeskTicketRow(
        municipality_id=municipality_id,
        token=token,
        status="open",
        subject=subject,
        form=form,
        answers=answers,
        orientation=orientation,
        estimate=estimate,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        consent_at=now,
        office_id=office_id,
        slot_id=slot_id,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        if slot_id is not None:
            raise SlotTaken(f"fascia {slot_id} già prenotata") from exc
        raise
    return token


def ticket_by_token(session: Session, token: str) -> PublicTicket:
    """The public view of a ticket by its follow-up token.

    Raises
    ------
    NotFoundError
        No ticket has this token.
    """
    row = session.scalar(select(DeskTicketRow).where(DeskTicketRow.token == token))
    if row is None:
        raise NotFoundError("richiesta non trovata")
    slot = session.get(DeskSlotRow, row.slot_id) if row.slot_id is not None else None
    office = session.get(DeskOfficeRow, row.office_id) if row.office_id is not None else None
    return PublicTicket(
        token=row.token,
        municipality_id=row.municipality_id,
        status=row.status,
        form=row.form,
        created_at=row.created_at,
        answer=row.answer,
        answered_at=row.answered_at,
        office=_office(office),
        starts_at=slot.starts_at if slot else None,
        ends_at=slot.ends_at if slot else None,
    )


def _ticket(session: Session, row: DeskTicketRow) -> Ticket:
    slot = session.get(DeskSlotRow, row.slot_id) if row.slot_id is not None else None
    office = session.get(DeskOfficeRow, row.office_id) if row.office_id is not None else None
    assignee = session.get(User, row.assigned_to) if row.assigned_to is not None else None
    return Ticket(
        id=row.id,
        token=row.token,
        status=row.status,
        subject=row.subject,
        form=row.form,
        answers=dict(row.answers),
        orientation=dict(row.orientation),
        estimate=dict(row.estimate),
        contact_name=row.contact_name,
        contact_email=row.contact_email,
        contact_phone=row.contact_phone,
        office=_office(office),
        starts_at=slot.starts_at if slot else None,
        assigned_to=row.assigned_to,
        assignee_name=assignee.display_name if assignee else None,
        answer=row.answer,
        created_at=row.created_at,
        answered_at=row.answered_at,
        closed_at=row.closed_at,
    )


def _ticket_row(session: Session, municipality_id: int, ticket_id: int) -> DeskTicketRow:
    row = session.get(DeskTicketRow, ticket_id)
    if row is None or row.municipality_id != municipality_id:
        raise NotFoundError(f"richiesta {ticket_id} non trovata")
    return row


def ticket_detail(session: Session, municipality_id: int, ticket_id: int) -> Ticket:
    """A ticket of the municipality with contact data (officers only).

    Raises
    ------
    NotFoundError
        No such ticket in the municipality.
    """
    return _ticket(session, _ticket_row(session, municipality_id, ticket_id))


def list_tickets(
    session: Session, municipality_id: int, *, status: str | None = None, office_id: int | None = None
) -> list[Ticket]:
    """Tickets of the municipality, newest first, optionally of one status and one office."""
    if status is not None and status not in TICKET_STATUSES:
        raise InputError.one(f"stato sconosciuto «{status}»; attesi {', '.join(TICKET_STATUSES)}", field="status")
    query = select(DeskTicketRow).where(DeskTicketRow.municipality_id == municipality_id)
    if status is not None:
        query = query.where(DeskTicketRow.status == status)
    if office_id is not None:
        query = query.where(DeskTicketRow.office_id == office_id)
    rows = session.scalars(query.order_by(DeskTicketRow.created_at.desc(), DeskTicketRow.id.desc()))
    return [_ticket(session, r) for r in rows]


def count_open(session: Session, municipality_id: int) -> int:
    """Tickets not closed yet."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(DeskTicketRow)
            .where(DeskTicketRow.municipality_id == municipality_id, DeskTicketRow.status != "closed")
        )
        or 0
    )


def advisers(session: Session, municipality_name: str) -> list[tuple[int, str]]:
    """Users holding the officer role of the municipality: ``(user id, display name)``, by name."""
    rows = session.execute(
        select(User.id, User.display_name)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.role == "municipality_officer",
            RoleAssignment.municipality == municipality_name,
            User.active.is_(True),
        )
        .distinct()
        .order_by(User.display_name)
    )
    return [(int(uid), str(name)) for uid, name in rows]


def _check_transition(row: DeskTicketRow, action: str) -> None:
    if row.status not in TRANSITIONS[action]:
        raise InputError.one(
            f"la richiesta è nello stato «{row.status}»: azione «{action}» non ammessa", field="status"
        )


def assign_ticket(
    session: Session, municipality_id: int, ticket_id: int, adviser_id: int, *, allowed: set[int]
) -> None:
    """Give a ticket to an adviser (``allowed``: the municipality's officers and the acting user).

    Raises
    ------
    NotFoundError
        No such ticket in the municipality.
    InputError
        The adviser is not allowed, or the ticket is closed.
    """
    row = _ticket_row(session, municipality_id, ticket_id)
    _check_transition(row, "assign")
    if adviser_id not in allowed:
        raise InputError.one("il consulente scelto non è un operatore di questo comune", field="adviser_id")
    row.assigned_to = adviser_id
    if row.status == "open":
        row.status = "assigned"
    session.commit()


def answer_ticket(session: Session, municipality_id: int, ticket_id: int, text: str, *, by_user: int) -> None:
    """Write the answer shown to the citizen; the ticket becomes ``answered`` (assigned to the author if nobody).

    Raises
    ------
    NotFoundError
        No such ticket in the municipality.
    InputError
        Empty or too long answer, or the ticket is closed.
    """
    row = _ticket_row(session, municipality_id, ticket_id)
    _check_transition(row, "answer")
    text = text.strip()
    if not text:
        raise InputError.one("la risposta è vuota", field="answer")
    if len(text) > 5000:
        raise InputError.one("la risposta supera 5.000 caratteri", field="answer")
    row.answer = text
    row.answered_at = utc_now()
    row.status = "answered"
    if row.assigned_to is None:
        row.assigned_to = by_user
    session.commit()


def close_ticket(session: Session, municipality_id: int, ticket_id: int) -> None:
    """Close a ticket.

    Raises
    ------
    NotFoundError
        No such ticket in the municipality.
    InputError
        Already closed.
    """
    row = _ticket_row(session, municipality_id, ticket_id)
    _check_transition(row, "close")
    row.status = "closed"
    row.closed_at = utc_now()
    session.commit()


# Communities known to the desk ------------------------------------------------------------------------------------


def nearby_communities(
    session: Session, municipality_name: str, *, today: dt.date | None = None
) -> list[NearbyCommunity]:
    """The stored configurations of a municipality as :class:`condivisa.civic.desk.NearbyCommunity`.

    ``cabine`` are those of its members' points and plants; ``status`` is ``active`` when a plant is in operation
    by ``today``, else ``forming``; ``pv_kw`` is the power of its PV plants [kW].
    """
    today = today or dt.date.today()
    out = []
    rows = session.scalars(
        select(CommunityRow).where(CommunityRow.municipality == municipality_name).order_by(CommunityRow.name)
    )
    for row in rows:
        cabine = set(session.scalars(select(PointRow.cabina).where(PointRow.community_id == row.id).distinct()))
        plants = session.execute(
            select(PlantRow.cabina, PlantRow.technology, PlantRow.power_kw, PlantRow.commissioning_date).where(
                PlantRow.community_id == row.id
            )
        ).all()
        cabine.update(p.cabina for p in plants)
        try:
            zone = zone_of_region(row.region)
        except ValueError:
            continue
        out.append(
            NearbyCommunity(
                id=row.id,
                name=row.name,
                configuration=row.configuration,
                status="active" if any(p.commissioning_date <= today for p in plants) else "forming",
                zone=zone,
                cabine=frozenset(cabine),
                pv_kw=float(sum(p.power_kw for p in plants if p.technology == "pv")),
            )
        )
    return out
