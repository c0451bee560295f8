"""``condivisa live``: live meter data over MQTT (ingest service and demo simulator).

``subscribe`` stores what meters publish (see :mod:`condivisa.live.payload` for topics and payloads) until SIGINT
or SIGTERM, then writes and acknowledges what it has received and disconnects; the broker keeps the session, so
nothing published meanwhile is lost. ``simulate`` publishes the demo community's quarter-hour readings.

Like ``condivisa db``: ``--db URL`` (default ``CONDIVISA_DATABASE_URL``, else ``sqlite:///condivisa.db``); bad
input exits with 2, an unreachable database or broker with 1.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

import typer
from rich.console import Console

from condivisa.cli.db import DbUrl, _db_guard, _engine, _shown
from condivisa.errors import InputError
from condivisa.store import DEFAULT_URL

live_app = typer.Typer(
    help="Dati in tempo reale via MQTT: servizio di acquisizione e simulatore della comunita' demo.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)

Broker = Annotated[str, typer.Option("--broker", help="host del broker MQTT")]
Port = Annotated[int, typer.Option("--port", min=1, max=65535, help="porta del broker MQTT")]
Username = Annotated[str | None, typer.Option("--username", envvar="CONDIVISA_MQTT_USERNAME", help="utente del broker")]
Password = Annotated[
    str | None, typer.Option("--password", envvar="CONDIVISA_MQTT_PASSWORD", help="password del broker")
]


def _logging(verbose: bool) -> None:
    """Log lines with time and level on stderr; ``--verbose`` adds one line per database write."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("condivisa").setLevel(logging.DEBUG if verbose else logging.INFO)


@live_app.command("subscribe")
def subscribe_cmd(
    db: DbUrl = DEFAULT_URL,
    broker: Broker = "127.0.0.1",
    port: Port = 1883,
    client_id: Annotated[
        str, typer.Option("--client-id", help="id fisso della sessione MQTT (uno per servizio in esecuzione)")
    ] = "condivisa-ingest",
    batch: Annotated[int, typer.Option("--batch", min=1, max=60_000, help="messaggi per scrittura al massimo")] = 5000,
    flush_seconds: Annotated[
        float, typer.Option("--flush-seconds", min=0.01, help="attesa massima di un messaggio prima di scriverlo [s]")
    ] = 0.5,
    username: Username = None,
    password: Password = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="una riga di registro per ogni scrittura")] = False,
) -> None:
    """Acquisisce letture e meteo dal broker MQTT fino a SIGINT/SIGTERM; conferma ogni messaggio dopo il salvataggio."""
    from condivisa.live.subscriber import SubscriberSettings, run_until_signal

    _logging(verbose)
    settings = SubscriberSettings(
        host=broker,
        port=port,
        client_id=client_id,
        batch_size=batch,
        flush_seconds=flush_seconds,
        username=username,
        password=password,
    )
    engine = _db_guard(lambda: _engine(db))
    err.print(f"Acquisizione MQTT da {broker}:{port} verso {_shown(db)} (client {client_id}); Ctrl-C per fermare")
    try:
        counters = run_until_signal(engine, settings)
    except RuntimeError as exc:
        typer.echo(f"Errore: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"Fermato: {counters.line()}", err=True)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InputError.one(f"data non valida {text!r}: attesa AAAA-MM-GG", field="--date") from exc


@live_app.command("simulate")
def simulate_cmd(
    community: Annotated[int, typer.Option("--community", min=1, help="id della comunita' demo nel database")],
    date: Annotated[str, typer.Option("--date", help="primo giorno, AAAA-MM-GG")],
    broker: Broker = "127.0.0.1",
    port: Port = 1883,
    days: Annotated[int, typer.Option("--days", min=1, max=3660, help="giorni da pubblicare")] = 1,
    speed: Annotated[
        float, typer.Option("--speed", min=0.0, help="secondi simulati per secondo reale; 0 = il piu' veloce possibile")
    ] = 0.0,
    client_id: Annotated[str | None, typer.Option("--client-id", help="default condivisa-sim-<comunita'>")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="fermarsi dopo N letture")] = None,
    weather: Annotated[bool, typer.Option("--weather/--no-weather", help="pubblica anche il meteo orario")] = True,
    per_message: Annotated[
        int, typer.Option("--per-message", min=1, max=1000, help="letture per messaggio (lotti dello stesso POD)")
    ] = 1,
    username: Username = None,
    password: Password = None,
) -> None:
    """Pubblica le letture al quarto d'ora della comunita' demo (QoS 1), per un giorno o piu'."""
    from condivisa.live.simulator import simulate

    _logging(False)
    start = _db_guard(lambda: _day(date))
    err.print(f"Pubblicazione su {broker}:{port}, comunita' {community}, dal {start} per {days} giorni")
    try:
        result = simulate(
            broker,
            port,
            community,
            start,
            days,
            speed=speed,
            client_id=client_id,
            limit=limit,
            weather=weather,
            per_message=per_message,
            username=username,
            password=password,
        )
    except (TimeoutError, OSError) as exc:
        typer.echo(f"Errore del broker MQTT: {exc}", err=True)
        raise typer.Exit(1) from exc
    rate = result.readings / result.seconds if result.seconds > 0 else 0.0
    typer.echo(
        f"Pubblicate e confermate dal broker {result.readings} letture e {result.weather} osservazioni meteo "
        f"in {result.messages} messaggi, {result.seconds:.1f} s ({rate:.0f} letture/s, "
        f"{result.messages / result.seconds if result.seconds > 0 else 0.0:.0f} messaggi/s)",
        err=True,
    )
    typer.echo(result.readings)


if __name__ == "__main__":  # python -m condivisa.cli.live ...
    live_app(prog_name="condivisa live")
