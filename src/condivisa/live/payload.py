"""Topics and payloads of Condivisa's live channel (MQTT): the interface for meters, gateways and weather stations.

Readings
--------
Topic ``condivisa/<community_id>/<pod>/reading``: ``<community_id>`` is the community's numeric id in the database
(``condivisa db list``), ``<pod>`` the meter's POD (``IT`` + 3 digits + ``E`` + 8 or 9 digits, e.g.
``IT001E10000002``). Payload: a JSON object (UTF-8) for **one interval**::

    {"ts": "2025-06-01T12:15:00+02:00", "interval_minutes": 15, "withdrawn_kwh": 0.123, "injected_kwh": 0.0}

==================  ==========  =========================================================================
key                 required    meaning
==================  ==========  =========================================================================
``ts``              yes         **start** of the interval, ISO 8601 with its UTC offset (``+02:00``, ``Z``);
                                aligned to the interval: a quarter-hour (:00, :15, :30, :45) for 15 minutes,
                                the exact hour for 60; no seconds
``interval_minutes`` yes        15 or 60 [min]
``withdrawn_kwh``   yes         energy withdrawn from the grid in the interval [kWh], a finite number >= 0
``injected_kwh``    yes         energy injected into the grid in the interval [kWh], a finite number >= 0
``estimated``       no          ``true`` if the value is estimated by the distributor (default ``false``)
``device``          no          free text naming the sending device (at most 100 characters; logged with
                                rejections, not stored)
``pod``             no          if present it must equal the POD of the topic
==================  ==========  =========================================================================

Or a **batch** of intervals of the same POD: ``{"readings": [ {...}, {...} ]}`` with 1 to
:data:`MAX_BATCH` objects of the form above (the top level then holds ``readings`` and, optionally, ``device``).

Weather
-------
Topic ``condivisa/<community_id>/weather``, payload::

    {"ts": "2025-06-01T12:00:00+02:00", "ghi_w_m2": 812.0, "temp_air_c": 27.5, "wind_speed_m_s": 2.1}

``ts`` (required) is the start of the observation interval (ISO 8601 with offset, whole minute); ``ghi_w_m2``
(required) the global horizontal irradiance, 0 to 1,500 W/m²; ``temp_air_c`` (optional, null allowed) the air
temperature, -60 to 70 °C; ``wind_speed_m_s`` (optional, null allowed) the wind speed, 0 to 100 m/s. A batch is
``{"observations": [ {...}, ... ]}``. A new value for the same community and ``ts`` replaces the stored one.

Rules common to both
--------------------
- Publish with **QoS 1** (at least once): a message may arrive twice, and storing it twice changes nothing (the
  database write is an upsert keyed by community, POD and ``ts``). A later message for the same POD and ``ts``
  with other values is a correction and replaces the stored one (recorded in ``reading_corrections``).
- Keys not listed above are **ignored** (so devices may add diagnostics, and the format can grow); keys listed
  with a wrong type or value make that reading rejected. Numbers must be JSON numbers, not strings; ``true`` /
  ``false`` are not numbers; ``NaN`` and ``Infinity`` are refused.
- Nothing bad is dropped silently: a rejected reading goes to the community's quarantine (``quarantined_readings``)
  with the reason in Italian naming the JSON field (``readings[3].withdrawn_kwh`` in a batch), the text received
  (the payload, or the batch item, truncated to :data:`RAW_LIMIT` characters), the topic as source and the POD,
  instant and energies when they could be read. In a batch, the good readings are stored and only the bad ones
  are held back. A reading of a POD that is not a point or plant of the community is quarantined too (it can be
  released once the POD is added). A message whose topic names no community (malformed topic, unknown id) cannot
  be attached to a quarantine: the subscriber logs it and counts it as discarded.

:func:`parse_message` is pure (no I/O) and never raises on bad input.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import math
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

import condivisa.engine  # noqa: F401  (loaded before condivisa.ingest, which imports it back while initialising)
from condivisa.ingest.readings import Rejected
from condivisa.model.community import POD_PATTERN

TOPIC_ROOT = "condivisa"
READING_FILTER = f"{TOPIC_ROOT}/+/+/reading"
"""Subscription filter of every community's readings."""
WEATHER_FILTER = f"{TOPIC_ROOT}/+/weather"
"""Subscription filter of every community's weather observations."""

