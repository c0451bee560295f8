"""``condivisa`` command line. Each command parses arguments, calls the core, prints; bad input exits with 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from condivisa.cli.common import emit_settlement as _emit
from condivisa.cli.common import guard as _guard
from condivisa.cli.common import write_atomic
from condivisa.engine.settle import Settlement, parse_day, settle
from condivisa.engine.timegrid import Period
from condivisa.errors import InputError
from condivisa.ingest import read_prices_csv, read_readings_csv
from condivisa.model import load_community
from condivisa.rules.checks import check_community, check_coverage

app = typer.Typer(
    help="Condivisa: comunita' energetiche rinnovabili (CER, AUC, AID) - ripartizione oraria e incentivi.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)


def _run_settlement(
    community_file: Path,
    readings_file: Path,
    prices_file: Path | None,
    date_from: str | None,
    date_to: str | None,
) -> Settlement:
    community = load_community(community_file)
    readings = read_readings_csv(readings_file)
    prices = read_prices_csv(prices_file) if prices_file else None
    period = None
    if date_from or date_to:
        if not (date_from and date_to):
            raise InputError.one("indicare sia --from sia --to", field="--from/--to")
        try:
            period = Period(parse_day(date_from, field_name="--from"), parse_day(date_to, field_name="--to"))
        except ValueError as exc:
            raise InputError.one(str(exc), field="--from/--to") from exc
    return settle(community, readings, prices, period=period, source=str(community_file))


@app.command("settle")
def settle_cmd(
    community_file: Annotated[Path, typer.Argument(help="file YAML della comunita'")],
    readings: Annotated[
        Path, typer.Option("--readings", "-r", help="letture CSV pod,timestamp,withdrawn_kwh,injected_kwh")
    ],
    prices: Annotated[
        Path | None, typer.Option("--prices", "-p", help="prezzi orari CSV timestamp,zone,price_eur_mwh")
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="primo giorno AAAA-MM-GG")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="ultimo giorno AAAA-MM-GG (incluso)")] = None,
    json_out: Annotated[str | None, typer.Option("--json", help="scrive il documento JSON (- per stdout)")] = None,
    hourly: Annotated[Path | None, typer.Option("--hourly", help="scrive il dettaglio orario CSV")] = None,
) -> None:
    """Calcola energia condivisa, incentivi e ripartizione di un periodo."""
    result = _guard(lambda: _run_settlement(community_file, readings, prices, date_from, date_to))
    _emit(result, json_out, hourly)


@app.command("validate")
def validate_cmd(
    community_file: Annotated[Path, typer.Argument(help="file YAML della comunita'")],
    readings: Annotated[Path | None, typer.Option("--readings", "-r", help="letture CSV da controllare")] = None,
) -> None:
    """Controlla il file della comunita' (e le letture) senza calcolare nulla."""

    def run() -> list[str]:
        community = load_community(community_file)
        problems, warnings = check_community(community, source=str(community_file))
        if problems:
            raise InputError(problems)
        if readings:
            r = read_readings_csv(readings)
            warnings += check_coverage(community, r.pods)
        return warnings

    warnings = _guard(run)
    out = Console()
    out.print(f"[green]OK[/green] {community_file}" + (f" e {readings}" if readings else ""))
    for w in warnings:
        out.print(f"[yellow]Avviso:[/yellow] {w}")


@app.command("demo")
def demo_cmd(
    directory: Annotated[Path, typer.Option("--dir", help="cartella in cui scrivere la comunita' demo")] = Path(
        "demo-cer"
    ),
    year: Annotated[int, typer.Option(help="anno simulato")] = 2025,
    json_out: Annotated[str | None, typer.Option("--json", help="scrive il documento JSON (- per stdout)")] = None,
) -> None:
    """Scrive una comunita' demo realistica (un anno, vicino a Torino) e ne calcola la ripartizione."""
    from condivisa.demo import write_demo

    files = write_demo(directory, year=year)
    if json_out != "-":
        err.print(f"Comunita' demo scritta in {directory}: {', '.join(p.name for p in files.values())}")
    result = _guard(lambda: _run_settlement(files["community"], files["readings"], files["prices"], None, None))
    _emit(result, json_out if json_out else str(directory / "settlement.json"), None)


