"""Training and engagement: events, registrations, attendance, materials, announcements.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str, key: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{key}"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _event_child(name: str, *columns: sa.Column[Any] | sa.UniqueConstraint) -> None:
    """A table hanging from ``civic_events`` (id, event_id, ...), with its index on ``event_id``."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        *columns,
        _fk(name, "event_id", "civic_events", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_event_id"), name, ["event_id"])


def upgrade() -> None:
    op.create_table(
        "civic_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=500), nullable=False),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("ends_at", UTC_DATETIME, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("registration_open", sa.Boolean(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("district", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name=op.f("ck_civic_events_capacity_positive")),
        sa.CheckConstraint("ends_at >= starts_at", name=op.f("ck_civic_events_ends_after_start")),
        _fk("civic_events", "municipality_id", "municipalities", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_civic_events")),
    )
    op.create_index(op.f("ix_civic_events_municipality_id_starts_at"), "civic_events", ["municipality_id", "starts_at"])

    _event_child(
        "civic_event_registrations",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("stakeholder_group", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("consent_at", UTC_DATETIME, nullable=False),
        sa.Column("queued_at", UTC_DATETIME, nullable=False),
        sa.Column("confirmed_at", UTC_DATETIME, nullable=True),
        sa.Column("cancelled_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("event_id", "email", name=op.f("uq_civic_event_registrations_event_id_email")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_civic_event_registrations_token_hash")),
    )
    _event_child(
        "civic_event_materials",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("uploaded_at", UTC_DATETIME, nullable=False),
    )
    _event_child(
        "civic_event_participants",
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("stakeholder_group", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
    )
    _event_child(
        "civic_event_outcomes",
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("public_summary", sa.Text(), nullable=False),
        sa.Column("internal_notes", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
    )

    op.create_table(
        "civic_announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_from", UTC_DATETIME, nullable=False),
        sa.Column("published_until", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _fk("civic_announcements", "municipality_id", "municipalities", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_civic_announcements")),
    )
    op.create_index(op.f("ix_civic_announcements_municipality_id"), "civic_announcements", ["municipality_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_civic_announcements_municipality_id"), table_name="civic_announcements")
    op.drop_table("civic_announcements")
    for name in (
        "civic_event_outcomes",
        "civic_event_participants",
        "civic_event_materials",
        "civic_event_registrations",
    ):
        op.drop_index(op.f(f"ix_{name}_event_id"), table_name=name)
        op.drop_table(name)
    op.drop_index(op.f("ix_civic_events_municipality_id_starts_at"), table_name="civic_events")
    op.drop_table("civic_events")
