"""Repository of the matching service: profiles (with their manage tokens), matches and consents, calls for interest.

Public shapes (:class:`ProfileInfo`, :class:`CallInfo`, :class:`MatchState`) carry no personal data; a
counterpart's :class:`Contact` is given by :func:`ranked_matches` only for matches both sides consented to.
Manage tokens are random (``secrets.token_urlsafe``); only their SHA-256 hash is stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from condivisa.civic.matching import (
    DEFAULT_CRITERIA,
    KIND_LABELS,
    KINDS,
    Criteria,
    Match,
    ProfileData,
    compatible,
    parse_attributes,
    rank,
    score_pair,
)
from condivisa.errors import InputError, Problem
from condivisa.store.models import CommunityRow, MunicipalityRow, PlantRow, utc_now
from condivisa.store.models_matching import MatchCallAnswerRow, MatchCallRow, MatchProfileRow, MatchRow
from condivisa.store.repository import NotFoundError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ./-]{6,20}$")


class CallClosedError(Exception):
    """An answer to a call for interest outside its opening dates."""


@dataclass(frozen=True)
class ProfileInfo:
    """The public part of a profile."""

    id: int
    municipality_id: int
    kind: str
    display_name: str
    description: str
    latitude: float | None
    longitude: float | None
    cabina: str | None
    attributes: dict[str, Any]
    community_id: int | None
    call_id: int | None
    created_at: dt.datetime

    @property
    def kind_label(self) -> str:
        """Italian name of the kind."""
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Contact:
    """The private contact details of a profile."""

    name: str
    email: str
    phone: str | None


@dataclass(frozen=True)
class MatchView:
    """A ranked candidate as its counterpart's manage page shows it: ``contact`` only once both consented."""

    candidate: ProfileInfo
    match: Match
    my_consent: bool
    their_consent: bool
    status: str
    contact: Contact | None


@dataclass(frozen=True)
class MatchState:
    """A stored match as the officer sees it (public data only)."""

    id: int
    low: ProfileInfo
    high: ProfileInfo
    score: float
    status: str
    low_consent: bool
    high_consent: bool
    updated_at: dt.datetime


@dataclass(frozen=True)
class CallInfo:
    """A call for interest."""

    id: int
    municipality_id: int
    title: str
    body: str
    opens_on: dt.date
    closes_on: dt.date
    profile_kind: str
    questions: list[str]
    created_at: dt.datetime

    def is_open(self, today: dt.date) -> bool:
        """Whether answers are accepted on ``today`` (opening and closing days included)."""
        return self.opens_on <= today <= self.closes_on

    @property
    def kind_label(self) -> str:
        """Italian name of the kind of profile the answers create."""
        return KIND_LABELS.get(self.profile_kind, self.profile_kind)


