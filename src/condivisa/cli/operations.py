"""``condivisa ops``: operating a community from the database: green hours, demand-response campaigns.

Every command takes ``--db URL`` (default: the environment variable ``CONDIVISA_DATABASE_URL``, else
``sqlite:///condivisa.db``). Bad input exits with 2 and names the option; a database that cannot be reached exits
with 1 (as ``condivisa db``).

- ``green-hours``: next-day forecast from the stored readings (production: each PV plant's clear sky times its
  recent performance ratio from its injection; other plants: mean of the recent days; consumption: similar days
  of each member's withdrawal), published as JSON or iCalendar (:mod:`condivisa.operations.green_hours`);
- ``campaign-create``, ``campaign-list``, ``campaign-reward``: demand-response campaigns
  (:mod:`condivisa.operations.demand_response`, :mod:`condivisa.store.campaigns`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from condivisa.allocation.cents import eur_to_cents
from condivisa.cli.common import write_atomic
from condivisa.cli.db import DbUrl, _db_guard, _engine
from condivisa.engine.settle import parse_day
from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.errors import InputError, Problem
from condivisa.model import Community
from condivisa.operations.community_forecast import (
    DEFAULT_HISTORY_DAYS,
    community_green_hours,
    history_window,
    site_of,
)
from condivisa.operations.demand_response import CampaignResult
from condivisa.operations.forecast import (
    DEFAULT_RATIO_DAYS,
    DEFAULT_SIMILAR_DAYS,
    Site,
)
from condivisa.operations.green_hours import GreenHoursReport, green_hours_ical, green_hours_json
from condivisa.store import DEFAULT_URL, load_community, load_readings, session_factory
from condivisa.store.campaigns import (
    compute_and_store_rewards,
    create_campaign,
    get_campaign,
    list_campaigns,
    validate_campaign,
)

ops_app = typer.Typer(
    help="Gestione operativa: ore verdi (previsioni del giorno dopo) e campagne di spostamento dei consumi.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)


_OPTION_OF_FIELD = {
    "title": "--title",
    "message": "--message",
    "start_date": "--from",
    "end_date": "--to",
    "window_start_hour": "--window-start",
    "window_end_hour": "--window-end",
    "budget_cents": "--budget",
    "baseline.days": "--baseline-days",
}

CommunityId = Annotated[int, typer.Option("--community", help="id della comunita' (condivisa db list)")]


def _tomorrow() -> dt.date:
    return (pd.Timestamp.now(tz=LOCAL_TZ) + pd.Timedelta(days=1)).date()


def _site(community: Community, latitude: float | None, longitude: float | None) -> Site:
    if (latitude is None) != (longitude is None):
        raise InputError.one("indicare sia --latitude sia --longitude, o nessuna delle due", field="--latitude")
    if latitude is not None and longitude is not None:
        try:
            return Site(latitude, longitude)
        except ValueError as exc:
            raise InputError.one(str(exc), field="--latitude/--longitude") from exc
    site = site_of(community)
    if site is None:
        raise InputError.one(
            f"regione {community.region!r} sconosciuta: indicare --latitude e --longitude degli impianti",
            field="--latitude",
        )
    return site


def _forecast_report(
    db: str,
    community_id: int,
    day: dt.date,
    site_lat: float | None,
    site_lon: float | None,
    history_days: int,
    ratio_days: int,
    similar_days: int,
) -> GreenHoursReport:
    for name, value in (
        ("--history-days", history_days),
        ("--ratio-days", ratio_days),
        ("--similar-days", similar_days),
    ):
        if value < 1:
            raise InputError.one(f"valore non positivo: {value}", field=name)
    engine = _engine(db)
    try:
        with session_factory(engine)() as session:
            community = load_community(session, community_id)
        site = _site(community, site_lat, site_lon)
        window = history_window(day, history_days, ratio_days)
        readings = load_readings(engine, community_id, start=window.start_utc, end=window.end_utc)
    finally:
        engine.dispose()
    return community_green_hours(
        community, readings, day, site, window=window, ratio_days=ratio_days, similar_days=similar_days
    )


def _emit(data: str, out: str | None, what: str) -> None:
    if out is None or out == "-":
        sys.stdout.write(data)
        return
    write_atomic(Path(out), data)
    err.print(f"{what} scritto in {out}")


@ops_app.command("green-hours")
def green_hours_cmd(
    community_id: CommunityId,
    db: DbUrl = DEFAULT_URL,
    date: Annotated[str | None, typer.Option("--date", help="giorno AAAA-MM-GG (predefinito: domani)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json oppure ics (iCalendar)")] = "json",
    out: Annotated[str | None, typer.Option("--out", help="file di uscita (- o assente: stdout)")] = None,
    latitude: Annotated[
        float | None, typer.Option("--latitude", help="latitudine degli impianti [°] (predefinita: capoluogo)")
    ] = None,
    longitude: Annotated[float | None, typer.Option("--longitude", help="longitudine degli impianti [°]")] = None,
    history_days: Annotated[
        int, typer.Option("--history-days", help="giorni di letture per la previsione dei consumi")
    ] = DEFAULT_HISTORY_DAYS,
    ratio_days: Annotated[
        int, typer.Option("--ratio-days", help="giorni di produzione per il rapporto di prestazione recente")
    ] = DEFAULT_RATIO_DAYS,
    similar_days: Annotated[
        int, typer.Option("--similar-days", help="giorni simili (stesso tipo di giorno) mediati per i consumi")
    ] = DEFAULT_SIMILAR_DAYS,
) -> None:
    """Prevede le ore verdi (produzione attesa maggiore dei consumi) di un giorno e le pubblica in JSON o iCal."""

    def run() -> tuple[GreenHoursReport, str]:
        if fmt not in ("json", "ics"):
            raise InputError.one(f"formato {fmt!r} sconosciuto: atteso json oppure ics", field="--format")
        day = parse_day(date, field_name="--date") if date else _tomorrow()
        report = _forecast_report(db, community_id, day, latitude, longitude, history_days, ratio_days, similar_days)
        if fmt == "json":
            return report, json.dumps(green_hours_json(report), ensure_ascii=False, indent=2) + "\n"
        return report, green_hours_ical(report).decode("utf-8")

    report, text = _db_guard(run)
    total = sum(h.surplus_kwh for h in report.hours)
    err.print(f"Ore verdi del {report.day:%d/%m/%Y}: {len(report.hours)} ore, eccedenza prevista {total:,.1f} kWh")
    _emit(text, out, "Calendario" if fmt == "ics" else "Documento JSON")


def _campaign_problems(problems: list[Problem]) -> InputError:
    return InputError([Problem(p.message, field=_OPTION_OF_FIELD.get(p.field or "", p.field)) for p in problems])


@ops_app.command("campaign-create")
def campaign_create_cmd(
    community_id: CommunityId,
    title: Annotated[str, typer.Option("--title", help="titolo mostrato ai soci")],
    date_from: Annotated[str, typer.Option("--from", help="primo giorno AAAA-MM-GG")],
    date_to: Annotated[str, typer.Option("--to", help="ultimo giorno AAAA-MM-GG (incluso)")],
    window_start: Annotated[int, typer.Option("--window-start", help="ora locale di inizio della finestra (0-23)")],
    window_end: Annotated[int, typer.Option("--window-end", help="ora locale di fine della finestra (esclusa, 1-24)")],
    budget: Annotated[float, typer.Option("--budget", help="premio totale da ripartire [€]")],
    message: Annotated[str, typer.Option("--message", help="messaggio ai soci")] = "",
    baseline_days: Annotated[
        int, typer.Option("--baseline-days", help="giorni simili della baseline (media dei giorni simili)")
    ] = 5,
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Crea una campagna: chiede ai soci di spostare i consumi nella finestra oraria dei giorni indicati."""

    def run() -> int:
        start = parse_day(date_from, field_name="--from")
        end = parse_day(date_to, field_name="--to")
        if not math.isfinite(budget):
            raise InputError.one(f"budget non valido: {budget}", field="--budget")
        budget_cents = eur_to_cents(budget)
        problems = validate_campaign(
            title=title,
            start_date=start,
            end_date=end,
            window_start_hour=window_start,
            window_end_hour=window_end,
            budget_cents=budget_cents,
            message=message,
            baseline_days=baseline_days,
        )
        if problems:
            raise _campaign_problems(problems)
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                try:
                    return create_campaign(
                        session,
                        community_id,
                        title=title,
                        start_date=start,
                        end_date=end,
                        window_start_hour=window_start,
                        window_end_hour=window_end,
                        budget_cents=budget_cents,
                        message=message,
                        baseline_days=baseline_days,
                    )
                except InputError as exc:
                    raise _campaign_problems(exc.problems) from exc
        finally:
            engine.dispose()

    campaign_id = _db_guard(run)
    err.print(f"Campagna creata con id {campaign_id}")
    typer.echo(campaign_id)