INTERVALS = (15, 60)
"""Accepted ``interval_minutes`` [min]."""
MAX_BATCH = 1000
"""Most readings (or observations) in one batch message."""
RAW_LIMIT = 2000
"""Characters of the received text kept with a rejected item."""
DEVICE_LIMIT = 100
"""Most characters of ``device``."""

GHI_MAX_W_M2 = 1500.0
TEMP_RANGE_C = (-60.0, 70.0)
WIND_MAX_M_S = 100.0

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)
_POD_HINT = "atteso IT + 3 cifre + E + 8 o 9 cifre"
_TOPIC_HINT = f"atteso {TOPIC_ROOT}/<id comunita'>/<POD>/reading o {TOPIC_ROOT}/<id comunita'>/weather"


@dataclass(frozen=True, slots=True)
class LiveReading:
    """One meter interval as received: ``ts_us`` is its start in microseconds since 1970-01-01T00:00Z,
    ``interval_minutes`` 15 or 60 [min], energies [kWh]."""

    pod: str
    ts_us: int
    interval_minutes: int
    withdrawn_kwh: float
    injected_kwh: float
    estimated: bool = False

    @property
    def timestamp(self) -> pd.Timestamp:
        """Start of the interval, timezone-aware UTC."""
        return pd.Timestamp(self.ts_us, unit="us", tz="UTC")


@dataclass(frozen=True, slots=True)
class WeatherReading:
    """One weather observation: start ``ts_us`` [µs since 1970 UTC], irradiance [W/m²], temperature [°C] and
    wind speed [m/s] (the last two optional)."""

    ts_us: int
    ghi_w_m2: float
    temp_air_c: float | None = None
    wind_speed_m_s: float | None = None

    @property
    def timestamp(self) -> pd.Timestamp:
        """Start of the interval, timezone-aware UTC."""
        return pd.Timestamp(self.ts_us, unit="us", tz="UTC")


