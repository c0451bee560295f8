"""Initial schema: communities and their description, readings, prices, settlements, users and roles, imports.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written to run unchanged on SQLite and PostgreSQL: only generic types, every constraint and index named by the
naming convention of :mod:`condivisa.store.models` (frozen here as literal names), indexes created separately.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)

ROLE_CHECK = "role IN ('platform_admin', 'manager', 'member', 'municipality_officer')"
SCOPE_CHECK = (
    "(role = 'platform_admin' AND community_id IS NULL AND member_id IS NULL AND municipality IS NULL)"
    " OR (role = 'manager' AND community_id IS NOT NULL AND member_id IS NULL AND municipality IS NULL)"
    " OR (role = 'member' AND community_id IS NOT NULL AND member_id IS NOT NULL AND municipality IS NULL)"
    " OR (role = 'municipality_officer' AND community_id IS NULL AND member_id IS NULL AND municipality IS NOT NULL)"
)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("configuration", sa.String(length=3), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("municipality", sa.String(length=200), nullable=True),
        sa.Column("constitution_date", sa.Date(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("excess_to", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
        sa.UniqueConstraint("name", name=op.f("uq_communities_name")),
    )
    op.create_index(op.f("ix_communities_municipality"), "communities", ["municipality"])

    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        _fk("members", "community_id", "communities", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("community_id", "external_id", name=op.f("uq_members_community_id_external_id")),
    )
    op.create_index(op.f("ix_members_community_id"), "members", ["community_id"])

    op.create_table(
        "points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("pod", sa.String(length=16), nullable=False),
        sa.Column("cabina", sa.String(length=32), nullable=False),
        sa.Column("voltage", sa.String(length=2), nullable=False),
        sa.Column("building", sa.String(length=100), nullable=True),
        _fk("points", "community_id", "communities", "CASCADE"),
        _fk("points", "member_id", "members", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points")),
        sa.UniqueConstraint("community_id", "pod", name=op.f("uq_points_community_id_pod")),
    )
    op.create_index(op.f("ix_points_member_id"), "points", ["member_id"])

    op.create_table(
        "plants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("pod", sa.String(length=16), nullable=False),
        sa.Column("cabina", sa.String(length=32), nullable=False),
        sa.Column("technology", sa.String(length=16), nullable=False),
        sa.Column("power_kw", sa.Double(), nullable=False),
        sa.Column("commissioning_date", sa.Date(), nullable=False),
        sa.Column("grant_share", sa.Double(), nullable=False),
        sa.Column("tip_share", sa.Double(), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("building", sa.String(length=100), nullable=True),
        _fk("plants", "community_id", "communities", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plants")),
        sa.UniqueConstraint("community_id", "external_id", name=op.f("uq_plants_community_id_external_id")),
    )
    op.create_index(op.f("ix_plants_community_id"), "plants", ["community_id"])

    op.create_table(
        "regulation_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("share", sa.Double(), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=True),
        _fk("regulation_rules", "community_id", "communities", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regulation_rules")),
        sa.UniqueConstraint("community_id", "position", name=op.f("uq_regulation_rules_community_id_position")),
    )

    op.create_table(
        "readings",
        sa.Column("community_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pod", sa.String(length=16), nullable=False),
        sa.Column("ts", UTC_DATETIME, nullable=False),
        sa.Column("interval_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("withdrawn_kwh", sa.Double(), nullable=False),
        sa.Column("injected_kwh", sa.Double(), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        _fk("readings", "community_id", "communities", "CASCADE"),
        sa.PrimaryKeyConstraint("community_id", "pod", "ts", name=op.f("pk_readings")),
    )
    op.create_index(op.f("ix_readings_community_id_ts"), "readings", ["community_id", "ts"])

    op.create_table(
        "prices",
        sa.Column("zone", sa.String(length=8), nullable=False),
        sa.Column("ts", UTC_DATETIME, nullable=False),
        sa.Column("price_eur_mwh", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("zone", "ts", name=op.f("pk_prices")),
    )

    op.create_table(
        "settlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _fk("settlements", "community_id", "communities", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
    )
    op.create_index(op.f("ix_settlements_community_id_period_start"), "settlements", ["community_id", "period_start"])

    op.create_table(
        "settlement_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.Integer(), nullable=True),
        sa.Column("basis", sa.String(length=32), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        _fk("settlement_lines", "settlement_id", "settlements", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_lines")),
    )
    op.create_index(op.f("ix_settlement_lines_settlement_id"), "settlement_lines", ["settlement_id"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )

    op.create_table(
        "role_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("municipality", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(ROLE_CHECK, name=op.f("ck_role_assignments_role")),
        sa.CheckConstraint(SCOPE_CHECK, name=op.f("ck_role_assignments_scope")),
        _fk("role_assignments", "community_id", "communities", "CASCADE"),
        _fk("role_assignments", "member_id", "members", "CASCADE"),
        _fk("role_assignments", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_assignments")),
    )
    op.create_index(op.f("ix_role_assignments_community_id"), "role_assignments", ["community_id"])
    op.create_index(op.f("ix_role_assignments_user_id"), "role_assignments", ["user_id"])

    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("rows_in", sa.Integer(), nullable=False),
        sa.Column("rows_stored", sa.Integer(), nullable=False),
        sa.Column("rows_inserted", sa.Integer(), nullable=False),
        sa.Column("rows_updated", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        _fk("import_batches", "community_id", "communities", "SET NULL"),
        _fk("import_batches", "user_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    op.create_index(op.f("ix_import_batches_community_id"), "import_batches", ["community_id"])


def downgrade() -> None:
    for table in (
        "import_batches",
        "role_assignments",
        "users",
        "settlement_lines",
        "settlements",
        "prices",
        "readings",
        "regulation_rules",
        "plants",
        "points",
        "members",
        "communities",
    ):
        op.drop_table(table)
