"""Demand response: baselines by similar days, responses and rewards computed by hand; reward invariants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.ingest.readings import Readings, readings_from_arrays
from condivisa.operations.demand_response import (
    BASELINE_METHOD,
    Campaign,
    consumption_by_member,
    measure_campaign,
    reward_split,
)
from condivisa.operations.forecast import day_hours

# Campaign: Wed 18 and Thu 19 June 2025, window 12:00-14:00 local (hours 12 and 13), budget 10 €, baseline on the
# 2 most recent working days before the start: Tue 17 and Mon 16 June.
CAMPAIGN = Campaign(dt.date(2025, 6, 18), dt.date(2025, 6, 19), 12, 14, 1000, baseline_days=2)
CAMPAIGN_DAYS = {dt.date(2025, 6, 18), dt.date(2025, 6, 19)}


def frame(first: dt.date, last: dt.date, members: dict[str, Callable[[dt.date, int], float]]) -> pd.DataFrame:
    """Hourly consumption [kWh] of each member, ``value(local day, local hour)``, over local days first..last."""
    hours = pd.DatetimeIndex([])
    day = first
    parts = []
    while day <= last:
        parts.append(day_hours(day))
        day += dt.timedelta(days=1)
    hours = parts[0].append(parts[1:])
    local = hours.tz_convert(LOCAL_TZ)
    dates = [t.date() for t in local]
    return pd.DataFrame(
        {m: [f(d, h) for d, h in zip(dates, local.hour, strict=True)] for m, f in members.items()}, index=hours
    )


def in_window(h: int) -> bool:
    return 12 <= h < 14


def member_a(d: dt.date, h: int) -> float:
    # 1 kWh every hour, except 3 kWh in the window on campaign days; 50 on earlier weekdays and 100 on the
    # weekend 14-15 June, which must not enter the baseline.
    if d in CAMPAIGN_DAYS:
        return 3.0 if in_window(h) else 1.0
    if d.day in (16, 17):
        return 1.0
    return 100.0 if d.weekday() >= 5 else 50.0


def member_b(d: dt.date, h: int) -> float:
    # 0.5 on Mon 16, 1.5 on Tue 17 (baseline 1.0); campaign days: 2.0 in the window, 0.5 outside.
    if d in CAMPAIGN_DAYS:
        return 2.0 if in_window(h) else 0.5
    return {16: 0.5, 17: 1.5}.get(d.day, 7.0)


def member_c(d: dt.date, h: int) -> float:
    # 2.0 on the baseline days, 1.0 in the window on campaign days (moved away: negative response).
    if d in CAMPAIGN_DAYS:
        return 1.0 if in_window(h) else 2.0
    return 2.0


@pytest.fixture
def consumption() -> pd.DataFrame:
    return frame(dt.date(2025, 6, 2), dt.date(2025, 6, 20), {"a": member_a, "b": member_b, "c": member_c})


def test_hand_computed_baseline_response_and_rewards(consumption: pd.DataFrame) -> None:
    result = measure_campaign(CAMPAIGN, consumption)
    a, b, c = result.members
    assert [m.member for m in result.members] == ["a", "b", "c"]
    # baseline days: the two most recent working days before 18 June (the 18th and 19th are weekdays)
    assert a.baseline_days == {"weekday": (dt.date(2025, 6, 17), dt.date(2025, 6, 16))}
    assert a.baseline_basis == {"weekday": "same_day_type"}
    # a: baseline 1 kWh x 2 window hours x 2 days = 4; actual 3 x 2 x 2 = 12; response 8
    assert (a.baseline_kwh, a.actual_kwh, a.response_kwh) == (4.0, 12.0, 8.0)
    assert a.outside_change_kwh == 0.0
    # b: baseline (0.5 + 1.5) / 2 = 1 -> 4; actual 2 x 4 = 8; response 4;
    #    outside the window: 22 hours x 2 days x (0.5 - 1.0) = -22
    assert (b.baseline_kwh, b.actual_kwh, b.response_kwh) == (4.0, 8.0, 4.0)
    assert b.outside_change_kwh == -22.0
    # c: baseline 2 x 4 = 8; actual 1 x 4 = 4; response -4 -> no reward; outside 0
    assert (c.baseline_kwh, c.actual_kwh, c.response_kwh) == (8.0, 4.0, -4.0)
    # rewards: 1000 cents x 8/12 = 666.67 -> 666, x 4/12 = 333.33 -> 333; the cent left goes to the larger
    # remainder (a: .67) -> a 667, b 333, c 0
    assert [m.reward_cents for m in result.members] == [667, 333, 0]
    assert result.total_reward_cents == 1000
    assert result.responders == ["a", "b"]
    assert all(m.eligible and m.missing_hours == 0 for m in result.members)


def test_other_campaign_days_are_not_baseline_days(consumption: pd.DataFrame) -> None:
    # With 17 June excluded (another campaign), the baseline days of a are Mon 16 (1 kWh) and Fri 13 (50 kWh):
    # baseline = (1 + 50) / 2 = 25.5 per hour -> 102 in the 4 window hours; actual 12; response -90.
    result = measure_campaign(CAMPAIGN, consumption, exclude={dt.date(2025, 6, 17)})
    a = result.members[0]
    assert a.baseline_days == {"weekday": (dt.date(2025, 6, 16), dt.date(2025, 6, 13))}
    assert a.baseline_kwh == 102.0 and a.response_kwh == -90.0 and a.reward_cents == 0
    # b: (0.5 + 7) / 2 = 3.75 -> 15; actual 8; response -7. c: unchanged baseline 2 -> -4. Nobody responded.
    assert [m.reward_cents for m in result.members] == [0, 0, 0]
    assert result.total_reward_cents == 0


def test_missing_hours_are_left_out_and_counted(consumption: pd.DataFrame) -> None:
    # a's reading at 13:00 local on the 19th is missing: 3 window hours remain -> baseline 3, actual 9, response 6
    gap = pd.Timestamp("2025-06-19T13:00:00+02:00")
    consumption.loc[gap, "a"] = np.nan
    a = measure_campaign(CAMPAIGN, consumption).members[0]
    assert (a.baseline_kwh, a.actual_kwh, a.response_kwh, a.missing_hours) == (3.0, 9.0, 6.0, 1)


def test_a_member_without_history_gets_no_reward() -> None:
    # d has readings only from the campaign start: no baseline day, so its 3 kWh cannot count as a response.
    data = frame(
        dt.date(2025, 6, 16),
        dt.date(2025, 6, 19),
        {"a": member_a, "d": lambda d, h: 3.0 if d in CAMPAIGN_DAYS else np.nan},
    )
    result = measure_campaign(CAMPAIGN, data)
    a, d = result.members
    assert not d.eligible and d.baseline_basis == {"weekday": "none"}
    assert (a.reward_cents, d.reward_cents) == (1000, 0)


def test_ties_go_to_the_lower_member_id() -> None:
    # two responses of 5 kWh, budget 101 cents: 50.5 each -> 50 + 50, the cent left to "a"
    assert reward_split(101, {"b": 5.0, "a": 5.0}) == {"b": 50, "a": 51}
    assert reward_split(101, {"b": 5.0, "a": -5.0, "c": 0.0}) == {"b": 101, "a": 0, "c": 0}
    assert reward_split(500, {"a": -1.0, "b": 0.0}) == {"a": 0, "b": 0}


def test_dst_campaign_day_counts_the_repeated_hour_twice() -> None:
    # Campaign on Sunday 26 Oct 2025 (25 hours), window 02:00-03:00: local 02:00 occurs twice. Baseline: the
    # Sundays 19 and 12 Oct, 1 kWh per hour -> baseline 2 x 1 = 2 kWh; actual 4 kWh in each 02:00 -> 8; response 6.
    campaign = Campaign(dt.date(2025, 10, 26), dt.date(2025, 10, 26), 2, 3, 100, baseline_days=2)
    data = frame(
        dt.date(2025, 10, 6),
        dt.date(2025, 10, 26),
        {"a": lambda d, h: 4.0 if d.day == 26 and h == 2 else 1.0},
    )
    a = measure_campaign(campaign, data).members[0]
    assert a.baseline_days == {"sunday_or_holiday": (dt.date(2025, 10, 19), dt.date(2025, 10, 12))}
    assert (a.baseline_kwh, a.actual_kwh, a.response_kwh, a.reward_cents) == (2.0, 8.0, 6.0, 100)


def test_campaign_validation() -> None:
    assert CAMPAIGN.baseline_params == {"method": BASELINE_METHOD, "days": 2}
    assert CAMPAIGN.days() == sorted(CAMPAIGN_DAYS)
    assert CAMPAIGN.history_start() == dt.date(2025, 6, 18) - dt.timedelta(days=7 * 2 + 14)
    with pytest.raises(ValueError, match="finestra"):
        Campaign(dt.date(2025, 6, 18), dt.date(2025, 6, 19), 14, 14, 100)
    with pytest.raises(ValueError, match="finestra"):
        Campaign(dt.date(2025, 6, 18), dt.date(2025, 6, 19), 10, 25, 100)
    with pytest.raises(ValueError, match="prima dell'inizio"):
        Campaign(dt.date(2025, 6, 19), dt.date(2025, 6, 18), 10, 12, 100)
    with pytest.raises(ValueError, match="budget"):
        Campaign(dt.date(2025, 6, 18), dt.date(2025, 6, 19), 10, 12, -1)


def test_consumption_by_member_sums_the_pods_of_each_member() -> None:
    # m1 has two PODs (quarter-hours), m2 one; two hours from 10:00 UTC. POD 1: 0.25 kWh per quarter-hour in the
    # first hour and nothing in the second; POD 2: 0.1 per quarter-hour in both. m2's POD has no reading at all.
    start = pd.Timestamp("2025-06-18T10:00Z")
    withdrawn = np.array([[0.25, 0.1]] * 4 + [[np.nan, 0.1]] * 4)
    raw = readings_from_arrays(
        ["IT001E00000001", "IT001E00000002"], start, withdrawn, withdrawn * 0, interval_minutes=15
    )
    readings = Readings(frame=raw.frame.dropna().reset_index(drop=True), interval_minutes=raw.interval_minutes)
    mapping = {"IT001E00000001": "m1", "IT001E00000002": "m1", "IT001E00000003": "m2"}
    out = consumption_by_member(readings, mapping)
    assert list(out.columns) == ["m1", "m2"]
    assert list(out.index) == [start, start + pd.Timedelta(hours=1)]
    assert out["m1"].tolist() == pytest.approx([4 * 0.25 + 4 * 0.1, 4 * 0.1])
    assert out["m2"].isna().all()
    wide = consumption_by_member(
        readings, mapping, start=start - pd.Timedelta(hours=1), end=start + pd.Timedelta(hours=3)
    )
    assert len(wide) == 4 and np.isnan(wide["m1"].iloc[0]) and np.isnan(wide["m1"].iloc[3])


# Properties of the reward ------------------------------------------------------------------------------------------

responses = st.dictionaries(
    st.text(alphabet="abcdefgh", min_size=1, max_size=3),
    st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(budget=st.integers(min_value=0, max_value=10**7), resp=responses)
def test_rewards_are_non_negative_and_add_up_to_the_budget(budget: int, resp: dict[str, float]) -> None:
    rewards = reward_split(budget, resp)
    assert set(rewards) == set(resp)
    assert all(r >= 0 for r in rewards.values())
    assert all(rewards[m] == 0 for m, r in resp.items() if r <= 0)
    if any(r > 0 for r in resp.values()):
        assert sum(rewards.values()) == budget
    else:
        assert sum(rewards.values()) == 0


@settings(max_examples=200, deadline=None)
@given(budget=st.integers(min_value=0, max_value=10**7), resp=responses, power=st.integers(min_value=-20, max_value=20))
def test_scaling_all_responses_does_not_change_rewards(budget: int, resp: dict[str, float], power: int) -> None:
    # a power of two scales every float exactly, so the proportions are exactly the same
    factor = 2.0**power
    scaled = {m: r * factor for m, r in resp.items() if r * factor == 0 or abs(r * factor) > 1e-300}
    if len(scaled) == len(resp):
        assert reward_split(budget, scaled) == reward_split(budget, resp)


@settings(max_examples=100, deadline=None)
@given(
    budget=st.integers(min_value=0, max_value=10**6),
    resp=st.dictionaries(st.sampled_from("abcdef"), st.integers(min_value=-1000, max_value=1000), min_size=1),
    factor=st.integers(min_value=1, max_value=1000),
)
def test_integer_scaling_of_integer_responses(budget: int, resp: dict[str, int], factor: int) -> None:
    base = {m: float(r) for m, r in resp.items()}
    assert reward_split(budget, {m: r * factor for m, r in base.items()}) == reward_split(budget, base)


def shifted(extra: float, window: tuple[int, int]) -> Callable[[dt.date, int], float]:
    """1 kWh per hour, 1 + ``extra`` in the window hours of the campaign days."""

    def value(d: dt.date, h: int) -> float:
        return 1.0 + extra if d in CAMPAIGN_DAYS and window[0] <= h < window[1] else 1.0

    return value


@settings(max_examples=30, deadline=None)
@given(
    window=st.tuples(st.integers(0, 23), st.integers(1, 24)).filter(lambda w: w[0] < w[1]),
    extra=st.lists(st.floats(min_value=0.0, max_value=5.0), min_size=3, max_size=3),
    budget=st.integers(0, 100_000),
)
def test_measured_rewards_obey_the_budget(window: tuple[int, int], extra: list[float], budget: int) -> None:
    # members consume 1 kWh per hour before, and 1 + extra in the window during the campaign
    campaign = Campaign(dt.date(2025, 6, 18), dt.date(2025, 6, 19), window[0], window[1], budget, baseline_days=2)
    members = {m: shifted(x, window) for m, x in zip("abc", extra, strict=True)}
    result = measure_campaign(campaign, frame(dt.date(2025, 6, 9), dt.date(2025, 6, 19), members))
    hours = 2 * (window[1] - window[0])
    for m, x in zip(result.members, extra, strict=True):
        assert m.response_kwh == pytest.approx(hours * x, abs=1e-6)
        assert m.reward_cents >= 0
    positive = any(m.response_kwh > 0 for m in result.members)
    assert result.total_reward_cents == (budget if positive else 0)
