"""Training and engagement of a municipality: places and waiting list, attendance statistics, iCalendar feed.

Pure functions, no I/O. The storage (:mod:`condivisa.store.engagement`) and the pages
(:mod:`condivisa.web.civic_engagement`) call them.

- :func:`rebalance` decides who holds a place of an event with limited capacity: registrations are served in the
  order they joined the queue; a confirmed place is never taken back; a free place (a cancellation, a larger
  capacity) goes to the first person waiting.
- :func:`attendance_statistics` counts confirmed registrations and attendance per kind of event and per
  stakeholder group.
- :func:`events_ical` writes the public events of a municipality as an iCalendar feed (RFC 5545) in Europe/Rome
  local time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

import icalendar

LOCAL_TZ = ZoneInfo("Europe/Rome")
"""Time zone of every local time shown to people and written in the calendar."""

EVENT_KINDS: dict[str, str] = {
    "course_staff": "Formazione per il personale comunale",
    "course_citizens": "Corso per cittadini",
    "school": "Programma per le scuole",
    "workshop": "Laboratorio di co-progettazione",
    "working_table": "Tavolo di lavoro",
    "info_session": "Incontro informativo",
}
"""Kinds of event, with their Italian label."""

STAKEHOLDER_GROUPS: dict[str, str] = {
    "citizens": "Cittadini",
    "businesses": "Imprese",
    "third_sector": "Terzo settore",
    "schools": "Scuole",
    "public_bodies": "Enti pubblici",
    "financers": "Finanziatori",
    "installers": "Installatori",
}
"""Stakeholder groups of registrants and of working-table participants, with their Italian label."""

Status = Literal["confirmed", "waiting", "cancelled"]
REGISTRATION_STATUSES: tuple[Status, ...] = ("confirmed", "waiting", "cancelled")
"""A registration holds a place (``confirmed``), waits for one (``waiting``) or was withdrawn (``cancelled``)."""

MAX_MATERIAL_BYTES = 10 * 1024 * 1024
"""Largest material file accepted [byte] (10 MiB)."""

PRODID = "-//Condivisa//Eventi del comune//IT"
UID_DOMAIN = "eventi.condivisa"


# Places and waiting list -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """One registration as the waiting list sees it.

    Parameters
    ----------
    id : int
        Identifier of the registration.
    status : str
        ``"confirmed"``, ``"waiting"`` or ``"cancelled"``.
    """

    id: int
    status: Status


def rebalance(capacity: int | None, seats: Sequence[Seat]) -> dict[int, Status]:
    """The status of every registration after filling the free places from the waiting list.

    Parameters
    ----------
    capacity : int or None
        Number of places [persons]; None for an event without limit (everybody is confirmed).
    seats : sequence of Seat
        The event's registrations in queue order (first come, first served).

    Returns
    -------
    dict
        Registration id -> new status, for every registration given. Confirmed registrations stay confirmed even
        if the capacity was lowered below their number (nobody loses a place already given); cancelled ones stay
        cancelled; waiting ones are confirmed in queue order while places are free.

    Raises
    ------
    ValueError
        A negative capacity, or the same registration twice.
    """
    if capacity is not None and capacity < 0:
        raise ValueError(f"capienza negativa: {capacity}")
    ids = [s.id for s in seats]
    if len(set(ids)) != len(ids):
        raise ValueError("la stessa iscrizione compare due volte nella coda")
    confirmed = sum(1 for s in seats if s.status == "confirmed")
    out: dict[int, Status] = {}
    for seat in seats:
        status = seat.status
        if status == "waiting" and (capacity is None or confirmed < capacity):
            status = "confirmed"
            confirmed += 1
        out[seat.id] = status
    return out


def places_left(capacity: int | None, confirmed: int) -> int | None:
    """Free places of an event [persons]; None without limit, never negative."""
    return None if capacity is None else max(0, capacity - confirmed)


# Attendance statistics --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRecord:
    """One registration as the statistics see it (no personal data).

    Parameters
    ----------
    kind : str
        Kind of the event (a key of :data:`EVENT_KINDS`).
    group : str
        Stakeholder group of the registrant (a key of :data:`STAKEHOLDER_GROUPS`).
    status : str
        Status of the registration.
    attended : bool
        Whether the officer marked the person present.
    """

    kind: str
    group: str
    status: Status
    attended: bool


@dataclass(frozen=True)
class AttendanceRow:
    """Counts of one kind of event or one stakeholder group.

    ``confirmed`` and ``waiting`` count registrations [persons]; ``attended`` counts confirmed registrations
    marked present; ``rate`` is attended / confirmed [0–1], None when nobody was confirmed.
    """

    key: str
    label: str
    confirmed: int
    waiting: int
    attended: int

    @property
    def rate(self) -> float | None:
        return None if self.confirmed == 0 else self.attended / self.confirmed


@dataclass(frozen=True)
class AttendanceStatistics:
    """Attendance per kind of event, per stakeholder group, and in total."""

    by_kind: list[AttendanceRow]
    by_group: list[AttendanceRow]
    total: AttendanceRow


def _row(key: str, label: str, records: list[AttendanceRecord]) -> AttendanceRow:
    confirmed = [r for r in records if r.status == "confirmed"]
    return AttendanceRow(
        key=key,
        label=label,
        confirmed=len(confirmed),
        waiting=sum(1 for r in records if r.status == "waiting"),
        attended=sum(1 for r in confirmed if r.attended),
    )


def attendance_statistics(records: Iterable[AttendanceRecord]) -> AttendanceStatistics:
    """Registrations and attendance per kind of event and per stakeholder group.

    Cancelled registrations are not counted. A person marked present is counted only if confirmed (a waiting
    person marked present by mistake does not raise the rate above 1). Kinds and groups appear in the order of
    :data:`EVENT_KINDS` and :data:`STAKEHOLDER_GROUPS`, only when they have registrations; unknown keys come last
    with their key as label.
    """
    live = [r for r in records if r.status != "cancelled"]

    def rows(keys: dict[str, str], key_of: str) -> list[AttendanceRow]:
        found = {getattr(r, key_of) for r in live}
        order = [k for k in keys if k in found] + sorted(found - set(keys))
        return [_row(k, keys.get(k) or k, [r for r in live if getattr(r, key_of) == k]) for k in order]

    return AttendanceStatistics(
        by_kind=rows(EVENT_KINDS, "kind"),
        by_group=rows(STAKEHOLDER_GROUPS, "group"),
        total=_row("total", "Totale", live),
    )


# Local times ------------------------------------------------------------------------------------------------------


def parse_local_datetime(text: str, field: str) -> dt.datetime:
    """A ``datetime-local`` form value (``2026-12-01T18:00``) read as Europe/Rome time, returned in UTC.

    Raises
    ------
    ValueError
        Not a date and time; the message names ``field``.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"{field}: data e ora non valide {text!r} (atteso AAAA-MM-GGTHH:MM)") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(dt.UTC)