@ops_app.command("campaign-list")
def campaign_list_cmd(community_id: CommunityId, db: DbUrl = DEFAULT_URL) -> None:
    """Elenca le campagne di una comunita'."""

    def run() -> Table:
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                load_community(session, community_id)  # NotFoundError for a wrong id
                table = Table(title=f"Campagne della comunita' {community_id}")
                for column in ("Id", "Titolo", "Dal", "Al", "Finestra", "Budget €", "Stato"):
                    table.add_column(column)
                for c in list_campaigns(session, community_id):
                    table.add_row(
                        str(c.id),
                        c.title,
                        f"{c.start_date:%d/%m/%Y}",
                        f"{c.end_date:%d/%m/%Y}",
                        f"{c.window_start_hour:02d}-{c.window_end_hour:02d}",
                        f"{c.budget_cents / 100:,.2f}",
                        c.status,
                    )
                return table
        finally:
            engine.dispose()

    Console(width=160).print(_db_guard(run))


def _result_document(campaign_id: int, result: CampaignResult) -> dict[str, Any]:
    c = result.campaign
    return {
        "campaign": campaign_id,
        "start_date": c.start_date.isoformat(),
        "end_date": c.end_date.isoformat(),
        "window": {"start_hour": c.window_start_hour, "end_hour": c.window_end_hour},
        "baseline": c.baseline_params,
        "budget_cents": c.budget_cents,
        "total_reward_cents": result.total_reward_cents,
        "members": [
            {
                "member": m.member,
                "baseline_kwh": round(m.baseline_kwh, 6),
                "actual_kwh": round(m.actual_kwh, 6),
                "response_kwh": m.response_kwh,
                "outside_change_kwh": round(m.outside_change_kwh, 6),
                "reward_cents": m.reward_cents,
                "missing_hours": m.missing_hours,
                "eligible": m.eligible,
                "baseline_days": {k: [d.isoformat() for d in v] for k, v in m.baseline_days.items()},
            }
            for m in result.members
        ],
    }


