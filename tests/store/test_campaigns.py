"""Campaigns in the database (SQLite and PostgreSQL): validation, listing, rewards from stored readings."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from condivisa.engine.timegrid import LOCAL_TZ, Period
from condivisa.errors import InputError
from condivisa.ingest.readings import readings_from_arrays
from condivisa.model import Community
from condivisa.store import NotFoundError, import_readings, save_community
from condivisa.store.campaigns import (
    compute_and_store_rewards,
    create_campaign,
    get_campaign,
    get_rewards,
    list_campaigns,
    rewards_of_member,
    set_campaign_status,
)
from condivisa.store.models import CampaignRewardRow
from tests.helpers import community, member, plant, pod
from tests.operations.test_demand_response import member_a, member_b, member_c

HISTORY = Period(dt.date(2025, 6, 2), dt.date(2025, 6, 20))


def cer() -> Community:
    # a has two PODs (1, 2), b one (3), c one (4); the plant injects at POD 9
    return community(
        [member("a", [1, 2]), member("b", [3]), member("c", [4])],
        [plant("p1", "a", 9, power=50.0)],
    )


def store(session: Session, engine: Engine) -> int:
    """Save the community and hourly readings for 2..20 June: a's consumption split half and half on its PODs."""
    community_id = save_community(session, cer())
    hours = HISTORY.hours()
    local = hours.tz_convert(LOCAL_TZ)
    days = [t.date() for t in local]
    a = np.array([member_a(d, h) for d, h in zip(days, local.hour, strict=True)])
    b = np.array([member_b(d, h) for d, h in zip(days, local.hour, strict=True)])
    c = np.array([member_c(d, h) for d, h in zip(days, local.hour, strict=True)])
    withdrawn = np.column_stack([a / 2, a / 2, b, c, np.zeros(len(hours))])
    injected = np.zeros_like(withdrawn)
    pods = [pod(1), pod(2), pod(3), pod(4), pod(9)]
    import_readings(engine, community_id, readings_from_arrays(pods, hours[0], withdrawn, injected), source="t")
    return community_id


def new_campaign(session: Session, community_id: int, **changes: object) -> int:
    fields: dict[str, object] = {
        "title": "Consumi a mezzogiorno",
        "start_date": dt.date(2025, 6, 18),
        "end_date": dt.date(2025, 6, 19),
        "window_start_hour": 12,
        "window_end_hour": 14,
        "budget_cents": 1000,
        "baseline_days": 2,
        "message": "Usate lavatrici e lavastoviglie tra le 12 e le 14.",
    }
    fields.update(changes)
    return create_campaign(session, community_id, **fields)  # type: ignore[arg-type]


def test_create_list_get_and_status(session: Session, engine: Engine) -> None:
    community_id = save_community(session, cer())
    first = new_campaign(session, community_id)
    second = new_campaign(
        session, community_id, title="Seconda", start_date=dt.date(2025, 7, 1), end_date=dt.date(2025, 7, 1)
    )
    info = get_campaign(session, first)
    assert info is not None
    assert (info.title, info.status, info.budget_cents, info.window_start_hour, info.window_end_hour) == (
        "Consumi a mezzogiorno",
        "planned",
        1000,
        12,
        14,
    )
    assert info.baseline == {"method": "media_giorni_simili", "days": 2}
    assert info.campaign().baseline_days == 2
    assert [c.id for c in list_campaigns(session, community_id)] == [second, first]  # most recent start first
    set_campaign_status(session, first, "active")
    assert [c.id for c in list_campaigns(session, community_id, status="active")] == [first]
    assert get_campaign(session, 999) is None
    with pytest.raises(InputError) as exc:
        set_campaign_status(session, first, "boh")
    assert exc.value.problems[0].field == "status"
    with pytest.raises(NotFoundError):
        new_campaign(session, 999)


def test_bad_fields_are_all_named(session: Session) -> None:
    community_id = save_community(session, cer())
    with pytest.raises(InputError) as exc:
        new_campaign(session, community_id, title=" ", window_start_hour=14, window_end_hour=14, budget_cents=-5)
    assert [p.field for p in exc.value.problems] == ["title", "window_end_hour", "budget_cents"]
    with pytest.raises(InputError) as exc:
        new_campaign(
            session,
            community_id,
            window_start_hour=-1,
            window_end_hour=25,
            end_date=dt.date(2025, 6, 1),
            baseline_days=0,
        )
    assert [p.field for p in exc.value.problems] == [
        "end_date",
        "window_start_hour",
        "window_end_hour",
        "baseline.days",
    ]
    assert "fuori da 0..24" in exc.value.problems[1].message
    assert list_campaigns(session, community_id) == []


