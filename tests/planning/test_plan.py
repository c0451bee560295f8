"""``condivisa plan`` end to end on a small project, and its bad-input messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from condivisa.cli.app import app
from condivisa.model import parse_project
from condivisa.planning.plan import member_loads, run_plan
from condivisa.production import typical_year
from condivisa.report.feasibility import browser_available

runner = CliRunner()

PROJECT = """\
name: Piccola CER
region: Piemonte
year: 2025
members:
  - {id: comune, name: Comune, kind: municipality, cabina: AC1, bill: {yearly: {F1: 20000, F2: 6000, F3: 5000}}}
  - {id: bar, name: Bar, kind: business, cabina: AC1, bill: {yearly: {F1: 9000, F23: 7000}}}
  - {id: f1, name: Famiglia Uno, kind: household, cabina: AC1, bill: {yearly: {F1: 900, F2: 900, F3: 1100}}}
  - {id: f2, name: Famiglia Due, kind: household, cabina: AC1, bill: {yearly: {total: 2600}}}
  - {id: nuovo, name: Ufficio, kind: business, cabina: AC1, candidate: true, bill: {yearly: {F1: 8000, F23: 1000}}}
plants:
  - {id: tetto, owner: comune, cabina: AC1, roof_area_m2: 330, capex_eur_per_kw: 1100, grant_share: 0.4}
economics: {discount_rate: 0.04}
regulation:
  - {to: "fund:sociale", share: 0.1}
  - {to: producers, share: 0.3, by: incentivised_injection}
  - {to: consumers, share: 0.6, by: shared_withdrawal}
regulations:
  - {name: Parti uguali, rules: [{to: consumers, share: 1.0, by: equal}]}
"""


@pytest.fixture(scope="module")
def plan_json(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("plan")
    (folder / "p.yaml").write_text(PROJECT)
    res = runner.invoke(app, ["plan", str(folder / "p.yaml"), "--out", str(folder / "out"), "--no-pdf"])
    assert res.exit_code == 0, res.output
    assert (folder / "out" / "report.html").exists()
    html = (folder / "out" / "report.html").read_text()
    assert "Studio di fattibilità" in html and "Piccola CER" in html
    assert 'src="http' not in html  # plotly.js is inline: the page needs no network
    return json.loads((folder / "out" / "plan.json").read_text())


def test_sizes_respect_the_roof_and_the_money_adds_up(plan_json: dict) -> None:
    assert 0 < plan_json["plants_kw"]["tetto"] <= 330 / 5.5 + 1e-6
    total = plan_json["settlement"]["incentive_eur"]["total"]
    for name, column in plan_json["regulations"].items():
        amounts = [v for k, v in column.items() if k != "total"]
        assert round(sum(amounts), 2) == pytest.approx(total, abs=0.011), name
    assert set(plan_json["regulations"]) == {"Regolamento proposto", "Parti uguali", "Contributo (Shapley)", "Nucleolo"}
    assert plan_json["recruits"][0]["id"] == "nuovo"
    flows = plan_json["economics"]["cash_flows"]
    assert len(flows) == 21 and flows[0]["capex"] < 0 < flows[0]["grant"]


def test_bills_are_reproduced_by_the_hourly_profiles() -> None:
    project = parse_project(PROJECT)
    loads = member_loads(project)
    assert loads["bar"].sum() == pytest.approx(16000, abs=0.1)
    assert loads["f2"].sum() == pytest.approx(2600, abs=0.1)


def test_year_without_weather_is_refused() -> None:
    project = parse_project(PROJECT)
    weather = typical_year()
    broken = type(weather)(
        weather.data.assign(ghi=np.nan), weather.latitude, weather.longitude, weather.elevation_m, weather.source
    )
    with pytest.raises(ValueError, match="ghi"):
        run_plan(project, broken, member_loads(project), np.full(8760, 100.0))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("region: Piemonte", "region: Atlantide"), "regione sconosciuta"),
        (("roof_area_m2: 330", "roof_area_m2: 0"), "superficie del tetto nulla"),
        (("{F1: 900, F2: 900, F3: 1100}", "{F1: -900, F2: 900, F3: 1100}"), "consumo negativo"),
        (("year: 2025", "year: 2050"), "year"),
    ],
)
def test_bad_project_exits_2_with_a_clear_message(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    (tmp_path / "p.yaml").write_text(PROJECT.replace(*edit))
    res = runner.invoke(app, ["plan", str(tmp_path / "p.yaml"), "--out", str(tmp_path / "out"), "--no-pdf"])
    assert res.exit_code == 2, res.output
    assert message in res.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.skipif(not browser_available(), reason="needs Debian's chromium for PNG export")
def test_pdf_and_png_charts(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PROJECT)
    res = runner.invoke(app, ["plan", str(tmp_path / "p.yaml"), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    pdf = (tmp_path / "out" / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
    pngs = sorted(p.name for p in (tmp_path / "out" / "charts").glob("*.png"))
    assert {"monthly.png", "cashflow.png", "pareto.png", "allocation.png"} <= set(pngs)


def test_configurations_command_lists_proposals_and_recruits(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PROJECT)
    res = runner.invoke(app, ["configurations", str(tmp_path / "p.yaml")])
    assert res.exit_code == 0, res.output
    assert "NORD" in res.stdout and "nuovo" in res.stdout
