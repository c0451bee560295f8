"""Monitoring: snapshot, daily statistics, load curves and the four alarm detectors on hand-made readings."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pvlib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.ingest.readings import Readings
from condivisa.model import Community
from condivisa.operations.monitoring import (
    ALARM_KIND_LABELS,
    ALARM_KINDS,
    SEVERITIES,
    AlarmThresholds,
    current_snapshot,
    daily_statistics,
    detect_abnormal_consumption,
    detect_alarms,
    detect_missing_data,
    detect_plant_underperformance,
    detect_sharing_below_target,
    expected_pv_kwh,
    hour_snapshot,
    latest_hour,
    load_curve,
    member_load_curve,
    robust_z,
)
from condivisa.store import models
from tests.helpers import community, member, plant, pod

P1, P2, P3, PV = pod(1), pod(2), pod(3), pod(9)
H = pd.Timedelta(hours=1)


def utc(text: str) -> pd.Timestamp:
    """A local (Italian) wall time given as ISO text with offset, in UTC."""
    return pd.Timestamp(text).tz_convert("UTC")


def frame(rows: dict[str, tuple[np.ndarray, np.ndarray]], start: pd.Timestamp, minutes: int = 60) -> pd.DataFrame:
    """Readings frame: for each POD (withdrawn, injected) arrays of consecutive intervals from ``start`` (UTC)."""
    parts = []
    for p, (w, i) in rows.items():
        n = len(w)
        parts.append(
            pd.DataFrame(
                {
                    "pod": p,
                    "timestamp": pd.date_range(start, periods=n, freq=f"{minutes}min", tz="UTC"),
                    "withdrawn_kwh": np.asarray(w, dtype=float),
                    "injected_kwh": np.asarray(i, dtype=float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def as_readings(f: pd.DataFrame, minutes: int = 60) -> Readings:
    return Readings(frame=f.reset_index(drop=True), interval_minutes=dict.fromkeys(f["pod"].unique(), minutes))


def cer(power: float = 10.0, cabina2: str = "AC001E00001", **extra: object) -> Community:
    """m1 (P1) and m2 (P2, in ``cabina2``) consume; plant p1 at PV (owned by m1) produces."""
    return community(
        [member("m1", [1]), member("m2", [2], cabina=cabina2)],
        [plant("p1", "m1", 9, power=power, date="2024-05-01")],
        **extra,
    )


# Snapshot ---------------------------------------------------------------------------------------------------------


def test_snapshot_sums_and_minimum_of_the_hour() -> None:
    start = utc("2025-06-01T12:00+02:00")
    f = frame({P1: ([2.0, 1.0], [0, 0]), P2: ([3.0, 4.0], [0, 0]), PV: ([0, 0], [4.0, 10.0])}, start)
    c = cer()
    first = hour_snapshot(f, c, start + pd.Timedelta(minutes=35))  # any instant of the hour
    assert first.hour == start and first.local_hour.hour == 12
    assert (first.consumption_kwh, first.production_kwh, first.shared_kwh) == (5.0, 4.0, 4.0)
    assert first.shared_share == 1.0 and first.completeness == 1.0 and first.missing_pods == ()
    second = current_snapshot(as_readings(f), c)
    assert second is not None and second.hour == start + H
    assert (second.consumption_kwh, second.production_kwh, second.shared_kwh) == (5.0, 10.0, 5.0)
    assert second.shared_share == 0.5
    assert latest_hour(f, c, now=start + H) == start
    assert latest_hour(f, c, now=start) is None


def test_snapshot_incentivised_is_per_cabina_and_completeness_counts_pods() -> None:
    start = utc("2025-06-01T12:00+02:00")
    f = frame({P1: ([2.0], [0]), P2: ([3.0], [0]), PV: ([0], [10.0])}, start)
    c = cer(cabina2="AC001E00002")  # m2 alone in another cabina: shares, but earns no TIP
    s = hour_snapshot(f, c, start)
    assert s.shared_kwh == 5.0  # min(2 + 3, 10)
    assert s.incentivised_kwh == 2.0  # min(2, 10) in the plant's cabina + min(3, 0) in the other
    partial = hour_snapshot(f[f["pod"] != P2], c, start)
    assert (partial.pods_expected, partial.pods_with_data, partial.missing_pods) == (3, 2, (P2,))
    assert partial.completeness == pytest.approx(2 / 3)


def test_snapshot_quarter_hours_need_all_four() -> None:
    start = utc("2025-06-01T12:00+02:00")
    f = frame({P1: ([0.5] * 3, [0] * 3), P2: ([0.25] * 4, [0] * 4), PV: ([0] * 4, [1.0] * 4)}, start, minutes=15)
    s = hour_snapshot(as_readings(f, 15), cer(), start)
    assert s.consumption_kwh == pytest.approx(1.5 + 1.0)
    assert s.missing_pods == (P1,)
    inferred = hour_snapshot(f, cer(), start)  # bare frame: resolution inferred from the steps
    assert inferred.missing_pods == (P1,)


def test_plant_is_not_expected_before_commissioning() -> None:
    c = community([member("m1", [1])], [plant("p1", "m1", 9, date="2025-07-01")])
    start = utc("2025-06-01T12:00+02:00")
    s = hour_snapshot(frame({P1: ([1.0], [0])}, start), c, start)
    assert (s.pods_expected, s.pods_with_data) == (1, 1)


# Daily statistics -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "hours"),
    [(dt.date(2025, 3, 29), [24, 23, 24]), (dt.date(2025, 10, 25), [24, 25, 24])],
)
def test_daily_statistics_on_dst_days(first: dt.date, hours: list[int]) -> None:
    start = pd.Timestamp(first).tz_localize(LOCAL_TZ).tz_convert("UTC")
    n = sum(hours)
    local = pd.date_range(start, periods=n, freq="h").tz_convert(LOCAL_TZ)
    consumption = np.where(local.hour == 19, 5.0, 2.0)  # evening peak
    production = np.where((local.hour >= 10) & (local.hour < 16), 3.0, 0.0)
    f = frame({P1: (consumption, np.zeros(n)), PV: (np.zeros(n), production)}, start)
    c = community([member("m1", [1])], [plant("p1", "m1", 9)])
    d = daily_statistics(f, c)
    assert list(d.index) == [first + dt.timedelta(days=k) for k in range(3)]
    assert d["hours"].tolist() == hours
    middle = d.iloc[1]
    assert middle["consumption_kwh"] == pytest.approx(2.0 * (hours[1] - 1) + 5.0)
    assert middle["production_kwh"] == pytest.approx(18.0)
    assert middle["shared_kwh"] == pytest.approx(6 * 2.0)  # min(2, 3) in the six sunny hours
    assert middle["self_sufficiency"] == pytest.approx(12.0 / middle["consumption_kwh"])
    assert middle["self_consumption"] == pytest.approx(12.0 / 18.0)
    assert middle["peak_consumption_kwh"] == 5.0
    assert middle["peak_consumption_hour"].hour == 19
    assert middle["peak_production_hour"].hour == 10  # the first of equal hours
    assert (d["completeness"] == 1.0).all()


def test_daily_statistics_missing_pod_lowers_completeness_and_empty_ratios_are_nan() -> None:
    start = pd.Timestamp("2025-06-02").tz_localize(LOCAL_TZ).tz_convert("UTC")
    f = frame({P1: (np.ones(24), np.zeros(24))}, start)
    d = daily_statistics(f, cer())
    assert d["completeness"].iloc[0] == pytest.approx(24 / (3 * 24))
    assert np.isnan(d["self_consumption"].iloc[0])  # no production
    assert d["self_sufficiency"].iloc[0] == 0.0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    w=arrays(np.float64, (50, 2), elements=st.floats(0, 20, allow_nan=False)),
    i=arrays(np.float64, (50,), elements=st.floats(0, 30, allow_nan=False)),
    offset=st.integers(0, 23),
)
def test_daily_statistics_invariants(w: np.ndarray, i: np.ndarray, offset: int) -> None:
    start = pd.Timestamp("2025-10-25T00:00+02:00").tz_convert("UTC") + offset * H  # spans the DST change
    f = frame({P1: (w[:, 0], np.zeros(50)), P2: (w[:, 1], np.zeros(50)), PV: (np.zeros(50), i)}, start)
    d = daily_statistics(f, cer())
    assert d["consumption_kwh"].sum() == pytest.approx(w.sum())
    assert d["production_kwh"].sum() == pytest.approx(i.sum())
    assert d["shared_kwh"].sum() == pytest.approx(np.minimum(w.sum(axis=1), i).sum())
    assert (d["shared_kwh"] <= np.minimum(d["consumption_kwh"], d["production_kwh"]) + 1e-9).all()
    for column in ("self_sufficiency", "self_consumption"):
        values = d[column].dropna()
        assert ((values >= 0) & (values <= 1 + 1e-12)).all()


# Load curves ------------------------------------------------------------------------------------------------------


def test_load_curve_profiles_base_peak_and_factor() -> None:
    # Four weeks of February 2025 (no national holiday): weekdays 1 + 0.1 x local hour, weekends 0.5 flat.
    start = pd.Timestamp("2025-02-03").tz_localize(LOCAL_TZ).tz_convert("UTC")
    local = pd.date_range(start, periods=28 * 24, freq="h").tz_convert(LOCAL_TZ)
    weekend = local.day_of_week >= 5
    values = np.where(weekend, 0.5, 1.0 + 0.1 * local.hour)
    f = frame({P1: (values, np.zeros(len(values)))}, start)
    gap = f["timestamp"].between(start + 30 * H, start + 40 * H)  # missing hours: left out, not zeros
    curve = load_curve(f[~gap], P1)
    assert curve.hours == len(values) - int(gap.sum())
    assert curve.weekday_kw.to_numpy() == pytest.approx(1.0 + 0.1 * np.arange(24))
    assert curve.weekend_kw.to_numpy() == pytest.approx(np.full(24, 0.5))
    kept = values[~gap.to_numpy()]
    assert curve.peak_kw == pytest.approx(3.3)
    assert curve.peak_hour is not None and curve.peak_hour.hour == 23 and curve.peak_hour.day_of_week < 5
    assert curve.base_load_kw == pytest.approx(np.quantile(kept, 0.05))
    assert curve.mean_kw == pytest.approx(kept.mean())
    assert curve.load_factor == pytest.approx(kept.mean() / 3.3)


def test_member_load_curve_sums_its_pods_and_needs_all_of_them() -> None:
    start = pd.Timestamp("2025-02-03").tz_localize(LOCAL_TZ).tz_convert("UTC")
    f = frame({P1: (np.full(48, 1.0), np.zeros(48)), P2: (np.full(47, 2.0), np.zeros(47))}, start)
    c = community([member("m1", [1, 2])], [])
    curve = member_load_curve(f, c, "m1")
    assert curve.subject == "m1" and curve.pods == (P1, P2)
    assert curve.hours == 47  # the last hour lacks P2
    assert curve.peak_kw == 3.0 and curve.base_load_kw == 3.0 and curve.load_factor == 1.0
    with pytest.raises(ValueError, match="non presente"):
        member_load_curve(f, c, "m9")


# Alarms: missing data ---------------------------------------------------------------------------------------------


NOW = utc("2025-06-10T12:00+02:00")


def steady(pods: list[str], end: pd.Timestamp, hours: int, w: float = 1.0, i: float = 0.0) -> pd.DataFrame:
    """``hours`` hourly readings of each POD up to ``end`` (exclusive), constant values."""
    return frame({p: (np.full(hours, w), np.full(hours, i)) for p in pods}, end - hours * H)


def test_missing_data_silent_pod() -> None:
    c = cer()
    f = steady([P1, PV], NOW, 72)
    f = pd.concat([f, steady([P2], NOW - 8 * H, 64)])  # P2 silent for the last 8 hours
    found = detect_missing_data(f, c, NOW)
    assert [(a.kind, a.subject) for a in found] == [("missing_data", P2)]
    a = found[0]
    assert a.severity == "warning" and a.details["reason"] == "silence"
    assert a.details["silence_h"] == pytest.approx(8.0)
    assert "8 ore" in a.message and "m2" in a.message


def test_missing_data_control_and_limits() -> None:
    c = cer()
    quiet = pd.concat([steady([P1, PV], NOW, 72), steady([P2], NOW - 4 * H, 68)])  # 4 h: tolerated
    assert detect_missing_data(quiet, c, NOW) == []
    never = steady([P1, PV], NOW, 72)
    [a] = detect_missing_data(never, c, NOW)
    assert (a.subject, a.severity, a.details["last_reading_end"]) == (P2, "critical", None)
    longer = detect_missing_data(quiet, c, NOW, thresholds=AlarmThresholds(max_silence_h=3))
    assert [a.subject for a in longer] == [P2]


def test_missing_data_completeness_of_the_last_day() -> None:
    c = cer()
    f = steady([P1, P2, PV], NOW, 72)
    window_end = NOW - 6 * H
    holes = f["pod"].eq(P1) & f["timestamp"].between(window_end - 20 * H, window_end - 16 * H)  # 5 of 24 hours
    [a] = detect_missing_data(f[~holes], c, NOW)
    assert (a.subject, a.details["reason"]) == (P1, "completeness")
    assert (a.details["hours_with_data"], a.details["hours_expected"]) == (19, 24)
    few = f["pod"].eq(P1) & f["timestamp"].between(window_end - 20 * H, window_end - 19 * H)  # 2 of 24: 92 %
    assert detect_missing_data(f[~few], c, NOW) == []


def test_missing_data_plant_counts_from_commissioning() -> None:
    today = NOW.tz_convert(LOCAL_TZ).date()
    f = steady([P1], NOW, 72)
    c_today = community([member("m1", [1])], [plant("p1", "m1", 9, date=today.isoformat())])
    [a] = detect_missing_data(f, c_today, NOW)  # commissioned at local midnight, 12 h ago, never read
    assert a.subject == PV and a.details["silence_h"] == pytest.approx(12.0) and a.severity == "warning"
    c_late = community([member("m1", [1])], [plant("p1", "m1", 9, date=(today + dt.timedelta(days=1)).isoformat())])
    assert detect_missing_data(f, c_late, NOW) == []


# Alarms: plant underperformance -----------------------------------------------------------------------------------

TURIN = pvlib.location.Location(45.07, 7.69, tz="UTC", altitude=240)


def measured_weather(end: pd.Timestamp, days: int = 3) -> pd.DataFrame:
    """Hourly GHI of clear sky scaled by a different cloudiness each day, 24 °C."""
    hours = pd.date_range(end - days * 24 * H, end, freq="h", inclusive="left", tz="UTC")
    clear = TURIN.get_clearsky(hours + pd.Timedelta(minutes=30))["ghi"].to_numpy()
    cloud = np.repeat([1.0, 0.45, 0.8, 0.6][:days], 24)[: len(hours)]
    return pd.DataFrame({"ghi_w_m2": clear * cloud, "temp_air_c": 24.0}, index=hours)


def plant_readings(expected: pd.Series, factor: float) -> pd.DataFrame:
    n = len(expected)
    return frame(
        {PV: (np.zeros(n), factor * expected.fillna(0.0).to_numpy()), P1: (np.ones(n), np.zeros(n))},
        expected.index[0],
    )


def test_expected_pv_is_physically_plausible() -> None:
    day = pd.date_range("2025-06-20", periods=24, freq="h", tz="UTC")
    one = expected_pv_kwh(day, 1.0)
    # A clear June day at Turin yields 5-7 kWh per kWp on a 30° south plane after 14 % losses (PVGIS: ~6).
    assert 5.0 < one.sum() < 7.5
    assert one.max() < 1.0  # never above the DC/AC-limited peak
    local = day.tz_convert(LOCAL_TZ)
    assert (one[(local.hour < 4) | (local.hour > 22)] == 0).all()
    assert expected_pv_kwh(day, 7.0).to_numpy() == pytest.approx(7.0 * one.to_numpy(), rel=1e-9, abs=1e-12)
    ghi = TURIN.get_clearsky(day + pd.Timedelta(minutes=30))["ghi"].to_numpy()
    cool = expected_pv_kwh(day, 1.0, weather=pd.DataFrame({"ghi_w_m2": ghi, "temp_air_c": 10.0}, index=day))
    hot = expected_pv_kwh(day, 1.0, weather=pd.DataFrame({"ghi_w_m2": ghi, "temp_air_c": 35.0}, index=day))
    assert hot.sum() < cool.sum()  # hotter cells produce less
    assert cool.sum() == pytest.approx(one.sum(), rel=0.15)  # Erbs on clear-sky GHI ~ the clear-sky model
    dark = expected_pv_kwh(day, 1.0, weather=pd.DataFrame({"ghi_w_m2": 0.0}, index=day))
    assert dark.sum() == 0.0
    gap = expected_pv_kwh(day, 1.0, weather=pd.DataFrame({"ghi_w_m2": ghi}, index=day).iloc[:10])
    assert gap.iloc[10:].isna().all()


@pytest.mark.parametrize(("factor", "fires"), [(1.0, False), (0.65, False), (0.4, True)])
def test_underperformance_against_measured_weather(factor: float, fires: bool) -> None:
    c = cer(power=50.0)
    weather = measured_weather(NOW.floor("h"))
    expected = expected_pv_kwh(weather.index, 50.0, weather=weather)
    found = detect_plant_underperformance(plant_readings(expected, factor), c, NOW, weather)
    if not fires:
        assert found == []
        return
    [a] = found
    assert (a.kind, a.subject, a.details["basis"]) == ("plant_underperformance", "p1", "measured_weather")
    assert a.details["ratio"] == pytest.approx(factor, abs=1e-4)
    assert a.details["measured_kwh"] == pytest.approx(factor * a.details["expected_kwh"], rel=1e-3)
    assert a.details["expected_kwh"] == pytest.approx(expected.sum(), rel=1e-3)  # night hours expect nothing
    assert a.severity == "warning" and "p1" in a.message and "meteo misurato" in a.message


@pytest.mark.parametrize(("factor", "fires"), [(0.35, False), (0.2, True), (0.1, True)])
def test_underperformance_against_clear_sky(factor: float, fires: bool) -> None:
    c = cer(power=20.0)
    hours = pd.date_range(NOW.floor("h") - 72 * H, NOW.floor("h"), freq="h", inclusive="left", tz="UTC")
    found = detect_plant_underperformance(plant_readings(expected_pv_kwh(hours, 20.0), factor), c, NOW)
    assert bool(found) is fires
    if fires:
        assert found[0].details["basis"] == "clear_sky" and found[0].details["threshold"] == 0.3
        assert found[0].severity == ("critical" if factor < 0.15 else "warning")


def test_underperformance_skips_hours_without_data_and_young_plants() -> None:
    weather = measured_weather(NOW.floor("h"))
    expected = expected_pv_kwh(weather.index, 10.0, weather=weather)
    f = plant_readings(expected, 1.0)
    # A whole sunny day missing: the other days still match the expectation, no alarm (missing data is another).
    day2 = f["timestamp"].between(weather.index[24], weather.index[47])
    assert detect_plant_underperformance(f[~day2], cer(), NOW, weather) == []
    low = plant_readings(expected, 0.1)
    last_day = low["timestamp"] >= weather.index[48]  # a third of the window: too little to judge
    assert detect_plant_underperformance(low[last_day], cer(), NOW, weather) == []
    assert len(detect_plant_underperformance(low[~day2], cer(), NOW, weather)) == 1  # two thirds: judged
    young = community([member("m1", [1])], [plant("p1", "m1", 9, date="2025-06-09")])
    assert detect_plant_underperformance(plant_readings(expected, 0.1), young, NOW, weather) == []


def test_underperformance_splits_a_shared_pod_by_power() -> None:
    c = community(
        [member("m1", [1])],
        [plant("a", "m1", 9, power=30.0), plant("b", "m1", 9, power=10.0)],
    )
    weather = measured_weather(NOW.floor("h"))
    total = expected_pv_kwh(weather.index, 40.0, weather=weather)
    assert detect_plant_underperformance(plant_readings(total, 1.0), c, NOW, weather) == []
    found = detect_plant_underperformance(plant_readings(total, 0.5), c, NOW, weather)
    assert sorted(a.subject for a in found) == ["a", "b"]
    assert all(a.details["ratio"] == pytest.approx(0.5, abs=1e-3) for a in found)


# Alarms: abnormal consumption -------------------------------------------------------------------------------------


def household(end: pd.Timestamp, days: int, seed: int = 7) -> np.ndarray:
    """Hourly load with a daily shape and 10 % noise, ``days`` days up to ``end``."""
    start = end - days * 24 * H
    local = pd.date_range(start, periods=days * 24, freq="h").tz_convert(LOCAL_TZ)
    shape = 0.3 + 0.7 * np.exp(-(((local.hour - 20) / 2.5) ** 2)) + 0.4 * np.exp(-(((local.hour - 8) / 1.5) ** 2))
    return np.asarray(shape * np.random.default_rng(seed).lognormal(0.0, 0.1, len(local)))


def test_abnormal_consumption_spike_fires_and_control_does_not() -> None:
    c = community([member("m1", [1]), member("m2", [2])], [])
    end = NOW.floor("h")
    days = 30
    w1, w2 = household(end, days, 1), household(end, days, 2)
    start = end - days * 24 * H
    spike_at = len(w1) - 5  # 5 hours before now
    spiked = w1.copy()
    spiked[spike_at] *= 10.0
    f = frame({P1: (spiked, np.zeros(len(w1))), P2: (w2, np.zeros(len(w2)))}, start)
    [a] = detect_abnormal_consumption(f, c, NOW)
    assert (a.kind, a.subject, a.severity) == ("abnormal_consumption", P1, "warning")
    [hour] = a.details["hours"]
    assert pd.Timestamp(hour["hour"]) == start + spike_at * H
    assert hour["kwh"] == pytest.approx(spiked[spike_at], abs=1e-4)
    assert hour["z"] > 4
    control = frame({P1: (w1, np.zeros(len(w1))), P2: (w2, np.zeros(len(w2)))}, start)
    assert detect_abnormal_consumption(control, c, NOW) == []


def test_abnormal_consumption_needs_enough_history() -> None:
    c = community([member("m1", [1])], [])
    end = NOW.floor("h")
    w = household(end, 3)
    w[-3] *= 10.0
    f = frame({P1: (w, np.zeros(len(w)))}, end - 3 * 24 * H)  # two days of history: fewer than 8 references
    assert detect_abnormal_consumption(f, c, NOW) == []


@given(
    history=arrays(np.float64, st.integers(1, 40), elements=st.floats(0, 50, allow_nan=False)),
    value=st.floats(0, 100, allow_nan=False),
)
def test_robust_z_definition(history: np.ndarray, value: float) -> None:
    z, median, scale = robust_z(value, history, floor_kwh=0.05, relative_floor=0.5)
    assert median == pytest.approx(np.median(history))
    mad = np.median(np.abs(history - median))
    assert scale >= max(0.05, 0.5 * median, 1.4826 * mad) - 1e-12
    assert z * scale + median == pytest.approx(value, abs=1e-9)
    assert np.sign(z) == np.sign(round(value - median, 12)) or z == pytest.approx(0.0)


# Alarms: sharing below target -------------------------------------------------------------------------------------


def test_sharing_below_target_fires_with_known_share() -> None:
    c = cer()
    f = pd.concat([steady([P1, P2], NOW, 7 * 24, w=1.0), steady([PV], NOW, 7 * 24, i=10.0)])
    [a] = detect_sharing_below_target(f, c, NOW)
    assert (a.kind, a.subject) == ("sharing_below_target", "configurazione")
    assert a.details["share"] == pytest.approx(0.2) and a.details["target"] == 0.5
    assert "20%" in a.message and "50%" in a.message
    by_consumption = AlarmThresholds(sharing_basis="consumption")
    assert detect_sharing_below_target(f, c, NOW, thresholds=by_consumption) == []  # shared = consumption
    assert detect_sharing_below_target(f, c, NOW, thresholds=AlarmThresholds(sharing_target=0.15)) == []


def test_sharing_control_and_no_production() -> None:
    c = cer()
    good = pd.concat([steady([P1, P2], NOW, 7 * 24, w=4.0), steady([PV], NOW, 7 * 24, i=10.0)])
    assert detect_sharing_below_target(good, c, NOW) == []  # 80 %
    dark = steady([P1, P2, PV], NOW, 7 * 24, w=1.0)
    assert detect_sharing_below_target(dark, c, NOW) == []  # nothing produced: nothing to judge


# All together -----------------------------------------------------------------------------------------------------


def test_detect_alarms_ignores_readings_after_now_and_matches_the_store() -> None:
    assert ALARM_KINDS == models.ALARM_KINDS
    assert SEVERITIES == models.ALARM_SEVERITIES
    assert set(ALARM_KIND_LABELS) == set(ALARM_KINDS)
    c = cer()
    f = pd.concat([steady([P1, P2], NOW, 30 * 24, w=4.0), steady([PV], NOW - 10 * H, 30 * 24, i=10.0)])
    later = steady([PV], NOW + 15 * H, 15, i=10.0)  # readings "from the future" must not hide the silence
    found = detect_alarms(as_readings(pd.concat([f, later])), c, NOW)
    assert [(a.kind, a.subject) for a in found] == [("missing_data", PV)]
    for a in found:
        assert a.kind in ALARM_KINDS and a.severity in SEVERITIES
    naive = dt.datetime(2025, 6, 10, 12)
    with pytest.raises(ValueError, match="fuso orario"):
        detect_alarms(f, c, naive)
    assert AlarmThresholds().lookback >= pd.Timedelta(days=29)
