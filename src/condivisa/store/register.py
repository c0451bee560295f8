"""Repository of the municipality's register: entries, manage tokens, label criteria, settings and applications.

Entries come from the public form (``source="self"``, waiting for review, with a private manage token whose
SHA-256 only is stored) or from the office (``source="office"``, published at once). Label criteria are seeded from
:func:`condivisa.civic.label.default_criteria` the first time a municipality's criteria are asked for.
Functions commit their own changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from condivisa.civic.label import (
    Criterion,
    Evaluation,
    Evidence,
    check_criterion,
    default_criteria,
    evaluate,
    label_expiry,
)
from condivisa.civic.register import EntryData, Plant, PublicEntry
from condivisa.store.models import MemberRow, utc_now
from condivisa.store.models_register import (
    LabelApplicationRow,
    LabelCriterionRow,
    LabelSettingsRow,
    RegisterEntryRow,
)
from condivisa.store.repository import NotFoundError


def hash_token(token: str) -> str:
    """SHA-256 (hex) of a manage token: what the database keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _apply(row: RegisterEntryRow, data: EntryData) -> None:
    row.name = data.name
    row.configuration = data.configuration
    row.status = data.status
    row.members_count = data.members_count
    row.plants = [p.as_dict() for p in data.plants]
    row.total_kw = data.total_kw
    row.cabina_codes = list(data.cabina_codes)
    row.cabina_area = data.cabina_area
    row.latitude = data.latitude
    row.longitude = data.longitude
    row.area_description = data.area_description
    row.website = data.website
    row.contact_email = data.contact_email or None
    row.contact_public = data.contact_public and bool(data.contact_email)
    row.description = data.description
    row.regulation_url = data.regulation_url
    row.regulation_text = data.regulation_text


def entry_data(row: RegisterEntryRow) -> EntryData:
    """The stored entry as :class:`EntryData` (to fill in the edit form)."""
    return EntryData(
        name=row.name,
        configuration=row.configuration,
        status=row.status,
        members_count=row.members_count,
        plants=tuple(Plant(str(p["technology"]), float(p["kw"]), str(p.get("name") or "")) for p in row.plants),
        cabina_codes=tuple(row.cabina_codes),
        cabina_area=row.cabina_area,
        latitude=row.latitude,
        longitude=row.longitude,
        area_description=row.area_description,
        website=row.website,
        contact_email=row.contact_email or "",
        contact_public=row.contact_public,
        description=row.description,
        regulation_url=row.regulation_url,
        regulation_text=row.regulation_text,
    )


def register_entry(session: Session, municipality_id: int, data: EntryData) -> tuple[int, str]:
    """A community registers itself: the entry waits for review. Returns ``(entry_id, manage_token)``; the token
    is shown once to the community and only its hash is kept."""
    token = secrets.token_urlsafe(24)
    row = RegisterEntryRow(
        municipality_id=municipality_id, source="self", publication="submitted", manage_token_hash=hash_token(token)
    )
    _apply(row, data)
    session.add(row)
    session.commit()
    return row.id, token


def add_office_entry(
    session: Session, municipality_id: int, data: EntryData, *, user_id: int | None, community_id: int | None = None
) -> int:
    """The office adds an entry itself: published at once, with no manage token."""
    now = utc_now()
    row = RegisterEntryRow(
        municipality_id=municipality_id,
        source="office",
        publication="published",
        community_id=community_id,
        reviewed_by=user_id,
        reviewed_at=now,
        published_at=now,
    )
    _apply(row, data)
    session.add(row)
    session.commit()
    return row.id


def entry_by_token(session: Session, municipality_id: int, token: str) -> RegisterEntryRow | None:
    """The entry of ``municipality_id`` whose manage token is ``token`` (None for any other token)."""
    if not token or len(token) > 200:
        return None
    return session.scalar(
        select(RegisterEntryRow).where(
            RegisterEntryRow.manage_token_hash == hash_token(token),
            RegisterEntryRow.municipality_id == municipality_id,
        )
    )


def get_entry(session: Session, municipality_id: int, entry_id: int) -> RegisterEntryRow:
    """The entry ``entry_id`` of the municipality.

    Raises
    ------
    NotFoundError
        No such entry in this municipality.
    """
    row = session.get(RegisterEntryRow, entry_id)
    if row is None or row.municipality_id != municipality_id:
        raise NotFoundError(f"voce {entry_id} del registro non trovata")
    return row


