"""Public buildings as hosts of shared plants.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str, key: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{key}"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "civic_buildings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("use", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=False),
        sa.Column("longitude", sa.Double(), nullable=False),
        sa.Column("roof_area_m2", sa.Double(), nullable=False),
        sa.Column("roof_area_from_footprint", sa.Boolean(), nullable=False),
        sa.Column("usable_share", sa.Double(), nullable=False),
        sa.Column("tilt_deg", sa.Double(), nullable=False),
        sa.Column("azimuth_deg", sa.Double(), nullable=False),
        sa.Column("flat", sa.Boolean(), nullable=False),
        sa.Column("orientation", sa.String(length=20), nullable=True),
        sa.Column("consumption_kwh_year", sa.Double(), nullable=False),
        sa.Column("cabina", sa.String(length=64), nullable=False),
        sa.Column("constraints", sa.JSON(), nullable=False),
        sa.Column("footprint", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _fk("civic_buildings", "municipality_id", "municipalities", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_civic_buildings")),
        sa.UniqueConstraint("municipality_id", "code", name=op.f("uq_civic_buildings_municipality_id_code")),
    )
    op.create_table(
        "civic_building_results",
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("kwp", sa.Double(), nullable=False),
        sa.Column("capped", sa.Boolean(), nullable=False),
        sa.Column("production_kwh", sa.Double(), nullable=False),
        sa.Column("consumption_kwh", sa.Double(), nullable=False),
        sa.Column("self_kwh", sa.Double(), nullable=False),
        sa.Column("surplus_kwh", sa.Double(), nullable=False),
        sa.Column("shared_kwh", sa.Double(), nullable=False),
        sa.Column("neighbours_demand_kwh", sa.Double(), nullable=False),
        sa.Column("yield_kwh_kwp", sa.Double(), nullable=False),
        sa.Column("incentive_eur", sa.Double(), nullable=False),
        sa.Column("savings_eur", sa.Double(), nullable=False),
        sa.Column("sale_eur", sa.Double(), nullable=False),
        sa.Column("opex_eur", sa.Double(), nullable=False),
        sa.Column("capex_eur", sa.Double(), nullable=False),
        sa.Column("grant_eur", sa.Double(), nullable=False),
        sa.Column("payback_years", sa.Double(), nullable=True),
        sa.Column("penalty", sa.Double(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("computed_at", UTC_DATETIME, nullable=False),
        _fk("civic_building_results", "building_id", "civic_buildings", "CASCADE"),
        sa.PrimaryKeyConstraint("building_id", name=op.f("pk_civic_building_results")),
    )
    op.create_table(
        "civic_building_rankings",
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", UTC_DATETIME, nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("cabine", sa.JSON(), nullable=False),
        _fk("civic_building_rankings", "municipality_id", "municipalities", "CASCADE"),
        sa.PrimaryKeyConstraint("municipality_id", name=op.f("pk_civic_building_rankings")),
    )
    op.create_table(
        "civic_cabina_households",
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("cabina", sa.String(length=64), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("kwh_per_household", sa.Double(), nullable=False),
        _fk("civic_cabina_households", "municipality_id", "municipalities", "CASCADE"),
        sa.PrimaryKeyConstraint("municipality_id", "cabina", name=op.f("pk_civic_cabina_households")),
    )


def downgrade() -> None:
    op.drop_table("civic_cabina_households")
    op.drop_table("civic_building_rankings")
    op.drop_table("civic_building_results")
    op.drop_table("civic_buildings")