def token_hash(token: str) -> str:
    """SHA-256 hex digest of a manage token (what the database stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row: MatchProfileRow) -> ProfileInfo:
    return ProfileInfo(
        row.id,
        row.municipality_id,
        row.kind,
        row.display_name,
        row.description,
        row.latitude,
        row.longitude,
        row.cabina,
        dict(row.attributes or {}),
        row.community_id,
        row.call_id,
        row.created_at,
    )


def _call_info(row: MatchCallRow) -> CallInfo:
    return CallInfo(
        row.id,
        row.municipality_id,
        row.title,
        row.body,
        row.opens_on,
        row.closes_on,
        row.profile_kind,
        list(row.questions or []),
        row.created_at,
    )


# --------------------------------------------------------------------------------------------------------------------
# Profiles


def _text(value: str | None, field: str, label: str, limit: int, problems: list[Problem], required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        problems.append(Problem(f"{label}: campo obbligatorio", field=field))
    elif len(text) > limit:
        problems.append(Problem(f"{label}: al massimo {limit} caratteri", field=field))
    return text


def _coordinate(
    value: str | float | None, field: str, low: float, high: float, problems: list[Problem]
) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        problems.append(Problem(f"{value!r} non è un numero", field=field))
        return None
    if not low <= number <= high:
        problems.append(Problem(f"{number} fuori da [{low:g}, {high:g}] gradi", field=field))
        return None
    return number


def community_facts(session: Session, municipality_name: str, community_id: int) -> dict[str, Any]:
    """What a stored community of the municipality tells a community profile: PV power [kWp] and the cabina of
    its largest plant, the number of members.

    Raises
    ------
    NotFoundError
        The community is not stored, or belongs to another municipality.
    """
    row = session.get(CommunityRow, community_id)
    if row is None or row.municipality != municipality_name:
        raise NotFoundError(f"comunità {community_id} non trovata nel comune {municipality_name}")
    plants = list(session.scalars(select(PlantRow).where(PlantRow.community_id == community_id)))
    pv = [p for p in plants if p.technology == "pv"] or plants
    largest = max(pv, key=lambda p: p.power_kw, default=None)
    return {
        "name": row.name,
        "pv_kwp": float(sum(p.power_kw for p in pv)),
        "cabina": largest.cabina if largest else None,
        "members": len(row.members),
    }


def communities_of(session: Session, municipality_name: str) -> list[tuple[int, str]]:
    """Stored communities of a municipality, as (id, name), by name."""
    rows = session.execute(
        select(CommunityRow.id, CommunityRow.name)
        .where(CommunityRow.municipality == municipality_name)
        .order_by(CommunityRow.name)
    )
    return [(int(i), str(n)) for i, n in rows]


def create_profile(
    session: Session,
    municipality_id: int,
    *,
    kind: str,
    display_name: str,
    description: str = "",
    attributes: Mapping[str, str],
    contact_name: str,
    contact_email: str,
    contact_phone: str | None = None,
    latitude: str | float | None = None,
    longitude: str | float | None = None,
    cabina: str | None = None,
    vulnerable: bool = False,
    community_id: int | None = None,
    call_id: int | None = None,
    commit: bool = True,
) -> tuple[ProfileInfo, str]:
    """Check and store a profile; returns it with its manage token (shown once, stored only as a hash).

    ``attributes`` are the raw form values of the kind's public attributes
    (:data:`condivisa.civic.matching.FIELDS`). A community profile linked to a stored community of the municipality
    (``community_id``) takes the PV power and the cabina of its plants when the form leaves them empty.

    Raises
    ------
    InputError
        Every bad field, named.
    """
    problems: list[Problem] = []
    if kind not in KINDS:
        raise InputError.one(f"tipo di profilo sconosciuto {kind!r}; ammessi: {', '.join(KINDS)}", field="kind")
    municipality = session.get(MunicipalityRow, municipality_id)
    if municipality is None:
        raise NotFoundError(f"comune {municipality_id} non trovato")
    name = _text(display_name, "display_name", "Nome pubblico", 200, problems, True)
    about = _text(description, "description", "Descrizione", 2000, problems, False)
    person = _text(contact_name, "contact_name", "Nome e cognome del referente", 200, problems, True)
    email = _text(contact_email, "contact_email", "Email", 320, problems, True)
    if email and not _EMAIL.match(email):
        problems.append(Problem(f"{email!r} non è un indirizzo email", field="contact_email"))
    phone = _text(contact_phone, "contact_phone", "Telefono", 40, problems, False) or None
    if phone and not _PHONE.match(phone):
        problems.append(Problem(f"{phone!r} non è un numero di telefono", field="contact_phone"))
    lat = _coordinate(latitude, "latitude", -90.0, 90.0, problems)
    lon = _coordinate(longitude, "longitude", -180.0, 180.0, problems)
    if (lat is None) != (lon is None) and not any(p.field in ("latitude", "longitude") for p in problems):
        problems.append(Problem("indicare sia latitudine sia longitudine, o nessuna delle due", field="latitude"))
    code = _text(cabina, "cabina", "Cabina primaria", 32, problems, False).upper() or None
    raw = dict(attributes)
    if kind == "community" and community_id is not None:
        try:
            facts = community_facts(session, municipality.name, community_id)
        except NotFoundError:
            problems.append(Problem("comunità collegata non trovata in questo comune", field="community_id"))
        else:
            if not (raw.get("pv_kwp") or "").strip():
                raw["pv_kwp"] = f"{facts['pv_kwp']:g}"
            code = code or facts["cabina"]
    elif community_id is not None:
        community_id = None
    try:
        attrs = parse_attributes(kind, raw)
    except InputError as exc:
        problems.extend(exc.problems)
        attrs = {}
    if problems:
        raise InputError(problems)
    token = secrets.token_urlsafe(24)
    row = MatchProfileRow(
        municipality_id=municipality_id,
        kind=kind,
        display_name=name,
        description=about,
        latitude=lat,
        longitude=lon,
        cabina=code,
        attributes=attrs,
        community_id=community_id,
        call_id=call_id,
        vulnerable=bool(vulnerable) and kind == "citizen",
        contact_name=person,
        contact_email=email,
        contact_phone=phone,
        token_hash=token_hash(token),
    )
    session.add(row)
    if commit:
        session.commit()
    else:
        session.flush()
    return _info(row), token


def profile_by_token(session: Session, municipality_id: int, token: str) -> ProfileInfo | None:
    """The active profile of the municipality whose manage token is ``token``; None for any other token."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(
        select(MatchProfileRow).where(
            MatchProfileRow.token_hash == token_hash(token),
            MatchProfileRow.municipality_id == municipality_id,
            MatchProfileRow.active.is_(True),
        )
    )
    return None if row is None else _info(row)


