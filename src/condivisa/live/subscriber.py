"""The live ingest service: MQTT messages into the database, none lost, none stored twice.

How it keeps every reading
--------------------------
- **Persistent session**: MQTT 5 with a fixed client id, ``clean_start=False`` and a session expiry interval
  (default 7 days). While the subscriber is down the broker keeps its subscriptions and queues what arrives.
- **QoS 1 and manual acknowledgement**: the client is created with ``manual_ack=True``, so paho does not answer a
  PUBLISH with PUBACK by itself; a worker thread acknowledges each message (``client.ack(mid, qos)``) only after
  the batch containing it has been **committed**. A crash anywhere between receipt and commit (even ``SIGKILL``)
  leaves the message unacknowledged and the broker delivers it again to the next session with the same client id.
- **Idempotent writes**: readings go through :func:`condivisa.store.quarantine.import_meter_data` (an upsert keyed
  by community, POD and interval start), weather through :func:`condivisa.live.weather_store.upsert_weather`;
  a redelivered message rewrites the same values and changes nothing. Only the quarantine is not idempotent:
  a bad message redelivered after a crash between its commit and its acknowledgement is quarantined twice.
- **Acknowledgements and reconnections**: a message is acknowledged only on the connection that delivered it.
  Every connect and disconnect starts a new *generation*; committed messages of an older generation are not
  acknowledged (the broker redelivers them on the new connection, where they are stored again idempotently and
  acknowledged), so an old packet id is never acknowledged after the broker may have reused it for another
  message.

Batching and threads
--------------------
paho's network thread only appends each message to a list. A worker thread takes up to ``batch_size`` messages
(or what arrived within ``flush_seconds`` of the first one waiting), parses them
(:func:`condivisa.live.payload.parse_message`), keeps the last value of each (POD, instant) in the batch, and
writes per community (and per resolution): one transaction of good readings, then the quarantine of bad messages
and unknown PODs, then the weather. When every write of the batch is committed it acknowledges the batch's
messages. A database error stops nothing: the batch is retried with a growing pause while messages keep
arriving; the broker stops sending once ``receive_maximum`` messages wait unacknowledged.

Acknowledging from the worker thread is safe in paho 2.2 (checked in ``paho/mqtt/client.py``): ``ack(mid, qos)``
packs the PUBACK and calls ``_packet_queue``, which appends it to ``_out_packet`` (a ``collections.deque``, whose
``append`` is atomic) and wakes the network thread through its socket pair; with ``loop_start()`` the caller never
writes to the socket itself (``loop_write`` is called directly only when no network thread runs). That is the
same path ``publish()`` takes from other threads, which paho supports. On reconnection paho clears
``_out_packet``: acknowledgements queued for a lost connection are dropped, never sent on the next one. The
subscriber queues the PUBACKs of a whole batch with one ``_packet_queue`` call (:meth:`BufferedClient.ack_many`:
the same bytes, one wake-up and one ``send``); with ``fast_paho=False`` it calls ``client.ack`` per message.

Broker settings that matter (Mosquitto 2.0)
-------------------------------------------
- The number of unacknowledged QoS 1 messages the broker sends to an MQTT 5 client is the client's
  ``Receive Maximum`` (sent here: 65,535, the protocol's maximum); ``max_inflight_messages`` (default 20) applies
  to MQTT 3 clients. With manual acknowledgement after commit, this is the ceiling of a batch.
- ``max_queued_messages`` (default 1,000 per client) is the queue above the in-flight ones: beyond it Mosquitto
  **drops** QoS 1 messages for that client. It must be raised for the ingest session (0 = no limit), together with
  ``max_queued_bytes`` if set.
- ``persistence true`` saves sessions and queued messages, but Mosquitto 2.0 writes them only every
  ``autosave_interval`` and at a clean shutdown: a broker killed hard loses what arrived since the last save.
"""

from __future__ import annotations

import logging
import signal
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from types import FrameType
from typing import Any, Literal

