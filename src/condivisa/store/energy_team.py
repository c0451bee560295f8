"""Storage of the inter-municipal energy team: team, members, meetings and decisions, documents, mailing list,
actions of the plan with their changes and indicators; the demo team (:func:`seed_demo_team`).

Every function that reaches a row of a team takes the team's id and refuses rows of another team (None or
:class:`NotFoundError`), so a page can never reach another team's data by guessing ids. Who may call what is
decided by the pages (:func:`condivisa.web.energy_team.team_role`); :func:`memberships` gives them the user's
places in the team.

Wrong input raises :class:`InputError` naming the field, in Italian.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl as ssl_module
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime as rfc_datetime
from email.utils import make_msgid

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from condivisa.energy_team.meetings import (
    DECISION_KINDS,
    DECISION_STATUSES,
    ITEM_KINDS,
    ROLES,
    TABLES,
    AgendaItem,
)
from condivisa.energy_team.plan import (
    INSTRUMENTS,
    ORIGINS,
    SECTORS,
    STATUSES,
    ActionChange,
    Indicator,
    IndicatorReading,
    IndicatorValue,
    PlanAction,
    ProgressReport,
    ReportDecision,
    last_meeting_before,
    progress_report,
    summarize,
)
from condivisa.errors import InputError, Problem
from condivisa.notify.email import EmailError, SmtpSettings, check_recipients
from condivisa.store.models import MunicipalityRow, User, utc_now
from condivisa.store.models_energy_team import (
    MAX_DOCUMENT_BYTES,
    EnergyActionChangeRow,
    EnergyActionRow,
    EnergyDecisionRow,
    EnergyDocumentRow,
    EnergyIndicatorRow,
    EnergyIndicatorValueRow,
    EnergyMailingRow,
    EnergyMeetingRow,
    EnergySubscriberRow,
    EnergyTeamMemberRow,
    EnergyTeamMunicipalityRow,
    EnergyTeamRow,
)
from condivisa.store.repository import NotFoundError

# Teams and members ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamMunicipality:
    id: int
    name: str
    slug: str


@dataclass(frozen=True)
class TeamInfo:
    """A team with its municipalities (by name) and PAESC target."""

    id: int
    name: str
    baseline_year: int
    target_year: int
    reduction_target_pct: float
    baseline_t_co2: float | None
    municipalities: tuple[TeamMunicipality, ...]


@dataclass(frozen=True)
class MemberInfo:
    """A place of a user in a table of the team."""

    id: int
    user_id: int
    name: str
    email: str
    table: str
    role: str
    municipality: str | None


def _check_target(baseline_year: int, target_year: int, pct: float, baseline_t: float | None) -> None:
    problems: list[Problem] = []
    if not 1990 <= baseline_year <= 2100:
        problems.append(Problem(f"anno base {baseline_year} fuori da 1990..2100", field="baseline_year"))
    if not baseline_year < target_year <= 2100:
        problems.append(Problem(f"l'anno obiettivo {target_year} deve seguire l'anno base", field="target_year"))
    if not 0 <= pct <= 100:
        problems.append(Problem(f"obiettivo di riduzione {pct} % fuori da 0..100", field="reduction_target_pct"))
    if baseline_t is not None and not baseline_t >= 0:
        problems.append(Problem("le emissioni dell'anno base devono essere non negative", field="baseline_t_co2"))
    if problems:
        raise InputError(problems)


def create_team(
    session: Session,
    name: str,
    municipality_ids: Sequence[int],
    *,
    baseline_year: int = 2005,
    target_year: int = 2030,
    reduction_target_pct: float = 55.0,
    baseline_t_co2: float | None = None,
) -> int:
    """Create a team (a union of the municipalities ``municipality_ids``); returns its id.

    Raises
    ------
    InputError
        Empty or taken name, no municipality or an unknown one, a target out of range.
    """
    name = name.strip()
    if not name or len(name) > 200:
        raise InputError.one("il nome del gruppo è obbligatorio (massimo 200 caratteri)", field="name")
    if session.scalar(select(EnergyTeamRow.id).where(EnergyTeamRow.name == name)) is not None:
        raise InputError.one(f"esiste già un gruppo di nome «{name}»", field="name")
    ids = sorted(set(municipality_ids))
    if not ids:
        raise InputError.one("indicare almeno un comune", field="municipalities")
    known = set(session.scalars(select(MunicipalityRow.id).where(MunicipalityRow.id.in_(ids))))
    if known != set(ids):
        raise InputError.one(f"comuni sconosciuti: {sorted(set(ids) - known)}", field="municipalities")
    _check_target(baseline_year, target_year, reduction_target_pct, baseline_t_co2)
    row = EnergyTeamRow(
        name=name,
        baseline_year=baseline_year,
        target_year=target_year,
        reduction_target_pct=reduction_target_pct,
        baseline_t_co2=baseline_t_co2,
    )
    session.add(row)
    session.flush()
    session.add_all([EnergyTeamMunicipalityRow(team_id=row.id, municipality_id=m) for m in ids])
    session.commit()
    return row.id


def update_target(
    session: Session,
    team_id: int,
    *,
    baseline_year: int,
    target_year: int,
    reduction_target_pct: float,
    baseline_t_co2: float | None,
) -> None:
    """Change the team's baseline year, target year, reduction target [%] and baseline emissions [t CO2/year]."""
    row = session.get(EnergyTeamRow, team_id)
    if row is None:
        raise NotFoundError(f"gruppo {team_id} non trovato")
    _check_target(baseline_year, target_year, reduction_target_pct, baseline_t_co2)
    row.baseline_year, row.target_year = baseline_year, target_year
    row.reduction_target_pct, row.baseline_t_co2 = reduction_target_pct, baseline_t_co2
    session.commit()


