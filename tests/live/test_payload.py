"""The live channel's topics and payloads: good messages, batches, and every kind of bad message held back with
the JSON field named, the raw text, the topic as source and whatever values could be read."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest

from condivisa.live.payload import (
    MAX_BATCH,
    RAW_LIMIT,
    LiveReading,
    ParsedMessage,
    WeatherReading,
    parse_message,
    reading_topic,
    weather_topic,
)

POD = "IT001E10000002"
TOPIC = reading_topic(7, POD)
GOOD = {"ts": "2025-06-01T12:15:00+02:00", "interval_minutes": 15, "withdrawn_kwh": 0.123, "injected_kwh": 0.0}


def parse(obj: object, topic: str = TOPIC) -> ParsedMessage:
    return parse_message(topic, json.dumps(obj).encode())


def us(text: str) -> int:
    return int(pd.Timestamp(text).value // 1000)


def only_rejection(msg: ParsedMessage) -> tuple[str | None, str]:
    assert not msg.readings and not msg.weather
    assert len(msg.rejected) == 1
    r = msg.rejected[0]
    return r.field, r.reason


def test_single_reading() -> None:
    msg = parse({**GOOD, "device": "gateway-3", "firmware": "1.2", "rssi": -70})  # unknown keys are ignored
    assert msg.ok and msg.community_id == 7 and msg.kind == "reading"
    assert msg.readings == (LiveReading(POD, us("2025-06-01T10:15:00Z"), 15, 0.123, 0.0, False),)
    assert msg.readings[0].timestamp == pd.Timestamp("2025-06-01T10:15:00Z")


def test_hourly_estimated_and_utc_designator() -> None:
    msg = parse(
        {
            "ts": "2025-01-10T23:00:00Z",
            "interval_minutes": 60,
            "withdrawn_kwh": 2,
            "injected_kwh": 1.5,
            "estimated": True,
            "pod": POD,
        }
    )
    assert msg.ok
    r = msg.readings[0]
    assert (r.ts_us, r.interval_minutes, r.withdrawn_kwh, r.injected_kwh, r.estimated) == (
        us("2025-01-10T23:00:00Z"),
        60,
        2.0,
        1.5,
        True,
    )


def test_batch() -> None:
    items = [{**GOOD, "ts": f"2025-06-01T12:{m:02d}:00+02:00", "withdrawn_kwh": m / 100} for m in (0, 15, 30, 45)]
    msg = parse({"readings": items, "device": "gw"})
    assert msg.ok and [r.withdrawn_kwh for r in msg.readings] == [0.0, 0.15, 0.3, 0.45]
    assert [r.ts_us for r in msg.readings] == [us(f"2025-06-01T10:{m:02d}:00Z") for m in (0, 15, 30, 45)]


def test_batch_keeps_good_items_and_holds_the_bad_one() -> None:
    items = [
        GOOD,
        {**GOOD, "ts": "2025-06-01T12:30:00+02:00", "withdrawn_kwh": -1.0},
        {**GOOD, "ts": "2025-06-01T12:45:00+02:00"},
    ]
    msg = parse({"readings": items})
    assert len(msg.readings) == 2 and len(msg.rejected) == 1
    bad = msg.rejected[0]
    assert bad.field == "readings[1].withdrawn_kwh" and "readings[1].withdrawn_kwh" in bad.reason
    assert "negativa" in bad.reason
    assert bad.source == TOPIC and bad.pod == POD
    assert bad.timestamp == pd.Timestamp("2025-06-01T10:30:00Z") and bad.withdrawn_kwh == -1.0
    assert bad.interval_minutes == 15 and bad.injected_kwh == 0.0
    assert json.loads(bad.raw or "") == items[1]  # the batch item, not the whole payload


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"ts": None}, "ts", "campo mancante"),
        ({"ts": 1748772900}, "ts", "testo"),
        ({"ts": "ieri"}, "ts", "ISO 8601"),
        ({"ts": "2025-06-01T12:15:00"}, "ts", "fuso orario"),
        ({"ts": "2025-06-01T12:10:00+02:00"}, "ts", "quarto d'ora"),
        ({"ts": "2025-06-01T12:15:30+02:00"}, "ts", "non allineato"),
        ({"ts": "2025-06-01T12:15:00+02:00", "interval_minutes": 60}, "ts", "ora esatta"),
        ({"interval_minutes": None}, "interval_minutes", "campo mancante"),
        ({"interval_minutes": 30}, "interval_minutes", "15 o 60"),
        ({"interval_minutes": True}, "interval_minutes", "15 o 60"),
        ({"withdrawn_kwh": None}, "withdrawn_kwh", "campo mancante"),
        ({"withdrawn_kwh": "0.1"}, "withdrawn_kwh", "atteso un numero"),
        ({"withdrawn_kwh": True}, "withdrawn_kwh", "atteso un numero"),
        ({"withdrawn_kwh": -0.001}, "withdrawn_kwh", "negativa"),
        ({"injected_kwh": None}, "injected_kwh", "campo mancante"),
        ({"injected_kwh": [1]}, "injected_kwh", "atteso un numero"),
        ({"estimated": "si"}, "estimated", "true o false"),
        ({"device": "x" * 101}, "device", "100 caratteri"),
        ({"pod": "IT001E10000099"}, "pod", "diverso dal POD del topic"),
    ],
)
def test_bad_field_is_named(change: dict[str, object], field: str, words: str) -> None:
    obj = {**GOOD, **change}
    obj = {k: v for k, v in obj.items() if v is not None}
    msg = parse(obj)
    got_field, reason = only_rejection(msg)
    assert got_field == field
    assert reason.startswith(field + ":") and words in reason
    bad = msg.rejected[0]
    assert bad.source == TOPIC and bad.pod == POD and bad.raw == json.dumps(obj)
    assert msg.community_id == 7  # it can go to the community's quarantine


def test_non_finite_numbers_are_refused() -> None:
    payload = b'{"ts": "2025-06-01T12:15:00+02:00", "interval_minutes": 15, "withdrawn_kwh": NaN, "injected_kwh": 0}'
    field, reason = only_rejection(parse_message(TOPIC, payload))
    assert field == "withdrawn_kwh" and "non finito" in reason
    payload = payload.replace(b"NaN", b"1").replace(b'"injected_kwh": 0', b'"injected_kwh": -Infinity')
    field, reason = only_rejection(parse_message(TOPIC, payload))
    assert field == "injected_kwh" and "non finito" in reason


def test_readable_values_travel_with_the_rejection() -> None:
    msg = parse({**GOOD, "interval_minutes": 30})
    bad = msg.rejected[0]
    assert bad.timestamp == pd.Timestamp("2025-06-01T10:15:00Z")
    assert (bad.withdrawn_kwh, bad.injected_kwh, bad.interval_minutes) == (0.123, 0.0, None)


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"{not json", "JSON valido"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[1, 2]", "oggetto JSON"),
        (b'"text"', "oggetto JSON"),
        (b"", "JSON valido"),
    ],
)
def test_unreadable_payload(payload: bytes, words: str) -> None:
    msg = parse_message(TOPIC, payload)
    assert len(msg.rejected) == 1 and words in msg.rejected[0].reason
    assert msg.community_id == 7 and msg.rejected[0].pod == POD and msg.rejected[0].source == TOPIC


def test_raw_text_is_truncated() -> None:
    payload = json.dumps({**GOOD, "withdrawn_kwh": -1, "note": "x" * 10_000}).encode()
    bad = parse_message(TOPIC, payload).rejected[0]
    assert bad.raw is not None and len(bad.raw) == RAW_LIMIT and bad.raw == payload.decode()[:RAW_LIMIT]


def test_bad_pod_in_topic() -> None:
    msg = parse(GOOD, topic="condivisa/7/IT001X1/reading")
    field, reason = only_rejection(msg)
    assert field == "pod" and "POD non valido 'IT001X1'" in reason
    assert msg.community_id == 7 and msg.rejected[0].withdrawn_kwh == 0.123


@pytest.mark.parametrize(
    "topic",
    [
        "condivisa/x/IT001E10000002/reading",
        "condivisa/0/IT001E10000002/reading",
        "condivisa/7/IT001E10000002/readings",
        "condivisa/7/IT001E10000002",
        "other/7/IT001E10000002/reading",
        "condivisa/7/weather/extra/x",
        "condivisa/-7/weather",
    ],
)
def test_topic_without_a_community(topic: str) -> None:
    msg = parse(GOOD, topic=topic)
    field, reason = only_rejection(msg)
    assert field == "topic" and msg.community_id is None and msg.kind is None
    assert "condivisa/<id comunita'>/<POD>/reading" in reason


@pytest.mark.parametrize(
    ("obj", "words"),
    [
        ({"readings": []}, "1 .. 1000"),
        ({"readings": "x"}, "lista"),
        ({"readings": [GOOD] * (MAX_BATCH + 1)}, f"{MAX_BATCH + 1} elementi"),
        ({"readings": [GOOD], "ts": GOOD["ts"]}, "anche ts"),
        ({"readings": [GOOD], "device": 5}, "device"),
    ],
)
def test_bad_batch(obj: dict[str, object], words: str) -> None:
    field, reason = only_rejection(parse(obj))
    assert field in ("readings", "device") and words in reason


def test_batch_item_not_an_object() -> None:
    msg = parse({"readings": [GOOD, 5]})
    assert len(msg.readings) == 1
    assert msg.rejected[0].field == "readings[1]" and "oggetto JSON" in msg.rejected[0].reason


def test_weather() -> None:
    topic = weather_topic(7)
    msg = parse(
        {"ts": "2025-06-01T12:00:00+02:00", "ghi_w_m2": 812.0, "temp_air_c": 27.5, "wind_speed_m_s": 2.1}, topic
    )
    assert msg.ok and msg.kind == "weather" and msg.community_id == 7
    assert msg.weather == (WeatherReading(us("2025-06-01T10:00:00Z"), 812.0, 27.5, 2.1),)
    msg = parse(
        {
            "observations": [
                {"ts": "2025-06-01T12:10:00+02:00", "ghi_w_m2": 0, "temp_air_c": None},
                {"ts": "2025-06-01T12:20:00+02:00", "ghi_w_m2": 1600},
            ]
        },
        topic,
    )
    assert msg.weather == (WeatherReading(us("2025-06-01T10:10:00Z"), 0.0, None, None),)
    bad = msg.rejected[0]
    assert bad.field == "observations[1].ghi_w_m2" and "1 .. 1500" not in bad.reason and "1500" in bad.reason
    assert bad.timestamp == pd.Timestamp("2025-06-01T10:20:00Z") and bad.pod is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ghi_w_m2": None}, "ghi_w_m2"),
        ({"ghi_w_m2": -1}, "ghi_w_m2"),
        ({"temp_air_c": 90}, "temp_air_c"),
        ({"temp_air_c": "20"}, "temp_air_c"),
        ({"wind_speed_m_s": -2}, "wind_speed_m_s"),
        ({"ts": "2025-06-01T12:00:30+02:00"}, "ts"),
        ({"ts": "2025-06-01T12:00:00"}, "ts"),
    ],
)
def test_bad_weather(change: dict[str, object], field: str) -> None:
    obj = {"ts": "2025-06-01T12:00:00+02:00", "ghi_w_m2": 500.0, "temp_air_c": 20.0, **change}
    obj = {k: v for k, v in obj.items() if v is not None}
    got, reason = only_rejection(parse(obj, weather_topic(3)))
    assert got == field and reason.startswith(field)


def test_never_raises_on_garbage() -> None:
    rng = random.Random(5)
    values: list[object] = [None, True, -1, 0, 1.5, 1e308, "x", "2025-06-01T12:15:00+02:00", [], {}, [1, "a"]]
    keys = [
        "ts",
        "interval_minutes",
        "withdrawn_kwh",
        "injected_kwh",
        "estimated",
        "device",
        "pod",
        "readings",
        "observations",
        "ghi_w_m2",
        "temp_air_c",
        "wind_speed_m_s",
    ]
    topics = [TOPIC, weather_topic(7), "condivisa/7/x/reading", "#", "", "condivisa//weather"]
    for _ in range(2000):
        obj = {k: rng.choice(values) for k in rng.sample(keys, rng.randint(0, len(keys)))}
        if rng.random() < 0.2:
            obj["readings"] = [dict(GOOD, **{k: rng.choice(values)}) for k in rng.sample(keys, 3)]
        payload = json.dumps(obj).encode() if rng.random() < 0.9 else bytes(rng.randrange(256) for _ in range(20))
        msg = parse_message(rng.choice(topics), payload)
        assert isinstance(msg, ParsedMessage)
        assert all(r.reason for r in msg.rejected)


def test_buffered_socket_serves_small_reads_from_memory() -> None:
    import socket

    from condivisa.live.subscriber import BufferedSocket

    a, b = socket.socketpair()
    try:
        wrapped = BufferedSocket(a)
        b.sendall(b"\x30\x05hello\x30\x03abc")
        assert wrapped.recv(1) == b"\x30"  # one system call reads everything sent so far
        assert wrapped.pending() == 11
        assert [wrapped.recv(1), wrapped.recv(5), wrapped.recv(1), wrapped.recv(1)] == [
            b"\x05",
            b"hello",
            b"\x30",
            b"\x03",
        ]
        assert wrapped.recv(10) == b"abc" and wrapped.pending() == 0
        a.setblocking(False)
        with pytest.raises(BlockingIOError):
            wrapped.recv(1)
        b.close()
        assert wrapped.recv(1) == b""  # end of stream
        assert wrapped.fileno() == a.fileno()
    finally:
        a.close()
