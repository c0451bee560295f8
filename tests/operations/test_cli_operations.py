"""``condivisa ops``: green hours from stored readings, campaigns from the command line (temporary SQLite)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import icalendar
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from condivisa.cli.operations import ops_app
from condivisa.engine.timegrid import LOCAL_TZ, Period
from condivisa.ingest.readings import readings_from_arrays
from condivisa.operations.forecast import REGION_CAPITALS, clear_sky_kwh, day_hours
from condivisa.store import import_readings, make_engine, save_community, session_factory, upgrade
from tests.helpers import community, member, plant, pod

runner = CliRunner()
TARGET = dt.date(2025, 6, 18)  # a Wednesday
HISTORY = Period(dt.date(2025, 5, 21), dt.date(2025, 6, 17))  # the 28 days before it
TURIN = REGION_CAPITALS["Piemonte"]
PLANT_KW = 50.0
CAMPAIGN_DAYS = (dt.date(2025, 6, 16), dt.date(2025, 6, 17))


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A database with a CER in Piemonte: members a and b (1 kWh every hour; a 3 kWh at 12-14 local on 16 and
    17 June), a 50 kW PV plant injecting half of its clear-sky production."""
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            cid = save_community(session, community([member("a", [1]), member("b", [2])], [plant("p1", "a", 9)]))
        hours = HISTORY.hours()
        local = hours.tz_convert(LOCAL_TZ)
        moved = np.isin([t.date() for t in local], CAMPAIGN_DAYS) & (local.hour >= 12) & (local.hour < 14)
        a = np.where(moved, 3.0, 1.0)
        b = np.ones(len(hours))
        pv = 0.5 * clear_sky_kwh(hours, PLANT_KW, TURIN).to_numpy()
        zero = np.zeros(len(hours))
        withdrawn = np.column_stack([a, b, zero])
        injected = np.column_stack([zero, zero, pv])
        readings = readings_from_arrays([pod(1), pod(2), pod(9)], hours[0], withdrawn, injected)
        import_readings(engine, cid, readings, source="test")
    finally:
        engine.dispose()
    return url


def expected_hours() -> pd.Series:
    """Hand-made forecast of the surplus on 18 June: production = 0.5 x clear sky (ratio 0.5 over the last 7
    days); consumption = 2 kWh, but 3 kWh at 12:00 and 13:00 local where a's similar days (17, 16, 13, 12 June)
    give (3 + 3 + 1 + 1) / 4 = 2 kWh and b 1 kWh."""
    hours = day_hours(TARGET)
    local = hours.tz_convert(LOCAL_TZ).hour
    consumption = np.where((local >= 12) & (local < 14), 3.0, 2.0)
    surplus = 0.5 * clear_sky_kwh(hours, PLANT_KW, TURIN).to_numpy() - consumption
    series = pd.Series(surplus, index=hours)
    return series[series > 0]


def test_green_hours_json(db: str) -> None:
    args = ["green-hours", "--db", db, "--community", "1", "--date", TARGET.isoformat(), "--format", "json"]
    res = runner.invoke(ops_app, args)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    want = expected_hours()
    assert doc["community"] == "Test CER" and doc["date"] == "2025-06-18"
    assert doc["method"] == {"production": "clear_sky_x_recent_ratio", "consumption": "similar_days"}
    starts = [pd.Timestamp(h["start"]) for h in doc["hours"]]
    assert starts == list(want.index)
    assert [h["surplus_kwh"] for h in doc["hours"]] == pytest.approx(list(want), abs=2e-3)
    assert "Ore verdi del 18/06/2025" in res.stderr


def test_green_hours_ics_to_file(db: str, tmp_path: Path) -> None:
    out = tmp_path / "feed" / "ore-verdi.ics"
    args = ["green-hours", "--db", db, "--community", "1", "--date", "2025-06-18", "--format", "ics", "--out", str(out)]
    res = runner.invoke(ops_app, args)
    assert res.exit_code == 0, res.output
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    events = list(cal.walk("VEVENT"))
    want = expected_hours()
    assert len(events) == 1  # one contiguous run around noon
    assert events[0].decoded("DTSTART") == want.index[0].to_pydatetime()
    assert events[0].decoded("DTEND") == (want.index[-1] + pd.Timedelta(hours=1)).to_pydatetime()
    assert str(events[0]["SUMMARY"]).startswith("Ore verdi: ")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--format", "xml"], "--format"),
        (["--date", "2025-13-01"], "--date"),
        (["--latitude", "45"], "--latitude"),
        (["--history-days", "0"], "--history-days"),
    ],
)
def test_green_hours_bad_input_exits_2_naming_the_option(db: str, extra: list[str], field: str) -> None:
    res = runner.invoke(ops_app, ["green-hours", "--db", db, "--community", "1", "--date", "2025-06-18", *extra])
    assert res.exit_code == 2, res.output
    assert field in res.stderr


def test_unknown_community_and_missing_database(db: str, tmp_path: Path) -> None:
    res = runner.invoke(ops_app, ["green-hours", "--db", db, "--community", "7", "--date", "2025-06-18"])
    assert res.exit_code == 2 and "comunita' 7 non trovata" in res.stderr
    missing = f"sqlite:///{tmp_path / 'nope.db'}"
    res = runner.invoke(ops_app, ["campaign-list", "--db", missing, "--community", "1"])
    assert res.exit_code == 2 and "--db" in res.stderr


def test_campaign_commands(db: str) -> None:
    base = ["campaign-create", "--db", db, "--community", "1", "--title", "Mezzogiorno"]
    days = ["--from", "2025-06-16", "--to", "2025-06-17"]
    res = runner.invoke(ops_app, [*base, *days, "--window-start", "12", "--window-end", "25", "--budget", "25"])
    assert res.exit_code == 2 and "--window-end" in res.stderr and "0..24" in res.stderr
    res = runner.invoke(ops_app, [*base, *days, "--window-start", "12", "--window-end", "14", "--budget", "-1"])
    assert res.exit_code == 2 and "--budget" in res.stderr
    window = ["--window-start", "12", "--window-end", "14", "--budget", "25.00", "--baseline-days", "2"]
    res = runner.invoke(ops_app, [*base, *days, *window])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == "1"

    res = runner.invoke(ops_app, ["campaign-list", "--db", db, "--community", "1"])
    assert res.exit_code == 0, res.output
    assert "Mezzogiorno" in res.stdout and "16/06/2025" in res.stdout and "planned" in res.stdout

    res = runner.invoke(ops_app, ["campaign-reward", "1", "--db", db, "--json", "-"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    # baseline: the working days 13 and 12 June, 1 kWh per hour; a consumed 3 kWh in 12:00-14:00 on both days:
    # response 2 days x 2 hours x (3 - 1) = 8 kWh and the whole budget; b: 0 kWh, 0 cents
    members = {m["member"]: m for m in doc["members"]}
    assert members["a"]["baseline_days"] == {"weekday": ["2025-06-13", "2025-06-12"]}
    assert (members["a"]["response_kwh"], members["a"]["reward_cents"]) == (8.0, 2500)
    assert (members["b"]["response_kwh"], members["b"]["reward_cents"]) == (0.0, 0)
    assert doc["total_reward_cents"] == doc["budget_cents"] == 2500

    res = runner.invoke(ops_app, ["campaign-list", "--db", db, "--community", "1"])
    assert "rewarded" in res.stdout
    res = runner.invoke(ops_app, ["campaign-reward", "9", "--db", db])
    assert res.exit_code == 2 and "campagna 9 non trovata" in res.stderr
