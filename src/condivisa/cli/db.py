"""``condivisa db``: the database from the command line (schema, imports, settlements from stored data).

Every command takes ``--db URL`` (default: the environment variable ``CONDIVISA_DATABASE_URL``, else
``sqlite:///condivisa.db``). Bad input exits with 2 and writes nothing: files are read and checked before the
database is touched, and each write is one transaction. A database that cannot be reached exits with 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, OperationalError

from condivisa.cli.common import emit_settlement
from condivisa.cli.common import guard as _guard
from condivisa.engine.settle import Settlement, default_period, parse_day, settle
from condivisa.engine.timegrid import Period
from condivisa.errors import InputError
from condivisa.ingest import Readings, read_prices_csv, read_readings_csv
from condivisa.model import load_community as load_community_file
from condivisa.report import settlement_document
from condivisa.rules.checks import check_community, check_coverage
from condivisa.rules.rulebook import zone_of_region
from condivisa.store import (
    DEFAULT_URL,
    NotFoundError,
    current_revision,
    head_revision,
    import_prices,
    import_readings,
    list_communities,
    list_settlements,
    load_community,
    load_prices,
    load_readings,
    make_engine,
    save_community,
    save_settlement,
    session_factory,
    upgrade,
)
from condivisa.store.db import normalise_url

ENV_URL = "CONDIVISA_DATABASE_URL"

db_app = typer.Typer(
    help="Database: schema, import di comunita', letture e prezzi, ripartizioni calcolate dai dati salvati.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)
T = TypeVar("T")

DbUrl = Annotated[
    str,
    typer.Option(
        "--db",
        envvar=ENV_URL,
        show_envvar=True,
        help="URL del database (sqlite:///file.db, postgresql+psycopg://utente@host/db)",
    ),
]


def _shown(url: str) -> str:
    """The URL with its password masked, for messages."""
    try:
        return normalise_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _db_guard(fn: Callable[[], T]) -> T:
    """Run ``fn`` under :func:`condivisa.cli.common.guard`; a missing id is bad input (2), an unreachable or
    failing database exits with 1."""

    def run() -> T:
        try:
            return fn()
        except NotFoundError as exc:
            raise InputError.one(str(exc)) from exc
        except ArgumentError as exc:
            raise InputError.one(f"URL del database non valido: {exc}", field="--db") from exc

    try:
        return _guard(run)
    except OperationalError as exc:
        typer.echo(f"Errore del database: {exc.orig or exc}", err=True)
        raise typer.Exit(1) from exc


def _engine(url: str) -> Engine:
    """An engine on a database already at the latest revision (else bad input: run ``condivisa db upgrade``)."""
    parsed = normalise_url(url)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not Path(path).exists():
        raise InputError.one(
            f"il database {parsed.database} non esiste: crearlo con `condivisa db upgrade --db {_shown(url)}`",
            field="--db",
        )
    engine = make_engine(parsed)
    found, head = current_revision(url), head_revision()
    if found != head:
        engine.dispose()
        state = "vuoto" if found is None else f"alla revisione {found}"
        raise InputError.one(
            f"il database {_shown(url)} e' {state}, serve la revisione {head}: eseguire `condivisa db upgrade`",
            field="--db",
        )
    return engine


@db_app.command("upgrade")
def upgrade_cmd(db: DbUrl = DEFAULT_URL) -> None:
    """Crea o aggiorna lo schema del database all'ultima revisione."""
    revision = _db_guard(lambda: upgrade(db))
    err.print(f"Database {_shown(db)} alla revisione {revision}")


@db_app.command("import-community")
def import_community_cmd(
    community_file: Annotated[Path, typer.Argument(help="file YAML della comunita'")],
    db: DbUrl = DEFAULT_URL,
    municipality: Annotated[
        str | None, typer.Option("--municipality", help="comune i cui funzionari possono consultarla")
    ] = None,
) -> None:
    """Salva la descrizione di una comunita' (la sostituisce se il nome esiste gia'); stampa il suo id."""

    def run() -> tuple[int, list[str]]:
        community = load_community_file(community_file)
        problems, warnings = check_community(community, source=str(community_file))
        if problems:
            raise InputError(problems)
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                community_id = save_community(session, community, municipality=municipality, source=str(community_file))
        finally:
            engine.dispose()
        return community_id, warnings

    community_id, warnings = _db_guard(run)
    for w in warnings:
        err.print(f"[yellow]Avviso:[/yellow] {w}")
    err.print(f"Comunita' salvata con id {community_id}")
    typer.echo(community_id)


