"""Live data over MQTT into the database, with a real Mosquitto of the test's own, on SQLite and PostgreSQL.

- good readings are stored once however often they arrive, a later value is a correction, bad messages and
  readings of unknown PODs land in the quarantine with the field named, weather is upserted;
- the command-line subscriber stops cleanly on SIGTERM and, restarted with the same client id, gets what was
  published while it was down;
- the fault test: 100,000 readings published while the broker is restarted twice and the subscriber is killed
  with SIGKILL twice; every reading ends up stored exactly once with the published values.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pandas as pd
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from condivisa.cli.live import live_app
from condivisa.demo import demo_community
from condivisa.live.payload import WeatherReading, reading_topic, weather_topic
from condivisa.live.simulator import Publisher, demo_quarter_hours, reading_messages
from condivisa.live.subscriber import LiveSubscriber, SubscriberSettings
from condivisa.live.weather_store import load_weather, upsert_weather
from condivisa.store import load_readings, make_engine, save_community, upgrade
from condivisa.store.models import QuarantinedReading, ReadingCorrection, ReadingRow
from tests.live.broker import Mosquitto, require_mosquitto
from tests.store.conftest import PgDatabases

ROOT = Path(__file__).resolve().parents[2]
MEMBER_POD = "IT001E10000003"
PLANT_POD = "IT001E10000001"
STRANGER_POD = "IT001E99999999"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    require_mosquitto()
    b = Mosquitto(tmp_path / "broker")
    b.start()
    yield b
    b.stop()


@pytest.fixture
def demo_id(session: Session) -> int:
    return save_community(session, demo_community(), source="test")


class RawPublisher:
    """A plain paho QoS 1 publisher for hand-made messages."""

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv5)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.count = 0
        self.qos1 = 0

    def send(
        self, topic: str, payload: bytes | dict[str, Any], qos: int = 1, properties: Properties | None = None
    ) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.client.publish(topic, data, qos=qos, properties=properties).wait_for_publish(10)
        self.count += 1
        self.qos1 += qos == 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_until(predicate: Any, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timeout waiting for {what}")


def reading(ts: str, w: float, i: float = 0.0, minutes: int = 15) -> dict[str, Any]:
    return {"ts": ts, "interval_minutes": minutes, "withdrawn_kwh": w, "injected_kwh": i}


def test_messages_into_the_database(engine: Engine, session: Session, demo_id: int, broker: Mosquitto) -> None:
    settings = SubscriberSettings(port=broker.port, client_id="test-ingest", batch_size=100, flush_seconds=0.1)
    sub = LiveSubscriber(engine, settings)
    sub.start()
    pub = RawPublisher(broker.port)
    try:
        assert sub.subscribed.wait(10)
        member, plant = reading_topic(demo_id, MEMBER_POD), reading_topic(demo_id, PLANT_POD)
        for q in range(4):
            pub.send(member, reading(f"2025-06-01T12:{15 * q:02d}:00+02:00", 0.1 * (q + 1)))
        pub.send(member, reading("2025-06-01T12:00:00+02:00", 0.1))  # the same again: stored once
        pub.send(
            plant,
            {
                "readings": [
                    reading("2025-06-01T13:00:00+02:00", 0.0, 5.5),
                    reading("2025-06-01T13:00:00+02:00", 0.0, 5.5),  # identical twice in a batch: no conflict
                    {**reading("2025-06-01T13:15:00+02:00", 0.0, 6.0), "estimated": True},
                    reading("2025-06-01T13:30:00+02:00", -2.0, 1.0),  # bad item: quarantined
                ],
                "device": "inverter-1",
            },
        )
        pub.send(member, reading("2025-06-01T14:00:00+02:00", 1.0, minutes=60))
        pub.send(member, reading("2025-06-01T14:15:00+02:00", 0.2, minutes=60))  # not on the hour
        pub.send(member, b"{not json")
        pub.send(reading_topic(demo_id, STRANGER_POD), reading("2025-06-01T12:00:00+02:00", 0.7))
        pub.send(reading_topic(demo_id + 1000, MEMBER_POD), reading("2025-06-01T12:00:00+02:00", 0.7))  # no such
        pub.send("condivisa/abc/weather", {"ts": "2025-06-01T12:00:00+02:00", "ghi_w_m2": 800})  # bad topic
        w = weather_topic(demo_id)
        pub.send(w, {"ts": "2025-06-01T12:00:00+02:00", "ghi_w_m2": 800.0, "temp_air_c": 25.0, "wind_speed_m_s": 2})
        pub.send(w, {"ts": "2025-06-01T12:00:00+02:00", "ghi_w_m2": 800.0, "temp_air_c": 25.0, "wind_speed_m_s": 2})
        pub.send(w, {"ts": "2025-06-01T13:00:00+02:00", "ghi_w_m2": 2500.0})
        pub.send(member, reading("2025-06-01T15:00:00+02:00", 0.3), qos=0)  # QoS 0: stored, nothing to acknowledge
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = ("firmware", "1.2")
        props.ContentType = "application/json"
        pub.send(member, reading("2025-06-01T15:15:00+02:00", 0.4), properties=props)  # paho decodes these
        wait_until(lambda: sub.counters.acked == pub.qos1, what="every message acknowledged")
        # A later value for a stored interval is a correction.
        pub.send(member, reading("2025-06-01T12:15:00+02:00", 0.25))
        wait_until(lambda: sub.counters.acked == pub.qos1, what="the correction acknowledged")
    finally:
        pub.close()
        counters = sub.stop()

    stored = load_readings(engine, demo_id).frame.set_index(["pod", "timestamp"])
    assert len(stored) == 9
    t = pd.Timestamp
    assert stored.loc[(MEMBER_POD, t("2025-06-01T10:00:00Z")), "withdrawn_kwh"] == 0.1
    assert stored.loc[(MEMBER_POD, t("2025-06-01T10:15:00Z")), "withdrawn_kwh"] == 0.25
    assert stored.loc[(PLANT_POD, t("2025-06-01T11:15:00Z")), "injected_kwh"] == 6.0
    assert stored.loc[(MEMBER_POD, t("2025-06-01T12:00:00Z")), "withdrawn_kwh"] == 1.0
    assert stored.loc[(MEMBER_POD, t("2025-06-01T13:00:00Z")), "withdrawn_kwh"] == 0.3
    assert stored.loc[(MEMBER_POD, t("2025-06-01T13:15:00Z")), "withdrawn_kwh"] == 0.4
    rows = session.scalars(select(ReadingRow).order_by(ReadingRow.pod, ReadingRow.ts)).all()
    assert {(r.pod, r.interval_minutes, r.estimated) for r in rows} == {
        (MEMBER_POD, 15, False),
        (MEMBER_POD, 60, False),
        (PLANT_POD, 15, False),
        (PLANT_POD, 15, True),
    }
    corrections = session.scalars(select(ReadingCorrection)).all()
    assert [(c.pod, c.old_withdrawn_kwh, c.new_withdrawn_kwh) for c in corrections] == [(MEMBER_POD, 0.2, 0.25)]

    held = session.scalars(select(QuarantinedReading).order_by(QuarantinedReading.id)).all()
    by_field = {q.field: q for q in held}
    assert sorted(str(f) for f in by_field) == ["None", "ghi_w_m2", "pod", "readings[3].withdrawn_kwh", "ts"]
    assert all(q.community_id == demo_id and q.status == "open" for q in held)
    bad_item = by_field["readings[3].withdrawn_kwh"]
    assert bad_item.source == plant and bad_item.pod == PLANT_POD and bad_item.withdrawn_kwh == -2.0
    assert "negativa" in bad_item.reason and json.loads(bad_item.raw or "")["withdrawn_kwh"] == -2.0
    assert by_field["ts"].reason.startswith("ts:") and "ora esatta" in by_field["ts"].reason
    stranger = by_field["pod"]
    assert stranger.pod == STRANGER_POD and stranger.withdrawn_kwh == 0.7 and "non appartiene" in stranger.reason
    assert stranger.ts is not None and pd.Timestamp(stranger.ts) == t("2025-06-01T10:00:00Z")
    assert "JSON" in by_field[None].reason and by_field[None].raw == "{not json"
    assert by_field["ghi_w_m2"].source == w

    weather = load_weather(engine, demo_id)
    assert weather.to_dict("records") == [
        {"timestamp": t("2025-06-01T10:00:00Z"), "ghi_w_m2": 800.0, "temp_air_c": 25.0, "wind_speed_m_s": 2.0}
    ]
    assert counters.discarded == 2 and counters.quarantined == 5 and counters.duplicates >= 1
    assert counters.received == pub.count and counters.acked == pub.qos1 and counters.stale == 0


def test_weather_upsert_is_idempotent(engine: Engine, demo_id: int) -> None:
    obs = [WeatherReading(1_748_772_000_000_000, 100.0, 20.0, None), WeatherReading(1_748_772_900_000_000, 150.0)]
    assert upsert_weather(engine, demo_id, obs) == 2
    assert upsert_weather(engine, demo_id, obs) == 2
    upsert_weather(engine, demo_id, [WeatherReading(1_748_772_000_000_000, 120.0, None, 3.0)])
    got = load_weather(engine, demo_id)
    assert got["ghi_w_m2"].tolist() == [120.0, 150.0]
    assert got["temp_air_c"].isna().tolist() == [True, True] and got["wind_speed_m_s"].tolist()[0] == 3.0


def test_plain_paho_acknowledgements(tmp_path: Path, broker: Mosquitto) -> None:
    """The subscriber with paho's own socket reads and one ``client.ack`` per message."""
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        community_id = save_community(session, demo_community())
    frame = demo_quarter_hours(demo_community(), dt.date(2025, 6, 1), 1).iloc[:400]
    settings = SubscriberSettings(
        port=broker.port, client_id="plain", batch_size=150, flush_seconds=0.1, fast_paho=False
    )
    sub = LiveSubscriber(engine, settings)
    sub.start()
    try:
        assert sub.subscribed.wait(10)
        pub = Publisher("127.0.0.1", broker.port, "plain-pub")
        pub.connect(10)
        for m in reading_messages(community_id, frame):
            pub.publish(m.topic, m.payload)
        pub.flush(10)
        pub.close()
        wait_until(lambda: sub.counters.acked == 400, what="400 acknowledgements")
    finally:
        sub.stop()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ReadingRow)).scalar_one() == 400
    engine.dispose()


