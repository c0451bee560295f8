"""Distributor files into the database: idempotent upsert, recorded corrections, quarantine with file/row/field,
release after the POD is added, lenient readers, and the ``condivisa db import-meter`` / ``quarantine`` commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from condivisa.cli.app import app
from condivisa.errors import InputError
from condivisa.ingest import parse_edistribuzione_wide, parse_pcf_long
from condivisa.model import Community
from condivisa.store import import_readings, load_readings, save_community
from condivisa.store.models import ImportBatch, QuarantinedReading, ReadingCorrection
from condivisa.store.quarantine import (
    discard_quarantined,
    import_meter_data,
    list_quarantine,
    release_quarantined,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "meter-files"
PCF_HEADER = (
    "POD;DATA;ORA;FL_ORA_LEGALE;ATTIVA_PRELEVATA;ATTIVA_IMMESSA;REATTIVA_CAPACITIVA_IMMESSA;"
    "REATTIVA_CAPACITIVA_PRELEVATA;REATTIVA_INDUTTIVA_IMMESSA;REATTIVA_INDUTTIVA_PRELEVATA;PICCO_PRELEVATA;"
    "CONSUMO_PICCO_IMMESSA;TIPO_DATO;"
)
MEMBER_POD = "IT012E11223344"
OTHER_POD = "IT012E99999999"


def community(*pods: str) -> Community:
    return Community.model_validate(
        {
            "name": "CER Contatori",
            "configuration": "CER",
            "region": "Lombardia",
            "members": [
                {"id": f"m{k}", "name": f"Socio {k}", "pods": [{"pod": pod, "cabina": "AC001E00001"}]}
                for k, pod in enumerate(pods)
            ],
            "plants": [],
            "regulation": [{"to": "consumers", "share": 1.0, "by": "withdrawn"}],
        }
    )


def pcf(*rows: str) -> str:
    return PCF_HEADER + "".join("\n" + r for r in rows) + "\n"


def row(pod: str, hhmmss: str, value: str, day: str = "20250601", flag: str = "2") -> str:
    return f"{pod};{day};{hhmmss};{flag};{value};;;;;;;;E;"


@pytest.fixture
def cid(session: Session) -> int:
    return save_community(session, community(MEMBER_POD))


def count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_lenient_reader_returns_rejected_rows_with_place_and_raw_text() -> None:
    text = pcf(
        row(MEMBER_POD, "000000", "0,100"),
        row(MEMBER_POD, "001500", "-0,100"),
        row("IT12E1", "003000", "0,100"),
        row(MEMBER_POD, "004500", "0,100"),
        row(MEMBER_POD, "004500", "0,300"),
    )
    with pytest.raises(InputError):
        parse_pcf_long(text, name="p.csv")
    r = parse_pcf_long(text, name="p.csv", lenient=True)
    assert r.frame["timestamp"].tolist() == [pd.Timestamp("2025-05-31T22:00Z")]
    unreadable = sorted((x.row or 0, x.field or "", x) for x in r.rejected if x.pod is None)
    assert [(n, f) for n, f, _ in unreadable] == [(3, "ATTIVA_PRELEVATA"), (4, "POD")]
    negative = unreadable[0][2]
    assert "valore negativo" in negative.reason and negative.raw == row(MEMBER_POD, "001500", "-0,100")
    conflict = sorted((x.row or 0, x.withdrawn_kwh, x.timestamp) for x in r.rejected if x.pod is not None)
    assert [(n, w) for n, w, _ in conflict] == [(5, 0.1), (6, 0.3)]
    assert all(t == pd.Timestamp("2025-05-31T22:45Z") for _, _, t in conflict)


def test_lenient_edist_keeps_good_cells_of_a_row_with_a_bad_one() -> None:
    labels = [
        f"{h:02d}:{m:02d}-{(h + (m + 15) // 60) % 24:02d}:{(m + 15) % 60:02d}"
        for h in range(24)
        for m in (0, 15, 30, 45)
    ]
    cells = ["0,010"] * 96
    cells[5] = "-0,5"
    text = "Giorno;" + ";".join(labels) + "\n01/06/2025;" + ";".join(cells) + "\n"
    r = parse_edistribuzione_wide(text, pod=MEMBER_POD, direction="withdrawn", name="e.csv", lenient=True)
    assert len(r.frame) == 95
    assert [(x.row, x.field) for x in r.rejected] == [(2, labels[5])]


def test_import_is_idempotent_and_quarantines_bad_rows_and_foreign_pods(engine: Engine, cid: int) -> None:
    text = pcf(
        row(MEMBER_POD, "000000", "0,100"),
        row(MEMBER_POD, "001500", "0,200"),
        row(MEMBER_POD, "003000", "-0,300"),
        row(OTHER_POD, "000000", "0,400"),
    )
    readings = parse_pcf_long(text, name="giugno.csv", lenient=True)
    first = import_meter_data(engine, cid, readings, source="giugno.csv")
    assert (first.inserted, first.updated, first.quarantined) == (2, 0, 2)
    again = import_meter_data(engine, cid, readings, source="giugno.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    stored = load_readings(engine, cid).frame
    assert stored["withdrawn_kwh"].tolist() == [0.1, 0.2]
    with Session(engine) as s:
        items = list_quarantine(s, cid)
        batches = s.scalars(select(ImportBatch).order_by(ImportBatch.id)).all()
    # each import accounts for its own bad lines; rows name file, line and field
    assert len(items) == 4
    negative = [q for q in items if q.row == 4]
    assert negative and negative[0].field == "ATTIVA_PRELEVATA" and negative[0].source == "giugno.csv"
    foreign = [q for q in items if q.pod == OTHER_POD]
    assert foreign and foreign[0].withdrawn_kwh == 0.4 and "non appartiene" in foreign[0].reason
    assert [b.kind for b in batches] == ["community", "meter_file", "meter_file"]
    assert all(b.status == "done" for b in batches[1:])


def test_correction_replaces_value_and_is_recorded(engine: Engine, cid: int) -> None:
    import_meter_data(
        engine, cid, parse_pcf_long(pcf(row(MEMBER_POD, "000000", "0,100")), name="a.csv", lenient=True), source="a"
    )
    result = import_meter_data(
        engine, cid, parse_pcf_long(pcf(row(MEMBER_POD, "000000", "0,150")), name="b.csv", lenient=True), source="b"
    )
    assert (result.inserted, result.updated) == (0, 1)
    assert load_readings(engine, cid).frame["withdrawn_kwh"].tolist() == [0.15]
    with Session(engine) as s:
        corrections = s.scalars(select(ReadingCorrection)).all()
        batch = s.get(ImportBatch, corrections[0].batch_id)
    assert [(c.pod, c.old_withdrawn_kwh, c.new_withdrawn_kwh) for c in corrections] == [(MEMBER_POD, 0.1, 0.15)]
    assert corrections[0].ts == dt.datetime(2025, 5, 31, 22, tzinfo=dt.UTC)
    assert batch is not None and batch.source == "b" and batch.rows_updated == 1


def test_plain_import_also_records_corrections(engine: Engine, cid: int) -> None:
    a = parse_pcf_long(pcf(row(MEMBER_POD, "000000", "0,100"), row(MEMBER_POD, "001500", "0,100")), name="a")
    b = parse_pcf_long(pcf(row(MEMBER_POD, "000000", "0,100"), row(MEMBER_POD, "001500", "0,250")), name="b")
    import_readings(engine, cid, a, source="a")
    import_readings(engine, cid, b, source="b")
    import_readings(engine, cid, b, source="b")
    assert count(engine, ReadingCorrection) == 1


def test_release_after_pod_is_added_and_discard(engine: Engine, session: Session, cid: int) -> None:
    text = pcf(row(OTHER_POD, "000000", "0,400"), row(MEMBER_POD, "001500", "x"))
    import_meter_data(engine, cid, parse_pcf_long(text, name="q.csv", lenient=True), source="q.csv")
    held = release_quarantined(engine, cid)
    assert held.released == 0 and len(held.still_held) == 2
    save_community(session, community(MEMBER_POD, OTHER_POD))
    released = release_quarantined(engine, cid)
    assert released.released == 1 and len(released.still_held) == 1
    stored = load_readings(engine, cid).frame
    assert stored[stored["pod"] == OTHER_POD]["withdrawn_kwh"].tolist() == [0.4]
    unreadable = released.still_held[0][0]
    assert discard_quarantined(session, cid, [unreadable]) == 1
    with Session(engine) as s:
        states = sorted(q.status for q in s.scalars(select(QuarantinedReading)).all())
    assert states == ["discarded", "released"]


def test_cli_import_meter_and_quarantine(db_url: str, engine: Engine, cid: int, tmp_path: Path) -> None:
    runner = CliRunner()
    sample = DATA / "pcf-curve_IT012E_20250329_20250330.csv"
    bad = tmp_path / "bad.csv"
    bad.write_text(pcf(row(MEMBER_POD, "000000", "0,100"), row(MEMBER_POD, "001500", "-1")), encoding="utf-8")
    result = runner.invoke(
        app, ["db", "import-meter", str(cid), str(sample), str(bad), "--format", "pcf-long", "--db", db_url]
    )
    assert result.exit_code == 0, result.output
    lines = [x for x in result.stdout.splitlines() if x.startswith(str(bad))]
    assert lines == [f"{bad}: inserite 1, corrette 0, invariate 0, in quarantena 1"]
    again = runner.invoke(app, ["db", "import-meter", str(cid), str(sample), "--format", "pcf-long", "--db", db_url])
    assert again.exit_code == 0 and "inserite 0, corrette 0" in again.stdout
    listed = runner.invoke(app, ["db", "quarantine", "list", str(cid), "--db", db_url])
    assert listed.exit_code == 0 and "negativo" in listed.stdout
    unknown = runner.invoke(app, ["db", "import-meter", str(cid), str(bad), "--format", "xml", "--db", db_url])
    assert unknown.exit_code == 2 and "--format" in unknown.output
