"""Stored alarms on SQLite and PostgreSQL: open, refresh, acknowledge, close, notify; the sync's invariants."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from condivisa.errors import InputError
from condivisa.operations.monitoring import AlarmFinding
from condivisa.store import NotFoundError, create_user, save_community, session_factory
from condivisa.store.alarms import (
    acknowledge_alarm,
    close_alarm,
    get_alarm,
    list_alarms,
    mark_notified,
    sync_alarms,
)
from condivisa.store.models import AlarmRow
from tests.helpers import community, member, plant, pod

T0 = dt.datetime(2025, 6, 10, 10, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(hours=1)
T2 = T0 + dt.timedelta(hours=2)
_names = itertools.count()


def new_community(session: Session) -> int:
    c = community([member("m1", [1]), member("m2", [2])], [plant("p1", "m1", 9)], name=f"CER {next(_names)}")
    return save_community(session, c)


def missing(subject: str = pod(1), severity: str = "warning", message: str = "silenzio") -> AlarmFinding:
    return AlarmFinding("missing_data", subject, severity, message, {"silence_h": 8.0})  # type: ignore[arg-type]


SHARING = AlarmFinding("sharing_below_target", "configurazione", "warning", "20%", {"share": 0.2})


def test_sync_opens_refreshes_and_closes(session: Session) -> None:
    cid = new_community(session)
    first = sync_alarms(session, cid, [missing(), SHARING], T0)
    assert [(a.kind, a.status) for a in first.opened] == [("missing_data", "open"), ("sharing_below_target", "open")]
    assert first.refreshed == [] and first.closed == []
    a_id, b_id = (a.id for a in first.opened)

    second = sync_alarms(session, cid, [missing(severity="critical", message="silenzio lungo")], T1)
    assert second.opened == []
    [refreshed] = second.refreshed
    assert (refreshed.id, refreshed.severity, refreshed.message) == (a_id, "critical", "silenzio lungo")
    assert (refreshed.first_seen, refreshed.last_seen) == (T0, T1)
    [closed] = second.closed
    assert (closed.id, closed.status, closed.closed_at) == (b_id, "closed", T1)

    third = sync_alarms(session, cid, [SHARING], T2)  # a closed alarm never reopens: a new one is opened
    [reopened] = third.opened
    assert reopened.id not in (a_id, b_id) and reopened.first_seen == T2
    assert [a.id for a in third.closed] == [a_id]
    statuses = {a.id: a.status for a in list_alarms(session, cid)}
    assert statuses == {a_id: "closed", b_id: "closed", reopened.id: "open"}


def test_values_survive_a_new_session(session: Session, engine: Engine) -> None:
    cid = new_community(session)
    [opened] = sync_alarms(session, cid, [missing()], T0).opened
    with session_factory(engine)() as other:
        again = get_alarm(other, opened.id)
    assert again == opened
    assert again is not None and again.first_seen.tzinfo is not None and again.details == {"silence_h": 8.0}


def test_acknowledged_alarm_keeps_being_refreshed_then_closes(session: Session) -> None:
    cid = new_community(session)
    user = create_user(session, email="Gestore@Example.it", password_hash="x", display_name="Gestore")
    [a] = sync_alarms(session, cid, [missing()], T0).opened
    acked = acknowledge_alarm(session, a.id, user.id, now=T1)
    assert (acked.status, acked.acknowledged_by, acked.acknowledged_at) == ("acknowledged", user.id, T1)
    assert acknowledge_alarm(session, a.id, None, now=T2) == acked  # again: nothing changes
    sync = sync_alarms(session, cid, [missing(message="ancora")], T2)
    assert sync.opened == [] and [(r.id, r.status, r.message) for r in sync.refreshed] == [
        (a.id, "acknowledged", "ancora")
    ]
    closed = sync_alarms(session, cid, [], T2 + dt.timedelta(hours=1)).closed
    assert [(c.id, c.status) for c in closed] == [(a.id, "closed")]
    with pytest.raises(InputError, match="chiuso"):
        acknowledge_alarm(session, a.id)


def test_close_by_hand_and_unknown_ids(session: Session) -> None:
    cid = new_community(session)
    [a] = sync_alarms(session, cid, [missing()], T0).opened
    closed = close_alarm(session, a.id, now=T1)
    assert (closed.status, closed.closed_at) == ("closed", T1)
    assert close_alarm(session, a.id, now=T2) == closed
    with pytest.raises(NotFoundError):
        close_alarm(session, a.id + 100)
    with pytest.raises(NotFoundError):
        acknowledge_alarm(session, a.id + 100)
    [b] = sync_alarms(session, cid, [missing()], T2).opened
    with pytest.raises(NotFoundError, match="utente"):
        acknowledge_alarm(session, b.id, user_id=999)
    assert get_alarm(session, b.id) is not None and get_alarm(session, b.id).status == "open"  # type: ignore[union-attr]
    with pytest.raises(NotFoundError):
        sync_alarms(session, cid + 100, [missing()], T0)


def test_kinds_limit_what_a_check_closes(session: Session) -> None:
    cid = new_community(session)
    sync_alarms(session, cid, [missing(), SHARING], T0)
    partial = sync_alarms(session, cid, [], T1, kinds=["missing_data"])
    assert [a.kind for a in partial.closed] == ["missing_data"]
    assert [a.kind for a in list_alarms(session, cid, "open")] == ["sharing_below_target"]
    with pytest.raises(InputError, match="non controllati"):
        sync_alarms(session, cid, [SHARING], T1, kinds=["missing_data"])


def test_duplicates_keep_the_most_severe(session: Session) -> None:
    cid = new_community(session)
    found = [missing(severity="info", message="a"), missing(severity="critical", message="b"), missing(message="c")]
    [a] = sync_alarms(session, cid, found, T0).opened
    assert (a.severity, a.message) == ("critical", "b")


@pytest.mark.parametrize(
    ("finding", "what"),
    [
        (AlarmFinding("fire", "x", "warning", "m"), "tipo"),  # type: ignore[arg-type]
        (AlarmFinding("missing_data", "x", "urgent", "m"), "gravita'"),  # type: ignore[arg-type]
        (AlarmFinding("missing_data", "x" * 101, "warning", "m"), "soggetto"),
        (AlarmFinding("missing_data", "x", "warning", "m" * 2001), "messaggio"),
        (AlarmFinding("missing_data", "x", "warning", "m", {"t": dt.date(2025, 1, 1)}), "JSON"),
        (AlarmFinding("missing_data", "x", "warning", "m", {"r": float("nan")}), "JSON"),
    ],
)
def test_bad_findings_write_nothing(session: Session, finding: AlarmFinding, what: str) -> None:
    cid = new_community(session)
    sync_alarms(session, cid, [SHARING], T0)
    with pytest.raises(InputError, match=what):
        sync_alarms(session, cid, [finding], T1)
    assert [(a.kind, a.status) for a in list_alarms(session, cid)] == [("sharing_below_target", "open")]


def test_naive_instants_are_refused(session: Session) -> None:
    cid = new_community(session)
    with pytest.raises(InputError, match="fuso orario"):
        sync_alarms(session, cid, [missing()], dt.datetime(2025, 6, 10, 10))


def test_list_filters_and_orders_newest_first(session: Session) -> None:
    cid = new_community(session)
    other = new_community(session)
    sync_alarms(session, cid, [missing(pod(1))], T0)
    sync_alarms(session, cid, [missing(pod(1)), missing(pod(2))], T1)
    sync_alarms(session, other, [SHARING], T1)
    assert [a.subject for a in list_alarms(session, cid)] == [pod(2), pod(1)]
    assert [a.subject for a in list_alarms(session, cid, ["closed"])] == []
    with pytest.raises(InputError, match="stato"):
        list_alarms(session, cid, "pending")
    with pytest.raises(NotFoundError):
        list_alarms(session, other + 100)


def test_mark_notified(session: Session) -> None:
    cid = new_community(session)
    opened = sync_alarms(session, cid, [missing(), SHARING], T0).opened
    assert mark_notified(session, [opened[0].id], now=T1) == 1
    by_id = {a.id: a.notified_at for a in list_alarms(session, cid)}
    assert by_id == {opened[0].id: T1, opened[1].id: None}
    with pytest.raises(NotFoundError):
        mark_notified(session, [opened[1].id, 9999], now=T2)
    assert get_alarm(session, opened[1].id).notified_at is None  # type: ignore[union-attr]
    assert mark_notified(session, []) == 0


@dataclass
class _Model:
    """What the table should hold: the active alarm id of each key, and the ids opened so far."""

    active: dict[tuple[str, str], int] = field(default_factory=dict)
    opened: list[int] = field(default_factory=list)


KEYS = [
    ("missing_data", pod(1)),
    ("missing_data", pod(2)),
    ("abnormal_consumption", pod(1)),
    ("sharing_below_target", "configurazione"),
]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(checks=st.lists(st.sets(st.sampled_from(range(len(KEYS)))), min_size=1, max_size=6))
def test_sync_invariants(engine: Engine, checks: list[set[int]]) -> None:
    """After every check the active alarms are exactly the keys found, one each; an alarm keeps its id while it
    is found, and a key found again after a gap gets a new alarm."""
    model = _Model()
    with session_factory(engine)() as session:
        cid = new_community(session)
        for k, found in enumerate(checks):
            at = T0 + dt.timedelta(hours=k)
            findings = [AlarmFinding(KEYS[i][0], KEYS[i][1], "warning", f"check {k}") for i in sorted(found)]  # type: ignore[arg-type]
            result = sync_alarms(session, cid, findings, at)
            keys = {KEYS[i] for i in found}
            assert {(a.kind, a.subject) for a in result.opened} == keys - set(model.active)
            assert {a.id for a in result.refreshed} == {model.active[key] for key in keys & set(model.active)}
            assert {a.id for a in result.closed} == {model.active[key] for key in set(model.active) - keys}
            model.active = {key: model.active.get(key) or 0 for key in keys}
            for a in result.opened:
                model.active[(a.kind, a.subject)] = a.id
                model.opened.append(a.id)
            active = list_alarms(session, cid, ["open", "acknowledged"])
            assert {(a.kind, a.subject): a.id for a in active} == model.active
            assert all(a.last_seen == at and a.message == f"check {k}" for a in active)
        total = session.scalar(select(func.count()).select_from(AlarmRow).where(AlarmRow.community_id == cid))
        assert total == len(model.opened)