def list_profiles(session: Session, municipality_id: int) -> list[ProfileInfo]:
    """The active profiles of a municipality, by kind then id."""
    rows = session.scalars(
        select(MatchProfileRow)
        .where(MatchProfileRow.municipality_id == municipality_id, MatchProfileRow.active.is_(True))
        .order_by(MatchProfileRow.kind, MatchProfileRow.id)
    )
    return [_info(r) for r in rows]


def profile_counts(session: Session, municipality_id: int) -> dict[str, int]:
    """Active profiles of a municipality per kind (every kind, zeros included)."""
    counts = Counter(p.kind for p in list_profiles(session, municipality_id))
    return {k: counts.get(k, 0) for k in KINDS}


def _scoring(session: Session, municipality_id: int) -> dict[int, ProfileData]:
    municipality = session.get(MunicipalityRow, municipality_id)
    province = municipality.province if municipality else None
    rows = session.scalars(
        select(MatchProfileRow).where(
            MatchProfileRow.municipality_id == municipality_id, MatchProfileRow.active.is_(True)
        )
    )
    return {
        r.id: ProfileData(
            id=r.id,
            kind=r.kind,
            name=r.display_name,
            attributes=dict(r.attributes or {}),
            latitude=r.latitude,
            longitude=r.longitude,
            cabina=r.cabina,
            province=province,
            vulnerable=r.vulnerable,
        )
        for r in rows
    }


def _pair_rows(session: Session, profile_id: int) -> dict[int, MatchRow]:
    rows = session.scalars(select(MatchRow).where(or_(MatchRow.low_id == profile_id, MatchRow.high_id == profile_id)))
    return {(r.high_id if r.low_id == profile_id else r.low_id): r for r in rows}


def _contact(row: MatchProfileRow) -> Contact:
    return Contact(row.contact_name, row.contact_email, row.contact_phone)


def ranked_matches(
    session: Session, profile: ProfileInfo, criteria: Criteria = DEFAULT_CRITERIA, *, limit: int = 50
) -> list[MatchView]:
    """The candidates of ``profile`` in its municipality, best first, without declined ones; the counterpart's
    contact details only where both sides consented."""
    data = _scoring(session, profile.municipality_id)
    me = data.get(profile.id)
    if me is None:
        return []
    stored = _pair_rows(session, profile.id)
    out: list[MatchView] = []
    for match in rank(me, list(data.values()), criteria):
        row = stored.get(match.candidate_id)
        if row is not None and row.status == "declined":
            continue
        mine = bool(row and (row.low_consent if row.low_id == profile.id else row.high_consent))
        theirs = bool(row and (row.high_consent if row.low_id == profile.id else row.low_consent))
        other = session.get(MatchProfileRow, match.candidate_id)
        assert other is not None
        contact = _contact(other) if row is not None and row.status == "consented" else None
        out.append(MatchView(_info(other), match, mine, theirs, row.status if row else "suggested", contact))
        if len(out) >= limit:
            break
    return out


