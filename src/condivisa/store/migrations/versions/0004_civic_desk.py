"""Digital help desk: questionnaire answers, tickets, district offices and appointment slots.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "desk_offices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("district", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _fk("desk_offices", "municipality_id", "municipalities", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_offices")),
        sa.UniqueConstraint("municipality_id", "name", name=op.f("uq_desk_offices_municipality_id_name")),
    )
    op.create_index(op.f("ix_desk_offices_municipality_id"), "desk_offices", ["municipality_id"])

    op.create_table(
        "desk_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("ends_at", UTC_DATETIME, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_desk_slots_slot_order")),
        _fk("desk_slots", "office_id", "desk_offices", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_slots")),
        sa.UniqueConstraint("office_id", "starts_at", name=op.f("uq_desk_slots_office_id_starts_at")),
    )
    op.create_index(op.f("ix_desk_slots_office_id"), "desk_slots", ["office_id"])

    op.create_table(
        "desk_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("orientation", sa.JSON(), nullable=False),
        sa.Column("estimate", sa.JSON(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("consent_at", UTC_DATETIME, nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("assigned_to", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", UTC_DATETIME, nullable=True),
        sa.Column("closed_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("status IN ('open', 'assigned', 'answered', 'closed')", name=op.f("ck_desk_tickets_status")),
        _fk("desk_tickets", "municipality_id", "municipalities", "CASCADE"),
        _fk("desk_tickets", "office_id", "desk_offices", "SET NULL"),
        _fk("desk_tickets", "slot_id", "desk_slots", "SET NULL"),
        _fk("desk_tickets", "assigned_to", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_tickets")),
        sa.UniqueConstraint("token", name=op.f("uq_desk_tickets_token")),
        sa.UniqueConstraint("slot_id", name=op.f("uq_desk_tickets_slot_id")),
    )
    op.create_index(op.f("ix_desk_tickets_office_id"), "desk_tickets", ["office_id"])
    op.create_index(op.f("ix_desk_tickets_municipality_id_status"), "desk_tickets", ["municipality_id", "status"])


def downgrade() -> None:
    op.drop_table("desk_tickets")
    op.drop_table("desk_slots")
    op.drop_table("desk_offices")
