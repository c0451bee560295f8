"""Matchmaking: profiles, calls for interest and their answers, matches and consents.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "match_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("profile_kind", sa.String(length=20), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _fk("match_calls", "municipality_id", "municipalities", "CASCADE"),
        _fk("match_calls", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_calls")),
    )
    op.create_index(op.f("ix_match_calls_municipality_id"), "match_calls", ["municipality_id"])

    op.create_table(
        "match_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("cabina", sa.String(length=32), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("vulnerable", sa.Boolean(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _fk("match_profiles", "municipality_id", "municipalities", "CASCADE"),
        _fk("match_profiles", "community_id", "communities", "SET NULL"),
        _fk("match_profiles", "call_id", "match_calls", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_profiles")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_match_profiles_token_hash")),
    )
    op.create_index(op.f("ix_match_profiles_municipality_id"), "match_profiles", ["municipality_id"])

    op.create_table(
        "matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("low_id", sa.Integer(), nullable=False),
        sa.Column("high_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("low_consent", sa.Boolean(), nullable=False),
        sa.Column("high_consent", sa.Boolean(), nullable=False),
        sa.Column("declined_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("consented_at", UTC_DATETIME, nullable=True),
        _fk("matches", "municipality_id", "municipalities", "CASCADE"),
        _fk("matches", "low_id", "match_profiles", "CASCADE"),
        _fk("matches", "high_id", "match_profiles", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matches")),
        sa.UniqueConstraint("low_id", "high_id", name=op.f("uq_matches_low_id_high_id")),
    )
    op.create_index(op.f("ix_matches_municipality_id"), "matches", ["municipality_id"])
    op.create_index(op.f("ix_matches_high_id"), "matches", ["high_id"])

    op.create_table(
        "match_call_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _fk("match_call_answers", "call_id", "match_calls", "CASCADE"),
        _fk("match_call_answers", "profile_id", "match_profiles", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_call_answers")),
    )
    op.create_index(op.f("ix_match_call_answers_call_id"), "match_call_answers", ["call_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_match_call_answers_call_id"), table_name="match_call_answers")
    op.drop_table("match_call_answers")
    op.drop_index(op.f("ix_matches_high_id"), table_name="matches")
    op.drop_index(op.f("ix_matches_municipality_id"), table_name="matches")
    op.drop_table("matches")
    op.drop_index(op.f("ix_match_profiles_municipality_id"), table_name="match_profiles")
    op.drop_table("match_profiles")
    op.drop_index(op.f("ix_match_calls_municipality_id"), table_name="match_calls")
    op.drop_table("match_calls")