def update_entry(session: Session, row: RegisterEntryRow, data: EntryData, *, by_office: bool) -> None:
    """Change an entry. A change by the community sends a published or rejected entry back to review, so nothing
    unchecked is ever public; the office's changes keep the publication state."""
    _apply(row, data)
    if not by_office and row.publication != "submitted":
        row.publication = "submitted"
        row.rejection_reason = None
    session.commit()


def publish_entry(session: Session, row: RegisterEntryRow, *, user_id: int) -> None:
    """The office publishes an entry."""
    now = utc_now()
    row.publication = "published"
    row.rejection_reason = None
    row.reviewed_by = user_id
    row.reviewed_at = now
    row.published_at = row.published_at or now
    session.commit()


def reject_entry(session: Session, row: RegisterEntryRow, *, user_id: int, reason: str) -> None:
    """The office rejects an entry, with the reason the community will read on its manage page.

    Raises
    ------
    ValueError
        Empty reason.
    """
    if not reason.strip():
        raise ValueError("motivo: obbligatorio per respingere un'iscrizione")
    row.publication = "rejected"
    row.rejection_reason = reason.strip()[:2000]
    row.reviewed_by = user_id
    row.reviewed_at = utc_now()
    session.commit()


def list_entries(session: Session, municipality_id: int, publication: str | None = None) -> list[RegisterEntryRow]:
    """The municipality's entries (optionally of one publication state), newest first."""
    query = select(RegisterEntryRow).where(RegisterEntryRow.municipality_id == municipality_id)
    if publication is not None:
        query = query.where(RegisterEntryRow.publication == publication)
    return list(session.scalars(query.order_by(RegisterEntryRow.id.desc())))


def current_label(session: Session, entry_id: int) -> LabelApplicationRow | None:
    """The entry's most recent awarded label (valid or expired), or None."""
    return session.scalar(
        select(LabelApplicationRow)
        .where(LabelApplicationRow.entry_id == entry_id, LabelApplicationRow.status == "awarded")
        .order_by(LabelApplicationRow.awarded_on.desc(), LabelApplicationRow.id.desc())
        .limit(1)
    )


def public_entry(session: Session, row: RegisterEntryRow) -> PublicEntry:
    """What the public may see of an entry (the label from the latest award; live members count when linked)."""
    label = current_label(session, row.id)
    members = row.members_count
    live = False
    if row.community_id is not None:
        count = session.scalar(select(func.count()).where(MemberRow.community_id == row.community_id))
        if count:
            members, live = int(count), True
    data = entry_data(row)
    return PublicEntry(
        id=row.id,
        name=row.name,
        configuration=row.configuration,
        status=row.status,
        members_count=members,
        plants=data.plants,
        cabina_codes=data.cabina_codes,
        cabina_area=row.cabina_area,
        latitude=row.latitude,
        longitude=row.longitude,
        area_description=row.area_description,
        website=row.website,
        public_email=(row.contact_email or "") if row.contact_public else "",
        description=row.description,
        regulation_url=row.regulation_url,
        has_regulation_text=bool(row.regulation_text.strip()),
        published_on=row.published_at.date() if row.published_at else None,
        label_awarded_on=label.awarded_on if label else None,
        label_expires_on=label.expires_on if label else None,
        live_members=live,
    )


def public_entries(session: Session, municipality_id: int) -> list[PublicEntry]:
    """The published entries of the municipality, by name."""
    rows = list_entries(session, municipality_id, "published")
    return sorted((public_entry(session, r) for r in rows), key=lambda e: (e.name.casefold(), e.id))


# Criteria and settings ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelSettings:
    """A municipality's label settings: least score [0..1], validity [years]."""

    min_score: float
    validity_years: int


def ensure_criteria(session: Session, municipality_id: int) -> None:
    """Seed the default criteria and settings of the bundled TOML if the municipality has none."""
    has_any = session.scalar(select(func.count()).where(LabelCriterionRow.municipality_id == municipality_id))
    defaults = default_criteria()
    if not has_any:
        for k, c in enumerate(defaults.criteria):
            session.add(
                LabelCriterionRow(
                    municipality_id=municipality_id,
                    position=k,
                    code=c.code,
                    title=c.title,
                    description=c.description,
                    kind=c.kind,
                    threshold=c.threshold,
                    required=c.required,
                    weight=c.weight,
                    active=True,
                    source=c.source,
                    proposal=c.proposal,
                )
            )
    if session.get(LabelSettingsRow, municipality_id) is None:
        session.add(
            LabelSettingsRow(
                municipality_id=municipality_id,
                min_score=defaults.min_score,
                validity_years=defaults.validity_years,
            )
        )
    session.commit()