@db_app.command("import-readings")
def import_readings_cmd(
    community_id: Annotated[int, typer.Argument(help="id della comunita' (condivisa db list)")],
    readings_file: Annotated[Path, typer.Argument(help="letture CSV pod,timestamp,withdrawn_kwh,injected_kwh")],
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Importa le letture di una comunita': reimportare lo stesso file non cambia nulla, le correzioni sostituiscono."""

    def run() -> tuple[Any, list[str]]:
        readings = read_readings_csv(readings_file)
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                community = load_community(session, community_id)
            result = import_readings(engine, community_id, readings, source=str(readings_file))
        finally:
            engine.dispose()
        return result, check_coverage(community, readings.pods)

    result, warnings = _db_guard(run)
    for w in warnings:
        err.print(f"[yellow]Avviso:[/yellow] {w}")
    typer.echo(
        f"letture {result.rows_in}: inserite {result.inserted}, aggiornate {result.updated}, "
        f"invariate {result.unchanged}"
    )


METER_FORMATS = ("edist-wide", "pcf-long", "mapped", "long")


def read_meter_file(
    path: Path, fmt: str, *, pod: str | None = None, direction: str | None = None, mapping: Path | None = None
) -> Readings:
    """Read a meter file leniently (row problems become quarantine entries), by format name.

    ``edist-wide`` takes POD and curve from ``--pod``/``--direction`` or from the file name
    (``edist-wide_<POD>_<prelievo|immissione>_...``); ``mapped`` needs a TOML ``--mapping`` whose keys are the
    fields of :class:`condivisa.ingest.distributors.ColumnMapping`; ``long`` is Condivisa's own CSV (strict).
    """
    from condivisa.ingest.distributors import (
        ColumnMapping,
        parse_edistribuzione_wide,
        parse_mapped_csv,
        parse_pcf_long,
        pod_and_direction_from_filename,
    )

    if fmt == "pcf-long":
        return parse_pcf_long(path, name=str(path), lenient=True)
    if fmt == "edist-wide":
        p, d = (pod, direction) if pod and direction else pod_and_direction_from_filename(path.name)
        if d not in ("withdrawn", "injected"):
            raise InputError.one("direzione: withdrawn oppure injected", field="--direction")
        return parse_edistribuzione_wide(path, pod=p, direction=d, name=str(path), lenient=True)  # type: ignore[arg-type]
    if fmt == "mapped":
        if mapping is None:
            raise InputError.one("il formato mapped richiede --mapping FILE.toml", field="--mapping")
        import tomllib

        try:
            options = tomllib.loads(mapping.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputError.one(f"mappatura non leggibile: {exc}", file=str(mapping)) from exc
        known = set(ColumnMapping.__dataclass_fields__)
        unknown = sorted(set(options) - known)
        if unknown:
            raise InputError.one(
                f"chiavi sconosciute: {', '.join(unknown)}; ammesse: {', '.join(sorted(known))}", file=str(mapping)
            )
        return parse_mapped_csv(path, ColumnMapping(**options), name=str(path), lenient=True)
    if fmt == "long":
        return read_readings_csv(path)
    raise InputError.one(f"formato sconosciuto {fmt!r}: {', '.join(METER_FORMATS)}", field="--format")


@db_app.command("import-meter")
def import_meter_cmd(
    community_id: Annotated[int, typer.Argument(help="id della comunita' (condivisa db list)")],
    files: Annotated[list[Path], typer.Argument(help="file dei distributori (uno o piu')")],
    fmt: Annotated[str, typer.Option("--format", help="edist-wide, pcf-long, mapped (con --mapping) o long")],
    db: DbUrl = DEFAULT_URL,
    pod: Annotated[str | None, typer.Option(help="POD (edist-wide; altrimenti dal nome del file)")] = None,
    direction: Annotated[str | None, typer.Option(help="withdrawn oppure injected (edist-wide)")] = None,
    mapping: Annotated[Path | None, typer.Option(help="mappatura delle colonne (TOML) per il formato mapped")] = None,
) -> None:
    """Importa curve di carico dei distributori: righe errate e POD estranei in quarantena, correzioni registrate.

    Reimportare lo stesso file non cambia le letture. File consecutivi che non si sovrappongono (per esempio i
    file mensili di e-distribuzione) sono importati insieme in una transazione; un file che ripete intervalli
    di uno precedente ne apre una nuova, cosi' le sue correzioni sono registrate come tali.
    """
    from condivisa.store.quarantine import import_meter_files

    def run() -> list[Any]:
        readings = [(str(f), read_meter_file(f, fmt, pod=pod, direction=direction, mapping=mapping)) for f in files]
        engine = _engine(db)
        try:
            return import_meter_files(engine, community_id, readings)
        finally:
            engine.dispose()

    for group in _db_guard(run):
        result = group.result
        for note in result.notes[:50]:
            err.print(f"[yellow]Nota:[/yellow] {note}")
        names = group.sources
        what = (
            names[0]
            if len(names) == 1
            else f"{len(names)} file ({', '.join(names) if len(names) <= 3 else f'{names[0]} ... {names[-1]}'})"
        )
        typer.echo(
            f"{what}: inserite {result.inserted}, corrette {result.updated}, invariate {result.unchanged}, "
            f"in quarantena {result.quarantined}"
        )


quarantine_app = typer.Typer(help="Letture in quarantena: elenco, rilascio, scarto.", no_args_is_help=True)
db_app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("list")
def quarantine_list_cmd(
    community_id: Annotated[int, typer.Argument(help="id della comunita'")],
    db: DbUrl = DEFAULT_URL,
    status: Annotated[str, typer.Option(help="open, released, discarded o all")] = "open",
) -> None:
    """Elenca le letture trattenute con file, riga, campo e motivo."""
    from condivisa.store.quarantine import list_quarantine

    def run() -> Table:
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                items = list_quarantine(session, community_id, status=None if status == "all" else status)
        finally:
            engine.dispose()
        table = Table("id", "fonte", "riga", "campo", "POD", "istante", "motivo", "stato")
        for q in items:
            table.add_row(
                str(q.id),
                q.source,
                "" if q.row is None else str(q.row),
                q.field or "",
                q.pod or "",
                q.ts.isoformat() if q.ts else "",
                q.reason,
                q.status,
            )
        return table

    Console().print(_db_guard(run))


@quarantine_app.command("release")
def quarantine_release_cmd(
    community_id: Annotated[int, typer.Argument(help="id della comunita'")],
    ids: Annotated[list[int] | None, typer.Argument(help="id da rilasciare (default: tutte le aperte)")] = None,
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Salva le letture in quarantena ora utilizzabili (es. dopo aver aggiunto il POD alla comunita')."""
    from condivisa.store.quarantine import release_quarantined

    def run() -> Any:
        engine = _engine(db)
        try:
            return release_quarantined(engine, community_id, ids or None)
        finally:
            engine.dispose()

    result = _db_guard(run)
    for entry, why in result.still_held[:50]:
        err.print(f"[yellow]Trattenuta {entry}:[/yellow] {why}")
    typer.echo(f"rilasciate {result.released}, ancora trattenute {len(result.still_held)}")


@quarantine_app.command("discard")
def quarantine_discard_cmd(
    community_id: Annotated[int, typer.Argument(help="id della comunita'")],
    ids: Annotated[list[int], typer.Argument(help="id da scartare")],
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Scarta letture in quarantena (restano registrate come scartate)."""
    from condivisa.store.quarantine import discard_quarantined

    def run() -> int:
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                return discard_quarantined(session, community_id, ids)
        finally:
            engine.dispose()

    typer.echo(f"scartate {_db_guard(run)}")


@db_app.command("import-prices")
def import_prices_cmd(
    prices_file: Annotated[Path, typer.Argument(help="prezzi orari CSV timestamp,zone,price_eur_mwh")],
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Importa prezzi orari zonali (o PUN); reimportarli non cambia nulla."""

    def run() -> Any:
        prices = read_prices_csv(prices_file)
        engine = _engine(db)
        try:
            return import_prices(engine, prices, source=str(prices_file))
        finally:
            engine.dispose()

    result = _db_guard(run)
    typer.echo(
        f"prezzi {result.rows_in}: inseriti {result.inserted}, aggiornati {result.updated}, "
        f"invariati {result.unchanged}"
    )


def period_of(month: str | None, year: int | None, date_from: str | None, date_to: str | None) -> Period | None:
    """The settlement period from ``--month AAAA-MM``, ``--year AAAA`` or ``--from``/``--to`` (one of them)."""
    given = [name for name, v in (("--month", month), ("--year", year), ("--from/--to", date_from or date_to)) if v]
    if len(given) > 1:
        raise InputError.one(f"indicare uno solo tra {', '.join(given)}", field=given[0])
    if month:
        try:
            first = dt.date.fromisoformat(month + "-01")
        except ValueError as exc:
            raise InputError.one(f"mese non valido {month!r}: atteso AAAA-MM", field="--month") from exc
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return Period(first, following - dt.timedelta(days=1))
    if year is not None:
        if not 2000 <= year <= 2100:
            raise InputError.one(f"anno non valido {year}", field="--year")
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31))
    return None


def _settle_stored(
    db: str,
    community_id: int,
    date_from: str | None,
    date_to: str | None,
    month: str | None = None,
    year: int | None = None,
) -> tuple[Settlement, dict[str, Any], int]:
    period = period_of(month, year, date_from, date_to)
    if period is None and (date_from or date_to):
        if not (date_from and date_to):
            raise InputError.one("indicare sia --from sia --to", field="--from/--to")
        try:
            period = Period(parse_day(date_from, field_name="--from"), parse_day(date_to, field_name="--to"))
        except ValueError as exc:
            raise InputError.one(str(exc), field="--from/--to") from exc
    engine = _engine(db)
    try:
        sessions = session_factory(engine)
        with sessions() as session:
            community = load_community(session, community_id)
        if period is not None:
            readings = load_readings(engine, community_id, start=period.start_utc, end=period.end_utc)
        else:
            readings = load_readings(engine, community_id)
            pods = {pt.pod for _, pt in community.points()} | {p.pod for p in community.plants}
            period = default_period(readings, pods)
        try:
            zones = [zone_of_region(community.region), "PUN"]
        except ValueError:
            zones = ["PUN"]  # settle() itself reports the unknown region
        prices = load_prices(engine, zones=zones, start=period.start_utc, end=period.end_utc)
        settlement = settle(
            community,
            readings,
            prices if len(prices.frame) else None,
            period=period,
            source=f"comunita' {community_id}",
        )
        document = settlement_document(settlement)
        with sessions() as session:
            settlement_id = save_settlement(session, community_id, document, settlement.allocation.lines)
    finally:
        engine.dispose()
    return settlement, document, settlement_id


@db_app.command("settle")
def settle_cmd(
    community_id: Annotated[int, typer.Argument(help="id della comunita' (condivisa db list)")],
    date_from: Annotated[str | None, typer.Option("--from", help="primo giorno AAAA-MM-GG")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="ultimo giorno AAAA-MM-GG (incluso)")] = None,
    month: Annotated[str | None, typer.Option("--month", help="un mese AAAA-MM (liquidazione mensile)")] = None,
    year: Annotated[int | None, typer.Option("--year", help="un anno solare AAAA (liquidazione annuale)")] = None,
    json_out: Annotated[str | None, typer.Option("--json", help="scrive il documento JSON (- per stdout)")] = None,
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Calcola la ripartizione di un periodo dai dati salvati (comunita', letture, prezzi) e la salva.

    Il periodo e' un mese (--month), un anno (--year), un intervallo (--from/--to) o, senza opzioni, i giorni
    coperti dalle letture. La liquidazione annuale e' quella su cui si verificano le soglie annuali (eccedenze).
    """
    settlement, document, settlement_id = _db_guard(
        lambda: _settle_stored(db, community_id, date_from, date_to, month, year)
    )
    emit_settlement(settlement, json_out, document=document)
    err.print(f"Ripartizione salvata con id {settlement_id}")


@db_app.command("list")
def list_cmd(
    db: DbUrl = DEFAULT_URL,
    community_id: Annotated[
        int | None, typer.Option("--community", help="elenca le ripartizioni salvate di questa comunita'")
    ] = None,
) -> None:
    """Elenca le comunita' salvate (o le ripartizioni di una comunita')."""

    def run() -> Table:
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                if community_id is not None:
                    load_community(session, community_id)  # NotFoundError for a wrong id
                    table = Table(title=f"Ripartizioni della comunita' {community_id}")
                    for column in ("Id", "Dal", "Al", "Totale €", "Stato", "Calcolata il"):
                        table.add_column(column)
                    for s in list_settlements(session, community_id, limit=1000):
                        table.add_row(
                            str(s.id),
                            f"{s.period_start:%d/%m/%Y}",
                            f"{s.period_end:%d/%m/%Y}",
                            f"{s.total_cents / 100:,.2f}",
                            s.status,
                            f"{s.created_at:%d/%m/%Y %H:%M} UTC",
                        )
                    return table
                table = Table(title="Comunita'")
                for column in ("Id", "Nome", "Tipo", "Regione", "Comune", "Soci", "Aggiornata il"):
                    table.add_column(column)
                for c in list_communities(session, limit=10_000):
                    table.add_row(
                        str(c.id),
                        c.name,
                        c.configuration,
                        c.region,
                        c.municipality or "",
                        str(c.members),
                        f"{c.updated_at:%d/%m/%Y %H:%M} UTC",
                    )
                return table
        finally:
            engine.dispose()

    Console(width=160).print(_db_guard(run))