def get_team(session: Session, team_id: int) -> TeamInfo | None:
    """The team ``team_id`` with its municipalities, or None."""
    row = session.get(EnergyTeamRow, team_id)
    if row is None:
        return None
    towns = session.execute(
        select(MunicipalityRow.id, MunicipalityRow.name, MunicipalityRow.slug)
        .join(EnergyTeamMunicipalityRow, EnergyTeamMunicipalityRow.municipality_id == MunicipalityRow.id)
        .where(EnergyTeamMunicipalityRow.team_id == team_id)
        .order_by(MunicipalityRow.name)
    ).all()
    return TeamInfo(
        row.id,
        row.name,
        row.baseline_year,
        row.target_year,
        row.reduction_target_pct,
        row.baseline_t_co2,
        tuple(TeamMunicipality(i, n, s) for i, n, s in towns),
    )


def list_teams(session: Session, user_id: int | None = None) -> list[TeamInfo]:
    """Teams of which ``user_id`` is a member (every team when None), by name."""
    query = select(EnergyTeamRow.id).order_by(EnergyTeamRow.name)
    if user_id is not None:
        mine = select(EnergyTeamMemberRow.team_id).where(EnergyTeamMemberRow.user_id == user_id)
        query = query.where(EnergyTeamRow.id.in_(mine))
    return [t for t in (get_team(session, i) for i in session.scalars(query)) if t is not None]


def find_team(session: Session, name: str) -> int | None:
    """The id of the team called ``name``, or None."""
    return session.scalar(select(EnergyTeamRow.id).where(EnergyTeamRow.name == name))


def memberships(session: Session, team_id: int, user_id: int) -> list[tuple[str, str]]:
    """The ``(table, role)`` places of ``user_id`` in the team (empty for a non-member)."""
    rows = session.execute(
        select(EnergyTeamMemberRow.team_table, EnergyTeamMemberRow.role).where(
            EnergyTeamMemberRow.team_id == team_id, EnergyTeamMemberRow.user_id == user_id
        )
    ).all()
    return [(t, r) for t, r in rows]


def add_member(
    session: Session,
    team_id: int,
    *,
    email: str,
    table: str,
    role: str = "member",
    municipality_id: int | None = None,
) -> int:
    """Put the user with ``email`` in a table of the team (or change their role and municipality there).

    Raises
    ------
    InputError
        No user with that email, unknown table or role, a municipality not of the team.
    """
    problems: list[Problem] = []
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        problems.append(Problem(f"nessun utente registrato con l'email {email.strip()!r}", field="email"))
    if table not in TABLES:
        problems.append(Problem(f"tavolo sconosciuto {table!r}: politico o tecnico", field="table"))
    if role not in ROLES:
        problems.append(Problem(f"ruolo sconosciuto {role!r}: coordinatore o componente", field="role"))
    if municipality_id is not None and municipality_id not in _team_municipality_ids(session, team_id):
        problems.append(Problem("il comune indicato non fa parte del gruppo", field="municipality_id"))
    if problems or user is None:
        raise InputError(problems)
    row = session.scalar(
        select(EnergyTeamMemberRow).where(
            EnergyTeamMemberRow.team_id == team_id,
            EnergyTeamMemberRow.user_id == user.id,
            EnergyTeamMemberRow.team_table == table,
        )
    )
    if row is None:
        row = EnergyTeamMemberRow(team_id=team_id, user_id=user.id, team_table=table)
        session.add(row)
    row.role, row.municipality_id = role, municipality_id
    session.commit()
    return row.id


def remove_member(session: Session, team_id: int, member_id: int) -> bool:
    """Take a place out of the team; False when there is none with that id in the team."""
    done = session.execute(
        delete(EnergyTeamMemberRow).where(EnergyTeamMemberRow.id == member_id, EnergyTeamMemberRow.team_id == team_id)
    )
    session.commit()
    return bool(getattr(done, "rowcount", 0))


def list_members(session: Session, team_id: int) -> list[MemberInfo]:
    """Members of the team: political table first, coordinators first, then by name."""
    rows = session.execute(
        select(EnergyTeamMemberRow, User.display_name, User.email, MunicipalityRow.name)
        .join(User, User.id == EnergyTeamMemberRow.user_id)
        .outerjoin(MunicipalityRow, MunicipalityRow.id == EnergyTeamMemberRow.municipality_id)
        .where(EnergyTeamMemberRow.team_id == team_id)
    ).all()
    out = [MemberInfo(m.id, m.user_id, name, email, m.team_table, m.role, town) for m, name, email, town in rows]
    tables, roles = list(TABLES), list(ROLES)
    return sorted(out, key=lambda m: (tables.index(m.table), roles.index(m.role), m.name.lower()))


def _team_municipality_ids(session: Session, team_id: int) -> set[int]:
    return set(
        session.scalars(
            select(EnergyTeamMunicipalityRow.municipality_id).where(EnergyTeamMunicipalityRow.team_id == team_id)
        )
    )


# Meetings and decisions ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionInfo:
    id: int
    meeting_id: int
    table: str
    meeting_at: dt.datetime
    kind: str
    text: str
    owner: str
    due_date: dt.date | None
    status: str
    created_at: dt.datetime


@dataclass(frozen=True)
class MeetingInfo:
    """A meeting; ``attendance`` holds ids of :class:`MemberInfo` present."""

    id: int
    table: str
    starts_at: dt.datetime
    place: str
    agenda: tuple[AgendaItem, ...]
    minutes: str | None
    attendance: tuple[int, ...]
    decisions: tuple[DecisionInfo, ...]


def _agenda(raw: Sequence[dict[str, object]]) -> tuple[AgendaItem, ...]:
    out = []
    for item in raw:
        kind = str(item.get("kind", "discussion"))
        out.append(AgendaItem(str(item.get("title", "")) or "—", kind if kind in ITEM_KINDS else "discussion"))
    return tuple(out)


