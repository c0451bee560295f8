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

Speed
-----
Each reader has two implementations that give the same result (frame, notes, problems, ``rejected``): a row-by-row
reference (``_parse_*_rowwise``, the specification) and the vectorised reader that the public functions use. The
vectorised one splits the text in one pass, parses each distinct value once (POD, date, time, flag, number: through
the same code as the reference), takes the "clean" rows or cells (a day without clock change, a valid value, a
consistent flag...) in arrays, and hands every other row or cell to the reference's own row code, recording where
each finding belongs so that notes and problems come out in the reference's order. Duplicates, gaps and the frame
are then computed on arrays. A file the arrays cannot represent (a timestamp outside 1900-2199, an exotic
separator or time zone) is read row by row.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import IO, Literal, cast
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.errors import InputError, Problem
from condivisa.ingest.readings import COLUMNS, Readings, Rejected
from condivisa.model.community import POD_PATTERN

Direction = Literal["withdrawn", "injected"]
Source = str | Path | IO[str]

ROME = ZoneInfo("Europe/Rome")
ZERO = Decimal(0)
_LARGEST = Decimal("1e12")
_YEARS = (2, 9998)
"""Years a local date may have: at the ends of the calendar the conversions to UTC overflow."""
QUARTER = timedelta(minutes=15)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]

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
        except OSError as exc:  # a directory, a name too long, no permission...
            raise InputError.one(f"file non leggibile: {exc.strerror or exc}", file=label) from exc
    text = source if isinstance(source, str) else source.read()
    return text.removeprefix("\ufeff"), name or "<testo>"


def _fields(line: str, separator: str) -> list[str]:
    """Fields of one line: quotes removed, blanks stripped, trailing empty field dropped."""
    fields = next(csv.reader([line], delimiter=separator, quotechar='"'))
    fields = [f.strip() for f in fields]
    if len(fields) > 1 and fields[-1] == "":
        fields.pop()
    return fields


def _rows(text: str, separator: str) -> list[tuple[int, list[str]]]:
    """Split text into (1-based line, fields): quotes removed, trailing empty field dropped, blank lines skipped."""
    out: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        out.append((number, _fields(line, separator)))
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


def _number(text: str, decimal_sep: str = ",") -> Decimal | str:
    """A non-negative number, or what is wrong with it (callers handle '')."""
    raw = text.strip()
    if decimal_sep != ".":
        if "." in raw:
            return f"numero non valido {text!r}: separatore decimale atteso {decimal_sep!r}"
        raw = raw.replace(decimal_sep, ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return f"numero non valido {text!r}"
    if not value.is_finite():
        return f"numero non valido {text!r}"
    if abs(value) > _LARGEST:  # beyond any meter, and past float's range the kWh would become infinite
        return f"numero fuori scala {text!r}: oltre {_LARGEST:.0E}"
    if value < 0:
        return f"valore negativo {text!r}: l'energia nell'intervallo non può essere negativa"
    return value


def _pod(text: str) -> tuple[str | None, str]:
    """(POD, '') or (None, what is wrong with it)."""
    pod = text.strip().upper()
    if not pod:
        return None, "POD mancante"
    if not POD_PATTERN.match(pod):
        return None, f"POD non valido {text!r}: atteso IT + 3 cifre + E + 8 o 9 cifre"
    return pod, ""


def _gap_runs(name: str, pod: str, missing: list[datetime], step: timedelta) -> list[str]:
    """Notes of the runs of consecutive missing intervals (``missing`` sorted, on the ``step`` grid)."""
    notes: list[str] = []
    run: list[datetime] = []

    def flush() -> None:
        if run:
            notes.append(
                f"{name}: lacuna per {pod} da {_utc_fmt(run[0])} a {_utc_fmt(run[-1] + step)} "
                f"({len(run)} intervalli mancanti)"
            )
            run.clear()

    for ts in missing:
        if run and ts - run[-1] != step:
            flush()
        run.append(ts)
    flush()
    return notes


def _rejected_of(
    name: str,
    problems: list[Problem],
    conflicts: dict[tuple[str, datetime], list[tuple[Decimal, Decimal, int]]],
    interval_minutes: int | dict[str, int],
    lines: list[str],
) -> list[Rejected]:
    """Every problem as a held-back reading; both sides of a conflicting duplicate, with their values."""

    def raw(row: int | None) -> str | None:
        if row is None or not 0 < row <= len(lines):
            return None
        return lines[row - 1][:2000]

    out: list[Rejected] = []
    conflict_rows = {r for versions in conflicts.values() for _, _, r in versions}
    for p in problems:
        if p.row in conflict_rows and p.message.startswith("intervallo duplicato"):
            continue
        out.append(Rejected(p.message, source=name, row=p.row, field=p.field, raw=raw(p.row)))
    for (pod, ts), versions in sorted(conflicts.items()):
        minutes = interval_minutes if isinstance(interval_minutes, int) else interval_minutes.get(pod)
        rows = ", ".join(str(r) for _, _, r in versions)
        for withdrawn, injected, row in versions:
            out.append(
                Rejected(
                    f"intervallo duplicato per {pod} alle {_utc_fmt(ts)} con valori diversi (righe {rows})",
                    source=name,
                    row=row,
                    raw=raw(row),
                    pod=pod,
                    timestamp=pd.Timestamp(ts),
                    interval_minutes=minutes,
                    withdrawn_kwh=float(withdrawn),
                    injected_kwh=float(injected),
                )
            )
    return out


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pod": pd.Series([], dtype=object),
            "timestamp": pd.to_datetime(pd.Series([], dtype="datetime64[ns]"), utc=True),
            "withdrawn_kwh": pd.Series([], dtype="float64"),
            "injected_kwh": pd.Series([], dtype="float64"),
        }
    )


class _Collector:
    """Values keyed by (POD, UTC start), problems and notes of one file (row-by-row readers)."""

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
        value = _number(text, decimal_sep)
        if isinstance(value, str):
            self.problem(value, row, field)
            return None
        return value

    def pod(self, text: str, row: int, field: str) -> str | None:
        pod, message = _pod(text)
        if pod is None:
            self.problem(message, row, field)
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

    def refuse(self, pod: str, day: date, message: str) -> None:
        """A whole local day that cannot be read: its intervals are reported, not gaps to note again."""
        d_start, d_end = _day_bounds(day)
        ts = d_start
        while ts < d_end:
            self.reported.add((pod, ts))
            ts += QUARTER
        self.days.setdefault(pod, set()).add(day)
        self.notes.append(message)

    def raw(self, row: int | None) -> str | None:
        if row is None or not 0 < row <= len(self.lines):
            return None
        return self.lines[row - 1][:2000]

    def _rejected(self, interval_minutes: int | dict[str, int]) -> list[Rejected]:
        """Every problem as a held-back reading; both sides of a conflicting duplicate, with their values."""
        return _rejected_of(self.name, self.problems, self.conflicts, interval_minutes, self.lines)

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
            return Readings(
                frame=_empty_frame(), interval_minutes={}, source=self.name, notes=self.notes, rejected=rejected
            )
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
        missing: list[datetime] = []
        ts = start
        while ts < end:
            key = (pod, ts)
            if key not in self.values and key not in self.reported:
                missing.append(ts)
            ts += step
        self.notes.extend(_gap_runs(self.name, pod, missing, step))


# ---------------------------------------------------------------------------------------------------------------
# vectorised machinery: splitting, keyed findings, duplicates, gaps, frame

_NS = 1_000_000_000
_HOUR_NS = 3600 * _NS
_DAY_NS = 86400 * _NS
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MICRO = timedelta(microseconds=1)
_EMPTY, _GOOD, _BAD = 0, 1, 2


class _Fallback(Exception):
    """The file cannot be represented in the vectorised reader: read it row by row."""


def _key(row: int, sub: int = 0) -> int:
    """Place of a finding: line, then cell (0 for the row itself), then order within them (low 16 bits)."""
    return (row << 30) | (sub << 16)


