"""``alarms`` sub-commands on a temporary SQLite database, with a real local SMTP server for ``--email-to``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from condivisa.cli.alarms import alarms_app, parse_now
from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.errors import InputError
from condivisa.ingest.readings import Readings
from condivisa.operations.monitoring import expected_pv_kwh
from condivisa.store import create_user, import_readings, make_engine, save_community, session_factory, upgrade
from condivisa.store.models import AlarmRow, WeatherObservation
from tests.helpers import community, member, plant, pod
from tests.notify.sink import free_port, smtp_sink

runner = CliRunner()
NOW = pd.Timestamp("2025-06-10T12:00+02:00").tz_convert("UTC")
NOW_ARG = "2025-06-10T12:00+02:00"
H = pd.Timedelta(hours=1)
P1, P2, PV = pod(1), pod(2), pod(9)


def rows(p: str, start: pd.Timestamp, withdrawn: np.ndarray, injected: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pod": p,
            "timestamp": pd.date_range(start, periods=len(withdrawn), freq="h", tz="UTC"),
            "withdrawn_kwh": withdrawn,
            "injected_kwh": injected,
        }
    )


def to_readings(frame: pd.DataFrame) -> Readings:
    return Readings(frame=frame.reset_index(drop=True), interval_minutes=dict.fromkeys(frame["pod"].unique(), 60))


@dataclass(frozen=True)
class Db:
    url: str
    community_id: int
    late_p2: Readings  # the 8 hours of P2 that arrive late


@pytest.fixture(autouse=True)
def no_smtp_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "FROM", "USER", "PASSWORD", "STARTTLS", "SSL", "TIMEOUT"):
        monkeypatch.delenv(f"CONDIVISA_SMTP_{name}", raising=False)


@pytest.fixture
def db(tmp_path: Path) -> Db:
    """A community whose plant gives 40 % of the expectation for the measured weather, whose member m2 has been
    silent for 8 hours, and which shares a small part of its production."""
    url = f"sqlite:///{tmp_path / 'alarms.db'}"
    upgrade(url)
    engine = make_engine(url)
    c = community([member("m1", [1]), member("m2", [2])], [plant("p1", "m1", 9, power=50.0)], name="CER Borgo")
    days = 30
    start = NOW - days * 24 * H
    hours = pd.date_range(start, NOW, freq="h", inclusive="left", tz="UTC")
    clear = expected_pv_kwh(hours, 1.0)  # only to shape a plausible weather series below
    ghi = 900.0 * clear.to_numpy() / max(clear.max(), 1e-9)
    weather = pd.DataFrame({"ghi_w_m2": ghi, "temp_air_c": 22.0}, index=hours)
    production = 0.4 * expected_pv_kwh(hours, 50.0, weather=weather).to_numpy()
    flat = np.full(len(hours), 1.0)
    zero = np.zeros(len(hours))
    frame = pd.concat(
        [rows(P1, start, flat, zero), rows(P2, start, flat[:-8], zero[:-8]), rows(PV, start, zero, production)]
    )
    try:
        with session_factory(engine)() as session:
            cid = save_community(session, c)
            session.add_all(
                WeatherObservation(community_id=cid, ts=t.to_pydatetime(), ghi_w_m2=float(g), temp_air_c=22.0)
                for t, g in zip(hours, ghi, strict=True)
            )
            session.commit()
            create_user(session, email="gestore@cer-borgo.it", password_hash="x", display_name="Gestore")
        import_readings(engine, cid, to_readings(frame), source="test")
    finally:
        engine.dispose()
    return Db(url, cid, to_readings(rows(P2, NOW - 8 * H, flat[:8], zero[:8])))


def stored(url: str) -> list[AlarmRow]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(AlarmRow).order_by(AlarmRow.id)))
    finally:
        engine.dispose()


def test_check_opens_emails_and_closes(db: Db) -> None:
    base = ["check", "--db", db.url, "--community", str(db.community_id), "--now", NOW_ARG]
    with smtp_sink() as sink:
        smtp = ["--email-to", "gestore@cer-borgo.it", "--smtp-host", sink.host, "--smtp-port", str(sink.port)]
        res = runner.invoke(alarms_app, [*base, *smtp])
        assert res.exit_code == 0, res.output
        found = {(a.kind, a.subject, a.status) for a in stored(db.url)}
        assert found == {
            ("missing_data", P2, "open"),
            ("plant_underperformance", "p1", "open"),
            ("sharing_below_target", "configurazione", "open"),
        }
        assert all(a.notified_at is not None for a in stored(db.url))
        for text in ("Dati mancanti", "Impianto sotto le attese", "Condivisione sotto", "(nuovo)"):
            assert text in res.stdout
        assert "3 nuovi" in res.output
        [mail] = sink.messages
        assert mail.rcpt_tos == ["gestore@cer-borgo.it"]
        assert mail.message["Subject"] == "[Condivisa] 3 allarmi aperti — CER Borgo"
        body = mail.message.get_content()
        assert P2 in body and "meteo misurato" in body and "10 giugno 2025 alle 12:00" in body

        again = runner.invoke(alarms_app, [*base, *smtp])  # nothing new: no second email
        assert again.exit_code == 0, again.output
        assert "0 nuovi, 3 ancora presenti, 0 chiusi" in again.output
        assert len(sink.messages) == 1

    engine = make_engine(db.url)
    import_readings(engine, db.community_id, db.late_p2, source="ritardo")
    engine.dispose()
    later = runner.invoke(alarms_app, base)
    assert later.exit_code == 0, later.output
    assert "1 chiusi" in later.output
    assert {a.kind: a.status for a in stored(db.url)}["missing_data"] == "closed"


def test_list_ack_close(db: Db) -> None:
    url = ["--db", db.url]
    assert (
        runner.invoke(alarms_app, ["check", *url, "--community", str(db.community_id), "--now", NOW_ARG]).exit_code == 0
    )
    first = stored(db.url)[0]
    listed = runner.invoke(alarms_app, ["list", *url, "--community", str(db.community_id), "--status", "open"])
    assert listed.exit_code == 0, listed.output
    assert "Dati mancanti" in listed.stdout and "aperto" in listed.stdout

    res = runner.invoke(alarms_app, ["ack", str(first.id), *url, "--user", "Gestore@cer-borgo.it"])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == f"Allarme {first.id} preso in carico"
    acked = stored(db.url)[0]
    assert acked.status == "acknowledged" and acked.acknowledged_by is not None

    res = runner.invoke(alarms_app, ["close", str(first.id), *url])
    assert res.exit_code == 0 and res.stdout.strip() == f"Allarme {first.id} chiuso"
    res = runner.invoke(alarms_app, ["ack", str(first.id), *url])
    assert res.exit_code == 2 and "chiuso" in res.output
    closed = runner.invoke(alarms_app, ["list", *url, "--community", str(db.community_id), "--status", "closed"])
    assert "Dati mancanti" in closed.stdout and "Impianto" not in closed.stdout


def test_email_failure_exits_1_and_is_retried(db: Db) -> None:
    base = ["check", "--db", db.url, "--community", str(db.community_id), "--now", NOW_ARG]
    dead = free_port()
    res = runner.invoke(
        alarms_app, [*base, "--email-to", "g@x.it", "--smtp-host", "127.0.0.1", "--smtp-port", str(dead)]
    )
    assert res.exit_code == 1
    assert f"127.0.0.1:{dead}" in res.output and "Errore di invio email" in res.output
    assert len(stored(db.url)) == 3 and all(a.notified_at is None for a in stored(db.url))
    with smtp_sink() as sink:
        res = runner.invoke(
            alarms_app,
            [*base, "--email-to", "g@x.it"],
            env={"CONDIVISA_SMTP_HOST": sink.host, "CONDIVISA_SMTP_PORT": str(sink.port)},
        )
        assert res.exit_code == 0, res.output
    [mail] = sink.messages  # the alarms opened by the failed run are sent now
    assert mail.message["Subject"].startswith("[Condivisa] 3 allarmi aperti")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--now", "ieri"], "--now"),
        (["--now", "2025-10-26T02:30"], "--now"),  # ambiguous local time
        (["--email-to", "gestore"], "--email-to"),
        (["--email-to", "g@x.it"], "CONDIVISA_SMTP_HOST"),
    ],
)
def test_bad_input_exits_2_naming_the_field(db: Db, args: list[str], field: str) -> None:
    res = runner.invoke(alarms_app, ["check", "--db", db.url, "--community", str(db.community_id), *args])
    assert res.exit_code == 2, res.output
    assert field in res.output
    assert stored(db.url) == []


def test_unknown_ids_and_databases(db: Db, tmp_path: Path) -> None:
    res = runner.invoke(alarms_app, ["check", "--db", db.url, "--community", "99", "--now", NOW_ARG])
    assert res.exit_code == 2 and "non trovata" in res.output
    assert runner.invoke(alarms_app, ["close", "99", "--db", db.url]).exit_code == 2
    res = runner.invoke(alarms_app, ["list", "--db", db.url, "--community", "1", "--status", "nuovo"])
    assert res.exit_code == 2 and "--status" in res.output
    res = runner.invoke(alarms_app, ["list", "--db", f"sqlite:///{tmp_path / 'nessuno.db'}", "--community", "1"])
    assert res.exit_code == 2 and "--db" in res.output


def test_parse_now() -> None:
    assert parse_now("2025-06-10T12:00+02:00") == dt.datetime(2025, 6, 10, 10, tzinfo=dt.UTC)
    assert parse_now("2025-01-10T12:00") == dt.datetime(2025, 1, 10, 11, tzinfo=dt.UTC)  # local, CET
    assert parse_now(None).tzinfo is not None
    with pytest.raises(InputError):
        parse_now("2025-03-30T02:30")  # does not exist in Italy
    assert pd.Timestamp(parse_now("2025-06-10T12:00")).tz_convert(LOCAL_TZ).hour == 12
