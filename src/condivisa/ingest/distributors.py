"""Readers of distributors' meter files (curve di carico) into :class:`~condivisa.ingest.readings.Readings`.

Formats (see ``shared/domain/meter-files.md``):

* **ED-WIDE** — e-distribuzione ``ExportData_<mese>.csv``: one row per local day, one column per quarter-hour
  (``Giorno;00:00-00:15;...``), one POD and one curve per file, neither written in the file.
  :func:`parse_edistribuzione_wide`.
* **PCF-LONG** — Unareti / Duereti / RetiPiù / RE.V.V. "Portale Clienti Finali" curve CSV: one row per POD and
  quarter-hour, ``FL_ORA_LEGALE`` = UTC offset in hours. :func:`parse_pcf_long`.
* anything else (GSE export included) — :func:`parse_mapped_csv` with a user-chosen :class:`ColumnMapping`.

Common rules
------------
* ``source`` is a :class:`~pathlib.Path`, a text buffer, or a ``str``: a ``str`` containing a line break is the
  file's text, otherwise it is a path. Files are decoded ``utf-8-sig`` (a BOM is accepted).
* Numbers are parsed from the string through :class:`~decimal.Decimal` (never float) and stored as float kWh.
* Every interval is converted to its UTC start once, here.
* Hard problems (unparsable number/date, negative value, malformed POD, conflicting duplicate interval, a non-zero
  value in a non-existent local hour, inconsistent DST flag, wrong number of cells) are all collected and raised
  together as one :class:`~condivisa.errors.InputError`; each names file, 1-based line and field.
* Soft findings go to ``Readings.notes`` and never silently drop data: gaps (missing intervals, empty cells) per POD
  and run of intervals, exact duplicate rows (kept once), dropped zero placeholders of the spring hour, estimated
  data (``TIPO_DATO`` not ``E``), days refused because the file cannot hold them (ED-WIDE autumn day with 96
  columns). A gap is never filled with zeros: the interval is simply absent from the frame.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Literal
from zoneinfo import ZoneInfo

import pandas as pd

from condivisa.errors import InputError, Problem
from condivisa.ingest.readings import COLUMNS, Readings, Rejected
from condivisa.model.community import POD_PATTERN

Direction = Literal["withdrawn", "injected"]
Source = str | Path | IO[str]

ROME = ZoneInfo("Europe/Rome")
ZERO = Decimal(0)
QUARTER = timedelta(minutes=15)

__all__ = [
    "ColumnMapping",
    "Direction",
    "parse_edistribuzione_wide",
    "parse_mapped_csv",
    "parse_pcf_long",
    "pod_and_direction_from_filename",
    "quarter_hours_in_day",
    "read_edistribuzione_wide",
    "read_pcf_long",
]


# ---------------------------------------------------------------------------------------------------------------
# shared helpers


def _read_source(source: Source, name: str | None) -> tuple[str, str]:
    """Return (text, label) of a path, buffer or text."""
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and "\r" not in source):
        path = Path(source)
        label = name or str(source)
        try:
            return path.read_bytes().decode("utf-8-sig"), label
        except FileNotFoundError as exc:
            raise InputError.one("file non trovato", file=label) from exc
        except UnicodeDecodeError as exc:
            raise InputError.one(f"file non in UTF-8: {exc}", file=label) from exc
    text = source if isinstance(source, str) else source.read()
    return text.removeprefix("\ufeff"), name or "<testo>"


def _rows(text: str, separator: str) -> list[tuple[int, list[str]]]:
    """Split text into (1-based line, fields): quotes removed, trailing empty field dropped, blank lines skipped."""
    out: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = next(csv.reader([line], delimiter=separator, quotechar='"'))
        fields = [f.strip() for f in fields]
        if len(fields) > 1 and fields[-1] == "":
            fields.pop()
        out.append((number, fields))
    return out


def _utc_fmt(ts: datetime) -> str:
    return ts.astimezone(ROME).isoformat(timespec="minutes")


def _exists(local: datetime) -> bool:
    """Whether a Europe/Rome wall time exists (false in the spring-forward hour)."""
    back = local.astimezone(UTC).astimezone(ROME)
    return back.replace(tzinfo=None, fold=0) == local.replace(tzinfo=None, fold=0)


def _ambiguous(local: datetime) -> bool:
    """Whether a Europe/Rome wall time occurs twice (the autumn repeated hour)."""
    return local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset() and _exists(local)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=ROME).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ROME).astimezone(UTC)
    return start, end


def quarter_hours_in_day(day: date) -> int:
    """Number of quarter-hours in an Italian local day: 92, 96 or 100."""
    start, end = _day_bounds(day)
    return int((end - start) / QUARTER)


class _Collector:
    """Values keyed by (POD, UTC start), problems and notes of one file."""

    def __init__(self, name: str, text: str = "") -> None:
        self.name = name
        self.lines = text.splitlines()
        self.conflicts: dict[tuple[str, datetime], list[tuple[Decimal, Decimal, int]]] = {}
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.values: dict[tuple[str, datetime], tuple[Decimal, Decimal, int]] = {}
        self.days: dict[str, set[date]] = {}
        self.reported: set[tuple[str, datetime]] = set()

    def problem(self, message: str, row: int | None = None, field: str | None = None) -> None:
        self.problems.append(Problem(message, file=self.name, row=row, field=field))

    def number(self, text: str, row: int, field: str, decimal_sep: str = ",") -> Decimal | None:
        """Parse a non-negative number; None (and a problem) if malformed or negative; callers handle ''."""
        raw = text.strip()
        if decimal_sep != ".":
            if "." in raw:
                self.problem(f"numero non valido {text!r}: separatore decimale atteso {decimal_sep!r}", row, field)
                return None
            raw = raw.replace(decimal_sep, ".")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.problem(f"numero non valido {text!r}", row, field)
            return None
        if not value.is_finite():
            self.problem(f"numero non valido {text!r}", row, field)
            return None
        if value < 0:
            self.problem(f"valore negativo {text!r}: l'energia nell'intervallo non può essere negativa", row, field)
            return None
        return value

    def pod(self, text: str, row: int, field: str) -> str | None:
        pod = text.strip().upper()
        if not pod:
            self.problem("POD mancante", row, field)
            return None
        if not POD_PATTERN.match(pod):
            self.problem(f"POD non valido {text!r}: atteso IT + 3 cifre + E + 8 o 9 cifre", row, field)
            return None
        return pod

    def add(self, pod: str, ts: datetime, withdrawn: Decimal, injected: Decimal, row: int, field: str) -> None:
        key = (pod, ts)
        self.days.setdefault(pod, set()).add(ts.astimezone(ROME).date())
        old = self.values.get(key)
        if old is None:
            self.values[key] = (withdrawn, injected, row)
        elif (old[0], old[1]) == (withdrawn, injected):
            self.notes.append(
                f"{self.name}, riga {row}: intervallo {pod} {_utc_fmt(ts)} ripetuto identico alla riga {old[2]}, "
                "contato una volta"
            )
        else:
            self.problem(
                f"intervallo duplicato per {pod} alle {_utc_fmt(ts)} con valori diversi dalla riga {old[2]} "
                f"({old[0]}/{old[1]} contro {withdrawn}/{injected}): nessuno dei due è usato",
                row,
                field,
            )
            self.conflicts.setdefault(key, [old]).append((withdrawn, injected, row))

    def gap(self, pod: str, ts: datetime, message: str) -> None:
        self.reported.add((pod, ts))
        self.days.setdefault(pod, set()).add(ts.astimezone(ROME).date())
        self.notes.append(message)

    def raw(self, row: int | None) -> str | None:
        if row is None or not 0 < row <= len(self.lines):
            return None
        return self.lines[row - 1][:2000]

    def _rejected(self, interval_minutes: int | dict[str, int]) -> list[Rejected]:
        """Every problem as a held-back reading; both sides of a conflicting duplicate, with their values."""
        out: list[Rejected] = []
        conflict_rows = {r for versions in self.conflicts.values() for _, _, r in versions}
        for p in self.problems:
            if p.row in conflict_rows and p.message.startswith("intervallo duplicato"):
                continue
            out.append(Rejected(p.message, source=self.name, row=p.row, field=p.field, raw=self.raw(p.row)))
        for (pod, ts), versions in sorted(self.conflicts.items()):
            minutes = interval_minutes if isinstance(interval_minutes, int) else interval_minutes.get(pod)
            rows = ", ".join(str(r) for _, _, r in versions)
            for withdrawn, injected, row in versions:
                out.append(
                    Rejected(
                        f"intervallo duplicato per {pod} alle {_utc_fmt(ts)} con valori diversi (righe {rows})",
                        source=self.name,
                        row=row,
                        raw=self.raw(row),
                        pod=pod,
                        timestamp=pd.Timestamp(ts),
                        interval_minutes=minutes,
                        withdrawn_kwh=float(withdrawn),
                        injected_kwh=float(injected),
                    )
                )
        return out

    def finish(self, interval_minutes: int | dict[str, int], *, lenient: bool = False) -> Readings:
        """The readings; a strict reader raises every problem, a lenient one returns them as ``rejected``."""
        rejected: list[Rejected] = []
        if self.problems:
            if not lenient:
                raise InputError(self.problems)
            rejected = self._rejected(interval_minutes)
            for key in self.conflicts:
                self.values.pop(key, None)
                self.reported.add(key)
        if not self.values:
            if not lenient or not rejected:
                raise InputError.one("nessuna lettura valida nel file", file=self.name)
            frame = pd.DataFrame(
                {
                    "pod": pd.Series([], dtype=object),
                    "timestamp": pd.to_datetime(pd.Series([], dtype="datetime64[ns]"), utc=True),
                    "withdrawn_kwh": pd.Series([], dtype="float64"),
                    "injected_kwh": pd.Series([], dtype="float64"),
                }
            )
            return Readings(frame=frame, interval_minutes={}, source=self.name, notes=self.notes, rejected=rejected)
        pods = sorted({pod for pod, _ in self.values})
        minutes = interval_minutes if isinstance(interval_minutes, dict) else dict.fromkeys(pods, interval_minutes)
        for pod in pods:
            self._gaps(pod, minutes[pod])
        keys = sorted(self.values)
        frame = pd.DataFrame(
            {
                "pod": [k[0] for k in keys],
                "timestamp": pd.to_datetime([k[1] for k in keys], utc=True),
                "withdrawn_kwh": [float(self.values[k][0]) for k in keys],
                "injected_kwh": [float(self.values[k][1]) for k in keys],
            },
            columns=COLUMNS,
        )
        return Readings(
            frame=frame,
            interval_minutes={p: minutes[p] for p in pods},
            source=self.name,
            notes=self.notes,
            rejected=rejected,
        )

    def _gaps(self, pod: str, minutes: int) -> None:
        """Note every missing interval of each local day the POD appears in, as runs."""
        step = timedelta(minutes=minutes)
        days = sorted(self.days.get(pod, set()))
        if not days:
            return
        start, _ = _day_bounds(days[0])
        _, end = _day_bounds(days[-1])
        run: list[datetime] = []

        def flush() -> None:
            if run:
                self.notes.append(
                    f"{self.name}: lacuna per {pod} da {_utc_fmt(run[0])} a {_utc_fmt(run[-1] + step)} "
                    f"({len(run)} intervalli mancanti)"
                )
                run.clear()

        ts = start
        while ts < end:
            key = (pod, ts)
            if key not in self.values and key not in self.reported:
                run.append(ts)
            else:
                flush()
            ts += step
        flush()


# ---------------------------------------------------------------------------------------------------------------
# ED-WIDE

_LABEL = re.compile(r"^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$")
_FILENAME = re.compile(r"^edist-wide_(?P<pod>[A-Za-z0-9]+)_(?P<curve>[A-Za-z]+)_", re.IGNORECASE)
_CURVES: dict[str, Direction] = {
    "prelievo": "withdrawn",
    "prelevata": "withdrawn",
    "withdrawn": "withdrawn",
    "immissione": "injected",
    "immessa": "injected",
    "injected": "injected",
}


def pod_and_direction_from_filename(name: str | Path) -> tuple[str, Direction]:
    """POD and curve of an ED-WIDE file from Condivisa's naming convention.

    e-distribuzione's download is just ``ExportData_<mese>.csv`` with neither POD nor curve inside. Condivisa's
    convention is to rename it ``edist-wide_<POD>_<curve>_<anything>.csv`` where ``<curve>`` is ``prelievo`` (A+,
    withdrawn) or ``immissione`` (A-, injected); ``prelevata``/``immessa`` and ``withdrawn``/``injected`` are also
    accepted. Example: ``edist-wide_IT001E12345678_prelievo_ExportData_giugno.csv``.

    Raises
    ------
    InputError
        If the name does not follow the convention or the POD is malformed.
    """
    base = Path(name).name
    match = _FILENAME.match(base)
    hint = (
        "atteso edist-wide_<POD>_<prelievo|immissione>_<...>.csv, "
        "es. edist-wide_IT001E12345678_prelievo_ExportData_giugno.csv"
    )
    if not match:
        raise InputError.one(f"nome del file non conforme alla convenzione: {hint}", file=base)
    pod = match["pod"].upper()
    if not POD_PATTERN.match(pod):
        raise InputError.one(
            f"POD {match['pod']!r} nel nome non valido: atteso IT + 3 cifre + E + 8 o 9 cifre", file=base
        )
    curve = _CURVES.get(match["curve"].lower())
    if curve is None:
        raise InputError.one(f"curva {match['curve']!r} nel nome non riconosciuta: {hint}", file=base)
    return pod, curve


def parse_edistribuzione_wide(
    source: Source, *, pod: str, direction: Direction, name: str | None = None, lenient: bool = False
) -> Readings:
    """Parse an e-distribuzione ``ExportData`` quarter-hour curve (ED-WIDE) of one POD and one direction.

    Parameters
    ----------
    source : str, Path or text buffer
        The file (see the module docstring for how a ``str`` is read).
    pod : str
        The POD the file belongs to (the file does not say it).
    direction : {"withdrawn", "injected"}
        ``withdrawn`` for "attiva prelevata" (A+), ``injected`` for "attiva immessa" (A-); the other column is 0.
    name : str, optional
        File name for messages.
    lenient : bool
        Return row- and cell-level problems as ``Readings.rejected`` (with the good cells of the same row kept)
        instead of raising; problems of the header or of the file as a whole still raise.

    Notes
    -----
    The header is read, never assumed: each label ``hh:mm-hh:mm`` gives a local start; a label repeated in the header
    (a 100-column export) is the second, CET, occurrence of the autumn hour. On the spring day the non-existent
    02:00-02:45 cells must be empty or zero (non-zero is a problem naming row and column); on the autumn day a header
    without the repeated hour cannot hold the 100 quarter-hours, so that day is refused as a whole and noted as a gap
    (cells are never shifted). An empty cell is a gap (noted), never a zero.
    """
    text, label = _read_source(source, name)
    acc = _Collector(label, text)
    if direction not in ("withdrawn", "injected"):
        raise InputError.one(f"direzione {direction!r} non valida: attesa withdrawn o injected", file=label)
    checked_pod = acc.pod(pod, 0, "pod")
    if checked_pod is None:
        raise InputError([Problem(p.message, file=label, field="pod") for p in acc.problems])
    rows = _rows(text, ";")
    if not rows:
        raise InputError.one("file vuoto; intestazione attesa Giorno;00:00-00:15;...", file=label)
    header_line, header = rows[0]
    if not header or header[0].lower() != "giorno":
        raise InputError.one(
            f"intestazione non riconosciuta {';'.join(header[:3])!r}...: attesa Giorno;00:00-00:15;...",
            file=label,
            row=header_line,
            field=header[0] if header else None,
        )
    columns: list[tuple[str, time, int]] = []  # label, local start, occurrence (0 first, 1 repeated)
    seen: dict[time, int] = {}
    for text_label in header[1:]:
        m = _LABEL.match(text_label)
        if not m or int(m[1]) > 23 or int(m[2]) % 15:
            acc.problem("etichetta di colonna non valida: attesa hh:mm-hh:mm a quarti d'ora", header_line, text_label)
            continue
        start = time(int(m[1]), int(m[2]))
        occurrence = seen.get(start, 0)
        if occurrence > 1:
            acc.problem("colonna ripetuta più di due volte", header_line, text_label)
        seen[start] = occurrence + 1
        columns.append((text_label, start, occurrence))
    if acc.problems:
        raise InputError(acc.problems)
    repeated = {start for _, start, occ in columns if occ == 1}

    for line, fields in rows[1:]:
        day_text = fields[0] if fields else ""
        try:
            day = datetime.strptime(day_text, "%d/%m/%Y").date()
        except ValueError:
            acc.problem(f"data non valida {day_text!r}: attesa gg/mm/aaaa", line, "Giorno")
            continue
        cells = fields[1:]
        if len(cells) != len(columns):
            acc.problem(
                f"{len(cells)} valori per il giorno {day_text}, l'intestazione ha {len(columns)} colonne",
                line,
                "Giorno",
            )
            continue
        needs_repeat = [
            start
            for _, start, occ in columns
            if occ == 0 and start not in repeated and _ambiguous(datetime.combine(day, start, tzinfo=ROME))
        ]
        if needs_repeat:
            d_start, d_end = _day_bounds(day)
            ts = d_start
            while ts < d_end:
                acc.reported.add((checked_pod, ts))
                ts += QUARTER
            acc.days.setdefault(checked_pod, set()).add(day)
            acc.notes.append(
                f"{label}, riga {line}: giorno {day_text} rifiutato: ha {quarter_hours_in_day(day)} quarti d'ora "
                f"(cambio dall'ora legale) ma il file ne ha {len(columns)} colonne e non distingue le due ore "
                f"{needs_repeat[0]:%H}:xx; importare quel giorno da un'altra fonte (lacuna)"
            )
            continue
        for (col_label, start, occ), cell in zip(columns, cells, strict=True):
            local = datetime.combine(day, start, tzinfo=ROME).replace(fold=occ)
            value = acc.number(cell, line, col_label) if cell else None
            real = _exists(local) and (occ == 0 or _ambiguous(local))
            if not real:
                if value is not None and value != ZERO:
                    acc.problem(
                        f"valore {cell!r} in un'ora che il {day_text} non esiste (cambio d'ora): atteso vuoto o 0",
                        line,
                        col_label,
                    )
                continue
            ts = local.astimezone(UTC)
            if not cell:
                acc.gap(
                    checked_pod, ts, f"{label}, riga {line}, {col_label}: cella vuota il {day_text} (lacuna, non zero)"
                )
                continue
            if value is None:
                continue
            withdrawn, injected = (value, ZERO) if direction == "withdrawn" else (ZERO, value)
            acc.add(checked_pod, ts, withdrawn, injected, line, col_label)
    return acc.finish(15, lenient=lenient)


def read_edistribuzione_wide(path: str | Path, *, lenient: bool = False) -> Readings:
    """Read an ED-WIDE file named by Condivisa's convention (see :func:`pod_and_direction_from_filename`)."""
    pod, direction = pod_and_direction_from_filename(path)
    return parse_edistribuzione_wide(Path(path), pod=pod, direction=direction, name=str(path), lenient=lenient)