def _subscriber(url: str, port: int, client_id: str, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "condivisa.cli.live",
        "subscribe",
        "--db",
        url,
        "--port",
        str(port),
        "--client-id",
        client_id,
        *extra,
    ]
    with log.open("ab") as out:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=out)


def _wait_in_log(log: Path, words: str, after: int = 0, timeout: float = 60.0) -> None:
    wait_until(lambda: words in log.read_text(errors="replace")[after:], timeout, f"{words!r} in {log}")


def _count(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM readings")).scalar_one())
    finally:
        engine.dispose()


def test_cli_subscriber_stops_cleanly_and_resumes_its_session(tmp_path: Path, broker: Mosquitto) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        community_id = save_community(session, demo_community())
    engine.dispose()
    frame = demo_quarter_hours(demo_community(), dt.date(2025, 6, 1), 1)
    messages = list(reading_messages(community_id, frame.iloc[:600]))
    log = tmp_path / "subscriber.log"
    proc = _subscriber(url, broker.port, "cli-ingest", log, "--flush-seconds", "0.1")
    try:
        _wait_in_log(log, "sottoscrizione attiva")
        pub = Publisher("127.0.0.1", broker.port, "cli-pub")
        pub.connect(10)
        for m in messages[:300]:
            pub.publish(m.topic, m.payload)
        pub.flush(10)
        wait_until(lambda: _count(url) == 300, what="300 readings stored")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        text_log = log.read_text()
        assert "chiusura ordinata" in text_log and "Fermato" in text_log
        size = len(text_log)
        for m in messages[300:]:  # the subscriber is down: the broker queues them in its session
            pub.publish(m.topic, m.payload)
        pub.flush(10)
        pub.close()
        proc = _subscriber(url, broker.port, "cli-ingest", log, "--flush-seconds", "0.1")
        _wait_in_log(log, "sessione ripresa", after=size)
        wait_until(lambda: _count(url) == 600, what="600 readings stored")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_cli_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(live_app, ["subscribe", "--db", f"sqlite:///{tmp_path / 'missing.db'}"])
    assert r.exit_code == 2 and "non esiste" in r.output
    r = runner.invoke(live_app, ["simulate", "--community", "1", "--date", "01/06/2025"])
    assert r.exit_code == 2 and "--date" in r.output


@pytest.mark.postgres
def test_database_connections_killed_mid_stream(pg_migrated: str, broker: Mosquitto) -> None:
    """PostgreSQL drops the subscriber's connections while it writes: the batches are retried, nothing lost."""
    engine = make_engine(pg_migrated)
    try:
        with Session(engine) as session:
            community_id = save_community(session, demo_community())
        frame = demo_quarter_hours(demo_community(), dt.date(2025, 7, 1), 1).iloc[:3000]
        sub = LiveSubscriber(engine, SubscriberSettings(port=broker.port, client_id="pg-drop", flush_seconds=0.05))
        sub.start()
        assert sub.subscribed.wait(10)
        pub = Publisher("127.0.0.1", broker.port, "pg-drop-pub")
        pub.connect(10)
        conninfo = pg_migrated.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo, autocommit=True) as admin:
            for k, m in enumerate(reading_messages(community_id, frame)):
                pub.publish(m.topic, m.payload)
                if k % 500 == 250:
                    time.sleep(0.1)
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
        pub.flush(30)
        pub.close()
        wait_until(lambda: sub.counters.acked == 3000, 60, "3000 acknowledgements")
        counters = sub.stop()
        sys.stderr.write(f"db errors retried: {counters.db_errors}\n")
        stored = load_readings(engine, community_id).frame
        assert len(stored) == 3000 and not stored.duplicated(["pod", "timestamp"]).any()
    finally:
        engine.dispose()
        _truncate_all(pg_migrated)


