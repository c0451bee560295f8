"""Fuzzing of every reader of user input: no crash, every rejection a clear error naming the place.

Each reader gets random text (and random bytes, through a file) and **structured-but-corrupted** input: a valid
file whose cells, lines or fields are mutated (nasty values, Italian decimals, DST-ambiguous or non-existent local
times, BOM, CRLF, the other separator, truncation). The reader must either return a valid result or raise its
documented error type (:class:`condivisa.errors.InputError`, or :class:`ValueError` for :class:`Bill`) with every
problem naming the place (file, row, field or JSON path); the MQTT parser never raises and names the JSON field of
each rejection. Any other exception fails the test.

Budgets are bounded (``max_examples`` below, ``deadline=None``) so that the whole ``tests/fuzz`` folder runs in CI in
well under two minutes; ``FUZZ_EXAMPLES`` multiplies them for a longer run by hand (see ``docs/fuzzing.md``).
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from condivisa.errors import InputError
from condivisa.ingest.distributors import (
    ColumnMapping,
    parse_edistribuzione_wide,
    parse_mapped_csv,
    parse_pcf_long,
    pod_and_direction_from_filename,
)
from condivisa.ingest.prices import parse_prices_csv
from condivisa.ingest.readings import COLUMNS, Readings, parse_readings_csv, read_readings_csv
from condivisa.live.payload import MAX_BATCH, ParsedMessage, parse_message, reading_topic, weather_topic
from condivisa.model import POD_PATTERN, parse_community, parse_project

ROME = ZoneInfo("Europe/Rome")
SCALE = max(1, int(os.environ.get("FUZZ_EXAMPLES", "1")))
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


def budget(n: int) -> settings:
    """Bounded hypothesis settings: ``n`` examples (times ``FUZZ_EXAMPLES``), no deadline, no database."""
    return settings(
        max_examples=n * SCALE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


_TMP = Path(tempfile.mkdtemp(prefix="condivisa-fuzz-"))


def as_file(data: bytes, name: str) -> Path:
    """Write ``data`` to a scratch file (shared by all examples; each write replaces the last)."""
    path = _TMP / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------------------------------
# What "a clear error naming the place" means


def assert_named(exc: InputError, label: str | None) -> None:
    """Every problem has a message and a place; the file, when the reader knows it, is ``label``."""
    assert exc.problems, "InputError without problems"
    text = str(exc)
    assert text.strip()
    for p in exc.problems:
        assert p.message.strip(), p
        assert p.file or p.row is not None or p.field, f"problem without a place: {p!r}"
        if label is not None:
            assert p.file == label, f"problem names {p.file!r}, not the file {label!r}: {p}"
    if label is not None:
        assert label in text


def assert_readings(r: Readings, label: str) -> None:
    """A valid result: the documented columns, UTC starts, finite non-negative kWh, valid PODs, no duplicates."""
    assert isinstance(r, Readings)
    f = r.frame
    assert list(f.columns) == COLUMNS
    if len(f):
        assert isinstance(f["timestamp"].dtype, pd.DatetimeTZDtype)
        assert str(f["timestamp"].dt.tz) == "UTC"
        assert f["timestamp"].notna().all()
        for col in ("withdrawn_kwh", "injected_kwh"):
            values = f[col].to_numpy(dtype=float)
            assert all(math.isfinite(v) and v >= 0 for v in values), col
        assert all(POD_PATTERN.match(p) for p in f["pod"]), set(f["pod"])
        assert not f.duplicated(["pod", "timestamp"]).any()
        assert set(f["pod"]) <= set(r.interval_minutes)
    assert set(r.interval_minutes.values()) <= {15, 60}
    for rej in r.rejected:
        assert rej.reason.strip()
        assert rej.source == label
        assert rej.row is not None or rej.field is not None, rej


def outcome(call: Callable[[], Any], label: str | None) -> Any:
    """Run a reader: its result, or None after checking that its InputError names the place."""
    try:
        return call()
    except InputError as exc:
        assert_named(exc, label)
        return None


# --------------------------------------------------------------------------------------------------------------------
# Strategies: nasty cells, mutated tables, raw text and bytes

NASTY = [
    "",
    " ",
    "x",
    "-1",
    "-0",
    "-0,001",
    "0,5",
    "0.5",
    "1.000,5",
    "1,000.5",
    "1e3",
    "1e309",
    "-1e309",
    "NaN",
    "nan",
    "inf",
    "Infinity",
    "0x10",
    "1_000",
    "١٢",
    "9" * 400,
    "\x00",
    "\ufeff",
    '"',
    '""',
    "'",
    ";",
    ",",
    "\t",
    "é",
    "IT001E12345678",
    "IT001E123456789",
    "it001e12345678",
    "IT001E1234567",
    "IT001E1234567X",
    "2025-10-26T02:30:00",
    "2025-10-26T02:30:00+02:00",
    "2025-10-26T02:30:00+01:00",
    "2025-10-26T02:15:00+0200",
    "2025-03-30T02:30:00+01:00",
    "2025-03-30T02:30:00+02:00",
    "2025-06-01T12:07:00+02:00",
    "2025-06-01T12:15:30+02:00",
    "2025-06-01 12:15:00Z",
    "2025-02-29T00:00:00+01:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:45:00-14:00",
    "2025-01-01T00:00:00+25:00",
    "26/10/2025",
    "30/03/2025",
    "31/02/2025",
    "29/02/2024",
    "01/01/0001",
    "31/12/9999",
    "20251026",
    "20250330",
    "20251332",
    "023000",
    "021500",
    "240000",
    "000007",
    "1",
    "2",
    "3",
    "-1",
    "99999999999999999999",
    "E",
    "S",
    "NORD",
    "PUN",
    "XX",
    "02:00-02:15",
    "23:45-00:00",
    "24:00-24:15",
]

cell = st.one_of(st.sampled_from(NASTY), st.text(max_size=12))


def render(
    rows: list[list[str]],
    sep: str,
    *,
    quote: bool = False,
    trailing: bool = False,
    crlf: bool = False,
    bom: bool = False,
) -> str:
    """Text of a table."""

    def field(c: str) -> str:
        return f'"{c}"' if quote else c

    lines = [sep.join(field(c) for c in r) + (sep if trailing else "") for r in rows]
    text = ("\r\n" if crlf else "\n").join(lines) + ("\r\n" if crlf else "\n")
    return ("\ufeff" if bom else "") + text


@st.composite
def mutated_table(draw: st.DrawFn, rows: list[list[str]], sep: str, *, allow_quote: bool = True) -> str:
    """A valid table with a few mutations: cells replaced, lines dropped/duplicated/swapped, text cut or spliced."""
    rows = [list(r) for r in rows]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["cell", "cell", "cell", "drop", "dup", "swap", "extra", "short"]))
        i = draw(st.integers(0, len(rows) - 1))
        if kind == "cell" and rows[i]:
            j = draw(st.integers(0, len(rows[i]) - 1))
            rows[i][j] = draw(cell)
        elif kind == "drop" and len(rows) > 1:
            del rows[i]
        elif kind == "dup":
            rows.insert(i, list(rows[i]))
        elif kind == "swap":
            k = draw(st.integers(0, len(rows) - 1))
            rows[i], rows[k] = rows[k], rows[i]
        elif kind == "extra":
            rows[i].append(draw(cell))
        elif kind == "short" and rows[i]:
            rows[i].pop()
    use_sep = draw(st.sampled_from([sep, sep, sep, ";" if sep == "," else ",", "\t"]))
    text = render(
        rows,
        use_sep,
        quote=allow_quote and draw(st.booleans()),
        trailing=draw(st.booleans()),
        crlf=draw(st.booleans()),
        bom=draw(st.booleans()),
    )
    tail = draw(st.sampled_from(["keep", "keep", "keep", "cut", "splice"]))
    if tail == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif tail == "splice":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=5)) + text[at:]
    return text


random_text = st.text(max_size=300)
random_bytes = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"\xff\xfe\x00x", b"\xef\xbb\xbf", b"pod,timestamp\n\x80\x81", b"\xc3\x28", b"\r\n\r\n"]),
)


# --------------------------------------------------------------------------------------------------------------------
# Condivisa's readings CSV and prices CSV

READINGS_ROWS = [
    ["pod", "timestamp", "withdrawn_kwh", "injected_kwh"],
    ["IT001E12345678", "2025-10-26T02:00:00+02:00", "0.25", "0"],
    ["IT001E12345678", "2025-10-26T02:15:00+02:00", "0.5", "0.125"],
    ["IT001E12345678", "2025-10-26T02:00:00+01:00", "1", "0"],
    ["IT001E123456789", "2025-03-30T03:00:00+02:00", "0.2", "1.5"],
    ["IT001E123456789", "2025-03-30T01:00:00+01:00", "0", "0"],
]


def read_readings_text(text: str) -> Readings | None:
    r = outcome(lambda: parse_readings_csv(io.StringIO(text), name="letture.csv"), "letture.csv")
    if r is not None:
        assert_readings(r, "letture.csv")
    return r


def test_readings_csv_valid_template_reads() -> None:
    r = read_readings_text(render(READINGS_ROWS, ","))
    assert r is not None and len(r.frame) == 5


@budget(60)
@given(mutated_table(READINGS_ROWS, ","))
@example("pod,timestamp,withdrawn_kwh,injected_kwh\nIT001E12345678,2025-10-26T02:00:00,0,0\n")
@example("pod,timestamp,withdrawn_kwh,injected_kwh\nIT001E12345678,0001-01-01T00:00:00+14:00,0,0\n")
def test_readings_csv_corrupted(text: str) -> None:
    read_readings_text(text)


@budget(30)
@given(random_text)
def test_readings_csv_random_text(text: str) -> None:
    read_readings_text(text)


@budget(20)
@given(random_bytes)
def test_readings_csv_random_bytes(data: bytes) -> None:
    path = as_file(data, "letture-bytes.csv")
    r = outcome(lambda: read_readings_csv(path), str(path))
    if r is not None:
        assert_readings(r, str(path))


PRICES_ROWS = [
    ["timestamp", "zone", "price_eur_mwh"],
    ["2025-10-26T02:00:00+02:00", "NORD", "101.5"],
    ["2025-10-26T02:00:00+01:00", "NORD", "99"],
    ["2025-10-26T02:15:00+01:00", "NORD", "-3.2"],
    ["2025-03-30T03:00:00+02:00", "PUN", "120"],
]


def read_prices_text(text: str) -> None:
    p = outcome(lambda: parse_prices_csv(io.StringIO(text), name="prezzi.csv"), "prezzi.csv")
    if p is not None:
        f = p.frame
        assert set(f.columns) == {"timestamp", "zone", "price_eur_mwh"}
        assert f["price_eur_mwh"].map(math.isfinite).all()
        assert not f.duplicated(["zone", "timestamp"]).any()


def test_prices_valid_template_reads() -> None:
    p = parse_prices_csv(io.StringIO(render(PRICES_ROWS, ",")), name="prezzi.csv")
    assert set(p.zones) == {"NORD", "PUN"}


@budget(50)
@given(mutated_table(PRICES_ROWS, ","))
def test_prices_csv_corrupted(text: str) -> None:
    read_prices_text(text)


@budget(25)
@given(random_text)
def test_prices_csv_random_text(text: str) -> None:
    read_prices_text(text)


# --------------------------------------------------------------------------------------------------------------------
# Distributor formats: ED-WIDE, PCF-LONG, mapped CSV (strict and lenient)


def quarter_labels(day: date) -> list[str]:
    """ED-WIDE header labels of a local day (the autumn day repeats 02:00-02:45: 100 columns)."""
    labels = []
    for q in range(96):
        start = datetime(2000, 1, 1) + timedelta(minutes=15 * q)
        end = start + timedelta(minutes=15)
        labels.append(f"{start:%H:%M}-{end:%H:%M}")
    if day == date(2025, 10, 26):
        labels = labels[:12] + labels[8:12] + labels[12:]
    return labels


def edwide_rows(day: date, ndays: int) -> list[list[str]]:
    header = ["Giorno", *quarter_labels(day)]
    rows = [header]
    for k in range(ndays):
        d = day + timedelta(days=k)
        values = [f"0,{(q * 7) % 1000:03d}" for q in range(len(header) - 1)]
        if d == date(2025, 3, 30):
            values[8:12] = ["", "", "", ""]  # 02:00-02:45 does not exist that day
        rows.append([f"{d:%d/%m/%Y}", *values])
    return rows


ED_TEMPLATES = [
    edwide_rows(date(2025, 6, 10), 2),
    edwide_rows(date(2025, 10, 26), 1),
    edwide_rows(date(2025, 3, 30), 1),
]


@st.composite
def edwide_text(draw: st.DrawFn) -> str:
    return draw(mutated_table(draw(st.sampled_from(ED_TEMPLATES)), ";")) + "\n"  # text, not a path


@pytest.mark.parametrize("lenient", [False, True])
def test_edwide_valid_templates_read(lenient: bool) -> None:
    for rows in ED_TEMPLATES:
        r = parse_edistribuzione_wide(
            render(rows, ";"), pod="IT001E12345678", direction="withdrawn", name="ed.csv", lenient=lenient
        )
        assert_readings(r, "ed.csv")
        assert len(r.frame) > 0


@budget(40)
@given(edwide_text(), st.booleans(), st.sampled_from(["withdrawn", "injected"]))
@example("Giorno;00:00-00:15;23:45-00:00\n01/01/0001;1;1\n31/12/9999;1;1\n", False, "withdrawn")
@example("Giorno;00:00-00:15\n01/06/2025;" + "9" * 400 + "\n", True, "injected")
def test_edwide_corrupted(text: str, lenient: bool, direction: str) -> None:
    r = outcome(
        lambda: parse_edistribuzione_wide(
            text,
            pod="IT001E12345678",
            direction=direction,  # type: ignore[arg-type]
            name="ed.csv",
            lenient=lenient,
        ),
        "ed.csv",
    )
    if r is not None:
        assert_readings(r, "ed.csv")


@budget(25)
@given(random_text, st.booleans(), st.sampled_from(["IT001E12345678", "IT001E1", "", "withdrawn"]))
def test_edwide_random_text(text: str, lenient: bool, pod: str) -> None:
    text = text + "\n"  # a str with a line break is text, not a path
    r = outcome(
        lambda: parse_edistribuzione_wide(text, pod=pod, direction="withdrawn", name="ed.csv", lenient=lenient),
        "ed.csv",
    )
    if r is not None:
        assert_readings(r, "ed.csv")


@budget(20)
@given(random_bytes, st.booleans())
def test_edwide_random_bytes(data: bytes, lenient: bool) -> None:
    path = as_file(data, "ed-bytes.csv")
    r = outcome(
        lambda: parse_edistribuzione_wide(path, pod="IT001E12345678", direction="injected", lenient=lenient),
        str(path),
    )
    if r is not None:
        assert_readings(r, str(path))


@budget(25)
@given(st.one_of(st.text(max_size=80), st.sampled_from(["edist-wide_IT001E12345678_prelievo_x.csv", "edist-wide_"])))
def test_edwide_file_name_convention(name: str) -> None:
    try:
        pod, direction = pod_and_direction_from_filename(name)
    except InputError as exc:
        assert exc.problems and all(p.file == Path(name).name and p.message for p in exc.problems)
    else:
        assert POD_PATTERN.match(pod)
        assert direction in ("withdrawn", "injected")


PCF_HEADER = [
    "POD",
    "DATA",
    "ORA",
    "FL_ORA_LEGALE",
    "ATTIVA_PRELEVATA",
    "ATTIVA_IMMESSA",
    "PICCO_PRELEVATA",
    "TIPO_DATO",
]


def pcf_rows(day: date, pods: list[str]) -> list[list[str]]:
    """A valid PCF-LONG day (the autumn day with both 02:xx hours, the spring day with zero placeholders)."""
    rows = [PCF_HEADER]
    start = datetime.combine(day, datetime.min.time(), tzinfo=ROME).astimezone(ZoneInfo("UTC"))
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=ROME).astimezone(ZoneInfo("UTC"))
    for pod in pods:
        t = start
        q = 0
        while t < end:
            local = t.astimezone(ROME)
            flag = int(local.utcoffset().total_seconds() // 3600)  # type: ignore[union-attr]
            rows.append([pod, f"{local:%Y%m%d}", f"{local:%H%M%S}", str(flag), f"0,{q % 97:03d}", "", "3,1", "E"])
            if day == date(2025, 3, 30) and local.hour == 1 and local.minute == 45:
                for m in (0, 15, 30, 45):
                    rows.append([pod, f"{local:%Y%m%d}", f"02{m:02d}00", "2", "0,000", "", "3,1", "E"])
            t += timedelta(minutes=15)
            q += 1
    return rows


PCF_TEMPLATES = [
    pcf_rows(date(2025, 6, 10), ["IT012E11223344"]),
    pcf_rows(date(2025, 10, 26), ["IT012E11223344", "IT012E55667788"]),
    pcf_rows(date(2025, 3, 30), ["IT012E11223344"]),
]


@pytest.mark.parametrize("lenient", [False, True])
def test_pcf_valid_templates_read(lenient: bool) -> None:
    for rows in PCF_TEMPLATES:
        r = parse_pcf_long(render(rows, ";", trailing=True), name="pcf.csv", lenient=lenient)
        assert_readings(r, "pcf.csv")
        assert not r.rejected


@budget(40)
@given(st.sampled_from(PCF_TEMPLATES).flatmap(lambda rows: mutated_table(rows, ";")), st.booleans())
@example(
    ";".join(PCF_HEADER) + "\nIT012E11223344;00010101;000000;1;1;;;E\nIT012E11223344;99991231;234500;1;1;;;E\n", False
)
@example(";".join(PCF_HEADER) + "\nIT012E11223344;20250601;000000;2;" + "9" * 400 + ";;;E\n", True)
def test_pcf_corrupted(text: str, lenient: bool) -> None:
    r = outcome(lambda: parse_pcf_long(text + "\n", name="pcf.csv", lenient=lenient), "pcf.csv")
    if r is not None:
        assert_readings(r, "pcf.csv")


@budget(25)
@given(random_text, st.booleans())
def test_pcf_random_text(text: str, lenient: bool) -> None:
    body = ";".join(PCF_HEADER) + "\n" + text + "\n"
    r = outcome(lambda: parse_pcf_long(body, name="pcf.csv", lenient=lenient), "pcf.csv")
    if r is not None:
        assert_readings(r, "pcf.csv")


@budget(20)
@given(random_bytes, st.booleans())
def test_pcf_random_bytes(data: bytes, lenient: bool) -> None:
    path = as_file(data, "pcf-bytes.csv")
    r = outcome(lambda: parse_pcf_long(path, lenient=lenient), str(path))
    if r is not None:
        assert_readings(r, str(path))


MAPPINGS = [
    ColumnMapping(
        pod_column="pod",
        date_column="data",
        time_column="ora",
        withdrawn_column="prelievo",
        injected_column="immissione",
    ),
    ColumnMapping(
        separator=",",
        decimal=".",
        pod="IT001E12345678",
        datetime_column="quando",
        datetime_format="%Y-%m-%d %H:%M",
        value_column="valore",
        direction="injected",
        unit="Wh",
        interval_minutes=60,
    ),
    ColumnMapping(
        pod_column="pod",
        date_column="data",
        time_column="ora",
        utc_offset_column="fl",
        withdrawn_column="prelievo",
        unit="kW",
    ),
]


def mapped_rows(mapping: ColumnMapping) -> list[list[str]]:
    """A valid file for each of :data:`MAPPINGS` (autumn day: the repeated 02:xx wall times)."""
    if mapping.datetime_column:
        rows = [["quando", "valore"]]
        for h in range(6):
            rows.append([f"2025-10-26 {h:02d}:00", f"{100 * h}.5"])
        rows.insert(4, ["2025-10-26 02:00", "7"])
        return rows
    if mapping.utc_offset_column:
        rows = [["pod", "data", "ora", "fl", "prelievo"]]
        for hh, fl in (("01", "2"), ("02", "2"), ("02", "1"), ("03", "1")):
            rows.append(["IT001E12345678", "26/10/2025", f"{hh}:00", fl, "1,5"])
        return rows
    rows = [["pod", "data", "ora", "prelievo", "immissione"]]
    for hh in ("01", "02", "02", "03"):
        for mm in ("00", "15", "30", "45"):
            rows.append(["IT001E12345678", "26/10/2025", f"{hh}:{mm}", "0,25", "0"])
    rows.append(["IT001E12345678", "30/03/2025", "02:15", "0", "0"])
    return rows


@pytest.mark.parametrize("k", range(len(MAPPINGS)))
def test_mapped_valid_templates_read(k: int) -> None:
    m = MAPPINGS[k]
    r = parse_mapped_csv(render(mapped_rows(m), m.separator), m, name="mappato.csv")
    assert_readings(r, "mappato.csv")
    assert len(r.frame) > 0


@budget(45)
@given(
    st.integers(0, len(MAPPINGS) - 1).flatmap(
        lambda k: st.tuples(st.just(k), mutated_table(mapped_rows(MAPPINGS[k]), MAPPINGS[k].separator))
    ),
    st.booleans(),
)
@example((0, "pod;data;ora;prelievo;immissione\nIT001E12345678;31/12/9999;23:45;1;0\n"), False)
@example((0, "pod;data;ora;prelievo;immissione\nIT001E12345678;01/01/0001;00:00;1;0\n"), True)
@example((2, "pod;data;ora;fl;prelievo\nIT001E12345678;26/10/2025;02:00;1e400;1\n"), False)
@example((2, "pod;data;ora;fl;prelievo\nIT001E12345678;26/10/2025;02:00;NaN;1\n"), True)
@example((1, "quando,valore\n2025-10-26 02:00,1e400\n"), False)
def test_mapped_corrupted(case: tuple[int, str], lenient: bool) -> None:
    k, text = case
    r = outcome(lambda: parse_mapped_csv(text + "\n", MAPPINGS[k], name="mappato.csv", lenient=lenient), "mappato.csv")
    if r is not None:
        assert_readings(r, "mappato.csv")


# The mapping itself, as `condivisa db import-meter --format mapped --mapping MAP.toml` reads it

toml_value = st.one_of(
    st.sampled_from(['";"', '","', '"."', '""', '";;"', '"pod"', '"Europe/Rome"', '"Mars/Olympus"', '"../etc"']),
    st.sampled_from(['"kWh"', '"Wh"', '"kW"', '"MWh"', '"withdrawn"', '"injected"', '"%d/%m/%Y"', '"%Q"', '"%"']),
    st.sampled_from(["15", "60", "0", "-15", "1e3", "true", "[]", "{}", '"15"', "99999999999999999999"]),
    st.text(max_size=10).map(json.dumps),
)
toml_key = st.sampled_from([*ColumnMapping.__dataclass_fields__, "unknown_key"])


@st.composite
def mapping_toml(draw: st.DrawFn) -> str:
    base = {
        "pod_column": '"pod"',
        "date_column": '"data"',
        "time_column": '"ora"',
        "withdrawn_column": '"prelievo"',
        "injected_column": '"immissione"',
    }
    for _ in range(draw(st.integers(0, 3))):
        key = draw(toml_key)
        if draw(st.booleans()) and key in base:
            del base[key]
        else:
            base[key] = draw(toml_value)
    text = "".join(f"{k} = {v}\n" for k, v in base.items())
    if draw(st.integers(0, 9)) == 0:
        text = draw(random_text)
    return text


@budget(60)
@given(mapping_toml(), st.booleans())
@example(
    'pod_column = "pod"\ndate_column = "data"\ntime_column = "ora"\nwithdrawn_column = "p"\ntimezone = "Mars/X"\n',
    False,
)
@example(
    'pod_column = "pod"\ndate_column = "data"\ntime_column = "ora"\nwithdrawn_column = "p"\nseparator = ";;"\n', False
)
@example(
    'pod_column = "pod"\ndate_column = "data"\ntime_column = "ora"\nwithdrawn_column = "p"\nseparator = 1\n', False
)
@example(
    'pod_column = "pod"\ndate_column = "data"\ntime_column = "ora"\nwithdrawn_column = "p"\ndate_format = 7\n', False
)
@example(
    'pod_column = "pod"\ndate_column = "data"\ntime_column = "ora"\nwithdrawn_column = "p"\ntime_format = "%d"\n', False
)
@example(
    'pod_column = "pod"\ndate_column = "data"\ntime_column = "ora"\nwithdrawn_column = "p"\ntime_format = "%Q"\n', False
)
@example("\udcff", True)
def test_mapping_toml_of_import_meter(toml_text: str, bad_utf8: bool) -> None:
    from condivisa.cli.db import read_meter_file

    data = render(mapped_rows(MAPPINGS[0]), ";").encode()
    csv_path = as_file(data, "mappato-cli.csv")
    raw = (
        toml_text.encode("utf-8", errors="surrogateescape")
        if not bad_utf8
        else b"\xff\xfe" + toml_text.encode("utf-8", errors="replace")
    )
    map_path = as_file(raw, "mappatura.toml")
    try:
        r = read_meter_file(csv_path, "mapped", mapping=map_path)
    except InputError as exc:
        assert_named(exc, None)
        assert all(p.file in (str(map_path), str(csv_path)) for p in exc.problems), exc.problems
    else:
        assert_readings(r, str(csv_path))


# --------------------------------------------------------------------------------------------------------------------
# MQTT payloads

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
    st.sampled_from(
        ["2025-10-26T02:15:00+02:00", "2025-10-26T02:15:00+01:00", "2025-10-26T02:15:00", "2025-03-30T02:15:00+01:00"]
    ),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)

GOOD_READING: dict[str, Any] = {
    "ts": "2025-10-26T02:15:00+01:00",
    "interval_minutes": 15,
    "withdrawn_kwh": 0.25,
    "injected_kwh": 0.0,
    "estimated": False,
    "device": "contatore-1",
}
GOOD_WEATHER: dict[str, Any] = {
    "ts": "2025-06-01T12:00:00+02:00",
    "ghi_w_m2": 812.0,
    "temp_air_c": 27.5,
    "wind_speed_m_s": 2.1,
}
POD = "IT001E12345678"


@st.composite
def mutated_object(draw: st.DrawFn, good: dict[str, Any]) -> dict[str, Any]:
    obj = dict(good)
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from([*good, "pod", "extra"]))
        if draw(st.integers(0, 3)) == 0:
            obj.pop(key, None)
        else:
            obj[key] = draw(json_value)
    return obj


def check_message(topic: str, payload: bytes) -> ParsedMessage:
    msg = parse_message(topic, payload)
    assert isinstance(msg, ParsedMessage)
    for rej in msg.rejected:
        assert rej.reason.strip()
        assert rej.source == topic
        if rej.field is not None:
            assert rej.field in rej.reason or rej.field in ("topic", "pod"), rej
    for r in msg.readings:
        assert r.interval_minutes in (15, 60)
        assert math.isfinite(r.withdrawn_kwh) and r.withdrawn_kwh >= 0
        assert math.isfinite(r.injected_kwh) and r.injected_kwh >= 0
        assert r.ts_us % (r.interval_minutes * 60_000_000) == 0
        r.timestamp  # noqa: B018  (must not raise)
    for w in msg.weather:
        assert 0 <= w.ghi_w_m2 <= 1500
        w.timestamp  # noqa: B018
    return msg


def test_mqtt_valid_payloads() -> None:
    msg = check_message(reading_topic(3, POD), json.dumps(GOOD_READING).encode())
    assert msg.ok and len(msg.readings) == 1
    msg = check_message(weather_topic(3), json.dumps({"observations": [GOOD_WEATHER]}).encode())
    assert msg.ok and len(msg.weather) == 1


@budget(80)
@given(
    st.one_of(
        mutated_object(GOOD_READING),
        st.lists(mutated_object(GOOD_READING), min_size=0, max_size=4).map(lambda xs: {"readings": xs}),
        json_value,
    ),
    st.sampled_from([reading_topic(3, POD), reading_topic(3, "IT1"), "condivisa/x/IT001E12345678/reading"]),
)
@example(
    {"ts": "2025-06-01T12:15:00+02:00", "interval_minutes": 15, "withdrawn_kwh": 10**400, "injected_kwh": 0},
    reading_topic(3, POD),
)
@example(
    {"ts": "0001-01-01T00:00:00+14:00", "interval_minutes": 15, "withdrawn_kwh": 0, "injected_kwh": 0},
    reading_topic(3, "IT1"),
)
@example(
    {"ts": "9999-12-31T23:45:00-14:00", "interval_minutes": 15, "withdrawn_kwh": 0, "injected_kwh": 0},
    reading_topic(3, POD),
)
def test_mqtt_reading_payloads(obj: Any, topic: str) -> None:
    check_message(topic, json.dumps(obj, default=str).encode())


@budget(40)
@given(
    st.one_of(
        mutated_object(GOOD_WEATHER),
        st.lists(mutated_object(GOOD_WEATHER), max_size=3).map(lambda xs: {"observations": xs}),
    )
)
@example({"ts": "2025-06-01T12:00:00+02:00", "ghi_w_m2": 10**400})
def test_mqtt_weather_payloads(obj: Any) -> None:
    check_message(weather_topic(7), json.dumps(obj).encode())


@budget(50)
@given(st.one_of(st.text(max_size=60), st.sampled_from(["condivisa/1/weather", "condivisa/0/x/reading"])), random_bytes)
@example("condivisa/" + "9" * 5000 + "/weather", b"{}")
@example("condivisa/1/weather", b"[" * 100_000)
@example("condivisa/1/IT001E12345678/reading", b'{"readings": ' + b"[" * 50_000 + b"]" * 50_000 + b"}")
@example("condivisa/1/IT001E12345678/reading", b"NaN")
@example("condivisa/1/IT001E12345678/reading", b'{"readings": [' + b"{}," * (MAX_BATCH + 1) + b"{}]}")
def test_mqtt_random_topic_and_bytes(topic: str, payload: bytes) -> None:
    check_message(topic, payload)


# --------------------------------------------------------------------------------------------------------------------
# Community YAML and project YAML (bills per band)

COMMUNITY_YAML = """\
name: CER Prova
configuration: CER
region: Piemonte
constitution_date: 2025-01-15
parameters: {sharing_target: 0.6, latitude: 45.07}
members:
  - id: m1
    name: Socio Uno
    kind: household
    email: uno@esempio.it
    pods:
      - {pod: IT001E12345678, cabina: AC001E00123, voltage: LV}
  - id: m2
    kind: business
    pods:
      - {pod: IT001E123456789, cabina: AC001E00123}