@dataclass(frozen=True)
class ParsedMessage:
    """What one MQTT message carried.

    Attributes
    ----------
    topic : str
    community_id : int or None
        From the topic; None when the topic is not one of Condivisa's (then ``rejected`` says why).
    kind : {"reading", "weather"} or None
    readings, weather : tuple
        The good items (:class:`LiveReading` or :class:`WeatherReading`).
    rejected : tuple of Rejected
        The bad ones (the whole message, or single items of a batch), each with reason, field, raw text and
        ``source`` = the topic.
    """

    topic: str
    community_id: int | None
    kind: Literal["reading", "weather"] | None
    readings: tuple[LiveReading, ...] = ()
    weather: tuple[WeatherReading, ...] = ()
    rejected: tuple[Rejected, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing was rejected."""
        return not self.rejected


def reading_topic(community_id: int, pod: str) -> str:
    """The topic of a POD's readings."""
    return f"{TOPIC_ROOT}/{community_id}/{pod}/reading"


def weather_topic(community_id: int) -> str:
    """The topic of a community's weather observations."""
    return f"{TOPIC_ROOT}/{community_id}/weather"


class _Bad(Exception):
    """A field that cannot be accepted: ``field`` and the Italian reason."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "booleano"
    if isinstance(value, int | float):
        return "numero"
    if isinstance(value, str):
        return "testo"
    if isinstance(value, list):
        return "lista"
    if isinstance(value, dict):
        return "oggetto"
    return type(value).__name__


def _number(obj: dict[str, Any], key: str, path: str, *, required: bool = True) -> float | None:
    """A finite JSON number (int or float, not a boolean), or None when optional and absent or null."""
    if key not in obj or (obj[key] is None and not required):
        if required:
            raise _Bad(path + key, f"{path + key}: campo mancante")
        return None
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(path + key, f"{path + key}: atteso un numero, trovato {_type_name(value)} {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        number = math.inf
    if not math.isfinite(number):
        raise _Bad(path + key, f"{path + key}: valore non finito ({value!r})")
    return number


def _instant(obj: dict[str, Any], path: str) -> dt.datetime:
    """``ts`` as a timezone-aware datetime (ISO 8601 with offset)."""
    key = path + "ts"
    if "ts" not in obj:
        raise _Bad(key, f"{key}: campo mancante")
    value = obj["ts"]
    if not isinstance(value, str):
        raise _Bad(key, f"{key}: atteso un istante ISO 8601 in un testo, trovato {_type_name(value)} {value!r}")
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _Bad(
            key, f"{key}: istante non valido {value!r} (atteso ISO 8601, es. 2025-06-01T12:15:00+02:00)"
        ) from None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise _Bad(key, f"{key}: istante {value!r} senza fuso orario: serve l'offset, es. +02:00 o Z")
    return instant


def _us(instant: dt.datetime) -> int:
    return (instant - _EPOCH) // _US


def _raw_text(payload: bytes) -> str:
    return payload[: RAW_LIMIT * 4].decode("utf-8", errors="replace")[:RAW_LIMIT]


def _item_text(item: object) -> str:
    try:
        text = json.dumps(item, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError):
        text = repr(item)
    return text[:RAW_LIMIT]


def _partial_reading(item: object, pod: str | None) -> dict[str, Any]:
    """Whatever of a bad reading can still be read (for the quarantine row): instant, interval, energies."""
    out: dict[str, Any] = {"pod": pod}
    if not isinstance(item, dict):
        return out
    with contextlib.suppress(_Bad):
        out["timestamp"] = pd.Timestamp(_instant(item, "")).tz_convert("UTC")
    minutes = item.get("interval_minutes")
    if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes in INTERVALS:
        out["interval_minutes"] = minutes
    for key in ("withdrawn_kwh", "injected_kwh"):
        with contextlib.suppress(_Bad):
            out[key] = _number(item, key, "")
    return out


def _reading(item: object, pod: str, path: str) -> LiveReading:
    if not isinstance(item, dict):
        raise _Bad(
            path.rstrip(".") or None,
            f"{path.rstrip('.') or 'payload'}: atteso un oggetto JSON, trovato {_type_name(item)}",
        )
    if "pod" in item and item["pod"] != pod:
        raise _Bad(path + "pod", f"{path}pod: {item['pod']!r} diverso dal POD del topic {pod!r}")
    instant = _instant(item, path)
    key = path + "interval_minutes"
    if "interval_minutes" not in item:
        raise _Bad(key, f"{key}: campo mancante (15 o 60)")
    minutes = item["interval_minutes"]
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes not in INTERVALS:
        raise _Bad(key, f"{key}: {minutes!r} non ammesso, attesi 15 o 60 minuti")
    minutes = int(minutes)
    us = _us(instant)
    if us % (minutes * 60_000_000):
        where = "a un quarto d'ora (00, 15, 30, 45) senza secondi" if minutes == 15 else "all'ora esatta"
        raise _Bad(
            path + "ts", f"{path}ts: {item['ts']!r} non allineato: un intervallo di {minutes} minuti inizia {where}"
        )
    values = []
    for name in ("withdrawn_kwh", "injected_kwh"):
        number = _number(item, name, path)
        assert number is not None
        if number < 0:
            raise _Bad(path + name, f"{path}{name}: energia negativa ({number!r} kWh), serve un valore >= 0")
        values.append(number)
    estimated = item.get("estimated", False)
    if not isinstance(estimated, bool):
        raise _Bad(path + "estimated", f"{path}estimated: atteso true o false, trovato {_type_name(estimated)}")
    _device(item, path)
    return LiveReading(pod, us, minutes, values[0], values[1], estimated)


def _device(obj: dict[str, Any], path: str) -> None:
    device = obj.get("device")
    if device is not None and (not isinstance(device, str) or len(device) > DEVICE_LIMIT):
        raise _Bad(path + "device", f"{path}device: atteso un testo di al massimo {DEVICE_LIMIT} caratteri")


def _weather(item: object, path: str) -> WeatherReading:
    if not isinstance(item, dict):
        raise _Bad(
            path.rstrip(".") or None,
            f"{path.rstrip('.') or 'payload'}: atteso un oggetto JSON, trovato {_type_name(item)}",
        )
    instant = _instant(item, path)
    us = _us(instant)
    if us % 60_000_000:
        raise _Bad(path + "ts", f"{path}ts: {item['ts']!r}: l'istante deve essere al minuto esatto (secondi a zero)")
    ghi = _number(item, "ghi_w_m2", path)
    assert ghi is not None
    if not 0.0 <= ghi <= GHI_MAX_W_M2:
        raise _Bad(path + "ghi_w_m2", f"{path}ghi_w_m2: {ghi!r} W/m² fuori dall'intervallo 0 .. {GHI_MAX_W_M2:g}")
    temp = _number(item, "temp_air_c", path, required=False)
    lo, hi = TEMP_RANGE_C
    if temp is not None and not lo <= temp <= hi:
        raise _Bad(path + "temp_air_c", f"{path}temp_air_c: {temp!r} °C fuori dall'intervallo {lo:g} .. {hi:g}")
    wind = _number(item, "wind_speed_m_s", path, required=False)
    if wind is not None and not 0.0 <= wind <= WIND_MAX_M_S:
        raise _Bad(
            path + "wind_speed_m_s", f"{path}wind_speed_m_s: {wind!r} m/s fuori dall'intervallo 0 .. {WIND_MAX_M_S:g}"
        )
    _device(item, path)
    return WeatherReading(us, ghi, temp, wind)


@functools.lru_cache(maxsize=65536)
def _split_topic(topic: str) -> tuple[int | None, Literal["reading", "weather"] | None, str | None, str | None]:
    """(community id, kind, POD, problem) of a topic (cached: a meter always publishes to the same topic)."""
    parts = topic.split("/")
    if len(parts) not in (3, 4) or parts[0] != TOPIC_ROOT:
        return None, None, None, f"topic non riconosciuto {topic!r}: {_TOPIC_HINT}"
    ident = parts[1]
    if not (ident.isascii() and ident.isdigit()) or len(ident) > 18 or int(ident) <= 0:
        return None, None, None, f"id di comunita' non valido {ident!r} nel topic {topic!r}: {_TOPIC_HINT}"
    community_id = int(ident)
    if len(parts) == 3 and parts[2] == "weather":
        return community_id, "weather", None, None
    if len(parts) == 4 and parts[3] == "reading":
        return community_id, "reading", parts[2], None
    return None, None, None, f"topic non riconosciuto {topic!r}: {_TOPIC_HINT}"


def parse_message(topic: str, payload: bytes) -> ParsedMessage:
    """Read one MQTT message of the live channel (see the module docstring for topics and payloads).

    Parameters
    ----------
    topic : str
        The topic it was published to.
    payload : bytes
        Its payload (UTF-8 JSON).

    Returns
    -------
    ParsedMessage
        The good readings or weather observations and, as :class:`~condivisa.ingest.readings.Rejected`, what
        must be held back: the whole message (not UTF-8 JSON, not an object, bad topic or POD) or single items
        of a batch. Never raises on bad input.
    """
    community_id, kind, pod, problem = _split_topic(topic)
    raw = _raw_text(payload)
    if problem is not None:
        return ParsedMessage(topic, None, None, rejected=(Rejected(problem, source=topic, field="topic", raw=raw),))
    try:
        data = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        reason = "payload non in UTF-8"
        return ParsedMessage(topic, community_id, kind, rejected=(Rejected(reason, source=topic, raw=raw, pod=pod),))
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep
        reason = f"payload non e' JSON valido: {exc}"
        return ParsedMessage(topic, community_id, kind, rejected=(Rejected(reason, source=topic, raw=raw, pod=pod),))
    if not isinstance(data, dict):
        reason = f"payload: atteso un oggetto JSON, trovato {_type_name(data)}"
        return ParsedMessage(topic, community_id, kind, rejected=(Rejected(reason, source=topic, raw=raw, pod=pod),))
    if kind == "weather":
        return _parse_weather(topic, community_id, data, raw)
    assert pod is not None
    return _parse_readings(topic, community_id, pod, data, raw)


def _batch(data: dict[str, Any], key: str, single_keys: tuple[str, ...]) -> list[Any] | None:
    """The items of a batch payload, or None for a single item."""
    if key not in data:
        return None
    mixed = [k for k in single_keys if k in data]
    if mixed:
        raise _Bad(key, f"{key}: un lotto non puo' avere anche {', '.join(mixed)} al primo livello")
    items = data[key]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        size = f"{len(items)} elementi" if isinstance(items, list) else _type_name(items)
        raise _Bad(key, f"{key}: attesa una lista di 1 .. {MAX_BATCH} elementi, trovato {size}")
    return items


def _parse_readings(topic: str, community_id: int | None, pod: str, data: dict[str, Any], raw: str) -> ParsedMessage:
    if not POD_PATTERN.match(pod):
        reason = f"POD non valido {pod!r} nel topic: {_POD_HINT}"
        item = _partial_reading(data, pod[:32])
        held = Rejected(reason, source=topic, field="pod", raw=raw, **item)
        return ParsedMessage(topic, community_id, "reading", rejected=(held,))
    try:
        items = _batch(data, "readings", ("ts", "withdrawn_kwh", "injected_kwh"))
        if items is not None:
            _device(data, "")
    except _Bad as bad:
        held = Rejected(bad.reason, source=topic, field=bad.field, raw=raw, pod=pod)
        return ParsedMessage(topic, community_id, "reading", rejected=(held,))
    good: list[LiveReading] = []
    rejected: list[Rejected] = []
    for k, item in enumerate(items if items is not None else [data]):
        path = "" if items is None else f"readings[{k}]."
        try:
            good.append(_reading(item, pod, path))
        except _Bad as bad:
            text = raw if items is None else _item_text(item)
            rejected.append(
                Rejected(bad.reason, source=topic, field=bad.field, raw=text, **_partial_reading(item, pod))
            )
    return ParsedMessage(topic, community_id, "reading", readings=tuple(good), rejected=tuple(rejected))


def _parse_weather(topic: str, community_id: int | None, data: dict[str, Any], raw: str) -> ParsedMessage:
    try:
        items = _batch(data, "observations", ("ts", "ghi_w_m2"))
        if items is not None:
            _device(data, "")
    except _Bad as bad:
        held = Rejected(bad.reason, source=topic, field=bad.field, raw=raw)
        return ParsedMessage(topic, community_id, "weather", rejected=(held,))
    good: list[WeatherReading] = []
    rejected: list[Rejected] = []
    for k, item in enumerate(items if items is not None else [data]):
        path = "" if items is None else f"observations[{k}]."
        try:
            good.append(_weather(item, path))
        except _Bad as bad:
            timestamp = None
            if isinstance(item, dict):
                with contextlib.suppress(_Bad):
                    timestamp = pd.Timestamp(_instant(item, "")).tz_convert("UTC")
            text = raw if items is None else _item_text(item)
            rejected.append(Rejected(bad.reason, source=topic, field=bad.field, raw=text, timestamp=timestamp))
    return ParsedMessage(topic, community_id, "weather", weather=tuple(good), rejected=tuple(rejected))
