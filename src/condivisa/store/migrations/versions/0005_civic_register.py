"""Register of local CERs and AUCs, label criteria, applications and reviews.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str, key: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{key}"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "register_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("configuration", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("members_count", sa.Integer(), nullable=True),
        sa.Column("plants", sa.JSON(), nullable=False),
        sa.Column("total_kw", sa.Double(), nullable=False),
        sa.Column("cabina_codes", sa.JSON(), nullable=False),
        sa.Column("cabina_area", sa.JSON(), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("area_description", sa.String(length=500), nullable=False),
        sa.Column("website", sa.String(length=500), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("contact_public", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("regulation_url", sa.String(length=500), nullable=False),
        sa.Column("regulation_text", sa.Text(), nullable=False),
        sa.Column("publication", sa.String(length=16), nullable=False),
        sa.Column("rejection_reason", sa.String(length=2000), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("manage_token_hash", sa.String(length=64), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", UTC_DATETIME, nullable=True),
        sa.Column("published_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _fk("register_entries", "municipality_id", "municipalities", "CASCADE"),
        _fk("register_entries", "community_id", "communities", "SET NULL"),
        _fk("register_entries", "reviewed_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_entries")),
        sa.UniqueConstraint("manage_token_hash", name=op.f("uq_register_entries_manage_token_hash")),
    )
    op.create_index(
        op.f("ix_register_entries_municipality_id_publication"),
        "register_entries",
        ["municipality_id", "publication"],
    )

    op.create_table(
        "label_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("proposal", sa.Boolean(), nullable=False),
        _fk("label_criteria", "municipality_id", "municipalities", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_criteria")),
        sa.UniqueConstraint("municipality_id", "code", name=op.f("uq_label_criteria_municipality_id_code")),
    )

    op.create_table(
        "label_settings",
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("min_score", sa.Double(), nullable=False),
        sa.Column("validity_years", sa.Integer(), nullable=False),
        _fk("label_settings", "municipality_id", "municipalities", "CASCADE"),
        sa.PrimaryKeyConstraint("municipality_id", name=op.f("pk_label_settings")),
    )

    op.create_table(
        "label_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("review", sa.JSON(), nullable=False),
        sa.Column("decision_note", sa.String(length=2000), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTC_DATETIME, nullable=True),
        sa.Column("awarded_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("submitted_at", UTC_DATETIME, nullable=False),
        _fk("label_applications", "municipality_id", "municipalities", "CASCADE"),
        _fk("label_applications", "entry_id", "register_entries", "CASCADE"),
        _fk("label_applications", "decided_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_applications")),
    )
    op.create_index(op.f("ix_label_applications_entry_id"), "label_applications", ["entry_id"])
    op.create_index(
        op.f("ix_label_applications_municipality_id_status"), "label_applications", ["municipality_id", "status"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_label_applications_municipality_id_status"), table_name="label_applications")
    op.drop_index(op.f("ix_label_applications_entry_id"), table_name="label_applications")
    op.drop_table("label_applications")
    op.drop_table("label_settings")
    op.drop_table("label_criteria")
    op.drop_index(op.f("ix_register_entries_municipality_id_publication"), table_name="register_entries")
    op.drop_table("register_entries")