def set_consent(
    session: Session, profile: ProfileInfo, other_id: int, accept: bool, criteria: Criteria = DEFAULT_CRITERIA
) -> str:
    """Record that ``profile`` proposes/accepts (``accept``) or declines the match with ``other_id``.

    Returns
    -------
    str
        The match's status after the change: ``proposed``, ``consented`` or ``declined``.

    Raises
    ------
    NotFoundError
        ``other_id`` is not an active profile of the same municipality that can be matched with ``profile``.
    """
    data = _scoring(session, profile.municipality_id)
    me, other = data.get(profile.id), data.get(other_id)
    if me is None or other is None or other_id == profile.id or not compatible(me.kind, other.kind):
        raise NotFoundError(f"abbinamento con il profilo {other_id} non disponibile")
    low, high = sorted((profile.id, other_id))
    row = session.scalar(select(MatchRow).where(MatchRow.low_id == low, MatchRow.high_id == high))
    if row is None:
        scored = score_pair(data[low], data[high], criteria)
        row = MatchRow(
            municipality_id=profile.municipality_id,
            low_id=low,
            high_id=high,
            score=scored.score,
            components=scored.components_json(),
            low_consent=False,
            high_consent=False,
            status="proposed",
        )
        session.add(row)
    if row.status == "declined":
        session.rollback()
        return "declined"
    if not accept:
        row.declined_by = profile.id
        row.status = "declined"
    else:
        if profile.id == low:
            row.low_consent = True
        else:
            row.high_consent = True
        if row.low_consent and row.high_consent:
            row.status = "consented"
            row.consented_at = row.consented_at or utc_now()
        else:
            row.status = "proposed"
    session.commit()
    return row.status


def match_states(session: Session, municipality_id: int) -> list[MatchState]:
    """Stored matches of a municipality, most recent first, with public data only."""
    rows = list(
        session.scalars(
            select(MatchRow)
            .where(MatchRow.municipality_id == municipality_id)
            .order_by(MatchRow.updated_at.desc(), MatchRow.id.desc())
        )
    )
    out = []
    for r in rows:
        low = session.get(MatchProfileRow, r.low_id)
        high = session.get(MatchProfileRow, r.high_id)
        assert low is not None and high is not None
        out.append(
            MatchState(r.id, _info(low), _info(high), r.score, r.status, r.low_consent, r.high_consent, r.updated_at)
        )
    return out


# --------------------------------------------------------------------------------------------------------------------
# Calls for interest


def create_call(
    session: Session,
    municipality_id: int,
    *,
    title: str,
    body: str,
    opens_on: str | dt.date,
    closes_on: str | dt.date,
    profile_kind: str,
    questions: str | Sequence[str] = (),
    created_by: int | None = None,
) -> CallInfo:
    """Check and store a call for interest. ``questions`` is a list or one text with a question per line.

    Raises
    ------
    InputError
        Every bad field, named.
    """
    problems: list[Problem] = []
    name = _text(title, "title", "Titolo", 200, problems, True)
    text = _text(body, "body", "Testo", 20000, problems, False)
    dates: list[dt.date | None] = []
    for field, label, value in (("opens_on", "Apertura", opens_on), ("closes_on", "Chiusura", closes_on)):
        if isinstance(value, dt.date):
            dates.append(value)
            continue
        try:
            dates.append(dt.date.fromisoformat(value.strip()))
        except ValueError:
            problems.append(Problem(f"{label}: data non valida {value!r} (AAAA-MM-GG)", field=field))
            dates.append(None)
    first, last = dates
    if first is not None and last is not None and last < first:
        problems.append(Problem("la chiusura precede l'apertura", field="closes_on"))
    if profile_kind not in KINDS:
        problems.append(Problem(f"tipo di profilo sconosciuto {profile_kind!r}", field="profile_kind"))
    lines = questions.splitlines() if isinstance(questions, str) else list(questions)
    asked = [q.strip() for q in lines if q.strip()]
    if len(asked) > 20 or any(len(q) > 300 for q in asked):
        problems.append(Problem("al massimo 20 domande di 300 caratteri", field="questions"))
    if problems or first is None or last is None:
        raise InputError(problems)
    row = MatchCallRow(
        municipality_id=municipality_id,
        title=name,
        body=text,
        opens_on=first,
        closes_on=last,
        profile_kind=profile_kind,
        questions=asked,
        created_by=created_by,
    )
    session.add(row)
    session.commit()
    return _call_info(row)