def list_criteria(session: Session, municipality_id: int, *, active_only: bool = False) -> list[LabelCriterionRow]:
    """The municipality's criteria in order (seeded from the defaults on first use)."""
    ensure_criteria(session, municipality_id)
    query = select(LabelCriterionRow).where(LabelCriterionRow.municipality_id == municipality_id)
    if active_only:
        query = query.where(LabelCriterionRow.active.is_(True))
    return list(session.scalars(query.order_by(LabelCriterionRow.position, LabelCriterionRow.id)))


def criterion_of(row: LabelCriterionRow) -> Criterion:
    """The stored criterion as :class:`Criterion`."""
    kind: Any = row.kind
    return Criterion(
        code=row.code,
        title=row.title,
        kind=kind,
        threshold=row.threshold,
        required=row.required,
        weight=row.weight,
        description=row.description,
        source=row.source,
        proposal=row.proposal,
    )


def save_criterion(
    session: Session,
    municipality_id: int,
    *,
    criterion_id: int | None,
    code: str,
    title: str,
    description: str,
    kind: str,
    threshold: float | None,
    required: bool,
    weight: float,
    active: bool,
    source: str,
    proposal: bool,
) -> int:
    """Add (``criterion_id`` None) or change a criterion.

    Raises
    ------
    ValueError
        Bad definition (Italian message naming the field) or a code already used by another criterion.
    NotFoundError
        ``criterion_id`` is not a criterion of this municipality.
    """
    code = code.strip()
    check_criterion(code, kind, threshold, weight)
    if not title.strip():
        raise ValueError("titolo: obbligatorio")
    ensure_criteria(session, municipality_id)
    clash = session.scalar(
        select(LabelCriterionRow).where(
            LabelCriterionRow.municipality_id == municipality_id, LabelCriterionRow.code == code
        )
    )
    if criterion_id is None:
        if clash is not None:
            raise ValueError(f"codice: {code!r} è già usato da un altro criterio")
        position = session.scalar(
            select(func.coalesce(func.max(LabelCriterionRow.position), -1) + 1).where(
                LabelCriterionRow.municipality_id == municipality_id
            )
        )
        row = LabelCriterionRow(municipality_id=municipality_id, position=int(position or 0))
        session.add(row)
    else:
        found = session.get(LabelCriterionRow, criterion_id)
        if found is None or found.municipality_id != municipality_id:
            raise NotFoundError(f"criterio {criterion_id} non trovato")
        if clash is not None and clash.id != criterion_id:
            raise ValueError(f"codice: {code!r} è già usato da un altro criterio")
        row = found
    row.code = code
    row.title = title.strip()[:200]
    row.description = description.strip()[:2000]
    row.kind = kind
    row.threshold = None if kind == "boolean" else threshold
    row.required = required
    row.weight = weight
    row.active = active
    row.source = source.strip()[:1000]
    row.proposal = proposal
    session.commit()
    return row.id


def label_settings(session: Session, municipality_id: int) -> LabelSettings:
    """The municipality's label settings (seeded from the defaults on first use)."""
    ensure_criteria(session, municipality_id)
    row = session.get(LabelSettingsRow, municipality_id)
    assert row is not None
    return LabelSettings(row.min_score, row.validity_years)


def set_label_settings(session: Session, municipality_id: int, *, min_score: float, validity_years: int) -> None:
    """Change the least score [0..1] and the validity [years, 1..10].

    Raises
    ------
    ValueError
        Values out of range (Italian message naming the field).
    """
    if not 0 <= min_score <= 1:
        raise ValueError(f"punteggio minimo: {min_score} fuori da 0..1")
    if not 1 <= validity_years <= 10:
        raise ValueError(f"anni di validità: {validity_years} fuori da 1..10")
    ensure_criteria(session, municipality_id)
    row = session.get(LabelSettingsRow, municipality_id)
    assert row is not None
    row.min_score = min_score
    row.validity_years = validity_years
    session.commit()


# Applications ---------------------------------------------------------------------------------------------------


def evaluation_json(evaluation: Evaluation) -> dict[str, Any]:
    """An :class:`Evaluation` as stored JSON."""
    return {
        "score": evaluation.score,
        "min_score": evaluation.min_score,
        "eligible": evaluation.eligible,
        "missing_required": list(evaluation.missing_required),
        "results": [
            {
                "code": r.code,
                "title": r.title,
                "met": r.met,
                "reason": r.reason,
                "required": r.required,
                "weight": r.weight,
            }
            for r in evaluation.results
        ],
    }


