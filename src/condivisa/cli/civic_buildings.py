"""``condivisa civic`` commands of the buildings service: import the building table, rank, write the report.

Exit codes: 0 ok; 2 bad input (a message naming file, row and field; nothing stored or written); 1 a database
that cannot be reached.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from condivisa.cli.civic import civic_app
from condivisa.cli.db import DbUrl, _db_guard, _engine
from condivisa.errors import InputError
from condivisa.store import DEFAULT_URL, session_factory

Slug = Annotated[str, typer.Argument(help="il comune, come in /comune/SLUG (creato con `civic add-municipality`)")]


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file all at once: a temporary file in the same folder, then a rename."""
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


def _households(values: list[str]) -> dict[str, tuple[int, float]]:
    """``CABINA=N`` or ``CABINA=N:KWH`` options -> {cabina: (households, kWh each)}."""
    from condivisa.civic.buildings import DEFAULT_HOUSEHOLD_KWH

    out: dict[str, tuple[int, float]] = {}
    for i, text in enumerate(values):
        cabina, sep, rest = text.partition("=")
        count, _, kwh = rest.partition(":")
        try:
            if not sep or not cabina.strip():
                raise ValueError
            out[cabina.strip()] = (int(count), float(kwh.replace(",", ".")) if kwh else DEFAULT_HOUSEHOLD_KWH)
        except ValueError as exc:
            raise InputError.one(
                f"{text!r}: atteso CABINA=FAMIGLIE oppure CABINA=FAMIGLIE:KWH (per esempio AC001E00123=40:2700)",
                field=f"--households[{i}]",
            ) from exc
    return out


@civic_app.command("buildings-import")
def buildings_import_cmd(
    slug: Slug,
    file: Annotated[Path, typer.Argument(help="elenco degli edifici: CSV o GeoJSON")],
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Importa gli edifici pubblici del comune (un codice già presente viene aggiornato)."""
    from condivisa.civic.buildings import read_buildings
    from condivisa.store.buildings import import_buildings
    from condivisa.store.municipalities import municipality_by_slug

    def run() -> str:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except FileNotFoundError as exc:
            raise InputError.one("file non trovato", file=str(file)) from exc
        except UnicodeDecodeError as exc:
            raise InputError.one("il file non è testo UTF-8", file=str(file)) from exc
        except OSError as exc:
            raise InputError.one(f"file non leggibile: {exc.strerror}", file=str(file)) from exc
        buildings = read_buildings(text, str(file))
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                municipality = municipality_by_slug(session, slug)
                summary = import_buildings(session, municipality.id, buildings, source=file.name)
        finally:
            engine.dispose()
        return (
            f"{municipality.name}: {len(summary.created)} edifici nuovi, {len(summary.updated)} aggiornati; "
            f"calcolare la classifica con `condivisa civic buildings-rank {slug}`"
        )

    typer.echo(_db_guard(run))


@civic_app.command("buildings-rank")
def buildings_rank_cmd(
    slug: Slug,
    db: DbUrl = DEFAULT_URL,
    json_out: Annotated[str | None, typer.Option("--json", help="scrive il documento JSON (- per stdout)")] = None,
    households: Annotated[
        list[str] | None,
        typer.Option("--households", help="famiglie candidate: CABINA=N oppure CABINA=N:KWH (ripetibile)"),
    ] = None,
    capex: Annotated[float | None, typer.Option(help="investimento [€/kWp], predefinito 1.300")] = None,
    energy_price: Annotated[
        float | None, typer.Option(help="prezzo dell'energia risparmiata [€/kWh], predefinito 0,20")
    ] = None,
    grant_share: Annotated[float | None, typer.Option(help="contributo in conto capitale, da 0 a 0,40")] = None,
) -> None:
    """Calcola potenziale FV, energia condivisa, incentivo, punteggio e classifica degli edifici e li salva."""
    import dataclasses
    import json
    import sys

    from rich.console import Console
    from rich.table import Table

    from condivisa.civic.buildings import Households, Parameters, ranking_document
    from condivisa.cli.common import write_atomic
    from condivisa.store.buildings import list_buildings, rank_municipality, set_households
    from condivisa.store.municipalities import municipality_by_slug

    def run() -> tuple[dict[str, object], str]:
        homes = _households(households or [])
        try:
            changes = {
                k: v
                for k, v in {
                    "capex_eur_per_kwp": capex,
                    "energy_price_eur_kwh": energy_price,
                    "grant_share": grant_share,
                }.items()
                if v is not None
            }
            params = dataclasses.replace(Parameters(), **changes)  # type: ignore[arg-type]
            checked = {c: Households(n, kwh) for c, (n, kwh) in homes.items()}
        except ValueError as exc:
            raise InputError.one(str(exc)) from exc
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                municipality = municipality_by_slug(session, slug)
                for cabina, home in checked.items():
                    set_households(session, municipality.id, cabina, home)
                try:
                    assessment = rank_municipality(session, municipality, params=params)
                except ValueError as exc:
                    raise InputError.one(str(exc)) from exc
                buildings = list_buildings(session, municipality.id)
        finally:
            engine.dispose()
        return ranking_document(assessment, buildings), municipality.name

    doc, name = _db_guard(run)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if json_out == "-":
        sys.stdout.write(text)
        return
    table = Table(title=f"Edifici pubblici di {name}")
    for col in ("#", "codice", "edificio", "kWp", "kWh/kWp", "autoconsumo kWh", "condivisa kWh", "€/anno", "punti"):
        table.add_column(col, justify="right" if col not in ("codice", "edificio") else "left")
    items = doc["buildings"]
    assert isinstance(items, list)
    for b in items:
        table.add_row(
            str(b["rank"]),
            b["code"],
            b["name"],
            f"{b['kwp']:,.1f}",
            f"{b['yield_kwh_kwp']:,.0f}",
            f"{b['self_kwh']:,.0f}",
            f"{b['shared_kwh']:,.0f}",
            f"{b['incentive_eur']:,.0f}",
            f"{b['score']:.1f}",
        )
    Console().print(table)
    if json_out:
        write_atomic(Path(json_out), text)
        typer.echo(f"Documento JSON scritto in {json_out}", err=True)


@civic_app.command("buildings-report")
def buildings_report_cmd(
    slug: Slug,
    out: Annotated[Path, typer.Option("--out", help="rapporto da scrivere: .pdf oppure .html")],
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Scrive il rapporto sugli edifici pubblici (italiano, con ipotesi e fonti) in PDF o HTML.

    Senza una classifica salvata la calcola prima.
    """
    from condivisa.store.buildings import load_ranking, rank_municipality
    from condivisa.store.municipalities import municipality_by_slug
    from condivisa.web.civic_buildings import render_report_html, render_report_pdf

    suffix = out.suffix.lower()

    def run() -> str:
        if suffix not in (".pdf", ".html", ".htm"):
            raise InputError.one("estensione non riconosciuta: attesi .pdf oppure .html", field="--out")
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                municipality = municipality_by_slug(session, slug)
                ranking = load_ranking(session, municipality.id)
                if not ranking.entries:
                    raise InputError.one(f"il comune {municipality.name} non ha edifici: importarli prima")
                if not ranking.assessed:
                    rank_municipality(session, municipality)
                    ranking = load_ranking(session, municipality.id)
        finally:
            engine.dispose()
        if suffix == ".pdf":
            _write_bytes_atomic(out, render_report_pdf(municipality, ranking))
        else:
            _write_bytes_atomic(out, render_report_html(municipality, ranking).encode("utf-8"))
        return f"Rapporto scritto in {out}"

    typer.echo(_db_guard(run))