def _ns(ts: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime (the vectorised readers handle 1900-2199 only)."""
    if not 1900 <= ts.astimezone(UTC).year < 2200:
        raise _Fallback
    return (ts - _EPOCH) // _MICRO * 1000


def _dt(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(ns) // 1000)


@lru_cache(maxsize=16384)
def _plain_day(day: date) -> tuple[int, int] | None:
    """(UTC ns of local midnight, UTC offset ns) of a Europe/Rome day without clock change; None otherwise.

    Such a day has every wall time once, at the same offset. Only 1980-2199 are treated (EU rules: at most one
    change a day); other days go row by row.
    """
    if not 1980 <= day.year < 2200:
        return None
    start, end = _day_bounds(day)
    if end - start != timedelta(days=1):
        return None
    offset = start.astimezone(ROME).utcoffset()
    if offset is None or offset != (end - QUARTER).astimezone(ROME).utcoffset():
        return None
    return _ns(start), offset // _MICRO * 1000


def _naive_ns(day: date) -> int:
    """Nanoseconds of a local midnight read as if it were UTC."""
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY_NS


def _factorize(values: ObjArray) -> tuple[IntArray, list[str]]:
    """Codes and distinct values (strings) of an object array, in order of first appearance."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), []
    codes, uniques = pd.factorize(values)
    return np.asarray(codes, dtype=np.int64), cast(list[str], list(uniques))


@dataclass
class _Grid:
    """The non-blank lines after the header, split exactly as :func:`_rows` splits them.

    ``cells`` has ``width`` columns: fields past the end of a row are '', fields past ``width`` are not kept
    (:meth:`fields` gives them back from the line).
    """

    lines: list[str]
    separator: str
    numbers: IntArray
    counts: IntArray
    cells: ObjArray

    def fields(self, i: int) -> list[str]:
        count = int(self.counts[i])
        if count > self.cells.shape[1]:
            return _fields(self.lines[int(self.numbers[i]) - 1], self.separator)
        return [str(c) for c in self.cells[i, :count]]


def _grid(text: str, lines: list[str], first: int, separator: str, width: int) -> _Grid:
    """Split ``lines[first:]`` like :func:`_rows`, by ``str.split`` where csv would give the same fields.

    That is a line with no NUL whose fields have no blank at their edges and are each either bare (no quote) or
    wholly quoted (no quote or separator inside): its quotes are dropped and it is split. Any other line goes through
    csv, as in :func:`_rows`.
    """
    simple: list[int] = []  # line index
    texts: list[str] = []  # its text without quotes
    dirty: list[int] = []
    limit = csv.field_size_limit()  # a longer field makes csv fail: such lines go through csv
    longest = max(map(len, lines[first:]), default=0)
    # ASCII text with no quote, NUL or line-breaking control, and no blank next to a separator or a line's edge:
    # every line is simple (blanks inside a field are harmless)
    clean = text.isascii() and longest <= limit and not any(c in text for c in '"\x00\x0b\x0c\x1c\x1d\x1e')
    blanks = [ord(c) for c in " \t\x1f" if c != separator and c in text]
    if clean and blanks:
        codes = np.frombuffer(("\n" + text + "\n").encode("ascii"), dtype=np.uint8)
        is_blank = np.isin(codes, blanks)
        is_edge = np.isin(codes, [ord(separator), 10, 13]) if separator.isascii() else np.isin(codes, [10, 13])
        clean = not ((is_blank[:-1] & is_edge[1:]) | (is_edge[:-1] & is_blank[1:])).any()
    # a line of blanks is skipped, as in _rows (a blank separator alone makes such a line)
    nonblank = str.strip if separator.isspace() else str.__len__
    if clean:
        simple = [i for i in range(first, len(lines)) if nonblank(lines[i])]
        texts = [lines[i] for i in simple]
    else:
        sep = re.escape(separator)
        blank = r"[^\S" + sep + "]" if separator.isspace() else r"\s"
        # csv is needed for quotes, NUL, and blanks at the edge of a field (which the reference strips)
        search = re.compile(r'["\x00]|(?:^|' + sep + ")" + blank + "|" + blank + "(?:" + sep + r"|\Z)").search
        edge, inner = r'[^"\s\x00' + sep + "]", r'[^"\x00' + sep + "]"
        bare = "(?:" + edge + "(?:" + inner + "*" + edge + ")?)?"
        field = '(?:"' + bare + '"|' + bare + ")"
        quoted = re.compile(field + "(?:" + sep + field + ")*").fullmatch
        for i in range(first, len(lines)):
            line = lines[i]
            if len(line) <= limit:
                if search(line) is None:
                    if nonblank(line):
                        simple.append(i)
                        texts.append(line)
                    continue
                if '"' in line and quoted(line) is not None:
                    simple.append(i)
                    texts.append(line.replace('"', ""))
                    continue
            if line.strip():
                dirty.append(i)
    parts: list[tuple[list[int], ObjArray, IntArray]] = []
    if simple:
        seps = [t.count(separator) for t in texts]
        groups: dict[int, list[int]] = {}
        if min(seps) == max(seps):
            groups[seps[0]] = list(range(len(simple)))
        else:
            for k, n in enumerate(seps):
                groups.setdefault(n, []).append(k)
        for n, ks in groups.items():
            pieces = np.array(separator.join([texts[k] for k in ks]).split(separator), dtype=object)
            block = pieces.reshape(len(ks), n + 1)
            counts = np.full(len(ks), n + 1, dtype=np.int64)
            if n > 0:
                counts -= np.asarray(block[:, n] == "", dtype=np.int64)
            parts.append(([simple[k] for k in ks], block, counts))
    if dirty:
        rows = [_fields(lines[i], separator) for i in dirty]
        counts = np.array([len(r) for r in rows], dtype=np.int64)
        block = np.empty((len(rows), width), dtype=object)
        block[:] = [r[:width] + [""] * (width - len(r)) for r in rows]
        parts.append((dirty, block, counts))
    if len(parts) == 1 and parts[0][1].shape[1] >= width:
        idx, block, counts = parts[0]
        return _Grid(lines, separator, np.asarray(idx, dtype=np.int64) + 1, counts, block[:, :width])
    at = np.array([i for idx, _, _ in parts for i in idx], dtype=np.int64)
    order = np.argsort(at, kind="stable")
    position = np.empty(len(at), dtype=np.int64)
    position[order] = np.arange(len(at))
    cells = np.full((len(at), width), "", dtype=object)
    all_counts = np.zeros(len(at), dtype=np.int64)
    offset = 0
    for idx, block, counts in parts:
        where = position[offset : offset + len(idx)]
        keep = min(width, block.shape[1])
        cells[where, :keep] = block[:, :keep]
        all_counts[where] = counts
        offset += len(idx)
    return _Grid(lines, separator, at[order] + 1, all_counts, cells)


def _first_row(lines: list[str]) -> int | None:
    """Index of the first non-blank line (the header)."""
    for i, line in enumerate(lines):
        if line.strip():
            return i
    return None


@dataclass
class _Numbers:
    """Distinct cell texts of a column parsed once: state (empty/good/bad), exact value, float value."""

    codes: IntArray
    state: npt.NDArray[np.int8]
    exact: ObjArray
    value: FloatArray
    nonzero: BoolArray


def _numbers(cells: ObjArray, decimal_sep: str = ",", factor: Decimal | None = None) -> _Numbers:
    codes, uniques = _factorize(cells)
    n = len(uniques)
    state = np.zeros(n, dtype=np.int8)
    exact = np.full(n, ZERO, dtype=object)
    value = np.zeros(n, dtype=np.float64)
    nonzero = np.zeros(n, dtype=bool)
    for k, text in enumerate(uniques):
        if not text:
            continue
        parsed = _number(text, decimal_sep)
        if isinstance(parsed, str):
            state[k] = _BAD
            continue
        if factor is not None:
            parsed = parsed * factor
        state[k] = _GOOD
        exact[k] = parsed
        value[k] = float(parsed)
        nonzero[k] = parsed != ZERO
    return _Numbers(codes, state, exact, value, nonzero)


@dataclass
class _Added:
    """Readings in the order the reference would add them (``key``), with their exact values."""

    key: IntArray
    pod: ObjArray
    ts: IntArray
    w: FloatArray
    i: FloatArray
    wdec: ObjArray
    idec: ObjArray
    row: IntArray
    field: ObjArray

    @staticmethod
    def concat(parts: list[_Added]) -> _Added:
        return _Added(
            key=np.concatenate([p.key for p in parts]),
            pod=np.concatenate([p.pod for p in parts]),
            ts=np.concatenate([p.ts for p in parts]),
            w=np.concatenate([p.w for p in parts]),
            i=np.concatenate([p.i for p in parts]),
            wdec=np.concatenate([p.wdec for p in parts]),
            idec=np.concatenate([p.idec for p in parts]),
            row=np.concatenate([p.row for p in parts]),
            field=np.concatenate([p.field for p in parts]),
        )

    def take(self, idx: IntArray) -> _Added:
        return _Added(
            self.key[idx],
            self.pod[idx],
            self.ts[idx],
            self.w[idx],
            self.i[idx],
            self.wdec[idx],
            self.idec[idx],
            self.row[idx],
            self.field[idx],
        )


def _objects(values: list[object] | ObjArray) -> ObjArray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


class _Recorder(_Collector):
    """Collector for the rows (or cells) that the vectorised readers hand to the reference's row code.

    :meth:`at` sets the place of the next row or cell; each finding keeps it, so that merged with the findings of
    the vectorised path, notes and problems come out in the order of the row-by-row reader.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.key = 0
        self.keyed_problems: list[tuple[int, Problem]] = []
        self.keyed_notes: list[tuple[int, str]] = []
        self.added: list[tuple[int, str, datetime, Decimal, Decimal, int, str]] = []
        self.gaps: list[tuple[str, datetime]] = []

    def at(self, row: int, sub: int = 0) -> None:
        self.key = _key(row, sub)

    def _next(self) -> int:
        self.key += 1
        return self.key - 1

    def problem(self, message: str, row: int | None = None, field: str | None = None) -> None:
        self.keyed_problems.append((self._next(), Problem(message, file=self.name, row=row, field=field)))

    def add(self, pod: str, ts: datetime, withdrawn: Decimal, injected: Decimal, row: int, field: str) -> None:
        self.added.append((self._next(), pod, ts, withdrawn, injected, row, field))

    def gap(self, pod: str, ts: datetime, message: str) -> None:
        self.gaps.append((pod, ts))
        self.keyed_notes.append((self._next(), message))

    def refuse(self, pod: str, day: date, message: str) -> None:
        d_start, d_end = _day_bounds(day)
        ts = d_start
        while ts < d_end:
            self.gaps.append((pod, ts))
            ts += QUARTER
        self.keyed_notes.append((self._next(), message))

    def as_added(self) -> _Added:
        n = len(self.added)
        return _Added(
            key=np.array([a[0] for a in self.added], dtype=np.int64),
            pod=_objects([a[1] for a in self.added]),
            ts=np.array([_ns(a[2]) for a in self.added], dtype=np.int64),
            w=np.array([float(a[3]) for a in self.added], dtype=np.float64).reshape(n),
            i=np.array([float(a[4]) for a in self.added], dtype=np.float64).reshape(n),
            wdec=_objects([a[3] for a in self.added]),
            idec=_objects([a[4] for a in self.added]),
            row=np.array([a[5] for a in self.added], dtype=np.int64),
            field=_objects([a[6] for a in self.added]),
        )


@dataclass
class _Fast:
    """What the vectorised path found: readings, reported gaps, keyed notes (and the recorder of the rest)."""

    rec: _Recorder
    added: list[_Added] = field(default_factory=list)
    gap_pods: list[ObjArray] = field(default_factory=list)
    gap_ts: list[IntArray] = field(default_factory=list)
    keyed_notes: list[tuple[int, str]] = field(default_factory=list)

    def gaps(self, pods: ObjArray, ts: IntArray) -> None:
        self.gap_pods.append(pods)
        self.gap_ts.append(ts)


def _assemble(
    fast: _Fast,
    lines: list[str],
    interval_minutes: int,
    *,
    lenient: bool,
    head_problems: list[Problem] | None = None,
    head_notes: list[str] | None = None,
    tail_notes: list[str] | None = None,
) -> Readings:
    """Duplicates, problems, notes, gaps and frame, as :meth:`_Collector.add` and :meth:`_Collector.finish`."""
    rec = fast.rec
    name = rec.name
    added = _Added.concat([*fast.added, rec.as_added()])
    added = added.take(np.argsort(added.key, kind="stable"))
    gap_pods = np.concatenate([*fast.gap_pods, _objects([g[0] for g in rec.gaps])])
    gap_ts = np.concatenate([*fast.gap_ts, np.array([_ns(g[1]) for g in rec.gaps], dtype=np.int64)])
    keyed_problems = list(rec.keyed_problems)
    keyed_notes = [*fast.keyed_notes, *rec.keyed_notes]

    # duplicates: the first reading of an interval stays, later ones are compared with it
    codes, pods = _factorize(added.pod)
    n = len(codes)
    frame = pd.DataFrame({"p": codes, "t": added.ts})
    first = ~frame.duplicated(keep="first").to_numpy()
    repeated = np.flatnonzero(frame.duplicated(keep=False).to_numpy())
    conflicts: dict[tuple[str, datetime], list[tuple[Decimal, Decimal, int]]] = {}
    conflict_keys: set[tuple[int, int]] = set()
    firsts: dict[tuple[int, int], int] = {}
    for j in repeated:
        k = (int(codes[j]), int(added.ts[j]))
        o = firsts.setdefault(k, int(j))
        if o == j:
            continue
        pod, ts = pods[k[0]], _dt(k[1])
        old = (cast(Decimal, added.wdec[o]), cast(Decimal, added.idec[o]), int(added.row[o]))
        new = (cast(Decimal, added.wdec[j]), cast(Decimal, added.idec[j]), int(added.row[j]))
        if (old[0], old[1]) == (new[0], new[1]):
            keyed_notes.append(
                (
                    int(added.key[j]),
                    f"{name}, riga {new[2]}: intervallo {pod} {_utc_fmt(ts)} ripetuto identico alla riga {old[2]}, "
                    "contato una volta",
                )
            )
        else:
            message = (
                f"intervallo duplicato per {pod} alle {_utc_fmt(ts)} con valori diversi dalla riga {old[2]} "
                f"({old[0]}/{old[1]} contro {new[0]}/{new[1]}): nessuno dei due è usato"
            )
            keyed_problems.append((int(added.key[j]), Problem(message, file=name, row=new[2], field=added.field[j])))
            conflicts.setdefault((pod, ts), [old]).append(new)
            conflict_keys.add(k)

    keyed_problems.sort(key=lambda kp: kp[0])
    keyed_notes.sort(key=lambda kn: kn[0])
    problems = [*(head_problems or []), *(p for _, p in keyed_problems)]
    notes = [*(head_notes or []), *(m for _, m in keyed_notes), *(tail_notes or [])]

    rejected: list[Rejected] = []
    keep = first
    if problems:
        if not lenient:
            raise InputError(problems)
        rejected = _rejected_of(name, problems, conflicts, interval_minutes, lines)
        if conflict_keys:
            in_conflict = np.zeros(n, dtype=bool)
            for j in repeated:
                in_conflict[j] = (int(codes[j]), int(added.ts[j])) in conflict_keys
            keep = first & ~in_conflict
            gap_pods = np.concatenate([gap_pods, _objects([pods[p] for p, _ in conflict_keys])])
            gap_ts = np.concatenate([gap_ts, np.array([t for _, t in conflict_keys], dtype=np.int64)])
    if not keep.any():
        if not lenient or not rejected:
            raise InputError.one("nessuna lettura valida nel file", file=name)
        return Readings(frame=_empty_frame(), interval_minutes={}, source=name, notes=notes, rejected=rejected)

    # gaps: every interval of the local days each POD appears in, neither read nor already reported
    kept = np.flatnonzero(keep)
    present = sorted({pods[c] for c in codes[kept]})
    rank = np.zeros(len(pods), dtype=np.int64)
    for r, pod in enumerate(present):
        rank[pods.index(pod)] = r
    step = timedelta(minutes=interval_minutes)
    step_ns = interval_minutes * 60 * _NS
    gap_frame = pd.DataFrame({"pod": gap_pods, "ts": gap_ts})
    for pod in present:
        c = pods.index(pod)
        mine = codes == c
        values_ts = added.ts[kept[codes[kept] == c]]
        reported_ts = gap_frame["ts"].to_numpy()[(gap_frame["pod"] == pod).to_numpy()] if len(gap_ts) else gap_ts
        every = np.concatenate([added.ts[mine], reported_ts])
        start, _ = _day_bounds(_dt(int(every.min())).astimezone(ROME).date())
        _, end = _day_bounds(_dt(int(every.max())).astimezone(ROME).date())
        grid = np.arange(_ns(start), _ns(end), step_ns, dtype=np.int64)
        missing = grid[~np.isin(grid, np.concatenate([values_ts, reported_ts]))]
        breaks = np.flatnonzero(np.diff(missing) != step_ns) + 1
        for run in np.split(missing, breaks) if len(missing) else []:
            first_ts, last_ts = _dt(int(run[0])), _dt(int(run[-1]))
            notes.append(
                f"{name}: lacuna per {pod} da {_utc_fmt(first_ts)} a {_utc_fmt(last_ts + step)} "
                f"({len(run)} intervalli mancanti)"
            )

    order = kept[np.lexsort((added.ts[kept], rank[codes[kept]]))]
    frame = pd.DataFrame(
        {
            "pod": added.pod[order],
            "timestamp": pd.to_datetime(added.ts[order].astype("datetime64[ns]"), utc=True).as_unit("us"),
            "withdrawn_kwh": added.w[order],
            "injected_kwh": added.i[order],
        },
        columns=COLUMNS,
    )
    return Readings(
        frame=frame,
        interval_minutes=dict.fromkeys(present, interval_minutes),
        source=name,
        notes=notes,
        rejected=rejected,
    )


def _fast_added(
    keys: IntArray,
    pod: ObjArray,
    ts: IntArray,
    w: tuple[FloatArray, ObjArray],
    i: tuple[FloatArray, ObjArray],
    rows: IntArray,
    fields: ObjArray,
) -> _Added:
    return _Added(keys, pod, ts, w[0], i[0], w[1], i[1], rows, fields)


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
    try:
        return _edwide_fast(text, label, pod, direction, lenient)
    except _Fallback:
        return _edwide_rowwise(text, label, pod, direction, lenient)


def read_edistribuzione_wide(path: str | Path, *, lenient: bool = False) -> Readings:
    """Read an ED-WIDE file named by Condivisa's convention (see :func:`pod_and_direction_from_filename`)."""
    pod, direction = pod_and_direction_from_filename(path)
    return parse_edistribuzione_wide(Path(path), pod=pod, direction=direction, name=str(path), lenient=lenient)


def _parse_edistribuzione_wide_rowwise(
    source: Source, *, pod: str, direction: Direction, name: str | None = None, lenient: bool = False
) -> Readings:
    """Row-by-row reference of :func:`parse_edistribuzione_wide` (same result, slower)."""
    text, label = _read_source(source, name)
    return _edwide_rowwise(text, label, pod, direction, lenient)


def _ed_start(label: str, pod: str, direction: str) -> str:
    """Check direction and POD given with the file; the checked POD."""
    if direction not in ("withdrawn", "injected"):
        raise InputError.one(f"direzione {direction!r} non valida: attesa withdrawn o injected", file=label)
    checked, message = _pod(pod)
    if checked is None:
        raise InputError([Problem(message, file=label, field="pod")])
    return checked


def _ed_columns(label: str, header_line: int, header: list[str]) -> list[tuple[str, time, int]]:
    """Columns of the header: label, local start, occurrence (0 first, 1 repeated); raises on any problem."""
    if not header or header[0].lower() != "giorno":
        raise InputError.one(
            f"intestazione non riconosciuta {';'.join(header[:3])!r}...: attesa Giorno;00:00-00:15;...",
            file=label,
            row=header_line,
            field=header[0] if header else None,
        )
    problems: list[Problem] = []
    columns: list[tuple[str, time, int]] = []
    seen: dict[time, int] = {}
    for text_label in header[1:]:
        m = _LABEL.match(text_label)
        if not m or int(m[1]) > 23 or int(m[2]) % 15:
            problems.append(
                Problem(
                    "etichetta di colonna non valida: attesa hh:mm-hh:mm a quarti d'ora",
                    file=label,
                    row=header_line,
                    field=text_label,
                )
            )
            continue
        start = time(int(m[1]), int(m[2]))
        occurrence = seen.get(start, 0)
        if occurrence > 1:
            problems.append(Problem("colonna ripetuta più di due volte", file=label, row=header_line, field=text_label))
        seen[start] = occurrence + 1
        columns.append((text_label, start, occurrence))
    if problems:
        raise InputError(problems)
    return columns


def _ed_row(
    acc: _Collector,
    label: str,
    pod: str,
    direction: str,
    columns: list[tuple[str, time, int]],
    repeated: set[time],
    line: int,
    fields: list[str],
) -> None:
    """One day row of ED-WIDE (reference code)."""
    day_text = fields[0] if fields else ""
    try:
        day = datetime.strptime(day_text, "%d/%m/%Y").date()
    except ValueError:
        acc.problem(f"data non valida {day_text!r}: attesa gg/mm/aaaa", line, "Giorno")
        return
    if not _YEARS[0] <= day.year <= _YEARS[1]:
        acc.problem(f"data {day_text!r} fuori dagli anni {_YEARS[0]}-{_YEARS[1]}", line, "Giorno")
        return
    cells = fields[1:]
    if len(cells) != len(columns):
        acc.problem(
            f"{len(cells)} valori per il giorno {day_text}, l'intestazione ha {len(columns)} colonne",
            line,
            "Giorno",
        )
        return
    needs_repeat = [
        start
        for _, start, occ in columns
        if occ == 0 and start not in repeated and _ambiguous(datetime.combine(day, start, tzinfo=ROME))
    ]
    if needs_repeat:
        acc.refuse(
            pod,
            day,
            f"{label}, riga {line}: giorno {day_text} rifiutato: ha {quarter_hours_in_day(day)} quarti d'ora "
            f"(cambio dall'ora legale) ma il file ne ha {len(columns)} colonne e non distingue le due ore "
            f"{needs_repeat[0]:%H}:xx; importare quel giorno da un'altra fonte (lacuna)",
        )
        return
    for (col_label, start, occ), cell in zip(columns, cells, strict=True):
        _ed_cell(acc, label, pod, direction, line, day, day_text, col_label, start, occ, cell)


def _ed_cell(
    acc: _Collector,
    label: str,
    pod: str,
    direction: str,
    line: int,
    day: date,
    day_text: str,
    col_label: str,
    start: time,
    occ: int,
    cell: str,
) -> None:
    """One cell of ED-WIDE (reference code)."""
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
        return
    ts = local.astimezone(UTC)
    if not cell:
        acc.gap(pod, ts, f"{label}, riga {line}, {col_label}: cella vuota il {day_text} (lacuna, non zero)")
        return
    if value is None:
        return
    withdrawn, injected = (value, ZERO) if direction == "withdrawn" else (ZERO, value)
    acc.add(pod, ts, withdrawn, injected, line, col_label)


def _edwide_rowwise(text: str, label: str, pod: str, direction: str, lenient: bool) -> Readings:
    acc = _Collector(label, text)
    checked_pod = _ed_start(label, pod, direction)
    rows = _rows(text, ";")
    if not rows:
        raise InputError.one("file vuoto; intestazione attesa Giorno;00:00-00:15;...", file=label)
    header_line, header = rows[0]
    columns = _ed_columns(label, header_line, header)
    repeated = {start for _, start, occ in columns if occ == 1}
    for line, fields in rows[1:]:
        _ed_row(acc, label, checked_pod, direction, columns, repeated, line, fields)
    return acc.finish(15, lenient=lenient)


def _edwide_fast(text: str, label: str, pod: str, direction: str, lenient: bool) -> Readings:
    checked_pod = _ed_start(label, pod, direction)
    lines = text.splitlines()
    first = _first_row(lines)
    if first is None:
        raise InputError.one("file vuoto; intestazione attesa Giorno;00:00-00:15;...", file=label)
    header = _fields(lines[first], ";")
    grid = _grid(text, lines, first + 1, ";", len(header))
    columns = _ed_columns(label, first + 1, header)
    if len(columns) >= 1 << 13:
        raise _Fallback
    repeated = {start for _, start, occ in columns if occ == 1}
    ncol = len(columns)
    fast = _Fast(_Recorder(label))
    rec = fast.rec

    # rows: a day without clock change and the right number of cells goes by arrays, any other row by the reference
    days: dict[str, date | None] = {}
    quick: list[int] = []
    starts: list[int] = []
    slow_rows: list[int] = []
    for i in range(len(grid.numbers)):
        day_text = str(grid.cells[i, 0])
        if day_text not in days:
            try:
                days[day_text] = datetime.strptime(day_text, "%d/%m/%Y").date()
            except ValueError:
                days[day_text] = None
        day = days[day_text]
        plain = _plain_day(day) if day is not None else None
        if plain is None or grid.counts[i] != ncol + 1:
            slow_rows.append(i)
        else:
            quick.append(i)
            starts.append(plain[0])

    if quick:
        rows = np.asarray(quick, dtype=np.int64)
        lines_of = grid.numbers[rows]
        block = grid.cells[rows, 1 : ncol + 1]
        num = _numbers(block.ravel())
        state = num.state[num.codes].reshape(block.shape)
        real = np.array([occ == 0 for _, _, occ in columns], dtype=bool)
        minute_ns = np.array([(s.hour * 60 + s.minute) * 60 * _NS for _, s, _ in columns], dtype=np.int64)
        labels = _objects([c[0] for c in columns])
        nonzero = num.nonzero[num.codes].reshape(block.shape)
        take = (state == _GOOD) & real
        r, c = np.nonzero(take)
        codes = num.codes.reshape(block.shape)[r, c]
        ts = np.asarray(starts, dtype=np.int64)[r] + minute_ns[c]
        value = (num.value[codes], num.exact[codes])
        zero = (np.zeros(len(r), dtype=np.float64), np.full(len(r), ZERO, dtype=object))
        w, inj = (value, zero) if direction == "withdrawn" else (zero, value)
        keys = (lines_of[r] << 30) | ((c + 1) << 16)
        fast.added.append(
            _fast_added(keys, np.full(len(r), checked_pod, dtype=object), ts, w, inj, lines_of[r], labels[c])
        )
        gr, gc = np.nonzero((state == _EMPTY) & real)
        gap_ts = np.asarray(starts, dtype=np.int64)[gr] + minute_ns[gc]
        fast.gaps(np.full(len(gr), checked_pod, dtype=object), gap_ts)
        for a, b in zip(gr, gc, strict=True):
            line = int(lines_of[a])
            fast.keyed_notes.append(
                (
                    _key(line, int(b) + 1),
                    f"{label}, riga {line}, {columns[b][0]}: cella vuota il {grid.cells[rows[a], 0]} "
                    "(lacuna, non zero)",
                )
            )
        sr, sc = np.nonzero((state == _BAD) | ((state == _GOOD) & ~real & nonzero))
        for a, b in zip(sr, sc, strict=True):
            line = int(lines_of[a])
            day_text = str(grid.cells[rows[a], 0])
            col_label, start, occ = columns[b]
            rec.at(line, int(b) + 1)
            day = days[day_text]
            assert day is not None
            _ed_cell(rec, label, checked_pod, direction, line, day, day_text, col_label, start, occ, str(block[a, b]))
    for i in slow_rows:
        line = int(grid.numbers[i])
        rec.at(line)
        _ed_row(rec, label, checked_pod, direction, columns, repeated, line, grid.fields(i))
    return _assemble(fast, lines, 15, lenient=lenient)


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
    try:
        return _pcf_fast(text, label, lenient)
    except _Fallback:
        return _pcf_rowwise(text, label, lenient)


def read_pcf_long(path: str | Path, *, lenient: bool = False) -> Readings:
    """Read a PCF-LONG file (see :func:`parse_pcf_long`)."""
    return parse_pcf_long(Path(path), name=str(path), lenient=lenient)


def _parse_pcf_long_rowwise(source: Source, *, name: str | None = None, lenient: bool = False) -> Readings:
    """Row-by-row reference of :func:`parse_pcf_long` (same result, slower)."""
    text, label = _read_source(source, name)
    return _pcf_rowwise(text, label, lenient)


def _pcf_header(label: str, header_line: int, header: list[str]) -> tuple[list[str], dict[str, int], int | None]:
    header = [h.upper() for h in header]
    missing = [c for c in PCF_REQUIRED if c not in header]
    if missing:
        raise InputError.one(
            f"colonne mancanti: {', '.join(missing)}; trovate: {';'.join(header)}", file=label, row=header_line
        )
    col = {c: header.index(c) for c in header}
    return header, col, col.get("TIPO_DATO")


def _pcf_absent(label: str, pods: list[str], has_value: dict[tuple[str, str], bool]) -> list[str]:
    notes: list[str] = []
    for pod in pods:
        for c, what in (("ATTIVA_IMMESSA", "immissione"), ("ATTIVA_PRELEVATA", "prelievo")):
            if not has_value[(pod, c)]:
                notes.append(f"{label}: {pod} senza valori {c}: registro assente, {what} = 0")
    return notes


def _pcf_tail(
    label: str, placeholders: dict[str, int], estimated: dict[tuple[str, str], tuple[int, datetime, datetime]]
) -> list[str]:
    notes: list[str] = []
    for pod, count in sorted(placeholders.items()):
        notes.append(
            f"{label}: {pod}: {count} righe segnaposto a zero dell'ora legale inesistente (02:00-02:45) scartate"
        )
    for (pod, tipo), (count, low, high) in sorted(estimated.items()):
        notes.append(
            f"{label}: estimated: {pod} ha {count} intervalli con TIPO_DATO={tipo or '(vuoto)'} (non effettivi) "
            f"da {_utc_fmt(low)} a {_utc_fmt(high + QUARTER)}"
        )
    return notes


def _pcf_row(
    acc: _Collector,
    label: str,
    line: int,
    pod: str,
    fields: list[str],
    col: dict[str, int],
    tipo_col: int | None,
    has_value: dict[tuple[str, str], bool],
    placeholders: dict[str, int],
    estimated: dict[tuple[str, str], list[datetime]],
) -> None:
    """One row of PCF-LONG after its POD is checked (reference code)."""
    data, ora, flag_text = fields[col["DATA"]], fields[col["ORA"]].zfill(6), fields[col["FL_ORA_LEGALE"]]
    try:
        local = datetime.strptime(data + ora, "%Y%m%d%H%M%S")
    except ValueError:
        acc.problem(f"data/ora non valida {data!r} {fields[col['ORA']]!r}: attese aaaammgg e hhmmss", line, "DATA")
        return
    if not _YEARS[0] <= local.year <= _YEARS[1]:
        acc.problem(f"data {data!r} fuori dagli anni {_YEARS[0]}-{_YEARS[1]}", line, "DATA")
        return
    if local.minute % 15 or local.second:
        acc.problem(f"ora {fields[col['ORA']]!r} non all'inizio di un quarto d'ora", line, "ORA")
        return
    if flag_text not in ("1", "2"):
        acc.problem(
            f"FL_ORA_LEGALE {flag_text!r} non valido: atteso 1 (ora solare) o 2 (ora legale)", line, "FL_ORA_LEGALE"
        )
        return
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
        return
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
            return
        acc.problem(
            f"FL_ORA_LEGALE {flag} incoerente con l'ora italiana del {local:%d/%m/%Y %H:%M}", line, "FL_ORA_LEGALE"
        )
        return
    withdrawn, injected = values["ATTIVA_PRELEVATA"], values["ATTIVA_IMMESSA"]
    if withdrawn is None or injected is None:
        empty = "ATTIVA_PRELEVATA" if withdrawn is None else "ATTIVA_IMMESSA"
        acc.gap(pod, ts, f"{label}, riga {line}, {empty}: valore vuoto per {pod} alle {_utc_fmt(ts)} (lacuna)")
        return
    acc.add(pod, ts, withdrawn, injected, line, "ORA")
    if tipo_col is not None:
        tipo = fields[tipo_col].upper()
        if tipo != "E":
            estimated.setdefault((pod, tipo), []).append(ts)


def _pcf_rowwise(text: str, label: str, lenient: bool) -> Readings:
    acc = _Collector(label, text)
    rows = _rows(text, ";")
    if not rows:
        raise InputError.one(f"file vuoto; intestazione attesa: {';'.join(PCF_REQUIRED)};...", file=label)
    header_line, header = rows[0]
    header, col, tipo_col = _pcf_header(label, header_line, header)

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

    acc.notes.extend(_pcf_absent(label, sorted({p for _, p, _ in parsed}), has_value))
    placeholders: dict[str, int] = {}
    estimated: dict[tuple[str, str], list[datetime]] = {}
    for line, pod, fields in parsed:
        _pcf_row(acc, label, line, pod, fields, col, tipo_col, has_value, placeholders, estimated)
    summary = {k: (len(v), min(v), max(v)) for k, v in estimated.items()}
    acc.notes.extend(_pcf_tail(label, placeholders, summary))
    return acc.finish(15, lenient=lenient)


def _yyyymmdd(text: str) -> date | None:
    """The day of an 8-digit ``aaaammgg`` that strptime reads the same way; None for anything else."""
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _hhmmss_quarter(text: str) -> int | None:
    """Nanoseconds from midnight of an ``hhmmss`` (after zfill) at the start of a quarter-hour; None otherwise."""
    z = text.zfill(6)
    if len(z) != 6 or not z.isascii() or not z.isdigit():
        return None
    h, m, s = int(z[:2]), int(z[2:4]), int(z[4:])
    if h > 23 or m > 59 or s or m % 15:
        return None
    return (h * 60 + m) * 60 * _NS


def _pcf_fast(text: str, label: str, lenient: bool) -> Readings:
    lines = text.splitlines()
    first = _first_row(lines)
    if first is None:
        raise InputError.one(f"file vuoto; intestazione attesa: {';'.join(PCF_REQUIRED)};...", file=label)
    raw_header = _fields(lines[first], ";")
    grid = _grid(text, lines, first + 1, ";", len(raw_header))
    header, col, tipo_col = _pcf_header(label, first + 1, raw_header)
    width = len(header)
    cells, numbers = grid.cells, grid.numbers
    fast = _Fast(_Recorder(label))
    rec = fast.rec

    # first pass: number of fields and POD
    count_bad = (grid.counts < len(PCF_REQUIRED)) | (grid.counts > width + 1)
    raw_codes, raw_pods = _factorize(cells[:, col["POD"]])
    pod_names: list[str] = []
    pod_index: dict[str, int] = {}
    unique_code = np.full(len(raw_pods), -1, dtype=np.int64)
    pod_problem: list[str] = []
    for k, text_pod in enumerate(raw_pods):
        pod, message = _pod(text_pod)
        pod_problem.append(message)
        if pod is not None:
            unique_code[k] = pod_index.setdefault(pod, len(pod_names))
            if unique_code[k] == len(pod_names):
                pod_names.append(pod)
    pcode = unique_code[raw_codes]
    head_problems: list[Problem] = []
    for i in np.flatnonzero(count_bad | (pcode < 0)):
        line = int(numbers[i])
        if count_bad[i]:
            head_problems.append(Problem(f"{grid.counts[i]} campi, attesi {width}", file=label, row=line))
        else:
            head_problems.append(Problem(pod_problem[raw_codes[i]], file=label, row=line, field="POD"))
    parsed = ~count_bad & (pcode >= 0)
    npods = len(pod_names)
    pods_arr = _objects(list(pod_names))
    seen = np.zeros(npods, dtype=bool)
    seen[pcode[parsed]] = True
    has_value: dict[tuple[str, str], bool] = {}
    filled: dict[str, BoolArray] = {}
    for c in ("ATTIVA_PRELEVATA", "ATTIVA_IMMESSA"):
        nonempty = np.asarray(cells[:, col[c]] != "", dtype=bool)
        any_value = np.zeros(npods + 1, dtype=bool)  # last: rows without a valid POD (code -1)
        any_value[pcode[parsed & nonempty]] = True
        filled[c] = any_value
        for p in np.flatnonzero(seen):
            has_value[(pod_names[p], c)] = bool(any_value[p])
    head_notes = _pcf_absent(label, sorted(pod_names[p] for p in np.flatnonzero(seen)), has_value)

    # second pass: each distinct date, time, flag and number once
    d_codes, d_texts = _factorize(cells[:, col["DATA"]])
    d_days = [_yyyymmdd(t) for t in d_texts]
    d_plain = [_plain_day(d) if d is not None else None for d in d_days]
    d_ok = np.array([d is not None and 1980 <= d.year < 2200 for d in d_days], dtype=bool)
    d_naive = np.array(
        [_naive_ns(d) if d is not None and ok else 0 for d, ok in zip(d_days, d_ok, strict=True)], dtype=np.int64
    )
    d_offset = np.array([p[1] // _HOUR_NS if p is not None else -99 for p in d_plain], dtype=np.int64)
    o_codes, o_texts = _factorize(cells[:, col["ORA"]])
    o_ns = [_hhmmss_quarter(t) for t in o_texts]
    o_ok = np.array([t is not None for t in o_ns], dtype=bool)
    o_tod = np.array([t or 0 for t in o_ns], dtype=np.int64)
    f_codes, f_texts = _factorize(cells[:, col["FL_ORA_LEGALE"]])
    f_flag = np.array([{"1": 1, "2": 2}.get(t, 0) for t in f_texts], dtype=np.int64)
    wnum = _numbers(cells[:, col["ATTIVA_PRELEVATA"]])
    inum = _numbers(cells[:, col["ATTIVA_IMMESSA"]])
    w_state = wnum.state[wnum.codes]
    i_state = inum.state[inum.codes]
    flag = f_flag[f_codes]
    candidate = parsed & (w_state != _BAD) & (i_state != _BAD) & (flag > 0) & d_ok[d_codes] & o_ok[o_codes]
    local = d_naive[d_codes] + o_tod[o_codes]
    ts = local - flag * _HOUR_NS
    # the flag must be the offset of that instant: the day's offset on a day without change, else checked exactly
    day_offset = d_offset[d_codes]
    on_plain = day_offset != -99
    agree = candidate & on_plain & (flag == day_offset)
    changing = np.flatnonzero(candidate & ~on_plain)
    if len(changing):
        quarter_ns = 15 * 60 * _NS
        combos, inverse = np.unique(ts[changing] // quarter_ns * 4 + flag[changing], return_inverse=True)
        good = np.array(
            [_dt(int(c) // 4 * quarter_ns).astimezone(ROME).utcoffset() == timedelta(hours=int(c) % 4) for c in combos],
            dtype=bool,
        )
        agree[changing] = good[inverse.reshape(-1)]
    w_empty = w_state == _EMPTY
    i_empty = i_state == _EMPTY
    w_gap = w_empty & filled["ATTIVA_PRELEVATA"][pcode]
    i_gap = i_empty & filled["ATTIVA_IMMESSA"][pcode]
    gap = agree & (w_gap | i_gap)
    take = np.flatnonzero(agree & ~gap)

    zero = np.full(len(take), ZERO, dtype=object)
    wc, ic = wnum.codes[take], inum.codes[take]
    w = (np.where(w_empty[take], 0.0, wnum.value[wc]), np.where(w_empty[take], zero, wnum.exact[wc]))
    inj = (np.where(i_empty[take], 0.0, inum.value[ic]), np.where(i_empty[take], zero, inum.exact[ic]))
    rows = numbers[take]
    pods = pods_arr[pcode[take]]
    fast.added.append(_fast_added(rows << 30, pods, ts[take], w, inj, rows, np.full(len(take), "ORA", dtype=object)))
    gaps = np.flatnonzero(gap)
    fast.gaps(pods_arr[pcode[gaps]], ts[gaps])
    for i in gaps:
        line = int(numbers[i])
        empty = "ATTIVA_PRELEVATA" if w_gap[i] else "ATTIVA_IMMESSA"
        pod = pod_names[pcode[i]]
        message = f"{label}, riga {line}, {empty}: valore vuoto per {pod} alle {_utc_fmt(_dt(ts[i]))} (lacuna)"
        fast.keyed_notes.append((_key(line), message))

    # estimated data of the rows read by arrays
    estimated: dict[tuple[str, str], tuple[int, datetime, datetime]] = {}
    if tipo_col is not None and len(take):
        t_codes, t_texts = _factorize(cells[take, tipo_col])
        upper = [t.upper() for t in t_texts]
        marked = np.array([u != "E" for u in upper], dtype=bool)
        est = np.flatnonzero(marked[t_codes])
        if len(est):
            combo = pcode[take][est] * len(upper) + t_codes[est]
            groups, inverse = np.unique(combo, return_inverse=True)
            inverse = inverse.reshape(-1)
            stamps = ts[take][est]
            counts = np.bincount(inverse, minlength=len(groups))
            lows = np.full(len(groups), np.iinfo(np.int64).max, dtype=np.int64)
            highs = np.full(len(groups), np.iinfo(np.int64).min, dtype=np.int64)
            np.minimum.at(lows, inverse, stamps)
            np.maximum.at(highs, inverse, stamps)
            for g, c in enumerate(groups):
                key = (pod_names[int(c) // len(upper)], upper[int(c) % len(upper)])
                low, high = _dt(int(lows[g])), _dt(int(highs[g]))
                count, old_low, old_high = estimated.get(key, (0, low, high))
                estimated[key] = (count + int(counts[g]), min(low, old_low), max(high, old_high))

    # every other row: the reference's row code
    placeholders: dict[str, int] = {}
    slow_estimated: dict[tuple[str, str], list[datetime]] = {}
    for i in np.flatnonzero(parsed & ~agree):
        line = int(numbers[i])
        fields = grid.fields(int(i))
        fields = fields + [""] * (width - len(fields))
        rec.at(line)
        _pcf_row(rec, label, line, pod_names[pcode[i]], fields, col, tipo_col, has_value, placeholders, slow_estimated)
    for key, found in slow_estimated.items():
        count, low, high = estimated.get(key, (0, min(found), max(found)))
        estimated[key] = (count + len(found), min(low, *found), max(high, *found))
    tail_notes = _pcf_tail(label, placeholders, estimated)
    return _assemble(
        fast, lines, 15, lenient=lenient, head_problems=head_problems, head_notes=head_notes, tail_notes=tail_notes
    )


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
        for name, spec in self.__dataclass_fields__.items():
            value = getattr(self, name)
            if name == "interval_minutes":
                if isinstance(value, bool) or not isinstance(value, int):
                    errors.append(f"{name}: atteso un numero intero di minuti, trovato {value!r}")
            elif not isinstance(value, str) and not (value is None and spec.default is None):
                errors.append(f"{name}: atteso un testo, trovato {value!r}")
        if errors:
            return errors
        if len(self.separator) != 1 or self.separator in '\r\n"':
            errors.append(f"separatore di campo {self.separator!r} non valido: un solo carattere, es. ';' o ','")
        try:
            ZoneInfo(self.timezone)
        except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
            errors.append(f"fuso orario {self.timezone!r} sconosciuto (es. Europe/Rome)")
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
        if self.datetime_column is not None:
            formats = [("datetime_format", self.datetime_format)]
        else:
            formats = [("date_format + time_format", f"{self.date_format} {self.time_format}")]
        for name, fmt in formats:
            try:  # strptime checks the format before the text: "" only fails to match a good format
                datetime.strptime("", fmt)
            except re.error:
                errors.append(f"{name}: formato {fmt!r} non valido (direttiva ripetuta)")
            except ValueError as exc:
                if not str(exc).startswith("time data"):
                    errors.append(f"{name}: formato {fmt!r} non valido ({exc})")
            else:
                errors.append(f"{name}: formato {fmt!r} senza data né ora")
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
    try:
        return _mapped_fast(text, label, mapping, lenient)
    except _Fallback:
        return _mapped_rowwise(text, label, mapping, lenient)


def _parse_mapped_csv_rowwise(
    source: Source, mapping: ColumnMapping, *, name: str | None = None, lenient: bool = False
) -> Readings:
    """Row-by-row reference of :func:`parse_mapped_csv` (same result, slower)."""
    text, label = _read_source(source, name)
    return _mapped_rowwise(text, label, mapping, lenient)


@dataclass
class _MappedSetup:
    """What a mapped file's header and mapping fix for every row."""

    label: str
    mapping: ColumnMapping
    zone: ZoneInfo
    col: dict[str, int]
    fixed_pod: str | None
    factor: Decimal
    header_line: int
    seen_local: set[tuple[str, datetime]] = field(default_factory=set)
    dropped: int = 0

    def cell(self, fields: list[str], column: str | None) -> str:
        if column is None:
            return ""
        i = self.col[column]
        return fields[i] if i < len(fields) else ""

    def stamp_of(self) -> tuple[str, str]:
        """Format and field name of the time."""
        m = self.mapping
        if m.datetime_column is not None:
            return m.datetime_format, m.datetime_column
        return f"{m.date_format} {m.time_format}", m.time_column or "ora"

    def value_columns(self) -> list[tuple[str, str]]:
        """(direction, column) read from the file, in the reference's order."""
        m = self.mapping
        if m.value_column is not None:
            return [(m.direction or "withdrawn", m.value_column)]
        return [(d, c) for d, c in (("withdrawn", m.withdrawn_column), ("injected", m.injected_column)) if c]


def _mapped_begin(label: str, mapping: ColumnMapping) -> ZoneInfo:
    """Check the mapping (raising); its time zone."""
    errors = mapping.check()
    if errors:
        raise InputError([Problem(e, file=label, field="mapping") for e in errors])
    return ZoneInfo(mapping.timezone)


def _mapped_setup(
    label: str, mapping: ColumnMapping, zone: ZoneInfo, header_line: int, header: list[str]
) -> _MappedSetup:
    """Check the header against the mapping (raising)."""
    missing = [c for c in mapping.columns() if c not in header]
    if missing:
        raise InputError.one(
            f"colonne mancanti: {', '.join(missing)}; trovate: {mapping.separator.join(header)}",
            file=label,
            row=header_line,
        )
    col = {c: header.index(c) for c in mapping.columns()}
    fixed_pod = None
    if mapping.pod is not None:
        fixed_pod, message = _pod(mapping.pod)
        if fixed_pod is None:
            raise InputError([Problem(message, file=label, row=header_line, field="pod")])
    factor = {"kWh": Decimal(1), "Wh": Decimal("0.001"), "kW": Decimal(mapping.interval_minutes) / 60}[mapping.unit]
    return _MappedSetup(label, mapping, zone, col, fixed_pod, factor, header_line)


def _mapped_row(acc: _Collector, setup: _MappedSetup, line: int, fields: list[str]) -> None:
    """One row of a mapped CSV (reference code)."""
    mapping, label = setup.mapping, setup.label
    pod_field = mapping.pod_column or "pod"
    pod = (
        setup.fixed_pod
        if setup.fixed_pod is not None
        else acc.pod(setup.cell(fields, mapping.pod_column), line, pod_field)
    )
    if pod is None:
        return
    fmt, tfield = setup.stamp_of()
    if mapping.datetime_column is not None:
        stamp = setup.cell(fields, mapping.datetime_column)
    else:
        stamp = f"{setup.cell(fields, mapping.date_column)} {setup.cell(fields, mapping.time_column)}"
    try:
        local = datetime.strptime(stamp, fmt)
    except ValueError:
        acc.problem(f"data/ora non valida {stamp!r}: formato atteso {fmt!r}", line, tfield)
        return
    if not _YEARS[0] <= local.year <= _YEARS[1]:
        acc.problem(f"data/ora {stamp!r} fuori dagli anni {_YEARS[0]}-{_YEARS[1]}", line, tfield)
        return
    if (local.hour * 60 + local.minute) % mapping.interval_minutes or local.second or local.microsecond:
        acc.problem(f"{stamp!r} non è l'inizio di un intervallo di {mapping.interval_minutes} minuti", line, tfield)
        return
    values: dict[str, Decimal] = {"withdrawn": ZERO, "injected": ZERO}
    bad = empty = None
    for d, c in setup.value_columns():
        t = setup.cell(fields, c)
        if not t:
            empty = c
            continue
        v = acc.number(t, line, c, mapping.decimal)
        if v is None:
            bad = True
        else:
            values[d] = v * setup.factor
    if bad:
        return
    if mapping.utc_offset_column is not None:
        off_text = setup.cell(fields, mapping.utc_offset_column).strip()
        try:
            offset = Decimal(off_text.replace(",", "."))
        except InvalidOperation:
            acc.problem(
                f"scarto da UTC non valido {off_text!r}: atteso in ore (es. 1 o 2)", line, mapping.utc_offset_column
            )
            return
        if not offset.is_finite() or abs(offset) > 48:
            acc.problem(
                f"scarto da UTC fuori scala {off_text!r}: atteso in ore (es. 1 o 2)", line, mapping.utc_offset_column
            )
            return
        ts = (local - timedelta(hours=float(offset))).replace(tzinfo=UTC)
    else:
        wall = local.replace(tzinfo=setup.zone)
        if not _exists(wall):
            if any(v != ZERO for v in values.values()):
                acc.problem(f"valore in un'ora che non esiste ({stamp}, cambio d'ora)", line, tfield)
            else:
                setup.dropped += 1
            return
        fold = 1 if (pod, local) in setup.seen_local and _ambiguous(wall) else 0
        setup.seen_local.add((pod, local))
        ts = wall.replace(fold=fold).astimezone(UTC)
    if empty is not None:
        acc.gap(pod, ts, f"{label}, riga {line}, {empty}: valore vuoto per {pod} alle {_utc_fmt(ts)} (lacuna)")
        return
    acc.add(pod, ts, values["withdrawn"], values["injected"], line, tfield)


def _mapped_dropped(setup: _MappedSetup) -> list[str]:
    if setup.dropped:
        return [f"{setup.label}: {setup.dropped} righe a zero in ore inesistenti (cambio d'ora) scartate"]
    return []


def _mapped_rowwise(text: str, label: str, mapping: ColumnMapping, lenient: bool) -> Readings:
    zone = _mapped_begin(label, mapping)
    acc = _Collector(label, text)
    rows = _rows(text, mapping.separator)
    if not rows:
        raise InputError.one("file vuoto", file=label)
    header_line, header = rows[0]
    setup = _mapped_setup(label, mapping, zone, header_line, header)
    for line, fields in rows[1:]:
        _mapped_row(acc, setup, line, fields)
    acc.notes.extend(_mapped_dropped(setup))
    return acc.finish(mapping.interval_minutes, lenient=lenient)


_WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}


def _layout(fmt: str) -> tuple[int, dict[str, int], list[tuple[int, str]]] | None:
    """Fixed-width reading of a strptime format made of %Y %m %d %H %M (%S) and literal characters.

    Returns (length, position of each directive, literal characters with their position), or None when the format
    has anything else. A string of that exact layout, with every field in range, is read by strptime the same way.
    """
    at: dict[str, int] = {}
    literals: list[tuple[int, str]] = []
    pos = k = 0
    while k < len(fmt):
        ch = fmt[k]
        if ch != "%":
            literals.append((pos, ch))
            pos += 1
            k += 1
            continue
        directive = fmt[k + 1] if k + 1 < len(fmt) else ""
        if directive == "%":
            literals.append((pos, "%"))
            pos += 1
        elif directive in _WIDTHS and directive not in at:
            at[directive] = pos
            pos += _WIDTHS[directive]
        else:
            return None
        k += 2
    if not {"Y", "m", "d", "H", "M"} <= set(at):
        return None
    return pos, at, literals


def _stamps(stamps: ObjArray, fmt: str) -> tuple[BoolArray, IntArray, IntArray]:
    """Local wall times of stamps read like ``datetime.strptime(stamp, fmt)``: (read, local ns as if UTC, minutes
    from midnight); rows not read are left to the reference (a malformed stamp, a year outside 1980-2199...)."""
    n = len(stamps)
    ok = np.zeros(n, dtype=bool)
    local = np.zeros(n, dtype=np.int64)
    minutes = np.zeros(n, dtype=np.int64)
    layout = _layout(fmt)
    if layout is None:
        codes, texts = _factorize(stamps)
        u_ok = np.zeros(len(texts), dtype=bool)
        u_local = np.zeros(len(texts), dtype=np.int64)
        u_min = np.zeros(len(texts), dtype=np.int64)
        for k, t in enumerate(texts):
            try:
                parsed = datetime.strptime(t, fmt)
            except Exception:  # any failure is the reference's to report (or raise)
                continue
            if not 1980 <= parsed.year < 2200 or parsed.second or parsed.microsecond:
                continue
            u_ok[k] = True
            u_min[k] = parsed.hour * 60 + parsed.minute
            u_local[k] = _naive_ns(parsed.date()) + u_min[k] * 60 * _NS
        return u_ok[codes], u_local[codes], u_min[codes]
    length, at, literals = layout
    if n == 0:
        return ok, local, minutes
    lengths = np.fromiter(map(len, stamps), dtype=np.int64, count=n)
    chars = np.array(stamps, dtype=f"<U{length}").view(np.uint32).reshape(n, length).astype(np.int64)
    ok = lengths == length
    for pos, ch in literals:
        ok &= chars[:, pos] == ord(ch)

    def number(directive: str) -> IntArray:
        nonlocal ok
        start = at[directive]
        digits = chars[:, start : start + _WIDTHS[directive]] - 48
        ok &= ((digits >= 0) & (digits <= 9)).all(axis=1)
        out = np.zeros(n, dtype=np.int64)
        for k in range(digits.shape[1]):
            out = out * 10 + digits[:, k]
        return out

    year, month, day = number("Y"), number("m"), number("d")
    hour, minute = number("H"), number("M")
    second = number("S") if "S" in at else np.zeros(n, dtype=np.int64)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
    last = month_days[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ok &= (year >= 1980) & (year < 2200) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= last)
    ok &= (hour <= 23) & (minute <= 59) & (second == 0)
    # days from civil (proleptic Gregorian), valid where ok
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    minutes = hour * 60 + minute
    local = np.where(ok, days * _DAY_NS + minutes * 60 * _NS, 0)
    return ok, local, minutes


def _mapped_fast(text: str, label: str, mapping: ColumnMapping, lenient: bool) -> Readings:
    zone = _mapped_begin(label, mapping)
    sep = mapping.separator
    if len(sep) != 1 or sep in '"\x00\r\n' or (mapping.utc_offset_column is None and mapping.timezone != "Europe/Rome"):
        raise _Fallback
    lines = text.splitlines()
    first = _first_row(lines)
    if first is None:
        raise InputError.one("file vuoto", file=label)
    header = _fields(lines[first], sep)
    grid = _grid(text, lines, first + 1, sep, len(header))
    setup = _mapped_setup(label, mapping, zone, first + 1, header)
    cells, numbers = grid.cells, grid.numbers
    n = len(numbers)
    fast = _Fast(_Recorder(label))
    rec = fast.rec
    fmt, tfield = setup.stamp_of()

    def column(name: str | None) -> ObjArray:
        if name is None:
            return np.full(n, "", dtype=object)
        return cells[:, setup.col[name]]

    # POD
    if setup.fixed_pod is not None:
        pods = np.full(n, setup.fixed_pod, dtype=object)
        ok = np.ones(n, dtype=bool)
    else:
        codes, texts = _factorize(column(mapping.pod_column))
        checked = [_pod(t)[0] for t in texts]
        ok = np.array([p is not None for p in checked], dtype=bool)[codes]
        pods = _objects([p or "" for p in checked])[codes]
    # time
    if mapping.datetime_column is not None:
        stamps = column(mapping.datetime_column)
    else:
        stamps = column(mapping.date_column) + " " + column(mapping.time_column)
    read, local, minutes = _stamps(stamps, fmt)
    ok &= read & (minutes % mapping.interval_minutes == 0)
    # values
    empty: ObjArray = np.full(n, "", dtype=object)  # the (last) empty value column of the row
    values: dict[str, tuple[FloatArray, ObjArray]] = {
        "withdrawn": (np.zeros(n, dtype=np.float64), np.full(n, ZERO, dtype=object)),
        "injected": (np.zeros(n, dtype=np.float64), np.full(n, ZERO, dtype=object)),
    }
    for d, c in setup.value_columns():
        num = _numbers(column(c), mapping.decimal, setup.factor)
        state = num.state[num.codes]
        ok &= state != _BAD
        good = state == _GOOD
        values[d] = (
            np.where(good, num.value[num.codes], values[d][0]),
            np.where(good, num.exact[num.codes], values[d][1]),
        )
        empty[state == _EMPTY] = c
    # UTC: the offset column, or the Rome offset of a day without change (other days: each wall time exactly)
    ts = np.zeros(n, dtype=np.int64)
    if mapping.utc_offset_column is not None:
        codes, texts = _factorize(column(mapping.utc_offset_column))
        shift = np.zeros(len(texts), dtype=np.int64)
        usable = np.zeros(len(texts), dtype=bool)
        for k, t in enumerate(texts):
            try:
                hours = float(Decimal(t.strip().replace(",", ".")))
            except Exception:  # any failure is the reference's to report (or raise)
                continue
            if abs(hours) <= 48:
                shift[k] = timedelta(hours=hours) // _MICRO * 1000
                usable[k] = True
        ok &= usable[codes]
        ts = local - shift[codes]
    else:
        day_of = local // _DAY_NS
        u_days, inverse = np.unique(day_of[ok], return_inverse=True)
        plain = [_plain_day(date.fromordinal(int(d) + _EPOCH_ORDINAL)) for d in u_days]
        offset = np.array([p[1] if p is not None else 0 for p in plain], dtype=np.int64)
        is_plain = np.zeros(n, dtype=bool)
        is_plain[ok] = np.array([p is not None for p in plain], dtype=bool)[inverse.reshape(-1)]
        ts[ok] = local[ok] - offset[inverse.reshape(-1)]
        changing = np.flatnonzero(ok & ~is_plain)
        if len(changing):
            walls, w_inverse = np.unique(local[changing], return_inverse=True)
            w_ok = np.zeros(len(walls), dtype=bool)
            w_ts = np.zeros(len(walls), dtype=np.int64)
            for k, wall_ns in enumerate(walls):
                wall = _dt(int(wall_ns)).replace(tzinfo=ROME)
                if _exists(wall) and not _ambiguous(wall):
                    w_ok[k] = True
                    w_ts[k] = _ns(wall.astimezone(UTC))
            ok[changing] = w_ok[w_inverse.reshape(-1)]
            ts[changing] = w_ts[w_inverse.reshape(-1)]

    gap = ok & np.asarray(empty != "", dtype=bool)
    take = np.flatnonzero(ok & ~gap)
    rows = numbers[take]
    fast.added.append(
        _fast_added(
            rows << 30,
            pods[take],
            ts[take],
            (values["withdrawn"][0][take], values["withdrawn"][1][take]),
            (values["injected"][0][take], values["injected"][1][take]),
            rows,
            np.full(len(take), tfield, dtype=object),
        )
    )
    gaps = np.flatnonzero(gap)
    fast.gaps(pods[gaps], ts[gaps])
    for i in gaps:
        line = int(numbers[i])
        message = f"{label}, riga {line}, {empty[i]}: valore vuoto per {pods[i]} alle {_utc_fmt(_dt(ts[i]))} (lacuna)"
        fast.keyed_notes.append((_key(line), message))
    for i in np.flatnonzero(~ok):
        line = int(numbers[i])
        rec.at(line)
        _mapped_row(rec, setup, line, grid.fields(int(i)))
    return _assemble(fast, lines, mapping.interval_minutes, lenient=lenient, tail_notes=_mapped_dropped(setup))
