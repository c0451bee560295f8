"""``condivisa`` commands of data safety: ``backup``, ``restore``, ``gdpr export|erase``, ``audit list``.

Exit codes: 0 done, 2 bad input or a refused operation (altered archive, database with data without
``--force``, unknown member), 1 an unreachable database. Changes made by these commands are logged in the audit
log with the channel ``cli``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from condivisa.cli.common import write_atomic
from condivisa.cli.db import DbUrl, _db_guard, _engine
from condivisa.errors import InputError
from condivisa.store import DEFAULT_URL, session_factory

err = Console(stderr=True)

gdpr_app = typer.Typer(
    help="Diritti degli interessati (GDPR): esportazione e cancellazione dei dati di un socio.",
    no_args_is_help=True,
    add_completion=False,
)
audit_app = typer.Typer(
    help="Registro delle modifiche: chi ha cambiato cosa.", no_args_is_help=True, add_completion=False
)


def backup_cmd(
    out: Annotated[Path, typer.Option("--out", help="archivio da scrivere (.tar.gz)")],
    files: Annotated[
        Path | None, typer.Option("--files", help="cartella dei file caricati o generati da includere")
    ] = None,
    no_native: Annotated[
        bool, typer.Option("--no-native", help="solo il dump portabile (senza copia SQLite o pg_dump)")
    ] = False,
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Salva in un archivio una copia coerente del database (anche mentre l'applicazione e' in uso) e dei file.

    L'archivio contiene un manifesto (revisione, righe per tabella, SHA-256 di ogni file), il dump portabile
    (ripristinabile in SQLite o PostgreSQL) e la copia nativa (file SQLite o pg_dump).
    """
    from condivisa.store import audit
    from condivisa.store.backup import BackupError, backup, iter_tables

    def run() -> None:
        with audit.actor(label="cli"):
            try:
                result = backup(db, out, files_dir=files, native=not no_native)
            except BackupError as exc:
                raise InputError.one(str(exc), field="--db") from exc
        m = result.manifest
        rows = sum(n for _, n in iter_tables(m))
        typer.echo(
            f"Backup scritto in {result.path}: {len(m['tables'])} tabelle, {rows} righe, {len(m['files'])} file, "
            f"revisione {m['revision']} ({m['dialect']}{', copia nativa' if m['native'] else ''})"
        )
        typer.echo(f"SHA-256 del manifesto (conservarlo a parte): {result.manifest_sha256}")
        for name in m["files_skipped"]:
            err.print(f"[yellow]file non incluso (collegamento o file speciale): {name}[/yellow]")

    _db_guard(run)


