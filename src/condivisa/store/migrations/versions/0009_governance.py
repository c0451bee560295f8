"""Community governance: legal form, members' register, assemblies, votes, minutes, energy-poverty fund.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "governance_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("legal_form", sa.String(length=64), nullable=False),
        sa.Column("seat_address", sa.String(length=300), nullable=False),
        sa.Column("seat_municipality", sa.String(length=200), nullable=False),
        sa.Column("max_proxies", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _fk("governance_profiles", "community_id", "communities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_profiles")),
        sa.UniqueConstraint("community_id", name=op.f("uq_governance_profiles_community_id")),
    )
    op.create_table(
        "governance_register",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("admitted_on", sa.Date(), nullable=False),
        sa.Column("admission_decision", sa.String(length=300), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("withdrawal_reason", sa.String(length=300), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "withdrawn_on IS NULL OR withdrawn_on >= admitted_on", name=op.f("ck_governance_register_dates")
        ),
        _fk("governance_register", "community_id", "communities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_register")),
    )
    op.create_index("ix_governance_register_community_id_member", "governance_register", ["community_id", "member"])
    op.create_table(
        "governance_assemblies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("call", sa.String(length=8), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("chair", sa.String(length=200), nullable=False),
        sa.Column("secretary", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("kind IN ('ordinary', 'extraordinary')", name=op.f("ck_governance_assemblies_kind")),
        sa.CheckConstraint("call IN ('first', 'second')", name=op.f("ck_governance_assemblies_call")),
        _fk("governance_assemblies", "community_id", "communities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_assemblies")),
    )
    op.create_index(op.f("ix_governance_assemblies_community_id"), "governance_assemblies", ["community_id"])
    op.create_table(
        "governance_agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assembly_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        _fk("governance_agenda_items", "assembly_id", "governance_assemblies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_agenda_items")),
        sa.UniqueConstraint("assembly_id", "position", name=op.f("uq_governance_agenda_items_assembly_id_position")),
    )
    op.create_index(op.f("ix_governance_agenda_items_assembly_id"), "governance_agenda_items", ["assembly_id"])
    op.create_table(
        "governance_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assembly_id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=100), nullable=False),
        sa.Column("delegate", sa.String(length=100), nullable=True),
        _fk("governance_attendance", "assembly_id", "governance_assemblies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_attendance")),
        sa.UniqueConstraint("assembly_id", "member", name=op.f("uq_governance_attendance_assembly_id_member")),
    )
    op.create_index(op.f("ix_governance_attendance_assembly_id"), "governance_attendance", ["assembly_id"])
    op.create_table(
        "governance_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=100), nullable=False),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.CheckConstraint("choice IN ('yes', 'no', 'abstain')", name=op.f("ck_governance_votes_choice")),
        _fk("governance_votes", "item_id", "governance_agenda_items"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_votes")),
        sa.UniqueConstraint("item_id", "member", name=op.f("uq_governance_votes_item_id_member")),
    )
    op.create_index(op.f("ix_governance_votes_item_id"), "governance_votes", ["item_id"])
    op.create_table(
        "governance_fund_beneficiaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("fund", sa.String(length=200), nullable=False),
        sa.Column("pseudonym", sa.String(length=100), nullable=False),
        sa.Column("member", sa.String(length=100), nullable=True),
        sa.Column("isee_band", sa.String(length=32), nullable=False),
        sa.Column("admitted_on", sa.Date(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _fk("governance_fund_beneficiaries", "community_id", "communities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_fund_beneficiaries")),
        sa.UniqueConstraint(
            "community_id",
            "fund",
            "pseudonym",
            name=op.f("uq_governance_fund_beneficiaries_community_id_fund_pseudonym"),
        ),
    )
    op.create_index(
        op.f("ix_governance_fund_beneficiaries_community_id"), "governance_fund_beneficiaries", ["community_id"]
    )
    op.create_table(
        "governance_fund_disbursements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("fund", sa.String(length=200), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_governance_fund_disbursements_positive")),
        _fk("governance_fund_disbursements", "community_id", "communities"),
        _fk("governance_fund_disbursements", "beneficiary_id", "governance_fund_beneficiaries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_fund_disbursements")),
    )
    op.create_index(
        op.f("ix_governance_fund_disbursements_beneficiary_id"), "governance_fund_disbursements", ["beneficiary_id"]
    )
    op.create_index(
        "ix_governance_fund_disbursements_community_id_fund", "governance_fund_disbursements", ["community_id", "fund"]
    )


def downgrade() -> None:
    op.drop_table("governance_fund_disbursements")
    op.drop_table("governance_fund_beneficiaries")
    op.drop_table("governance_votes")
    op.drop_table("governance_attendance")
    op.drop_table("governance_agenda_items")
    op.drop_table("governance_assemblies")
    op.drop_table("governance_register")
    op.drop_table("governance_profiles")
