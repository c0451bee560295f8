"""Storage of the training and engagement service: events, registrations and waiting list, attendance, materials,
working-table participants and outcomes, announcements.

Every function that reads or changes something of an event takes the municipality too (``municipality_id``) and
finds nothing outside it, so a page of one municipality can never reach another one's rows by id. Who holds a place
is decided by :func:`condivisa.civic.engagement.rebalance`, under a lock of the event's row (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite serialises writers), so two people registering at once cannot both take the last
place. The private link of a registration carries a random token; only its SHA-256 is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from condivisa.civic.engagement import (
    EVENT_KINDS,
    MAX_MATERIAL_BYTES,
    STAKEHOLDER_GROUPS,
    AttendanceRecord,
    Seat,
    Status,
    places_left,
    rebalance,
)
from condivisa.errors import InputError, Problem
from condivisa.store.models import utc_now
from condivisa.store.models_engagement import (
    CivicAnnouncementRow,
    CivicEventMaterialRow,
    CivicEventOutcomeRow,
    CivicEventParticipantRow,
    CivicEventRegistrationRow,
    CivicEventRow,
)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Views ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFields:
    """What an officer writes about an event. Instants are timezone-aware; ``capacity`` None means no limit."""

    kind: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    description: str = ""
    audience: str = ""
    place: str = ""
    capacity: int | None = None
    registration_open: bool = False
    published: bool = False
    district: str | None = None


@dataclass(frozen=True)
class EventInfo:
    """An event as pages show it, with the number of confirmed and waiting registrations [persons]."""

    id: int
    municipality_id: int
    kind: str
    title: str
    description: str
    audience: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int | None
    registration_open: bool
    published: bool
    district: str | None
    updated_at: dt.datetime
    confirmed: int = 0
    waiting: int = 0

    @property
    def kind_label(self) -> str:
        return EVENT_KINDS.get(self.kind, self.kind)

    @property
    def places_left(self) -> int | None:
        return places_left(self.capacity, self.confirmed)

    def accepts_registrations(self, now: dt.datetime | None = None) -> bool:
        """Published, registration open and not ended yet."""
        return self.published and self.registration_open and self.ends_at > (now or utc_now())


@dataclass(frozen=True)
class RegistrationInfo:
    """A registration (personal data: only for its holder's private link and the municipality's officers)."""

    id: int
    event_id: int
    name: str
    email: str
    organisation: str | None
    stakeholder_group: str
    status: Status
    attended: bool
    queued_at: dt.datetime
    created_at: dt.datetime
    waiting_position: int | None = None
    """1 for the first person waiting; None unless waiting."""

    @property
    def group_label(self) -> str:
        return STAKEHOLDER_GROUPS.get(self.stakeholder_group, self.stakeholder_group)


@dataclass(frozen=True)
class MaterialInfo:
    """A material without its bytes."""

    id: int
    event_id: int
    title: str
    filename: str
    content_type: str
    size_bytes: int
    public: bool
    uploaded_at: dt.datetime


@dataclass(frozen=True)
class ParticipantInfo:
    """A member organisation of a working table."""

    id: int
    event_id: int
    organisation: str
    role: str
    stakeholder_group: str

    @property
    def group_label(self) -> str:
        return STAKEHOLDER_GROUPS.get(self.stakeholder_group, self.stakeholder_group)


@dataclass(frozen=True)
class OutcomeInfo:
    """What a working-table meeting decided; ``internal_notes`` are for officers only."""

    id: int
    event_id: int
    meeting_date: dt.date
    public_summary: str
    internal_notes: str


@dataclass(frozen=True)
class AnnouncementInfo:
    """An announcement; ``paragraphs`` splits the plain-text body at blank lines."""

    id: int
    municipality_id: int
    title: str
    body: str
    published_from: dt.datetime
    published_until: dt.datetime | None
    paragraphs: list[str] = field(default_factory=list)


# Events -----------------------------------------------------------------------------------------------------------


def _check_event(fields: EventFields) -> None:
    problems: list[Problem] = []
    if fields.kind not in EVENT_KINDS:
        problems.append(
            Problem(f"tipo sconosciuto {fields.kind!r} (atteso uno di {', '.join(EVENT_KINDS)})", field="kind")
        )
    if not fields.title.strip():
        problems.append(Problem("il titolo è obbligatorio", field="title"))
    elif len(fields.title) > 200:
        problems.append(Problem("il titolo supera 200 caratteri", field="title"))
    for name in ("starts_at", "ends_at"):
        value = getattr(fields, name)
        if value.tzinfo is None or value.utcoffset() is None:
            problems.append(Problem("istante senza fuso orario", field=name))
    if not problems and fields.ends_at < fields.starts_at:
        problems.append(Problem("la fine precede l'inizio", field="ends_at"))
    if fields.capacity is not None and fields.capacity <= 0:
        problems.append(Problem("la capienza deve essere un intero positivo (vuoto: senza limite)", field="capacity"))
    if len(fields.audience) > 200:
        problems.append(Problem("il pubblico supera 200 caratteri", field="audience"))
    if len(fields.place) > 500:
        problems.append(Problem("il luogo supera 500 caratteri", field="place"))
    if fields.district is not None and len(fields.district) > 100:
        problems.append(Problem("il quartiere supera 100 caratteri", field="district"))
    if problems:
        raise InputError(problems)


def _apply(row: CivicEventRow, fields: EventFields) -> None:
    row.kind = fields.kind
    row.title = fields.title.strip()
    row.description = fields.description.strip()
    row.audience = fields.audience.strip()
    row.place = fields.place.strip()
    row.starts_at = fields.starts_at
    row.ends_at = fields.ends_at
    row.capacity = fields.capacity
    row.registration_open = fields.registration_open
    row.published = fields.published
    row.district = (fields.district or "").strip() or None
    row.updated_at = utc_now()


def create_event(session: Session, municipality_id: int, fields: EventFields) -> int:
    """Store a new event of the municipality and return its id.

    Raises
    ------
    InputError
        A field is missing or wrong (the problem names it).
    """
    _check_event(fields)
    row = CivicEventRow(municipality_id=municipality_id)
    _apply(row, fields)
    session.add(row)
    session.commit()
    return row.id


def update_event(session: Session, municipality_id: int, event_id: int, fields: EventFields) -> EventInfo | None:
    """Change an event; a larger capacity confirms people waiting, in order. None if the event is not there."""
    _check_event(fields)
    row = _event_row(session, municipality_id, event_id, lock=True)
    if row is None:
        return None
    _apply(row, fields)
    _rebalance(session, row)
    session.commit()
    return get_event(session, municipality_id, event_id)


def _event_row(session: Session, municipality_id: int, event_id: int, *, lock: bool = False) -> CivicEventRow | None:
    """The event's row; with ``lock`` in a new transaction that holds the event until commit or rollback.

    Locking ends the session's current transaction first (committing it): the places must be counted in a
    transaction that already holds the lock. PostgreSQL locks the row (``FOR UPDATE``); SQLite has no row locks, so
    a no-op update of the row takes the database's write lock at once (waiting on the busy timeout) instead of
    failing later when a read snapshot would have to become a write.
    """
    where = (CivicEventRow.id == event_id, CivicEventRow.municipality_id == municipality_id)
    query = select(CivicEventRow).where(*where)
    if lock:
        session.commit()
        bind = session.get_bind()
        if bind.dialect.name == "sqlite":
            session.execute(
                update(CivicEventRow).where(*where).values(updated_at=CivicEventRow.updated_at),
                execution_options={"synchronize_session": False},
            )
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def _counts(session: Session, event_ids: list[int]) -> dict[tuple[int, str], int]:
    if not event_ids:
        return {}
    reg = CivicEventRegistrationRow
    rows = session.execute(
        select(reg.event_id, reg.status, func.count())
        .where(reg.event_id.in_(event_ids))
        .group_by(reg.event_id, reg.status)
    )
    return {(e, s): int(n) for e, s, n in rows}


def _info(row: CivicEventRow, counts: dict[tuple[int, str], int]) -> EventInfo:
    return EventInfo(
        id=row.id,
        municipality_id=row.municipality_id,
        kind=row.kind,
        title=row.title,
        description=row.description,
        audience=row.audience,
        place=row.place,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        capacity=row.capacity,
        registration_open=row.registration_open,
        published=row.published,
        district=row.district,
        updated_at=row.updated_at,
        confirmed=counts.get((row.id, "confirmed"), 0),
        waiting=counts.get((row.id, "waiting"), 0),
    )


def get_event(session: Session, municipality_id: int, event_id: int) -> EventInfo | None:
    """The event ``event_id`` of the municipality, or None (also when it belongs to another municipality)."""
    row = _event_row(session, municipality_id, event_id)
    return None if row is None else _info(row, _counts(session, [row.id]))


def list_events(
    session: Session,
    municipality_id: int,
    *,
    published_only: bool = False,
    ending_after: dt.datetime | None = None,
    kind: str | None = None,
    district: str | None = None,
) -> list[EventInfo]:
    """Events of the municipality by start time, filtered by publication, end after an instant, kind, district."""
    query = select(CivicEventRow).where(CivicEventRow.municipality_id == municipality_id)
    if published_only:
        query = query.where(CivicEventRow.published.is_(True))
    if ending_after is not None:
        query = query.where(CivicEventRow.ends_at >= ending_after)
    if kind:
        query = query.where(CivicEventRow.kind == kind)
    if district:
        query = query.where(CivicEventRow.district == district)
    rows = list(session.scalars(query.order_by(CivicEventRow.starts_at, CivicEventRow.id)))
    counts = _counts(session, [r.id for r in rows])
    return [_info(r, counts) for r in rows]


def list_districts(session: Session, municipality_id: int) -> list[str]:
    """Districts named by the municipality's published events, alphabetically."""
    query = (
        select(CivicEventRow.district)
        .where(
            CivicEventRow.municipality_id == municipality_id,
            CivicEventRow.published.is_(True),
            CivicEventRow.district.is_not(None),
        )
        .distinct()
    )
    return sorted(d for d in session.scalars(query) if d)


