"""``condivisa db``: upgrade, imports, settle from the database, list; bad input exits with 2 and writes nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from condivisa.cli.db import db_app
from condivisa.engine import settle
from condivisa.engine.timegrid import Period, iso_local
from condivisa.ingest.readings import write_readings_csv
from condivisa.model import dump_community
from condivisa.report import settlement_document
from condivisa.store import make_engine
from tests.store.conftest import Demo

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path, demo: Demo) -> dict[str, Path]:
    paths = {"community": tmp_path / "c.yaml", "readings": tmp_path / "r.csv", "prices": tmp_path / "p.csv"}
    paths["community"].write_text(dump_community(demo.community), encoding="utf-8")
    write_readings_csv(demo.readings, paths["readings"])
    prices = demo.prices.frame.assign(timestamp=iso_local(demo.prices.frame["timestamp"]))
    prices.to_csv(paths["prices"], index=False)
    return paths


def _count(url: str, table: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_happy_path(empty_url: str, files: dict[str, Path], demo: Demo, tmp_path: Path) -> None:
    db = ["--db", empty_url]
    res = runner.invoke(db_app, ["upgrade", *db])
    assert res.exit_code == 0, res.output
    res = runner.invoke(db_app, ["import-community", str(files["community"]), *db, "--municipality", "Borgo"])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == "1"
    n = len(demo.readings.frame)
    res = runner.invoke(db_app, ["import-readings", "1", str(files["readings"]), *db])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == f"letture {n}: inserite {n}, aggiornate 0, invariate 0"
    res = runner.invoke(db_app, ["import-readings", "1", str(files["readings"]), *db])
    assert res.stdout.strip() == f"letture {n}: inserite 0, aggiornate 0, invariate {n}"
    res = runner.invoke(db_app, ["import-prices", str(files["prices"]), *db])
    assert res.exit_code == 0, res.output
    assert "inseriti 72" in res.stdout

    res = runner.invoke(db_app, ["settle", "1", "--from", "2025-06-01", "--to", "2025-06-03", "--json", "-", *db])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    expected = settlement_document(settle(demo.community, demo.readings, demo.prices, period=demo.period))
    got["prices"].pop("source"), expected["prices"].pop("source")
    assert got == json.loads(json.dumps(expected))
    assert "Ripartizione salvata con id 1" in res.stderr

    out = tmp_path / "out" / "s.json"
    res = runner.invoke(db_app, ["settle", "1", "--json", str(out), *db])  # period from the stored readings
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["period"]["start"] == "2025-06-01"
    assert _count(empty_url, "settlements") == 2

    res = runner.invoke(db_app, ["settle", "1", "--month", "2025-06", *db])  # prices stored for 3 days only
    assert res.exit_code == 2 and "mancano 648 prezzi orari della zona NORD" in res.stderr  # 27 days x 24 h
    res = runner.invoke(db_app, ["settle", "1", "--year", "2025", "--month", "2025-06", *db])
    assert res.exit_code == 2 and "uno solo" in res.stderr
    res = runner.invoke(db_app, ["settle", "1", "--month", "2025-13", *db])
    assert res.exit_code == 2 and "--month" in res.stderr

    res = runner.invoke(db_app, ["list", *db])
    assert res.exit_code == 0, res.output
    assert "CER Borgo Demo" in res.stdout and "Borgo" in res.stdout
    res = runner.invoke(db_app, ["list", "--community", "1", *db])
    assert res.exit_code == 0, res.output
    assert "01/06/2025" in res.stdout


def test_bad_input_exits_2_and_writes_nothing(db_url: str, files: dict[str, Path], tmp_path: Path) -> None:
    db = ["--db", db_url]
    assert runner.invoke(db_app, ["import-community", str(files["community"]), *db]).exit_code == 0
    assert runner.invoke(db_app, ["import-readings", "1", str(files["readings"]), *db]).exit_code == 0
    stored = _count(db_url, "readings")

    bad = tmp_path / "bad.csv"
    lines = files["readings"].read_text().splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[2], "-1.0", 1)  # a negative withdrawal on line 6
    bad.write_text("\n".join(lines) + "\n")
    res = runner.invoke(db_app, ["import-readings", "1", str(bad), *db])
    assert res.exit_code == 2
    assert "bad.csv, riga 6, withdrawn_kwh" in res.stderr
    assert _count(db_url, "readings") == stored

    broken = tmp_path / "broken.yaml"
    broken.write_text(files["community"].read_text().replace("configuration: CER", "configuration: XYZ"))
    res = runner.invoke(db_app, ["import-community", str(broken), *db])
    assert res.exit_code == 2
    assert "broken.yaml" in res.stderr
    assert _count(db_url, "communities") == 1

    res = runner.invoke(db_app, ["import-readings", "7", str(files["readings"]), *db])
    assert res.exit_code == 2 and "comunita' 7 non trovata" in res.stderr
    res = runner.invoke(db_app, ["settle", "1", "--from", "2025-06-01", *db])
    assert res.exit_code == 2 and "--to" in res.stderr
    res = runner.invoke(db_app, ["settle", "1", "--from", "2024-01-01", "--to", "2024-01-31", *db])
    assert res.exit_code == 2 and "nessuna lettura" in res.stderr
    assert _count(db_url, "settlements") == 0


def test_database_not_upgraded_exits_2(tmp_path: Path, files: dict[str, Path]) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    res = runner.invoke(db_app, ["import-community", str(files["community"]), "--db", url])
    assert res.exit_code == 2 and "condivisa db upgrade" in res.stderr
    assert not (tmp_path / "missing.db").exists()
    res = runner.invoke(db_app, ["list", "--db", "not a url"])
    assert res.exit_code == 2 and "--db" in res.stderr


def test_default_url_comes_from_the_environment(
    tmp_path: Path, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("CONDIVISA_DATABASE_URL", url)
    assert runner.invoke(db_app, ["upgrade"]).exit_code == 0
    assert runner.invoke(db_app, ["import-community", str(files["community"])]).exit_code == 0
    assert _count(url, "communities") == 1


def test_period_of_month_year_and_range() -> None:
    from condivisa.cli.db import period_of

    assert period_of("2024-02", None, None, None) == Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert period_of("2025-12", None, None, None) == Period(dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert period_of(None, 2025, None, None) == Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert period_of(None, None, None, None) is None
