"""Energy and emissions inventories; district energy and water management (ISO 50001 style).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "districts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("hdd_base_c", sa.Double(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_districts_municipality_id_municipalities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_districts")),
        sa.UniqueConstraint("municipality_id", "name", name=op.f("uq_districts_municipality_id_name")),
    )
    op.create_table(
        "district_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_district_decisions_district_id_districts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_decisions")),
    )
    op.create_index(op.f("ix_district_decisions_district_id"), "district_decisions", ["district_id"], unique=False)
    op.create_table(
        "district_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("floor_area_m2", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_district_sites_district_id_districts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_sites")),
        sa.UniqueConstraint("district_id", "code", name=op.f("uq_district_sites_district_id_code")),
    )
    op.create_table(
        "district_team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_district_team_members_district_id_districts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_team_members")),
    )
    op.create_index(
        op.f("ix_district_team_members_district_id"), "district_team_members", ["district_id"], unique=False
    )
    op.create_table(
        "district_variables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_district_variables_district_id_districts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_variables")),
        sa.UniqueConstraint("district_id", "name", name=op.f("uq_district_variables_district_id_name")),
    )
    op.create_table(
        "energy_inventories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_kind", sa.String(length=16), nullable=False),
        sa.Column("entity_ref", sa.String(length=40), nullable=False),
        sa.Column("entity_name", sa.String(length=200), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("shared_energy_mwh", sa.Double(), nullable=False),
        sa.Column("green_purchases_mwh", sa.Double(), nullable=False),
        sa.Column("electricity_rule", sa.String(length=16), nullable=False),
        sa.Column("target_reduction_pct", sa.Double(), nullable=True),
        sa.Column("target_year", sa.Integer(), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_energy_inventories_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_energy_inventories_district_id_districts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_energy_inventories_municipality_id_municipalities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_inventories")),
        sa.UniqueConstraint("entity_ref", "year", "kind", name=op.f("uq_energy_inventories_entity_ref_year_kind")),
    )
    op.create_index(op.f("ix_energy_inventories_entity_ref"), "energy_inventories", ["entity_ref"], unique=False)
    op.create_table(
        "district_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("significant_use", sa.String(length=100), nullable=True),
        sa.Column("responsible", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("expected_savings_kwh", sa.Double(), nullable=True),
        sa.Column("verified_savings_kwh", sa.Double(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_district_actions_district_id_districts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["district_sites.id"],
            name=op.f("fk_district_actions_site_id_district_sites"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_actions")),
        sa.UniqueConstraint("district_id", "code", name=op.f("uq_district_actions_district_id_code")),
    )
    op.create_table(
        "district_baselines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("carrier", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("coefficients", sa.JSON(), nullable=False),
        sa.Column("statistics", sa.JSON(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_district_baselines_district_id_districts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["district_sites.id"],
            name=op.f("fk_district_baselines_site_id_district_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_baselines")),
    )
    op.create_index(op.f("ix_district_baselines_district_id"), "district_baselines", ["district_id"], unique=False)
    op.create_table(
        "district_meters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("carrier", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("kwh_per_unit", sa.Double(), nullable=False),
        sa.Column("use", sa.String(length=100), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("pod", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_district_meters_community_id_communities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["district_sites.id"],
            name=op.f("fk_district_meters_site_id_district_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_meters")),
        sa.UniqueConstraint("site_id", "code", name=op.f("uq_district_meters_site_id_code")),
    )
    op.create_index(op.f("ix_district_meters_site_id"), "district_meters", ["site_id"], unique=False)
    op.create_table(
        "district_variable_values",
        sa.Column("variable_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["variable_id"],
            ["district_variables.id"],
            name=op.f("fk_district_variable_values_variable_id_district_variables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("variable_id", "day", name=op.f("pk_district_variable_values")),
    )
    op.create_table(
        "energy_inventory_factors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inventory_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["energy_inventories.id"],
            name=op.f("fk_energy_inventory_factors_inventory_id_energy_inventories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_inventory_factors")),
        sa.UniqueConstraint("inventory_id", "carrier", name=op.f("uq_energy_inventory_factors_inventory_id_carrier")),
    )
    op.create_table(
        "energy_inventory_production",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inventory_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("technology", sa.String(length=32), nullable=False),
        sa.Column("mwh", sa.Double(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["energy_inventories.id"],
            name=op.f("fk_energy_inventory_production_inventory_id_energy_inventories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_inventory_production")),
    )
    op.create_index(
        op.f("ix_energy_inventory_production_inventory_id"),
        "energy_inventory_production",
        ["inventory_id"],
        unique=False,
    )
    op.create_table(
        "energy_inventory_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inventory_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("mwh", sa.Double(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["energy_inventories.id"],
            name=op.f("fk_energy_inventory_rows_inventory_id_energy_inventories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_inventory_rows")),
    )
    op.create_index(
        op.f("ix_energy_inventory_rows_inventory_id"), "energy_inventory_rows", ["inventory_id"], unique=False
    )
    op.create_table(
        "district_enpis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("baseline_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("variable", sa.String(length=50), nullable=True),
        sa.Column("lower_is_better", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["baseline_id"],
            ["district_baselines.id"],
            name=op.f("fk_district_enpis_baseline_id_district_baselines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_enpis")),
    )
    op.create_index(op.f("ix_district_enpis_baseline_id"), "district_enpis", ["baseline_id"], unique=False)
    op.create_table(
        "district_meter_readings",
        sa.Column("meter_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"],
            ["district_meters.id"],
            name=op.f("fk_district_meter_readings_meter_id_district_meters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meter_id", "day", name=op.f("pk_district_meter_readings")),
    )
    op.create_table(
        "district_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("baseline_id", sa.Integer(), nullable=True),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["baseline_id"],
            ["district_baselines.id"],
            name=op.f("fk_district_reviews_baseline_id_district_baselines"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_district_reviews_district_id_districts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_reviews")),
    )
    op.create_index(op.f("ix_district_reviews_district_id"), "district_reviews", ["district_id"], unique=False)
    op.create_table(
        "district_savings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("baseline_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("adjusted_baseline_kwh", sa.Double(), nullable=False),
        sa.Column("actual_kwh", sa.Double(), nullable=False),
        sa.Column("non_routine_kwh", sa.Double(), nullable=False),
        sa.Column("avoided_kwh", sa.Double(), nullable=False),
        sa.Column("savings_fraction", sa.Double(), nullable=True),
        sa.Column("uncertainty_kwh", sa.Double(), nullable=False),
        sa.Column("fsu_68", sa.Double(), nullable=True),
        sa.Column("meets_ashrae14", sa.Boolean(), nullable=False),
        sa.Column("periods", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["district_actions.id"],
            name=op.f("fk_district_savings_action_id_district_actions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["baseline_id"],
            ["district_baselines.id"],
            name=op.f("fk_district_savings_baseline_id_district_baselines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_savings")),
    )
    op.create_index(op.f("ix_district_savings_baseline_id"), "district_savings", ["baseline_id"], unique=False)
    op.create_table(
        "district_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("enpi_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("first_seen", UTC_DATETIME, nullable=False),
        sa.Column("last_seen", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_district_alarms_district_id_districts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["enpi_id"],
            ["district_enpis.id"],
            name=op.f("fk_district_alarms_enpi_id_district_enpis"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_alarms")),
        sa.UniqueConstraint(
            "district_id", "enpi_id", "period", name=op.f("uq_district_alarms_district_id_enpi_id_period")
        ),
    )
    op.create_index(op.f("ix_district_alarms_district_id"), "district_alarms", ["district_id"], unique=False)
    op.create_table(
        "district_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enpi_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("baseline_value", sa.Double(), nullable=True),
        sa.Column("target_value", sa.Double(), nullable=False),
        sa.Column("tolerance", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enpi_id"],
            ["district_enpis.id"],
            name=op.f("fk_district_targets_enpi_id_district_enpis"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_targets")),
    )
    op.create_index(op.f("ix_district_targets_enpi_id"), "district_targets", ["enpi_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_district_targets_enpi_id"), table_name="district_targets")
    op.drop_table("district_targets")
    op.drop_index(op.f("ix_district_alarms_district_id"), table_name="district_alarms")
    op.drop_table("district_alarms")
    op.drop_index(op.f("ix_district_savings_baseline_id"), table_name="district_savings")
    op.drop_table("district_savings")
    op.drop_index(op.f("ix_district_reviews_district_id"), table_name="district_reviews")
    op.drop_table("district_reviews")
    op.drop_table("district_meter_readings")
    op.drop_index(op.f("ix_district_enpis_baseline_id"), table_name="district_enpis")
    op.drop_table("district_enpis")
    op.drop_index(op.f("ix_energy_inventory_rows_inventory_id"), table_name="energy_inventory_rows")
    op.drop_table("energy_inventory_rows")
    op.drop_index(op.f("ix_energy_inventory_production_inventory_id"), table_name="energy_inventory_production")
    op.drop_table("energy_inventory_production")
    op.drop_table("energy_inventory_factors")
    op.drop_table("district_variable_values")
    op.drop_index(op.f("ix_district_meters_site_id"), table_name="district_meters")
    op.drop_table("district_meters")
    op.drop_index(op.f("ix_district_baselines_district_id"), table_name="district_baselines")
    op.drop_table("district_baselines")
    op.drop_table("district_actions")
    op.drop_index(op.f("ix_energy_inventories_entity_ref"), table_name="energy_inventories")
    op.drop_table("energy_inventories")
    op.drop_table("district_variables")
    op.drop_index(op.f("ix_district_team_members_district_id"), table_name="district_team_members")
    op.drop_table("district_team_members")
    op.drop_table("district_sites")
    op.drop_index(op.f("ix_district_decisions_district_id"), table_name="district_decisions")
    op.drop_table("district_decisions")
    op.drop_table("districts")