def _decision(row: EnergyDecisionRow, meeting: EnergyMeetingRow) -> DecisionInfo:
    return DecisionInfo(
        row.id,
        meeting.id,
        meeting.team_table,
        meeting.starts_at,
        row.kind,
        row.text,
        row.owner,
        row.due_date,
        row.status,
        row.created_at,
    )


def _meeting(session: Session, row: EnergyMeetingRow) -> MeetingInfo:
    decisions = session.scalars(
        select(EnergyDecisionRow).where(EnergyDecisionRow.meeting_id == row.id).order_by(EnergyDecisionRow.id)
    )
    return MeetingInfo(
        row.id,
        row.team_table,
        row.starts_at,
        row.place,
        _agenda(row.agenda),
        row.minutes,
        tuple(int(i) for i in row.attendance),
        tuple(_decision(d, row) for d in decisions),
    )


def schedule_meetings(
    session: Session,
    team_id: int,
    *,
    table: str,
    starts: Sequence[dt.datetime],
    place: str,
    agenda: Sequence[AgendaItem],
    created_by: int | None = None,
) -> list[int]:
    """Store meetings of ``table`` at the instants ``starts`` (UTC), each with the same place and agenda."""
    if table not in TABLES:
        raise InputError.one(f"tavolo sconosciuto {table!r}", field="table")
    if not starts:
        raise InputError.one("nessuna data indicata", field="starts_at")
    if len(place) > 300:
        raise InputError.one("luogo troppo lungo (massimo 300 caratteri)", field="place")
    rows = [
        EnergyMeetingRow(
            team_id=team_id,
            team_table=table,
            starts_at=s,
            place=place.strip(),
            agenda=[{"title": it.title, "kind": it.kind} for it in agenda],
            attendance=[],
            created_by=created_by,
        )
        for s in starts
    ]
    session.add_all(rows)
    session.commit()
    return [r.id for r in rows]


def _meeting_row(session: Session, team_id: int, meeting_id: int) -> EnergyMeetingRow:
    row = session.get(EnergyMeetingRow, meeting_id)
    if row is None or row.team_id != team_id:
        raise NotFoundError(f"riunione {meeting_id} non trovata")
    return row


def get_meeting(session: Session, team_id: int, meeting_id: int) -> MeetingInfo | None:
    """The meeting with its decisions, or None (unknown, or of another team)."""
    row = session.get(EnergyMeetingRow, meeting_id)
    return None if row is None or row.team_id != team_id else _meeting(session, row)


def list_meetings(session: Session, team_id: int, *, table: str | None = None) -> list[MeetingInfo]:
    """Meetings of the team (of one table), by start."""
    query = select(EnergyMeetingRow).where(EnergyMeetingRow.team_id == team_id)
    if table is not None:
        query = query.where(EnergyMeetingRow.team_table == table)
    return [_meeting(session, r) for r in session.scalars(query.order_by(EnergyMeetingRow.starts_at))]


def update_meeting(
    session: Session, team_id: int, meeting_id: int, *, starts_at: dt.datetime, place: str, agenda: Sequence[AgendaItem]
) -> None:
    """Move a meeting, change its place or agenda."""
    row = _meeting_row(session, team_id, meeting_id)
    if len(place) > 300:
        raise InputError.one("luogo troppo lungo (massimo 300 caratteri)", field="place")
    row.starts_at, row.place = starts_at, place.strip()
    row.agenda = [{"title": it.title, "kind": it.kind} for it in agenda]
    session.commit()


def save_minutes(session: Session, team_id: int, meeting_id: int, *, minutes: str, attendance: Sequence[int]) -> None:
    """Record the minutes (plain text) and who was present (ids of the team's members).

    Raises
    ------
    InputError
        A present person who is not a member of the team, or minutes over 100,000 characters.
    """
    row = _meeting_row(session, team_id, meeting_id)
    if len(minutes) > 100_000:
        raise InputError.one("verbale troppo lungo (massimo 100.000 caratteri)", field="minutes")
    members = {m.id for m in list_members(session, team_id)}
    strangers = sorted(set(attendance) - members)
    if strangers:
        raise InputError.one(f"presenti non del gruppo: {strangers}", field="attendance")
    row.minutes = minutes.strip() or None
    row.attendance = sorted(set(attendance))
    session.commit()


def add_decision(
    session: Session,
    team_id: int,
    meeting_id: int,
    *,
    text: str,
    kind: str = "decision",
    owner: str = "",
    due_date: dt.date | None = None,
    created_by: int | None = None,
) -> int:
    """Record a decision (or a report to the political table, ``kind='report'``) of a meeting; returns its id."""
    _meeting_row(session, team_id, meeting_id)
    problems: list[Problem] = []
    if not text.strip():
        problems.append(Problem("il testo della decisione è obbligatorio", field="text"))
    if len(text) > 10_000:
        problems.append(Problem("testo troppo lungo (massimo 10.000 caratteri)", field="text"))
    if kind not in DECISION_KINDS:
        problems.append(Problem(f"tipo sconosciuto {kind!r}: decisione o relazione", field="kind"))
    if len(owner) > 200:
        problems.append(Problem("responsabile troppo lungo (massimo 200 caratteri)", field="owner"))
    if problems:
        raise InputError(problems)
    row = EnergyDecisionRow(
        team_id=team_id,
        meeting_id=meeting_id,
        kind=kind,
        text=text.strip(),
        owner=owner.strip(),
        due_date=due_date,
        status="open",
        created_by=created_by,
    )
    session.add(row)
    session.commit()
    return row.id


def get_decision(session: Session, team_id: int, decision_id: int) -> DecisionInfo | None:
    """A decision of the team, or None."""
    row = session.get(EnergyDecisionRow, decision_id)
    if row is None or row.team_id != team_id:
        return None
    return _decision(row, _meeting_row(session, team_id, row.meeting_id))