def test_rewards_from_stored_readings(session: Session, engine: Engine) -> None:
    community_id = store(session, engine)
    campaign_id = new_campaign(session, community_id)
    result = compute_and_store_rewards(engine, campaign_id)
    # as in tests/operations/test_demand_response.py, with a's consumption read from two PODs: responses 8, 4 and
    # -4 kWh; 1000 cents -> 667 (8/12, with the leftover cent), 333 (4/12), 0
    assert [(m.member, m.response_kwh, m.reward_cents) for m in result.members] == [
        ("a", 8.0, 667),
        ("b", 4.0, 333),
        ("c", -4.0, 0),
    ]
    stored = get_rewards(session, campaign_id)
    assert [(r.member, r.baseline_kwh, r.actual_kwh, r.response_kwh, r.reward_cents) for r in stored] == [
        ("a", 4.0, 12.0, 8.0, 667),
        ("b", 4.0, 8.0, 4.0, 333),
        ("c", 8.0, 4.0, -4.0, 0),
    ]
    info = get_campaign(session, campaign_id)
    assert info is not None and info.status == "rewarded"

    # computing again replaces the rows; another campaign on 17 June removes that day from the baseline
    # (a: baseline (1 + 50) / 2 per hour -> response -90; b: (0.5 + 7) / 2 -> -7; c: -4): nobody is rewarded
    new_campaign(session, community_id, title="Altra", start_date=dt.date(2025, 6, 17), end_date=dt.date(2025, 6, 17))
    compute_and_store_rewards(session, campaign_id)
    count = session.scalar(select(func.count()).select_from(CampaignRewardRow))
    assert count == 3
    assert [(r.member, r.response_kwh, r.reward_cents) for r in get_rewards(session, campaign_id)] == [
        ("a", -90.0, 0),
        ("b", -7.0, 0),
        ("c", -4.0, 0),
    ]


def test_rewards_of_a_member_for_statements(session: Session, engine: Engine) -> None:
    community_id = store(session, engine)
    campaign_id = new_campaign(session, community_id)
    assert rewards_of_member(session, community_id, "a", dt.date(2025, 6, 1), dt.date(2025, 6, 30)) == []  # not yet
    compute_and_store_rewards(session, campaign_id)
    got = rewards_of_member(session, community_id, "a", dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    assert [(r.campaign_id, r.title, r.reward_cents, r.response_kwh) for r in got] == [
        (campaign_id, "Consumi a mezzogiorno", 667, 8.0)
    ]
    assert got[0].start_date == dt.date(2025, 6, 18) and got[0].end_date == dt.date(2025, 6, 19)
    # the campaign ended on the 19th: a statement up to the 18th does not show it
    assert rewards_of_member(session, community_id, "a", dt.date(2025, 6, 1), dt.date(2025, 6, 18)) == []
    assert rewards_of_member(session, community_id, "zz", dt.date(2025, 6, 1), dt.date(2025, 6, 30)) == []


def test_no_readings_in_the_campaign_is_bad_input(session: Session, engine: Engine) -> None:
    community_id = store(session, engine)
    campaign_id = new_campaign(session, community_id, start_date=dt.date(2026, 1, 7), end_date=dt.date(2026, 1, 8))
    with pytest.raises(InputError) as exc:
        compute_and_store_rewards(engine, campaign_id)
    assert exc.value.problems[0].field == "readings"
    assert get_rewards(session, campaign_id) == []
    info = get_campaign(session, campaign_id)
    assert info is not None and info.status == "planned"
    with pytest.raises(NotFoundError):
        compute_and_store_rewards(engine, 12345)


def test_readings_at_quarter_hours_give_the_same_rewards(session: Session, engine: Engine) -> None:
    # b's POD metered by quarter-hours (a quarter of each hourly value): the hourly sums, hence rewards, are equal
    community_id = save_community(session, cer())
    hours = HISTORY.hours()
    local = hours.tz_convert(LOCAL_TZ)
    days = [t.date() for t in local]
    a = np.array([member_a(d, h) for d, h in zip(days, local.hour, strict=True)])
    b = np.array([member_b(d, h) for d, h in zip(days, local.hour, strict=True)])
    hourly = readings_from_arrays([pod(1)], hours[0], a[:, None], np.zeros((len(a), 1)))
    quarter = readings_from_arrays(
        [pod(3)], hours[0], np.repeat(b / 4, 4)[:, None], np.zeros((4 * len(b), 1)), interval_minutes=15
    )
    import_readings(engine, community_id, hourly, source="h")
    import_readings(engine, community_id, quarter, source="q")
    campaign_id = new_campaign(session, community_id)
    result = compute_and_store_rewards(engine, campaign_id)
    by_member = {m.member: m for m in result.members}
    assert set(by_member) == {"a", "b", "c"}
    assert by_member["b"].response_kwh == pytest.approx(4.0)
    assert by_member["c"].missing_hours == 4 and by_member["c"].reward_cents == 0  # c has no readings at all
    assert (by_member["a"].reward_cents, by_member["b"].reward_cents) == (667, 333)