def _truncate_all(url: str) -> None:
    from tests.store.conftest import _truncate

    _truncate(url)


FAULT_READINGS = 100_000
FAULT_START = dt.date(2025, 5, 1)


@pytest.mark.slow
@pytest.mark.postgres
def test_fault_tolerance(tmp_path: Path, pg_databases: PgDatabases) -> None:
    """100,000 readings through broker restarts and SIGKILLed subscribers: each stored exactly once."""
    require_mosquitto()
    url = pg_databases.create()
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        community_id = save_community(session, demo_community())
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    log = tmp_path / "subscriber.log"
    sub = _subscriber(url, broker.port, "fault-ingest", log, "--batch", "5000", "--flush-seconds", "0.2")
    publisher: subprocess.Popen[bytes] | None = None
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    counts_at_faults: list[int] = []
    publishing: list[bool] = []
    started = time.monotonic()
    try:
        _wait_in_log(log, "sottoscrizione attiva")
        days = FAULT_READINGS // 3840 + 1
        # 2,500 quarter-hours at 60,000 simulated seconds per second: about 38 s of publishing
        publisher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "condivisa.cli.live",
                "simulate",
                "--port",
                str(broker.port),
                "--community",
                str(community_id),
                "--date",
                FAULT_START.isoformat(),
                "--days",
                str(days),
                "--limit",
                str(FAULT_READINGS),
                "--no-weather",
                "--speed",
                "60000",
                "--client-id",
                "fault-sim",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=(tmp_path / "publisher.log").open("wb"),
        )
        with psycopg.connect(conninfo, autocommit=True) as conn:

            def count() -> int:
                row = conn.execute("SELECT count(*) FROM readings").fetchone()
                return int(row[0]) if row else 0

            def restart_broker() -> None:
                broker.stop()  # SIGTERM: Mosquitto saves sessions and queued messages
                time.sleep(0.5)
                broker.start()

            def kill_subscriber() -> None:
                nonlocal sub
                sub.kill()  # SIGKILL: no flush, no acknowledgement, no goodbye
                sub.wait(10)
                time.sleep(0.3)
                sub = _subscriber(url, broker.port, "fault-ingest", log, "--batch", "5000", "--flush-seconds", "0.2")

            for threshold, fault in (
                (10_000, restart_broker),
                (25_000, kill_subscriber),
                (40_000, restart_broker),
                (55_000, kill_subscriber),
            ):
                wait_until(lambda t=threshold: count() >= t, 90, f"{threshold} readings")
                counts_at_faults.append(count())
                publishing.append(publisher.poll() is None)
                fault()
            assert publisher.wait(120) == 0
            assert publisher.stdout is not None and publisher.stdout.read().strip() == str(FAULT_READINGS).encode()
            wait_until(lambda: count() >= FAULT_READINGS, 90, "every reading")
            time.sleep(0.5)  # a late duplicate would show now
        sub.send_signal(signal.SIGTERM)
        assert sub.wait(30) == 0
    finally:
        for proc in (sub, publisher):
            if proc is not None and proc.poll() is None:
                proc.kill()
        broker.stop()
    seconds = time.monotonic() - started

    assert all(0 < c < FAULT_READINGS for c in counts_at_faults), counts_at_faults  # all while delivering
    assert publishing[:2] == [True, True], publishing  # a broker restart and a kill while publishing, at least
    expected = demo_quarter_hours(demo_community(), FAULT_START, FAULT_READINGS // 3840 + 1).iloc[:FAULT_READINGS]
    stored = load_readings(engine, community_id).frame
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM readings")).scalar_one() == FAULT_READINGS
        assert conn.execute(text("SELECT count(DISTINCT (pod, ts)) FROM readings")).scalar_one() == FAULT_READINGS
        assert conn.execute(select(func.count()).select_from(QuarantinedReading)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(ReadingCorrection)).scalar_one() == 0
    engine.dispose()
    merged = expected.merge(stored, on=["pod", "timestamp"], how="outer", suffixes=("", "_db"), indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["withdrawn_kwh"] == merged["withdrawn_kwh_db"]).all()
    assert (merged["injected_kwh"] == merged["injected_kwh_db"]).all()
    final = log.read_text().rsplit("Fermato:", 1)[-1]
    assert "ripetuti 0)" not in final  # the last subscriber got redeliveries of what its predecessor left unacked
    sys.stderr.write(
        f"fault test: {FAULT_READINGS} readings, faults at {counts_at_faults} stored (publishing: {publishing}), "
        f"{seconds:.1f} s\n"
    )
