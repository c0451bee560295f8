"""Helpers shared by the command-line modules: error reporting with exit code 2, atomic file writes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer

from condivisa.errors import InputError

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