def _project_prices(prices_file: Path | None, region: str, year: int) -> tuple[Any, list[str]]:
    """Hourly zonal prices of the project's year [€/MWh] from a file, or the rulebook's monthly table."""
    import datetime as dt

    import numpy as np

    from condivisa.engine.timegrid import LOCAL_TZ
    from condivisa.rules import load_rulebook, zone_of_region

    hours = Period(dt.date(year, 1, 1), dt.date(year, 12, 31)).hours()
    zone = zone_of_region(region)
    if prices_file is not None:
        prices = read_prices_csv(prices_file)
        chosen = zone if zone in prices.zones else "PUN"
        series = prices.zone_series(chosen).reindex(hours)
        if series.isna().any():
            raise InputError.one(
                f"mancano {int(series.isna().sum())} prezzi orari dell'anno {year} (zona {chosen})",
                file=str(prices_file),
            )
        return series.to_numpy(dtype=float), [f"prezzi orari dal file {prices_file} (zona {chosen})"]
    params, _ = load_rulebook().year(year)
    month = hours.tz_convert(LOCAL_TZ).month.to_numpy()
    note = (
        f"nessun file prezzi: prezzo mensile {params.monthly_price_series} {params.year} del regolamento "
        f"({params.sources['monthly_price']}), uguale in tutte le ore del mese"
    )
    return np.asarray(params.monthly_price_eur_mwh)[month - 1], [note]


@app.command("plan")
def plan_cmd(
    project_file: Annotated[Path, typer.Argument(help="file YAML del progetto")],
    readings: Annotated[Path | None, typer.Option("--readings", "-r", help="curve di carico dei soci (CSV)")] = None,
    prices: Annotated[Path | None, typer.Option("--prices", "-p", help="prezzi orari CSV")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="cartella del rapporto")] = Path("studio-fattibilita"),
    json_out: Annotated[str | None, typer.Option("--json", help="scrive il documento JSON (- per stdout)")] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="rapporto PDF e grafici PNG")] = True,
    online: Annotated[bool, typer.Option("--online", help="scarica l'anno tipo del sito da PVGIS")] = False,
) -> None:
    """Studio di fattibilita': consumi, produzione, dimensionamento, incentivi, economia a 20 anni, regolamento."""
    from condivisa.model import load_project
    from condivisa.planning.plan import member_loads, run_plan
    from condivisa.production import typical_year
    from condivisa.production.pvgis import fetch_typical_year
    from condivisa.report.feasibility import plan_document, write_report

    def run() -> Any:
        project = load_project(project_file)
        r = read_readings_csv(readings) if readings else None
        try:
            price, notes = _project_prices(prices, project.region, project.year)
            if project.location is not None:
                weather, weather_notes = fetch_typical_year(
                    project.location.latitude, project.location.longitude, online=online or project.online_weather
                )
            else:
                weather, weather_notes = typical_year(), ["anno meteorologico tipico PVGIS vicino a Torino (incluso)"]
            loads = member_loads(project, r)
            return run_plan(project, weather, loads, price, assumptions=[*weather_notes, *notes])
        except ValueError as exc:
            raise InputError.one(str(exc), file=str(project_file)) from exc

    result = _guard(run)
    if json_out == "-":
        sys.stdout.write(json.dumps(plan_document(result), ensure_ascii=False, indent=2, default=float) + "\n")
        return
    files = write_report(result, out, png=pdf, pdf=pdf)
    if json_out:
        write_atomic(Path(json_out), files.json.read_text(encoding="utf-8"))
    console = Console()
    s = result.summary
    console.print(
        f"[bold]{result.project.name}[/bold]: " + ", ".join(f"{k} {v:,.1f} kW" for k, v in result.plant_kw.items())
    )
    console.print(
        f"Energia condivisa {result.settlement.energy.shared.sum() / 1000:,.1f} MWh/anno, incentivi "
        f"{result.settlement.allocation.total_cents / 100:,.2f} €/anno, VAN {s.npv_eur:,.0f} €"
    )
    console.print(f"Rapporto: {files.html}" + (f", {files.pdf}" if files.pdf else "") + f", {files.json}")
    for w in files.warnings:
        err.print(f"[yellow]Avviso:[/yellow] {w}")


