"""Operations: members' email and IBAN, reading corrections and quarantine, weather observations, alarms,
demand-response campaigns and rewards, payment batches and payments, the hash-chained ledger.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str, key: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{key}"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("iban", sa.String(length=34), nullable=True))

    op.create_table(
        "reading_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("pod", sa.String(length=16), nullable=False),
        sa.Column("ts", UTC_DATETIME, nullable=False),
        sa.Column("old_withdrawn_kwh", sa.Double(), nullable=False),
        sa.Column("old_injected_kwh", sa.Double(), nullable=False),
        sa.Column("new_withdrawn_kwh", sa.Double(), nullable=False),
        sa.Column("new_injected_kwh", sa.Double(), nullable=False),
        sa.Column("corrected_at", UTC_DATETIME, nullable=False),
        _fk("reading_corrections", "community_id", "communities", "CASCADE"),
        _fk("reading_corrections", "batch_id", "import_batches", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_corrections")),
    )
    op.create_index(op.f("ix_reading_corrections_batch_id"), "reading_corrections", ["batch_id"])
    op.create_index(
        op.f("ix_reading_corrections_community_id_pod_ts"), "reading_corrections", ["community_id", "pod", "ts"]
    )

    op.create_table(
        "quarantined_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("raw", sa.String(length=2000), nullable=True),
        sa.Column("pod", sa.String(length=32), nullable=True),
        sa.Column("ts", UTC_DATETIME, nullable=True),
        sa.Column("interval_minutes", sa.SmallInteger(), nullable=True),
        sa.Column("withdrawn_kwh", sa.Double(), nullable=True),
        sa.Column("injected_kwh", sa.Double(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("resolved_at", UTC_DATETIME, nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        _fk("quarantined_readings", "community_id", "communities", "CASCADE"),
        _fk("quarantined_readings", "batch_id", "import_batches", "SET NULL"),
        _fk("quarantined_readings", "resolved_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_readings")),
    )
    op.create_index(op.f("ix_quarantined_readings_batch_id"), "quarantined_readings", ["batch_id"])
    op.create_index(
        op.f("ix_quarantined_readings_community_id_status"), "quarantined_readings", ["community_id", "status"]
    )

    op.create_table(
        "weather_observations",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("ts", UTC_DATETIME, nullable=False),
        sa.Column("ghi_w_m2", sa.Double(), nullable=False),
        sa.Column("temp_air_c", sa.Double(), nullable=True),
        sa.Column("wind_speed_m_s", sa.Double(), nullable=True),
        _fk("weather_observations", "community_id", "communities", "CASCADE"),
        sa.PrimaryKeyConstraint("community_id", "ts", name=op.f("pk_weather_observations")),
    )

    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=2000), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("first_seen", UTC_DATETIME, nullable=False),
        sa.Column("last_seen", UTC_DATETIME, nullable=False),
        sa.Column("acknowledged_at", UTC_DATETIME, nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", UTC_DATETIME, nullable=True),
        sa.Column("notified_at", UTC_DATETIME, nullable=True),
        _fk("alarms", "community_id", "communities", "CASCADE"),
        _fk("alarms", "acknowledged_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
    )
    op.create_index(op.f("ix_alarms_community_id_status"), "alarms", ["community_id", "status"])

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("message", sa.String(length=2000), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("window_start_hour", sa.SmallInteger(), nullable=False),
        sa.Column("window_end_hour", sa.SmallInteger(), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=False),
        sa.Column("baseline", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _fk("campaigns", "community_id", "communities", "CASCADE"),
        _fk("campaigns", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(op.f("ix_campaigns_community_id"), "campaigns", ["community_id"])

    op.create_table(
        "campaign_rewards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=100), nullable=False),
        sa.Column("baseline_kwh", sa.Double(), nullable=False),
        sa.Column("actual_kwh", sa.Double(), nullable=False),
        sa.Column("response_kwh", sa.Double(), nullable=False),
        sa.Column("reward_cents", sa.BigInteger(), nullable=False),
        _fk("campaign_rewards", "campaign_id", "campaigns", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_rewards")),
        sa.UniqueConstraint("campaign_id", "member", name=op.f("uq_campaign_rewards_campaign_id_member")),
    )

    op.create_table(
        "payment_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("execution_date", sa.Date(), nullable=False),
        sa.Column("debtor_name", sa.String(length=140), nullable=False),
        sa.Column("debtor_iban", sa.String(length=34), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _fk("payment_batches", "community_id", "communities", "CASCADE"),
        _fk("payment_batches", "settlement_id", "settlements", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_batches")),
        sa.UniqueConstraint("message_id", name=op.f("uq_payment_batches_message_id")),
    )
    op.create_index(op.f("ix_payment_batches_community_id"), "payment_batches", ["community_id"])

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=140), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("remittance", sa.String(length=140), nullable=False),
        _fk("payments", "batch_id", "payment_batches", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index(op.f("ix_payments_batch_id"), "payments", ["batch_id"])

    op.create_table(
        "ledger_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.String(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("hash", name=op.f("uq_ledger_entries_hash")),
    )
    op.create_index(op.f("ix_ledger_entries_community_id"), "ledger_entries", ["community_id"])


def downgrade() -> None:
    for table in (
        "ledger_entries",
        "payments",
        "payment_batches",
        "campaign_rewards",
        "campaigns",
        "alarms",
        "weather_observations",
        "quarantined_readings",
        "reading_corrections",
    ):
        op.drop_table(table)
    with op.batch_alter_table("members") as batch:
        batch.drop_column("iban")
        batch.drop_column("email")
