"""Inter-municipal energy team and action plan (PAES/PAESC).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)

TABLES = "team_table IN ('political', 'technical')"
SECTORS = (
    "sector IN ('municipal_buildings', 'tertiary', 'residential', 'public_lighting', 'transport', "
    "'local_electricity', 'local_heat', 'other')"
)
STATUSES = "status IN ('planned', 'ongoing', 'completed', 'postponed', 'cancelled')"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _ck(table: str, name: str, condition: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def upgrade() -> None:
    op.create_table(
        "energy_teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("baseline_year", sa.Integer(), nullable=False),
        sa.Column("target_year", sa.Integer(), nullable=False),
        sa.Column("reduction_target_pct", sa.Double(), nullable=False),
        sa.Column("baseline_t_co2", sa.Double(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _ck("energy_teams", "target_pct", "reduction_target_pct >= 0 AND reduction_target_pct <= 100"),
        _ck("energy_teams", "years", "target_year > baseline_year"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_energy_teams_name")),
    )

    op.create_table(
        "energy_team_municipalities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        _fk("energy_team_municipalities", "team_id", "energy_teams", "CASCADE"),
        _fk("energy_team_municipalities", "municipality_id", "municipalities", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_team_municipalities")),
        sa.UniqueConstraint(
            "team_id", "municipality_id", name=op.f("uq_energy_team_municipalities_team_id_municipality_id")
        ),
    )
    op.create_index(
        op.f("ix_energy_team_municipalities_municipality_id"), "energy_team_municipalities", ["municipality_id"]
    )

    op.create_table(
        "energy_team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_table", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _ck("energy_team_members", "team_table", TABLES),
        _ck("energy_team_members", "role", "role IN ('coordinator', 'member')"),
        _fk("energy_team_members", "team_id", "energy_teams", "CASCADE"),
        _fk("energy_team_members", "user_id", "users", "CASCADE"),
        _fk("energy_team_members", "municipality_id", "municipalities", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_team_members")),
        sa.UniqueConstraint(
            "team_id", "user_id", "team_table", name=op.f("uq_energy_team_members_team_id_user_id_team_table")
        ),
    )
    op.create_index(op.f("ix_energy_team_members_user_id"), "energy_team_members", ["user_id"])

    op.create_table(
        "energy_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("team_table", sa.String(length=16), nullable=False),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("agenda", sa.JSON(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("attendance", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _ck("energy_meetings", "team_table", TABLES),
        _fk("energy_meetings", "team_id", "energy_teams", "CASCADE"),
        _fk("energy_meetings", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_meetings")),
    )
    op.create_index(op.f("ix_energy_meetings_team_id_starts_at"), "energy_meetings", ["team_id", "starts_at"])

    op.create_table(
        "energy_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _ck("energy_decisions", "kind", "kind IN ('decision', 'report')"),
        _ck("energy_decisions", "status", "status IN ('open', 'in_progress', 'done', 'dropped')"),
        _fk("energy_decisions", "team_id", "energy_teams", "CASCADE"),
        _fk("energy_decisions", "meeting_id", "energy_meetings", "CASCADE"),
        _fk("energy_decisions", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_decisions")),
    )
    op.create_index(op.f("ix_energy_decisions_team_id"), "energy_decisions", ["team_id"])
    op.create_index(op.f("ix_energy_decisions_meeting_id"), "energy_decisions", ["meeting_id"])

    op.create_table(
        "energy_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("team_table", sa.String(length=16), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", UTC_DATETIME, nullable=False),
        _ck("energy_documents", "team_table", f"team_table IS NULL OR {TABLES}"),
        _ck("energy_documents", "size", "size_bytes <= 10485760"),
        _fk("energy_documents", "team_id", "energy_teams", "CASCADE"),
        _fk("energy_documents", "uploaded_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_documents")),
    )
    op.create_index(op.f("ix_energy_documents_team_id"), "energy_documents", ["team_id"])

    op.create_table(
        "energy_subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _fk("energy_subscribers", "team_id", "energy_teams", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_subscribers")),
        sa.UniqueConstraint("team_id", "email", name=op.f("uq_energy_subscribers_team_id_email")),
    )

    op.create_table(
        "energy_mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_by", sa.Integer(), nullable=True),
        sa.Column("sent_at", UTC_DATETIME, nullable=False),
        _ck("energy_mailings", "status", "status IN ('sent', 'failed')"),
        _fk("energy_mailings", "team_id", "energy_teams", "CASCADE"),
        _fk("energy_mailings", "sent_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_mailings")),
    )
    op.create_index(op.f("ix_energy_mailings_team_id"), "energy_mailings", ["team_id"])

    op.create_table(
        "energy_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("cost_eur", sa.Double(), nullable=False),
        sa.Column("savings_mwh", sa.Double(), nullable=False),
        sa.Column("renewable_mwh", sa.Double(), nullable=False),
        sa.Column("emission_factor", sa.Double(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("action_area", sa.String(length=200), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("responsible_body", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _ck("energy_actions", "status", STATUSES),
        _ck("energy_actions", "sector", SECTORS),
        _ck(
            "energy_actions",
            "figures",
            "cost_eur >= 0 AND savings_mwh >= 0 AND renewable_mwh >= 0"
            " AND (emission_factor IS NULL OR emission_factor >= 0)",
        ),
        _fk("energy_actions", "team_id", "energy_teams", "CASCADE"),
        _fk("energy_actions", "municipality_id", "municipalities", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_actions")),
        sa.UniqueConstraint("team_id", "code", name=op.f("uq_energy_actions_team_id_code")),
    )
    op.create_index(op.f("ix_energy_actions_municipality_id"), "energy_actions", ["municipality_id"])

    op.create_table(
        "energy_action_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("status_from", sa.String(length=16), nullable=False),
        sa.Column("status_to", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", UTC_DATETIME, nullable=False),
        _fk("energy_action_changes", "team_id", "energy_teams", "CASCADE"),
        _fk("energy_action_changes", "action_id", "energy_actions", "CASCADE"),
        _fk("energy_action_changes", "user_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_action_changes")),
    )
    op.create_index(op.f("ix_energy_action_changes_action_id"), "energy_action_changes", ["action_id"])
    op.create_index(
        op.f("ix_energy_action_changes_team_id_changed_at"), "energy_action_changes", ["team_id", "changed_at"]
    )

    op.create_table(
        "energy_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=50), nullable=False),
        sa.Column("target", sa.Double(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _fk("energy_indicators", "action_id", "energy_actions", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_indicators")),
        sa.UniqueConstraint("action_id", "name", name=op.f("uq_energy_indicators_action_id_name")),
    )

    op.create_table(
        "energy_indicator_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        _fk("energy_indicator_values", "indicator_id", "energy_indicators", "CASCADE"),
        _fk("energy_indicator_values", "recorded_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_indicator_values")),
        sa.UniqueConstraint("indicator_id", "on_date", name=op.f("uq_energy_indicator_values_indicator_id_on_date")),
    )


def downgrade() -> None:
    op.drop_table("energy_indicator_values")
    op.drop_table("energy_indicators")
    op.drop_table("energy_action_changes")
    op.drop_table("energy_actions")
    op.drop_table("energy_mailings")
    op.drop_table("energy_subscribers")
    op.drop_table("energy_documents")
    op.drop_table("energy_decisions")
    op.drop_table("energy_meetings")
    op.drop_table("energy_team_members")
    op.drop_table("energy_team_municipalities")
    op.drop_table("energy_teams")