plants:
  - id: p1
    owner: m1
    pod: IT001E87654321
    cabina: AC001E00123
    power_kw: 20
    commissioning_date: 2025-03-30
regulation:
  - {to: "fund:sociale", share: 0.1}
  - {to: producers, share: 0.4, by: incentivised_injection}
  - {to: consumers, share: 0.5, by: shared_withdrawal}
"""


def leaf_paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(data, dict):
        yield prefix
        for k, v in data.items():
            yield from leaf_paths(v, (*prefix, k))
    elif isinstance(data, list):
        yield prefix
        for i, v in enumerate(data):
            yield from leaf_paths(v, (*prefix, i))
    else:
        yield prefix


yaml_value = st.one_of(
    json_value,
    st.sampled_from(
        ["2025-02-30", "30/03/2025", "IT001E1", "it001e12345678", "fund:", "-1", "1e309", ".nan", ".inf", "~", "yes"]
    ),
)


@st.composite
def mutated_document(draw: st.DrawFn, text: str, *, as_json: bool = False) -> str:
    """A valid YAML document with a few leaves (or whole subtrees) replaced or removed, or its lines mangled."""
    if draw(st.booleans()):
        data = yaml.safe_load(text)
        for _ in range(draw(st.integers(1, 3))):
            paths = [p for p in leaf_paths(data) if p]
            path = draw(st.sampled_from(paths))
            parent = data
            for part in path[:-1]:
                parent = parent[part]
            if draw(st.integers(0, 3)) == 0:
                if isinstance(parent, dict):
                    parent.pop(path[-1], None)
                elif len(parent) > 0:
                    parent.pop(path[-1])
            else:
                parent[path[-1]] = draw(yaml_value)
            if not isinstance(data, dict):
                break
        if as_json:
            return json.dumps(data, ensure_ascii=False)
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["drop", "dup", "indent", "value", "splice"]))
        if kind == "drop":
            del lines[i]
        elif kind == "dup":
            lines.insert(i, lines[i])
        elif kind == "indent":
            lines[i] = " " * draw(st.integers(0, 5)) + lines[i].lstrip()
        elif kind == "value" and ":" in lines[i]:
            lines[i] = (
                lines[i].split(":", 1)[0]
                + ": "
                + draw(st.sampled_from([*NASTY, "[", "{", "&a", "*a", "!!python/object:os.system"]))
            )
        else:
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.text(max_size=4)) + lines[i][at:]
        if not lines:
            break
    return "\n".join(lines) + ("\r\n" if draw(st.booleans()) else "\n")


def test_community_valid_template_reads() -> None:
    c = parse_community(COMMUNITY_YAML, source="cer.yaml")
    assert len(c.members) == 2


@budget(80)
@given(mutated_document(COMMUNITY_YAML))
@example("[" * 5000)
@example("a: " + "[" * 5000)
@example("members:\n  - id: m1\n    pods: [{pod: IT001E12345678, cabina: ''}]\nname: x\nregion: y\n")
@example("\ufeffname: x\n")
def test_community_yaml_corrupted(text: str) -> None:
    outcome(lambda: parse_community(text, source="cer.yaml"), "cer.yaml")


@budget(30)
@given(random_text)
def test_community_yaml_random_text(text: str) -> None:
    outcome(lambda: parse_community(text, source="cer.yaml"), "cer.yaml")


@budget(15)
@given(random_bytes)
def test_community_yaml_random_bytes(data: bytes) -> None:
    from condivisa.model import load_community

    path = as_file(data, "cer-bytes.yaml")
    outcome(lambda: load_community(path), str(path))


PROJECT_YAML = (EXAMPLES_DIR / "progetto-borgo.yaml").read_text(encoding="utf-8")


def check_bills(project: Any) -> None:
    """Every member's bill becomes a :class:`Bill` or a ValueError naming the bill ("bolletta...")."""
    from condivisa.planning.profiles import Bill

    for m in project.members:
        if m.bill is None:
            continue
        try:
            Bill(
                year=project.year,
                yearly=dict(m.bill.yearly) if m.bill.yearly is not None else None,
                monthly={k: dict(v) for k, v in m.bill.monthly.items()} if m.bill.monthly is not None else None,
            )
        except ValueError as exc:
            assert str(exc).startswith("bolletta"), exc


