"""Migrations: an empty database goes to the latest revision, models and migrations agree, upgrading twice is
harmless, on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from condivisa.store import (
    current_revision,
    head_revision,
    import_prices,
    import_readings,
    load_community,
    load_prices,
    load_readings,
    make_engine,
    save_community,
    session_factory,
    upgrade,
)
from condivisa.store.models import Base
from tests.store.conftest import Demo

TABLES = {
    "communities",
    "members",
    "points",
    "plants",
    "regulation_rules",
    "readings",
    "prices",
    "settlements",
    "settlement_lines",
    "users",
    "role_assignments",
    "import_batches",
    # 0002: operations
    "reading_corrections",
    "quarantined_readings",
    "weather_observations",
    "alarms",
    "campaigns",
    "campaign_rewards",
    "payment_batches",
    "payments",
    "ledger_entries",
    # 0003-0008: the municipality's public services
    "municipalities",
    "desk_offices",
    "desk_slots",
    "desk_tickets",
    "register_entries",
    "label_criteria",
    "label_settings",
    "label_applications",
    "match_profiles",
    "matches",
    "match_calls",
    "match_call_answers",
    "civic_buildings",
    "civic_building_results",
    "civic_building_rankings",
    "civic_cabina_households",
    "civic_events",
    "civic_event_registrations",
    "civic_event_materials",
    "civic_event_participants",
    "civic_event_outcomes",
    "civic_announcements",
    # 0013: data safety
    "audit_log",
    # 0009-0012: governing the transition
    "governance_agenda_items",
    "governance_assemblies",
    "governance_attendance",
    "governance_fund_beneficiaries",
    "governance_fund_disbursements",
    "governance_profiles",
    "governance_register",
    "governance_votes",
    "energy_action_changes",
    "energy_actions",
    "energy_decisions",
    "energy_documents",
    "energy_indicator_values",
    "energy_indicators",
    "energy_mailings",
    "energy_meetings",
    "energy_subscribers",
    "energy_team_members",
    "energy_team_municipalities",
    "energy_teams",
    "district_actions",
    "district_alarms",
    "district_baselines",
    "district_decisions",
    "district_enpis",
    "district_meter_readings",
    "district_meters",
    "district_reviews",
    "district_savings",
    "district_sites",
    "district_targets",
    "district_team_members",
    "district_variable_values",
    "district_variables",
    "districts",
    "energy_inventories",
    "energy_inventory_factors",
    "energy_inventory_production",
    "energy_inventory_rows",
    "strategy_action_links",
    "strategy_artefacts",
}


def test_upgrade_creates_every_table_and_matches_the_models(empty_url: str) -> None:
    assert current_revision(empty_url) is None
    assert upgrade(empty_url) == head_revision()
    assert current_revision(empty_url) == head_revision()
    engine = make_engine(empty_url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
        assert {t.name for t in Base.metadata.sorted_tables} == TABLES
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            assert compare_metadata(context, Base.metadata) == []
        readings = inspect(engine)
        assert readings.get_pk_constraint("readings")["constrained_columns"] == ["community_id", "pod", "ts"]
        assert readings.get_pk_constraint("readings")["name"] == "pk_readings"
        assert {ix["name"]: ix["column_names"] for ix in readings.get_indexes("readings")} == {
            "ix_readings_community_id_ts": ["community_id", "ts"]
        }
    finally:
        engine.dispose()


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    finally:
        engine.dispose()


def test_upgrade_again_leaves_data_unchanged(db_url: str, demo: Demo) -> None:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            community_id = save_community(session, demo.community, municipality="Borgo Demo")
        import_readings(engine, community_id, demo.readings, source="demo")
        import_prices(engine, demo.prices)
        before = load_readings(engine, community_id).frame
        prices_before = load_prices(engine).frame
        with engine.connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in sorted(TABLES)}

        assert upgrade(db_url) == head_revision()

        with session_factory(engine)() as session:
            assert load_community(session, community_id).model_dump() == demo.community.model_dump()
        pd.testing.assert_frame_equal(load_readings(engine, community_id).frame, before)
        pd.testing.assert_frame_equal(load_prices(engine).frame, prices_before)
        with engine.connect() as conn:
            assert {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in sorted(TABLES)} == counts
    finally:
        engine.dispose()


def test_upgrade_from_0001_keeps_data_and_adds_operations(empty_url: str, demo: Demo) -> None:
    """A database created by revision 0001 holding the demo goes to head with its data intact."""
    assert upgrade(empty_url, "0001") == "0001"
    engine = make_engine(empty_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO communities (name, configuration, region, parameters, created_at, updated_at)"
                    " VALUES ('Vecchia', 'CER', 'Piemonte', '{}', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            cid = conn.execute(text("SELECT id FROM communities")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO members (community_id, position, external_id, name, kind)"
                    " VALUES (:c, 0, 'm1', 'Rossi', 'household')"
                ),
                {"c": cid},
            )
        assert upgrade(empty_url) == head_revision()
        with engine.connect() as conn:
            row = conn.execute(text("SELECT external_id, name, email, iban FROM members")).one()
        assert tuple(row) == ("m1", "Rossi", None, None)
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()
