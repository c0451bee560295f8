"""``condivisa alarms``: checks of a community's data, and its alarms from the command line.

``check`` reads from the database the readings of the days the detectors need (and the measured weather, when
the community has some), runs :func:`condivisa.operations.monitoring.detect_alarms`, opens, refreshes and closes
the stored alarms, and optionally emails the open alarms not sent yet (``--email-to``; the SMTP server comes from
``CONDIVISA_SMTP_*`` or ``--smtp-host``/``--smtp-port``). ``list``, ``ack`` and ``close`` manage them.

Conventions of ``condivisa db``: ``--db URL`` (else ``CONDIVISA_DATABASE_URL``, else ``sqlite:///condivisa.db``);
bad input exits with 2 naming the field; an unreachable database, or an email that cannot be sent, with 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from condivisa.cli.db import DbUrl, _db_guard, _engine
from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.errors import InputError
from condivisa.live.weather_store import load_weather as stored_weather
from condivisa.notify.email import EmailError, SmtpSettings, check_recipients, send_alarm_email
from condivisa.operations.monitoring import ALARM_KIND_LABELS, DEFAULT_THRESHOLDS, SEVERITY_LABELS, detect_alarms
from condivisa.store import DEFAULT_URL, get_user_by_email, load_community, load_readings, session_factory
from condivisa.store.alarms import (
    AlarmInfo,
    AlarmSync,
    acknowledge_alarm,
    close_alarm,
    list_alarms,
    mark_notified,
    sync_alarms,
)
from condivisa.store.models import ALARM_STATUSES

alarms_app = typer.Typer(
    help="Allarmi di una comunita': controllo dei dati (dati mancanti, impianti, consumi, condivisione), "
    "elenco, presa in carico, chiusura.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)

STATUS_LABELS = {"open": "aperto", "acknowledged": "preso in carico", "closed": "chiuso"}


def parse_now(text: str | None) -> dt.datetime:
    """``--now``: ISO 8601; without an offset it is Italian local time; default the current instant (UTC)."""
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        ts = pd.Timestamp(text)
    except ValueError as exc:
        raise InputError.one(
            f"istante non valido {text!r}: atteso ISO 8601 (2025-06-01T12:00+02:00)", field="--now"
        ) from exc
    if pd.isna(ts):
        raise InputError.one(f"istante non valido {text!r}", field="--now")
    if ts.tzinfo is None:
        try:
            ts = ts.tz_localize(LOCAL_TZ, ambiguous="raise", nonexistent="raise")
        except (ValueError, IndexError) as exc:  # pytz-style errors derive from them
            raise InputError.one(
                f"ora locale {text!r} ambigua o inesistente (cambio dell'ora legale): indicare il fuso", field="--now"
            ) from exc
    return ts.tz_convert("UTC").to_pydatetime()


def load_weather(engine: Engine, community_id: int, start: dt.datetime, end: dt.datetime) -> pd.DataFrame | None:
    """Measured weather of the community in ``[start, end)`` as hourly means (UTC index of hour starts), columns
    ``ghi_w_m2`` [W/m²], ``temp_air_c`` [°C], ``wind_speed_m_s`` [m/s]; None without observations."""
    observed = stored_weather(engine, community_id, start=start, end=end)
    if observed.empty:
        return None
    frame = observed.set_index(pd.DatetimeIndex(observed["timestamp"])).drop(columns="timestamp")
    return frame.resample("h").mean().dropna(subset=["ghi_w_m2"])


def _local(instant: dt.datetime | None) -> str:
    return "" if instant is None else pd.Timestamp(instant).tz_convert(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def alarms_table(title: str, alarms: Sequence[AlarmInfo], new_ids: frozenset[int] = frozenset()) -> Table:
    """An Italian table of alarms; those in ``new_ids`` are marked as new."""
    table = Table(title=title)
    for column in ("Id", "Tipo", "Soggetto", "Gravita'", "Stato", "Dal", "Ultimo rilievo", "Messaggio"):
        table.add_column(column, overflow="fold")
    for a in alarms:
        status = STATUS_LABELS.get(a.status, a.status)
        table.add_row(
            str(a.id),
            ALARM_KIND_LABELS.get(a.kind, a.kind),
            a.subject,
            SEVERITY_LABELS.get(a.severity, a.severity),
            f"{status} (nuovo)" if a.id in new_ids else status,
            _local(a.first_seen),
            _local(a.last_seen),
            a.message,
        )
    return table


@dataclass(frozen=True)
class _CheckResult:
    sync: AlarmSync
    active: list[AlarmInfo]
    community_name: str
    sent: int
    email_error: str | None


def _check(
    db: str,
    community_id: int,
    now: str | None,
    email_to: list[str],
    smtp_host: str | None,
    smtp_port: int | None,
) -> _CheckResult:
    at = parse_now(now)
    settings: SmtpSettings | None = None
    if email_to:
        try:
            check_recipients(email_to)
        except InputError as exc:
            raise InputError.one(str(exc.problems[0].message), field="--email-to") from exc
        settings = SmtpSettings.from_env(host=smtp_host, port=smtp_port)
    engine = _engine(db)
    try:
        sessions = session_factory(engine)
        with sessions() as session:
            community = load_community(session, community_id)
        start = at - DEFAULT_THRESHOLDS.lookback.to_pytimedelta()
        readings = load_readings(engine, community_id, start=start, end=at)
        weather = load_weather(engine, community_id, start, at)
        findings = detect_alarms(readings, community, at, weather)
        with sessions() as session:
            sync = sync_alarms(session, community_id, findings, at)
            sent, email_error = 0, None
            if settings is not None:
                pending = [a for a in list_alarms(session, community_id, "open") if a.notified_at is None]
                pending.sort(key=lambda a: a.id)
                if pending:
                    try:
                        send_alarm_email(settings, email_to, pending, community.name)
                    except EmailError as exc:
                        email_error = str(exc)
                    else:
                        sent = mark_notified(session, [a.id for a in pending])
            active = list_alarms(session, community_id, ["open", "acknowledged"])
    finally:
        engine.dispose()
    return _CheckResult(sync, active, community.name, sent, email_error)


@alarms_app.command("check")
def check_cmd(
    community_id: Annotated[int, typer.Option("--community", help="id della comunita' (condivisa db list)")],
    db: DbUrl = DEFAULT_URL,
    now: Annotated[
        str | None,
        typer.Option("--now", help="istante del controllo, ISO 8601 (senza fuso: ora italiana); default adesso"),
    ] = None,
    email_to: Annotated[
        list[str] | None,
        typer.Option(
            "--email-to", help="invia gli allarmi aperti non ancora notificati a questo indirizzo (ripetibile)"
        ),
    ] = None,
    smtp_host: Annotated[
        str | None, typer.Option("--smtp-host", help="server SMTP (altrimenti CONDIVISA_SMTP_HOST)")
    ] = None,
    smtp_port: Annotated[
        int | None, typer.Option("--smtp-port", help="porta SMTP (altrimenti CONDIVISA_SMTP_PORT)")
    ] = None,
) -> None:
    """Controlla i dati recenti della comunita', apre e chiude gli allarmi e li invia per email."""
    result = _db_guard(lambda: _check(db, community_id, now, list(email_to or []), smtp_host, smtp_port))
    new_ids = frozenset(a.id for a in result.sync.opened)
    Console(width=160).print(alarms_table(f"Allarmi attivi di {result.community_name}", result.active, new_ids))
    err.print(
        f"Allarmi: {len(result.sync.opened)} nuovi, {len(result.sync.refreshed)} ancora presenti, "
        f"{len(result.sync.closed)} chiusi perche' non piu' rilevati"
    )
    if result.sent:
        err.print(f"Email inviata a {', '.join(email_to or [])} con {result.sent} allarmi")
    if result.email_error:
        typer.echo(f"Errore di invio email: {result.email_error}", err=True)
        raise typer.Exit(1)


