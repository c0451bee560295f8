"""Tables of the data-safety part of issue 9: the audit log of who changed what.

``community_id`` and ``object_id`` are plain values, not foreign keys: the log outlives what it talks about (a
deleted member, a deleted community), like the ledger. ``user_id`` points at the user who acted (NULL for the
command line, the MQTT subscriber or a user deleted since). ``changes`` holds the before/after of the changed
fields, never secrets (password hashes, tokens are written as ``"[segreto]"``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from condivisa.store.models import Base, UTCDateTime, utc_now

AUDIT_ACTORS = ("cli", "web", "api", "mqtt", "system")
"""Where a change came from: command line, web pages, JSON API, MQTT subscriber, the platform itself."""

AUDIT_ACTIONS = ("insert", "update", "delete", "bulk", "gdpr_export", "gdpr_erase", "backup", "restore")
"""What happened: a row created, changed or deleted through the ORM, many rows of one kind at once (``bulk``: ids
only), a member's data exported or erased, a backup taken or restored."""


class AuditLogRow(Base):
    """One entry of the audit log: when, who (user and channel), what (action on an object), and the change.

    ``object_type`` is the table name (``members``, ``role_assignments``...), ``object_id`` its primary key as
    text; ``changes`` maps each changed field to ``{"before": ..., "after": ...}`` (insert: ``after`` only,
    delete: ``before`` only), or holds the action's own summary (counts, ids) for the other actions.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_community_id_at", "community_id", "at"),
        Index("ix_audit_log_object_type_object_id", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(100))
    community_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
