"""Green hours: surplus hours, levels, rankings, JSON and an iCalendar feed that parses back to the runs."""

from __future__ import annotations

import datetime as dt
import itertools

import icalendar
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.operations.forecast import day_hours
from condivisa.operations.green_hours import (
    PRODID,
    GreenHoursReport,
    event_uid,
    green_hours,
    green_hours_ical,
    green_hours_json,
    rank_hours,
    runs,
)

DAY = dt.date(2025, 6, 18)
GENERATED = dt.datetime(2025, 6, 17, 16, 0, tzinfo=dt.UTC)


def by_local_hour(day: dt.date, values: dict[int, float]) -> pd.Series:
    """A day's hourly series [kWh] with ``values`` at the given local hours, 0 elsewhere."""
    hours = day_hours(day)
    local = hours.tz_convert(LOCAL_TZ).hour
    return pd.Series([values.get(h, 0.0) for h in local], index=hours)


def utc(text: str) -> dt.datetime:
    return pd.Timestamp(text).tz_convert("UTC").to_pydatetime()


@pytest.fixture
def day_hours_green() -> tuple[pd.Series, pd.Series]:
    # Consumption 2 kWh every hour. Production (local hours): 10 -> 3, 11 -> 6, 12 -> 11, 13 -> 9 (a run of four
    # surplus hours: 1, 4, 9, 7 kWh), 14 -> 2 (no surplus: equal), 15 -> 4.5, 16 -> 2.5 (a run of two: 2.5, 0.5).
    production = by_local_hour(DAY, {10: 3.0, 11: 6.0, 12: 11.0, 13: 9.0, 14: 2.0, 15: 4.5, 16: 2.5})
    consumption = pd.Series(2.0, index=day_hours(DAY))
    return production, consumption


def test_surplus_hours_and_levels(day_hours_green: tuple[pd.Series, pd.Series]) -> None:
    hours = green_hours(*day_hours_green)
    assert [h.start_local.hour for h in hours] == [10, 11, 12, 13, 15, 16]
    assert [h.surplus_kwh for h in hours] == [1.0, 4.0, 9.0, 7.0, 2.5, 0.5]
    # levels against the day's largest surplus, 9: 1/9 bassa, 4/9 media, 9/9 alta, 7/9 alta, 2.5/9 bassa (< 1/3),
    # 0.5/9 bassa
    assert [h.level for h in hours] == ["bassa", "media", "alta", "alta", "bassa", "bassa"]
    assert hours[0].start_utc == pd.Timestamp("2025-06-18T08:00Z")
    assert hours[0].end_local == pd.Timestamp("2025-06-18T11:00+02:00")
    assert green_hours(*day_hours_green, min_surplus_kwh=3.5)[0].start_local.hour == 11


def test_rankings(day_hours_green: tuple[pd.Series, pd.Series]) -> None:
    hours = green_hours(*day_hours_green)
    assert [h.start_local.hour for h in rank_hours(hours)] == [12, 13, 11, 15, 10, 16]
    # headroom share = surplus / production: 10 -> 1/3, 11 -> 4/6, 12 -> 9/11, 13 -> 7/9, 15 -> 2.5/4.5, 16 -> 0.5/2.5
    assert [h.start_local.hour for h in rank_hours(hours, by="headroom")] == [12, 13, 11, 15, 10, 16]
    assert hours[3].headroom_share == pytest.approx(7 / 9)
    # a small hour that is nearly all surplus beats big hours on headroom but not on surplus
    prod = by_local_hour(DAY, {9: 1.0, 12: 10.0})
    cons = by_local_hour(DAY, {9: 0.0, 12: 5.0})
    two = green_hours(prod, cons)
    assert [h.start_local.hour for h in rank_hours(two)] == [12, 9]
    assert [h.start_local.hour for h in rank_hours(two, by="headroom")] == [9, 12]


def test_no_surplus_gives_no_hours() -> None:
    hours = day_hours(DAY)
    assert green_hours(pd.Series(1.0, index=hours), pd.Series(1.0, index=hours)) == []


def report_of(production: pd.Series, consumption: pd.Series, day: dt.date = DAY, **kw: object) -> GreenHoursReport:
    return GreenHoursReport(
        community="CER Test",
        day=day,
        generated_at=kw.get("generated_at", GENERATED),  # type: ignore[arg-type]
        method={"production": "clear_sky_x_recent_ratio", "consumption": "similar_days"},
        hours=tuple(green_hours(production, consumption)),
    )


def test_json_has_stable_keys_and_local_times(day_hours_green: tuple[pd.Series, pd.Series]) -> None:
    doc = green_hours_json(report_of(*day_hours_green))
    assert list(doc) == ["community", "date", "generated_at", "method", "hours", "ranking"]
    assert doc["community"] == "CER Test" and doc["date"] == "2025-06-18"
    assert doc["generated_at"] == "2025-06-17T16:00:00+00:00"
    first = doc["hours"][0]
    assert {"start", "end", "surplus_kwh", "level"} <= set(first)
    assert first["start"] == "2025-06-18T10:00:00+02:00" and first["end"] == "2025-06-18T11:00:00+02:00"
    assert first["surplus_kwh"] == 1.0 and first["level"] == "bassa" and first["rank"] == 5
    assert doc["ranking"]["surplus"][0] == "2025-06-18T12:00:00+02:00"


