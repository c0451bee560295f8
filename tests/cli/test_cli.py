"""The command line end to end: settle, validate, exit codes, atomic output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from condivisa.cli.app import app
from condivisa.ingest.readings import write_readings_csv
from tests.helpers import pod, readings
from tests.test_community_yaml import EXAMPLE

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "c.yaml").write_text(EXAMPLE)
    rng = np.random.default_rng(1)
    hours = 24 * 31
    w = rng.uniform(0, 2, (hours, 3))
    i = np.zeros_like(w)
    w[:, 2] = 0.05
    i[:, 2] = np.clip(np.sin(np.arange(hours) / 24 * 2 * np.pi - np.pi / 2), 0, None) * 8
    r = readings([pod(1), pod(2), pod(9)], w, i)
    write_readings_csv(r, tmp_path / "r.csv")
    return {"community": tmp_path / "c.yaml", "readings": tmp_path / "r.csv", "dir": tmp_path}


def test_settle_json_document_has_the_documented_keys(files: dict[str, Path]) -> None:
    out = files["dir"] / "out.json"
    res = runner.invoke(
        app, ["settle", str(files["community"]), "--readings", str(files["readings"]), "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert {
        "community",
        "period",
        "hours",
        "energy_kwh",
        "per_cabina",
        "per_plant",
        "incentive_eur",
        "allocation",
        "warnings",
    } <= set(doc)
    assert set(doc["energy_kwh"]) >= {"withdrawn", "injected", "shared", "incentivised"}
    assert set(doc["per_plant"][0]) >= {"id", "injected_kwh", "incentivised_kwh", "tip_eur", "excess_eur"}
    assert doc["hours"] == 24 * 31  # 744 hours of readings from 1 June: 1 June - 1 July
    cents = round(sum(a["amount_eur"] for a in doc["allocation"]) * 100)
    assert cents == round(doc["incentive_eur"]["total"] * 100)
    assert any("tabella mensile" in w for w in doc["warnings"])  # no price file: said in the output
    assert doc["energy_kwh"]["incentivised"] <= doc["energy_kwh"]["shared"]


def test_period_and_stdout_json(files: dict[str, Path]) -> None:
    res = runner.invoke(
        app,
        [
            "settle",
            str(files["community"]),
            "-r",
            str(files["readings"]),
            "--from",
            "2025-06-01",
            "--to",
            "2025-06-30",
            "--json",
            "-",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["hours"] == 720 and doc["period"] == {
        **doc["period"],
        "start": "2025-06-01",
        "end": "2025-06-30",
    }


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("power_kw: 100", "power_kw: 1200"), "plants[0].power_kw"),
        (("region: Piemonte", "region: Atlantide"), "region"),
        (("IT001E00000002", "IT001X00000002"), "members[1].pods[0].pod"),
    ],
)
def test_bad_community_exits_2_and_writes_nothing(files: dict[str, Path], edit: tuple[str, str], message: str) -> None:
    files["community"].write_text(EXAMPLE.replace(*edit))
    out = files["dir"] / "out.json"
    res = runner.invoke(app, ["settle", str(files["community"]), "-r", str(files["readings"]), "--json", str(out)])
    assert res.exit_code == 2
    assert message in res.stderr
    assert not out.exists()


def test_bad_readings_exit_2_naming_row(files: dict[str, Path]) -> None:
    lines = files["readings"].read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 2)[0] + ",-3,0"
    files["readings"].write_text("\n".join(lines) + "\n")
    res = runner.invoke(app, ["settle", str(files["community"]), "-r", str(files["readings"])])
    assert res.exit_code == 2
    assert "riga 6, withdrawn_kwh: valore negativo" in res.stderr


def test_existing_output_is_kept_when_input_is_bad(files: dict[str, Path]) -> None:
    out = files["dir"] / "out.json"
    out.write_text("previous settlement")
    files["community"].write_text(EXAMPLE.replace("share: 0.60", "share: 0.70"))
    res = runner.invoke(app, ["settle", str(files["community"]), "-r", str(files["readings"]), "--json", str(out)])
    assert res.exit_code == 2 and out.read_text() == "previous settlement"


def test_validate_reports_unknown_pods(files: dict[str, Path]) -> None:
    extra = files["readings"].read_text() + "IT001E00000077,2025-06-01T00:00:00+02:00,1,0\n"
    files["readings"].write_text(extra)
    res = runner.invoke(app, ["validate", str(files["community"]), "-r", str(files["readings"])])
    assert res.exit_code == 0, res.output
    assert "IT001E00000077" in res.stdout


def test_auc_outside_one_building_is_refused(files: dict[str, Path]) -> None:
    files["community"].write_text(EXAMPLE.replace("configuration: CER", "configuration: AUC"))
    res = runner.invoke(app, ["validate", str(files["community"])])
    assert res.exit_code == 2 and "stesso edificio" in res.stderr


def test_member_in_another_zone_is_refused(files: dict[str, Path]) -> None:
    files["community"].write_text(EXAMPLE.replace("    kind: business\n", "    kind: business\n    region: Sicilia\n"))
    res = runner.invoke(app, ["validate", str(files["community"])])
    assert res.exit_code == 2 and "members[1].region" in res.stderr and "SICI" in res.stderr


@pytest.mark.slow
def test_demo_writes_and_settles_a_year(tmp_path: Path) -> None:
    res = runner.invoke(app, ["demo", "--dir", str(tmp_path / "demo"), "--json", "-"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["hours"] == 8760 and len(doc["per_plant"]) == 2 and len(doc["per_cabina"]) == 2
    assert doc["prices"]["source"].startswith("file")
    assert 30 <= len(doc["per_member"]) <= 60
    assert doc["energy_kwh"]["incentivised"] > 0.3 * doc["energy_kwh"]["injected"]


def test_unknown_zone_in_prices_exits_2(files: dict[str, Path]) -> None:
    prices = files["dir"] / "p.csv"
    prices.write_text("timestamp,zone,price_eur_mwh\n2025-06-01T00:00:00+02:00,NORTH,100\n")
    res = runner.invoke(app, ["settle", str(files["community"]), "-r", str(files["readings"]), "-p", str(prices)])
    assert res.exit_code == 2 and "riga 2, zone: zona di mercato sconosciuta" in res.stderr


def test_missing_hourly_prices_exit_2(files: dict[str, Path]) -> None:
    prices = files["dir"] / "p.csv"
    prices.write_text("timestamp,zone,price_eur_mwh\n2025-06-01T00:00:00+02:00,NORD,100\n")
    res = runner.invoke(app, ["settle", str(files["community"]), "-r", str(files["readings"]), "-p", str(prices)])
    assert res.exit_code == 2 and "mancano 743 prezzi orari della zona NORD" in res.stderr


def test_convert_distributor_files(tmp_path: Path) -> None:
    data = Path(__file__).parents[1] / "data" / "meter-files"
    out = tmp_path / "r.csv"
    res = runner.invoke(
        app,
        ["convert", str(data / "pcf-curve_IT012E_20251026_20251026.csv"), "--format", "pcf-long", "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    lines = out.read_text().splitlines()
    assert lines[0] == "pod,timestamp,withdrawn_kwh,injected_kwh" and len(lines) == 201  # 2 PODs x 100 quarters
    res = runner.invoke(
        app, ["convert", str(data / "pcf-curve_IT012E_20251026_20251026.csv"), "--format", "xyz", "--out", str(out)]
    )
    assert res.exit_code == 2 and "formato sconosciuto" in res.stderr
