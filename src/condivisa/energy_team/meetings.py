"""Meetings of the energy team: monthly schedules in Italian local time, agendas and minutes.

The team has two tables: the **political** table (mayors: strategic decisions, inter-municipal actions,
communication) and the **technical** table (officials: methods, tools, timelines, thematic workshops, reports to
the political table). Each meets monthly.

A monthly schedule keeps the local wall time (17:30 stays 17:30 in Rome across the change to and from summer
time, so the UTC instant moves by an hour); a local time that does not exist (the spring-forward gap) is moved
forward by the gap, an ambiguous one (autumn fold) takes the first occurrence.

An agenda is written one item per line; a line may start with a tag in brackets giving the kind of item:
``[decisione]``, ``[relazione]`` (a report, e.g. of the technical table to the political one), ``[informativa]``;
other lines are ``discussione``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Rome")

TABLES: dict[str, str] = {"political": "Tavolo politico", "technical": "Tavolo tecnico"}
"""The team's two tables, with Italian labels."""

ROLES: dict[str, str] = {"coordinator": "Coordinatore", "member": "Componente"}

ITEM_KINDS: dict[str, str] = {
    "discussion": "Discussione",
    "decision": "Decisione",
    "report": "Relazione",
    "information": "Informativa",
}
"""Kinds of agenda items, with Italian labels."""

_TAGS = {"decisione": "decision", "relazione": "report", "informativa": "information", "discussione": "discussion"}

DECISION_KINDS: dict[str, str] = {"decision": "Decisione", "report": "Relazione al tavolo politico"}
DECISION_STATUSES: dict[str, str] = {
    "open": "Da avviare",
    "in_progress": "In corso",
    "done": "Eseguita",
    "dropped": "Abbandonata",
}

DEFAULT_AGENDAS: dict[str, tuple[str, ...]] = {
    "political": (
        "[relazione] Relazione del tavolo tecnico sullo stato del piano d'azione",
        "[decisione] Decisioni strategiche e azioni intercomunali",
        "Comunicazione ai cittadini",
        "Varie ed eventuali",
    ),
    "technical": (
        "Avanzamento delle azioni e degli indicatori",
        "Metodi, strumenti e tempi",
        "Laboratori tematici",
        "[relazione] Relazione da presentare al tavolo politico",
        "Varie ed eventuali",
    ),
}
"""Standard agenda of each table (one line per item, tags as in the module notes)."""


def local_instant(day: dt.date, at: dt.time) -> dt.datetime:
    """The UTC instant of local (Europe/Rome) time ``at`` on ``day``.

    A time in the spring-forward gap (02:00–03:00 on the last Sunday of March) is moved forward by the gap (02:30
    becomes 03:30 CEST); an ambiguous time in the autumn fold takes its first occurrence (CEST).
    """
    naive = dt.datetime.combine(day, at.replace(tzinfo=None, fold=0))
    # zoneinfo reads a nonexistent time with fold=0 at the offset before the gap (so 02:30 CET = 03:30 CEST) and
    # an ambiguous one at its first occurrence: both as documented above.
    return naive.replace(tzinfo=LOCAL_TZ).astimezone(dt.UTC)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> dt.date:
    """The ``nth`` (1..4, or -1 for the last) ``weekday`` (0 = Monday) of a month."""
    if not 0 <= weekday <= 6:
        raise ValueError(f"giorno della settimana {weekday} fuori da 0..6")
    days = [d for d in calendar.Calendar().itermonthdates(year, month) if d.month == month and d.weekday() == weekday]
    if nth == -1:
        return days[-1]
    if not 1 <= nth <= 4:
        raise ValueError(f"occorrenza {nth} non valida: 1, 2, 3, 4 oppure -1 (l'ultima)")
    return days[nth - 1]


def monthly_schedule(
    first: dt.date,
    at: dt.time,
    count: int,
    *,
    weekday: int | None = None,
    nth: int | None = None,
) -> list[dt.datetime]:
    """``count`` monthly meeting instants (UTC) at local time ``at``, starting with the month of ``first``.

    Parameters
    ----------
    first : date
        The first meeting's date. Without ``weekday``, later meetings fall on the same day of the month (the last
        day of shorter months: 31 January, 28/29 February, 31 March...).
    at : time
        Local (Europe/Rome) wall time of every meeting, kept across summer-time changes.
    count : int
        Number of meetings, 1..36.
    weekday, nth : int, optional
        Meet on the ``nth`` ``weekday`` of each month instead (``weekday=1, nth=1``: the first Tuesday); the first
        month's occurrence is skipped when it falls before ``first``.

    Returns
    -------
    list of datetime
        Timezone-aware UTC instants, increasing.
    """
    if not 1 <= count <= 36:
        raise ValueError(f"numero di riunioni {count} fuori da 1..36")
    if (weekday is None) != (nth is None):
        raise ValueError("giorno della settimana e occorrenza vanno indicati insieme")
    out: list[dt.datetime] = []
    offset = 0
    while len(out) < count:
        year, month = _add_months(first.year, first.month, offset)
        offset += 1
        if weekday is not None and nth is not None:
            day = nth_weekday(year, month, weekday, nth)
            if day < first:
                continue
        else:
            day = dt.date(year, month, min(first.day, calendar.monthrange(year, month)[1]))
        out.append(local_instant(day, at))
    return out