import numpy as np
import paho.mqtt.client as mqtt
import pandas as pd
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import Engine, select

from condivisa.errors import InputError
from condivisa.ingest.readings import Readings, Rejected
from condivisa.live.payload import READING_FILTER, WEATHER_FILTER, LiveReading, WeatherReading, parse_message
from condivisa.live.weather_store import upsert_weather
from condivisa.store.models import CommunityRow
from condivisa.store.quarantine import import_meter_data, quarantine
from condivisa.store.repository import NotFoundError

log = logging.getLogger("condivisa.live")

_PUBACK = 0x40
_PUBACK_OK = ReasonCode(PacketTypes.PUBACK)
_NO_PROPERTIES = Properties(PacketTypes.PUBACK)  # type: ignore[no-untyped-call]

DEFAULT_CLIENT_ID = "condivisa-ingest"
DISCARD_LOG_S = 60.0
"""A topic whose messages are discarded is logged at most once in this time [s]."""
SOURCE = "mqtt"
"""``source`` of the quarantine rows and ``kind`` of the writes."""


class BufferedSocket:
    """A socket that reads the network in large chunks and hands paho its small reads from memory.

    paho 2.2 reads each packet with several ``recv`` calls (1 byte of header, 1 per byte of remaining length,
    then the body), a system call each. This wrapper reads up to 64 KiB at a time and reports what it holds
    through ``pending()``, which paho's loop already consults (for TLS sockets, and its own websocket wrapper):
    while bytes are pending it polls with a zero timeout and reads on, so buffered packets are never left waiting
    for ``select``. Everything else is passed to the socket.
    """

    CHUNK = 65536

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, length: int) -> bytes:
        if self._pos >= len(self._buf):
            data: bytes = self._sock.recv(max(length, self.CHUNK))
            if len(data) <= length:
                return data
            self._buf, self._pos = data, 0
        end = self._pos + length
        chunk = self._buf[self._pos : end]
        self._pos = end
        return chunk

    def pending(self) -> int:
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return max(len(self._buf) - self._pos, 0) + int(inner)

    def send(self, data: bytes | bytearray) -> int:
        return int(self._sock.send(data))

    def close(self) -> None:
        self._sock.close()

    def fileno(self) -> int:
        return int(self._sock.fileno())

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class BufferedClient(mqtt.Client):
    """paho's client made cheaper per message for the subscriber and the simulator.

    - reads through :class:`BufferedSocket` (``_create_socket``);
    - ``ack_many``: the PUBACKs of a batch queued as one write (``_packet_queue``, what ``ack()`` calls);
    - QoS 1 PUBLISH packets without MQTT 5 properties, and plain PUBACKs, decoded without paho's per-packet
      ``Properties``/``ReasonCode`` objects (``_handle_publish``, ``_handle_pubackcomp``), which cost more than
      the rest of the work on a message; any other packet goes through paho's own code.

    These overrides use paho 2.x internals (checked against 2.2.0): measured on the 2-core CI machine they take
    the subscriber from about 140 to about 80 µs of CPU per message. :class:`SubscriberSettings` switches back to
    the plain client with ``fast_paho=False``.
    """

    def _create_socket(self) -> Any:
        return BufferedSocket(super()._create_socket())

    def _handle_publish(self) -> MQTTErrorCode:
        """A QoS 1 PUBLISH without MQTT 5 properties, read without paho's ``Properties`` object.

        paho builds and clears a ``Properties`` object (about 30 µs) for every MQTT 5 PUBLISH, even one with no
        properties; meters send none. Any other PUBLISH (QoS 0 or 2, properties present, MQTT 3, automatic
        acknowledgement) goes through paho's own code.
        """
        header, packet = self._in_packet["command"], self._in_packet["packet"]
        if self._protocol != mqtt.MQTTv5 or header & 0x06 != 0x02 or not self._manual_ack:
            return super()._handle_publish()
        end = 2 + int.from_bytes(packet[0:2], "big")
        if len(packet) < end + 3 or packet[end + 2] != 0 or end == 2:  # properties, or a topic alias
            return super()._handle_publish()
        message = mqtt.MQTTMessage(int.from_bytes(packet[end : end + 2], "big"), bytes(packet[2:end]))
        message.dup = bool(header & 0x08)
        message.qos = 1
        message.retain = bool(header & 0x01)
        message.payload = bytes(packet[end + 3 :])
        message.timestamp = time.monotonic()
        self._handle_on_message(message)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _handle_pubackcomp(self, cmd: Literal["PUBACK", "PUBCOMP"]) -> MQTTErrorCode:
        """A plain PUBACK (packet id only, i.e. success) handled without building a ``ReasonCode`` and a
        ``Properties`` per acknowledgement (the publisher's hot path); anything else goes to paho."""
        packet = self._in_packet["packet"]
        if cmd != "PUBACK" or len(packet) != 2:
            return super()._handle_pubackcomp(cmd)
        mid = int.from_bytes(packet, "big")
        with self._out_message_mutex:
            if mid in self._out_messages:
                return self._do_on_publish(mid, _PUBACK_OK, _NO_PROPERTIES)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def ack_many(self, mids: list[int]) -> None:
        """Acknowledge QoS 1 messages: the PUBACK packets ``ack(mid, 1)`` would queue one by one, queued as one
        write (one wake-up of the network thread and one ``send`` instead of two system calls each)."""
        if mids:
            blob = struct.pack("!" + "BBH" * len(mids), *[x for mid in mids for x in (_PUBACK, 2, mid)])
            self._packet_queue(_PUBACK, blob, 0, 0)


