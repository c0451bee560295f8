"""``condivisa district``: the demo balance, meters and temperatures imported from CSV, baseline, savings, review,
monitoring; bad input exits 2 naming file, row and field."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from condivisa.cli.app import app
from condivisa.cli.district import district_app
from condivisa.store import district as ds
from condivisa.store import make_engine, session_factory
from condivisa.store.municipalities import ensure_municipality
from tests.energy_management.test_baseline import TRUE, baseline_year, daily_temperature
from tests.energy_management.test_savings import reporting_year

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    return url


def _csv(path: Path, series: pd.Series) -> Path:
    lines = ["date,value", *(f"{pd.Timestamp(k).date().isoformat()},{float(v)!r}" for k, v in series.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_balance_of_the_demo_municipality(db: str) -> None:
    res = runner.invoke(district_app, ["seed-balance", "--db", db])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        district_app, ["balance", "--municipality", "Borgo Demo", "--year", "2025", "--json", "--db", db]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["kind"] == "monitoring"
    assert math.fsum(doc["emissions_t"]["by_sector"].values()) == pytest.approx(doc["emissions_t"]["total"])
    assert all(f["source"] and f["year"] for f in doc["factors"])
    text = runner.invoke(district_app, ["balance", "--municipality", "borgo-demo", "--year", "2005", "--db", db])
    assert text.exit_code == 0 and "ISPRA" in text.output and "NON verificato" in text.output
    missing = runner.invoke(district_app, ["balance", "--municipality", "Borgo Demo", "--year", "1999", "--db", db])
    assert missing.exit_code == 2 and "--year" in missing.output


def test_meters_baseline_savings_review_check(db: str, tmp_path: Path) -> None:
    engine = make_engine(db)
    with session_factory(engine)() as s:
        town = ensure_municipality(s, "Paese Riga", region="Piemonte")
        did = ds.create_district(s, town.id, "Scuole")
        site = ds.add_site(s, did, "S1", "Scuola")
        ds.add_meter(s, site, "CAL", "heat", "kWh", use="riscaldamento")
        ds.add_variable(s, did, "temperatura", "temperature")
        ds.add_variable(s, did, "activity", "activity")
    engine.dispose()
    c24, d24 = baseline_year()
    a25, d25, known = reporting_year()
    files = {
        "--meter": ("CAL", _csv(tmp_path / "calore.csv", pd.concat([c24, a25]))),
        "--variable": (
            "temperatura",
            _csv(tmp_path / "t.csv", pd.concat([daily_temperature(2024), daily_temperature(2025, 0.8)])),
        ),
    }
    for option, (name, path) in files.items():
        res = runner.invoke(district_app, ["meters-import", str(did), str(path), option, name, "--db", db])
        assert res.exit_code == 0, res.output
    act = _csv(tmp_path / "a.csv", pd.concat([d24["activity"], d25["activity"]]))
    assert (
        runner.invoke(
            district_app, ["meters-import", str(did), str(act), "--variable", "activity", "--db", db]
        ).exit_code
        == 0
    )

    res = runner.invoke(
        district_app,
        ["fit", str(did), "--carrier", "heat", "--from", "2024-01-01", "--to", "2024-12-31",
         "--variables", "hdd,activity", "--site", "S1", "--json", "--db", db],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    fit = json.loads(res.stdout)
    assert fit["coefficients"]["hdd"] == pytest.approx(TRUE["hdd"], rel=0.01) and fit["accepted"]
    res = runner.invoke(
        district_app,
        ["savings", str(fit["baseline_id"]), "--from", "2025-01-01", "--to", "2025-12-31", "--json", "--db", db],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["avoided_kwh"] == pytest.approx(known, rel=0.03)
    res = runner.invoke(
        district_app,
        ["review", str(did), "--from", "2025-01-01", "--to", "2025-12-31", "--site", "S1", "--json", "--db", db],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["savings"]["avoided_energy_kwh"] == pytest.approx(known, rel=0.03)
    res = runner.invoke(district_app, ["check", str(did), "--today", "2026-01-10", "--db", db])
    assert res.exit_code == 0, res.output

    bad = tmp_path / "bad.csv"
    bad.write_text("date,value\n2025-01-01,1\n2025-01-02,abc\n", encoding="utf-8")
    res = runner.invoke(district_app, ["meters-import", str(did), str(bad), "--meter", "CAL", "--db", db])
    assert res.exit_code == 2 and "bad.csv, riga 3, value" in res.output
    res = runner.invoke(district_app, ["meters-import", str(did), str(bad), "--db", db])
    assert res.exit_code == 2 and "una sola destinazione" in res.output
    res = runner.invoke(district_app, ["meters-import", "9999", str(bad), "--meter", "CAL", "--db", db])
    assert res.exit_code == 2 and "distretto" in res.output
