"""The action plan's aggregation on a constructed case and as invariants, the progress report, the export."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from condivisa.energy_team.plan import (
    COVENANT_COLUMNS,
    DEFAULT_EMISSION_FACTOR,
    INTER_MUNICIPAL,
    SECTORS,
    STATUSES,
    ActionChange,
    Indicator,
    IndicatorReading,
    IndicatorValue,
    PlanAction,
    ReportDecision,
    covenant_rows,
    emissions_avoided,
    indicator_status,
    last_meeting_before,
    progress_report,
    summarize,
)

# A union of two towns: four actions, one cancelled, one with its own factor.
CASE = [
    PlanAction("A1", "LED", "public_lighting", "completed", "Borgo", cost_eur=100_000, savings_mwh=200),
    PlanAction("A2", "Scuola", "municipal_buildings", "ongoing", "Altrove", cost_eur=50_000, savings_mwh=40,
               emission_factor=0.2),
    PlanAction("A3", "FV", "local_electricity", "planned", None, cost_eur=300_000, renewable_mwh=400),
    PlanAction("A4", "Municipio", "municipal_buildings", "cancelled", "Borgo", cost_eur=10_000, savings_mwh=10),
]  # fmt: skip


def test_constructed_case_totals() -> None:
    s = summarize(CASE, baseline_t=1000.0, target_pct=55)
    # emissions avoided = (savings + renewables) x factor, default 0.25 t/MWh
    co2 = {f.action.code: f.co2_t for f in s.actions}
    assert co2 == pytest.approx({"A1": 50.0, "A2": 8.0, "A3": 100.0, "A4": 2.5})
    assert s.total.count == 4 and s.total.cost_eur == 460_000
    assert s.total.savings_mwh == 250 and s.total.renewable_mwh == 400
    assert s.total.co2_t == pytest.approx(160.5)
    # by sector: template order, sums equal the grand total
    assert list(s.by_sector) == ["municipal_buildings", "public_lighting", "local_electricity"]
    assert s.by_sector["municipal_buildings"].count == 2
    assert s.by_sector["municipal_buildings"].co2_t == pytest.approx(10.5)
    assert sum(t.co2_t for t in s.by_sector.values()) == pytest.approx(s.total.co2_t)
    assert sum(t.cost_eur for t in s.by_sector.values()) == s.total.cost_eur
    # by municipality, with the union's own actions apart
    assert set(s.by_municipality) == {"Altrove", "Borgo", INTER_MUNICIPAL}
    assert s.by_municipality["Borgo"].savings_mwh == 210
    # planned excludes the cancelled action, achieved counts the completed one only
    assert s.planned.co2_t == pytest.approx(158.0) and s.achieved.co2_t == pytest.approx(50.0)
    assert "municipal_buildings" in s.planned_by_sector and s.planned_by_sector["municipal_buildings"].count == 1
    # target: 55 % of 1000 t
    assert s.target.target_t == pytest.approx(550.0)
    assert s.target.achieved_share == pytest.approx(50 / 550)
    assert s.target.planned_share == pytest.approx(158 / 550)
    assert s.placeholder_factor == 3


def test_without_baseline_no_share() -> None:
    s = summarize(CASE)
    assert s.target.target_t is None and s.target.achieved_share is None


def test_emissions_default_is_the_placeholder() -> None:
    assert DEFAULT_EMISSION_FACTOR == 0.25
    assert emissions_avoided(100, 0) == 25.0
    assert emissions_avoided(100, 20, 0.5) == 60.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sector": "space"}, "settore"),
        ({"status": "done"}, "stato"),
        ({"savings_mwh": -1.0}, "savings_mwh"),
        ({"cost_eur": math.nan}, "cost_eur"),
        ({"start": dt.date(2026, 1, 1), "end": dt.date(2025, 1, 1)}, "precede"),
    ],
)
def test_bad_actions_are_refused(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"code": "X", "title": "x", "sector": "other"}
    with pytest.raises(ValueError, match=message):
        PlanAction(**{**base, **kwargs})  # type: ignore[arg-type]


actions = st.lists(
    st.builds(
        PlanAction,
        code=st.text("ABC123", min_size=1, max_size=4),
        title=st.just("t"),
        sector=st.sampled_from(list(SECTORS)),
        status=st.sampled_from(list(STATUSES)),
        municipality=st.sampled_from([None, "Borgo", "Altrove"]),
        cost_eur=st.floats(0, 1e7),
        savings_mwh=st.floats(0, 1e5),
        renewable_mwh=st.floats(0, 1e5),
        emission_factor=st.one_of(st.none(), st.floats(0, 1.5)),
    ),
    max_size=30,
)


@given(actions)
def test_groups_add_up_to_the_total(items: list[PlanAction]) -> None:
    s = summarize(items)
    for groups in (s.by_sector, s.by_municipality, s.by_status):
        assert sum(t.count for t in groups.values()) == len(items)
        for name in ("cost_eur", "savings_mwh", "renewable_mwh", "co2_t"):
            total = getattr(s.total, name)
            assert sum(getattr(t, name) for t in groups.values()) == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert s.achieved.co2_t <= s.planned.co2_t + 1e-9 <= s.total.co2_t + 2e-9
    for f in s.actions:
        factor = DEFAULT_EMISSION_FACTOR if f.action.emission_factor is None else f.action.emission_factor
        assert f.co2_t == pytest.approx((f.action.savings_mwh + f.action.renewable_mwh) * factor)
    rows = covenant_rows(items)
    assert len(rows) == len(items) and all(list(r) == list(COVENANT_COLUMNS) for r in rows)


def test_indicator_latest_by_date() -> None:
    ind = Indicator(
        "Punti luce",
        "n",
        (IndicatorValue(dt.date(2025, 6, 1), 300), IndicatorValue(dt.date(2025, 9, 1), 480),
         IndicatorValue(dt.date(2025, 3, 1), 100)),
        target=1200,
    )  # fmt: skip
    st_ = indicator_status(ind)
    assert st_.latest == IndicatorValue(dt.date(2025, 9, 1), 480)
    assert st_.previous == IndicatorValue(dt.date(2025, 6, 1), 300)
    assert st_.share_of_target == pytest.approx(0.4)
    empty = indicator_status(Indicator("x", ""))
    assert empty.latest is None and empty.share_of_target is None


def test_progress_report_since_last_meeting() -> None:
    t0 = dt.datetime(2026, 3, 10, 16, 30, tzinfo=dt.UTC)
    now = dt.datetime(2026, 4, 2, 9, 0, tzinfo=dt.UTC)
    since = last_meeting_before([t0 - dt.timedelta(days=30), t0, now + dt.timedelta(days=5)], now)
    assert since == t0
    assert last_meeting_before([now + dt.timedelta(days=1)], now) is None
    changes = [
        ActionChange("A1", "LED", t0 - dt.timedelta(days=2), "ongoing", "ongoing", "vecchia"),
        ActionChange("A1", "LED", t0 + dt.timedelta(days=3), "ongoing", "completed", "collaudo"),
        ActionChange("A2", "Scuola", t0 + dt.timedelta(days=1), "planned", "ongoing", "avvio"),
    ]
    decisions = [
        ReportDecision("vecchia", "decision", "political", t0 - dt.timedelta(days=30), "", None, "done"),
        ReportDecision("nuova", "report", "technical", t0, "Ufficio", dt.date(2026, 5, 1), "open"),
    ]
    readings = [
        IndicatorReading("A1", "Punti luce", "n", dt.date(2026, 3, 1), 400, t0 - dt.timedelta(hours=1)),
        IndicatorReading("A1", "Punti luce", "n", dt.date(2026, 4, 1), 800, t0 + dt.timedelta(days=20)),
    ]
    report = progress_report(summarize(CASE), changes, decisions, since=since, readings=readings)
    assert [c.note for c in report.changes] == ["collaudo", "avvio"]
    assert [r.value for r in report.readings] == [800]
    assert [d.text for d in report.decisions] == ["nuova", "vecchia"]
    assert list(report.by_status) == list(STATUSES)
    assert [f.action.code for f in report.by_status["ongoing"]] == ["A2"]
    # achieved 200 MWh (A1) of planned 200 + 40 + 400 MWh
    assert report.savings_share == pytest.approx(200 / 640)


def test_covenant_rows_mapping() -> None:
    rows = covenant_rows(
        [
            PlanAction("B2", "FV", "local_electricity", "planned", None, "Coordinatore", 300_000.5, 0, 400,
                       start=dt.date(2026, 1, 1), end=dt.date(2027, 6, 30), action_area="Fotovoltaico",
                       instrument="grants", origin="coordinator"),
            PlanAction("A1", "LED", "public_lighting", "completed", "Borgo", "Ufficio", 1000, 12.3456,
                       responsible_body="Comune di Borgo"),
        ]
    )  # fmt: skip
    assert [r["Action code"] for r in rows] == ["A1", "B2"]  # template sector order
    led, pv = rows
    assert led["Sector"] == "Public lighting" and led["Implementation status"] == "Completed"
    assert led["Responsible body"] == "Comune di Borgo" and led["Local authority"] == "Borgo"
    assert led["Estimated energy savings (MWh/a)"] == "12.346"
    assert led["Estimated CO2 reduction (t CO2/a)"] == "3.086"
    assert pv["Local authority"] == "Joint action" and pv["Responsible body"] == "Coordinatore"
    assert pv["Implementing instrument"] == "Grants and subsidies"
    assert pv["Origin of the action"] == "Covenant Coordinator"
    assert pv["Implementation timeframe: start"] == "2026" and pv["Implementation timeframe: end"] == "2027"
    assert pv["Implementation cost (EUR)"] == "300000.5" and pv["Implementation status"] == "Not started"
    assert pv["Estimated CO2 reduction (t CO2/a)"] == "100"
