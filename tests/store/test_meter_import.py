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
    import_meter_files,
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
    # the two files do not overlap: one transaction, one summary naming both
    lines = [x for x in result.stdout.splitlines() if x.startswith("2 file")]
    assert len(lines) == 1 and str(sample) in lines[0] and str(bad) in lines[0], result.stdout
    parsed = parse_pcf_long(sample.read_text(encoding="utf-8"), name="s", lenient=True)
    mine = int((parsed.frame["pod"] == MEMBER_POD).sum())
    held = len(parsed.frame) - mine + len(parsed.rejected)
    assert lines[0].endswith(f"inserite {mine + 1}, corrette 0, invariate 0, in quarantena {held + 1}")
    again = runner.invoke(app, ["db", "import-meter", str(cid), str(sample), "--format", "pcf-long", "--db", db_url])
    assert again.exit_code == 0 and "inserite 0, corrette 0" in again.stdout
    listed = runner.invoke(app, ["db", "quarantine", "list", str(cid), "--db", db_url])
    assert listed.exit_code == 0 and "negativo" in listed.stdout
    unknown = runner.invoke(app, ["db", "import-meter", str(cid), str(bad), "--format", "xml", "--db", db_url])
    assert unknown.exit_code == 2 and "--format" in unknown.output


def edist_month(pod: str, first: dt.date, days: int, value: str) -> str:
    labels = [
        f"{h:02d}:{m:02d}-{(h + (m + 15) // 60) % 24:02d}:{(m + 15) % 60:02d}"
        for h in range(24)
        for m in (0, 15, 30, 45)
    ]
    rows = [f"{first + dt.timedelta(days=d):%d/%m/%Y};" + ";".join([value] * 96) for d in range(days)]
    return "Giorno;" + ";".join(labels) + "\n" + "\n".join(rows) + "\n"


def test_grouped_file_import_equals_one_by_one(engine: Engine, session: Session) -> None:
    """Month files go in together; a later file repeating earlier intervals is still a recorded correction."""
    pods = [MEMBER_POD, "IT012E11223355"]
    files = []
    for pod in pods:
        for month, value in ((6, "0,100"), (7, "0,200")):
            text = edist_month(pod, dt.date(2025, month, 1), 3, value)
            name = f"{pod}_{month}.csv"
            files.append(
                (name, parse_edistribuzione_wide(text, pod=pod, direction="withdrawn", name=name, lenient=True))
            )
    fix_text = edist_month(MEMBER_POD, dt.date(2025, 6, 2), 1, "0,150")
    fix = parse_edistribuzione_wide(fix_text, pod=MEMBER_POD, direction="withdrawn", name="fix.csv", lenient=True)
    files.append(("fix.csv", fix))
    files.append(("foreign.csv", parse_pcf_long(pcf(row(OTHER_POD, "000000", "0,400")), name="foreign.csv")))

    grouped_cid = save_community(session, community(*pods))
    alone_cid = save_community(session, replace_name(community(*pods)))
    groups = import_meter_files(engine, grouped_cid, files)
    assert [len(g.sources) for g in groups] == [4, 2]
    alone = [import_meter_data(engine, alone_cid, r, source=name) for name, r in files]

    grouped_frame = load_readings(engine, grouped_cid).frame
    alone_frame = load_readings(engine, alone_cid).frame
    pd.testing.assert_frame_equal(grouped_frame, alone_frame)
    assert sum(g.result.updated for g in groups) == sum(a.updated for a in alone) == 96
    assert sum(g.result.quarantined for g in groups) == sum(a.quarantined for a in alone) == 1
    with Session(engine) as s:
        corrections = s.scalars(select(ReadingCorrection).where(ReadingCorrection.community_id == grouped_cid)).all()
        foreign = s.scalars(select(QuarantinedReading).where(QuarantinedReading.community_id == grouped_cid)).all()
    assert len(corrections) == 96 and {c.new_withdrawn_kwh for c in corrections} == {0.15}
    assert [q.source for q in foreign] == ["foreign.csv"]  # the file's own name, not the group's


def replace_name(c: Community) -> Community:
    return c.model_copy(update={"name": "CER Contatori bis"})


def test_quarantine_rolls_back_with_the_readings(engine: Engine, cid: int) -> None:
    readings = parse_pcf_long(pcf(row(MEMBER_POD, "000000", "0,100")), name="a.csv")

    def fail(conn: object, batch_id: int | None) -> None:
        raise RuntimeError("disco pieno")

    with pytest.raises(RuntimeError):
        import_readings(engine, cid, readings, source="a.csv", within=fail)
    assert load_readings(engine, cid).frame.empty
    assert count(engine, ReadingCorrection) == 0


def test_sqlite_correction_lookup_uses_the_readings_key(tmp_path: Path) -> None:
    """The correction query looks every staged reading up in the primary key (a scan made re-imports 100x slower)."""
    import sqlite3

    from condivisa.store.repository import _SQLITE_RECORD_CORRECTIONS, _SQLITE_STAGE

    url = f"sqlite:///{tmp_path / 'plan.db'}"
    from condivisa.store import upgrade

    upgrade(url)
    conn = sqlite3.connect(tmp_path / "plan.db")
    conn.execute(_SQLITE_STAGE)
    plan = " | ".join(str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN " + _SQLITE_RECORD_CORRECTIONS, (1, "x", 1)))
    conn.close()
    assert "SEARCH r USING" in plan and "pod=? AND ts=?" in plan, plan