def events(feed: bytes) -> list[icalendar.Event]:
    cal = icalendar.Calendar.from_ical(feed)
    assert str(cal["PRODID"]) == PRODID and str(cal["VERSION"]) == "2.0"
    return list(cal.walk("VEVENT"))


def test_ical_has_one_event_per_run(day_hours_green: tuple[pd.Series, pd.Series]) -> None:
    feed = green_hours_ical(report_of(*day_hours_green))
    got = events(feed)
    assert len(got) == 2
    first, second = got
    # run 1: local 10:00-14:00 = 08:00-12:00 UTC, surplus 1 + 4 + 9 + 7 = 21 kWh
    assert first.decoded("DTSTART") == utc("2025-06-18T08:00Z")
    assert first.decoded("DTEND") == utc("2025-06-18T12:00Z")
    assert str(first["SUMMARY"]) == "Ore verdi: 10:00–14:00, eccedenza prevista 21,0 kWh"
    # run 2: local 15:00-17:00, surplus 2.5 + 0.5 = 3 kWh
    assert second.decoded("DTSTART") == utc("2025-06-18T13:00Z")
    assert second.decoded("DTEND") == utc("2025-06-18T15:00Z")
    assert str(second["SUMMARY"]) == "Ore verdi: 15:00–17:00, eccedenza prevista 3,0 kWh"
    assert "12:00–13:00: eccedenza 9,0 kWh (alta)" in str(first["DESCRIPTION"])
    assert b"DTSTART:20250618T080000Z" in feed  # UTC form on the wire
    assert first.decoded("DTSTAMP") == GENERATED
    assert str(first["UID"]) != str(second["UID"])


def test_uids_are_stable_across_publications(day_hours_green: tuple[pd.Series, pd.Series]) -> None:
    production, consumption = day_hours_green
    before = events(green_hours_ical(report_of(production, consumption)))
    # a new forecast, later, with different amounts and a longer first run: same starts, same UIDs
    later = report_of(production * 1.5, consumption, generated_at=GENERATED + dt.timedelta(hours=3))
    after = events(green_hours_ical(later))
    assert [str(e["UID"]) for e in after[:1]] == [str(before[0]["UID"])]
    assert str(before[0]["UID"]) == event_uid("CER Test", pd.Timestamp("2025-06-18T08:00Z"))
    assert event_uid("Altra CER", pd.Timestamp("2025-06-18T08:00Z")) != str(before[0]["UID"])


def test_dst_day_run_across_the_repeated_hour() -> None:
    day = dt.date(2025, 10, 26)  # 25 hours, 02:00 twice
    hours = day_hours(day)
    assert len(hours) == 25
    local = hours.tz_convert(LOCAL_TZ).hour
    # surplus at local 01:00, both 02:00 and 03:00 (a hypothetical night plant): four consecutive UTC hours
    production = pd.Series(np.where(np.isin(local, [1, 2, 3]), 5.0, 0.0), index=hours)
    consumption = pd.Series(1.0, index=hours)
    report = report_of(production, consumption, day=day)
    assert len(report.hours) == 4
    got = events(green_hours_ical(report))
    assert len(got) == 1
    assert got[0].decoded("DTSTART") == utc("2025-10-26T01:00+02:00")  # 23:00 UTC on the 25th
    assert got[0].decoded("DTEND") == utc("2025-10-26T04:00+01:00")  # 03:00 UTC
    assert str(got[0]["SUMMARY"]) == "Ore verdi: 01:00–04:00, eccedenza prevista 16,0 kWh"
    starts = [h["start"] for h in green_hours_json(report)["hours"]]
    assert starts == [
        "2025-10-26T01:00:00+02:00",
        "2025-10-26T02:00:00+02:00",
        "2025-10-26T02:00:00+01:00",
        "2025-10-26T03:00:00+01:00",
    ]


def test_report_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError, match="fuso"):
        GreenHoursReport(community="x", day=DAY, generated_at=dt.datetime(2025, 6, 17, 16))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-5.0, max_value=5.0, allow_nan=False), min_size=24, max_size=24))
def test_runs_partition_the_green_hours(surplus: list[float]) -> None:
    hours = day_hours(DAY)
    production = pd.Series(np.maximum(surplus, 0.0) + 1.0, index=hours)
    consumption = production - pd.Series(surplus, index=hours)
    green = green_hours(production, consumption)
    difference = production - consumption
    assert [h.start_utc for h in green] == list(difference.index[difference > 0])
    grouped = runs(green)
    assert [h for run in grouped for h in run] == green
    for run in grouped:
        assert all(b.start_utc - a.start_utc == pd.Timedelta(hours=1) for a, b in itertools.pairwise(run))
    for a, b in itertools.pairwise(grouped):
        assert b[0].start_utc - a[-1].start_utc > pd.Timedelta(hours=1)
    assert len(events(green_hours_ical(report_of(production, consumption)))) == len(grouped)
    levels = {h.level for h in green}
    assert not green or "alta" in levels
