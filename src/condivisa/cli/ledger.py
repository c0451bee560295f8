"""``condivisa ledger``: verify the hash-chained ledger (in the database or an exported file) and export it.

``verify`` exits with 0 and prints the number of entries and the head hash when the chain is intact, with 1 and
the first entry that breaks it (and why) when not; bad input (a missing file, a bad URL) exits with 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from condivisa.cli.db import DbUrl, _db_guard, _engine
from condivisa.errors import InputError
from condivisa.ledger import VerifyResult
from condivisa.store import DEFAULT_URL
from condivisa.store.ledger import export_jsonl, verify_database, verify_jsonl

ledger_app = typer.Typer(
    help="Registro delle operazioni (catena di hash): verifica ed esportazione.",
    no_args_is_help=True,
    add_completion=False,
)

HeadOption = Annotated[
    str | None,
    typer.Option("--head", help="hash di testa atteso (noto da una verifica precedente): rileva voci tolte in fondo"),
]


def _report(result: VerifyResult) -> None:
    if result.ok:
        typer.echo(f"Registro integro: {result.count} voci")
        typer.echo(f"hash di testa: {result.head}")
        return
    where = f"voce {result.bad_seq}" if result.bad_seq is not None else "registro"
    typer.echo(f"Registro ALTERATO: {where}: {result.reason}")
    typer.echo(f"voci integre prima dell'errore: {result.count}; ultimo hash integro: {result.head}")
    raise typer.Exit(1)


@ledger_app.command("verify")
def verify_cmd(
    db: DbUrl = DEFAULT_URL,
    file: Annotated[
        Path | None, typer.Option("--file", help="registro esportato (JSON lines) da verificare senza database")
    ] = None,
    head: HeadOption = None,
) -> None:
    """Verifica la catena del registro: numero di voci e hash di testa, o la prima voce alterata."""

    def run() -> VerifyResult:
        if file is not None:
            if not file.is_file():
                raise InputError.one(f"file {file} non trovato", field="--file")
            return verify_jsonl(file, expected_head=head)
        engine = _engine(db)
        try:
            return verify_database(engine, expected_head=head)
        finally:
            engine.dispose()

    _report(_db_guard(run))


@ledger_app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Option("--out", help="file JSON lines da scrivere (una voce per riga)")],
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Esporta il registro in un file verificabile da chiunque senza il database (condivisa ledger verify --file)."""

    def run() -> VerifyResult:
        engine = _engine(db)
        try:
            return export_jsonl(engine, out)
        finally:
            engine.dispose()

    result = _db_guard(run)
    typer.echo(f"Registro esportato in {out}", err=True)
    _report(result)
