"""Alarms of a community in the database (table ``alarms``): open, refresh, acknowledge, close, notify.

Life cycle: a condition found by a check (:class:`condivisa.operations.monitoring.AlarmFinding`) opens an alarm
(``open``); while later checks keep finding the same (kind, subject) its ``last_seen``, severity, message and
details are refreshed; a manager may ``acknowledge`` it (it stays visible and keeps being refreshed); it is
``closed`` when a check no longer finds it, or by hand. A closed alarm never reopens: the same condition found
again opens a new alarm. ``notified_at`` records when it was sent by email.

Conventions of :mod:`condivisa.store.repository`: functions take a Session and commit before they return (and
roll back when they fail); a missing id raises :class:`~condivisa.store.repository.NotFoundError`; bad data raise
:class:`condivisa.errors.InputError` naming the field; instants are timezone-aware UTC.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from condivisa.errors import InputError, Problem
from condivisa.store.models import (
    ALARM_KINDS,
    ALARM_SEVERITIES,
    ALARM_STATUSES,
    AlarmRow,
    CommunityRow,
    User,
    utc_now,
)
from condivisa.store.repository import NotFoundError

ACTIVE_STATUSES = ("open", "acknowledged")
"""Statuses of an alarm that a check refreshes or closes."""

_SEVERITY_RANK = {s: i for i, s in enumerate(ALARM_SEVERITIES)}


class FindingLike(Protocol):
    """What :func:`sync_alarms` reads of a finding (an :class:`~condivisa.operations.monitoring.AlarmFinding`)."""

    @property
    def kind(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def details(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class AlarmInfo:
    """An alarm as stored (instants timezone-aware UTC)."""

    id: int
    community_id: int
    kind: str
    subject: str
    severity: str
    message: str
    details: dict[str, Any]
    status: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: int | None
    closed_at: dt.datetime | None
    notified_at: dt.datetime | None


@dataclass(frozen=True)
class AlarmSync:
    """What :func:`sync_alarms` did: alarms ``opened``, ``refreshed`` (still found) and ``closed`` (no longer
    found), each as stored after the change."""

    opened: list[AlarmInfo]
    refreshed: list[AlarmInfo]
    closed: list[AlarmInfo]


def _info(row: AlarmRow) -> AlarmInfo:
    return AlarmInfo(
        id=row.id,
        community_id=row.community_id,
        kind=row.kind,
        subject=row.subject,
        severity=row.severity,
        message=row.message,
        details=dict(row.details or {}),
        status=row.status,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        closed_at=row.closed_at,
        notified_at=row.notified_at,
    )


def _instant(value: dt.datetime | None, name: str) -> dt.datetime:
    if value is None:
        return utc_now()
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError.one(f"istante senza fuso orario: {value!r}", field=name)
    return value.astimezone(dt.UTC)


def _check_findings(findings: Iterable[FindingLike]) -> dict[tuple[str, str], FindingLike]:
    """Valid findings by (kind, subject); of duplicates the most severe (the first among equals) is kept."""
    problems: list[Problem] = []
    chosen: dict[tuple[str, str], FindingLike] = {}
    for i, f in enumerate(findings):
        where = f"findings[{i}]"
        if f.kind not in ALARM_KINDS:
            problems.append(Problem(f"tipo {f.kind!r} sconosciuto; ammessi: {', '.join(ALARM_KINDS)}", field=where))
        if f.severity not in ALARM_SEVERITIES:
            problems.append(
                Problem(f"gravita' {f.severity!r} sconosciuta; ammesse: {', '.join(ALARM_SEVERITIES)}", field=where)
            )
        if not f.subject or len(f.subject) > 100:
            problems.append(Problem(f"soggetto vuoto o oltre 100 caratteri: {f.subject!r}", field=where))
        if len(f.message) > 2000:
            problems.append(Problem(f"messaggio di {len(f.message)} caratteri, al massimo 2000", field=where))
        try:
            json.dumps(f.details, allow_nan=False)
        except (TypeError, ValueError) as exc:
            problems.append(Problem(f"dettagli non rappresentabili in JSON: {exc}", field=where))
        key = (f.kind, f.subject)
        if key not in chosen or _SEVERITY_RANK.get(f.severity, -1) > _SEVERITY_RANK.get(chosen[key].severity, -1):
            chosen[key] = f
    if problems:
        raise InputError(problems)
    return chosen


def _require_community(session: Session, community_id: int) -> None:
    if session.get(CommunityRow, community_id) is None:
        raise NotFoundError(f"comunita' {community_id} non trovata")


def sync_alarms(
    session: Session,
    community_id: int,
    findings: Iterable[FindingLike],
    now: dt.datetime | None = None,
    *,
    kinds: Collection[str] | None = None,
) -> AlarmSync:
    """Bring the community's alarms in line with the findings of a check, in one transaction.

    Parameters
    ----------
    session : Session
    community_id : int
    findings : iterable of AlarmFinding
        What the check found; one alarm per (kind, subject) (of duplicates the most severe counts).
    now : datetime, optional
        Timezone-aware instant of the check (default: the current instant).
    kinds : collection of str, optional
        The kinds the check looked for (default: all): open alarms of other kinds are left as they are.

    Returns
    -------
    AlarmSync
        A finding with no open or acknowledged alarm of its (kind, subject) opens one (``first_seen`` =
        ``last_seen`` = ``now``); one that has it refreshes ``last_seen``, severity, message and details (an
        acknowledged alarm stays acknowledged); open or acknowledged alarms of the checked kinds not found any
        more are closed (``closed_at`` = ``now``).

    Raises
    ------
    NotFoundError
        No community with that id.
    InputError
        An unknown kind or severity, a subject or message too long, details that are not JSON.
    """
    at = _instant(now, "now")
    checked = tuple(ALARM_KINDS) if kinds is None else tuple(kinds)
    unknown = [k for k in checked if k not in ALARM_KINDS]
    if unknown:
        raise InputError.one(f"tipi di allarme sconosciuti: {', '.join(unknown)}", field="kinds")
    found = _check_findings(findings)
    outside = sorted({k for k, _ in found if k not in checked})
    if outside:
        raise InputError.one(f"allarmi di tipi non controllati: {', '.join(outside)}", field="kinds")
    try:
        _require_community(session, community_id)
        active = session.scalars(
            select(AlarmRow)
            .where(
                AlarmRow.community_id == community_id,
                AlarmRow.status.in_(ACTIVE_STATUSES),
                AlarmRow.kind.in_(checked),
            )
            .order_by(AlarmRow.id)
            .with_for_update()
        ).all()
        by_key: dict[tuple[str, str], AlarmRow] = {}
        for row in active:
            by_key.setdefault((row.kind, row.subject), row)
        opened: list[AlarmRow] = []
        refreshed: list[AlarmRow] = []
        closed: list[AlarmRow] = []
        for key, f in found.items():
            existing = by_key.get(key)
            if existing is None:
                row = AlarmRow(
                    community_id=community_id,
                    kind=f.kind,
                    subject=f.subject,
                    severity=f.severity,
                    message=f.message,
                    details=dict(f.details),
                    status="open",
                    first_seen=at,
                    last_seen=at,
                )
                session.add(row)
                opened.append(row)
            else:
                existing.last_seen, existing.severity = at, f.severity
                existing.message, existing.details = f.message, dict(f.details)
                refreshed.append(existing)
        for row in active:
            if (row.kind, row.subject) not in found or by_key[(row.kind, row.subject)] is not row:
                row.status, row.closed_at = "closed", at
                closed.append(row)
        session.flush()
        result = AlarmSync(
            opened=[_info(r) for r in opened],
            refreshed=[_info(r) for r in refreshed],
            closed=[_info(r) for r in closed],
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


def _get(session: Session, alarm_id: int) -> AlarmRow:
    row = session.get(AlarmRow, alarm_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFoundError(f"allarme {alarm_id} non trovato")
    return row


def acknowledge_alarm(
    session: Session, alarm_id: int, user_id: int | None = None, now: dt.datetime | None = None
) -> AlarmInfo:
    """Mark an open alarm as seen by ``user_id`` (None: from the command line, no user).

    Acknowledging an acknowledged alarm changes nothing.

    Raises
    ------
    NotFoundError
        No alarm, or no user, with that id.
    InputError
        The alarm is closed.
    """
    at = _instant(now, "now")
    try:
        row = _get(session, alarm_id)
        if row.status == "closed":
            raise InputError.one(f"l'allarme {alarm_id} e' chiuso: non si puo' prendere in carico", field="status")
        if row.status == "open":
            if user_id is not None and session.get(User, user_id) is None:
                raise NotFoundError(f"utente {user_id} non trovato")
            row.status, row.acknowledged_at, row.acknowledged_by = "acknowledged", at, user_id
        info = _info(row)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return info


def close_alarm(session: Session, alarm_id: int, now: dt.datetime | None = None) -> AlarmInfo:
    """Close an alarm by hand (closing a closed alarm changes nothing).

    Raises
    ------
    NotFoundError
        No alarm with that id.
    """
    at = _instant(now, "now")
    try:
        row = _get(session, alarm_id)
        if row.status != "closed":
            row.status, row.closed_at = "closed", at
        info = _info(row)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return info


def get_alarm(session: Session, alarm_id: int) -> AlarmInfo | None:
    """The alarm with that id, or None."""
    row = session.get(AlarmRow, alarm_id, populate_existing=True)
    return None if row is None else _info(row)


def list_alarms(
    session: Session, community_id: int, status: str | Sequence[str] | None = None, *, limit: int = 1000
) -> list[AlarmInfo]:
    """The community's alarms, newest first (by ``first_seen``, then id), optionally of one or more statuses.

    Raises
    ------
    NotFoundError
        No community with that id.
    InputError
        An unknown status.
    """
    statuses = (status,) if isinstance(status, str) else tuple(status) if status is not None else ()
    wrong = [s for s in statuses if s not in ALARM_STATUSES]
    if wrong:
        raise InputError.one(
            f"stato {', '.join(wrong)} sconosciuto; ammessi: {', '.join(ALARM_STATUSES)}", field="status"
        )
    _require_community(session, community_id)
    query = select(AlarmRow).where(AlarmRow.community_id == community_id)
    if statuses:
        query = query.where(AlarmRow.status.in_(statuses))
    query = query.order_by(AlarmRow.first_seen.desc(), AlarmRow.id.desc()).limit(limit)
    rows = session.scalars(query.execution_options(populate_existing=True)).all()
    infos = [_info(r) for r in rows]
    session.commit()  # end the read transaction (SQLite: release the snapshot)
    return infos


def mark_notified(session: Session, alarm_ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Record that the alarms were sent by email at ``now``; returns how many rows were marked.

    Raises
    ------
    NotFoundError
        An id that is not an alarm (nothing is marked then).
    """
    at = _instant(now, "now")
    ids = sorted(set(alarm_ids))
    if not ids:
        return 0
    try:
        rows = session.scalars(select(AlarmRow).where(AlarmRow.id.in_(ids)).with_for_update()).all()
        missing = sorted(set(ids) - {r.id for r in rows})
        if missing:
            raise NotFoundError(f"allarmi non trovati: {', '.join(map(str, missing))}")
        for row in rows:
            row.notified_at = at
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return len(rows)
