"""Standard load profiles, profiles from bills, and the analysis of hourly series."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import holidays
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from condivisa.engine.timegrid import Period
from condivisa.model.community import MEMBER_KINDS
from condivisa.planning import profiles
from condivisa.planning.profiles import (
    KIND_PROFILE,
    PROFILES,
    Bill,
    band_split,
    base_load_kw,
    daily_heatmap,
    load_duration_curve,
    monthly_totals,
    peak_kw,
    profile_from_bill,
    standard_profile,
    weekly_profile,
)
from condivisa.rules import time_band

ROME = "Europe/Rome"
SPLITS = [("F1", "F2", "F3"), ("F1", "F23"), ("total",)]


def year_hours(year: int) -> pd.DatetimeIndex:
    return Period(dt.date(year, 1, 1), dt.date(year, 12, 31)).hours()


def day_hours(day: str) -> pd.DatetimeIndex:
    d = dt.date.fromisoformat(day)
    return Period(d, d).hours()


def day_kwh(kind: str, day: str) -> float:
    return float(standard_profile(kind, day_hours(day)).sum())


def flat_bill(year: int, split: tuple[str, ...], kwh: float = 100.0) -> Bill:
    return Bill(year, monthly={m: dict.fromkeys(split, kwh) for m in range(1, 13)})


def billed_groups(series: pd.Series) -> pd.Series:
    """Sum of a profile per (local month, bill band), computed here from the series and the band rules."""
    local = series.index.tz_convert(ROME)
    frame = pd.DataFrame({"month": local.month, "band": time_band(series.index), "kwh": series.to_numpy()})
    return frame.groupby(["month", "band"])["kwh"].sum()


def constant(year: int, kwh: float = 1.0) -> pd.Series:
    hours = year_hours(year)
    return pd.Series(np.full(len(hours), kwh), index=hours)


# ----------------------------------------------------------------------------------------------------------------
# Property: bills are reproduced exactly


@st.composite
def bills(draw: st.DrawFn) -> Bill:
    year = draw(st.integers(2023, 2027))
    amount = st.one_of(st.just(0.0), st.floats(0.0, 20_000.0, allow_nan=False, allow_infinity=False))
    if draw(st.booleans()):
        split = draw(st.sampled_from(SPLITS))
        return Bill(year, yearly={band: draw(amount) for band in split})
    same_split = draw(st.booleans())
    first = draw(st.sampled_from(SPLITS))
    monthly = {}
    for month in range(1, 13):
        split = first if same_split else draw(st.sampled_from(SPLITS))
        monthly[month] = {band: draw(amount) for band in split}
    return Bill(year, monthly=monthly)


def expected_totals(bill: Bill, series: pd.Series) -> list[tuple[str, float, float]]:
    """(place, billed, found) for every billed amount, recomputed from the series."""
    local = series.index.tz_convert(ROME)
    bands = time_band(series.index)
    months = local.month.to_numpy()
    values = series.to_numpy()
    out = []
    for month, band, kwh in bill.groups():
        in_month = np.ones(len(values), bool) if month is None else months == month
        if band == "total":
            in_band = np.ones(len(values), bool)
        elif band == "F23":
            in_band = (bands == "F2") | (bands == "F3")
        else:
            in_band = bands == band
        out.append((f"{month} {band}", kwh, float(values[in_month & in_band].sum())))
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bill=bills(), kind=st.sampled_from([*MEMBER_KINDS, *PROFILES]))
def test_profile_reproduces_any_bill(bill: Bill, kind: str) -> None:
    series = profile_from_bill(bill, kind)
    start = pd.Timestamp(dt.date(bill.year, 1, 1)).tz_localize(ROME)
    end = pd.Timestamp(dt.date(bill.year + 1, 1, 1)).tz_localize(ROME)
    assert len(series) == (end - start) // pd.Timedelta(hours=1)
    assert len(series) == (8784 if bill.year % 4 == 0 else 8760)
    assert series.index[0] == start and series.index[-1] == end - pd.Timedelta(hours=1)
    assert ((series.index[1:] - series.index[:-1]) == pd.Timedelta(hours=1)).all()
    assert str(series.index.tz) == "UTC"
    assert (series.to_numpy() >= 0).all()
    for place, billed, found in expected_totals(bill, series):
        assert found == pytest.approx(billed, abs=1e-6), place  # far inside the 0.1 kWh required
    assert series.sum() == pytest.approx(bill.total_kwh, abs=1e-6)


def test_yearly_bill_round_trips_through_band_split() -> None:
    bill = Bill(2025, yearly={"F1": 1234.5, "F2": 678.9, "F3": 1500.0})
    split = band_split(profile_from_bill(bill, "business"))
    assert split == pytest.approx({"F1": 1234.5, "F2": 678.9, "F3": 1500.0}, abs=1e-9)


def test_monthly_bill_shape_follows_profile_within_each_group() -> None:
    bill = flat_bill(2025, ("F1", "F2", "F3"))
    series = profile_from_bill(bill, "household")
    shape = pd.Series(standard_profile("household", series.index), index=series.index)
    ratio = series / shape
    keys = [series.index.tz_convert(ROME).month, time_band(series.index)]
    spread = ratio.groupby(keys).agg(lambda r: r.max() / r.min())
    assert (spread < 1 + 1e-9).all()  # one scale factor per (month, band)
    assert ratio.nunique() > 12  # but not one for the whole year


def test_zero_group_gives_zeros_and_other_groups_keep_their_amount() -> None:
    monthly = {m: {"F1": 300.0, "F23": 500.0} for m in range(1, 13)}
    monthly[7] = {"F1": 0.0, "F23": 500.0}
    series = profile_from_bill(Bill(2026, monthly=monthly), "G25")
    july = series[series.index.tz_convert(ROME).month == 7]
    july_f1 = july[time_band(july.index) == "F1"]
    assert len(july_f1) > 0 and (july_f1 == 0).all()
    assert july.sum() == pytest.approx(500.0, abs=1e-9)


def test_shape_zero_over_a_billed_group_spreads_evenly(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_shape(kind: str, hours_utc: pd.DatetimeIndex) -> np.ndarray:
        return np.zeros(len(hours_utc))

    monkeypatch.setattr(profiles, "standard_profile", no_shape)
    series = profile_from_bill(Bill(2026, yearly={"F1": 0.0, "F23": 876.0}), "household")
    bands = time_band(series.index)
    f23 = series[bands != "F1"]
    assert np.allclose(f23.to_numpy(), 876.0 / len(f23))
    assert (series[bands == "F1"] == 0).all()


def test_partial_hours_within_the_bill_year() -> None:
    hours = Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31)).hours()
    bill = Bill(2026, yearly={"total": 310.0})
    series = profile_from_bill(bill, "household", hours)
    assert series.index.equals(hours) and series.sum() == pytest.approx(310.0)


# ----------------------------------------------------------------------------------------------------------------
# Standard shapes


def test_kind_mapping_covers_every_member_kind() -> None:
    assert set(KIND_PROFILE) == set(MEMBER_KINDS)
    hours = day_hours("2026-06-10")
    assert np.array_equal(standard_profile("household", hours), standard_profile("H25", hours))
    for kind in ("business", "municipality", "third_sector", "religious", "other"):
        assert np.array_equal(standard_profile(kind, hours), standard_profile("G25", hours))
    assert not np.array_equal(standard_profile("H25", hours), standard_profile("G25", hours))


def test_profiles_are_distinct_and_scaled_to_about_1000_kwh_a_year() -> None:
    hours = year_hours(2025)
    shapes = {name: standard_profile(name, hours) for name in PROFILES}
    for name, shape in shapes.items():
        assert len(shape) == 8760 and (shape > 0).all(), name
        assert 950 < shape.sum() < 1050, name
    assert len({shape.tobytes() for shape in shapes.values()}) == len(PROFILES)


def test_household_evening_above_night() -> None:
    hours = year_hours(2025)
    shape = pd.Series(standard_profile("household", hours), index=hours)
    by_hour = shape.groupby(hours.tz_convert(ROME).hour).mean()
    assert by_hour[20] > 1.5 * by_hour[4]


def test_business_weekdays_above_sundays() -> None:
    hours = year_hours(2025)
    local = hours.tz_convert(ROME)
    daily = pd.Series(standard_profile("business", hours), index=hours).groupby(local.date).sum()
    days = pd.DatetimeIndex(daily.index)
    hol = {pd.Timestamp(d) for d in holidays.country_holidays("IT", years=2025)}
    ordinary = ~days.isin(list(hol))
    weekdays = daily[(days.day_of_week < 5) & ordinary]
    sundays = daily[days.day_of_week == 6]
    assert weekdays.mean() > 1.5 * sundays.mean()


def test_households_with_pv_draw_less_at_noon() -> None:
    hours = year_hours(2025)
    local = hours.tz_convert(ROME)
    noon = (local.hour == 12) & local.month.isin([6, 7])
    h25 = standard_profile("H25", hours)[noon].mean()
    assert standard_profile("P25", hours)[noon].mean() < 0.5 * h25  # PV covers most of the summer midday load
    assert standard_profile("S25", hours)[noon].mean() < 0.5 * h25


def test_standard_profile_keeps_the_order_of_hours_and_crosses_years() -> None:
    hours = Period(dt.date(2025, 12, 31), dt.date(2026, 1, 1)).hours()
    shape = standard_profile("G25", hours)
    order = np.random.default_rng(1).permutation(len(hours))
    assert np.array_equal(standard_profile("G25", hours[order]), shape[order])
    assert shape[24:].sum() < 0.7 * shape[:24].sum()  # 1 January is a holiday, 31 December a Wednesday


def test_dst_days_follow_local_wall_clock() -> None:
    # G25 depends only on month, day type and local time of day: DST Sundays compare with the Sunday before.
    spring, spring_ref = (
        standard_profile("G25", day_hours("2026-03-29")),
        standard_profile("G25", day_hours("2026-03-22")),
    )
    autumn, autumn_ref = (
        standard_profile("G25", day_hours("2026-10-25")),
        standard_profile("G25", day_hours("2026-10-18")),
    )
    assert len(spring) == 23 and len(autumn) == 25
    assert np.array_equal(spring, np.delete(spring_ref, 2))  # no 02:00 local hour
    assert np.array_equal(autumn, np.insert(autumn_ref, 3, autumn_ref[2]))  # 02:00 local twice


def test_standard_profile_rejects_bad_hours_and_kinds() -> None:
    with pytest.raises(ValueError, match="fuso orario"):
        standard_profile("H25", pd.date_range("2026-01-01", periods=3, freq="h"))
    with pytest.raises(ValueError, match="non è l'inizio di un'ora"):
        standard_profile("H25", pd.date_range("2026-01-01", periods=3, freq="15min", tz="UTC"))
    with pytest.raises(ValueError, match="profilo di carico: 'farm'"):
        standard_profile("farm", day_hours("2026-01-02"))


# ----------------------------------------------------------------------------------------------------------------
# Italian holidays


@pytest.mark.parametrize(
    ("holiday", "same_as_sunday", "ordinary_same_weekday"),
    [
        ("2026-04-25", "2026-04-26", "2026-04-18"),  # Liberazione, a Saturday in 2026
        ("2026-10-04", "2026-10-11", "2026-10-05"),  # San Francesco 2026, a Sunday: compare with the Monday after
        ("2027-10-04", "2027-10-03", "2027-10-11"),  # San Francesco 2027, a Monday
        ("2026-06-02", "2026-06-07", "2026-06-09"),  # Festa della Repubblica, a Tuesday
    ],
)
def test_holidays_behave_like_sundays_in_g25(holiday: str, same_as_sunday: str, ordinary_same_weekday: str) -> None:
    assert day_kwh("G25", holiday) == pytest.approx(day_kwh("G25", same_as_sunday), rel=1e-12)
    assert day_kwh("G25", holiday) < 0.8 * day_kwh("G25", ordinary_same_weekday)


@pytest.mark.parametrize(("german_holiday", "ordinary"), [("2026-05-14", "2026-05-21"), ("2026-05-25", "2026-05-18")])
def test_german_holidays_are_ordinary_days(german_holiday: str, ordinary: str) -> None:
    assert day_kwh("G25", german_holiday) == pytest.approx(day_kwh("G25", ordinary), rel=1e-12)


@pytest.mark.parametrize("day", ["2026-04-25", "2026-10-04", "2027-10-04"])
def test_holiday_hours_are_f3_and_follow_the_f3_bill(day: str) -> None:
    hours = day_hours(day)
    assert set(time_band(hours)) == {"F3"}
    year = int(day[:4])
    month = int(day[5:7])
    monthly = {m: {"F1": 400.0, "F2": 200.0, "F3": 300.0} for m in range(1, 13)}
    monthly[month] = {"F1": 400.0, "F2": 200.0, "F3": 0.0}
    series = profile_from_bill(Bill(year, monthly=monthly), "business")
    assert (series[hours] == 0).all()
    ordinary_day = (pd.Timestamp(day) - pd.Timedelta(days=7)).date().isoformat()
    assert series[day_hours(ordinary_day)].sum() > 0


# ----------------------------------------------------------------------------------------------------------------
# Bad input


MONTHS = {m: {"F1": 10.0, "F2": 10.0, "F3": 10.0} for m in range(1, 13)}


def months_with(month: int, bands: Any) -> dict[Any, Any]:
    out: dict[Any, Any] = dict(MONTHS)
    out[month] = bands
    return out


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"monthly": months_with(3, {"F1": 1.0, "F2": -5.0, "F3": 1.0})}, "bolletta, mese 3, F2: consumo negativo"),
        ({"yearly": {"F1": -1.0, "F23": 2.0}}, "bolletta, anno, F1: consumo negativo"),
        ({"monthly": months_with(3, {"F1": 1.0, "F2": 1.0, "F4": 1.0})}, "bolletta, mese 3, F4: fascia sconosciuta"),
        ({"monthly": months_with(13, {"F1": 1.0, "F2": 1.0, "F3": 1.0})}, "bolletta, mese 13: mese inesistente"),
        ({"monthly": months_with(0, {"total": 1.0})}, "bolletta, mese 0: mese inesistente"),
        ({"monthly": months_with(5, {"F1": 1.0, "F2": 1.0, "F23": 1.0})}, "bolletta, mese 5: F23 insieme a F2"),
        ({"yearly": {"F1": 1.0, "F3": 1.0, "F23": 1.0}}, "bolletta, anno: F23 insieme a F3"),
        ({"yearly": {"F1": 1.0, "F2": 1.0}}, "bolletta, anno: manca F3"),
        ({"yearly": {"total": 1.0, "F1": 1.0}}, "bolletta, anno: total insieme"),
        ({"yearly": {}}, "bolletta, anno: nessuna fascia"),
        ({"yearly": {"total": math.nan}}, "bolletta, anno, total: consumo non finito"),
        ({"yearly": {"total": "100"}}, "bolletta, anno, total: consumo non numerico"),
        ({"monthly": {m: {"total": 1.0} for m in range(1, 12)}}, "bolletta, mesi: mancano i mesi 12"),
        ({"monthly": months_with(2, [1.0, 2.0])}, "bolletta, mese 2: attesi i consumi per fascia"),
        ({}, "bolletta: indicare"),
        ({"yearly": {"total": 1.0}, "monthly": MONTHS}, "bolletta: indicare"),
    ],
)
def test_bad_bills_name_the_place(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Bill(2026, **kwargs)


@pytest.mark.parametrize("year", [1999, 2101, "2026", True, 2026.0])
def test_bad_bill_year(year: Any) -> None:
    with pytest.raises(ValueError, match="bolletta, anno"):
        Bill(year, yearly={"total": 1.0})


def test_bill_copies_its_input() -> None:
    yearly = {"F1": 1.0, "F23": 2.0}
    bill = Bill(2026, yearly=yearly)
    yearly["F1"] = 50.0
    assert bill.total_kwh == 3.0
    with pytest.raises(TypeError):
        bill.yearly["F1"] = 5.0  # type: ignore[index]


def test_profile_from_bill_rejects_bad_hours_and_kinds() -> None:
    bill = Bill(2026, monthly={m: {"total": 10.0} for m in range(1, 13)})
    with pytest.raises(ValueError, match="profilo di carico: 'farm'"):
        profile_from_bill(bill, "farm")
    with pytest.raises(ValueError, match="fuori dall'anno della bolletta 2026"):
        profile_from_bill(bill, "household", Period(dt.date(2025, 12, 31), dt.date(2026, 1, 1)).hours())
    with pytest.raises(ValueError, match="bolletta, mese 2, total: 10 kWh fatturati ma nessuna ora"):
        profile_from_bill(bill, "household", Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31)).hours())
    with pytest.raises(ValueError, match="ora ripetuta"):
        profile_from_bill(bill, "household", year_hours(2026).append(year_hours(2026)[:1]))
    sunday = Bill(2026, yearly={"F1": 5.0, "F2": 0.0, "F3": 1.0})
    with pytest.raises(ValueError, match="bolletta, F1: 5 kWh fatturati"):
        profile_from_bill(sunday, "household", day_hours("2026-03-22"))


# ----------------------------------------------------------------------------------------------------------------
# Analysis


def working_days_and_saturdays(year: int) -> tuple[int, int]:
    hol = set(holidays.country_holidays("IT", years=year))
    days = [
        dt.date(year, 1, 1) + dt.timedelta(days=k) for k in range((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days)
    ]
    ordinary = [d for d in days if d not in hol]
    return sum(d.weekday() < 5 for d in ordinary), sum(d.weekday() == 5 for d in ordinary)


@pytest.mark.parametrize("year", [2025, 2026])
def test_band_split_of_constant_load_counts_hours(year: int) -> None:
    working, saturdays = working_days_and_saturdays(year)
    split = band_split(constant(year, 2.0))
    assert split["F1"] == 2.0 * 11 * working
    assert split["F2"] == 2.0 * (5 * working + 16 * saturdays)
    assert split["F3"] == 2.0 * 8760 - split["F1"] - split["F2"]


def test_base_load_peak_and_duration_of_constant_load() -> None:
    series = constant(2026)
    assert base_load_kw(series) == 1.0
    assert peak_kw(series) == 1.0
    curve = load_duration_curve(series)
    assert curve.shape == (8760,) and (curve == 1.0).all()


def test_base_load_ignores_a_few_outage_hours() -> None:
    values = np.full(8760, 0.5)
    values[np.random.default_rng(3).choice(8760, 100, replace=False)] = 0.0
    series = pd.Series(values, index=year_hours(2026))
    assert base_load_kw(series) == 0.5
    assert base_load_kw(series, quantile=0.0) == 0.0
    assert base_load_kw(series, quantile=1.0) == 0.5


def test_peak_and_duration_curve() -> None:
    rng = np.random.default_rng(7)
    values = rng.uniform(0.2, 3.0, 8760)
    values[4000] = 7.5
    series = pd.Series(values, index=year_hours(2026))
    assert peak_kw(series) == 7.5
    curve = load_duration_curve(series)
    assert curve[0] == 7.5 and (np.diff(curve) <= 0).all()
    assert sorted(curve.tolist()) == sorted(values.tolist())


def test_daily_heatmap_places_dst_hours() -> None:
    table = daily_heatmap(constant(2026))
    assert table.shape == (365, 24) and list(table.columns) == list(range(24))
    assert (table.loc["2026-06-10"] == 1.0).all()
    spring = table.loc["2026-03-29"]
    assert math.isnan(spring[2]) and spring.drop(2).eq(1.0).all() and spring.sum() == 23.0
    autumn = table.loc["2026-10-25"]
    assert autumn[2] == 2.0 and autumn.drop(2).eq(1.0).all() and autumn.sum() == 25.0


def test_daily_heatmap_uses_local_time() -> None:
    hours = year_hours(2026)
    series = pd.Series(np.arange(len(hours), dtype=float), index=hours)
    table = daily_heatmap(series)
    assert table.loc["2026-07-01", 14] == series[pd.Timestamp("2026-07-01T12:00Z")]  # CEST = UTC+2
    assert table.loc["2026-01-15", 0] == series[pd.Timestamp("2026-01-14T23:00Z")]  # CET = UTC+1
    assert table.sum().sum() == pytest.approx(series.sum())


def test_weekly_profile_by_local_weekday_and_hour() -> None:
    hours = year_hours(2026)
    local = hours.tz_convert(ROME)
    series = pd.Series((100 * local.day_of_week + local.hour).to_numpy(dtype=float), index=hours)
    table = weekly_profile(series)
    assert table.shape == (7, 24)
    expected = 100 * np.arange(7)[:, None] + np.arange(24)[None, :]
    assert np.array_equal(table.to_numpy(), expected)


def test_weekly_profile_is_a_mean() -> None:
    hours = Period(dt.date(2026, 6, 1), dt.date(2026, 6, 14)).hours()  # two whole weeks from a Monday
    values = np.where(np.arange(len(hours)) < 7 * 24, 1.0, 3.0)
    table = weekly_profile(pd.Series(values, index=hours))
    assert (table == 2.0).all().all()


def test_monthly_totals_count_local_hours() -> None:
    totals = monthly_totals(constant(2026))
    assert len(totals) == 12 and totals.sum() == 8760
    assert totals[pd.Period("2026-01", "M")] == 744
    assert totals[pd.Period("2026-02", "M")] == 672
    assert totals[pd.Period("2026-03", "M")] == 743
    assert totals[pd.Period("2026-10", "M")] == 745


def test_monthly_totals_of_a_bill_profile_match_the_bill() -> None:
    monthly = {m: {"F1": 10.0 * m, "F23": 5.0} for m in range(1, 13)}
    totals = monthly_totals(profile_from_bill(Bill(2027, monthly=monthly), "P25"))
    assert totals.to_numpy() == pytest.approx([10.0 * m + 5.0 for m in range(1, 13)], abs=1e-9)


def test_analysis_rejects_bad_series() -> None:
    naive = pd.Series(1.0, index=pd.date_range("2026-01-01", periods=24, freq="h"))
    with pytest.raises(ValueError, match="serie oraria: servono istanti con fuso orario"):
        band_split(naive)
    quarter = pd.Series(1.0, index=pd.date_range("2026-01-01", periods=8, freq="15min", tz="UTC"))
    with pytest.raises(ValueError, match="non è l'inizio di un'ora"):
        peak_kw(quarter)
    gap = constant(2026).copy()
    gap.iloc[10] = np.nan
    with pytest.raises(ValueError, match="valore mancante"):
        daily_heatmap(gap)
    with pytest.raises(ValueError, match="quantile"):
        base_load_kw(constant(2026), quantile=1.5)
    empty = pd.Series([], index=pd.DatetimeIndex([], tz="UTC"), dtype=float)
    with pytest.raises(ValueError, match="vuota"):
        base_load_kw(empty)
    with pytest.raises(ValueError, match="vuota"):
        peak_kw(empty)
    with pytest.raises(ValueError, match="DatetimeIndex"):
        monthly_totals(pd.Series([1.0, 2.0]))