# Registrations and waiting list ------------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a private link's token: what the database stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _queue(session: Session, event_id: int) -> list[CivicEventRegistrationRow]:
    reg = CivicEventRegistrationRow
    query = select(reg).where(reg.event_id == event_id).order_by(reg.queued_at, reg.id)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def _rebalance(session: Session, event: CivicEventRow) -> None:
    """Give the free places of ``event`` to the people waiting, in queue order (the caller commits)."""
    session.flush()
    queue = _queue(session, event.id)
    decided = rebalance(event.capacity, [Seat(r.id, _status(r.status)) for r in queue])
    now = utc_now()
    for row in queue:
        if decided[row.id] != row.status:
            row.status = decided[row.id]
            if row.status == "confirmed":
                row.confirmed_at = now


def _status(text: str) -> Status:
    if text == "confirmed":
        return "confirmed"
    if text == "waiting":
        return "waiting"
    return "cancelled"


def _registration(row: CivicEventRegistrationRow, position: int | None = None) -> RegistrationInfo:
    return RegistrationInfo(
        id=row.id,
        event_id=row.event_id,
        name=row.name,
        email=row.email,
        organisation=row.organisation,
        stakeholder_group=row.stakeholder_group,
        status=_status(row.status),
        attended=row.attended,
        queued_at=row.queued_at,
        created_at=row.created_at,
        waiting_position=position,
    )