@budget(50)
@given(mutated_document(PROJECT_YAML))
def test_project_yaml_corrupted(text: str) -> None:
    project = outcome(lambda: parse_project(text, source="progetto.yaml"), "progetto.yaml")
    if project is not None:
        check_bills(project)


bands = st.dictionaries(
    st.sampled_from(["F1", "F2", "F3", "F23", "total", "F4", "f1", ""]),
    st.one_of(st.floats(), st.integers(-5, 10**6), st.none(), st.text(max_size=3), st.booleans()),
    max_size=4,
)


@budget(60)
@given(
    st.one_of(st.integers(1900, 2200), st.sampled_from([2025, True, 2025.0, "2025"])),
    st.one_of(st.none(), bands),
    st.one_of(st.none(), st.dictionaries(st.one_of(st.integers(-1, 14), st.text(max_size=2)), bands, max_size=13)),
)
@example(2025, None, {m: {"F1": 1.0, "F23": 2.0} for m in range(1, 13)})
@example(2025, {"F1": 100.0, "F2": 80.0, "F3": 120.0}, None)
def test_bills_per_band(year: Any, yearly: Any, monthly: Any) -> None:
    from condivisa.planning.profiles import Bill, profile_from_bill

    try:
        bill = Bill(year, yearly=yearly, monthly=monthly)
    except ValueError as exc:
        assert str(exc).startswith("bolletta"), exc
        return
    assert bill.total_kwh >= 0 and math.isfinite(bill.total_kwh)
    if bill.year == 2025:
        series = profile_from_bill(bill, "household")
        assert math.isclose(float(series.sum()), bill.total_kwh, rel_tol=1e-9, abs_tol=1e-6)


