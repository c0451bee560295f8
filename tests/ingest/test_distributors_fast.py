"""The vectorised distributor readers give exactly what the row-by-row reference gives, faults included.

Small files of each format are generated with random faults (bad numbers, negative values, identical and conflicting
duplicates, missing cells, 23/25-hour days with spring placeholders, wrong flags, bad PODs, shuffled rows...) and
read by both implementations, strict and lenient: same frame, notes, problems and rejected readings.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from condivisa.errors import InputError
from condivisa.ingest.distributors import (
    ColumnMapping,
    _fields,
    _grid,
    _parse_edistribuzione_wide_rowwise,
    _parse_mapped_csv_rowwise,
    _parse_pcf_long_rowwise,
    _plain_day,
    _rows,
    parse_edistribuzione_wide,
    parse_mapped_csv,
    parse_pcf_long,
)
from condivisa.ingest.readings import Readings

ROME = ZoneInfo("Europe/Rome")
PCF_COLUMNS = [
    "POD",
    "DATA",
    "ORA",
    "FL_ORA_LEGALE",
    "ATTIVA_PRELEVATA",
    "ATTIVA_IMMESSA",
    "REATTIVA_CAPACITIVA_IMMESSA",
    "PICCO_PRELEVATA",
    "TIPO_DATO",
]
DAYS = [
    date(2025, 3, 29),
    date(2025, 3, 30),
    date(2025, 6, 10),
    date(2025, 10, 25),
    date(2025, 10, 26),
    date(2025, 10, 27),
]
OLD_DAYS = [
    date(1979, 9, 29),
    date(1979, 9, 30),
    date(1979, 10, 1),
]  # before 1980: read row by row, mixed with the rest


def some_days(rng: random.Random, most: int) -> list[date]:
    """Days of one era (a file spanning decades would only test the reference's patience)."""
    pool = OLD_DAYS if rng.random() < 0.15 else DAYS
    return sorted(rng.sample(pool, rng.randint(1, most)))


GOOD_PODS = ["IT012E11223344", "IT012E55667788", "IT001E123456789"]
BAD_PODS = ["IT12E1", "", "it012e55667788", "XX012E11223344", " IT012E11223344"]
BAD_NUMBERS = ["0.1", "x", "-0,1", "-0", "NaN", "Infinity", "1e3", "0,1,2", "١", "0,", ",5", "1_0", "+0,5"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(read: Callable[[], Readings]) -> tuple[str, Any]:
    try:
        return "ok", read()
    except InputError as exc:
        return "error", exc.problems
    except Exception as exc:  # the reference may crash on absurd input: then both must crash alike
        return "crash", (type(exc), str(exc))


def assert_same(fast: tuple[str, Any], reference: tuple[str, Any]) -> None:
    assert fast[0] == reference[0], (fast, reference)
    if fast[0] != "ok":
        assert fast[1] == reference[1]
        return
    a, b = fast[1], reference[1]
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
    assert a.interval_minutes == b.interval_minutes
    assert a.source == b.source
    assert a.notes == b.notes
    assert a.rejected == b.rejected


def quarters(day: date) -> list[datetime]:
    start = datetime.combine(day, time(0), tzinfo=ROME).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ROME).astimezone(UTC)
    out = []
    while start < end:
        out.append(start)
        start += timedelta(minutes=15)
    return out


def value(rng: random.Random) -> str:
    v = rng.choice([0, 0, 1, 25, 100, 123, 999, 1500])
    text = f"{v / 1000:.3f}"
    if rng.random() < 0.3:
        text = text.rstrip("0").rstrip(".") or "0"
    return text.replace(".", ",")


# ---------------------------------------------------------------------------------------------------- PCF-LONG


def pcf_text(rng: random.Random, fault: float) -> str:
    columns = list(PCF_COLUMNS)
    if rng.random() < 0.2:
        columns.remove("TIPO_DATO")
    if rng.random() < 0.2:
        rng.shuffle(columns)
    pods = rng.sample(GOOD_PODS, rng.randint(1, 2))
    days = some_days(rng, 2)
    consumer = {p: rng.random() < 0.4 for p in pods}
    rows: list[dict[str, str]] = []
    for pod in pods:
        for day in days:
            qs = quarters(day)
            a = rng.randrange(len(qs)) if rng.random() < 0.3 else 0
            b = rng.randrange(a, len(qs) + 1) if rng.random() < 0.3 else len(qs)
            for ts in qs[a:b]:
                local = ts.astimezone(ROME)
                flag = int(local.utcoffset() / timedelta(hours=1))  # type: ignore[operator]
                row = {
                    "POD": pod,
                    "DATA": f"{local:%Y%m%d}",
                    "ORA": f"{local:%H%M%S}",
                    "FL_ORA_LEGALE": str(flag),
                    "ATTIVA_PRELEVATA": value(rng),
                    "ATTIVA_IMMESSA": "" if consumer[pod] else value(rng),
                    "REATTIVA_CAPACITIVA_IMMESSA": "",
                    "PICCO_PRELEVATA": "3,105",
                    "TIPO_DATO": rng.choice(["E"] * 8 + ["S", "e", "", "R"]),
                }
                rows.append(row)
                if local.date() == date(2025, 3, 30) and local.hour == 1 and rng.random() < 0.8:
                    placeholder = dict(row, ORA=f"02{local:%M}00", FL_ORA_LEGALE="2", ATTIVA_PRELEVATA="0,000")
                    if not consumer[pod]:
                        placeholder["ATTIVA_IMMESSA"] = rng.choice(["0,000", "", "0"])
                    if rng.random() < fault:
                        placeholder["ATTIVA_PRELEVATA"] = "0,050"
                    rows.append(placeholder)
    faulty: list[dict[str, str] | str] = []
    for row in rows:
        if rng.random() >= fault:
            faulty.append(row)
            continue
        kind = rng.randrange(12)
        row = dict(row)
        if kind == 0:
            row[rng.choice(["ATTIVA_PRELEVATA", "ATTIVA_IMMESSA"])] = rng.choice(BAD_NUMBERS)
        elif kind == 1:
            row[rng.choice(["ATTIVA_PRELEVATA", "ATTIVA_IMMESSA"])] = ""
        elif kind == 2:
            row["FL_ORA_LEGALE"] = rng.choice(["3", "", "0", "1" if row["FL_ORA_LEGALE"] == "2" else "2", " 1"])
        elif kind == 3:
            row["POD"] = rng.choice(BAD_PODS)
        elif kind == 4:
            row["ORA"] = rng.choice(["0", "1500", "001510", "240000", "", "12:00", "００１５００"])
        elif kind == 5:
            row["DATA"] = rng.choice(["20250230", "2025061", "2025-06-10", "", "00010101", "٢٠٢٥٠٦١٠"])
        elif kind == 6:
            faulty.append(row)
            faulty.append(dict(row))  # identical duplicate
            continue
        elif kind == 7:
            faulty.append(row)
            faulty.append(dict(row, ATTIVA_PRELEVATA="9,999"))  # conflicting duplicate
            continue
        elif kind == 8:
            faulty.append(rng.choice(["", "   ", ";;;"]))  # blank or empty line
        elif kind == 9:
            faulty.append(";".join(row[c] for c in columns[: rng.randint(1, 5)]))  # too few fields
            continue
        elif kind == 10:
            faulty.append(";".join([row[c] for c in columns] + ["x"] * rng.randint(2, 4)))  # too many fields
            continue
        else:
            faulty.append(";".join(f'"{row[c]}"' if rng.random() < 0.5 else f" {row[c]} " for c in columns))
            continue
        faulty.append(row)
    if rng.random() < 0.3:
        rng.shuffle(faulty)
    header = ";".join(columns) + (";" if rng.random() < 0.7 else "")
    body = [r if isinstance(r, str) else ";".join(r[c] for c in columns) + ";" for r in faulty]
    newline = rng.choice(["\n", "\r\n"])
    return newline.join([header, *body]) + newline


@SETTINGS
@given(seed=st.integers(0, 2**32), fault=st.sampled_from([0.0, 0.01, 0.05, 0.2]), lenient=st.booleans())
def test_pcf_fast_equals_rowwise(seed: int, fault: float, lenient: bool) -> None:
    text = pcf_text(random.Random(seed), fault)
    fast = outcome(lambda: parse_pcf_long(text, name="p.csv", lenient=lenient))
    reference = outcome(lambda: _parse_pcf_long_rowwise(text, name="p.csv", lenient=lenient))
    assert_same(fast, reference)


def test_pcf_fast_equals_rowwise_on_faults_named_in_the_spec() -> None:
    header = ";".join(PCF_COLUMNS) + ";"
    rows = [
        "IT012E11223344;20250601;000000;2;0,1x0;;;;E;",
        "IT012E11223344;20250601;001500;2;-0,100;;;;E;",
        "IT12E1;20250601;003000;2;0,100;;;;E;",
        "IT012E11223344;20250601;004500;3;0,100;;;;E;",
        "IT012E11223344;20250101;004500;2;0,100;;;;E;",
        "IT012E11223344;20250601;010000;2;0,100;;;;E;",
        "IT012E11223344;20250601;010000;2;0,200;;;;E;",
        "IT012E11223344;20250601;011500;2;0,100;;;;S;",
        "IT012E11223344;20250601;011500;2;0,1;;;;S;",
        "IT012E11223344;20250330;021500;2;0,050;;;;E;",
    ]
    text = "\n".join([header, *rows]) + "\n"
    for lenient in (False, True):
        assert_same(
            outcome(lambda lenient=lenient: parse_pcf_long(text, name="p.csv", lenient=lenient)),
            outcome(lambda lenient=lenient: _parse_pcf_long_rowwise(text, name="p.csv", lenient=lenient)),
        )


# ---------------------------------------------------------------------------------------------------- ED-WIDE


def ed_labels(repeat: bool) -> list[str]:
    out = []
    for k in range(96):
        a = datetime(2000, 1, 1) + timedelta(minutes=15 * k)
        out.append(f"{a:%H:%M}-{a + timedelta(minutes=15):%H:%M}")
    return out[:12] + out[8:12] + out[12:] if repeat else out


def ed_text(rng: random.Random, fault: float) -> str:
    labels = ed_labels(rng.random() < 0.3)
    if rng.random() < 0.1:
        rng.shuffle(labels)
    days = [f"{d:%d/%m/%Y}" for d in some_days(rng, 3)]
    if rng.random() < fault * 2:
        days.append(rng.choice(["31/06/2025", "1/6/2025", "2025-06-11", "", "11/06/2025 "]))
    rows: list[str] = []
    quote = rng.random() < 0.8
    for day in days:
        cells = [value(rng) for _ in labels]
        for k in range(len(cells)):
            if rng.random() < fault:
                cells[k] = rng.choice(["", "", "0", " 0,2 ", *BAD_NUMBERS])
        if day == "30/03/2025":
            for k, lab in enumerate(labels):
                if lab.startswith("02:"):
                    cells[k] = rng.choice(["", "", "0", "0,0"]) if rng.random() >= fault else "0,2"
        if rng.random() < fault:
            cells = cells[: rng.randrange(len(cells))] if rng.random() < 0.5 else [*cells, "0,1"]
        line = ";".join([f'"{c}"' if quote else c for c in [day, *cells]]) + ";"
        rows.append(line)
        if rng.random() < fault * 3:
            if rng.random() < 0.5 or not cells:
                rows.append(line)  # identical duplicate day
            else:
                k = rng.randrange(len(cells))
                cells = [*cells]
                cells[k] = "7,777"
                rows.append(";".join([f'"{c}"' if quote else c for c in [day, *cells]]) + ";")
        if rng.random() < fault:
            rows.append(rng.choice(["", "  ", ";"]))
    if rng.random() < 0.3:
        rng.shuffle(rows)
    newline = rng.choice(["\n", "\r\n"])
    return newline.join(["Giorno;" + ";".join(labels), *rows]) + newline


@SETTINGS
@given(
    seed=st.integers(0, 2**32),
    fault=st.sampled_from([0.0, 0.01, 0.05, 0.2]),
    lenient=st.booleans(),
    direction=st.sampled_from(["withdrawn", "injected"]),
)
def test_edwide_fast_equals_rowwise(seed: int, fault: float, lenient: bool, direction: Any) -> None:
    text = ed_text(random.Random(seed), fault)
    args: dict[str, Any] = {"pod": "IT001E12345678", "direction": direction, "name": "e.csv", "lenient": lenient}
    fast = outcome(lambda: parse_edistribuzione_wide(text, **args))
    reference = outcome(lambda: _parse_edistribuzione_wide_rowwise(text, **args))
    assert_same(fast, reference)


# ---------------------------------------------------------------------------------------------------- mapped CSV

MAPPINGS = [
    ColumnMapping(
        separator=",",
        decimal=".",
        pod_column="pod",
        date_column="giorno",
        time_column="ora",
        value_column="v",
        direction="injected",
        unit="kW",
        interval_minutes=60,
    ),
    ColumnMapping(
        pod="IT001E12345678",
        datetime_column="quando",
        datetime_format="%Y-%m-%d %H:%M",
        utc_offset_column="fl",
        withdrawn_column="prel",
        injected_column="imm",
        unit="Wh",
    ),
    ColumnMapping(pod_column="pod", datetime_column="quando", withdrawn_column="prel", injected_column="imm"),
    ColumnMapping(
        separator="\t",
        pod_column="pod",
        datetime_column="quando",
        datetime_format="%d/%m/%y %H.%M",
        value_column="v",
        direction="withdrawn",
    ),
]


def mapped_text(rng: random.Random, mapping: ColumnMapping, fault: float) -> str:
    header = [c for c in ["pod", "giorno", "ora", "quando", "fl", "prel", "imm", "v"] if c in mapping.columns()]
    if rng.random() < 0.2:
        rng.shuffle(header)
    sep = mapping.separator
    pods = rng.sample(GOOD_PODS, rng.randint(1, 2))
    days = some_days(rng, 2)
    fmt = mapping.datetime_format
    step = mapping.interval_minutes
    rows: list[dict[str, str]] = []
    for pod in pods:
        for day in days:
            for ts in quarters(day):
                if ts.minute % step:
                    continue
                local = ts.astimezone(ROME)
                flag = int(local.utcoffset() / timedelta(hours=1))  # type: ignore[operator]
                number = value(rng)
                if mapping.decimal == ".":
                    number = number.replace(",", ".")
                rows.append(
                    {
                        "pod": pod,
                        "giorno": f"{local:%d/%m/%Y}",
                        "ora": f"{local:%H:%M}",
                        "quando": local.strftime(fmt),
                        "fl": str(flag),
                        "prel": number,
                        "imm": rng.choice(["0", "", number]) if rng.random() < 0.1 else "0",
                        "v": number,
                    }
                )
                if local.date() == date(2025, 3, 30) and local.hour == 1 and rng.random() < 0.5:
                    wall = local.replace(hour=2)
                    zero = "0" if rng.random() >= fault else "0" + mapping.decimal + "5"
                    rows.append(dict(rows[-1], ora=f"{wall:%H:%M}", quando=wall.strftime(fmt), prel=zero, v=zero))
    out: list[dict[str, str] | str] = []
    for row in rows:
        if rng.random() >= fault:
            out.append(row)
            continue
        kind = rng.randrange(9)
        row = dict(row)
        if kind == 0:
            row[rng.choice(["prel", "imm", "v"])] = rng.choice(BAD_NUMBERS)
        elif kind == 1:
            row[rng.choice(["prel", "imm", "v"])] = ""
        elif kind == 2:
            row["pod"] = rng.choice(BAD_PODS)
        elif kind == 3:
            bad = ["xx", "30/02/2025 10:00", "10/06/2025 10:07", "1/6/2025 10:00", "2025-06-10 10:15", ""]
            row[rng.choice(["quando", "giorno", "ora"])] = rng.choice(bad)
        elif kind == 4:
            # NaN makes the reference crash (timedelta of NaN hours): rare, so that other faults get their turn
            row["fl"] = rng.choice(["NaN", "sNaN"]) if rng.random() < 0.02 else rng.choice(["x", "", "1,5", "-1"])
        elif kind == 5:
            out.append(row)
            out.append(dict(row))
            continue
        elif kind == 6:
            out.append(row)
            out.append(dict(row, prel="0,999" if mapping.decimal == "," else "0.999", v="7"))
            continue
        elif kind == 7:
            out.append(sep.join(row[c] for c in header[: rng.randrange(len(header))]))
            continue
        else:
            out.append(rng.choice(["", "  "]))
            continue
        out.append(row)
    if rng.random() < 0.3:
        rng.shuffle(out)
    body = [r if isinstance(r, str) else sep.join(r[c] for c in header) for r in out]
    return "\n".join([sep.join(header), *body]) + "\n"


@SETTINGS
@given(
    seed=st.integers(0, 2**32),
    which=st.integers(0, len(MAPPINGS) - 1),
    fault=st.sampled_from([0.0, 0.01, 0.05, 0.2]),
    lenient=st.booleans(),
)
def test_mapped_fast_equals_rowwise(seed: int, which: int, fault: float, lenient: bool) -> None:
    mapping = MAPPINGS[which]
    text = mapped_text(random.Random(seed), mapping, fault)
    fast = outcome(lambda: parse_mapped_csv(text, mapping, name="m.csv", lenient=lenient))
    reference = outcome(lambda: _parse_mapped_csv_rowwise(text, mapping, name="m.csv", lenient=lenient))
    assert_same(fast, reference)


# ---------------------------------------------------------------------------------------------------- pieces

LINE_PIECES = [
    *["a", "0,1", "", " ", "\t", "\u00a0", "\x00", "é", "\u2028", "\x85", "\x1f", "\x0b", "a b"],
    *['"', '"x;y"', '""', '"0,1"', '"a b"', '" a"', '"é"', 'a"b'],
    *[";", ";", ";", ";"],
]


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.lists(st.sampled_from(LINE_PIECES), max_size=8).map("".join), min_size=1, max_size=8),
    width=st.integers(1, 6),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    separator=st.sampled_from([";", "\t", " ", ","]),
)
def test_grid_splits_like_rows(lines: list[str], width: int, newline: str, separator: str) -> None:
    text = newline.join(["h", *(line.replace(";", separator) for line in lines)])
    all_lines = text.splitlines()
    grid = _grid(text, all_lines, 1, separator, width)
    expected = _rows(text, separator)[1:]
    assert [int(n) for n in grid.numbers] == [n for n, _ in expected]
    assert [grid.fields(i) for i in range(len(expected))] == [f for _, f in expected]
    for i, (_, fields) in enumerate(expected):
        padded = fields[:width] + [""] * (width - len(fields))
        assert list(grid.cells[i]) == padded
        assert grid.counts[i] == len(fields)
    assert _fields("a; b ;", ";") == ["a", "b"]


@pytest.mark.parametrize("year", [1980, 1996, 2025, 2037, 2100])
def test_plain_days_have_one_offset(year: int) -> None:
    day = date(year, 1, 1)
    while day.year == year:
        plain = _plain_day(day)
        start = datetime.combine(day, time(0), tzinfo=ROME).astimezone(UTC)
        offsets = {(start + timedelta(hours=h)).astimezone(ROME).utcoffset() for h in range(24)}
        if plain is not None:
            assert len(offsets) == 1
            assert plain[1] == int(next(iter(offsets)).total_seconds()) * 10**9  # type: ignore[union-attr]
        else:
            assert len(offsets) == 2  # the day of a clock change
        day += timedelta(days=1)