def set_decision_status(session: Session, team_id: int, decision_id: int, status: str) -> None:
    """Change the status of a decision (``open``, ``in_progress``, ``done``, ``dropped``)."""
    row = session.get(EnergyDecisionRow, decision_id)
    if row is None or row.team_id != team_id:
        raise NotFoundError(f"decisione {decision_id} non trovata")
    if status not in DECISION_STATUSES:
        raise InputError.one(f"stato sconosciuto {status!r}", field="status")
    row.status = status
    session.commit()


def list_decisions(session: Session, team_id: int) -> list[DecisionInfo]:
    """Every decision of the team, latest meeting first."""
    rows = session.execute(
        select(EnergyDecisionRow, EnergyMeetingRow)
        .join(EnergyMeetingRow, EnergyMeetingRow.id == EnergyDecisionRow.meeting_id)
        .where(EnergyDecisionRow.team_id == team_id)
        .order_by(EnergyMeetingRow.starts_at.desc(), EnergyDecisionRow.id.desc())
    ).all()
    return [_decision(d, m) for d, m in rows]


# Documents ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    table: str | None
    title: str
    filename: str
    content_type: str
    size_bytes: int
    uploader: str | None
    uploaded_at: dt.datetime


def add_document(
    session: Session,
    team_id: int,
    *,
    title: str,
    filename: str,
    content_type: str,
    data: bytes,
    table: str | None = None,
    uploaded_by: int | None = None,
) -> int:
    """Store a file of the document area (at most 10 MB); returns its id.

    Raises
    ------
    InputError
        Empty or too large file, no title, unknown table.
    """
    problems: list[Problem] = []
    if not data:
        problems.append(Problem(f"{filename or 'file'}: file vuoto o mancante", field="file"))
    if len(data) > MAX_DOCUMENT_BYTES:
        mb = len(data) / 1024 / 1024
        problems.append(Problem(f"{filename}: {mb:.1f} MB, oltre il limite di 10 MB", field="file"))
    title = title.strip() or filename.strip()
    if not title:
        problems.append(Problem("il titolo è obbligatorio", field="title"))
    if table is not None and table not in TABLES:
        problems.append(Problem(f"tavolo sconosciuto {table!r}", field="table"))
    if problems:
        raise InputError(problems)
    safe_name = "".join(c for c in filename.replace("\\", "/").rsplit("/", 1)[-1] if c.isprintable())[:255]
    row = EnergyDocumentRow(
        team_id=team_id,
        team_table=table,
        title=title[:300],
        filename=safe_name or "documento",
        content_type=(content_type or "application/octet-stream")[:200],
        size_bytes=len(data),
        data=data,
        uploaded_by=uploaded_by,
    )
    session.add(row)
    session.commit()
    return row.id


def list_documents(session: Session, team_id: int) -> list[DocumentInfo]:
    """Documents of the team (without their content), newest first."""
    rows = session.execute(
        select(
            EnergyDocumentRow.id,
            EnergyDocumentRow.team_table,
            EnergyDocumentRow.title,
            EnergyDocumentRow.filename,
            EnergyDocumentRow.content_type,
            EnergyDocumentRow.size_bytes,
            User.display_name,
            EnergyDocumentRow.uploaded_at,
        )
        .outerjoin(User, User.id == EnergyDocumentRow.uploaded_by)
        .where(EnergyDocumentRow.team_id == team_id)
        .order_by(EnergyDocumentRow.uploaded_at.desc(), EnergyDocumentRow.id.desc())
    ).all()
    return [DocumentInfo(*r) for r in rows]


def get_document(session: Session, team_id: int, document_id: int) -> tuple[DocumentInfo, bytes] | None:
    """A document and its content, or None (unknown, or of another team)."""
    row = session.get(EnergyDocumentRow, document_id)
    if row is None or row.team_id != team_id:
        return None
    uploader = session.get(User, row.uploaded_by) if row.uploaded_by is not None else None
    info = DocumentInfo(
        row.id,
        row.team_table,
        row.title,
        row.filename,
        row.content_type,
        row.size_bytes,
        uploader.display_name if uploader else None,
        row.uploaded_at,
    )
    return info, row.data


def delete_document(session: Session, team_id: int, document_id: int) -> bool:
    """Remove a document; False when the team has none with that id."""
    done = session.execute(
        delete(EnergyDocumentRow).where(EnergyDocumentRow.id == document_id, EnergyDocumentRow.team_id == team_id)
    )
    session.commit()
    return bool(getattr(done, "rowcount", 0))


# Mailing list -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriberInfo:
    id: int
    email: str
    name: str


@dataclass(frozen=True)
class MailingInfo:
    id: int
    subject: str
    recipients: int
    status: str
    error: str | None
    sent_at: dt.datetime


def add_subscriber(session: Session, team_id: int, *, email: str, name: str = "") -> int:
    """Add an external address to the mailing list (an address already there is kept once)."""
    address = email.strip().lower()
    if not address:
        raise InputError.one("indirizzo email obbligatorio", field="email")
    try:
        check_recipients([address])
    except InputError:
        raise InputError.one(f"indirizzo email non valido: {address!r}", field="email") from None
    if len(address) > 320:
        raise InputError.one("indirizzo email troppo lungo", field="email")
    existing = session.scalar(
        select(EnergySubscriberRow.id).where(
            EnergySubscriberRow.team_id == team_id, EnergySubscriberRow.email == address
        )
    )
    if existing is not None:
        return existing
    row = EnergySubscriberRow(team_id=team_id, email=address, name=name.strip()[:200])
    session.add(row)
    session.commit()
    return row.id


def remove_subscriber(session: Session, team_id: int, subscriber_id: int) -> bool:
    """Take an external address off the list; False when the team has none with that id."""
    done = session.execute(
        delete(EnergySubscriberRow).where(
            EnergySubscriberRow.id == subscriber_id, EnergySubscriberRow.team_id == team_id
        )
    )
    session.commit()
    return bool(getattr(done, "rowcount", 0))