def evaluate_evidence(session: Session, municipality_id: int, evidence: dict[str, Any]) -> Evaluation:
    """Evaluate stored-form evidence (code -> ``{"value", "note"}``) against the active criteria now."""
    criteria = [criterion_of(r) for r in list_criteria(session, municipality_id, active_only=True)]
    items = [Evidence(code, v.get("value"), str(v.get("note") or "")) for code, v in evidence.items()]
    return evaluate(criteria, items, min_score=label_settings(session, municipality_id).min_score)


def pending_application(session: Session, entry_id: int) -> LabelApplicationRow | None:
    """The entry's application waiting for a decision, if any."""
    return session.scalar(
        select(LabelApplicationRow).where(
            LabelApplicationRow.entry_id == entry_id, LabelApplicationRow.status == "submitted"
        )
    )


def submit_application(session: Session, row: RegisterEntryRow, evidence: dict[str, Any]) -> int:
    """A registered (published) community applies for the label with its evidence.

    Raises
    ------
    ValueError
        The entry is not published, or an application is already waiting.
    """
    if row.publication != "published":
        raise ValueError("la comunità deve essere pubblicata nel registro prima di chiedere l'etichetta")
    if pending_application(session, row.id) is not None:
        raise ValueError("c'è già una domanda in attesa di decisione")
    evaluation = evaluate_evidence(session, row.municipality_id, evidence)
    application = LabelApplicationRow(
        municipality_id=row.municipality_id,
        entry_id=row.id,
        status="submitted",
        evidence=evidence,
        evaluation=evaluation_json(evaluation),
        review={},
    )
    session.add(application)
    session.commit()
    return application.id


def get_application(session: Session, municipality_id: int, application_id: int) -> LabelApplicationRow:
    """The application ``application_id`` of the municipality.

    Raises
    ------
    NotFoundError
        No such application in this municipality.
    """
    row = session.get(LabelApplicationRow, application_id)
    if row is None or row.municipality_id != municipality_id:
        raise NotFoundError(f"domanda {application_id} non trovata")
    return row


def list_applications(session: Session, municipality_id: int, status: str | None = None) -> list[LabelApplicationRow]:
    """The municipality's applications, newest first."""
    query = select(LabelApplicationRow).where(LabelApplicationRow.municipality_id == municipality_id)
    if status is not None:
        query = query.where(LabelApplicationRow.status == status)
    return list(session.scalars(query.order_by(LabelApplicationRow.id.desc())))


def applications_of_entry(session: Session, entry_id: int) -> list[LabelApplicationRow]:
    """An entry's applications, newest first."""
    return list(
        session.scalars(
            select(LabelApplicationRow)
            .where(LabelApplicationRow.entry_id == entry_id)
            .order_by(LabelApplicationRow.id.desc())
        )
    )


def award_label(
    session: Session,
    application: LabelApplicationRow,
    *,
    user_id: int,
    awarded_on: dt.date,
    review: dict[str, Any],
    note: str = "",
) -> dt.date:
    """Award the label: expiry = award date + the municipality's validity years. Returns the expiry date.

    Raises
    ------
    ValueError
        The application was already decided.
    """
    if application.status != "submitted":
        raise ValueError("la domanda è già stata decisa")
    years = label_settings(session, application.municipality_id).validity_years
    application.status = "awarded"
    application.awarded_on = awarded_on
    application.expires_on = label_expiry(awarded_on, years)
    application.review = review
    application.decision_note = note.strip()[:2000] or None
    application.decided_by = user_id
    application.decided_at = utc_now()
    session.commit()
    return application.expires_on


def refuse_label(
    session: Session, application: LabelApplicationRow, *, user_id: int, reason: str, review: dict[str, Any]
) -> None:
    """Refuse the label with a reason the community reads on its manage page.

    Raises
    ------
    ValueError
        Empty reason, or the application was already decided.
    """
    if application.status != "submitted":
        raise ValueError("la domanda è già stata decisa")
    if not reason.strip():
        raise ValueError("motivo: obbligatorio per rifiutare l'etichetta")
    application.status = "refused"
    application.review = review
    application.decision_note = reason.strip()[:2000]
    application.decided_by = user_id
    application.decided_at = utc_now()
    session.commit()
