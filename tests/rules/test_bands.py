"""ARERA bands F1/F2/F3, holidays and DST days."""

from __future__ import annotations

import pandas as pd
import pytest

from condivisa.engine.timegrid import Period
from condivisa.rules import time_band, zone_of_region


def local_hours(day: str) -> pd.DatetimeIndex:
    d = pd.Timestamp(day).date()
    return Period(d, d).hours()


def band_by_local_hour(day: str) -> list[tuple[int, str]]:
    hours = local_hours(day)
    return list(zip(hours.tz_convert("Europe/Rome").hour, time_band(hours), strict=True))


def test_weekday_bands() -> None:
    bands = dict(band_by_local_hour("2025-06-04"))  # Wednesday
    assert bands[7] == "F2" and bands[8] == "F1" and bands[18] == "F1" and bands[19] == "F2"
    assert bands[22] == "F2" and bands[23] == "F3" and bands[0] == "F3" and bands[6] == "F3"


def test_saturday_and_sunday() -> None:
    sat = dict(band_by_local_hour("2025-06-07"))
    assert sat[7] == "F2" and sat[12] == "F2" and sat[22] == "F2" and sat[23] == "F3" and sat[3] == "F3"
    assert {b for _, b in band_by_local_hour("2025-06-08")} == {"F3"}


@pytest.mark.parametrize("day", ["2025-04-25", "2025-01-06", "2025-04-21", "2025-12-08", "2026-10-05"])
def test_holidays_on_weekdays_are_f3(day: str) -> None:
    bands = {b for _, b in band_by_local_hour(day)}
    if day == "2026-10-05":  # a Monday that is not a holiday: ordinary weekday
        assert "F1" in bands
    else:
        assert bands == {"F3"}


def test_san_francesco_is_a_holiday_from_2026() -> None:
    assert {b for _, b in band_by_local_hour("2026-10-02")} != {"F3"}  # Friday, ordinary
    # 4 October 2027 is a Monday: national holiday from 2026 on.
    assert {b for _, b in band_by_local_hour("2027-10-04")} == {"F3"}
    # 4 October 2024 was a Friday and not yet a holiday.
    assert "F1" in {b for _, b in band_by_local_hour("2024-10-04")}


def test_dst_days_have_23_and_25_hours_with_correct_bands() -> None:
    spring = band_by_local_hour("2025-03-30")  # Sunday
    autumn = band_by_local_hour("2025-10-26")  # Sunday
    assert len(spring) == 23 and len(autumn) == 25
    assert [h for h, _ in autumn].count(2) == 2
    assert 2 not in [h for h, _ in spring]
    # A weekday after the change: Monday 31 March 2025 08:00 local is F1, 07:00 is F2.
    monday = dict(band_by_local_hour("2025-03-31"))
    assert monday[7] == "F2" and monday[8] == "F1"


def test_naive_hours_are_read_as_local_time() -> None:
    assert time_band(pd.DatetimeIndex(["2025-06-04 08:00"])).tolist() == ["F1"]


def test_zones() -> None:
    assert zone_of_region("Piemonte") == "NORD"
    assert zone_of_region("TOSCANA") == "CNOR"
    assert zone_of_region("Campania") == "CSUD"
    with pytest.raises(ValueError, match="regione sconosciuta"):
        zone_of_region("Atlantide")