def list_subscribers(session: Session, team_id: int) -> list[SubscriberInfo]:
    """External subscribers, by address."""
    rows = session.scalars(
        select(EnergySubscriberRow).where(EnergySubscriberRow.team_id == team_id).order_by(EnergySubscriberRow.email)
    )
    return [SubscriberInfo(r.id, r.email, r.name) for r in rows]


def mailing_recipients(session: Session, team_id: int) -> list[str]:
    """Every address of the list: the members' (active accounts) and the subscribers', once each, sorted."""
    members = session.scalars(
        select(User.email)
        .join(EnergyTeamMemberRow, EnergyTeamMemberRow.user_id == User.id)
        .where(EnergyTeamMemberRow.team_id == team_id, User.active.is_(True))
    )
    subscribers = session.scalars(select(EnergySubscriberRow.email).where(EnergySubscriberRow.team_id == team_id))
    return sorted({e.lower() for e in members} | {e.lower() for e in subscribers})


def mailing_message(sender: str, recipients: Sequence[str], team: str, subject: str, body: str) -> EmailMessage:
    """The list's message: ``[<team>] <subject>``, plain text, recipients in ``Bcc`` (nobody sees the others)."""
    to = check_recipients(recipients)
    problems: list[Problem] = []
    if not subject.strip():
        problems.append(Problem("l'oggetto è obbligatorio", field="subject"))
    if len(subject) > 250:
        problems.append(Problem("oggetto troppo lungo (massimo 250 caratteri)", field="subject"))
    if not body.strip():
        problems.append(Problem("il testo del messaggio è obbligatorio", field="body"))
    if problems:
        raise InputError(problems)
    msg = EmailMessage()
    msg["Subject"] = f"[{team}] {subject.strip()}"
    msg["From"] = sender
    msg["To"] = sender
    msg["Bcc"] = ", ".join(to)
    msg["Date"] = rfc_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or "localhost")
    footer = f"\n\n-- \nLista del gruppo energia «{team}», inviata con Condivisa.\n"
    msg.set_content(body.strip() + footer, charset="utf-8")
    return msg


def _deliver(settings: SmtpSettings, msg: EmailMessage, recipients: Sequence[str]) -> None:
    try:
        context = ssl_module.create_default_context()
        smtp = (
            smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
            if settings.ssl
            else smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        )
        with smtp:
            if settings.starttls:
                smtp.starttls(context=context)
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            refused = smtp.send_message(msg, to_addrs=list(recipients))
    except smtplib.SMTPRecipientsRefused as exc:
        raise EmailError(f"il server SMTP {settings.server} ha rifiutato tutti i destinatari") from exc
    except (smtplib.SMTPException, OSError) as exc:
        reason = "connessione rifiutata" if isinstance(exc, ConnectionRefusedError) else f"{type(exc).__name__}: {exc}"
        raise EmailError(f"invio non riuscito tramite il server SMTP {settings.server}: {reason}") from exc
    if refused:
        raise EmailError(f"il server SMTP {settings.server} ha rifiutato: {', '.join(sorted(refused))}")


def send_mailing(
    session: Session,
    team_id: int,
    settings: SmtpSettings,
    *,
    subject: str,
    body: str,
    sent_by: int | None = None,
) -> MailingInfo:
    """Send a message to the whole list through ``settings`` and record it (``sent`` or ``failed`` with the
    reason); a failure of the server is recorded and returned, not raised.

    Raises
    ------
    InputError
        No subject or text, or nobody on the list.
    """
    team = get_team(session, team_id)
    if team is None:
        raise NotFoundError(f"gruppo {team_id} non trovato")
    recipients = mailing_recipients(session, team_id)
    if not recipients:
        raise InputError.one("la lista non ha destinatari", field="recipients")
    msg = mailing_message(settings.sender, recipients, team.name, subject, body)
    error: str | None = None
    try:
        _deliver(settings, msg, recipients)
    except EmailError as exc:
        error = str(exc)
    row = EnergyMailingRow(
        team_id=team_id,
        subject=subject.strip()[:300],
        body=body.strip(),
        recipients=len(recipients),
        status="failed" if error else "sent",
        error=error,
        sent_by=sent_by,
    )
    session.add(row)
    session.commit()
    return MailingInfo(row.id, row.subject, row.recipients, row.status, row.error, row.sent_at)


def record_failed_mailing(
    session: Session, team_id: int, *, subject: str, body: str, error: str, sent_by: int | None = None
) -> MailingInfo:
    """Record a message that could not be sent before reaching a server (no SMTP configured, say)."""
    row = EnergyMailingRow(
        team_id=team_id,
        subject=subject.strip()[:300] or "—",
        body=body.strip(),
        recipients=0,
        status="failed",
        error=error,
        sent_by=sent_by,
    )
    session.add(row)
    session.commit()
    return MailingInfo(row.id, row.subject, row.recipients, row.status, row.error, row.sent_at)


def list_mailings(session: Session, team_id: int, *, limit: int = 50) -> list[MailingInfo]:
    """Messages of the list, newest first."""
    rows = session.scalars(
        select(EnergyMailingRow)
        .where(EnergyMailingRow.team_id == team_id)
        .order_by(EnergyMailingRow.sent_at.desc(), EnergyMailingRow.id.desc())
        .limit(limit)
    )
    return [MailingInfo(r.id, r.subject, r.recipients, r.status, r.error, r.sent_at) for r in rows]


# Actions of the plan --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionFields:
    """The editable fields of an action (energy [MWh/year], factor [t CO2/MWh], cost [€])."""

    code: str
    title: str
    sector: str
    municipality_id: int | None = None
    owner: str = ""
    description: str = ""
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    cost_eur: float = 0.0
    savings_mwh: float = 0.0
    renewable_mwh: float = 0.0
    emission_factor: float | None = None
    status: str = "planned"
    action_area: str = ""
    instrument: str = "not_applicable"
    origin: str = "local_authority"
    responsible_body: str = ""