def list_calls(session: Session, municipality_id: int, *, open_on: dt.date | None = None) -> list[CallInfo]:
    """Calls of a municipality, latest closing first; with ``open_on`` only those open that day."""
    query = select(MatchCallRow).where(MatchCallRow.municipality_id == municipality_id)
    if open_on is not None:
        query = query.where(MatchCallRow.opens_on <= open_on, MatchCallRow.closes_on >= open_on)
    rows = session.scalars(query.order_by(MatchCallRow.closes_on.desc(), MatchCallRow.id.desc()))
    return [_call_info(r) for r in rows]


def call_by_id(session: Session, municipality_id: int, call_id: int) -> CallInfo:
    """A call of the municipality.

    Raises
    ------
    NotFoundError
        No such call in this municipality.
    """
    row = session.get(MatchCallRow, call_id)
    if row is None or row.municipality_id != municipality_id:
        raise NotFoundError(f"avviso {call_id} non trovato")
    return _call_info(row)


def answer_counts(session: Session, municipality_id: int) -> dict[int, int]:
    """Number of answers per call of the municipality."""
    rows = session.execute(
        select(MatchCallAnswerRow.call_id)
        .join(MatchCallRow, MatchCallRow.id == MatchCallAnswerRow.call_id)
        .where(MatchCallRow.municipality_id == municipality_id)
    )
    return dict(Counter(int(r[0]) for r in rows))


def check_open(call: CallInfo, today: dt.date) -> None:
    """Raise :class:`CallClosedError` (with a message in Italian) unless ``call`` is open on ``today``."""
    if call.is_open(today):
        return
    when = "non è ancora aperto" if today < call.opens_on else "è chiuso"
    raise CallClosedError(
        f"L'avviso «{call.title}» {when}: accetta risposte dal {call.opens_on:%d/%m/%Y} al {call.closes_on:%d/%m/%Y}"
    )


def answer_call(
    session: Session,
    call: CallInfo,
    today: dt.date,
    *,
    answers: Mapping[str, str],
    profile: Mapping[str, Any],
) -> tuple[ProfileInfo, str]:
    """Store an answer to ``call`` and the profile it creates (of the call's kind); returns the profile and its
    manage token.

    Parameters
    ----------
    answers : mapping
        Answers by question text (every question of the call; empty answers are refused).
    profile : mapping
        Keyword arguments of :func:`create_profile` except ``kind`` and ``call_id``.

    Raises
    ------
    CallClosedError
        ``today`` is outside the call's opening dates.
    InputError
        Bad fields of the profile or missing answers.
    """
    check_open(call, today)
    problems = [
        Problem("risposta obbligatoria", field=f"q{i}")
        for i, q in enumerate(call.questions)
        if not (answers.get(q) or "").strip()
    ]
    try:
        info, token = create_profile(
            session, call.municipality_id, kind=call.profile_kind, call_id=call.id, commit=False, **profile
        )
    except InputError as exc:
        session.rollback()
        raise InputError(problems + exc.problems) from exc
    if problems:
        session.rollback()
        raise InputError(problems)
    session.add(
        MatchCallAnswerRow(
            call_id=call.id, profile_id=info.id, answers={q: (answers.get(q) or "").strip() for q in call.questions}
        )
    )
    session.commit()
    return info, token


def call_answers_csv(session: Session, call: CallInfo) -> str:
    """The answers to a call as CSV (``;`` separated, UTF-8): date, profile, public attributes, contact details
    given to the municipality with the answer, and one column per question."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    header = ["risposta", "data", "profilo", "tipo", "nome_pubblico", "attributi", "referente", "email", "telefono"]
    writer.writerow([*header, *call.questions])
    rows = session.scalars(
        select(MatchCallAnswerRow).where(MatchCallAnswerRow.call_id == call.id).order_by(MatchCallAnswerRow.id)
    )
    for answer in rows:
        prof = session.get(MatchProfileRow, answer.profile_id) if answer.profile_id else None
        writer.writerow(
            [
                answer.id,
                answer.created_at.isoformat(timespec="seconds"),
                prof.id if prof else "",
                prof.kind if prof else "",
                prof.display_name if prof else "",
                json.dumps(prof.attributes, ensure_ascii=False, sort_keys=True) if prof else "",
                prof.contact_name if prof else "",
                prof.contact_email if prof else "",
                (prof.contact_phone or "") if prof else "",
                *(answer.answers.get(q, "") for q in call.questions),
            ]
        )
    return buffer.getvalue()