@dataclass(frozen=True)
class SubscriberSettings:
    """How the subscriber connects and batches.

    Attributes
    ----------
    host, port : str, int
        The broker.
    client_id : str
        Fixed: the broker keeps this session (and what is queued for it) while the subscriber is down. Run one
        subscriber per client id.
    batch_size : int
        Most messages written in one flush.
    flush_seconds : float
        Longest wait of a message before its batch is written [s].
    receive_maximum : int
        Unacknowledged messages the broker may send (MQTT 5 ``Receive Maximum``, 1 .. 65,535); keep it above
        ``batch_size``.
    session_expiry_s : int
        How long the broker keeps the session after a disconnection [s].
    keepalive_s : int
        MQTT keep-alive [s].
    username, password : str, optional
        Broker credentials.
    log_every_s : float
        Period of the counters line in the log [s].
    fast_paho : bool
        Use :class:`BufferedClient` (default); False for paho's plain client and one ``client.ack`` per message.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = DEFAULT_CLIENT_ID
    batch_size: int = 5000
    flush_seconds: float = 0.5
    receive_maximum: int = 65535
    session_expiry_s: int = 7 * 24 * 3600
    keepalive_s: int = 30
    username: str | None = None
    password: str | None = None
    log_every_s: float = 10.0
    fast_paho: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.receive_maximum <= 65535:
            raise ValueError(f"receive_maximum {self.receive_maximum} fuori dall'intervallo 1 .. 65535")
        if self.batch_size < 1 or self.flush_seconds <= 0:
            raise ValueError("batch_size deve essere >= 1 e flush_seconds > 0")


@dataclass
class Counters:
    """What the subscriber did since it started (each field written by one thread only).

    Attributes
    ----------
    received : int
        Messages delivered by the broker, redeliveries included.
    redelivered : int
        Of which flagged as a redelivery (DUP).
    readings : int
        Good readings parsed.
    stored : int
        Readings committed to the database (inserted + updated + unchanged).
    inserted, updated, unchanged : int
        As counted by the upsert.
    duplicates : int
        Readings replaced by a later one for the same POD and instant within a batch.
    quarantined : int
        Items written to the quarantine (bad messages, bad batch items, readings of unknown PODs).
    weather : int
        Weather observations written.
    discarded : int
        Items of messages without a community (malformed topic, unknown community id): logged, acknowledged.
    flushes : int
        Batches committed.
    acked : int
        Messages acknowledged.
    stale : int
        Committed messages not acknowledged because their connection was lost (the broker redelivers them).
    db_errors : int
        Failed write attempts (retried).
    """

    received: int = 0
    redelivered: int = 0
    readings: int = 0
    stored: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    quarantined: int = 0
    weather: int = 0
    discarded: int = 0
    flushes: int = 0
    acked: int = 0
    stale: int = 0
    db_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        """A snapshot of the counters."""
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}

    def line(self) -> str:
        """The counters in Italian, for the log."""

        def n(value: int) -> str:
            return f"{value:,}".replace(",", ".")

        return (
            f"ricevuti {n(self.received)} (ripetuti {n(self.redelivered)}), letture salvate {n(self.stored)} "
            f"(nuove {n(self.inserted)}, corrette {n(self.updated)}, invariate {n(self.unchanged)}), "
            f"in quarantena {n(self.quarantined)}, meteo {n(self.weather)}, scartati {n(self.discarded)}, "
            f"scritture {n(self.flushes)}, confermati {n(self.acked)}, da riconsegnare {n(self.stale)}, "
            f"errori db {n(self.db_errors)}"
        )


@dataclass(frozen=True, slots=True)
class _Incoming:
    topic: str
    payload: bytes
    mid: int
    qos: int
    dup: bool
    generation: int


@dataclass
class _Work:
    """What a batch holds for one community: last reading per (POD, instant), weather, held-back items."""

    readings: dict[tuple[str, int], LiveReading] = field(default_factory=dict)
    weather: list[WeatherReading] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    messages: int = 0


@dataclass
class _Step:
    community_id: int
    run: Callable[[], None]
    label: str
    fallback: Callable[[InputError], None] | None = None


def readings_of(items: list[LiveReading], minutes: int, rejected: list[Rejected]) -> Readings:
    """:class:`~condivisa.ingest.readings.Readings` of live readings of one resolution, plus held-back items."""
    n = len(items)
    us = np.fromiter((r.ts_us for r in items), dtype=np.int64, count=n)
    frame = pd.DataFrame(
        {
            "pod": [r.pod for r in items],
            "timestamp": pd.DatetimeIndex(us.view("datetime64[us]")).tz_localize("UTC"),
            "withdrawn_kwh": np.fromiter((r.withdrawn_kwh for r in items), dtype=np.float64, count=n),
            "injected_kwh": np.fromiter((r.injected_kwh for r in items), dtype=np.float64, count=n),
            "estimated": np.fromiter((r.estimated for r in items), dtype=np.bool_, count=n),
        }
    )
    pods = dict.fromkeys(frame["pod"].unique().tolist(), minutes)
    return Readings(frame=frame, interval_minutes=pods, source=SOURCE, rejected=list(rejected))


class LiveSubscriber:
    """Subscribes to every community's readings and weather and stores them (see the module docstring).

    Parameters
    ----------
    engine : Engine
        The database (at the latest revision).
    settings : SubscriberSettings
    """

    def __init__(self, engine: Engine, settings: SubscriberSettings | None = None) -> None:
        self.engine = engine
        self.settings = settings or SubscriberSettings()
        self.counters = Counters()
        self.connected = threading.Event()
        self.connected_once = False
        self.subscribed = threading.Event()
        self._cond = threading.Condition()
        self._pending: list[_Incoming] = []
        self._first_at = 0.0
        self._closing = False
        self._stopping = False
        self._give_up_at = float("inf")
        self._gen_lock = threading.Lock()
        self._generation = 0
        self._worker: threading.Thread | None = None
        self._discard_logged: dict[str, float] = {}
        self._client = self._make_client()

    # MQTT side (paho's network thread) ---------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        cls = BufferedClient if s.fast_paho else mqtt.Client
        client = cls(CallbackAPIVersion.VERSION2, client_id=s.client_id, protocol=mqtt.MQTTv5, manual_ack=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_connect_fail = self._on_connect_fail
        return client

    def _new_generation(self) -> None:
        with self._gen_lock:
            self._generation += 1

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._new_generation()
        if reason.is_failure:
            log.error("MQTT: connessione rifiutata da %s:%s: %s", self.settings.host, self.settings.port, reason)
            return
        log.info(
            "MQTT: connesso a %s:%s come %s (sessione %s)",
            self.settings.host,
            self.settings.port,
            self.settings.client_id,
            "ripresa" if flags.session_present else "nuova",
        )
        if self.connected_once and not flags.session_present:
            log.error(
                "MQTT: il broker non ha piu' la sessione %s: cio' che era in coda per il servizio e' perso "
                "(broker senza persistence, riavviato male o sessione scaduta)",
                self.settings.client_id,
            )
        self.connected_once = True
        self.connected.set()
        client.subscribe([(READING_FILTER, 1), (WEATHER_FILTER, 1)])

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        if failed:
            log.error("MQTT: sottoscrizione rifiutata: %s", ", ".join(failed))
            return
        log.info("MQTT: sottoscrizione attiva a %s e %s (QoS 1)", READING_FILTER, WEATHER_FILTER)
        self.subscribed.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._new_generation()
        self.connected.clear()
        if not self._closing:
            log.warning("MQTT: connessione persa (%s): nuovo tentativo automatico", reason)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        log.warning("MQTT: broker %s:%s non raggiungibile, nuovo tentativo", self.settings.host, self.settings.port)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = message._topic.decode("utf-8", errors="replace")
        item = _Incoming(topic, bytes(message.payload), message.mid, message.qos, bool(message.dup), self._generation)
        with self._cond:
            if self._closing:
                return  # not acknowledged: the broker keeps it for the next session
            if not self._pending:
                self._first_at = time.monotonic()
                self._cond.notify()  # the worker starts timing this batch
            self._pending.append(item)
            self.counters.received += 1
            self.counters.redelivered += item.dup
            if len(self._pending) == self.settings.batch_size:
                self._cond.notify()

    # Life cycle --------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread and connect (in the background; paho reconnects by itself)."""
        s = self.settings
        self._worker = threading.Thread(target=self._run, name="condivisa-live-writer", daemon=True)
        self._worker.start()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = s.session_expiry_s
        props.ReceiveMaximum = s.receive_maximum
        self._client.connect_async(s.host, s.port, keepalive=s.keepalive_s, clean_start=False, properties=props)
        self._client.loop_start()

    @property
    def writing(self) -> bool:
        """Whether the worker thread runs (False after an unexpected error in it: nothing more is stored)."""
        return self._worker is not None and self._worker.is_alive()

    def stop(self, timeout: float = 60.0) -> Counters:
        """Stop taking messages, write and acknowledge those received, then disconnect (the session stays).

        Parameters
        ----------
        timeout : float
            How long to keep retrying a failing database before giving up [s]; what is not written then is not
            acknowledged either, and the broker delivers it again to the next session.
        """
        with self._cond:
            self._closing = True
            self._stopping = True
            self._give_up_at = time.monotonic() + timeout
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout + 5.0)
        self._client.disconnect()
        self._client.loop_stop()
        log.info("MQTT: fermato. %s", self.counters.line())
        return self.counters

    # Worker thread -------------------------------------------------------------------------------------------------

    def _take(self) -> list[_Incoming] | None:
        """The next batch, or None when stopping and nothing is left."""
        s = self.settings
        with self._cond:
            while True:
                n = len(self._pending)
                if self._stopping or n >= s.batch_size:
                    break
                waited = time.monotonic() - self._first_at
                if n and waited >= s.flush_seconds:
                    break
                self._cond.wait(s.flush_seconds - waited if n else s.log_every_s)
                if not self._pending and not self._stopping:
                    return []
            if not self._pending:
                return None
            batch = self._pending[: s.batch_size]
            del self._pending[: s.batch_size]
            self._first_at = time.monotonic()
            return batch

    def _run(self) -> None:
        last_log = time.monotonic()
        try:
            while True:
                batch = self._take()
                if batch is None:
                    return
                if batch and not self._process(batch):
                    return
                if time.monotonic() - last_log >= self.settings.log_every_s:
                    last_log = time.monotonic()
                    log.info("MQTT: %s", self.counters.line())
        except Exception:  # a bug: say it loudly; nothing unwritten was acknowledged
            log.exception("MQTT: errore inatteso nello scrittore, le letture non confermate saranno riconsegnate")

    def _group(self, batch: list[_Incoming]) -> dict[int, _Work]:
        work: dict[int, _Work] = {}
        for item in batch:
            parsed = parse_message(item.topic, item.payload)
            if parsed.community_id is None:
                self.counters.discarded += len(parsed.rejected)
                self._log_discarded(item.topic, parsed.rejected[0].reason)
                continue
            w = work.setdefault(parsed.community_id, _Work())
            w.messages += 1
            for r in parsed.readings:
                key = (r.pod, r.ts_us)
                if key in w.readings:
                    self.counters.duplicates += 1
                w.readings[key] = r
            w.weather.extend(parsed.weather)
            w.rejected.extend(parsed.rejected)
            self.counters.readings += len(parsed.readings)
        return work

    def _log_discarded(self, topic: str, reason: str) -> None:
        """Log a message without a community, at most once a minute per topic (a misconfigured device may
        publish every few seconds)."""
        now = time.monotonic()
        if now - self._discard_logged.get(topic, -DISCARD_LOG_S) < DISCARD_LOG_S:
            return
        if len(self._discard_logged) > 10_000:
            self._discard_logged.clear()
        self._discard_logged[topic] = now
        log.warning("MQTT: messaggio scartato (%s): %s", topic[:200], reason)

    def _steps(self, community_id: int, w: _Work) -> list[_Step]:
        steps: list[_Step] = []
        by_interval: dict[int, list[LiveReading]] = {}
        for r in w.readings.values():
            by_interval.setdefault(r.interval_minutes, []).append(r)
        held = list(w.rejected)
        for minutes, items in sorted(by_interval.items()):
            readings = readings_of(items, minutes, held)
            held = []

            def write(readings: Readings = readings) -> None:
                result = import_meter_data(self.engine, community_id, readings, source=SOURCE, kind=SOURCE, audit=False)
                self.counters.stored += result.inserted + result.updated + result.unchanged
                self.counters.inserted += result.inserted
                self.counters.updated += result.updated
                self.counters.unchanged += result.unchanged
                self.counters.quarantined += result.quarantined

            def fallback(exc: InputError, readings: Readings = readings) -> None:
                reason = f"lettura non salvabile: {'; '.join(str(p) for p in exc.problems[:3])}"
                unsaved = [
                    Rejected(
                        reason[:1000],
                        source=SOURCE,
                        pod=str(pod),
                        timestamp=pd.Timestamp(ts),
                        interval_minutes=readings.interval_minutes.get(str(pod)),
                        withdrawn_kwh=float(wd),
                        injected_kwh=float(inj),
                    )
                    for pod, ts, wd, inj in zip(
                        readings.frame["pod"],
                        readings.frame["timestamp"],
                        readings.frame["withdrawn_kwh"],
                        readings.frame["injected_kwh"],
                        strict=True,
                    )
                ]
                self._quarantine(community_id, [*readings.rejected, *unsaved])

            steps.append(_Step(community_id, write, f"letture a {minutes} minuti", fallback))
        if held:

            def hold(items: list[Rejected] = held) -> None:
                self._quarantine(community_id, items)

            steps.append(_Step(community_id, hold, "quarantena"))
        if w.weather:

            def weather(observations: list[WeatherReading] = w.weather) -> None:
                self.counters.weather += upsert_weather(self.engine, community_id, observations)

            steps.append(_Step(community_id, weather, "meteo"))
        return steps

    def _quarantine(self, community_id: int, items: list[Rejected]) -> None:
        with self.engine.begin() as conn:
            self.counters.quarantined += quarantine(conn, community_id, items)

    def _existing(self, ids: list[int]) -> set[int]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(CommunityRow.id).where(CommunityRow.id.in_(ids))).scalars())

    def _process(self, batch: list[_Incoming]) -> bool:
        """Write a batch, retrying on database errors, then acknowledge it. False if given up (stopping)."""
        began = time.monotonic()
        work = self._group(batch)
        steps: list[_Step] | None = None
        pause = 0.5
        while True:
            try:
                if steps is None:
                    existing = self._existing(sorted(work)) if work else set()
                    for community_id in sorted(set(work) - existing):
                        w = work[community_id]
                        n = len(w.readings) + len(w.weather) + len(w.rejected)
                        self.counters.discarded += n
                        log.warning(
                            "MQTT: comunita' %s inesistente: %s elementi di %s messaggi scartati",
                            community_id,
                            n,
                            w.messages,
                        )
                    steps = [s for c in sorted(existing) for s in self._steps(c, work[c])]
                while steps:
                    step = steps[0]
                    try:
                        step.run()
                    except InputError as exc:
                        if step.fallback is None:
                            raise
                        log.error(
                            "MQTT: comunita' %s, %s non salvabili, messe in quarantena: %s",
                            step.community_id,
                            step.label,
                            exc,
                        )
                        step.fallback(exc)
                    except NotFoundError:
                        log.warning(
                            "MQTT: comunita' %s eliminata durante la scrittura: %s scartate",
                            step.community_id,
                            step.label,
                        )
                    steps.pop(0)
                break
            except Exception as exc:
                self.counters.db_errors += 1
                if time.monotonic() >= self._give_up_at:
                    log.error("MQTT: scrittura abbandonata alla chiusura (%s): i messaggi saranno riconsegnati", exc)
                    return False
                log.warning("MQTT: scrittura non riuscita (%s), nuovo tentativo tra %.1f s", exc, pause)
                time.sleep(pause)
                pause = min(pause * 2, 10.0)
        self.counters.flushes += 1
        self._ack(batch)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "MQTT: scrittura %d: %d messaggi in %.3f s; letture salvate in tutto %d",
                self.counters.flushes,
                len(batch),
                time.monotonic() - began,
                self.counters.stored,
            )
        return True

    def _ack(self, batch: list[_Incoming]) -> None:
        with self._gen_lock:
            generation = self._generation
            current = [item for item in batch if item.qos > 0 and item.generation == generation]
            self.counters.stale += sum(1 for item in batch if item.qos > 0) - len(current)
            if isinstance(self._client, BufferedClient) and all(item.qos == 1 for item in current):
                self._client.ack_many([item.mid for item in current])
            else:
                for item in current:
                    self._client.ack(item.mid, item.qos)
            self.counters.acked += len(current)


def run_until_signal(engine: Engine, settings: SubscriberSettings, *, stop_timeout: float = 60.0) -> Counters:
    """Run a :class:`LiveSubscriber` until SIGINT or SIGTERM, then stop it cleanly (write, acknowledge,
    disconnect). Must be called from the main thread.

    Raises
    ------
    RuntimeError
        The worker thread died of an unexpected error (logged); the subscriber was stopped so that a supervisor
        (systemd, a container runtime) restarts the service, and the broker redelivers what was not stored.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("MQTT: ricevuto %s, chiusura ordinata", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    subscriber = LiveSubscriber(engine, settings)
    failed = False
    try:
        subscriber.start()
        while not stop.wait(1.0):
            if not subscriber.writing:
                failed = True
                break
    finally:
        counters = subscriber.stop(stop_timeout)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        raise RuntimeError(
            "lo scrittore si e' fermato per un errore inatteso (vedi il registro); i messaggi non "
            "salvati restano al broker"
        )
    return counters


if __name__ == "__main__":  # python -m condivisa.live.subscriber ... == condivisa live subscribe ...
    import sys

    from condivisa.cli.live import live_app

    live_app(["subscribe", *sys.argv[1:]], prog_name="condivisa.live.subscriber")