# ---------------------------------------------------------------------------------------------------------------
# PCF-LONG

PCF_REQUIRED = ["POD", "DATA", "ORA", "FL_ORA_LEGALE", "ATTIVA_PRELEVATA", "ATTIVA_IMMESSA"]


def parse_pcf_long(source: Source, *, name: str | None = None, lenient: bool = False) -> Readings:
    """Parse a "Portale Clienti Finali" curve CSV (Unareti, Duereti, RetiPiù, RE.V.V.; PCF-LONG).

    Notes
    -----
    * UTC start = ``DATA`` + ``ORA`` (local start) − ``FL_ORA_LEGALE`` hours; the flag must agree with the
      Europe/Rome offset at that instant, else it is a problem.
    * Spring placeholders (02:00-02:45 with flag 2 on the 23-hour day, a local time that does not exist) are dropped
      and noted when zero or empty; a non-zero placeholder is a problem.
    * Empty ``ATTIVA_IMMESSA`` / ``ATTIVA_PRELEVATA``: if a POD has the column empty on **every** row, the register is
      absent (a consumer-only POD has no A-) and the value is 0, noted once per POD. If the column has values on some
      rows of that POD, an empty cell is a gap: the row is left out and noted.
    * ``TIPO_DATO`` other than ``E`` (effettivo) is kept as an "estimated" note per POD with its intervals.
    * Reactive and peak columns are ignored (not part of the energy balance).
    * ``lenient``: rows with problems are returned as ``Readings.rejected`` instead of raising (header problems
      still raise).
    """
    text, label = _read_source(source, name)
    acc = _Collector(label, text)
    rows = _rows(text, ";")
    if not rows:
        raise InputError.one(f"file vuoto; intestazione attesa: {';'.join(PCF_REQUIRED)};...", file=label)
    header_line, header = rows[0]
    header = [h.upper() for h in header]
    missing = [c for c in PCF_REQUIRED if c not in header]
    if missing:
        raise InputError.one(
            f"colonne mancanti: {', '.join(missing)}; trovate: {';'.join(header)}", file=label, row=header_line
        )
    col = {c: header.index(c) for c in header}
    tipo_col = col.get("TIPO_DATO")

    parsed: list[tuple[int, str, list[str]]] = []
    has_value: dict[tuple[str, str], bool] = {}
    for line, fields in rows[1:]:
        if len(fields) < len(PCF_REQUIRED) or len(fields) > len(header) + 1:
            acc.problem(f"{len(fields)} campi, attesi {len(header)}", line, None)
            continue
        fields = fields + [""] * (len(header) - len(fields))
        pod = acc.pod(fields[col["POD"]], line, "POD")
        if pod is None:
            continue
        parsed.append((line, pod, fields))
        for c in ("ATTIVA_PRELEVATA", "ATTIVA_IMMESSA"):
            has_value[(pod, c)] = has_value.get((pod, c), False) or bool(fields[col[c]])

    for pod in sorted({p for _, p, _ in parsed}):
        for c, what in (("ATTIVA_IMMESSA", "immissione"), ("ATTIVA_PRELEVATA", "prelievo")):
            if not has_value[(pod, c)]:
                acc.notes.append(f"{label}: {pod} senza valori {c}: registro assente, {what} = 0")

    placeholders: dict[str, int] = {}
    estimated: dict[tuple[str, str], list[datetime]] = {}
    for line, pod, fields in parsed:
        data, ora, flag_text = fields[col["DATA"]], fields[col["ORA"]].zfill(6), fields[col["FL_ORA_LEGALE"]]
        try:
            local = datetime.strptime(data + ora, "%Y%m%d%H%M%S")
        except ValueError:
            acc.problem(f"data/ora non valida {data!r} {fields[col['ORA']]!r}: attese aaaammgg e hhmmss", line, "DATA")
            continue
        if local.minute % 15 or local.second:
            acc.problem(f"ora {fields[col['ORA']]!r} non all'inizio di un quarto d'ora", line, "ORA")
            continue
        if flag_text not in ("1", "2"):
            acc.problem(
                f"FL_ORA_LEGALE {flag_text!r} non valido: atteso 1 (ora solare) o 2 (ora legale)", line, "FL_ORA_LEGALE"
            )
            continue
        flag = int(flag_text)
        ts = (local - timedelta(hours=flag)).replace(tzinfo=UTC)
        values: dict[str, Decimal | None] = {}
        bad = False
        for c in ("ATTIVA_PRELEVATA", "ATTIVA_IMMESSA"):
            cell = fields[col[c]]
            if cell:
                v = acc.number(cell, line, c)
                bad = bad or v is None
                values[c] = v
            else:
                values[c] = None if has_value[(pod, c)] else ZERO
        if bad:
            continue
        offset = ts.astimezone(ROME).utcoffset()
        if offset != timedelta(hours=flag):
            if not _exists(local.replace(tzinfo=ROME)):
                if any(v not in (None, ZERO) for v in values.values()):
                    acc.problem(
                        f"riga segnaposto dell'ora inesistente {local:%d/%m/%Y %H:%M} con valori non nulli "
                        f"(coinciderebbe in UTC con l'ora precedente)",
                        line,
                        "ATTIVA_PRELEVATA",
                    )
                else:
                    placeholders[pod] = placeholders.get(pod, 0) + 1
                continue
            acc.problem(
                f"FL_ORA_LEGALE {flag} incoerente con l'ora italiana del {local:%d/%m/%Y %H:%M}", line, "FL_ORA_LEGALE"
            )
            continue
        withdrawn, injected = values["ATTIVA_PRELEVATA"], values["ATTIVA_IMMESSA"]
        if withdrawn is None or injected is None:
            empty = "ATTIVA_PRELEVATA" if withdrawn is None else "ATTIVA_IMMESSA"
            acc.gap(pod, ts, f"{label}, riga {line}, {empty}: valore vuoto per {pod} alle {_utc_fmt(ts)} (lacuna)")
            continue
        acc.add(pod, ts, withdrawn, injected, line, "ORA")
        if tipo_col is not None:
            tipo = fields[tipo_col].upper()
            if tipo != "E":
                estimated.setdefault((pod, tipo), []).append(ts)
    for pod, count in sorted(placeholders.items()):
        acc.notes.append(
            f"{label}: {pod}: {count} righe segnaposto a zero dell'ora legale inesistente (02:00-02:45) scartate"
        )
    for (pod, tipo), stamps in sorted(estimated.items()):
        acc.notes.append(
            f"{label}: estimated: {pod} ha {len(stamps)} intervalli con TIPO_DATO={tipo or '(vuoto)'} (non effettivi) "
            f"da {_utc_fmt(min(stamps))} a {_utc_fmt(max(stamps) + QUARTER)}"
        )
    return acc.finish(15, lenient=lenient)


