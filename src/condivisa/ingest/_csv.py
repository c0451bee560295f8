"""Shared helpers for validating CSV input column by column, naming file, line and field."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from condivisa.errors import InputError, Problem

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
MAX_REPORTED = 50
_EARLIEST = pd.Timestamp("1678-01-01", tz="UTC")
_LATEST = pd.Timestamp("2261-12-31", tz="UTC")


def read_text_table(source: str | Path | io.StringIO, name: str, required: list[str]) -> pd.DataFrame:
    """Read a comma-separated file as strings and check its header.

    Returns a frame of str columns whose index is the 1-based line number in the file.
    """
    try:
        frame = pd.read_csv(source, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError as exc:
        raise InputError.one("file non trovato", file=name) from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError.one(f"CSV illeggibile: {exc}", file=name) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError.one(f"file vuoto; intestazione attesa: {','.join(required)}", file=name) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError.one(
            f"colonne mancanti: {', '.join(missing)}; trovate: {', '.join(frame.columns)}; "
            f"attese: {','.join(required)}",
            file=name,
            row=1,
        )
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return frame


def problems_where(
    mask: pd.Series | np.ndarray, frame: pd.DataFrame, name: str, column: str, message: str
) -> list[Problem]:
    """One problem per flagged row (at most :data:`MAX_REPORTED`), with the offending value."""
    rows = frame.index[np.asarray(mask, dtype=bool)]
    out = []
    for row in rows[:MAX_REPORTED]:
        value = frame.at[row, column] if column in frame.columns else ""
        out.append(Problem(f"{message} (valore {value!r})", file=name, row=int(row), field=column))
    if len(rows) > MAX_REPORTED:
        out.append(Problem(f"{message}: altre {len(rows) - MAX_REPORTED} righe", file=name, field=column))
    return out


def parse_timestamps(frame: pd.DataFrame, column: str, name: str, problems: list[Problem]) -> pd.Series:
    """Parse ISO 8601 timestamps that carry a UTC offset; returns UTC timestamps (NaT where invalid)."""
    text = frame[column].str.strip()
    empty = text == ""
    problems += problems_where(empty, frame, name, column, "valore mancante")
    bad_shape = ~empty & ~text.str.match(ISO_WITH_OFFSET)
    problems += problems_where(
        bad_shape, frame, name, column, "timestamp non ISO 8601 con fuso (es. 2025-01-01T00:00:00+01:00)"
    )
    ok = ~empty & ~bad_shape
    parsed = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    if ok.any():
        conv = pd.to_datetime(text[ok], utc=True, format="ISO8601", errors="coerce")
        # a year outside pandas' nanosecond range (1677-2262) comes back in another unit: refuse it by name
        far = (conv.notna() & ((conv < _EARLIEST) | (conv > _LATEST))).reindex(frame.index, fill_value=False)
        problems += problems_where(far, frame, name, column, "anno fuori dall'intervallo 1678-2261")
        parsed.loc[ok] = conv.where(~far[ok]).astype("datetime64[ns, UTC]")
        problems += problems_where(ok & parsed.isna() & ~far, frame, name, column, "data o ora inesistente")
    return parsed


def parse_numbers(
    frame: pd.DataFrame, column: str, name: str, problems: list[Problem], *, non_negative: bool
) -> pd.Series:
    """Parse a numeric column (dot decimals); missing, non-numeric and (optionally) negative values are problems."""
    text = frame[column].str.strip()
    empty = text == ""
    problems += problems_where(empty, frame, name, column, "valore mancante")
    values = pd.to_numeric(text.where(~empty), errors="coerce")
    problems += problems_where(~empty & values.isna(), frame, name, column, "non e' un numero")
    finite = values.notna() & ~np.isfinite(values.fillna(0.0))
    problems += problems_where(finite, frame, name, column, "numero non finito")
    if non_negative:
        problems += problems_where(values < 0, frame, name, column, "valore negativo")
    return values.astype("float64")
