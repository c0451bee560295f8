"""``condivisa civic buildings-import|buildings-rank|buildings-report`` on the example files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from condivisa.cli.app import app
from condivisa.store import make_engine, session_factory
from condivisa.store.buildings import list_buildings
from condivisa.store.municipalities import municipality_by_slug

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    res = runner.invoke(
        app, ["civic", "add-municipality", "Borgo Piemonte", "--region", "Piemonte", "--slug", "borgo", "--db", url]
    )
    assert res.exit_code == 0, res.output
    return url


def _codes(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return [b.code for b in list_buildings(s, municipality_by_slug(s, "borgo").id)]
    finally:
        engine.dispose()


def test_import_rank_report_on_the_examples(db: str, tmp_path: Path) -> None:
    res = runner.invoke(app, ["civic", "buildings-import", "borgo", str(EXAMPLES / "edifici-pubblici.csv"), "--db", db])
    assert res.exit_code == 0, res.output
    assert "12 edifici nuovi, 0 aggiornati" in res.output
    res = runner.invoke(
        app, ["civic", "buildings-import", "borgo", str(EXAMPLES / "edifici-pubblici.geojson"), "--db", db]
    )
    assert res.exit_code == 0, res.output
    assert "0 edifici nuovi, 12 aggiornati" in res.output
    assert len(_codes(db)) == 12

    res = runner.invoke(
        app, ["civic", "buildings-rank", "borgo", "--db", db, "--json", "-", "--households", "AC001E00124=40:2700"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [b["rank"] for b in doc["buildings"]] == list(range(1, 13))
    assert doc["parameters"]["region"] == "Piemonte"
    assert {c["cabina"]: c["households"] for c in doc["cabine"]}["AC001E00124"] == 40
    lone = next(b for b in doc["buildings"] if b["code"] == "CIM01")
    assert lone["shared_kwh"] == 0.0
    for b in doc["buildings"]:
        assert 500 < b["yield_kwh_kwp"] < 1500

    out = tmp_path / "rank.json"
    res = runner.invoke(app, ["civic", "buildings-rank", "borgo", "--db", db, "--json", str(out), "--capex", "1100"])
    assert res.exit_code == 0, res.output
    assert "MAG01" in res.output
    assert json.loads(out.read_text())["parameters"]["capex_eur_per_kwp"] == 1100

    pdf, html = tmp_path / "r" / "report.pdf", tmp_path / "report.html"
    assert runner.invoke(app, ["civic", "buildings-report", "borgo", "--out", str(pdf), "--db", db]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    res = runner.invoke(app, ["civic", "buildings-report", "borgo", "--out", str(html), "--db", db])
    assert res.exit_code == 0, res.output
    text = html.read_text(encoding="utf-8")
    assert "Ipotesi e fonti" in text and "Comune di Borgo Piemonte" in text and "AC001E00124 40 famiglie" in text


def test_bad_input_exits_2_and_stores_nothing(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    lines = (EXAMPLES / "edifici-pubblici.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("45.06880", "145.0688")
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["civic", "buildings-import", "borgo", str(bad), "--db", db])
    assert res.exit_code == 2
    assert "bad.csv, riga 4, latitude" in res.output
    assert _codes(db) == []

    missing = runner.invoke(app, ["civic", "buildings-import", "borgo", str(tmp_path / "none.csv"), "--db", db])
    assert missing.exit_code == 2 and "file non trovato" in missing.output
    unknown = runner.invoke(
        app, ["civic", "buildings-import", "nessuno", str(EXAMPLES / "edifici-pubblici.csv"), "--db", db]
    )
    assert unknown.exit_code == 2 and "non trovato" in unknown.output
    empty = runner.invoke(app, ["civic", "buildings-rank", "borgo", "--db", db])
    assert empty.exit_code == 2 and "non ha edifici" in empty.output
    wrong = runner.invoke(app, ["civic", "buildings-rank", "borgo", "--db", db, "--households", "AC1"])
    assert wrong.exit_code == 2 and "--households" in wrong.output
    grant = runner.invoke(app, ["civic", "buildings-rank", "borgo", "--db", db, "--grant-share", "0.9"])
    assert grant.exit_code == 2 and "grant_share" in grant.output
    report = runner.invoke(app, ["civic", "buildings-report", "borgo", "--out", str(tmp_path / "r.docx"), "--db", db])
    assert report.exit_code == 2 and not (tmp_path / "r.docx").exists()