@dataclass(frozen=True)
class AgendaItem:
    """An item of a meeting's agenda: its title and kind (a key of :data:`ITEM_KINDS`)."""

    title: str
    kind: str = "discussion"

    def __post_init__(self) -> None:
        if self.kind not in ITEM_KINDS:
            raise ValueError(f"tipo di punto all'ordine del giorno sconosciuto: {self.kind!r}")
        if not self.title.strip():
            raise ValueError("punto all'ordine del giorno senza titolo")


_TAG = re.compile(r"^\s*\[([^\]]+)\]\s*(.*)$")


def parse_agenda(text: str) -> list[AgendaItem]:
    """The agenda written one item per line (tags as in the module notes); empty lines are skipped.

    Raises
    ------
    ValueError
        An unknown tag or an item without a title; the message names the line (1-based).
    """
    items: list[AgendaItem] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("-*•").strip()
        if not line:
            continue
        kind = "discussion"
        match = _TAG.match(line)
        if match:
            tag = match.group(1).strip().lower()
            if tag not in _TAGS:
                raise ValueError(f"riga {n}: tipo [{tag}] sconosciuto (ammessi: {', '.join(f'[{t}]' for t in _TAGS)})")
            kind = _TAGS[tag]
            line = match.group(2).strip()
            if not line:
                raise ValueError(f"riga {n}: punto senza titolo")
        if len(line) > 300:
            raise ValueError(f"riga {n}: punto troppo lungo (massimo 300 caratteri)")
        items.append(AgendaItem(line, kind))
    if len(items) > 50:
        raise ValueError("ordine del giorno troppo lungo (massimo 50 punti)")
    return items


def agenda_text(items: Sequence[AgendaItem]) -> str:
    """The agenda back as text, the inverse of :func:`parse_agenda`."""
    tags = {v: k for k, v in _TAGS.items()}
    return "\n".join(it.title if it.kind == "discussion" else f"[{tags[it.kind]}] {it.title}" for it in items)


@dataclass(frozen=True)
class MinutesDecision:
    """A decision as the minutes record it."""

    text: str
    kind: str
    owner: str
    due: dt.date | None


def minutes_draft(
    team: str,
    table: str,
    starts_at: dt.datetime,
    place: str,
    agenda: Sequence[AgendaItem],
    present: Sequence[str],
    absent: Sequence[str],
    decisions: Sequence[MinutesDecision] = (),
) -> str:
    """A draft of the minutes (plain Italian text): heading, attendance, one section per agenda item, decisions.

    The coordinator completes the sections and saves the text as the meeting's minutes.
    """
    local = starts_at.astimezone(LOCAL_TZ)
    lines = [
        f"VERBALE DELLA RIUNIONE DEL {TABLES.get(table, table).upper()}",
        team,
        f"Data: {local:%d/%m/%Y}, ore {local:%H:%M}" + (f" – Luogo: {place}" if place else ""),
        "",
        "Presenti: " + (", ".join(present) if present else "—"),
        "Assenti: " + (", ".join(absent) if absent else "—"),
        "",
        "Ordine del giorno:",
    ]
    lines += [f"{i}. {it.title} ({ITEM_KINDS[it.kind].lower()})" for i, it in enumerate(agenda, start=1)]
    lines.append("")
    for i, it in enumerate(agenda, start=1):
        lines += [f"{i}. {it.title}", "   Discussione: ", ""]
    if decisions:
        lines.append("Decisioni:")
        for d in decisions:
            due = f", entro il {d.due:%d/%m/%Y}" if d.due else ""
            who = f" – responsabile: {d.owner}" if d.owner else ""
            lines.append(f"- [{DECISION_KINDS.get(d.kind, d.kind)}] {d.text}{who}{due}")
    return "\n".join(lines) + "\n"
