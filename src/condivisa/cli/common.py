"""Helpers shared by the command-line modules: error reporting with exit code 2, atomic file writes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from condivisa.errors import InputError

if TYPE_CHECKING:
    from condivisa.engine.settle import Settlement

T = TypeVar("T")


def guard(fn: Callable[[], T]) -> T:
    """Run ``fn``; on bad input print the problems and exit 2."""
    try:
        return fn()
    except InputError as exc:
        typer.echo("Errore nei dati di ingresso:", err=True)
        for problem in exc.problems[:50]:
            typer.echo(f"  {problem}", err=True)
        if len(exc.problems) > 50:
            typer.echo(f"  ... e altri {len(exc.problems) - 50} problemi", err=True)
        raise typer.Exit(2) from exc


def write_atomic(path: Path, text: str) -> None:
    """Write a file all at once: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit_settlement(
    settlement: Settlement,
    json_out: str | None,
    hourly_out: Path | None = None,
    document: dict[str, Any] | None = None,
) -> None:
    """Show a settlement: its JSON document on stdout (``json_out == "-"``), or the Italian tables, the JSON
    written to ``json_out`` and the hourly detail to ``hourly_out`` (atomic writes)."""
    import json
    import sys

    from condivisa.report import print_settlement, settlement_document

    doc = document if document is not None else settlement_document(settlement)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if json_out == "-":
        sys.stdout.write(text)
    else:
        print_settlement(settlement)
        if json_out:
            write_atomic(Path(json_out), text)
            typer.echo(f"Documento JSON scritto in {json_out}", err=True)
    if hourly_out:
        write_atomic(hourly_out, settlement.hourly_frame().to_csv(index=False, float_format="%.6f"))
        typer.echo(f"Dettaglio orario scritto in {hourly_out}", err=True)
