"""Publishes the demo community's meter readings over MQTT, as its meters would: for demos, tests and benchmarks.

The readings are the demo's synthetic year (:func:`condivisa.demo.demo_readings`: load shapes per member kind,
pvlib production of the two plants on the typical year near Turin), given **every quarter-hour for every POD**:
plant points are quarter-hourly already; the hourly consumption of the other points is split into four
quarter-hours with a little deterministic variation (the four add up to the hour, before rounding to the Wh).
Weather comes from the same typical year, one observation an hour. Each reading is one message on
``condivisa/<community_id>/<pod>/reading`` (see :mod:`condivisa.live.payload`), in time order.

Timing: ``speed`` is simulated seconds per real second; each interval is published when it ends in simulated time
(a meter reports a quarter-hour after it is over). ``speed=0`` publishes as fast as the broker takes them.

Delivery: QoS 1 over a persistent MQTT 5 session (fixed client id, ``clean_start=False``). paho keeps every QoS 1
message in memory until the broker's PUBACK and, after a lost connection, sends again those not acknowledged
(``_messages_reconnect_reset_out`` puts them back in the *publish* state whatever the session flag; the test
suite checks it by restarting the broker). A message published while disconnected is queued the same way, but
paho 2.2 marks its ``MQTTMessageInfo`` with ``rc = MQTT_ERR_NO_CONN`` and ``wait_for_publish()`` raises for it even
though it is sent later; so :class:`Publisher` counts PUBACKs in ``on_publish`` instead and, at the end, waits
until every message it published has been acknowledged by the broker (the equivalent of ``wait_for_publish`` on
each). The messages not yet acknowledged are bounded by ``window`` (below paho's 65,535 packet ids); paho's own
in-flight limit is switched off (0), because paho rescans its whole outgoing queue on every PUBACK when it is set.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import pandas as pd
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from condivisa.demo import demo_community, demo_readings
from condivisa.engine.timegrid import Period, iso_local
from condivisa.live.payload import MAX_BATCH, reading_topic, weather_topic
from condivisa.live.subscriber import BufferedClient
from condivisa.model.community import Community
from condivisa.production import typical_year
from condivisa.production.weather import lay_on_hours

log = logging.getLogger("condivisa.live")

QUARTER = pd.Timedelta(minutes=15)
HOUR = pd.Timedelta(hours=1)


def demo_quarter_hours(community: Community, start: dt.date, days: int, *, seed: int = 2025) -> pd.DataFrame:
    """Quarter-hour readings of every POD of the demo community for ``days`` local days from ``start``.

    Returns
    -------
    pandas.DataFrame
        ``pod``, ``timestamp`` (UTC start of the quarter-hour), ``withdrawn_kwh``, ``injected_kwh`` [kWh, rounded
        to the Wh], sorted by instant then POD (the order of publication). Deterministic for a given ``seed``.
    """
    if days < 1:
        raise ValueError("days deve essere >= 1")
    period = Period(start, start + dt.timedelta(days=days - 1))
    frames = []
    for year in range(period.start_utc.year, period.end_utc.year + 1):
        readings = demo_readings(community, year, seed=seed)
        f = readings.frame
        f = f[(f["timestamp"] >= period.start_utc) & (f["timestamp"] < period.end_utc)]
        rng = np.random.default_rng([seed, year])
        for pod, g in f.groupby("pod", sort=True):
            g = g.sort_values("timestamp")
            if readings.interval_minutes[str(pod)] == 15:
                frames.append(g[["pod", "timestamp", "withdrawn_kwh", "injected_kwh"]])
                continue
            n = len(g)
            weights = rng.lognormal(0.0, 0.08, (n, 4))
            weights /= weights.sum(axis=1, keepdims=True)
            base = pd.DatetimeIndex(g["timestamp"]).tz_convert("UTC").tz_localize(None).as_unit("us").to_numpy()
            stamps = (base[:, None] + np.arange(4) * np.timedelta64(15, "m")).reshape(-1)
            frames.append(
                pd.DataFrame(
                    {
                        "pod": str(pod),
                        "timestamp": pd.DatetimeIndex(stamps).tz_localize("UTC"),
                        "withdrawn_kwh": (g["withdrawn_kwh"].to_numpy()[:, None] * weights).reshape(-1),
                        "injected_kwh": (g["injected_kwh"].to_numpy()[:, None] * weights).reshape(-1),
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True)
    out["timestamp"] = pd.DatetimeIndex(out["timestamp"]).tz_convert("UTC").as_unit("us")
    out[["withdrawn_kwh", "injected_kwh"]] = out[["withdrawn_kwh", "injected_kwh"]].round(3)
    return out.sort_values(["timestamp", "pod"], kind="stable").reset_index(drop=True)


def demo_weather(start: dt.date, days: int) -> pd.DataFrame:
    """Hourly weather of the typical year near Turin laid on ``days`` local days from ``start``.

    Returns
    -------
    pandas.DataFrame
        ``timestamp`` (UTC start of the hour), ``ghi_w_m2`` [W/m²], ``temp_air_c`` [°C], ``wind_speed_m_s`` [m/s].
    """
    hours = Period(start, start + dt.timedelta(days=days - 1)).hours()
    data = lay_on_hours(typical_year(), hours).data
    return pd.DataFrame(
        {
            "timestamp": hours,
            "ghi_w_m2": np.clip(data["ghi"].to_numpy(dtype=np.float64), 0.0, None).round(1),
            "temp_air_c": data["temp_air"].to_numpy(dtype=np.float64).round(2),
            "wind_speed_m_s": data["wind_speed"].to_numpy(dtype=np.float64).round(2),
        }
    )


@dataclass(frozen=True)
class Message:
    """A message ready to publish: ``due`` is the simulated instant it is sent (end of its interval), ``readings``
    how many readings it carries (0 for weather)."""

    due: pd.Timestamp
    topic: str
    payload: bytes
    readings: int


def reading_messages(community_id: int, frame: pd.DataFrame, per_message: int = 1) -> Iterator[Message]:
    """Messages of the readings of ``frame`` (as :func:`demo_quarter_hours` gives it), in time order.

    Parameters
    ----------
    per_message : int
        1: one message per reading; K > 1: batch messages (``{"readings": [...]}``) of K consecutive readings of a
        POD, sent when the last of them is due.
    """
    if not 1 <= per_message <= MAX_BATCH:
        raise ValueError(f"per_message deve essere tra 1 e {MAX_BATCH}")
    ts_text = iso_local(frame["timestamp"]).tolist()
    pods = frame["pod"].tolist()
    topics = {pod: reading_topic(community_id, pod) for pod in set(pods)}
    due = (pd.DatetimeIndex(frame["timestamp"]) + QUARTER).tolist()
    bodies = [
        f'{{"ts":"{ts}","interval_minutes":15,"withdrawn_kwh":{w!r},"injected_kwh":{i!r}}}'
        for ts, w, i in zip(ts_text, frame["withdrawn_kwh"].tolist(), frame["injected_kwh"].tolist(), strict=True)
    ]
    if per_message == 1:
        for pod, body, end in zip(pods, bodies, due, strict=True):
            yield Message(end, topics[pod], body.encode(), 1)
        return
    rows: dict[str, list[int]] = {}
    for k, pod in enumerate(pods):
        rows.setdefault(pod, []).append(k)
    per_pod = []
    for pod, ks in rows.items():
        chunks = [ks[lo : lo + per_message] for lo in range(0, len(ks), per_message)]
        per_pod.append(
            [
                Message(
                    due[c[-1]], topics[pod], ('{"readings":[' + ",".join(bodies[k] for k in c) + "]}").encode(), len(c)
                )
                for c in chunks
            ]
        )
    yield from heapq.merge(*per_pod, key=lambda m: m.due)


def weather_messages(community_id: int, frame: pd.DataFrame) -> Iterator[Message]:
    """One message per weather observation of ``frame`` (:func:`demo_weather`)."""
    topic = weather_topic(community_id)
    ts_text = iso_local(frame["timestamp"])
    due = (pd.DatetimeIndex(frame["timestamp"]) + HOUR).tolist()
    for ts, ghi, temp, wind, end in zip(
        ts_text.tolist(),
        frame["ghi_w_m2"].tolist(),
        frame["temp_air_c"].tolist(),
        frame["wind_speed_m_s"].tolist(),
        due,
        strict=True,
    ):
        payload = f'{{"ts":"{ts}","ghi_w_m2":{ghi!r},"temp_air_c":{temp!r},"wind_speed_m_s":{wind!r}}}'
        yield Message(end, topic, payload.encode(), 0)


class Publisher:
    """A QoS 1 publisher over a persistent MQTT 5 session that never drops a message it accepted.

    Parameters
    ----------
    host, port : str, int
    client_id : str
        Fixed, so that a restarted publisher resumes its session.
    window : int
        Most messages published and not yet acknowledged by the broker (1 .. 60,000); ``publish`` waits beyond.
    session_expiry_s : int
        How long the broker keeps the session after a disconnection [s].
    username, password : str, optional
    """

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str,
        *,
        window: int = 2000,
        session_expiry_s: int = 24 * 3600,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        if not 1 <= window <= 60_000:
            raise ValueError("window deve essere tra 1 e 60000")
        self.host, self.port, self.window = host, port, window
        self.session_expiry_s = session_expiry_s
        self.sent = 0
        self.acked = 0
        self.refused = 0
        self.connected = threading.Event()
        self._closing = False
        self._cond = threading.Condition()
        self._client = BufferedClient(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self._client.max_inflight_messages_set(0)
        self._client.max_queued_messages_set(0)
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        if reason.is_failure:
            log.error("MQTT: connessione rifiutata da %s:%s: %s", self.host, self.port, reason)
            return
        log.info("MQTT: simulatore connesso a %s:%s", self.host, self.port)
        self.connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        self.connected.clear()
        if self._closing:
            return
        log.warning("MQTT: simulatore disconnesso (%s), i messaggi non confermati saranno ripubblicati", reason)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, props: Any) -> None:
        with self._cond:
            self.acked += 1
            if reason.is_failure:
                self.refused += 1
                log.error("MQTT: messaggio %s rifiutato dal broker: %s", mid, reason)
            self._cond.notify_all()

    def connect(self, timeout: float = 30.0) -> None:
        """Connect (paho's network thread reconnects by itself afterwards).

        Raises
        ------
        TimeoutError
            No connection within ``timeout`` seconds.
        """
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.session_expiry_s
        self._client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        self._client.loop_start()
        if not self.connected.wait(timeout):
            self._client.loop_stop()
            raise TimeoutError(f"broker MQTT {self.host}:{self.port} non raggiungibile entro {timeout:g} s")

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish with QoS 1; waits while ``window`` messages are unacknowledged."""
        with self._cond:
            while self.sent - self.acked >= self.window:
                self._cond.wait(1.0)
            self.sent += 1
        info = self._client.publish(topic, payload, qos=1)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:  # cannot happen with the window below 65,535 ids
            raise RuntimeError("coda di pubblicazione piena")

    def flush(self, timeout: float | None = None) -> None:
        """Wait until the broker has acknowledged every message published.

        Raises
        ------
        TimeoutError
            Some still unacknowledged after ``timeout`` seconds (they stay queued in the client).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self.acked < self.sent:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"{self.sent - self.acked} messaggi non confermati dal broker")
                self._cond.wait(1.0 if left is None else min(left, 1.0))

    def close(self) -> None:
        """Disconnect (the session stays on the broker for ``session_expiry_s``)."""
        self._closing = True
        self._client.disconnect()
        self._client.loop_stop()


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation published: readings, weather observations, messages, and how long it took [s]."""

    readings: int
    weather: int
    seconds: float
    messages: int = 0


def simulate(
    host: str,
    port: int,
    community_id: int,
    start: dt.date,
    days: int = 1,
    *,
    speed: float = 0.0,
    client_id: str | None = None,
    limit: int | None = None,
    weather: bool = True,
    community: Community | None = None,
    per_message: int = 1,
    flush_timeout: float | None = None,
    connect_timeout: float = 30.0,
    username: str | None = None,
    password: str | None = None,
) -> SimulationResult:
    """Publish the demo community's quarter-hour readings (and hourly weather) for ``days`` days from ``start``.

    Parameters
    ----------
    host, port : str, int
        The broker.
    community_id : int
        The demo community's id in the database (the topics carry it).
    start : datetime.date
        First local day.
    days : int
    speed : float
        Simulated seconds per real second; 0 publishes as fast as possible.
    client_id : str, optional
        Default ``condivisa-sim-<community_id>``.
    limit : int, optional
        Stop after this many readings (the first ones in time order).
    weather : bool
        Also publish the hourly weather.
    community : Community, optional
        Default :func:`condivisa.demo.demo_community`.
    per_message : int
        Readings per message (see :func:`reading_messages`).
    flush_timeout : float, optional
        How long to wait at the end for the broker's acknowledgements [s] (default: as long as it takes).
    connect_timeout : float
        How long to wait for the first connection [s].
    username, password : str, optional
        Broker credentials.

    Returns
    -------
    SimulationResult
    """
    if speed < 0:
        raise ValueError("speed deve essere >= 0")
    publisher = Publisher(
        host, port, client_id or f"condivisa-sim-{community_id}", username=username, password=password
    )
    publisher.connect(connect_timeout)
    try:
        frame = demo_quarter_hours(community or demo_community(), start, days)
        if limit is not None:
            frame = frame.iloc[:limit]
        streams: list[Iterator[Message]] = [reading_messages(community_id, frame, per_message)]
        if weather:
            streams.append(weather_messages(community_id, demo_weather(start, days)))
        messages = _merge(streams)
    except BaseException:
        publisher.close()
        raise
    counts = [0, 0, 0]
    began = time.monotonic()
    try:
        first_due: pd.Timestamp | None = None
        for m in messages:
            if speed > 0:
                first_due = first_due if first_due is not None else m.due
                wait = began + (m.due - first_due).total_seconds() / speed - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            publisher.publish(m.topic, m.payload)
            counts[2] += 1
            if m.readings:
                counts[0] += m.readings
            else:
                counts[1] += 1
        publisher.flush(flush_timeout)
    finally:
        publisher.close()
    return SimulationResult(counts[0], counts[1], time.monotonic() - began, counts[2])


def _merge(streams: list[Iterator[Message]]) -> Iterator[Message]:
    """Messages of several time-ordered streams in order of ``due`` (on ties, the earlier stream first)."""
    return heapq.merge(*streams, key=lambda m: m.due)