@app.command("configurations")
def configurations_cmd(
    project_file: Annotated[Path, typer.Argument(help="file YAML del progetto")],
    readings: Annotated[Path | None, typer.Option("--readings", "-r", help="curve di carico dei soci (CSV)")] = None,
) -> None:
    """Configurazioni possibili (CER per zona, AUC per edificio, AID per cliente) e nuovi soci da invitare."""
    import datetime as dt

    from rich.table import Table

    from condivisa.model import load_project
    from condivisa.planning.finder import CandidateMember, CandidatePlant, find_configurations, rank_recruits
    from condivisa.planning.plan import member_loads, unit_production
    from condivisa.production import typical_year
    from condivisa.report.italian import format_eur, format_number

    def run() -> tuple[dict[str, Any], Any]:
        project = load_project(project_file)
        try:
            hours = Period(dt.date(project.year, 1, 1), dt.date(project.year, 12, 31)).hours()
            loads = member_loads(project, read_readings_csv(readings) if readings else None)
            unit = unit_production(project, typical_year(), hours)
            region = project.region
            members = [
                CandidateMember(m.id, m.kind, m.cabina, m.region or region, loads[m.id], m.building)
                for m in project.members
            ]
            plants = [
                CandidatePlant(p.id, p.cabina, region, unit[p.id] * p.upper_kw, owner=p.owner) for p in project.plants
            ]
            found = {
                kind: find_configurations(
                    [m for m, spec in zip(members, project.members, strict=True) if not spec.candidate], plants, kind
                )
                for kind in ("CER", "AUC", "AID")
            }
            price, _ = _project_prices(None, region, project.year)
            from condivisa.planning.plan import incentive_row
            from condivisa.rules import load_rulebook

            cu_af = load_rulebook().year(project.year)[0].cu_af_eur_mwh
            ranking = rank_recruits(
                [m for m, spec in zip(members, project.members, strict=True) if not spec.candidate],
                plants,
                [m for m, spec in zip(members, project.members, strict=True) if spec.candidate],
                incentive_row(project, price, cu_af, max(p.upper_kw for p in project.plants)),
            )
            return found, ranking
        except ValueError as exc:
            raise InputError.one(str(exc), file=str(project_file)) from exc

    found, ranking = _guard(run)
    out = Console()
    table = Table(title="Configurazioni possibili (impianti alla taglia massima)")
    for column in ("Tipo", "Perimetro", "Soci", "Impianti", "Energia incentivata", "Note"):
        table.add_column(column)
    for kind, proposals in found.items():
        for pr in proposals:
            table.add_row(
                kind,
                pr.key,
                str(len(pr.members)),
                ", ".join(pr.plants),
                f"{format_number(pr.incentivised_kwh / 1000, 1)} MWh",
                "; ".join(pr.notes),
            )
    out.print(table)
    table = Table(title="Nuovi soci da invitare")
    for column in ("Candidato", "Cabina", "Energia incentivata aggiunta", "Incentivi aggiunti", "Perche'"):
        table.add_column(column)
    for _, row in ranking.iterrows():
        table.add_row(
            str(row["id"]),
            str(row["cabina"]),
            f"{format_number(row['added_kwh'], 0)} kWh",
            format_eur(row["added_eur"]),
            str(row["reason"]),
        )
    out.print(table)


