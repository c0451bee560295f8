"""Significant energy uses, targets, actions and the management-review summary."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.energy_management.baseline import check_acceptance, fit_baseline
from condivisa.energy_management.review import (
    ACTION_DONE,
    ACTION_IN_PROGRESS,
    ACTION_PLANNED,
    STATUS_NO_DATA,
    STATUS_OFF_TRACK,
    STATUS_ON_TRACK,
    Action,
    enpi_trend,
    management_review,
    significant_energy_uses,
    target_trajectory,
    track_targets,
)
from condivisa.energy_management.savings import verify_savings
from tests.energy_management.test_baseline import baseline_year
from tests.energy_management.test_savings import reporting_year

USES = {"illuminazione": 200.0, "riscaldamento": 500.0, "pompe": 150.0, "uffici": 100.0, "altro": 50.0}


def test_pareto_small_case() -> None:
    seu = significant_energy_uses(USES)
    # Sorted: 500 (50 %), 200 (70 %), 150 (85 %: crosses 80 %, included), 100, 50.
    assert seu.uses == ("riscaldamento", "illuminazione", "pompe")
    assert seu.significant_share == pytest.approx(0.85)
    assert seu.table["cumulative_share"].to_numpy() == pytest.approx([0.5, 0.7, 0.85, 0.95, 1.0])
    with_potential = significant_energy_uses(USES, also_significant={"altro"})
    assert with_potential.uses == ("riscaldamento", "illuminazione", "pompe", "altro")
    assert with_potential.table.set_index("use").loc["altro", "reason"] == "potential"
    # Exactly on the line: the first use alone makes 80 %.
    assert significant_energy_uses({"a": 80.0, "b": 20.0}).uses == ("a",)
    assert significant_energy_uses({"a": 0.0, "b": 0.0}).uses == ()
    with pytest.raises(ValueError, match="consumo non valido"):
        significant_energy_uses({"a": -1.0})
    with pytest.raises(ValueError, match="non presenti"):
        significant_energy_uses(USES, also_significant={"piscina"})


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=5), st.floats(0.01, 1e6), min_size=1, max_size=15))
def test_pareto_is_the_smallest_prefix_reaching_the_share(uses: dict[str, float]) -> None:
    seu = significant_energy_uses(uses)
    total = sum(uses.values())
    chosen = [uses[u] for u in seu.uses]
    assert sum(chosen) / total >= 0.8 - 1e-9
    assert (sum(chosen) - chosen[-1]) / total < 0.8
    assert min(chosen) >= max([v for u, v in uses.items() if u not in seu.uses], default=0.0)


def test_targets_tracking() -> None:
    idx = pd.date_range("2025-01-01", periods=4, freq="MS", tz="Europe/Rome")
    enpi = pd.Series([0.95, 1.02, 0.97, np.nan], index=idx)
    table = track_targets(enpi, 1.0)
    assert list(table["status"]) == [STATUS_ON_TRACK, STATUS_OFF_TRACK, STATUS_ON_TRACK, STATUS_NO_DATA]
    assert table["gap"].iloc[1] == pytest.approx(0.02)
    assert table["gap_pct"].iloc[1] == pytest.approx(2.0)
    assert track_targets(enpi, 1.0, tolerance=0.05)["status"].iloc[1] == STATUS_ON_TRACK
    higher = track_targets(pd.Series([0.4, 0.6], index=idx[:2]), 0.5, lower_is_better=False)  # e.g. share of RES
    assert list(higher["status"]) == [STATUS_OFF_TRACK, STATUS_ON_TRACK]
    path = target_trajectory(1.0, 0.9, idx)
    assert path.to_numpy() == pytest.approx([0.975, 0.95, 0.925, 0.9])
    per_period = track_targets(enpi, path)
    assert list(per_period["status"])[:3] == [STATUS_ON_TRACK, STATUS_OFF_TRACK, STATUS_OFF_TRACK]


def test_enpi_trend() -> None:
    idx = pd.date_range("2025-01-01", periods=5, freq="MS", tz="Europe/Rome")
    trend = enpi_trend(pd.Series([1.0, 0.98, np.nan, 0.94, 0.92], index=idx))
    assert trend.first == 1.0 and trend.last == 0.92
    assert trend.change_pct == pytest.approx(-8.0)
    assert trend.slope_per_period == pytest.approx(-0.02)
    assert trend.improving
    assert not enpi_trend(pd.Series([1.0, 1.1], index=idx[:2])).improving


def test_action_status_and_overdue() -> None:
    a = Action("A1", "Relamping LED", ACTION_IN_PROGRESS, due=dt.date(2025, 6, 30))
    assert a.overdue(dt.date(2025, 7, 1)) and not a.overdue(dt.date(2025, 6, 30))
    assert not Action("A2", "x", ACTION_DONE, due=dt.date(2025, 1, 1)).overdue(dt.date(2025, 7, 1))
    with pytest.raises(ValueError, match="stato"):
        Action("A3", "x", "forse")


def test_management_review_summary() -> None:
    consumption, drivers = baseline_year()
    model = fit_baseline(consumption, drivers)
    actual, rep_drivers, _ = reporting_year()
    savings = verify_savings(model, actual, rep_drivers)
    enpi = savings.periods["enpi_regression"]
    targets = track_targets(enpi, 0.95)
    actions = [
        Action(
            "A1",
            "Caldaia a condensazione",
            ACTION_DONE,
            dt.date(2024, 12, 1),
            "riscaldamento",
            expected_savings_kwh=5000.0,
            verified_savings_kwh=savings.avoided_energy_kwh,
        ),
        Action("A2", "Relamping LED", ACTION_IN_PROGRESS, dt.date(2025, 6, 30), "illuminazione"),
        Action("A3", "Inverter sulle pompe", ACTION_PLANNED, dt.date(2026, 3, 31)),
    ]
    review = management_review(
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 12, 31),
        enpi=enpi,
        targets=targets,
        savings=savings,
        actions=actions,
        significant_uses=significant_energy_uses(USES),
        baseline_acceptance=check_acceptance(model),
    )
    assert review.actions_by_status() == {"planned": 1, "in_progress": 1, "done": 1, "cancelled": 0}
    assert review.overdue_actions() == ("A2",)
    counts = review.target_counts()
    assert counts[STATUS_ON_TRACK] == 6 and counts[STATUS_OFF_TRACK] == 6  # the six months with 10 % savings
    attention = " | ".join(review.attention)
    assert "A2" in attention
    assert "6 periodi su 12" in attention
    assert "pompe" in attention  # SEU without an action (A3 has no SEU)
    assert "baseline non accettabile" not in attention
    data = review.to_dict()
    text = json.dumps(data)  # JSON-ready
    assert data["savings"]["meets_ashrae14"] is True
    assert data["savings"]["avoided_energy_kwh"] == pytest.approx(savings.avoided_energy_kwh)
    assert data["significant_uses"]["uses"] == ["riscaldamento", "illuminazione", "pompe"]
    assert data["baseline_acceptance"]["passed"] is True
    assert len(data["targets"]["periods"]) == 12
    assert "2025-01-01T00:00:00+01:00" in text
    with pytest.raises(ValueError, match="stesso identificativo"):
        management_review(
            period_start=dt.date(2025, 1, 1),
            period_end=dt.date(2025, 12, 31),
            enpi=enpi,
            actions=[actions[0], actions[0]],
        )