def local_input_value(value: dt.datetime) -> str:
    """An instant as the value of a ``datetime-local`` input, in Europe/Rome time (``2026-12-01T18:00``)."""
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


# iCalendar ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEvent:
    """A public event as the calendar shows it.

    Parameters
    ----------
    id : int
        Identifier of the event (key of its UID).
    kind : str
        Kind of the event.
    title, description, place : str
        Texts shown by calendar applications.
    starts_at, ends_at : datetime
        Timezone-aware instants.
    url : str
        Address of the event's public page.
    updated_at : datetime
        Last change (DTSTAMP and LAST-MODIFIED).
    """

    id: int
    kind: str
    title: str
    description: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    url: str
    updated_at: dt.datetime


def event_uid(municipality_slug: str, event_id: int) -> str:
    """Stable UID of an event: from the municipality's slug and the event's id only."""
    key = f"{municipality_slug}\n{event_id}"
    return f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{UID_DOMAIN}"


def events_ical(municipality_name: str, municipality_slug: str, events: Sequence[CalendarEvent]) -> bytes:
    """The events as an iCalendar feed (RFC 5545), UTF-8 bytes.

    DTSTART and DTEND carry ``TZID=Europe/Rome`` with its VTIMEZONE; SUMMARY is the title, CATEGORIES the Italian
    label of the kind, LOCATION the place (an address or an online link, as text), URL the public page.
    """
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Eventi – Comune di {municipality_name}")
    cal.add("x-wr-timezone", "Europe/Rome")
    for item in events:
        event = icalendar.Event()
        stamp = item.updated_at.astimezone(dt.UTC)
        event.add("uid", event_uid(municipality_slug, item.id))
        event.add("dtstamp", stamp)
        event.add("last-modified", stamp)
        event.add("dtstart", item.starts_at.astimezone(LOCAL_TZ))
        event.add("dtend", item.ends_at.astimezone(LOCAL_TZ))
        event.add("summary", item.title)
        if item.description:
            event.add("description", item.description)
        if item.place:
            event.add("location", item.place)
        event.add("url", item.url)
        event.add("categories", [EVENT_KINDS.get(item.kind, item.kind)])
        cal.add_component(event)
    if events:
        cal.add_missing_timezones()
    return bytes(cal.to_ical())