@dataclass(frozen=True)
class ActionInfo:
    """A stored action with its municipality's name (None: inter-municipal)."""

    id: int
    fields: ActionFields
    municipality: str | None
    updated_at: dt.datetime

    def plan_action(self) -> PlanAction:
        """The action as :mod:`condivisa.energy_team.plan` reads it."""
        f = self.fields
        return PlanAction(
            code=f.code,
            title=f.title,
            sector=f.sector,
            status=f.status,
            municipality=self.municipality,
            owner=f.owner,
            cost_eur=f.cost_eur,
            savings_mwh=f.savings_mwh,
            renewable_mwh=f.renewable_mwh,
            emission_factor=f.emission_factor,
            start=f.start_date,
            end=f.end_date,
            action_area=f.action_area,
            instrument=f.instrument,
            origin=f.origin,
            responsible_body=f.responsible_body,
            id=self.id,
        )


_FIELD_NAMES = tuple(ActionFields.__dataclass_fields__)


def _check_action(session: Session, team_id: int, fields: ActionFields, action_id: int | None) -> None:
    problems: list[Problem] = []
    code = fields.code.strip()
    if not code or len(code) > 32:
        problems.append(Problem("il codice è obbligatorio (massimo 32 caratteri)", field="code"))
    else:
        other = session.scalar(
            select(EnergyActionRow.id).where(EnergyActionRow.team_id == team_id, EnergyActionRow.code == code)
        )
        if other is not None and other != action_id:
            problems.append(Problem(f"il codice {code} è già usato da un'altra azione", field="code"))
    if not fields.title.strip() or len(fields.title) > 300:
        problems.append(Problem("il titolo è obbligatorio (massimo 300 caratteri)", field="title"))
    if fields.sector not in SECTORS:
        problems.append(Problem(f"settore sconosciuto {fields.sector!r}", field="sector"))
    if fields.status not in STATUSES:
        problems.append(Problem(f"stato sconosciuto {fields.status!r}", field="status"))
    if fields.instrument not in INSTRUMENTS:
        problems.append(Problem(f"strumento sconosciuto {fields.instrument!r}", field="instrument"))
    if fields.origin not in ORIGINS:
        problems.append(Problem(f"origine sconosciuta {fields.origin!r}", field="origin"))
    if fields.municipality_id is not None and fields.municipality_id not in _team_municipality_ids(session, team_id):
        problems.append(Problem("il comune indicato non fa parte del gruppo", field="municipality_id"))
    for name, label in (("cost_eur", "costo"), ("savings_mwh", "risparmio"), ("renewable_mwh", "produzione")):
        value = getattr(fields, name)
        if not value >= 0:
            problems.append(Problem(f"{label}: atteso un numero non negativo, non {value}", field=name))
    if fields.emission_factor is not None and not 0 <= fields.emission_factor <= 5:
        problems.append(Problem("fattore di emissione fuori da 0..5 t CO2/MWh", field="emission_factor"))
    if fields.start_date and fields.end_date and fields.end_date < fields.start_date:
        problems.append(Problem("la fine precede l'inizio", field="end_date"))
    for name, limit in (("owner", 200), ("action_area", 200), ("responsible_body", 200), ("description", 20_000)):
        if len(getattr(fields, name)) > limit:
            problems.append(Problem(f"testo troppo lungo (massimo {limit} caratteri)", field=name))
    if problems:
        raise InputError(problems)


def _apply(row: EnergyActionRow, fields: ActionFields) -> None:
    for name in _FIELD_NAMES:
        value = getattr(fields, name)
        setattr(row, name, value.strip() if isinstance(value, str) else value)


def _action_info(row: EnergyActionRow, town: str | None) -> ActionInfo:
    values = {name: getattr(row, name) for name in _FIELD_NAMES}
    return ActionInfo(row.id, ActionFields(**values), town, row.updated_at)


def create_action(session: Session, team_id: int, fields: ActionFields, *, user_id: int | None = None) -> int:
    """Add an action to the plan (its first change is recorded); returns its id."""
    _check_action(session, team_id, fields, None)
    row = EnergyActionRow(team_id=team_id)
    _apply(row, fields)
    session.add(row)
    session.flush()
    session.add(
        EnergyActionChangeRow(
            team_id=team_id,
            action_id=row.id,
            status_from=fields.status,
            status_to=fields.status,
            note="Azione inserita nel piano",
            user_id=user_id,
        )
    )
    session.commit()
    return row.id


def _action_row(session: Session, team_id: int, action_id: int) -> EnergyActionRow:
    row = session.get(EnergyActionRow, action_id)
    if row is None or row.team_id != team_id:
        raise NotFoundError(f"azione {action_id} non trovata")
    return row


def update_action(
    session: Session, team_id: int, action_id: int, fields: ActionFields, *, note: str = "", user_id: int | None = None
) -> None:
    """Change an action; the change (status before and after, note) is recorded for the progress report."""
    row = _action_row(session, team_id, action_id)
    _check_action(session, team_id, fields, action_id)
    before = row.status
    changed = [n for n in _FIELD_NAMES if getattr(row, n) != getattr(fields, n)]
    _apply(row, fields)
    row.updated_at = utc_now()
    if changed or note.strip():
        text = note.strip() or "Aggiornati: " + ", ".join(changed)
        session.add(
            EnergyActionChangeRow(
                team_id=team_id,
                action_id=action_id,
                status_from=before,
                status_to=fields.status,
                note=text[:2000],
                user_id=user_id,
            )
        )
    session.commit()