@alarms_app.command("list")
def list_cmd(
    community_id: Annotated[int, typer.Option("--community", help="id della comunita'")],
    db: DbUrl = DEFAULT_URL,
    status: Annotated[
        str | None, typer.Option("--status", help=f"solo gli allarmi in questo stato ({', '.join(ALARM_STATUSES)})")
    ] = None,
) -> None:
    """Elenca gli allarmi di una comunita' (i piu' recenti per primi)."""

    def run() -> list[AlarmInfo]:
        if status is not None and status not in ALARM_STATUSES:
            raise InputError.one(
                f"stato {status!r} sconosciuto; ammessi: {', '.join(ALARM_STATUSES)}", field="--status"
            )
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                return list_alarms(session, community_id, status)
        finally:
            engine.dispose()

    alarms = _db_guard(run)
    Console(width=160).print(alarms_table(f"Allarmi della comunita' {community_id}", alarms))


@alarms_app.command("ack")
def ack_cmd(
    alarm_id: Annotated[int, typer.Argument(help="id dell'allarme (condivisa alarms list)")],
    db: DbUrl = DEFAULT_URL,
    user: Annotated[str | None, typer.Option("--user", help="email dell'utente che prende in carico")] = None,
) -> None:
    """Prende in carico un allarme aperto (resta visibile finche' non viene chiuso)."""

    def run() -> AlarmInfo:
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                user_id = None
                if user is not None:
                    found = get_user_by_email(session, email=user)
                    if found is None:
                        raise InputError.one(f"utente {user!r} non trovato", field="--user")
                    user_id = found.id
                return acknowledge_alarm(session, alarm_id, user_id)
        finally:
            engine.dispose()

    info = _db_guard(run)
    typer.echo(f"Allarme {info.id} {STATUS_LABELS[info.status]}")


@alarms_app.command("close")
def close_cmd(
    alarm_id: Annotated[int, typer.Argument(help="id dell'allarme (condivisa alarms list)")],
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Chiude un allarme a mano (se la condizione persiste, il controllo successivo ne apre uno nuovo)."""

    def run() -> AlarmInfo:
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                return close_alarm(session, alarm_id)
        finally:
            engine.dispose()

    info = _db_guard(run)
    typer.echo(f"Allarme {info.id} {STATUS_LABELS[info.status]}")
