"""``condivisa pay``: pay members a stored settlement (SEPA file), their statements, the export for billing.

Every command takes ``--db URL`` (default: ``CONDIVISA_DATABASE_URL``, else ``sqlite:///condivisa.db``) and a
stored settlement's id (``condivisa db list --community ID``). Bad input exits with 2 naming the option; files
are written atomically.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from condivisa.cli.common import write_atomic
from condivisa.cli.db import DbUrl, _db_guard, _engine
from condivisa.errors import InputError, Problem
from condivisa.report.billing import BillingMember, billing_csv
from condivisa.report.statement import format_cents, render_statement_html, render_statement_pdf, statement_for
from condivisa.store import DEFAULT_URL, NotFoundError, get_settlement, load_community, session_factory
from condivisa.store.payments import PreparedBatch, prepare_payment_batch

pay_app = typer.Typer(
    help="Pagamenti ai soci: bonifici SEPA di una ripartizione, estratti conto, esportazione per la fatturazione.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)

SettlementOption = Annotated[int, typer.Option("--settlement", help="id della ripartizione salvata")]

_OPTION_OF_FIELD = {
    "debtor_name": "--debtor-name",
    "debtor_iban": "--debtor-iban",
    "debtor_bic": "--debtor-bic",
    "message_id": "--message-id",
    "execution_date": "--execution-date",
    "settlement": "--settlement",
}


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a binary file all at once: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parse_day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InputError.one(f"data {value!r} non valida: atteso AAAA-MM-GG", field=option) from exc


@pay_app.command("sepa")
def sepa_cmd(
    settlement: SettlementOption,
    debtor_name: Annotated[str, typer.Option("--debtor-name", help="intestatario del conto della comunita'")],
    debtor_iban: Annotated[str, typer.Option("--debtor-iban", help="IBAN del conto della comunita'")],
    execution_date: Annotated[str, typer.Option("--execution-date", help="data di esecuzione AAAA-MM-GG")],
    out: Annotated[Path, typer.Option("--out", help="file XML pain.001 da scrivere")],
    debtor_bic: Annotated[str | None, typer.Option("--debtor-bic", help="BIC della banca della comunita'")] = None,
    message_id: Annotated[
        str | None, typer.Option("--message-id", help="identificativo del messaggio (predefinito: generato)")
    ] = None,
    again: Annotated[
        bool, typer.Option("--again", help="prepara un'altra distinta per una ripartizione che ne ha gia' una")
    ] = False,
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Prepara il file SEPA (pain.001) dei bonifici ai soci di una ripartizione e lo registra."""

    def run() -> PreparedBatch:
        when = _parse_day(execution_date, "--execution-date")
        out.parent.mkdir(parents=True, exist_ok=True)
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                try:
                    batch = prepare_payment_batch(
                        session,
                        settlement,
                        debtor_name,
                        debtor_iban,
                        debtor_bic,
                        when,
                        message_id=message_id,
                        again=again,
                    )
                except InputError as exc:
                    raise InputError(
                        [
                            Problem(p.message, p.file, p.row, _OPTION_OF_FIELD.get(p.field or "", p.field))
                            for p in exc.problems
                        ]
                    ) from exc
        finally:
            engine.dispose()
        _write_bytes_atomic(out, batch.xml)
        return batch

    batch = _db_guard(run)
    total = format_cents(batch.total_cents)
    typer.echo(f"Distinta {batch.batch_id} ({batch.message_id}): {batch.count} bonifici, totale {total}")
    typer.echo(f"file {out}, SHA-256 {batch.file_sha256}; registro voce {batch.ledger_seq}")
    for recipient, cents in batch.not_paid.items():
        err.print(f"Non pagato con questo file: {recipient} {format_cents(cents)}")
    if batch.skipped:
        err.print(f"Soci con importo zero, esclusi: {', '.join(batch.skipped)}")


@pay_app.command("statement")
def statement_cmd(
    settlement: SettlementOption,
    member: Annotated[str, typer.Option("--member", help="codice del socio (es. m01)")],
    out: Annotated[Path, typer.Option("--out", help="file .pdf o .html da scrivere")],
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Scrive l'estratto conto di un socio per una ripartizione (PDF o HTML)."""

    def run() -> None:
        suffix = out.suffix.lower()
        if suffix not in (".pdf", ".html", ".htm"):
            raise InputError.one(f"estensione {out.suffix!r} non gestita: usare .pdf o .html", field="--out")
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                st = statement_for(session, settlement, member)
        finally:
            engine.dispose()
        if suffix == ".pdf":
            _write_bytes_atomic(out, render_statement_pdf(st))
        else:
            write_atomic(out, render_statement_html(st))

    _db_guard(run)
    typer.echo(f"Estratto conto del socio {member} scritto in {out}")


@pay_app.command("billing")
def billing_cmd(
    settlement: SettlementOption,
    out: Annotated[Path, typer.Option("--out", help="file CSV da scrivere (separatore ;)")],
    decimal: Annotated[str, typer.Option("--decimal", help="separatore decimale: , (fogli di calcolo) o .")] = ",",
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Esporta per la fatturazione una riga per socio e POD: periodo, energia prelevata e condivisa, importo."""

    def run() -> int:
        if decimal not in (",", "."):
            raise InputError.one(f"separatore {decimal!r} non ammesso: ',' o '.'", field="--decimal")
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                stored = get_settlement(session, settlement)
                if stored is None:
                    raise NotFoundError(f"ripartizione {settlement} non trovata")
                community = load_community(session, stored.community_id)
        finally:
            engine.dispose()
        members = [BillingMember(m.id, m.name, tuple(p.pod for p in m.pods)) for m in community.members]
        text = billing_csv(stored.document, members, settlement_id=settlement, decimal=decimal)
        write_atomic(out, text)
        return text.count("\n") - 1

    rows = _db_guard(run)
    typer.echo(f"{rows} righe scritte in {out}")
