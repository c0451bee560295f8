"""Monthly meeting schedules across summer-time changes, agendas and minutes drafts."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from condivisa.energy_team.meetings import (
    DEFAULT_AGENDAS,
    LOCAL_TZ,
    AgendaItem,
    MinutesDecision,
    agenda_text,
    local_instant,
    minutes_draft,
    monthly_schedule,
    nth_weekday,
    parse_agenda,
)


def test_monthly_schedule_keeps_local_time_across_dst() -> None:
    # 17:30 in Rome from February to November 2026: CET (UTC+1) until 29 March, CEST (UTC+2) until 25 October
    starts = monthly_schedule(dt.date(2026, 2, 10), dt.time(17, 30), 10)
    assert [s.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M") for s in starts] == [
        f"{m:02d}-10 17:30" for m in range(2, 12)
    ]
    utc_hours = [s.hour for s in starts]
    assert utc_hours == [16, 16, 15, 15, 15, 15, 15, 15, 15, 16]  # Feb, Mar CET; Apr..Oct CEST; Nov CET
    assert all(s.tzinfo == dt.UTC for s in starts)
    # a meeting on the very day of the change keeps its wall time too
    [spring] = monthly_schedule(dt.date(2026, 3, 29), dt.time(17, 30), 1)
    assert spring == dt.datetime(2026, 3, 29, 15, 30, tzinfo=dt.UTC)
    [autumn] = monthly_schedule(dt.date(2026, 10, 25), dt.time(17, 30), 1)
    assert autumn == dt.datetime(2026, 10, 25, 16, 30, tzinfo=dt.UTC)


def test_gap_and_fold() -> None:
    # 02:30 does not exist on 29 March 2026: moved forward by the gap (03:30 CEST = 01:30 UTC)
    assert local_instant(dt.date(2026, 3, 29), dt.time(2, 30)) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    # 02:30 happens twice on 25 October 2026: the first (CEST, 00:30 UTC)
    assert local_instant(dt.date(2026, 10, 25), dt.time(2, 30)) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)


def test_month_end_and_year_change() -> None:
    starts = monthly_schedule(dt.date(2027, 11, 30), dt.time(9, 0), 4)
    assert [s.astimezone(LOCAL_TZ).date() for s in starts] == [
        dt.date(2027, 11, 30), dt.date(2027, 12, 30), dt.date(2028, 1, 30), dt.date(2028, 2, 29)
    ]  # fmt: skip
    jan31 = monthly_schedule(dt.date(2026, 1, 31), dt.time(9, 0), 3)
    assert [s.astimezone(LOCAL_TZ).day for s in jan31] == [31, 28, 31]


def test_nth_weekday() -> None:
    # first Tuesday of each month from 10 March 2026: March's (3rd) is before the start, so April, May, June
    starts = monthly_schedule(dt.date(2026, 3, 10), dt.time(18, 0), 3, weekday=1, nth=1)
    assert [s.astimezone(LOCAL_TZ).date() for s in starts] == [dt.date(2026, 4, 7), dt.date(2026, 5, 5),
                                                                dt.date(2026, 6, 2)]  # fmt: skip
    assert nth_weekday(2026, 3, 4, -1) == dt.date(2026, 3, 27)
    with pytest.raises(ValueError, match="occorrenza"):
        nth_weekday(2026, 3, 4, 5)
    with pytest.raises(ValueError, match=r"1\.\.36"):
        monthly_schedule(dt.date(2026, 1, 1), dt.time(9), 0)
    with pytest.raises(ValueError, match="insieme"):
        monthly_schedule(dt.date(2026, 1, 1), dt.time(9), 2, weekday=1)


@given(
    st.dates(dt.date(2000, 1, 1), dt.date(2090, 12, 31)),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    st.integers(1, 24),
)
def test_schedule_is_monthly_and_increasing(first: dt.date, at: dt.time, count: int) -> None:
    starts = monthly_schedule(first, at, count)
    assert len(starts) == count
    assert all(a < b for a, b in itertools.pairwise(starts))
    months = [(s.astimezone(LOCAL_TZ).year, s.astimezone(LOCAL_TZ).month) for s in starts]
    assert len(set(months)) == count
    for s in starts:
        local = s.astimezone(LOCAL_TZ)
        if not (local.month in (3, 10) and 1 <= at.hour <= 3):  # away from the changes, wall time is kept exactly
            assert local.time() == at


def test_parse_agenda() -> None:
    text = "\n".join(DEFAULT_AGENDAS["political"]) + "\n\n- [Informativa]  Bandi regionali\n"
    items = parse_agenda(text)
    assert items[0] == AgendaItem("Relazione del tavolo tecnico sullo stato del piano d'azione", "report")
    assert items[1].kind == "decision" and items[2].kind == "discussion"
    assert items[-1] == AgendaItem("Bandi regionali", "information")
    assert parse_agenda(agenda_text(items)) == items
    with pytest.raises(ValueError, match="riga 2"):
        parse_agenda("Primo\n[votazione] Secondo")
    with pytest.raises(ValueError, match="riga 1: punto senza titolo"):
        parse_agenda("[decisione]")


def test_minutes_draft() -> None:
    text = minutes_draft(
        "Unione dei Comuni del Borgo",
        "technical",
        dt.datetime(2026, 7, 1, 15, 0, tzinfo=dt.UTC),
        "Municipio",
        parse_agenda("Avanzamento\n[relazione] Relazione al tavolo politico"),
        ["Anna"],
        ["Bruno"],
        [MinutesDecision("Inviare la relazione", "report", "Anna", dt.date(2026, 7, 15))],
    )
    assert text.startswith("VERBALE DELLA RIUNIONE DEL TAVOLO TECNICO\nUnione dei Comuni del Borgo\n")
    assert "Data: 01/07/2026, ore 17:00 – Luogo: Municipio" in text
    assert "Presenti: Anna" in text and "Assenti: Bruno" in text
    assert "2. Relazione al tavolo politico (relazione)" in text
    assert "- [Relazione al tavolo politico] Inviare la relazione – responsabile: Anna, entro il 15/07/2026" in text