@app.command("convert")
def convert_cmd(
    source: Annotated[Path, typer.Argument(help="file del distributore")],
    fmt: Annotated[str, typer.Option("--format", help="edist-wide (e-distribuzione) oppure pcf-long (Unareti, ...)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="letture nel formato lungo di Condivisa (CSV)")],
    pod: Annotated[str | None, typer.Option(help="POD (edist-wide; altrimenti dal nome del file)")] = None,
    direction: Annotated[str | None, typer.Option(help="withdrawn oppure injected (edist-wide)")] = None,
) -> None:
    """Converte una curva di carico del distributore nel CSV di letture di Condivisa, segnalando lacune e problemi."""
    from condivisa.ingest.distributors import (
        parse_edistribuzione_wide,
        parse_pcf_long,
        pod_and_direction_from_filename,
    )
    from condivisa.ingest.readings import write_readings_csv

    def run() -> Any:
        if fmt == "pcf-long":
            return parse_pcf_long(source, name=str(source))
        if fmt == "edist-wide":
            p, d = (pod, direction) if pod and direction else pod_and_direction_from_filename(source.name)
            if d not in ("withdrawn", "injected"):
                raise InputError.one("direzione: withdrawn oppure injected", field="--direction")
            return parse_edistribuzione_wide(source, pod=p, direction=d, name=str(source))  # type: ignore[arg-type]
        raise InputError.one("formato sconosciuto: edist-wide oppure pcf-long", field="--format")

    readings = _guard(run)
    write_readings_csv(readings, out)
    console = Console()
    console.print(f"{len(readings.frame):n} letture di {len(readings.pods)} POD scritte in {out}")
    for note in readings.notes:
        console.print(f"[yellow]Nota:[/yellow] {note}")


@app.command("rules")
def rules_cmd(
    year: Annotated[int, typer.Option(help="anno dei parametri")] = 2025,
) -> None:
    """Mostra le regole in vigore (tariffa premio, CU_Af, fasce) con le fonti."""
    from condivisa.rules import load_rulebook

    rb = load_rulebook()
    params, exact = rb.year(year)
    out = Console()
    out.print(f"[bold]Regole CACER - parametri {year}[/bold]" + ("" if exact else f" (usati quelli {params.year})"))
    for c in rb.classes:
        out.print(
            f"  TIP fino a {c.max_power_kw:g} kW: {c.base_eur_mwh:g} + max(0; "
            f"{rb.price_reference_eur_mwh:g} - Pz), massimo {c.cap_eur_mwh:g} €/MWh"
        )
    out.print(f"  CU_Af {params.cu_af_eur_mwh:.2f} €/MWh - {params.sources['cu_af']}")
    out.print(f"  Perdite evitate AUC: BT {params.auc_loss_lv:.1%}, MT {params.auc_loss_mv:.1%}")
    for key, text in rb.sources.items():
        out.print(f"  [dim]{key}[/dim]: {text}")


def _register_subcommands() -> None:
    from condivisa.cli import national, safety
    from condivisa.cli.alarms import alarms_app
    from condivisa.cli.civic import civic_app
    from condivisa.cli.db import db_app
    from condivisa.cli.district import district_app
    from condivisa.cli.ledger import ledger_app
    from condivisa.cli.live import live_app
    from condivisa.cli.operations import ops_app
    from condivisa.cli.payments import pay_app
    from condivisa.cli.serve import register

    app.add_typer(db_app, name="db", help="Database: migrazioni, importazioni, liquidazioni salvate.")
    app.add_typer(alarms_app, name="alarms", help="Allarmi: controllo dei dati e degli impianti, notifiche email.")
    app.add_typer(ledger_app, name="ledger", help="Registro a catena di hash: verifica ed esportazione.")
    app.add_typer(pay_app, name="pay", help="Pagamenti SEPA, estratti conto, esportazione per la fatturazione.")
    app.add_typer(live_app, name="live", help="Dati in tempo reale via MQTT: sottoscrizione e simulatore.")
    app.add_typer(ops_app, name="ops", help="Esercizio: ore verdi (previsioni), campagne di spostamento dei consumi.")
    app.add_typer(civic_app, name="civic", help="Servizi pubblici del comune: comuni, edifici pubblici, dati aperti.")
    app.add_typer(
        district_app, name="district", help="Bilancio energetico ed emissioni, gestione dell'energia dei distretti."
    )
    register(app)
    national.register(app)
    safety.register(app)


_register_subcommands()


def main() -> None:
    """Entry point of the ``condivisa`` console script: changes made through the ORM are audited as ``cli``."""
    from condivisa.store import audit

    with audit.actor(label="cli"):
        app()
