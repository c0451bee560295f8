"""Distributor meter files (ED-WIDE, PCF-LONG, mapped CSV): UTC around DST changes, totals, named problems."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.errors import InputError
from condivisa.ingest import (
    ColumnMapping,
    parse_edistribuzione_wide,
    parse_mapped_csv,
    parse_pcf_long,
    pod_and_direction_from_filename,
    read_edistribuzione_wide,
)
from condivisa.ingest.distributors import quarter_hours_in_day

DATA = Path(__file__).resolve().parent.parent / "data" / "meter-files"
ROME = ZoneInfo("Europe/Rome")
PCF_HEADER = (
    "POD;DATA;ORA;FL_ORA_LEGALE;ATTIVA_PRELEVATA;ATTIVA_IMMESSA;REATTIVA_CAPACITIVA_IMMESSA;"
    "REATTIVA_CAPACITIVA_PRELEVATA;REATTIVA_INDUTTIVA_IMMESSA;REATTIVA_INDUTTIVA_PRELEVATA;PICCO_PRELEVATA;"
    "CONSUMO_PICCO_IMMESSA;TIPO_DATO;"
)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def problems_of(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def file_sums(path: Path) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """Per (POD, DATA) sums of A+ and A- straight from the PCF text (placeholders are zero)."""
    out: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    for line in path.read_text(encoding="utf-8-sig").splitlines()[1:]:
        f = line.split(";")
        w = Decimal(f[4].replace(",", ".") or "0")
        i = Decimal(f[5].replace(",", ".") or "0")
        a, b = out.get((f[0], f[1]), (Decimal(0), Decimal(0)))
        out[(f[0], f[1])] = (a + w, b + i)
    return out


def local_day_sums(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.assign(day=frame["timestamp"].dt.tz_convert("Europe/Rome").dt.strftime("%Y%m%d"))
    return f.groupby(["pod", "day"])[["withdrawn_kwh", "injected_kwh"]].sum()


# ---------------------------------------------------------------------------------------------------- PCF-LONG


def test_quarter_hours_per_day() -> None:
    assert quarter_hours_in_day(date(2025, 3, 30)) == 92
    assert quarter_hours_in_day(date(2025, 6, 10)) == 96
    assert quarter_hours_in_day(date(2025, 10, 26)) == 100


def test_pcf_spring_sample() -> None:
    path = DATA / "pcf-curve_IT012E_20250329_20250330.csv"
    r = parse_pcf_long(path)
    assert r.pods == ["IT012E11223344", "IT012E55667788"]
    assert r.interval_minutes == {"IT012E11223344": 15, "IT012E55667788": 15}
    per_day = r.frame.assign(day=r.frame["timestamp"].dt.tz_convert("Europe/Rome").dt.date).groupby(["pod", "day"])
    sizes = per_day.size()
    assert sizes[("IT012E11223344", date(2025, 3, 29))] == 96
    assert sizes[("IT012E11223344", date(2025, 3, 30))] == 92
    assert sizes[("IT012E55667788", date(2025, 3, 30))] == 92
    f = r.frame[r.frame["pod"] == "IT012E11223344"]
    ts = list(f["timestamp"])
    # 01:45 CET = 00:45 UTC is followed by 03:00 CEST = 01:00 UTC: continuous in UTC, no duplicate
    i = ts.index(utc("2025-03-30T01:45:00+01:00"))
    assert ts[i] == pd.Timestamp("2025-03-30T00:45:00Z")
    assert ts[i + 1] == pd.Timestamp("2025-03-30T01:00:00Z") == utc("2025-03-30T03:00:00+02:00")
    assert pd.Series(ts).diff().dropna().eq(pd.Timedelta(minutes=15)).all()
    # consumer-only POD: empty ATTIVA_IMMESSA is 0, not a gap
    assert (f["injected_kwh"] == 0).all()
    assert not any("lacuna" in n for n in r.notes)
    assert any("segnaposto" in n and "IT012E11223344" in n for n in r.notes)
    assert any("registro assente" in n and "IT012E11223344" in n for n in r.notes)
    # daily totals equal the sum of the file's values (placeholders are zero)
    sums = local_day_sums(r.frame)
    for (pod, day), (w, inj) in file_sums(path).items():
        assert sums.loc[(pod, day), "withdrawn_kwh"] == pytest.approx(float(w), abs=1e-9)
        assert sums.loc[(pod, day), "injected_kwh"] == pytest.approx(float(inj), abs=1e-9)


def test_pcf_autumn_sample() -> None:
    path = DATA / "pcf-curve_IT012E_20251026_20251026.csv"
    r = parse_pcf_long(path)
    f = r.frame[r.frame["pod"] == "IT012E11223344"]
    assert len(f) == 100
    ts = list(f["timestamp"])
    assert ts[0] == pd.Timestamp("2025-10-25T22:00:00Z")
    assert ts[-1] == pd.Timestamp("2025-10-26T22:45:00Z")
    assert pd.Series(ts).diff().dropna().eq(pd.Timedelta(minutes=15)).all()
    # 02:00 flag 2 = 00:00 UTC; 02:00 flag 1 = 01:00 UTC
    by_ts = f.set_index("timestamp")["withdrawn_kwh"]
    assert by_ts[pd.Timestamp("2025-10-26T00:00:00Z")] == pytest.approx(0.057)
    assert by_ts[pd.Timestamp("2025-10-26T01:00:00Z")] == pytest.approx(0.070)
    sums = local_day_sums(r.frame)
    for (pod, day), (w, inj) in file_sums(path).items():
        assert sums.loc[(pod, day), "withdrawn_kwh"] == pytest.approx(float(w), abs=1e-9)
        assert sums.loc[(pod, day), "injected_kwh"] == pytest.approx(float(inj), abs=1e-9)


def test_pcf_bom_and_estimated_note() -> None:
    body = PCF_HEADER + "\nIT012E11223344;20250601;000000;2;0,100;;;;;;;;S;\n"
    r = parse_pcf_long(io.StringIO("\ufeff" + body), name="p.csv")
    assert r.frame["withdrawn_kwh"].tolist() == [0.1]
    assert r.frame["timestamp"].tolist() == [pd.Timestamp("2025-05-31T22:00:00Z")]
    assert any("estimated" in n and "TIPO_DATO=S" in n for n in r.notes)
    # the rest of that day is a gap, reported
    assert any("lacuna" in n and "95 intervalli" in n for n in r.notes)


def test_pcf_bad_rows_named() -> None:
    body = (
        PCF_HEADER
        + "\nIT012E11223344;20250601;000000;2;0,1x0;;;;;;;;E;"
        + "\nIT012E11223344;20250601;001500;2;-0,100;;;;;;;;E;"
        + "\nIT12E1;20250601;003000;2;0,100;;;;;;;;E;"
        + "\nIT012E11223344;20250601;004500;3;0,100;;;;;;;;E;"
        + "\nIT012E11223344;20250101;004500;2;0,100;;;;;;;;E;"
        + "\nIT012E11223344;20250601;010000;2;0,100;;;;;;;;E;"
        + "\nIT012E11223344;20250601;010000;2;0,200;;;;;;;;E;"
    )
    with pytest.raises(InputError) as exc:
        parse_pcf_long(body, name="p.csv")
    msgs = problems_of(exc)
    assert any(m.startswith("p.csv, riga 2, ATTIVA_PRELEVATA: numero non valido") for m in msgs)
    assert any(m.startswith("p.csv, riga 3, ATTIVA_PRELEVATA: valore negativo") for m in msgs)
    assert any(m.startswith("p.csv, riga 4, POD: POD non valido") for m in msgs)
    assert any(m.startswith("p.csv, riga 5, FL_ORA_LEGALE") for m in msgs)
    assert any(m.startswith("p.csv, riga 6, FL_ORA_LEGALE") and "incoerente" in m for m in msgs)
    assert any(m.startswith("p.csv, riga 8") and "duplicato" in m and "riga 7" in m for m in msgs)


def test_pcf_exact_duplicate_counted_once_and_noted() -> None:
    row = "\nIT012E11223344;20250601;000000;2;0,100;;;;;;;;E;"
    r = parse_pcf_long(PCF_HEADER + row + row, name="p.csv")
    assert len(r.frame) == 1
    assert any("ripetuto identico" in n for n in r.notes)


def test_pcf_nonzero_spring_placeholder_is_a_problem() -> None:
    body = (
        PCF_HEADER
        + "\nIT012E11223344;20250330;011500;1;0,050;;;;;;;;E;\nIT012E11223344;20250330;021500;2;0,050;;;;;;;;E;"
    )
    with pytest.raises(InputError) as exc:
        parse_pcf_long(body, name="p.csv")
    msgs = problems_of(exc)
    assert len(msgs) == 1 and msgs[0].startswith("p.csv, riga 3") and "segnaposto" in msgs[0]


def test_pcf_empty_value_on_prosumer_is_gap() -> None:
    body = (
        PCF_HEADER
        + "\nIT012E55667788;20250601;000000;2;0,100;0,000;;;;;;;E;"
        + "\nIT012E55667788;20250601;001500;2;0,100;;;;;;;;E;"
    )
    r = parse_pcf_long(body, name="p.csv")
    assert len(r.frame) == 1
    assert any("riga 3, ATTIVA_IMMESSA" in n and "lacuna" in n for n in r.notes)


def render_pcf(days: list[date], pods: list[str], values: dict[tuple[str, datetime], tuple[Decimal, Decimal]]) -> str:
    lines = [PCF_HEADER]
    for pod in pods:
        for day in days:
            start = datetime.combine(day, time(0), tzinfo=ROME).astimezone(UTC)
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ROME).astimezone(UTC)
            ts = start
            while ts < end:
                local = ts.astimezone(ROME)
                flag = int(local.utcoffset() / timedelta(hours=1))  # type: ignore[operator]
                w, i = values[(pod, ts)]
                lines.append(f"{pod};{local:%Y%m%d};{local:%H%M%S};{flag};{w:.3f};{i:.3f};;;;;;;E;".replace(".", ","))
                if local.date() == date(2025, 3, 30) and local.hour == 1:  # spring placeholder after each 01:xx
                    lines.append(f"{pod};20250330;02{local:%M}00;2;0,000;0,000;;;;;;;E;")
                ts += timedelta(minutes=15)
    return "\r\n".join(lines) + "\r\n"


@settings(max_examples=25, deadline=None)
@given(
    first=st.sampled_from([date(2025, 3, 29), date(2025, 3, 30), date(2025, 6, 10), date(2025, 10, 26)]),
    ndays=st.integers(1, 2),
    pods=st.lists(st.from_regex(r"IT0[0-9]{2}E[0-9]{8}", fullmatch=True), min_size=1, max_size=2, unique=True),
    data=st.data(),
)
def test_pcf_round_trip(first: date, ndays: int, pods: list[str], data: st.DataObject) -> None:
    days = [first + timedelta(days=k) for k in range(ndays)]
    values: dict[tuple[str, datetime], tuple[Decimal, Decimal]] = {}
    milli = st.integers(0, 9999).map(lambda n: Decimal(n) / 1000)
    for pod in pods:
        for day in days:
            ts = datetime.combine(day, time(0), tzinfo=ROME).astimezone(UTC)
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ROME).astimezone(UTC)
            while ts < end:
                values[(pod, ts)] = (data.draw(milli), data.draw(milli))
                ts += timedelta(minutes=15)
    r = parse_pcf_long(render_pcf(days, pods, values), name="gen.csv")
    assert not any("lacuna" in n for n in r.notes)
    got = {
        (p, t.to_pydatetime()): (Decimal(str(w)), Decimal(str(i)))
        for p, t, w, i in r.frame.itertuples(index=False, name=None)
    }
    assert got == values


# ---------------------------------------------------------------------------------------------------- ED-WIDE


def ed_header(labels: list[str]) -> str:
    return "Giorno;" + ";".join(labels)


def quarter_labels() -> list[str]:
    out = []
    for k in range(96):
        a = datetime(2000, 1, 1) + timedelta(minutes=15 * k)
        b = a + timedelta(minutes=15)
        out.append(f"{a:%H:%M}-{b:%H:%M}")
    return out


def ed_row(day: str, cells: list[str]) -> str:
    return f'"{day}";' + ";".join(f'"{c}"' for c in cells) + ";"


def test_filename_convention() -> None:
    assert pod_and_direction_from_filename("x/edist-wide_IT001E12345678_prelievo_ExportData_giugno.csv") == (
        "IT001E12345678",
        "withdrawn",
    )
    assert pod_and_direction_from_filename("edist-wide_it001e87654321_IMMISSIONE_x.csv") == (
        "IT001E87654321",
        "injected",
    )
    for bad in ("ExportData_giugno.csv", "edist-wide_IT1E1_prelievo_x.csv", "edist-wide_IT001E12345678_boh_x.csv"):
        with pytest.raises(InputError):
            pod_and_direction_from_filename(bad)


@pytest.mark.parametrize(
    ("fname", "column"),
    [
        ("edist-wide_IT001E12345678_prelievo_ExportData_giugno.csv", "withdrawn_kwh"),
        ("edist-wide_IT001E87654321_immissione_ExportData_giugno.csv", "injected_kwh"),
    ],
)
def test_edist_samples(fname: str, column: str) -> None:
    path = DATA / fname
    r = read_edistribuzione_wide(path)
    other = "injected_kwh" if column == "withdrawn_kwh" else "withdrawn_kwh"
    assert len(r.frame) == 192 and r.notes == []
    assert (r.frame[other] == 0).all()
    assert r.frame["timestamp"].iloc[0] == pd.Timestamp("2025-06-09T22:00:00Z")
    assert r.frame["timestamp"].iloc[-1] == pd.Timestamp("2025-06-11T21:45:00Z")
    lines = path.read_text().splitlines()[1:]
    sums = local_day_sums(r.frame)
    pod = r.pods[0]
    for line in lines:
        cells = [c.strip('"') for c in line.split(";")[:-1]]
        total = sum(Decimal(c.replace(",", ".")) for c in cells[1:])
        day = datetime.strptime(cells[0], "%d/%m/%Y").strftime("%Y%m%d")
        assert sums.loc[(pod, day), column] == pytest.approx(float(total), abs=1e-9)


def test_edist_spring_day_96_columns() -> None:
    labels = quarter_labels()
    cells = ["0,1"] * 96
    for k in range(8, 12):
        cells[k] = ""  # 02:00-02:45 empty on 30/03
    text = ed_header(labels) + "\r\n" + ed_row("30/03/2025", cells) + "\r\n"
    r = parse_edistribuzione_wide(text, pod="IT001E12345678", direction="withdrawn", name="e.csv")
    assert len(r.frame) == 92 and r.notes == []
    ts = list(r.frame["timestamp"])
    assert ts[7] == utc("2025-03-30T01:45:00+01:00") == pd.Timestamp("2025-03-30T00:45:00Z")
    assert ts[8] == utc("2025-03-30T03:00:00+02:00")
    assert r.frame["withdrawn_kwh"].sum() == pytest.approx(9.2)
    # zeros there are fine too; non-zero is named by row and column
    cells[9] = "0"
    parse_edistribuzione_wide(
        ed_header(labels) + "\n" + ed_row("30/03/2025", cells), pod="IT001E12345678", direction="injected"
    )
    cells[10] = "0,2"
    with pytest.raises(InputError) as exc:
        parse_edistribuzione_wide(
            ed_header(labels) + "\n" + ed_row("30/03/2025", cells), pod="IT001E12345678", direction="injected", name="e"
        )
    assert problems_of(exc) == [
        "e, riga 2, 02:30-02:45: valore '0,2' in un'ora che il 30/03/2025 non esiste (cambio d'ora): atteso vuoto o 0"
    ]


def test_edist_autumn_day_96_columns_refused() -> None:
    text = ed_header(quarter_labels()) + "\n" + ed_row("25/10/2025", ["0,1"] * 96) + "\n"
    text += ed_row("26/10/2025", ["0,1"] * 96) + "\n"
    r = parse_edistribuzione_wide(text, pod="IT001E12345678", direction="withdrawn", name="e.csv")
    assert len(r.frame) == 96  # only 25/10
    assert r.frame["timestamp"].dt.tz_convert("Europe/Rome").dt.date.unique().tolist() == [date(2025, 10, 25)]
    assert any("riga 3" in n and "26/10/2025 rifiutato" in n and "100 quarti" in n for n in r.notes)


def test_edist_autumn_day_100_columns() -> None:
    labels = quarter_labels()
    labels = labels[:12] + labels[8:12] + labels[12:]
    assert len(labels) == 100
    cells = [f"0,{k:03d}" for k in range(100)]
    text = ed_header(labels) + "\n" + ed_row("26/10/2025", cells) + "\n"
    r = parse_edistribuzione_wide(text, pod="IT001E12345678", direction="withdrawn")
    assert len(r.frame) == 100
    ts = list(r.frame["timestamp"])
    assert pd.Series(ts).diff().dropna().eq(pd.Timedelta(minutes=15)).all()
    by_ts = r.frame.set_index("timestamp")["withdrawn_kwh"]
    assert by_ts[utc("2025-10-26T02:00:00+02:00")] == pytest.approx(0.008)
    assert by_ts[utc("2025-10-26T02:00:00+01:00")] == pytest.approx(0.012)
    assert r.frame["withdrawn_kwh"].sum() == pytest.approx(sum(k / 1000 for k in range(100)))
    # same header on a normal day: the repeated columns must be empty
    cells2 = ["0,1"] * 100
    for k in range(12, 16):
        cells2[k] = ""
    r2 = parse_edistribuzione_wide(
        ed_header(labels) + "\n" + ed_row("27/10/2025", cells2), pod="IT001E12345678", direction="withdrawn"
    )
    assert len(r2.frame) == 96 and r2.notes == []


def test_edist_gap_and_bad_cells() -> None:
    labels = quarter_labels()
    cells = ["0,1"] * 96
    cells[40] = ""
    r = parse_edistribuzione_wide(
        ed_header(labels) + "\n" + ed_row("10/06/2025", cells), pod="IT001E12345678", direction="withdrawn", name="e"
    )
    assert len(r.frame) == 95
    assert r.notes == ["e, riga 2, 10:00-10:15: cella vuota il 10/06/2025 (lacuna, non zero)"]
    cells[40] = "x"
    cells[41] = "-0,1"
    bad_day = ed_row("31/06/2025", ["0,1"] * 96)
    short = ed_row("11/06/2025", ["0,1"] * 95)
    with pytest.raises(InputError) as exc:
        parse_edistribuzione_wide(
            "\n".join([ed_header(labels), ed_row("10/06/2025", cells), bad_day, short]),
            pod="IT001E12345678",
            direction="withdrawn",
            name="e",
        )
    msgs = problems_of(exc)
    assert msgs[0] == "e, riga 2, 10:00-10:15: numero non valido 'x'"
    assert msgs[1].startswith("e, riga 2, 10:15-10:30: valore negativo")
    assert msgs[2].startswith("e, riga 3, Giorno: data non valida")
    assert msgs[3].startswith("e, riga 4, Giorno: 95 valori")


def test_edist_bad_pod_and_header() -> None:
    with pytest.raises(InputError):
        parse_edistribuzione_wide("Giorno;00:00-00:15\n", pod="IT1", direction="withdrawn")
    with pytest.raises(InputError) as exc:
        parse_edistribuzione_wide("Data;00:00-00:15\n", pod="IT001E12345678", direction="withdrawn", name="e")
    assert problems_of(exc)[0].startswith("e, riga 1")


def test_edist_missing_day_is_a_gap() -> None:
    labels = quarter_labels()
    text = "\n".join([ed_header(labels), ed_row("10/06/2025", ["0,1"] * 96), ed_row("12/06/2025", ["0,1"] * 96)])
    r = parse_edistribuzione_wide(text, pod="IT001E12345678", direction="withdrawn", name="e")
    assert len(r.frame) == 192
    assert any("lacuna" in n and "96 intervalli" in n for n in r.notes)


# ---------------------------------------------------------------------------------------------------- mapped CSV


def test_mapped_gse_like_hourly_kw_local() -> None:
    text = (
        "pod,giorno,ora,potenza\n"
        "IT001E12345678,26/10/2025,01:00,2.0\n"
        "IT001E12345678,26/10/2025,02:00,4.0\n"
        "IT001E12345678,26/10/2025,02:00,6.0\n"
        "IT001E12345678,26/10/2025,03:00,8.0\n"
    )
    mapping = ColumnMapping(
        separator=",",
        decimal=".",
        pod_column="pod",
        date_column="giorno",
        time_column="ora",
        value_column="potenza",
        direction="injected",
        unit="kW",
        interval_minutes=60,
    )
    r = parse_mapped_csv(text, mapping, name="gse.csv")
    assert r.interval_minutes == {"IT001E12345678": 60}
    assert r.frame["timestamp"].tolist() == [
        pd.Timestamp("2025-10-25T23:00:00Z"),
        pd.Timestamp("2025-10-26T00:00:00Z"),
        pd.Timestamp("2025-10-26T01:00:00Z"),
        pd.Timestamp("2025-10-26T02:00:00Z"),
    ]
    assert r.frame["injected_kwh"].tolist() == [2.0, 4.0, 6.0, 8.0]
    assert (r.frame["withdrawn_kwh"] == 0).all()


def test_mapped_offset_column_wh_fixed_pod() -> None:
    text = "quando;fl;prel;imm\n2025-03-30 01:45;1;100;0\n2025-03-30 03:00;2;200;5\n2025-03-30 03:15;2;;5\n"
    mapping = ColumnMapping(
        pod="IT001E12345678",
        datetime_column="quando",
        datetime_format="%Y-%m-%d %H:%M",
        utc_offset_column="fl",
        withdrawn_column="prel",
        injected_column="imm",
        unit="Wh",
    )
    r = parse_mapped_csv(io.StringIO(text), mapping, name="m.csv")
    assert r.frame["timestamp"].tolist() == [pd.Timestamp("2025-03-30T00:45:00Z"), pd.Timestamp("2025-03-30T01:00:00Z")]
    assert r.frame["withdrawn_kwh"].tolist() == [0.1, 0.2]
    assert r.frame["injected_kwh"].tolist() == [0.0, 0.005]
    assert any("riga 4, prel" in n and "lacuna" in n for n in r.notes)


def test_mapped_problems() -> None:
    text = "pod;d;v\nIT001E12345678;30/03/2025 02:15;1,0\nBAD;30/03/2025 04:00;1,0\nIT001E12345678;xx;1\n"
    mapping = ColumnMapping(
        pod_column="pod", datetime_column="d", value_column="v", direction="withdrawn", interval_minutes=15
    )
    with pytest.raises(InputError) as exc:
        parse_mapped_csv(text, mapping, name="m")
    msgs = problems_of(exc)
    assert msgs[0].startswith("m, riga 2, d: valore in un'ora che non esiste")
    assert msgs[1].startswith("m, riga 3, pod: POD non valido")
    assert msgs[2].startswith("m, riga 4, d: data/ora non valida")
    with pytest.raises(InputError):
        parse_mapped_csv(text, ColumnMapping(pod_column="pod", datetime_column="d"), name="m")