def read_pcf_long(path: str | Path, *, lenient: bool = False) -> Readings:
    """Read a PCF-LONG file (see :func:`parse_pcf_long`)."""
    return parse_pcf_long(Path(path), name=str(path), lenient=lenient)


# ---------------------------------------------------------------------------------------------------------------
# mapped CSV


@dataclass(frozen=True)
class ColumnMapping:
    """How to read a CSV whose layout the user describes (any distributor, GSE export...).

    Time: either ``date_column`` + ``date_format`` and ``time_column`` + ``time_format`` (strptime formats), or a
    ``datetime_column`` + ``datetime_format``. The time is the **start** of the interval. If ``utc_offset_column``
    is set it holds the UTC offset in hours (like ``FL_ORA_LEGALE``) and UTC = local − offset; otherwise times are
    wall-clock in ``timezone`` (Europe/Rome): in the repeated autumn hour the first occurrence of a wall time (per
    POD, in file order) is summer time and the second is solar time; a non-existent spring time is dropped (noted)
    if its value is zero and a problem otherwise.

    Values: ``withdrawn_column`` and/or ``injected_column`` (a missing one is 0), or ``value_column`` + ``direction``.
    ``unit``: ``kWh`` or ``Wh`` energy per interval, or ``kW`` mean power (× interval hours). Empty value = gap.
    ``decimal`` is the decimal separator; thousands separators are not accepted.
    """

    separator: str = ";"
    decimal: str = ","
    pod_column: str | None = None
    pod: str | None = None
    date_column: str | None = None
    date_format: str = "%d/%m/%Y"
    time_column: str | None = None
    time_format: str = "%H:%M"
    datetime_column: str | None = None
    datetime_format: str = "%d/%m/%Y %H:%M"
    utc_offset_column: str | None = None
    timezone: str = "Europe/Rome"
    withdrawn_column: str | None = None
    injected_column: str | None = None
    value_column: str | None = None
    direction: Direction | None = None
    unit: Literal["kWh", "Wh", "kW"] = "kWh"
    interval_minutes: int = 15

    def check(self) -> list[str]:
        """Inconsistencies of the mapping itself (empty when usable)."""
        errors: list[str] = []
        if (self.pod_column is None) == (self.pod is None):
            errors.append("indicare o la colonna del POD o un POD fisso (uno solo)")
        if self.datetime_column is None and (self.date_column is None or self.time_column is None):
            errors.append("indicare la colonna data+ora oppure le colonne data e ora")
        if self.datetime_column is not None and (self.date_column or self.time_column):
            errors.append("colonna data+ora e colonne data/ora separate sono alternative")
        if self.value_column is not None:
            if self.direction not in ("withdrawn", "injected"):
                errors.append("con una sola colonna valori serve la direzione: withdrawn o injected")
            if self.withdrawn_column or self.injected_column:
                errors.append("colonna valori unica e colonne prelievo/immissione sono alternative")
        elif self.withdrawn_column is None and self.injected_column is None:
            errors.append("indicare almeno una colonna di valori")
        if self.unit not in ("kWh", "Wh", "kW"):
            errors.append(f"unità {self.unit!r} non valida: kWh, Wh o kW")
        if self.interval_minutes not in (15, 60):
            errors.append("intervallo di 15 o 60 minuti")
        if self.decimal not in (",", ".") or self.decimal == self.separator:
            errors.append("separatore decimale ',' o '.' diverso dal separatore di campo")
        return errors

    def columns(self) -> list[str]:
        cols = [
            self.pod_column,
            self.date_column,
            self.time_column,
            self.datetime_column,
            self.utc_offset_column,
            self.withdrawn_column,
            self.injected_column,
            self.value_column,
        ]
        return [c for c in cols if c is not None]


