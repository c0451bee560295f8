"""Next-day forecasts: similar-days consumption on hand-made histories, clear-sky production and its ratio."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import pvlib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.operations.forecast import (
    BASIS_ALL_DAYS,
    BASIS_NONE,
    BASIS_SAME_DAY_TYPE,
    METHOD_CLEAR_SKY,
    METHOD_SIMILAR_DAYS,
    METHOD_WEATHER,
    RATIO_MAX,
    REGION_CAPITALS,
    Site,
    clear_sky_kwh,
    day_hours,
    forecast_consumption,
    forecast_production,
    forecast_recent_mean,
    performance_ratio,
    recent_performance_ratio,
)

TURIN = Site(45.070, 7.687, 240.0)


def history(first: dt.date, last: dt.date, value: Callable[[dt.date, int], float]) -> pd.Series:
    """Hourly series over local days ``first``..``last`` with ``value(local day, local hour)`` [kWh]."""
    parts = []
    day = first
    while day <= last:
        hours = day_hours(day)
        local = hours.tz_convert(LOCAL_TZ)
        parts.append(pd.Series([value(day, h) for h in local.hour], index=hours))
        day += dt.timedelta(days=1)
    return pd.concat(parts)


def local_hours(index: pd.Index) -> list[int]:
    return list(pd.DatetimeIndex(index).tz_convert(LOCAL_TZ).hour)


# Consumption ----------------------------------------------------------------------------------------------------


def test_weekday_is_the_mean_of_the_four_most_recent_weekdays() -> None:
    # History 4..17 June 2025, value = day of month * 100 + local hour. Target Wednesday 18 June: the four most
    # recent working days are Tue 17, Mon 16, Fri 13, Thu 12 (Sat 14 and Sun 15 are another type):
    # mean of the day part = (17 + 16 + 13 + 12) / 4 * 100 = 1450, so hour h -> 1450 + h.
    hist = history(dt.date(2025, 6, 4), dt.date(2025, 6, 17), lambda d, h: d.day * 100 + h)
    f = forecast_consumption(hist, dt.date(2025, 6, 18))
    assert f.method == METHOD_SIMILAR_DAYS
    assert f.day_type == "weekday" and f.basis == BASIS_SAME_DAY_TYPE
    assert f.days == (dt.date(2025, 6, 17), dt.date(2025, 6, 16), dt.date(2025, 6, 13), dt.date(2025, 6, 12))
    assert f.days_used == 4
    assert len(f.kwh) == 24
    assert list(f.kwh) == [1450.0 + h for h in range(24)]
    assert f.kwh.index.equals(day_hours(dt.date(2025, 6, 18)))


def test_fewer_days_of_the_same_type_are_used_when_there_are_not_k() -> None:
    # Saturdays in 4..20 June: 7 and 14 only -> (7 + 14) / 2 * 100 = 1050.
    hist = history(dt.date(2025, 6, 4), dt.date(2025, 6, 20), lambda d, h: d.day * 100 + h)
    f = forecast_consumption(hist, dt.date(2025, 6, 21))
    assert f.day_type == "saturday" and f.basis == BASIS_SAME_DAY_TYPE
    assert f.days == (dt.date(2025, 6, 14), dt.date(2025, 6, 7))
    assert list(f.kwh) == [1050.0 + h for h in range(24)]


def test_holidays_count_as_sundays() -> None:
    # Monday 2 June 2025 is Festa della Repubblica: a "sunday_or_holiday". History 19 May .. 1 June,
    # value = 1 on Sundays (25 May, 1 June), 9 on the other days: the forecast is 1 every hour.
    hist = history(dt.date(2025, 5, 19), dt.date(2025, 6, 1), lambda d, h: 1.0 if d.weekday() == 6 else 9.0)
    f = forecast_consumption(hist, dt.date(2025, 6, 2))
    assert f.day_type == "sunday_or_holiday"
    assert f.days == (dt.date(2025, 6, 1), dt.date(2025, 5, 25))
    assert list(f.kwh) == [1.0] * 24


def test_all_past_days_when_none_has_the_same_type() -> None:
    # Only Mon 9 .. Fri 13 June in the history; target Saturday 14: all five days, (9+10+11+12+13)/5 = 11.
    hist = history(dt.date(2025, 6, 9), dt.date(2025, 6, 13), lambda d, h: d.day * 100 + h)
    f = forecast_consumption(hist, dt.date(2025, 6, 14))
    assert f.basis == BASIS_ALL_DAYS and f.days_used == 5
    assert list(f.kwh) == [1100.0 + h for h in range(24)]


def test_no_history_gives_zeros_and_says_so() -> None:
    empty = pd.Series([], index=pd.DatetimeIndex([], tz="UTC"), dtype=float)
    f = forecast_consumption(empty, dt.date(2025, 6, 14))
    assert f.basis == BASIS_NONE and f.days_used == 0
    assert list(f.kwh) == [0.0] * 24


def test_future_values_are_ignored_and_missing_hours_left_out() -> None:
    # Weekdays 16, 17 June with 2.0 and 4.0 at every hour, except hour 10 of the 17th which is missing (NaN):
    # hour 10 -> 2.0 (only the 16th), other hours (2 + 4) / 2 = 3. The target day itself (18) and later must not
    # count, even with huge values.
    hist = history(dt.date(2025, 6, 16), dt.date(2025, 6, 19), lambda d, h: {16: 2.0, 17: 4.0}.get(d.day, 1e6))
    local = hist.index.tz_convert(LOCAL_TZ)
    hist[(local.day == 17) & (local.hour == 10)] = np.nan
    f = forecast_consumption(hist, dt.date(2025, 6, 18), k=4)
    assert f.days == (dt.date(2025, 6, 17), dt.date(2025, 6, 16))
    expected = [2.0 if h == 10 else 3.0 for h in range(24)]
    assert list(f.kwh) == expected


def test_25_hour_target_day_repeats_the_mean_of_the_local_hour() -> None:
    # Sunday 26 October 2025 has 25 hours (02:00 twice). Sundays before it: 19, 12, 5 Oct, 28 Sep;
    # value = day of month + hour -> mean of the day part (19 + 12 + 5 + 28) / 4 = 16.
    hist = history(dt.date(2025, 9, 22), dt.date(2025, 10, 25), lambda d, h: d.day + h)
    f = forecast_consumption(hist, dt.date(2025, 10, 26))
    assert len(f.kwh) == 25
    assert local_hours(f.kwh.index) == [0, 1, 2, 2, *range(3, 24)]
    assert list(f.kwh) == [16.0 + h for h in local_hours(f.kwh.index)]


def test_23_hour_target_day_skips_the_missing_hour() -> None:
    # Sunday 30 March 2025 has 23 hours (no 02:00). Sundays before: 23, 16, 9, 2 March -> mean 12.5.
    hist = history(dt.date(2025, 2, 24), dt.date(2025, 3, 29), lambda d, h: d.day + h)
    f = forecast_consumption(hist, dt.date(2025, 3, 30))
    assert len(f.kwh) == 23
    assert 2 not in local_hours(f.kwh.index)
    assert list(f.kwh) == [12.5 + h for h in local_hours(f.kwh.index)]


def test_dst_days_in_the_history_are_matched_by_local_hour() -> None:
    # Target Sunday 9 Nov 2025, k = 3: the similar days are Sun 2 Nov, Sat 1 Nov (Ognissanti, a holiday) and
    # Sun 26 Oct (25 hours). On 26 Oct the two 02:00 hours hold 10 and 20 -> 15 for that day; the other days
    # hold 3 at 02:00 -> (3 + 3 + 15) / 3 = 7. Every other hour is 1 everywhere.
    hist = history(dt.date(2025, 10, 20), dt.date(2025, 11, 8), lambda d, h: 3.0 if h == 2 else 1.0)
    first_two = pd.Timestamp("2025-10-26T02:00:00+02:00")
    second_two = pd.Timestamp("2025-10-26T02:00:00+01:00")
    hist[first_two] = 10.0
    hist[second_two] = 20.0
    f = forecast_consumption(hist, dt.date(2025, 11, 9), k=3)
    assert f.days == (dt.date(2025, 11, 2), dt.date(2025, 11, 1), dt.date(2025, 10, 26))
    assert [v for v, h in zip(f.kwh, local_hours(f.kwh.index), strict=True) if h == 2] == [7.0]
    assert sorted(set(v for v, h in zip(f.kwh, local_hours(f.kwh.index), strict=True) if h != 2)) == [1.0]
    # A 23-hour day among the similar days has no 02:00: that hour is the mean of the others.
    # Target Sunday 6 April 2025, k = 2: Sun 30 March (no 02:00) and Sun 23 March (02:00 = 5).
    hist = history(dt.date(2025, 3, 17), dt.date(2025, 4, 5), lambda d, h: 5.0 if h == 2 else 1.0)
    f = forecast_consumption(hist, dt.date(2025, 4, 6), k=2)
    assert f.days == (dt.date(2025, 3, 30), dt.date(2025, 3, 23))
    assert [v for v, h in zip(f.kwh, local_hours(f.kwh.index), strict=True) if h == 2] == [5.0]


@settings(max_examples=40, deadline=None)
@given(
    level=st.floats(min_value=0.0, max_value=1e4, allow_nan=False),
    day=st.dates(min_value=dt.date(2024, 1, 15), max_value=dt.date(2026, 12, 31)),
)
def test_a_constant_history_forecasts_the_constant(level: float, day: dt.date) -> None:
    hist = history(day - dt.timedelta(days=14), day - dt.timedelta(days=1), lambda d, h: level)
    f = forecast_consumption(hist, day)
    assert len(f.kwh) == len(day_hours(day))
    assert np.allclose(f.kwh.to_numpy(), level, rtol=1e-12)


def test_recent_mean_uses_the_last_days_of_any_type() -> None:
    # Days 10..17 June with value = day: last 3 days before 18 June are 17, 16, 15 -> mean 16.
    hist = history(dt.date(2025, 6, 10), dt.date(2025, 6, 17), lambda d, h: float(d.day))
    f = forecast_recent_mean(hist, dt.date(2025, 6, 18), days=3)
    assert f.days == (dt.date(2025, 6, 17), dt.date(2025, 6, 16), dt.date(2025, 6, 15))
    assert list(f.kwh) == [16.0] * 24


# Production -----------------------------------------------------------------------------------------------------


def test_clear_sky_is_zero_at_night_and_positive_at_noon_in_june_at_turin() -> None:
    f = forecast_production(dt.date(2025, 6, 21), 100.0, TURIN)
    assert f.method == METHOD_CLEAR_SKY and f.ratio == 1.0 and f.history_hours == 0
    by_local = dict(zip(local_hours(f.kwh.index), f.kwh, strict=True))
    for night in (0, 1, 2, 3, 22, 23):
        assert by_local[night] == 0.0
    assert by_local[13] > 50.0  # a clear June noon: well over half of 100 kW
    assert all(v <= 100.0 for v in f.kwh)  # never above the plant's power over an hour
    assert REGION_CAPITALS["Piemonte"] == TURIN


def test_performance_ratio_by_hand() -> None:
    idx = pd.date_range("2025-06-01", periods=4, freq="h", tz="UTC")
    measured = pd.Series([1.0, 2.0, np.nan, 0.0], index=idx)
    expected = pd.Series([2.0, 2.0, 4.0, 0.0], index=idx)
    assert performance_ratio(measured, expected) == (1.0 + 2.0) / (2.0 + 2.0)  # the NaN hour counts in neither
    assert performance_ratio(measured * 10, expected) == RATIO_MAX  # clamped
    assert performance_ratio(measured, expected * 0) == 1.0  # nothing expected


@pytest.mark.parametrize("factor", [0.0, 0.35, 0.8, 1.0])
def test_clear_sky_is_scaled_by_the_recent_ratio(factor: float) -> None:
    day = dt.date(2025, 6, 21)
    past = pd.date_range(pd.Timestamp("2025-06-01", tz=LOCAL_TZ), pd.Timestamp(day, tz=LOCAL_TZ), freq="h")
    past = past[:-1].tz_convert("UTC")
    measured = clear_sky_kwh(past, 50.0, TURIN) * factor
    f = forecast_production(day, 50.0, TURIN, history_kwh=measured, ratio_days=7)
    assert f.ratio == pytest.approx(factor, abs=1e-12)
    assert f.history_hours == 7 * 24
    assert np.allclose(f.kwh.to_numpy(), factor * clear_sky_kwh(day_hours(day), 50.0, TURIN).to_numpy(), atol=1e-12)


def test_ratio_only_looks_at_the_last_days_and_is_clamped() -> None:
    day = dt.date(2025, 6, 21)
    window = day_hours(dt.date(2025, 6, 20))  # the last day
    older = day_hours(dt.date(2025, 6, 10))
    clear = clear_sky_kwh(window, 10.0, TURIN)
    measured = pd.concat([clear_sky_kwh(older, 10.0, TURIN) * 0.1, clear * 0.5])
    ratio, hours = recent_performance_ratio(measured, day, 10.0, TURIN, days=3)
    assert (ratio, hours) == (pytest.approx(0.5), 24)  # 10 June is outside the 3 days
    ratio, _ = recent_performance_ratio(clear * 3, day, 10.0, TURIN, days=3)
    assert ratio == RATIO_MAX


def test_weather_forecast_drives_the_model() -> None:
    day = dt.date(2025, 6, 21)
    hours = day_hours(day)
    location = pvlib.location.Location(TURIN.latitude, TURIN.longitude, tz="UTC", altitude=TURIN.altitude_m)
    sky = location.get_clearsky(hours + pd.Timedelta(minutes=30), model="ineichen")
    weather = pd.DataFrame({"ghi": sky["ghi"].to_numpy(), "temp_air": 20.0}, index=hours)
    f = forecast_production(day, 10.0, TURIN, weather=weather)
    assert f.method == METHOD_WEATHER and f.ratio is None
    clear = clear_sky_kwh(hours, 10.0, TURIN)
    # the clear-sky GHI split by Erbs gives about the clear-sky energy of the day
    assert float(f.kwh.sum()) == pytest.approx(float(clear.sum()), rel=0.1)
    dark = forecast_production(day, 10.0, TURIN, weather=weather.assign(ghi=0.0))
    assert float(dark.kwh.abs().sum()) == 0.0
    half = forecast_production(day, 10.0, TURIN, weather=weather.assign(ghi=weather["ghi"] / 2))
    assert float(half.kwh.sum()) < float(f.kwh.sum())
    with pytest.raises(ValueError, match="mancano 1 ore"):
        forecast_production(day, 10.0, TURIN, weather=weather.iloc[1:])
    with pytest.raises(ValueError, match="temp_air"):
        forecast_production(day, 10.0, TURIN, weather=weather[["ghi"]])


@pytest.mark.parametrize(("day", "n"), [(dt.date(2025, 10, 26), 25), (dt.date(2025, 3, 30), 23)])
def test_production_on_dst_days(day: dt.date, n: int) -> None:
    f = forecast_production(day, 10.0, TURIN)
    assert len(f.kwh) == n
    assert f.kwh.index.equals(day_hours(day))
    assert float(f.kwh.sum()) > 0


def test_bad_inputs_are_refused_in_italian() -> None:
    with pytest.raises(ValueError, match="potenza"):
        forecast_production(dt.date(2025, 6, 21), 0.0, TURIN)
    with pytest.raises(ValueError, match="latitudine"):
        Site(95.0, 7.0)