@ops_app.command("campaign-reward")
def campaign_reward_cmd(
    campaign_id: Annotated[int, typer.Argument(help="id della campagna (condivisa ops campaign-list)")],
    db: DbUrl = DEFAULT_URL,
    json_out: Annotated[str | None, typer.Option("--json", help="scrive il risultato in JSON (- per stdout)")] = None,
) -> None:
    """Misura la risposta dei soci a una campagna rispetto alla baseline, ripartisce il budget e salva i premi."""

    def run() -> CampaignResult:
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                if get_campaign(session, campaign_id) is None:
                    raise InputError.one(f"campagna {campaign_id} non trovata", field="CAMPAIGN_ID")
                return compute_and_store_rewards(session, campaign_id)
        finally:
            engine.dispose()

    result = _db_guard(run)
    document = _result_document(campaign_id, result)
    if json_out == "-":
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"Premi della campagna {campaign_id}")
    for column in ("Socio", "Baseline kWh", "Effettivo kWh", "Risposta kWh", "Fuori finestra kWh", "Premio €"):
        table.add_column(column)
    for m in result.members:
        table.add_row(
            m.member,
            f"{m.baseline_kwh:,.3f}",
            f"{m.actual_kwh:,.3f}",
            f"{m.response_kwh:+,.3f}",
            f"{m.outside_change_kwh:+,.3f}",
            f"{m.reward_cents / 100:,.2f}",
        )
    Console(width=160).print(table)
    err.print(f"Premi salvati: {result.total_reward_cents / 100:,.2f} € a {len(result.responders)} soci")
    if json_out:
        write_atomic(Path(json_out), json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        err.print(f"Documento JSON scritto in {json_out}")
