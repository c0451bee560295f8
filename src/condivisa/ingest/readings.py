"""Meter readings in Condivisa's long CSV: ``pod,timestamp,withdrawn_kwh,injected_kwh``.

``timestamp`` is ISO 8601 with its UTC offset and marks the **start** of the interval; intervals are 15 minutes
or one hour (PODs may differ). Energies are kWh in the interval.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from condivisa.errors import InputError, Problem
from condivisa.ingest._csv import parse_numbers, parse_timestamps, problems_where, read_text_table
from condivisa.model.community import POD_PATTERN

COLUMNS = ["pod", "timestamp", "withdrawn_kwh", "injected_kwh"]


@dataclass(frozen=True)
class Rejected:
    """A reading (or a line, or a cell) that a lenient reader held back instead of failing the whole file.

    It goes to the quarantine of the database import: ``reason`` says why, ``row``/``field`` where, ``raw`` is the
    text as received; ``pod``, ``timestamp`` (UTC start) and the energies [kWh] are there when they could be read,
    so that the reading can be stored later if the cause is fixed (a POD added to the community, say).
    """

    reason: str
    source: str = ""
    row: int | None = None
    field: str | None = None
    raw: str | None = None
    pod: str | None = None
    timestamp: pd.Timestamp | None = None
    interval_minutes: int | None = None
    withdrawn_kwh: float | None = None
    injected_kwh: float | None = None

    def __str__(self) -> str:
        return str(Problem(self.reason, file=self.source or None, row=self.row, field=self.field))


@dataclass(frozen=True)
class Readings:
    """Validated meter readings.

    Attributes
    ----------
    frame : pandas.DataFrame
        Columns ``pod`` (str), ``timestamp`` (UTC start of interval), ``withdrawn_kwh``, ``injected_kwh`` [kWh].
    interval_minutes : dict
        Resolution of each POD: 15 or 60 [min].
    source : str
        Where they came from (file name or channel).
    notes : list of str
        Soft findings of the reader (gaps, exact duplicates, estimated data, dropped DST placeholders).
    rejected : list of Rejected
        Readings held back by a lenient reader (empty for strict readers, which raise instead).
    """

    frame: pd.DataFrame
    interval_minutes: dict[str, int]
    source: str = ""
    notes: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def pods(self) -> list[str]:
        """PODs present, sorted."""
        return sorted(self.interval_minutes)


class ReadingsReader(Protocol):
    """Anything that yields :class:`Readings` (a file format, a broker subscription, a database query)."""

    def read(self, path: str | Path) -> Readings: ...


class LongCsvReader:
    """:class:`ReadingsReader` for Condivisa's long CSV."""

    def read(self, path: str | Path) -> Readings:
        return read_readings_csv(path)


def _resolution(frame: pd.DataFrame, name: str) -> tuple[dict[str, int], list[Problem]]:
    minute = frame["timestamp"].dt.minute
    second = frame["timestamp"].dt.second + frame["timestamp"].dt.microsecond
    problems = problems_where(
        ((minute % 15) != 0) | (second != 0),
        frame,
        name,
        "timestamp",
        "l'intervallo deve iniziare a un quarto d'ora (00, 15, 30, 45)",
    )
    quarter = (minute != 0).groupby(frame["pod"]).any()
    return {str(pod): (15 if q else 60) for pod, q in quarter.items()}, problems


def validate_readings(frame: pd.DataFrame, name: str) -> Readings:
    """Validate a frame of string columns (index = file line numbers) into :class:`Readings`.

    Raises
    ------
    InputError
        With every problem found: missing or malformed values, wrong POD, negative energy, duplicated intervals.
    """
    problems: list[Problem] = []
    pod = frame["pod"].str.strip()
    problems += problems_where(pod == "", frame, name, "pod", "valore mancante")
    problems += problems_where(
        (pod != "") & ~pod.str.match(POD_PATTERN.pattern),
        frame,
        name,
        "pod",
        "POD non valido: atteso IT + 3 cifre + E + 8 o 9 cifre",
    )
    ts = parse_timestamps(frame, "timestamp", name, problems)
    withdrawn = parse_numbers(frame, "withdrawn_kwh", name, problems, non_negative=True)
    injected = parse_numbers(frame, "injected_kwh", name, problems, non_negative=True)
    if problems:
        raise InputError(problems)
    out = pd.DataFrame(
        {"pod": pod, "timestamp": ts, "withdrawn_kwh": withdrawn, "injected_kwh": injected}, index=frame.index
    )
    dup = out.duplicated(["pod", "timestamp"], keep=False)
    if dup.any():
        first = out[dup].groupby(["pod", "timestamp"]).head(1)
        for row, rec in list(first.iterrows())[:20]:
            rows = out.index[dup & (out["pod"] == rec["pod"]) & (out["timestamp"] == rec["timestamp"])]
            problems.append(
                Problem(
                    f"intervallo duplicato per {rec['pod']} alle {rec['timestamp'].isoformat()} "
                    f"(righe {', '.join(str(r) for r in rows)})",
                    file=name,
                    row=int(str(row)),
                    field="timestamp",
                )
            )
        raise InputError(problems)
    resolution, res_problems = _resolution(out, name)
    if res_problems:
        raise InputError(res_problems)
    out = out.sort_values(["pod", "timestamp"]).reset_index(drop=True)
    return Readings(frame=out, interval_minutes=resolution, source=name)


def parse_readings_csv(source: str | io.StringIO | Path, *, name: str | None = None) -> Readings:
    """Parse readings from a CSV file path or buffer (see module docstring for the format)."""
    label = name or str(source)
    frame = read_text_table(source, label, COLUMNS)
    if frame.empty:
        raise InputError.one("nessuna lettura nel file", file=label)
    return validate_readings(frame, label)


def read_readings_csv(path: str | Path) -> Readings:
    """Read a readings CSV file (see :func:`parse_readings_csv`)."""
    return parse_readings_csv(Path(path), name=str(path))


def readings_from_arrays(
    pods: list[str],
    start_utc: pd.Timestamp,
    withdrawn: np.ndarray,
    injected: np.ndarray,
    *,
    interval_minutes: int = 60,
    source: str = "",
) -> Readings:
    """Build :class:`Readings` from (intervals x pods) arrays [kWh] starting at ``start_utc``."""
    n = withdrawn.shape[0]
    times = pd.date_range(start_utc, periods=n, freq=f"{interval_minutes}min", tz="UTC")
    frame = pd.DataFrame(
        {
            "pod": np.repeat(np.asarray(pods, dtype=object), n),
            "timestamp": np.tile(times.to_numpy(), len(pods)),
            "withdrawn_kwh": withdrawn.T.reshape(-1).astype("float64"),
            "injected_kwh": injected.T.reshape(-1).astype("float64"),
        }
    )
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return Readings(frame=frame, interval_minutes=dict.fromkeys(pods, interval_minutes), source=source)


def write_readings_csv(readings: Readings, path: str | Path) -> None:
    """Write readings in the long CSV format, timestamps in Italian local time with their offset."""
    from condivisa.engine.timegrid import iso_local  # here: the engine imports this module

    f = readings.frame
    text = iso_local(f["timestamp"])
    out = pd.DataFrame(
        {
            "pod": f["pod"],
            "timestamp": text,
            "withdrawn_kwh": f["withdrawn_kwh"].round(3),
            "injected_kwh": f["injected_kwh"].round(3),
        }
    )
    out.to_csv(path, index=False)