def restore_cmd(
    archive: Annotated[Path, typer.Argument(help="archivio scritto da `condivisa backup`")],
    force: Annotated[
        bool, typer.Option("--force", help="cancella i dati presenti nel database (e nella cartella dei file)")
    ] = False,
    files: Annotated[Path | None, typer.Option("--files", help="cartella in cui ripristinare i file")] = None,
    method: Annotated[str, typer.Option("--method", help="auto, native (copia nativa) o portable")] = "auto",
    manifest_sha256: Annotated[
        str | None, typer.Option("--manifest-sha256", help="SHA-256 del manifesto stampato dal backup")
    ] = None,
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Ripristina un backup (controllando l'archivio) in un database vuoto, o svuotato con --force.

    Verifica il numero di righe e aggiorna lo schema se il backup e' di una revisione precedente. Fermare
    l'applicazione durante il ripristino.
    """
    from condivisa.store import audit
    from condivisa.store.backup import BackupError, restore

    def run() -> None:
        with audit.actor(label="cli"):
            try:
                result = restore(
                    archive, db, force=force, files_dir=files, method=method, manifest_sha256=manifest_sha256
                )
            except BackupError as exc:
                raise InputError.one(str(exc), field=str(archive)) from exc
        typer.echo(
            f"Ripristino ({result.method}) completato: {len(result.tables)} tabelle, "
            f"{sum(result.tables.values())} righe, {result.files} file; revisione {result.revision}"
        )
        for warning in result.warnings:
            err.print(f"[yellow]{warning}[/yellow]")

    _db_guard(run)


@gdpr_app.command("export")
def gdpr_export_cmd(
    community_id: Annotated[int, typer.Argument(help="id della comunita'")],
    member: Annotated[str, typer.Argument(help="id del socio nel file della comunita' (es. m10)")],
    out: Annotated[str, typer.Option("--out", help="file JSON da scrivere (- per stdout)")],
    full_readings: Annotated[
        bool, typer.Option("--full-readings", help="tutte le letture dei POD del socio, non solo il riepilogo")
    ] = False,
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Esporta in JSON tutti i dati di un socio (art. 15 e 20 GDPR); l'esportazione e' annotata nel registro."""
    from condivisa.store import audit
    from condivisa.store.gdpr import export_member, record_export

    def run() -> str:
        engine = _engine(db)
        try:
            with audit.actor(label="cli"), session_factory(engine)() as session:
                data = export_member(session, community_id, member, full_readings=full_readings)
                record_export(session, community_id, member)
                session.commit()
        finally:
            engine.dispose()
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    text = _db_guard(run)
    if out == "-":
        sys.stdout.write(text)
    else:
        write_atomic(Path(out), text)
        typer.echo(f"Dati del socio {member} scritti in {out}", err=True)


@gdpr_app.command("erase")
def gdpr_erase_cmd(
    community_id: Annotated[int, typer.Argument(help="id della comunita'")],
    member: Annotated[str, typer.Argument(help="id del socio nel file della comunita' (es. m10)")],
    yes: Annotated[bool, typer.Option("--yes", help="non chiedere conferma")] = False,
    delete_readings: Annotated[
        bool,
        typer.Option(
            "--delete-readings",
            help="cancella anche le letture dei POD del socio (solo con l'accordo della comunita': le ripartizioni "
            "passate non si potranno piu' ricalcolare)",
        ),
    ] = False,
    keep_other_texts: Annotated[
        bool,
        typer.Option(
            "--keep-other-texts",
            help="non modificare i dati fuori dai registri del socio (sportello, iscrizioni, verbali...): solo "
            "segnalarli",
        ),
    ] = False,
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Cancella i dati personali di un socio (art. 17 GDPR): nome sostituito da uno pseudonimo, email, IBAN e
    account rimossi; ripartizioni e pagamenti restano, pseudonimizzati, per gli obblighi contabili (art. 2220 c.c.).
    Anche fuori dai registri del socio: richieste allo sportello, iscrizioni agli eventi e profili con la sua email
    pseudonimizzati; nome, email e IBAN nei testi (ordini del giorno, note...) sostituiti, il resto del testo resta.
    """
    from condivisa.store import audit
    from condivisa.store.gdpr import erase_member

    if not yes and not typer.confirm(
        f"Cancellare i dati personali del socio {member} della comunita' {community_id}? L'operazione e' definitiva"
    ):
        typer.echo("Nessuna modifica.", err=True)
        raise typer.Exit(1)

    def run() -> None:
        engine = _engine(db)
        try:
            with audit.actor(label="cli"), session_factory(engine)() as session:
                report = erase_member(
                    session,
                    community_id,
                    member,
                    delete_readings=delete_readings,
                    scrub_texts=not keep_other_texts,
                )
        finally:
            engine.dispose()
        changed = ", ".join(f"{k} {v}" for k, v in report.changed.items() if v)
        typer.echo(f"Socio {report.member} cancellato: ora '{report.pseudonym}'. Righe modificate: {changed}")
        for warning in report.warnings:
            err.print(f"[yellow]{warning}[/yellow]")
        if report.remaining:
            err.print("[yellow]Dati ancora presenti (motivi negli avvisi sopra; verificare a mano):[/yellow]")
            for hit in report.remaining:
                err.print(f"  {hit.table}.{hit.column} riga {hit.key}")

    _db_guard(run)


@audit_app.command("list")
def audit_list_cmd(
    community_id: Annotated[int | None, typer.Option("--community", help="solo questa comunita'")] = None,
    object_type: Annotated[str | None, typer.Option("--object", help="solo questa tabella (es. members)")] = None,
    limit: Annotated[int, typer.Option("--limit", help="quante voci, dalle piu' recenti")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON su stdout")] = False,
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Elenca le ultime voci del registro delle modifiche."""
    from condivisa.store.audit import list_entries

    def run() -> list[dict[str, object]]:
        engine = _engine(db)
        try:
            return [
                e.as_dict()
                for e in list_entries(engine, community_id=community_id, object_type=object_type, limit=limit)
            ]
        finally:
            engine.dispose()

    entries = _db_guard(run)
    if as_json:
        sys.stdout.write(json.dumps(entries, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title="Registro delle modifiche")
    for column in ("Id", "Quando (UTC)", "Utente", "Canale", "Azione", "Oggetto", "Comunita'", "Modifiche"):
        table.add_column(column)
    for e in entries:
        changes = json.dumps(e["changes"], ensure_ascii=False)
        table.add_row(
            str(e["id"]),
            str(e["at"])[:19].replace("T", " "),
            "" if e["user_id"] is None else str(e["user_id"]),
            str(e["actor"]),
            str(e["action"]),
            f"{e['object_type']} {e['object_id'] or ''}".strip(),
            "" if e["community_id"] is None else str(e["community_id"]),
            changes if len(changes) <= 80 else changes[:77] + "...",
        )
    Console(width=200).print(table)


def register(app: typer.Typer) -> None:
    """Add this module's top-level commands to the ``condivisa`` command line."""
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
    app.add_typer(gdpr_app, name="gdpr", help="GDPR: esportazione e cancellazione dei dati di un socio.")
    app.add_typer(audit_app, name="audit", help="Registro delle modifiche: chi ha cambiato cosa.")