# --------------------------------------------------------------------------------------------------------------------
# Public buildings (CSV and GeoJSON)

BUILDINGS_CSV = (EXAMPLES_DIR / "edifici-pubblici.csv").read_text(encoding="utf-8")
BUILDINGS_GEOJSON = (EXAMPLES_DIR / "edifici-pubblici.geojson").read_text(encoding="utf-8")


def buildings_rows() -> list[list[str]]:
    import csv

    return [list(r) for r in csv.reader(io.StringIO(BUILDINGS_CSV))][:6]


def read_buildings_text(text: str, name: str) -> None:
    from condivisa.civic.buildings import Building, read_buildings

    found = outcome(lambda: read_buildings(text, name), name)
    if found is not None:
        assert found and all(isinstance(b, Building) for b in found)


def test_buildings_examples_read() -> None:
    from condivisa.civic.buildings import read_buildings

    assert read_buildings(BUILDINGS_CSV, "edifici.csv")
    assert read_buildings(BUILDINGS_GEOJSON, "edifici.geojson")


@budget(50)
@given(mutated_table(buildings_rows(), ","))
def test_buildings_csv_corrupted(text: str) -> None:
    read_buildings_text(text, "edifici.csv")


@budget(40)
@given(mutated_document(BUILDINGS_GEOJSON, as_json=True))
@example(
    '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
    '"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}}]}'
)
@example('{"type": "Feature", "properties": {"code": "A"}, "geometry": {"type": "Point", "coordinates": [1e400, 0]}}')
def test_buildings_geojson_corrupted(text: str) -> None:
    read_buildings_text(text, "edifici.geojson")


@budget(30)
@given(random_text, st.sampled_from(["edifici.csv", "edifici.geojson"]))
def test_buildings_random_text(text: str, name: str) -> None:
    read_buildings_text(text, name)
