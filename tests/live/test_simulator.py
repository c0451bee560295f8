"""The demo simulator: quarter-hour readings of every POD, messages that parse back to the same values, pacing,
and a publisher that keeps and resends what it published while the (real) broker was down."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import pandas as pd
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from condivisa.demo import demo_community, demo_readings
from condivisa.live.payload import parse_message
from condivisa.live.simulator import (
    Publisher,
    demo_quarter_hours,
    demo_weather,
    reading_messages,
    simulate,
    weather_messages,
)
from tests.live.broker import Mosquitto


@pytest.fixture(scope="module")
def june() -> pd.DataFrame:
    return demo_quarter_hours(demo_community(), dt.date(2025, 6, 1), 2)


def test_every_pod_every_quarter_hour(june: pd.DataFrame) -> None:
    pods = {p.pod for m in demo_community().members for p in m.pods} | {p.pod for p in demo_community().plants}
    assert set(june["pod"]) == pods
    assert (june.groupby("pod").size() == 2 * 96).all()
    assert june["timestamp"].min() == pd.Timestamp("2025-05-31T22:00:00Z")
    assert june["timestamp"].is_monotonic_increasing
    assert not june.duplicated(["pod", "timestamp"]).any()
    assert (june[["withdrawn_kwh", "injected_kwh"]] >= 0).all().all()
    assert june["injected_kwh"].sum() > 0  # the plants produce in June


def test_quarters_add_up_to_the_demo_hours(june: pd.DataFrame) -> None:
    year = demo_readings(demo_community(), 2025).frame
    hourly = year[year["pod"] == "IT001E10000003"].set_index("timestamp")["withdrawn_kwh"]
    mine = june[june["pod"] == "IT001E10000003"].set_index("timestamp")["withdrawn_kwh"]
    summed = mine.groupby(mine.index.floor("h")).sum()
    assert np.abs(summed - hourly.reindex(summed.index)).max() <= 0.0025  # four roundings to the Wh
    assert mine.nunique() > 24  # not four equal quarters


def test_dst_day_and_determinism() -> None:
    day = demo_quarter_hours(demo_community(), dt.date(2025, 3, 30), 1)
    assert (day.groupby("pod").size() == 92).all()  # 23 hours
    pd.testing.assert_frame_equal(day, demo_quarter_hours(demo_community(), dt.date(2025, 3, 30), 1))


def test_messages_parse_back_to_the_same_values(june: pd.DataFrame) -> None:
    frame = june.iloc[:500]
    back = [parse_message(m.topic, m.payload) for m in reading_messages(12, frame)]
    assert all(b.ok and b.community_id == 12 for b in back)
    got = pd.DataFrame(
        {
            "pod": [b.readings[0].pod for b in back],
            "timestamp": [b.readings[0].timestamp for b in back],
            "withdrawn_kwh": [b.readings[0].withdrawn_kwh for b in back],
            "injected_kwh": [b.readings[0].injected_kwh for b in back],
        }
    )
    got["timestamp"] = pd.DatetimeIndex(got["timestamp"]).as_unit("us")
    pd.testing.assert_frame_equal(got, frame.reset_index(drop=True), check_dtype=False)
    weather = [parse_message(m.topic, m.payload) for m in weather_messages(12, demo_weather(dt.date(2025, 6, 1), 1))]
    assert len(weather) == 24 and all(w.ok and len(w.weather) == 1 for w in weather)
    assert max(w.weather[0].ghi_w_m2 for w in weather) > 500


class Collector:
    """A plain paho subscriber with a persistent session that records every payload it gets."""

    def __init__(self, port: int, client_id: str = "collector") -> None:
        self.payloads: list[bytes] = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe("condivisa/#", qos=1)
        self.client.on_subscribe = lambda *a: self.ready.set()
        self.client.on_message = self.on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect_async("127.0.0.1", port, clean_start=False, properties=props)
        self.client.loop_start()

    def on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.payloads.append(bytes(message.payload))

    def wait_for(self, expected: set[bytes], timeout: float = 30.0) -> set[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                got = set(self.payloads)
            if expected <= got:
                return got
            time.sleep(0.05)
        return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_publisher_resends_what_it_published_during_an_outage(tmp_path: Path, june: pd.DataFrame) -> None:
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    collector = Collector(broker.port)
    assert collector.ready.wait(10)
    messages = list(reading_messages(3, june.iloc[:500]))
    publisher = Publisher("127.0.0.1", broker.port, "sim-outage", window=1000)
    publisher.connect(timeout=10)
    try:
        for m in messages[:200]:
            publisher.publish(m.topic, m.payload)
        publisher.flush(timeout=10)
        broker.stop()  # clean stop: the collector's session is saved
        time.sleep(0.3)
        for m in messages[200:]:
            publisher.publish(m.topic, m.payload)  # not connected: kept by paho
        assert publisher.acked == 200 and publisher.sent == 500
        broker.start()
        publisher.flush(timeout=30)  # reconnected and resent
        assert publisher.acked == 500 and publisher.refused == 0
        got = collector.wait_for({m.payload for m in messages})
        assert got == {m.payload for m in messages}
    finally:
        publisher.close()
        collector.close()
        broker.stop()


def test_paho_marks_offline_publications_as_failed_but_sends_them(tmp_path: Path) -> None:
    """Why :class:`Publisher` counts PUBACKs instead of calling ``wait_for_publish`` (paho 2.2 behaviour)."""
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    collector = Collector(broker.port, "collector-2")
    assert collector.ready.wait(10)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="raw-pub", protocol=mqtt.MQTTv5)
    client.reconnect_delay_set(1, 2)
    connected = threading.Event()
    client.on_connect = lambda *a: connected.set()
    client.on_disconnect = lambda *a: connected.clear()
    client.connect_async("127.0.0.1", broker.port)
    client.loop_start()
    try:
        assert connected.wait(10)
        broker.stop()
        deadline = time.monotonic() + 10
        while connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        info = client.publish("condivisa/1/IT001E10000002/reading", b"offline", qos=1)
        assert info.rc == mqtt.MQTT_ERR_NO_CONN
        with pytest.raises(RuntimeError):
            info.wait_for_publish(0.1)
        broker.start()
        assert collector.wait_for({b"offline"}) >= {b"offline"}
    finally:
        client.disconnect()
        client.loop_stop()
        collector.close()
        broker.stop()


def test_simulate_paced(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    collector = Collector(broker.port, "collector-3")
    assert collector.ready.wait(10)
    try:
        # 8 quarter-hours of 40 PODs; at 3,600 simulated s per s the last is due 105 min = 1.75 s after the first
        began = time.monotonic()
        result = simulate("127.0.0.1", broker.port, 4, dt.date(2025, 6, 1), 1, speed=3600, limit=320, weather=False)
        elapsed = time.monotonic() - began
        assert result.readings == 320 and result.weather == 0
        assert 1.7 <= result.seconds <= elapsed
        expected = {
            m.payload
            for m in reading_messages(4, demo_quarter_hours(demo_community(), dt.date(2025, 6, 1), 1).iloc[:320])
        }
        assert collector.wait_for(expected) == expected
    finally:
        collector.close()
        broker.stop()