def parse_mapped_csv(
    source: Source, mapping: ColumnMapping, *, name: str | None = None, lenient: bool = False
) -> Readings:
    """Parse a CSV described by a :class:`ColumnMapping` (see there for time and unit rules); ``lenient`` as in
    :func:`parse_pcf_long`."""
    text, label = _read_source(source, name)
    errors = mapping.check()
    if errors:
        raise InputError([Problem(e, file=label, field="mapping") for e in errors])
    zone = ZoneInfo(mapping.timezone)
    acc = _Collector(label, text)
    rows = _rows(text, mapping.separator)
    if not rows:
        raise InputError.one("file vuoto", file=label)
    header_line, header = rows[0]
    missing = [c for c in mapping.columns() if c not in header]
    if missing:
        raise InputError.one(
            f"colonne mancanti: {', '.join(missing)}; trovate: {mapping.separator.join(header)}",
            file=label,
            row=header_line,
        )
    col = {c: header.index(c) for c in mapping.columns()}
    fixed_pod = acc.pod(mapping.pod, header_line, "pod") if mapping.pod is not None else None
    if acc.problems:
        raise InputError(acc.problems)
    factor = {"kWh": Decimal(1), "Wh": Decimal("0.001"), "kW": Decimal(mapping.interval_minutes) / 60}[mapping.unit]
    seen_local: set[tuple[str, datetime]] = set()
    dropped = 0

    def cell(fields: list[str], column: str | None) -> str:
        if column is None:
            return ""
        i = col[column]
        return fields[i] if i < len(fields) else ""

    for line, fields in rows[1:]:
        pod_field = mapping.pod_column or "pod"
        pod = fixed_pod if fixed_pod is not None else acc.pod(cell(fields, mapping.pod_column), line, pod_field)
        if pod is None:
            continue
        tfield: str
        if mapping.datetime_column is not None:
            stamp, fmt, tfield = cell(fields, mapping.datetime_column), mapping.datetime_format, mapping.datetime_column
        else:
            stamp = f"{cell(fields, mapping.date_column)} {cell(fields, mapping.time_column)}"
            fmt, tfield = f"{mapping.date_format} {mapping.time_format}", mapping.time_column or "ora"
        try:
            local = datetime.strptime(stamp, fmt)
        except ValueError:
            acc.problem(f"data/ora non valida {stamp!r}: formato atteso {fmt!r}", line, tfield)
            continue
        if (local.hour * 60 + local.minute) % mapping.interval_minutes or local.second or local.microsecond:
            acc.problem(f"{stamp!r} non è l'inizio di un intervallo di {mapping.interval_minutes} minuti", line, tfield)
            continue
        raw: dict[str, str] = {}
        fields_of: dict[str, str] = {}
        if mapping.value_column is not None:
            raw[mapping.direction or "withdrawn"] = cell(fields, mapping.value_column)
            fields_of[mapping.direction or "withdrawn"] = mapping.value_column
        else:
            for d, c in (("withdrawn", mapping.withdrawn_column), ("injected", mapping.injected_column)):
                if c is not None:
                    raw[d] = cell(fields, c)
                    fields_of[d] = c
        values: dict[str, Decimal] = {"withdrawn": ZERO, "injected": ZERO}
        bad = empty = None
        for d, t in raw.items():
            if not t:
                empty = fields_of[d]
                continue
            v = acc.number(t, line, fields_of[d], mapping.decimal)
            if v is None:
                bad = True
            else:
                values[d] = v * factor
        if bad:
            continue
        if mapping.utc_offset_column is not None:
            off_text = cell(fields, mapping.utc_offset_column).strip()
            try:
                offset = Decimal(off_text.replace(",", "."))
            except InvalidOperation:
                acc.problem(
                    f"scarto da UTC non valido {off_text!r}: atteso in ore (es. 1 o 2)", line, mapping.utc_offset_column
                )
                continue
            ts = (local - timedelta(hours=float(offset))).replace(tzinfo=UTC)
        else:
            wall = local.replace(tzinfo=zone)
            if not _exists(wall):
                if any(v != ZERO for v in values.values()):
                    acc.problem(f"valore in un'ora che non esiste ({stamp}, cambio d'ora)", line, tfield)
                else:
                    dropped += 1
                continue
            fold = 1 if (pod, local) in seen_local and _ambiguous(wall) else 0
            seen_local.add((pod, local))
            ts = wall.replace(fold=fold).astimezone(UTC)
        if empty is not None:
            acc.gap(pod, ts, f"{label}, riga {line}, {empty}: valore vuoto per {pod} alle {_utc_fmt(ts)} (lacuna)")
            continue
        acc.add(pod, ts, values["withdrawn"], values["injected"], line, tfield)
    if dropped:
        acc.notes.append(f"{label}: {dropped} righe a zero in ore inesistenti (cambio d'ora) scartate")
    return acc.finish(mapping.interval_minutes, lenient=lenient)