def set_action_status(
    session: Session, team_id: int, action_id: int, status: str, *, note: str = "", user_id: int | None = None
) -> None:
    """Change only the status of an action (and record it)."""
    info = get_action(session, team_id, action_id)
    if info is None:
        raise NotFoundError(f"azione {action_id} non trovata")
    values = {name: getattr(info.fields, name) for name in _FIELD_NAMES}
    values["status"] = status
    update_action(session, team_id, action_id, ActionFields(**values), note=note, user_id=user_id)


def _actions(session: Session, team_id: int, action_id: int | None = None) -> list[ActionInfo]:
    query = (
        select(EnergyActionRow, MunicipalityRow.name)
        .outerjoin(MunicipalityRow, MunicipalityRow.id == EnergyActionRow.municipality_id)
        .where(EnergyActionRow.team_id == team_id)
        .order_by(EnergyActionRow.code)
    )
    if action_id is not None:
        query = query.where(EnergyActionRow.id == action_id)
    return [_action_info(r, town) for r, town in session.execute(query).all()]


def list_actions(session: Session, team_id: int) -> list[ActionInfo]:
    """The actions of the plan, by code."""
    return _actions(session, team_id)


def get_action(session: Session, team_id: int, action_id: int) -> ActionInfo | None:
    """An action of the team, or None."""
    found = _actions(session, team_id, action_id)
    return found[0] if found else None


def list_changes(session: Session, team_id: int, action_id: int | None = None) -> list[ActionChange]:
    """Recorded changes of the team's actions (of one action), newest first."""
    query = (
        select(EnergyActionChangeRow, EnergyActionRow.code, EnergyActionRow.title)
        .join(EnergyActionRow, EnergyActionRow.id == EnergyActionChangeRow.action_id)
        .where(EnergyActionChangeRow.team_id == team_id)
        .order_by(EnergyActionChangeRow.changed_at.desc(), EnergyActionChangeRow.id.desc())
    )
    if action_id is not None:
        query = query.where(EnergyActionChangeRow.action_id == action_id)
    return [
        ActionChange(code, title, c.changed_at, c.status_from, c.status_to, c.note, c.action_id)
        for c, code, title in session.execute(query).all()
    ]


# Indicators ---------------------------------------------------------------------------------------------------------


def add_indicator(
    session: Session, team_id: int, action_id: int, *, name: str, unit: str = "", target: float | None = None
) -> int:
    """Add an indicator to an action; returns its id."""
    _action_row(session, team_id, action_id)
    name = name.strip()
    problems: list[Problem] = []
    if not name or len(name) > 200:
        problems.append(Problem("il nome dell'indicatore è obbligatorio (massimo 200 caratteri)", field="name"))
    elif session.scalar(
        select(EnergyIndicatorRow.id).where(EnergyIndicatorRow.action_id == action_id, EnergyIndicatorRow.name == name)
    ):
        problems.append(Problem(f"l'azione ha già un indicatore «{name}»", field="name"))
    if len(unit) > 50:
        problems.append(Problem("unità troppo lunga (massimo 50 caratteri)", field="unit"))
    if problems:
        raise InputError(problems)
    row = EnergyIndicatorRow(action_id=action_id, name=name, unit=unit.strip(), target=target)
    session.add(row)
    session.commit()
    return row.id


def record_indicator_value(
    session: Session,
    team_id: int,
    action_id: int,
    indicator_id: int,
    *,
    on: dt.date,
    value: float,
    user_id: int | None = None,
) -> None:
    """Record the value of an indicator on a date (replacing the value of that date, if any)."""
    _action_row(session, team_id, action_id)
    indicator = session.get(EnergyIndicatorRow, indicator_id)
    if indicator is None or indicator.action_id != action_id:
        raise NotFoundError(f"indicatore {indicator_id} non trovato")
    if value != value or abs(value) > 1e12:
        raise InputError.one(f"valore non valido: {value}", field="value")
    row = session.scalar(
        select(EnergyIndicatorValueRow).where(
            EnergyIndicatorValueRow.indicator_id == indicator_id, EnergyIndicatorValueRow.on_date == on
        )
    )
    if row is None:
        row = EnergyIndicatorValueRow(indicator_id=indicator_id, on_date=on)
        session.add(row)
    row.value, row.recorded_by, row.recorded_at = value, user_id, utc_now()
    session.commit()


def list_indicators(session: Session, action_id: int) -> list[Indicator]:
    """Indicators of an action with their values by date."""
    out = []
    for ind in session.scalars(
        select(EnergyIndicatorRow).where(EnergyIndicatorRow.action_id == action_id).order_by(EnergyIndicatorRow.id)
    ):
        values = session.scalars(
            select(EnergyIndicatorValueRow)
            .where(EnergyIndicatorValueRow.indicator_id == ind.id)
            .order_by(EnergyIndicatorValueRow.on_date)
        )
        out.append(
            Indicator(ind.name, ind.unit, tuple(IndicatorValue(v.on_date, v.value) for v in values), ind.target, ind.id)
        )
    return out


def indicator_readings(session: Session, team_id: int) -> list[IndicatorReading]:
    """Every indicator value of the team's actions, with when it was recorded."""
    rows = session.execute(
        select(EnergyActionRow.code, EnergyIndicatorRow.name, EnergyIndicatorRow.unit, EnergyIndicatorValueRow)
        .join(EnergyIndicatorRow, EnergyIndicatorRow.action_id == EnergyActionRow.id)
        .join(EnergyIndicatorValueRow, EnergyIndicatorValueRow.indicator_id == EnergyIndicatorRow.id)
        .where(EnergyActionRow.team_id == team_id)
    ).all()
    return [IndicatorReading(code, name, unit, v.on_date, v.value, v.recorded_at) for code, name, unit, v in rows]


# Progress report ----------------------------------------------------------------------------------------------------


