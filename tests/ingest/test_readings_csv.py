"""Long readings CSV and price CSV: good files parse, bad ones name file, row and field."""

from __future__ import annotations

import io

import pytest

from condivisa.errors import InputError
from condivisa.ingest import parse_prices_csv, parse_readings_csv

HEADER = "pod,timestamp,withdrawn_kwh,injected_kwh\n"


def parse(body: str):
    return parse_readings_csv(io.StringIO(HEADER + body), name="r.csv")


def problems(body: str) -> list[str]:
    with pytest.raises(InputError) as exc:
        parse(body)
    return [str(p) for p in exc.value.problems]


def test_good_file_mixed_resolutions() -> None:
    r = parse(
        "IT001E00000001,2025-03-30T01:45:00+01:00,0.1,0\n"
        "IT001E00000001,2025-03-30T03:00:00+02:00,0.2,0\n"
        "IT001E00000002,2025-03-30T01:00:00+01:00,1.5,0.5\n"
    )
    assert r.interval_minutes == {"IT001E00000001": 15, "IT001E00000002": 60}
    # 03:00+02:00 is 01:00 UTC, right after 00:45 UTC.
    assert r.frame["timestamp"].dt.strftime("%H:%M").tolist() == ["00:45", "01:00", "00:00"]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("IT001E0001,2025-01-01T00:00:00+01:00,1,0", "r.csv, riga 2, pod: POD non valido"),
        ("IT001E00000001,2025-01-01T00:00:00+01:00,-1,0", "r.csv, riga 2, withdrawn_kwh: valore negativo"),
        ("IT001E00000001,2025-01-01T00:00:00+01:00,,0", "r.csv, riga 2, withdrawn_kwh: valore mancante"),
        ("IT001E00000001,2025-01-01T00:00:00+01:00,1,abc", "r.csv, riga 2, injected_kwh: non e' un numero"),
        (
            "IT001E00000001,2025-01-01T00:00:00,1,0",
            "r.csv, riga 2, timestamp: timestamp non ISO 8601 con fuso",
        ),
        ("IT001E00000001,2025-02-30T00:00:00+01:00,1,0", "r.csv, riga 2, timestamp: data o ora inesistente"),
        (
            "IT001E00000001,2025-01-01T00:10:00+01:00,1,0",
            "r.csv, riga 2, timestamp: l'intervallo deve iniziare",
        ),
    ],
)
def test_bad_rows_are_named(row: str, expected: str) -> None:
    found = problems(row + "\n")
    assert any(p.startswith(expected) for p in found), found


def test_duplicated_interval_names_both_rows() -> None:
    found = problems(
        "IT001E00000001,2025-01-01T00:00:00+01:00,1,0\n"
        "IT001E00000001,2025-01-01T01:00:00+01:00,1,0\n"
        "IT001E00000001,2024-12-31T23:00:00Z,1,0\n"
    )
    assert any("duplicato" in p and "righe 2, 4" in p for p in found), found


def test_missing_column_is_named() -> None:
    with pytest.raises(InputError, match="colonne mancanti: injected_kwh"):
        parse_readings_csv(io.StringIO("pod,timestamp,withdrawn_kwh\nIT001E00000001,x,1\n"), name="r.csv")


def test_empty_file() -> None:
    with pytest.raises(InputError, match="file vuoto"):
        parse_readings_csv(io.StringIO(""), name="r.csv")


def test_prices_unknown_zone_and_quarter_hour_average() -> None:
    with pytest.raises(InputError, match="riga 2, zone: zona di mercato sconosciuta"):
        parse_prices_csv(io.StringIO("timestamp,zone,price_eur_mwh\n2025-01-01T00:00:00+01:00,MARS,10\n"), name="p.csv")
    p = parse_prices_csv(
        io.StringIO(
            "timestamp,zone,price_eur_mwh\n"
            "2025-10-01T00:00:00+02:00,NORD,100\n2025-10-01T00:15:00+02:00,NORD,110\n"
            "2025-10-01T00:30:00+02:00,NORD,90\n2025-10-01T00:45:00+02:00,NORD,100\n"
        ),
        name="p.csv",
    )
    assert p.zone_series("NORD").tolist() == [100.0]
