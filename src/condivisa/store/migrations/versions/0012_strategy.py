"""Strategy tools: PESTLE, barriers and opportunities, Theory of Change, policy sandbox, best-practice library.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "strategy_artefacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=True),
        sa.Column("copied_from_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "kind IN ('pestle', 'map', 'toc', 'sandbox', 'practice')", name=op.f("ck_strategy_artefacts_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_strategy_artefacts_municipality_id_municipalities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_artefacts")),
    )
    op.create_index(
        op.f("ix_strategy_artefacts_municipality_id_kind"), "strategy_artefacts", ["municipality_id", "kind"]
    )
    op.create_index(op.f("ix_strategy_artefacts_copied_from_id"), "strategy_artefacts", ["copied_from_id"])
    op.create_table(
        "strategy_action_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("artefact_id", sa.Integer(), nullable=False),
        sa.Column("action_ref", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["artefact_id"],
            ["strategy_artefacts.id"],
            name=op.f("fk_strategy_action_links_artefact_id_strategy_artefacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_action_links")),
        sa.UniqueConstraint("artefact_id", "action_ref", name=op.f("uq_strategy_action_links_artefact_id_action_ref")),
    )
    op.create_index(op.f("ix_strategy_action_links_artefact_id"), "strategy_action_links", ["artefact_id"])
    op.create_index(op.f("ix_strategy_action_links_action_ref"), "strategy_action_links", ["action_ref"])


def downgrade() -> None:
    op.drop_table("strategy_action_links")
    op.drop_table("strategy_artefacts")