def _duplicate() -> InputError:
    return InputError.one(
        "questo indirizzo email è già iscritto a questo evento: usa il link privato ricevuto all'iscrizione per "
        "vederla o annullarla",
        field="email",
    )


def register(
    session: Session,
    municipality_id: int,
    event_id: int,
    *,
    name: str,
    email: str,
    stakeholder_group: str,
    consent: bool,
    organisation: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[RegistrationInfo, str]:
    """Register a person to an event: a place if one is free, else the end of the waiting list.

    Parameters
    ----------
    name, email : str
        The person (the email is compared without case: one registration per email and event).
    stakeholder_group : str
        A key of :data:`condivisa.civic.engagement.STAKEHOLDER_GROUPS`.
    consent : bool
        Consent to the processing of personal data; required.
    organisation : str, optional
        Organisation the person represents.
    now : datetime, optional
        The current instant (tests).

    Returns
    -------
    (RegistrationInfo, str)
        The registration and the token of its private link (shown once, only its hash is stored).

    Raises
    ------
    InputError
        Registration closed, a field missing or wrong, or the email already registered (and not cancelled).
    LookupError
        No such event in the municipality.
    """
    now = now or utc_now()
    event = _event_row(session, municipality_id, event_id, lock=True)
    if event is None:
        raise LookupError(f"evento {event_id} non trovato")
    if not (event.published and event.registration_open and event.ends_at > now):
        session.rollback()
        raise InputError.one("le iscrizioni a questo evento sono chiuse")
    name, email, organisation = name.strip(), email.strip().lower(), (organisation or "").strip() or None
    problems: list[Problem] = []
    if not name:
        problems.append(Problem("il nome è obbligatorio", field="name"))
    elif len(name) > 200:
        problems.append(Problem("il nome supera 200 caratteri", field="name"))
    if not EMAIL_RE.match(email) or len(email) > 320:
        problems.append(Problem("indirizzo email non valido", field="email"))
    if organisation is not None and len(organisation) > 200:
        problems.append(Problem("l'organizzazione supera 200 caratteri", field="organisation"))
    if stakeholder_group not in STAKEHOLDER_GROUPS:
        problems.append(Problem("scegli il gruppo a cui appartieni", field="stakeholder_group"))
    if not consent:
        problems.append(Problem("serve il consenso al trattamento dei dati personali", field="privacy"))
    if problems:
        session.rollback()
        raise InputError(problems)
    token = secrets.token_urlsafe(32)
    existing = session.scalar(
        select(CivicEventRegistrationRow)
        .where(CivicEventRegistrationRow.event_id == event_id, CivicEventRegistrationRow.email == email)
        .execution_options(populate_existing=True)
    )
    if existing is not None and existing.status != "cancelled":
        session.rollback()
        raise _duplicate()
    row = existing or CivicEventRegistrationRow(event_id=event_id, email=email, created_at=now)
    row.name, row.organisation, row.stakeholder_group = name, organisation, stakeholder_group
    row.status, row.attended, row.token_hash = "waiting", False, token_hash(token)
    row.consent_at, row.queued_at, row.confirmed_at, row.cancelled_at = now, now, None, None
    if existing is None:
        session.add(row)
    try:
        _rebalance(session, event)
        session.commit()
    except IntegrityError as exc:  # the same email at the same moment
        session.rollback()
        raise _duplicate() from exc
    return _registration(row, _position(session, row)), token


def _position(session: Session, row: CivicEventRegistrationRow) -> int | None:
    if row.status != "waiting":
        return None
    waiting = [r.id for r in _queue(session, row.event_id) if r.status == "waiting"]
    return waiting.index(row.id) + 1


def registration_by_token(session: Session, token: str) -> tuple[RegistrationInfo, int] | None:
    """The registration of a private link and the municipality id of its event; None for an unknown token."""
    row = session.scalar(
        select(CivicEventRegistrationRow).where(CivicEventRegistrationRow.token_hash == token_hash(token))
    )
    if row is None:
        return None
    municipality_id = session.scalar(select(CivicEventRow.municipality_id).where(CivicEventRow.id == row.event_id))
    assert municipality_id is not None
    return _registration(row, _position(session, row)), municipality_id


def _cancel(session: Session, row: CivicEventRegistrationRow, municipality_id: int) -> None:
    event = _event_row(session, municipality_id, row.event_id, lock=True)
    if event is not None:
        session.refresh(row)
    if event is None or row.status == "cancelled":
        session.rollback()
        return
    row.status, row.cancelled_at, row.attended = "cancelled", utc_now(), False
    _rebalance(session, event)
    session.commit()


def cancel_by_token(session: Session, token: str) -> RegistrationInfo | None:
    """Withdraw the registration of a private link; the first person waiting takes the place. None if unknown."""
    row = session.scalar(
        select(CivicEventRegistrationRow).where(CivicEventRegistrationRow.token_hash == token_hash(token))
    )
    if row is None:
        return None
    municipality_id = session.scalar(select(CivicEventRow.municipality_id).where(CivicEventRow.id == row.event_id))
    assert municipality_id is not None
    _cancel(session, row, municipality_id)
    return _registration(row)


def cancel_registration(session: Session, municipality_id: int, event_id: int, registration_id: int) -> bool:
    """Withdraw a registration on the officers' side; False if it is not a registration of that event."""
    row = _registration_row(session, municipality_id, event_id, registration_id)
    if row is None:
        return False
    _cancel(session, row, municipality_id)
    return True


def _registration_row(
    session: Session, municipality_id: int, event_id: int, registration_id: int
) -> CivicEventRegistrationRow | None:
    if _event_row(session, municipality_id, event_id) is None:
        return None
    reg = CivicEventRegistrationRow
    return session.scalar(select(reg).where(reg.id == registration_id, reg.event_id == event_id))


def list_registrations(session: Session, municipality_id: int, event_id: int) -> list[RegistrationInfo]:
    """Registrations of the event in queue order (empty for an event of another municipality)."""
    if _event_row(session, municipality_id, event_id) is None:
        return []
    out: list[RegistrationInfo] = []
    position = 0
    for row in _queue(session, event_id):
        if row.status == "waiting":
            position += 1
        out.append(_registration(row, position if row.status == "waiting" else None))
    return out


def set_attendance(session: Session, municipality_id: int, event_id: int, present: Collection[int]) -> int:
    """Mark present exactly the confirmed registrations whose id is in ``present``; returns how many are present.

    Ids of other events, waiting or cancelled registrations are ignored.
    """
    if _event_row(session, municipality_id, event_id) is None:
        return 0
    count = 0
    for row in _queue(session, event_id):
        row.attended = row.status == "confirmed" and row.id in present
        count += row.attended
    session.commit()
    return count


def attendance_records(session: Session, municipality_id: int) -> list[AttendanceRecord]:
    """Every registration of the municipality's events, without personal data, for the statistics."""
    reg = CivicEventRegistrationRow
    query = (
        select(CivicEventRow.kind, reg.stakeholder_group, reg.status, reg.attended)
        .join(CivicEventRow, CivicEventRow.id == reg.event_id)
        .where(CivicEventRow.municipality_id == municipality_id)
    )
    return [AttendanceRecord(k, g, _status(s), bool(a)) for k, g, s, a in session.execute(query)]


# Materials ---------------------------------------------------------------------------------------------------------


def _material(row: CivicEventMaterialRow) -> MaterialInfo:
    return MaterialInfo(
        row.id, row.event_id, row.title, row.filename, row.content_type, row.size_bytes, row.public, row.uploaded_at
    )


_MATERIAL_COLUMNS = (
    CivicEventMaterialRow.id,
    CivicEventMaterialRow.event_id,
    CivicEventMaterialRow.title,
    CivicEventMaterialRow.filename,
    CivicEventMaterialRow.content_type,
    CivicEventMaterialRow.size_bytes,
    CivicEventMaterialRow.public,
    CivicEventMaterialRow.uploaded_at,
)


def add_material(
    session: Session,
    municipality_id: int,
    event_id: int,
    *,
    filename: str,
    content_type: str,
    data: bytes,
    public: bool,
    title: str = "",
) -> int:
    """Store a file of the event (at most :data:`MAX_MATERIAL_BYTES`) and return its id.

    Raises
    ------
    InputError
        Empty or too large file, or a name too long (the problem names the file).
    LookupError
        No such event in the municipality.
    """
    if _event_row(session, municipality_id, event_id) is None:
        raise LookupError(f"evento {event_id} non trovato")
    name = re.sub(r"[\\/\x00-\x1f\"]", "_", filename.strip()).strip() or "materiale"
    if len(name) > 255:
        raise InputError.one("nome del file oltre 255 caratteri", file=name[:60] + "…", field="file")
    if not data:
        raise InputError.one("il file è vuoto", file=name, field="file")
    if len(data) > MAX_MATERIAL_BYTES:
        size = len(data) / 1024 / 1024
        raise InputError.one(f"il file pesa {size:.1f} MB, il massimo è 10 MB", file=name, field="file")
    kind = (content_type or "").strip()[:100] or "application/octet-stream"
    row = CivicEventMaterialRow(
        event_id=event_id,
        title=(title.strip() or name)[:200],
        filename=name,
        content_type=kind,
        size_bytes=len(data),
        data=data,
        public=public,
    )
    session.add(row)
    session.commit()
    return row.id


def list_materials(session: Session, municipality_id: int, event_id: int, *, public_only: bool) -> list[MaterialInfo]:
    """Materials of the event (without their bytes), oldest first."""
    if _event_row(session, municipality_id, event_id) is None:
        return []
    query = select(*_MATERIAL_COLUMNS).where(CivicEventMaterialRow.event_id == event_id)
    if public_only:
        query = query.where(CivicEventMaterialRow.public.is_(True))
    rows = session.execute(query.order_by(CivicEventMaterialRow.uploaded_at, CivicEventMaterialRow.id))
    return [MaterialInfo(*r) for r in rows]


def material_with_data(
    session: Session, municipality_id: int, event_id: int, material_id: int
) -> tuple[MaterialInfo, bytes] | None:
    """A material and its bytes; None if it is not a material of that event of that municipality."""
    if _event_row(session, municipality_id, event_id) is None:
        return None
    mat = CivicEventMaterialRow
    row = session.scalar(select(mat).where(mat.id == material_id, mat.event_id == event_id))
    return None if row is None else (_material(row), bytes(row.data))


def set_material_public(session: Session, municipality_id: int, event_id: int, material_id: int, public: bool) -> bool:
    """Publish or hide a material; False if it is not there."""
    if _event_row(session, municipality_id, event_id) is None:
        return False
    mat = CivicEventMaterialRow
    row = session.scalar(select(mat).where(mat.id == material_id, mat.event_id == event_id))
    if row is None:
        return False
    row.public = public
    session.commit()
    return True


def delete_material(session: Session, municipality_id: int, event_id: int, material_id: int) -> bool:
    """Remove a material; False if it is not there."""
    if _event_row(session, municipality_id, event_id) is None:
        return False
    mat = CivicEventMaterialRow
    row = session.scalar(select(mat).where(mat.id == material_id, mat.event_id == event_id))
    if row is None:
        return False
    session.delete(row)
    session.commit()
    return True


# Working tables: participants and outcomes ------------------------------------------------------------------------


def add_participant(
    session: Session, municipality_id: int, event_id: int, *, organisation: str, role: str, stakeholder_group: str
) -> int:
    """Add an organisation to a working table and return its id.

    Raises
    ------
    InputError
        Organisation missing or too long, unknown group.
    LookupError
        No such event in the municipality.
    """
    if _event_row(session, municipality_id, event_id) is None:
        raise LookupError(f"evento {event_id} non trovato")
    problems: list[Problem] = []
    if not organisation.strip():
        problems.append(Problem("l'organizzazione è obbligatoria", field="organisation"))
    if len(organisation.strip()) > 200 or len(role.strip()) > 200:
        problems.append(Problem("testo oltre 200 caratteri", field="organisation/role"))
    if stakeholder_group not in STAKEHOLDER_GROUPS:
        problems.append(Problem(f"gruppo sconosciuto {stakeholder_group!r}", field="stakeholder_group"))
    if problems:
        raise InputError(problems)
    row = CivicEventParticipantRow(
        event_id=event_id, organisation=organisation.strip(), role=role.strip(), stakeholder_group=stakeholder_group
    )
    session.add(row)
    session.commit()
    return row.id


def list_participants(session: Session, municipality_id: int, event_id: int) -> list[ParticipantInfo]:
    """Organisations of a working table, by stakeholder group order then name."""
    if _event_row(session, municipality_id, event_id) is None:
        return []
    part = CivicEventParticipantRow
    rows = session.scalars(select(part).where(part.event_id == event_id))
    order = list(STAKEHOLDER_GROUPS)
    out = [ParticipantInfo(r.id, r.event_id, r.organisation, r.role, r.stakeholder_group) for r in rows]
    return sorted(
        out,
        key=lambda p: (
            order.index(p.stakeholder_group) if p.stakeholder_group in order else len(order),
            p.organisation.lower(),
        ),
    )


def remove_participant(session: Session, municipality_id: int, event_id: int, participant_id: int) -> bool:
    """Remove an organisation from a working table; False if it is not there."""
    if _event_row(session, municipality_id, event_id) is None:
        return False
    part = CivicEventParticipantRow
    row = session.scalar(select(part).where(part.id == participant_id, part.event_id == event_id))
    if row is None:
        return False
    session.delete(row)
    session.commit()
    return True


def add_outcome(
    session: Session,
    municipality_id: int,
    event_id: int,
    *,
    meeting_date: dt.date,
    public_summary: str,
    internal_notes: str = "",
) -> int:
    """Record what a meeting decided and return its id.

    Raises
    ------
    InputError
        Both texts empty.
    LookupError
        No such event in the municipality.
    """
    if _event_row(session, municipality_id, event_id) is None:
        raise LookupError(f"evento {event_id} non trovato")
    if not public_summary.strip() and not internal_notes.strip():
        raise InputError.one("scrivi la sintesi pubblica o le note interne", field="public_summary")
    row = CivicEventOutcomeRow(
        event_id=event_id,
        meeting_date=meeting_date,
        public_summary=public_summary.strip(),
        internal_notes=internal_notes.strip(),
    )
    session.add(row)
    session.commit()
    return row.id


def list_outcomes(session: Session, municipality_id: int, event_id: int) -> list[OutcomeInfo]:
    """Outcomes of a working table's meetings, most recent meeting first."""
    if _event_row(session, municipality_id, event_id) is None:
        return []
    out = CivicEventOutcomeRow
    rows = session.scalars(select(out).where(out.event_id == event_id).order_by(out.meeting_date.desc(), out.id.desc()))
    return [OutcomeInfo(r.id, r.event_id, r.meeting_date, r.public_summary, r.internal_notes) for r in rows]


# Announcements -----------------------------------------------------------------------------------------------------


def _paragraphs(body: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", body.replace("\r\n", "\n")) if p.strip()]


def create_announcement(
    session: Session,
    municipality_id: int,
    *,
    title: str,
    body: str,
    published_from: dt.datetime,
    published_until: dt.datetime | None = None,
) -> int:
    """Store an announcement and return its id.

    Raises
    ------
    InputError
        Title missing or too long, or the end before the start.
    """
    problems: list[Problem] = []
    if not title.strip():
        problems.append(Problem("il titolo è obbligatorio", field="title"))
    elif len(title.strip()) > 200:
        problems.append(Problem("il titolo supera 200 caratteri", field="title"))
    if published_until is not None and published_until <= published_from:
        problems.append(Problem("la fine della pubblicazione precede l'inizio", field="published_until"))
    if problems:
        raise InputError(problems)
    row = CivicAnnouncementRow(
        municipality_id=municipality_id,
        title=title.strip(),
        body=body.strip(),
        published_from=published_from,
        published_until=published_until,
    )
    session.add(row)
    session.commit()
    return row.id


def list_announcements(
    session: Session, municipality_id: int, *, current_at: dt.datetime | None = None
) -> list[AnnouncementInfo]:
    """Announcements of the municipality, newest first; only those shown at ``current_at`` if given."""
    ann = CivicAnnouncementRow
    query = select(ann).where(ann.municipality_id == municipality_id)
    if current_at is not None:
        query = query.where(
            ann.published_from <= current_at,
            (ann.published_until.is_(None)) | (ann.published_until > current_at),
        )
    rows = session.scalars(query.order_by(ann.published_from.desc(), ann.id.desc()))
    return [
        AnnouncementInfo(
            r.id, r.municipality_id, r.title, r.body, r.published_from, r.published_until, _paragraphs(r.body)
        )
        for r in rows
    ]


def delete_announcement(session: Session, municipality_id: int, announcement_id: int) -> bool:
    """Remove an announcement; False if it is not one of the municipality."""
    ann = CivicAnnouncementRow
    row = session.scalar(select(ann).where(ann.id == announcement_id, ann.municipality_id == municipality_id))
    if row is None:
        return False
    session.delete(row)
    session.commit()
    return True
