"""Pure logic of the training and engagement service: places and waiting list, attendance statistics, iCalendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.civic.engagement import (
    AttendanceRecord,
    CalendarEvent,
    Seat,
    Status,
    attendance_statistics,
    event_uid,
    events_ical,
    local_input_value,
    parse_local_datetime,
    places_left,
    rebalance,
)


class Queue:
    """A tiny model of an event's registrations driven by :func:`rebalance`, as the storage uses it."""

    def __init__(self, capacity: int | None) -> None:
        self.capacity = capacity
        self.seats: list[Seat] = []

    def _settle(self) -> None:
        decided = rebalance(self.capacity, self.seats)
        self.seats = [Seat(s.id, decided[s.id]) for s in self.seats]

    def register(self, rid: int) -> Status:
        self.seats.append(Seat(rid, "waiting"))
        self._settle()
        return self.status(rid)

    def cancel(self, rid: int) -> None:
        self.seats = [Seat(s.id, "cancelled") if s.id == rid else s for s in self.seats]
        self._settle()

    def status(self, rid: int) -> Status:
        return next(s.status for s in self.seats if s.id == rid)

    def with_status(self, status: str) -> list[int]:
        return [s.id for s in self.seats if s.status == status]


def test_register_up_to_capacity_then_wait_and_promote_in_order() -> None:
    q = Queue(capacity=2)
    assert [q.register(i) for i in (1, 2, 3, 4, 5)] == ["confirmed", "confirmed", "waiting", "waiting", "waiting"]
    q.cancel(2)
    assert q.with_status("confirmed") == [1, 3]  # the first waiting, not the last
    assert q.with_status("waiting") == [4, 5]
    q.cancel(4)  # a waiting person leaving promotes nobody
    assert q.with_status("confirmed") == [1, 3] and q.with_status("waiting") == [5]
    q.cancel(1)
    assert q.with_status("confirmed") == [3, 5] and q.with_status("waiting") == []


def test_capacity_changes_never_take_a_place_back() -> None:
    seats = [Seat(1, "confirmed"), Seat(2, "confirmed"), Seat(3, "waiting"), Seat(4, "waiting")]
    assert rebalance(1, seats) == {1: "confirmed", 2: "confirmed", 3: "waiting", 4: "waiting"}
    assert rebalance(3, seats) == {1: "confirmed", 2: "confirmed", 3: "confirmed", 4: "waiting"}
    assert rebalance(None, seats) == {1: "confirmed", 2: "confirmed", 3: "confirmed", 4: "confirmed"}
    assert places_left(3, 5) == 0 and places_left(10, 4) == 6 and places_left(None, 4) is None


def test_rebalance_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="capienza"):
        rebalance(-1, [])
    with pytest.raises(ValueError, match="due volte"):
        rebalance(2, [Seat(1, "waiting"), Seat(1, "waiting")])


operations = st.lists(st.tuples(st.sampled_from(["register", "cancel"]), st.integers(0, 30)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(capacity=st.one_of(st.none(), st.integers(1, 6)), ops=operations)
def test_never_more_confirmed_than_capacity_and_every_registration_once(
    capacity: int | None, ops: list[tuple[str, int]]
) -> None:
    q = Queue(capacity)
    next_id = 0
    for op, pick in ops:
        if op == "register":
            next_id += 1
            q.register(next_id)
        else:
            live = [s.id for s in q.seats if s.status != "cancelled"]
            if live:
                q.cancel(live[pick % len(live)])
        ids = [s.id for s in q.seats]
        assert sorted(ids) == list(range(1, next_id + 1))  # every registration exactly once
        confirmed, waiting = q.with_status("confirmed"), q.with_status("waiting")
        assert set(confirmed).isdisjoint(waiting)
        if capacity is None:
            assert waiting == []
        else:
            assert len(confirmed) <= capacity
            if waiting:  # nobody waits while a place is free
                assert len(confirmed) == capacity
        # first come, first served: everyone still waiting registered after everyone holding a place
        if waiting and confirmed:
            assert max(confirmed) < min(waiting)


def test_attendance_statistics_on_a_constructed_case() -> None:
    records = [
        AttendanceRecord("course_citizens", "citizens", "confirmed", True),
        AttendanceRecord("course_citizens", "citizens", "confirmed", False),
        AttendanceRecord("course_citizens", "businesses", "confirmed", True),
        AttendanceRecord("course_citizens", "citizens", "waiting", True),  # present by mistake: not counted
        AttendanceRecord("course_citizens", "citizens", "cancelled", False),
        AttendanceRecord("workshop", "third_sector", "confirmed", True),
        AttendanceRecord("workshop", "businesses", "confirmed", False),
        AttendanceRecord("course_staff", "public_bodies", "waiting", False),
    ]
    stats = attendance_statistics(records)
    kinds = {r.key: (r.confirmed, r.waiting, r.attended) for r in stats.by_kind}
    assert kinds == {"course_staff": (0, 1, 0), "course_citizens": (3, 1, 2), "workshop": (2, 0, 1)}
    assert [r.key for r in stats.by_kind] == ["course_staff", "course_citizens", "workshop"]
    groups = {r.key: (r.confirmed, r.waiting, r.attended) for r in stats.by_group}
    assert groups == {
        "citizens": (2, 1, 1),
        "businesses": (2, 0, 1),
        "third_sector": (1, 0, 1),
        "public_bodies": (0, 1, 0),
    }
    assert (stats.total.confirmed, stats.total.waiting, stats.total.attended) == (5, 2, 3)
    assert stats.total.rate == pytest.approx(3 / 5)
    assert next(r for r in stats.by_kind if r.key == "course_staff").rate is None
    assert next(r for r in stats.by_kind if r.key == "course_citizens").label == "Corso per cittadini"
    assert attendance_statistics([]).total.confirmed == 0


def test_local_times_are_europe_rome() -> None:
    winter = parse_local_datetime("2026-12-01T18:00", "inizio")
    summer = parse_local_datetime("2026-07-01T18:00", "inizio")
    assert winter == dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)
    assert summer == dt.datetime(2026, 7, 1, 16, 0, tzinfo=dt.UTC)
    assert local_input_value(summer) == "2026-07-01T18:00"
    with pytest.raises(ValueError, match="inizio"):
        parse_local_datetime("domani", "inizio")


def test_events_ical_in_rome_time() -> None:
    start = dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)
    events = [
        CalendarEvent(
            id=7,
            kind="course_citizens",
            title="Che cos'è una CER",
            description="Corso base.",
            place="https://meet.example/abc",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            url="http://127.0.0.1/comune/borgo-demo/eventi/7",
            updated_at=start - dt.timedelta(days=3),
        )
    ]
    body = events_ical("Borgo Demo", "borgo-demo", events)
    assert b"DTSTART;TZID=Europe/Rome:20261201T180000" in body
    assert b"BEGIN:VTIMEZONE" in body
    cal = icalendar.Calendar.from_ical(body)
    (event,) = cal.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Che cos'è una CER"
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 1, 18, 0, tzinfo=ZoneInfo("Europe/Rome"))
    assert str(event["UID"]) == event_uid("borgo-demo", 7) != event_uid("altrove", 7)
    assert str(event["LOCATION"]) == "https://meet.example/abc"
    assert b"Corso per cittadini" in body
    assert b"BEGIN:VEVENT" not in events_ical("Borgo Demo", "borgo-demo", [])
