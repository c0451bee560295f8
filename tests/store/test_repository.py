"""Repository functions on SQLite and PostgreSQL: communities, readings, prices, settlements, users and roles."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from condivisa.engine import settle
from condivisa.errors import InputError
from condivisa.ingest.readings import Readings, readings_from_arrays
from condivisa.model import Community
from condivisa.report import settlement_document
from condivisa.store import (
    NotFoundError,
    assign_role,
    create_user,
    get_settlement,
    get_user_by_email,
    import_prices,
    import_readings,
    list_communities,
    list_settlements,
    load_community,
    load_prices,
    load_readings,
    member_row_id,
    save_community,
    save_settlement,
)
from condivisa.store.models import ImportBatch, RoleAssignment
from tests.store.conftest import Demo


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["pod", "timestamp"]).reset_index(drop=True)


def synthetic(pods: int, hours: int, *, start: str = "2025-03-01", interval: int = 60, seed: int = 0) -> Readings:
    rng = np.random.default_rng(seed)
    steps = hours * 60 // interval
    w = np.round(rng.uniform(0, 2, (steps, pods)), 3)
    i = np.round(rng.uniform(0, 1, (steps, pods)), 3)
    names = [f"IT001E{30_000_000 + k:08d}" for k in range(pods)]
    return readings_from_arrays(names, pd.Timestamp(start, tz="UTC"), w, i, interval_minutes=interval, source="t")


# Communities ----------------------------------------------------------------------------------------------------


def test_community_round_trip(session: Session, demo: Demo) -> None:
    community_id = save_community(session, demo.community, municipality="Borgo Demo", source="demo.yaml")
    loaded = load_community(session, community_id)
    assert loaded.model_dump() == demo.community.model_dump()
    assert loaded == demo.community
    [info] = list_communities(session)
    assert (info.id, info.name, info.municipality, info.members) == (
        community_id,
        "CER Borgo Demo",
        "Borgo Demo",
        len(demo.community.members),
    )
    assert info.created_at.tzinfo is not None
    with pytest.raises(NotFoundError):
        load_community(session, community_id + 1)


def test_save_community_replaces_the_description_by_name(session: Session, demo: Demo) -> None:
    community_id = save_community(session, demo.community, municipality="Borgo Demo")
    kept = member_row_id(session, community_id, "m02")
    dropped = member_row_id(session, community_id, "m10")
    assert kept is not None and dropped is not None
    user = create_user(session, email="Parroco@Example.org ", password_hash="x", display_name="Parroco")
    other = create_user(session, email="rossi@example.org", password_hash="x", display_name="Rossi")
    assign_role(session, user_id=user.id, role="member", community_id=community_id, member_id=kept)
    assign_role(session, user_id=other.id, role="member", community_id=community_id, member_id=dropped)

    doc = demo.community.model_dump()
    doc["members"] = [m for m in doc["members"] if m["id"] != "m10"]
    doc["members"].append(
        {"id": "m99", "name": "Nuovo Socio", "kind": "household", "pods": [doc["members"][9]["pods"][0]]}
    )
    doc["members"][9]["pods"] = []  # its POD moves to the new member: unique POD per community still holds
    doc["plants"][1]["power_kw"] = 180.0
    doc["regulation"] = [{"to": "consumers", "share": 1.0, "by": "equal"}]
    doc["parameters"] = {"cu_af_eur_mwh": 10.5}
    changed = Community.model_validate(doc)

    assert save_community(session, changed) == community_id
    assert load_community(session, community_id).model_dump() == changed.model_dump()
    assert member_row_id(session, community_id, "m02") == kept  # same row: its roles survive
    assert member_row_id(session, community_id, "m10") is None
    roles = session.scalars(select(RoleAssignment).order_by(RoleAssignment.id)).all()
    assert [(r.user_id, r.member_id) for r in roles] == [(user.id, kept)]
    assert list_communities(session)[0].municipality == "Borgo Demo"  # None keeps the stored one


def test_save_community_refuses_text_longer_than_its_column_on_every_backend(session: Session, demo: Demo) -> None:
    doc = demo.community.model_dump()
    doc["members"][0]["name"] = "x" * 201
    with pytest.raises(InputError, match=r"members\[0\]"):
        save_community(session, Community.model_validate(doc), source="c.yaml")
    assert list_communities(session) == []
    failed = session.scalars(select(ImportBatch)).all()
    assert [(b.kind, b.status, b.source) for b in failed] == [("community", "failed", "c.yaml")]


# Readings -------------------------------------------------------------------------------------------------------


def test_readings_import_is_idempotent_and_counts_corrections(engine: Engine, session: Session, demo: Demo) -> None:
    community_id = save_community(session, demo.community)
    n = len(demo.readings.frame)
    first = import_readings(engine, community_id, demo.readings, source="r.csv")
    assert (first.rows_in, first.inserted, first.updated, first.unchanged) == (n, n, 0, 0)
    again = import_readings(engine, community_id, demo.readings, source="r.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, n)

    frame = demo.readings.frame.copy()
    frame.loc[[3, 50, 700], "withdrawn_kwh"] += 0.5
    frame.loc[[50, 900], "injected_kwh"] += 0.25  # row 50 changes twice: one corrected reading
    extra = synthetic(2, 24).frame
    corrected = Readings(
        frame=pd.concat([frame, extra], ignore_index=True),
        interval_minutes={**demo.readings.interval_minutes, **dict.fromkeys(extra["pod"], 60)},
    )
    result = import_readings(engine, community_id, corrected, source="r2.csv")
    assert (result.inserted, result.updated, result.unchanged) == (48, 4, n - 4)
    assert _count(engine, "readings") == n + 48
    stored = load_readings(engine, community_id).frame
    pd.testing.assert_frame_equal(stored, _sorted(corrected.frame), check_dtype=False)

    batches = session.scalars(select(ImportBatch).where(ImportBatch.kind == "readings").order_by(ImportBatch.id))
    assert [(b.status, b.rows_in, b.rows_inserted, b.rows_updated, b.source) for b in batches] == [
        ("done", n, n, 0, "r.csv"),
        ("done", n, 0, 0, "r.csv"),
        ("done", n + 48, 48, 4, "r2.csv"),
    ]


def test_load_readings_equals_what_was_imported(engine: Engine, session: Session, demo: Demo) -> None:
    community_id = save_community(session, demo.community)
    import_readings(engine, community_id, demo.readings, source="demo")
    loaded = load_readings(session, community_id)
    assert str(loaded.frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert list(loaded.frame.columns) == ["pod", "timestamp", "withdrawn_kwh", "injected_kwh"]
    pd.testing.assert_frame_equal(loaded.frame, _sorted(demo.readings.frame), check_dtype=False)
    present = set(demo.readings.frame["pod"])
    assert loaded.interval_minutes == {p: m for p, m in demo.readings.interval_minutes.items() if p in present}
    assert set(loaded.interval_minutes.values()) == {15, 60}

    start, end = pd.Timestamp("2025-06-02T10:00", tz="Europe/Rome"), pd.Timestamp("2025-06-02T12:00", tz="UTC")
    part = load_readings(engine, community_id, start=start, end=end).frame
    f = demo.readings.frame
    expected = _sorted(f[(f["timestamp"] >= start) & (f["timestamp"] < end)])
    pd.testing.assert_frame_equal(part, expected, check_dtype=False)
    assert len(load_readings(engine, community_id, start=end, end=end).frame) == 0
    with pytest.raises(ValueError, match="fuso"):
        load_readings(engine, community_id, start=dt.datetime(2025, 6, 1))
    with pytest.raises(NotFoundError):
        load_readings(engine, community_id + 1)


def test_bad_readings_change_nothing_and_are_recorded(engine: Engine, session: Session, demo: Demo) -> None:
    community_id = save_community(session, demo.community)
    import_readings(engine, community_id, demo.readings, source="ok.csv")
    before = load_readings(engine, community_id).frame

    f = demo.readings.frame
    duplicated = Readings(pd.concat([f, f.iloc[[5]]], ignore_index=True), demo.readings.interval_minutes)
    with pytest.raises(InputError, match="duplicati"):
        import_readings(engine, community_id, duplicated, source="dup.csv")
    negative = f.copy()
    negative.loc[7, "withdrawn_kwh"] = np.nan
    with pytest.raises(InputError, match="withdrawn_kwh"):
        import_readings(engine, community_id, Readings(negative, demo.readings.interval_minutes), source="nan.csv")
    naive = f.copy()
    naive["timestamp"] = naive["timestamp"].dt.tz_localize(None)
    with pytest.raises(InputError, match="fuso"):
        import_readings(engine, community_id, Readings(naive, demo.readings.interval_minutes), source="naive.csv")
    with pytest.raises(InputError, match="risoluzione"):
        import_readings(engine, community_id, Readings(f, {}), source="nores.csv")
    with pytest.raises(NotFoundError):
        import_readings(engine, community_id + 1, demo.readings, source="other.csv")

    pd.testing.assert_frame_equal(load_readings(engine, community_id).frame, before)
    failed = session.scalars(select(ImportBatch).where(ImportBatch.status == "failed").order_by(ImportBatch.id))
    assert [(b.source, b.community_id) for b in failed] == [
        ("dup.csv", community_id),
        ("nan.csv", community_id),
        ("naive.csv", community_id),
        ("nores.csv", community_id),
        ("other.csv", None),
    ]


def test_unsorted_readings_and_estimated_flag(engine: Engine, session: Session, demo: Demo) -> None:
    community_id = save_community(session, demo.community)
    r = synthetic(3, 48, interval=15)
    shuffled = r.frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    shuffled["estimated"] = False
    assert import_readings(engine, community_id, Readings(shuffled, r.interval_minutes), source="s").inserted == len(
        shuffled
    )
    pd.testing.assert_frame_equal(load_readings(engine, community_id).frame, _sorted(r.frame), check_dtype=False)
    shuffled.loc[0, "estimated"] = True  # only the flag changes: still a correction
    result = import_readings(engine, community_id, Readings(shuffled, r.interval_minutes), source="s")
    assert (result.inserted, result.updated) == (0, 1)
    assert _count(engine, "readings WHERE estimated") == 1


# Prices ---------------------------------------------------------------------------------------------------------


def test_prices_upsert_and_load(engine: Engine, demo: Demo) -> None:
    n = len(demo.prices.frame)
    first = import_prices(engine, demo.prices)
    assert (first.inserted, first.updated, first.unchanged) == (n, 0, 0)
    again = import_prices(engine, demo.prices, source="again")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, n)
    loaded = load_prices(engine, zones=["NORD"])
    pd.testing.assert_frame_equal(loaded.frame, demo.prices.frame, check_dtype=False)
    changed = demo.prices.frame.copy()
    changed.loc[[0, 1], "price_eur_mwh"] += 1.0
    pun = changed.assign(zone="PUN")
    result = import_prices(engine, type(demo.prices)(pd.concat([changed, pun], ignore_index=True), "p2"))
    assert (result.inserted, result.updated, result.unchanged) == (n, 2, n - 2)
    assert load_prices(engine, zones=["SUD"]).frame.empty
    window = load_prices(
        engine, zones=["PUN"], start=demo.period.start_utc, end=demo.period.start_utc + pd.Timedelta("2h")
    )
    assert list(window.frame["price_eur_mwh"]) == list(changed["price_eur_mwh"][:2])


# Settlements ----------------------------------------------------------------------------------------------------


def test_settle_from_the_database_equals_settle_in_memory(engine: Engine, session: Session, demo: Demo) -> None:
    community_id = save_community(session, demo.community)
    import_readings(engine, community_id, demo.readings, source="demo")
    import_prices(engine, demo.prices)
    memory = settle(demo.community, demo.readings, demo.prices, period=demo.period)

    period = demo.period
    stored = settle(
        load_community(session, community_id),
        load_readings(engine, community_id, start=period.start_utc, end=period.end_utc),
        load_prices(engine, zones=["NORD"], start=period.start_utc, end=period.end_utc),
        period=period,
    )
    expected, got = settlement_document(memory), settlement_document(stored)
    assert expected["prices"].pop("source") == "file prices.csv, zona NORD"
    assert got["prices"].pop("source") == "file database, zona NORD"
    assert got == expected
    assert stored.allocation == memory.allocation


def test_settlements_are_stored_with_document_and_lines(engine: Engine, session: Session, demo: Demo) -> None:
    community_id = save_community(session, demo.community)
    s = settle(demo.community, demo.readings, demo.prices, period=demo.period)
    document = settlement_document(s)
    first = save_settlement(session, community_id, document, s.allocation.lines)
    second = save_settlement(session, community_id, json.loads(json.dumps(document)), status="approved")

    got = get_settlement(session, first)
    assert got is not None
    assert got.document == document
    assert got.total_cents == s.allocation.total_cents > 0
    assert (got.period_start, got.period_end) == (demo.period.start, demo.period.end)
    assert sum(line.amount_cents for line in got.lines) == got.total_cents
    assert [(x.recipient, x.amount_cents) for x in got.lines] == [(x.to, x.amount_cents) for x in s.allocation.lines]
    assert {x.rule for x in got.lines} <= {None, 1, 2, 3, 4}
    from_document = get_settlement(session, second)
    assert from_document is not None and from_document.lines == got.lines  # lines read back from the document
    assert [x.id for x in list_settlements(session, community_id)] == [second, first]
    assert get_settlement(session, second + 1) is None
    with pytest.raises(ValueError, match="sommano"):
        save_settlement(session, community_id, document, s.allocation.lines[:-1])
    with pytest.raises(NotFoundError):
        save_settlement(session, community_id + 1, document)
    assert _count(engine, "settlements") == 2


# Users and roles ------------------------------------------------------------------------------------------------


def test_users_and_roles(session: Session, demo: Demo) -> None:
    community_id = save_community(session, demo.community, municipality="Borgo Demo")
    user = create_user(session, email=" Anna.Rossi@Example.ORG", password_hash="$argon2id$...", display_name="Anna")
    assert user.email == "anna.rossi@example.org" and user.locale == "it" and user.active
    found = get_user_by_email(session, email="ANNA.ROSSI@example.org")
    assert found is not None and found.id == user.id
    assert get_user_by_email(session, email="nobody@example.org") is None
    with pytest.raises(ValueError, match="esiste"):
        create_user(session, email="anna.rossi@example.org", password_hash="y", display_name="Anna 2")
    with pytest.raises(ValueError, match="email"):
        create_user(session, email="no-at-sign", password_hash="y", display_name="x")

    member = member_row_id(session, community_id, "m01")
    manager = assign_role(session, user_id=user.id, role="manager", community_id=community_id)
    assert assign_role(session, user_id=user.id, role="manager", community_id=community_id).id == manager.id
    assign_role(session, user_id=user.id, role="member", community_id=community_id, member_id=member)
    assign_role(session, user_id=user.id, role="municipality_officer", municipality="Borgo Demo")
    assign_role(session, user_id=user.id, role="platform_admin")
    session.refresh(user)
    assert [r.role for r in user.roles] == ["manager", "member", "municipality_officer", "platform_admin"]

    with pytest.raises(ValueError, match="sconosciuto"):
        assign_role(session, user_id=user.id, role="owner")
    with pytest.raises(ValueError, match="community_id"):
        assign_role(session, user_id=user.id, role="manager")
    with pytest.raises(ValueError, match="nessun ambito"):
        assign_role(session, user_id=user.id, role="platform_admin", community_id=community_id)
    with pytest.raises(NotFoundError):
        assign_role(session, user_id=user.id + 100, role="platform_admin")
    with pytest.raises(NotFoundError):
        assign_role(session, user_id=user.id, role="member", community_id=community_id, member_id=(member or 0) + 999)
