"""``condivisa district``: energy and emissions balances, and district energy management from the command line.

Exit codes: 0 ok; 2 bad input (a message naming file, row and field; nothing stored); 1 a database that cannot be
reached.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from condivisa.cli.db import DbUrl, _db_guard, _engine
from condivisa.errors import InputError
from condivisa.store import DEFAULT_URL, session_factory

district_app = typer.Typer(
    help="Bilancio energetico e delle emissioni; gestione dell'energia e dell'acqua dei distretti (ISO 50001).",
    no_args_is_help=True,
)

JsonOut = Annotated[bool, typer.Option("--json", help="stampa il risultato in JSON")]


def _day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InputError.one(f"{text!r} non è una data AAAA-MM-GG", field=option) from exc


def _finite(v: float | None) -> float | None:
    return v if v is None or math.isfinite(v) else None


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError.one("file non trovato", file=str(file)) from exc
    except UnicodeDecodeError as exc:
        raise InputError.one("il file non è testo UTF-8", file=str(file)) from exc
    except OSError as exc:
        raise InputError.one(f"file non leggibile: {exc.strerror}", file=str(file)) from exc


def balance_document(balance: Any, kind: str) -> dict[str, Any]:
    """A JSON-ready balance: totals by sector and carrier [MWh, t CO2], factors with source and year, notes."""
    return {
        "entity": balance.inventory.entity,
        "year": balance.year,
        "kind": kind,
        "population": balance.inventory.population,
        "consumption_mwh": {"by_sector": dict(balance.consumption_by_sector),
                            "by_carrier": dict(balance.consumption_by_carrier),
                            "total": balance.total_consumption_mwh},
        "emissions_t": {"by_sector": dict(balance.emissions_by_sector),
                        "by_carrier": dict(balance.emissions_by_carrier),
                        "total": balance.total_emissions_t},
        "per_capita_t": balance.per_capita_t,
        "local_production_mwh": balance.local_production_mwh,
        "shared_energy_mwh": balance.shared_energy_mwh,
        "local_electricity_factor": balance.local_electricity_factor,
        "electricity_rule": balance.electricity_rule,
        "factors": [
            {"carrier": f.carrier, "year": f.year, "value": f.value, "source": f.source, "table": f.table,
             "url": f.url, "verified": f.verified, "requested_year": f.requested_year}
            for f in balance.factors.values()
        ],
        "notes": list(balance.notes),
    }  # fmt: skip


@district_app.command("balance")
def balance_cmd(
    municipality: Annotated[str, typer.Option("--municipality", help="nome del comune (o il suo slug)")],
    year: Annotated[int, typer.Option("--year", help="anno dell'inventario")],
    db: DbUrl = DEFAULT_URL,
    kind: Annotated[str | None, typer.Option(help="baseline o monitoring (predefinito: quello presente)")] = None,
    json_out: JsonOut = False,
) -> None:
    """Bilancio di un inventario memorizzato: consumi ed emissioni per settore e vettore, fattori con fonte e anno."""
    from sqlalchemy import or_, select

    from condivisa.store.inventories import inventories_of, stored_balance
    from condivisa.store.models import MunicipalityRow

    def run() -> dict[str, Any]:
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                row = session.scalar(
                    select(MunicipalityRow).where(
                        or_(MunicipalityRow.name == municipality, MunicipalityRow.slug == municipality)
                    )
                )
                if row is None:
                    raise InputError.one(f"comune {municipality!r} non trovato", field="--municipality")
                found = [
                    s
                    for s in inventories_of(session, municipality_id=row.id)
                    if s.year == year and (kind is None or s.kind == kind)
                ]
                if not found:
                    raise InputError.one(f"{row.name}: nessun inventario del {year}", field="--year")
                if len(found) > 1:
                    raise InputError.one(f"{row.name} {year}: due inventari, scegliere --kind", field="--kind")
                try:
                    return balance_document(stored_balance(found[0]), found[0].kind)
                except ValueError as exc:
                    raise InputError.one(str(exc)) from exc
        finally:
            engine.dispose()

    doc = _db_guard(run)
    if json_out:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{doc['entity']} {doc['year']} ({doc['kind']})")
    for sector, t in doc["emissions_t"]["by_sector"].items():
        typer.echo(f"  {sector:<24} {doc['consumption_mwh']['by_sector'][sector]:>12.1f} MWh {t:>12.1f} t CO2")
    typer.echo(
        f"  {'totale':<24} {doc['consumption_mwh']['total']:>12.1f} MWh {doc['emissions_t']['total']:>12.1f} t CO2"
    )
    typer.echo("Fattori di emissione:")
    for f in doc["factors"]:
        mark = "verificato" if f["verified"] else "NON verificato"
        typer.echo(f"  {f['carrier']} {f['year']}: {f['value']:.3f} t CO2/MWh ({mark}) - {f['source']}")
    for n in doc["notes"]:
        typer.echo(f"Nota: {n}")


@district_app.command("seed-balance")
def seed_balance_cmd(db: DbUrl = DEFAULT_URL) -> None:
    """Memorizza gli inventari 2005 e 2025 del comune dimostrativo Borgo Demo."""
    from condivisa.store.inventories import seed_demo_balance

    def run() -> tuple[int, int]:
        engine = _engine(db)
        try:
            return seed_demo_balance(engine)
        finally:
            engine.dispose()

    base, mon = _db_guard(run)
    typer.echo(f"Borgo Demo: inventario di base {base}, di monitoraggio {mon}; /comune/borgo-demo/bilancio")


@district_app.command("meters-import")
def meters_import_cmd(
    district_id: Annotated[int, typer.Argument(help="id del distretto")],
    file: Annotated[Path, typer.Argument(help="CSV data,valore oppure CSV lungo delle letture")],
    db: DbUrl = DEFAULT_URL,
    meter: Annotated[str | None, typer.Option(help="codice del contatore (SITO/CONTATORE se ambiguo)")] = None,
    variable: Annotated[str | None, typer.Option(help="nome della variabile (temperatura o attività)")] = None,
    long: Annotated[bool, typer.Option("--long", help="CSV lungo pod,timestamp,withdrawn_kwh,injected_kwh")] = False,
) -> None:
    """Importa i valori di un contatore o di una variabile (CSV data,valore) o le letture per POD (CSV lungo)."""
    from condivisa.store import district as ds

    def run() -> str:
        if sum([meter is not None, variable is not None, long]) != 1:
            raise InputError.one("indicare una sola destinazione: --meter, --variable oppure --long", field="--meter")
        text = _read(file)
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                ds.district_municipality(session, district_id)
                if long:
                    stored = ds.import_long_readings(session, district_id, text, file=str(file))
                    return ", ".join(f"{k}: {v} giorni" for k, v in stored.items())
                if meter is not None:
                    row = ds.find_meter(session, district_id, meter)
                    n = ds.import_meter_values(session, row.id, ds.parse_date_value_csv(text, file=str(file)))
                    return f"contatore {row.code}: {n} valori"
                var = ds.find_variable(session, district_id, str(variable))
                values = ds.parse_date_value_csv(text, file=str(file), allow_negative=var.kind == "temperature")
                return f"variabile {var.name}: {ds.import_variable_values(session, var.id, values)} valori"
        finally:
            engine.dispose()

    typer.echo(_db_guard(run))


@district_app.command("fit")
def fit_cmd(
    district_id: Annotated[int, typer.Argument(help="id del distretto")],
    carrier: Annotated[str, typer.Option(help="electricity, heat, gas o water")],
    start: Annotated[str, typer.Option("--from", help="inizio del periodo di baseline AAAA-MM-GG")],
    end: Annotated[str, typer.Option("--to", help="fine del periodo di baseline AAAA-MM-GG")],
    db: DbUrl = DEFAULT_URL,
    variables: Annotated[str, typer.Option(help="variabili separate da virgole (hdd, cdd, attività)")] = "hdd",
    site: Annotated[str | None, typer.Option(help="codice del sito (predefinito: tutto il distretto)")] = None,
    period: Annotated[str, typer.Option(help="day, week o month")] = "month",
    json_out: JsonOut = False,
) -> None:
    """Calcola e memorizza la baseline energetica di un perimetro (regressione, controlli ASHRAE 14)."""
    from condivisa.store import district as ds

    def run() -> dict[str, Any]:
        s, e = _day(start, "--from"), _day(end, "--to")
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                ds.district_municipality(session, district_id)
                site_id = None
                if site is not None:
                    found = [x for x in ds.list_sites(session, district_id) if x.code == site]
                    if not found:
                        raise InputError.one(f"sito {site!r} non trovato", field="--site")
                    site_id = found[0].id
                bid = ds.fit_district_baseline(
                    session, district_id, carrier=carrier, site_id=site_id, start=s, end=e, period=period,
                    variables=[v.strip() for v in variables.split(",") if v.strip()],
                )  # fmt: skip
                row = ds.get_baseline(session, bid)
                return {
                    "baseline_id": bid,
                    "coefficients": row.coefficients,
                    "accepted": row.accepted,
                    "failures": row.failures,
                    "r2": row.statistics.get("r2"),
                    "cv_rmse_pct": row.statistics.get("cv_rmse_pct"),
                    "n": row.statistics.get("n"),
                }
        finally:
            engine.dispose()

    doc = _db_guard(run)
    if json_out:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    typer.echo(f"Baseline {doc['baseline_id']}: " + ", ".join(f"{k} = {v:.4g}" for k, v in doc["coefficients"].items()))
    typer.echo("accettata" if doc["accepted"] else "non accettata: " + "; ".join(doc["failures"]))


@district_app.command("savings")
def savings_cmd(
    baseline_id: Annotated[int, typer.Argument(help="id della baseline")],
    start: Annotated[str, typer.Option("--from", help="inizio della rendicontazione AAAA-MM-GG")],
    end: Annotated[str, typer.Option("--to", help="fine della rendicontazione AAAA-MM-GG")],
    db: DbUrl = DEFAULT_URL,
    confidence: Annotated[float, typer.Option(help="confidenza dell'incertezza")] = 0.90,
    json_out: JsonOut = False,
) -> None:
    """Verifica e memorizza i risparmi di un periodo (IPMVP opzione C, incertezza ASHRAE 14)."""
    from condivisa.store import district as ds
    from condivisa.store.models_district import DistrictSavingsRow

    def run() -> dict[str, Any]:
        s, e = _day(start, "--from"), _day(end, "--to")
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                sid = ds.verify_district_savings(session, baseline_id, s, e, confidence=confidence)
                row = session.get(DistrictSavingsRow, sid)
                assert row is not None
                return {
                    "savings_id": sid,
                    "adjusted_baseline_kwh": row.adjusted_baseline_kwh,
                    "actual_kwh": row.actual_kwh,
                    "avoided_kwh": row.avoided_kwh,
                    "uncertainty_kwh": row.uncertainty_kwh,
                    "confidence": row.confidence,
                    "savings_fraction": row.savings_fraction,
                    "meets_ashrae14": row.meets_ashrae14,
                }
        finally:
            engine.dispose()

    doc = _db_guard(run)
    if json_out:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"Energia evitata {doc['avoided_kwh']:.0f} ± {doc['uncertainty_kwh']:.0f} kWh "
        f"(confidenza {100 * doc['confidence']:.0f} %), baseline adattata {doc['adjusted_baseline_kwh']:.0f} kWh"
    )


@district_app.command("review")
def review_cmd(
    district_id: Annotated[int, typer.Argument(help="id del distretto")],
    start: Annotated[str, typer.Option("--from", help="inizio del periodo riesaminato AAAA-MM-GG")],
    end: Annotated[str, typer.Option("--to", help="fine del periodo riesaminato AAAA-MM-GG")],
    db: DbUrl = DEFAULT_URL,
    site: Annotated[str | None, typer.Option(help="codice del sito: usa la sua baseline più recente")] = None,
    baseline: Annotated[int | None, typer.Option(help="id della baseline (invece di --site)")] = None,
    decisions: Annotated[str, typer.Option(help="decisioni prese")] = "",
    json_out: JsonOut = False,
) -> None:
    """Riesame della direzione di un periodo (EnPI, obiettivi, risparmi, azioni, usi significativi); memorizzato."""
    from condivisa.store import district as ds
    from condivisa.store.models_district import DistrictReviewRow

    def run() -> dict[str, Any]:
        s, e = _day(start, "--from"), _day(end, "--to")
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                ds.district_municipality(session, district_id)
                bid = baseline
                if site is not None:
                    sites = {x.code: x.id for x in ds.list_sites(session, district_id)}
                    if site not in sites:
                        raise InputError.one(f"sito {site!r} non trovato", field="--site")
                    found = [b for b in ds.list_baselines(session, district_id) if b.site_id == sites[site]]
                    if not found:
                        raise InputError.one(f"il sito {site} non ha una baseline", field="--site")
                    bid = found[0].id
                rid = ds.run_review(
                    session, district_id, baseline_id=bid, start=s, end=e, review_date=dt.date.today(),
                    decisions=decisions,
                )  # fmt: skip
                row = session.get(DistrictReviewRow, rid)
                assert row is not None
                return {"review_id": rid, **row.summary}
        finally:
            engine.dispose()

    doc = _db_guard(run)
    if json_out:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    typer.echo(f"Riesame {doc['review_id']}: {doc['period_start']} .. {doc['period_end']}")
    if doc.get("savings"):
        sv = doc["savings"]
        typer.echo(f"  energia evitata {sv['avoided_energy_kwh']:.0f} ± {sv['uncertainty_kwh']:.0f} kWh")
    for a in doc["attention"]:
        typer.echo(f"  attenzione: {a}")


@district_app.command("check")
def check_cmd(
    district_id: Annotated[int, typer.Argument(help="id del distretto")],
    db: DbUrl = DEFAULT_URL,
    today: Annotated[str | None, typer.Option(help="data di riferimento AAAA-MM-GG (predefinita: oggi)")] = None,
) -> None:
    """Monitoraggio continuo: ricalcola gli EnPI con obiettivo sull'ultimo periodo completo e apre gli allarmi."""
    from condivisa.store import district as ds

    def run() -> list[ds.EnpiCheck]:
        when = _day(today, "--today") if today else dt.date.today()
        engine = _engine(db)
        try:
            return ds.check_district(engine, district_id, when)
        finally:
            engine.dispose()

    for c in _db_guard(run):
        value = "" if c.enpi is None else f" {c.enpi:.3f} (obiettivo {_finite(c.target)})"
        alarm = f", allarme {c.alarm_id}" if c.alarm_id else ""
        typer.echo(f"{c.name}: {c.status}{value}{alarm}")
