"""Degree days on hand-computed days, DST days included, and their properties."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.energy_management.degree_days import (
    LOCAL_TZ,
    climate_zone,
    cooling_degree_days,
    daily_mean_temperature,
    degree_days_by_period,
    heating_degree_days,
    in_heating_season,
    period_starts,
)


def hourly_local(day_values: dict[str, list[float]]) -> pd.Series:
    """Hourly temperatures in UTC from the list of values of each local day (23, 24 or 25 of them)."""
    stamps: list[pd.Timestamp] = []
    values: list[float] = []
    for day, vals in day_values.items():
        start = pd.Timestamp(day).tz_localize(LOCAL_TZ).tz_convert("UTC")
        end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(LOCAL_TZ).tz_convert("UTC")
        hours = pd.date_range(start, end, freq="h", inclusive="left")
        assert len(hours) == len(vals), (day, len(hours))
        stamps.extend(hours)
        values.extend(vals)
    return pd.Series(values, index=pd.DatetimeIndex(stamps))


# A week around the spring DST change (Sunday 30 March 2025 has 23 hours), by hand:
#   day        mean   HDD DPR (20-Tm)   HDD Eurostat (18-Tm if Tm<=15)   CDD Eurostat (Tm-21 if Tm>=24)
#   Thu 27      8          12                 10                                0
#   Fri 28     10          10                  8                                0
#   Sat 29     12           8                  6                                0
#   Sun 30     11           9                  7                                0   (22 h at 10 °C, 1 h at 33 °C)
#   Mon 31     25           0                  0                                4
#   Tue 01     16           4                  0                                0
#   Wed 02     19.5         0.5                0                                0
#   total                  43.5               31                                4
SPRING_WEEK = {
    "2025-03-27": [8.0] * 24,
    "2025-03-28": [6.0, 14.0] * 12,
    "2025-03-29": [12.0] * 24,
    "2025-03-30": [10.0] * 22 + [33.0],
    "2025-03-31": [25.0] * 24,
    "2025-04-01": [16.0] * 24,
    "2025-04-02": [19.5] * 24,
}


def test_hand_computed_week_with_dst_day() -> None:
    temp = hourly_local(SPRING_WEEK)
    tm = daily_mean_temperature(temp)
    assert list(tm.index) == list(pd.date_range("2025-03-27", "2025-04-02", freq="D", tz=LOCAL_TZ))
    assert tm.to_numpy() == pytest.approx([8, 10, 12, 11, 25, 16, 19.5])
    hdd = heating_degree_days(temp)
    assert hdd.to_numpy() == pytest.approx([12, 10, 8, 9, 0, 4, 0.5])
    assert hdd.sum() == pytest.approx(43.5)
    eu = heating_degree_days(temp, convention="eurostat")
    assert eu.to_numpy() == pytest.approx([10, 8, 6, 7, 0, 0, 0])
    cdd = cooling_degree_days(temp)
    assert cdd.to_numpy() == pytest.approx([0, 0, 0, 0, 4, 0, 0])
    # Plain CDD, base 18 and no separate threshold: max(0, Tm - 18).
    assert cooling_degree_days(temp, base=18.0, threshold=None).to_numpy() == pytest.approx([0, 0, 0, 0, 7, 0, 1.5])
    # DPR base with a lower threshold: only days at or below 12 °C count, still from 20 °C.
    assert heating_degree_days(temp, threshold=12.0).to_numpy() == pytest.approx([12, 10, 8, 9, 0, 0, 0])


def test_autumn_dst_day_has_25_hours_and_is_complete() -> None:
    temp = hourly_local({"2025-10-26": [5.0] * 24 + [30.0], "2025-10-27": [10.0] * 24})
    tm = daily_mean_temperature(temp)
    assert tm.to_numpy() == pytest.approx([(5 * 24 + 30) / 25, 10.0])
    minmax = daily_mean_temperature(temp, method="minmax")
    assert minmax.to_numpy() == pytest.approx([17.5, 10.0])


def test_incomplete_days_are_missing_not_filled() -> None:
    temp = hourly_local({"2025-03-30": [10.0] * 23, "2025-03-31": [10.0] * 24})
    temp = temp.drop(temp.index[30:40])  # 10 of the 24 hours of 31 March
    tm = daily_mean_temperature(temp)
    assert tm.iloc[0] == pytest.approx(10.0)  # the 23-hour day is whole
    assert np.isnan(tm.iloc[1])
    assert daily_mean_temperature(temp, min_coverage=0.5).iloc[1] == pytest.approx(10.0)
    assert np.isnan(heating_degree_days(temp).iloc[1])


def test_daily_input_across_dst_and_timezones() -> None:
    days = pd.date_range("2025-03-28", "2025-04-01", freq="D", tz=LOCAL_TZ)
    daily = pd.Series([10.0, 12.0, 14.0, 16.0, 18.0], index=days)
    hdd = heating_degree_days(daily)
    assert hdd.to_numpy() == pytest.approx([10, 8, 6, 4, 2])
    # The same days given in UTC are the same local days.
    assert heating_degree_days(daily.tz_convert("UTC")).to_numpy() == pytest.approx([10, 8, 6, 4, 2])


def test_naive_index_is_refused() -> None:
    naive = pd.Series([1.0, 2.0], index=pd.date_range("2025-01-01", periods=2, freq="h"))
    with pytest.raises(ValueError, match="fuso"):
        daily_mean_temperature(naive)


def test_by_period_month_week_and_missing_days() -> None:
    days = pd.date_range("2025-01-01", "2025-03-31", freq="D", tz=LOCAL_TZ)  # Q1, with the DST change in March
    daily = pd.Series(10.0, index=days)
    monthly = degree_days_by_period(daily, "month")
    assert list(monthly.index) == list(pd.date_range("2025-01-01", periods=3, freq="MS", tz=LOCAL_TZ))
    assert monthly.to_numpy() == pytest.approx([310.0, 280.0, 310.0])
    weekly = degree_days_by_period(daily, "week")
    assert weekly.index[1] == pd.Timestamp("2025-01-06", tz=LOCAL_TZ)  # a Monday
    assert np.isnan(weekly.iloc[0])  # 1-5 January: the week started before the data
    assert weekly.iloc[1] == pytest.approx(70.0)
    holed = daily.copy()
    holed.iloc[40] = np.nan
    assert np.isnan(degree_days_by_period(holed, "month").iloc[1])
    assert degree_days_by_period(holed, "month", max_missing_days=1).iloc[1] == pytest.approx(270.0)


def test_period_starts_local_midnights() -> None:
    idx = pd.DatetimeIndex(["2025-03-30T22:30Z", "2025-10-25T22:30Z"])  # local 31 March 00:30, 26 Oct 00:30
    assert list(period_starts(idx, "day")) == [
        pd.Timestamp("2025-03-31", tz=LOCAL_TZ),
        pd.Timestamp("2025-10-26", tz=LOCAL_TZ),
    ]
    assert list(period_starts(idx, "month")) == [
        pd.Timestamp("2025-03-01", tz=LOCAL_TZ),
        pd.Timestamp("2025-10-01", tz=LOCAL_TZ),
    ]


def test_climate_zones_and_heating_seasons() -> None:
    assert climate_zone(2617) == "E"  # Torino
    assert climate_zone(1415) == "D"  # Roma
    assert climate_zone(751) == "B"  # Palermo
    assert climate_zone(600) == "A"
    assert climate_zone(3001) == "F"
    assert in_heating_season(dt.date(2025, 10, 15), "E")
    assert not in_heating_season(dt.date(2025, 10, 14), "E")
    assert in_heating_season(dt.date(2025, 4, 15), "E")
    assert not in_heating_season(dt.date(2025, 4, 16), "E")
    assert in_heating_season(dt.date(2025, 7, 1), "F")
    days = pd.date_range("2025-10-13", "2025-10-16", freq="D", tz=LOCAL_TZ)
    hdd = heating_degree_days(pd.Series(10.0, index=days), zone="E")
    assert hdd.to_numpy() == pytest.approx([0, 0, 10, 10])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-15.0, 40.0, allow_nan=False), min_size=1, max_size=40), st.floats(10.0, 24.0))
def test_hdd_minus_cdd_is_base_minus_mean(temps: list[float], base: float) -> None:
    days = pd.date_range("2025-01-01", periods=len(temps), freq="D", tz=LOCAL_TZ)
    daily = pd.Series(temps, index=days)
    hdd = heating_degree_days(daily, base=base)
    cdd = cooling_degree_days(daily, base=base, threshold=None)
    assert (hdd >= 0).all() and (cdd >= 0).all()
    assert (hdd - cdd).to_numpy() == pytest.approx(base - np.asarray(temps), abs=1e-9)
    eu = heating_degree_days(daily, convention="eurostat")
    assert (eu <= heating_degree_days(daily, base=18.0)).all()