def plan_actions(session: Session, team_id: int) -> list[PlanAction]:
    """The team's actions as :mod:`condivisa.energy_team.plan` reads them."""
    return [a.plan_action() for a in list_actions(session, team_id)]


def team_report(session: Session, team_id: int, *, now: dt.datetime | None = None) -> ProgressReport:
    """The progress report for the political table: what changed since the last meeting held (of either table),
    actions by status, savings achieved against planned, the latest decisions."""
    team = get_team(session, team_id)
    if team is None:
        raise NotFoundError(f"gruppo {team_id} non trovato")
    instant = now or utc_now()
    summary = summarize(
        plan_actions(session, team_id), baseline_t=team.baseline_t_co2, target_pct=team.reduction_target_pct
    )
    starts = session.scalars(select(EnergyMeetingRow.starts_at).where(EnergyMeetingRow.team_id == team_id))
    since = last_meeting_before(starts, instant)
    decisions = [
        ReportDecision(d.text, d.kind, d.table, d.meeting_at, d.owner, d.due_date, d.status)
        for d in list_decisions(session, team_id)
    ]
    return progress_report(
        summary,
        list_changes(session, team_id),
        decisions,
        since=since,
        readings=indicator_readings(session, team_id),
    )


# Demo -----------------------------------------------------------------------------------------------------------

DEMO_TEAM = "Unione dei Comuni del Borgo"
DEMO_COORDINATOR = "comune@demo.condivisa.it"


def seed_demo_team(engine: Engine, *, now: dt.datetime | None = None) -> int:
    """The demo union "Unione dei Comuni del Borgo" (Borgo Demo and Altrove) with the demo officer
    (:data:`DEMO_COORDINATOR`, who must exist: run the demo seed first) as coordinator of both tables, a few
    actions with an indicator and a past meeting of the political table. Running it again changes nothing.

    Returns
    -------
    int
        The team's id.
    """
    from condivisa.energy_team.meetings import DEFAULT_AGENDAS, local_instant, parse_agenda
    from condivisa.store.municipalities import ensure_municipality

    with Session(engine) as session:
        existing = find_team(session, DEMO_TEAM)
        if existing is not None:
            return existing
        if session.scalar(select(User.id).where(User.email == DEMO_COORDINATOR)) is None:
            raise NotFoundError(f"utente {DEMO_COORDINATOR} non trovato: caricare prima la demo")
        borgo = ensure_municipality(
            session, "Borgo Demo", region="Piemonte", province="TO", latitude=45.07, longitude=7.69, slug="borgo-demo"
        )
        altrove = ensure_municipality(session, "Altrove", region="Piemonte", slug="altrove")
        tid = create_team(
            session, DEMO_TEAM, [borgo.id, altrove.id], baseline_year=2005, target_year=2030, baseline_t_co2=12_000.0
        )
        for table in TABLES:
            add_member(session, tid, email=DEMO_COORDINATOR, table=table, role="coordinator", municipality_id=borgo.id)
        actions = [
            ActionFields("IP-01", "Illuminazione pubblica a LED", "public_lighting", borgo.id, "Ufficio tecnico",
                         start_date=dt.date(2025, 3, 1), end_date=dt.date(2026, 6, 30), cost_eur=180_000,
                         savings_mwh=210, status="ongoing", action_area="Illuminazione efficiente",
                         instrument="third_party_financing"),
            ActionFields("EC-01", "Efficientamento della scuola primaria", "municipal_buildings", altrove.id,
                         "Ufficio lavori pubblici", start_date=dt.date(2026, 1, 1), end_date=dt.date(2027, 12, 31),
                         cost_eur=450_000, savings_mwh=95, emission_factor=0.202, action_area="Involucro edilizio",
                         instrument="grants"),
            ActionFields("PV-01", "Fotovoltaico sui tetti comunali per la CER", "local_electricity", None,
                         "Coordinatore del gruppo", start_date=dt.date(2024, 6, 1), end_date=dt.date(2025, 6, 30),
                         cost_eur=320_000, renewable_mwh=380, status="completed", action_area="Fotovoltaico",
                         instrument="grants"),
            ActionFields("RE-01", "Sportello energia per le famiglie", "residential", None, "Tavolo tecnico",
                         start_date=dt.date(2025, 9, 1), end_date=dt.date(2030, 12, 31), cost_eur=25_000,
                         savings_mwh=150, status="planned", action_area="Cambiamenti di comportamento",
                         instrument="awareness"),
        ]  # fmt: skip
        ids = [create_action(session, tid, a) for a in actions]
        indicator = add_indicator(session, tid, ids[0], name="Punti luce sostituiti", unit="n", target=1200)
        record_indicator_value(session, tid, ids[0], indicator, on=dt.date(2025, 9, 30), value=480)
        instant = now or utc_now()
        last_month = (instant.date().replace(day=1) - dt.timedelta(days=1)).replace(day=10)
        [meeting] = schedule_meetings(
            session,
            tid,
            table="political",
            starts=[local_instant(last_month, dt.time(17, 30))],
            place="Municipio di Borgo Demo, sala consiliare",
            agenda=parse_agenda("\n".join(DEFAULT_AGENDAS["political"])),
        )
        # the plan was written before that meeting: its changes are not news for the next progress report
        before = local_instant(last_month - dt.timedelta(days=7), dt.time(12, 0))
        for change in session.scalars(select(EnergyActionChangeRow).where(EnergyActionChangeRow.team_id == tid)):
            change.changed_at = before
        for value in session.scalars(
            select(EnergyIndicatorValueRow).where(EnergyIndicatorValueRow.indicator_id == indicator)
        ):
            value.recorded_at = before
        session.commit()
        add_decision(
            session,
            tid,
            meeting,
            text="Approvato il cronoprogramma della sostituzione dei punti luce a LED",
            owner="Ufficio tecnico di Borgo Demo",
            due_date=dt.date(2026, 6, 30),
        )
        return tid
