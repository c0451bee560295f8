"""Tables of the inter-municipal energy team and its action plan (PAES/PAESC).

A team (a union of municipalities) has municipalities (rows of ``municipalities``), members (users) in its
political or technical table with the role of coordinator or member, meetings of each table with agenda, minutes,
attendance and decisions, a document area (files stored in the database, at most 10 MB each), a mailing list
(members' addresses plus external subscribers, and a log of what was sent) and the actions of its plan with their
recorded changes and indicators over time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from condivisa.energy_team.meetings import DECISION_KINDS as DECISION_KIND_LABELS
from condivisa.energy_team.meetings import DECISION_STATUSES as DECISION_STATUS_LABELS
from condivisa.energy_team.meetings import ROLES, TABLES
from condivisa.energy_team.plan import SECTORS, STATUSES
from condivisa.store.models import Base, UTCDateTime, utc_now

TEAM_TABLES = tuple(TABLES)
MEMBER_ROLES = tuple(ROLES)
ACTION_STATUSES = tuple(STATUSES)
ACTION_SECTORS = tuple(SECTORS)
DECISION_KINDS = tuple(DECISION_KIND_LABELS)
DECISION_STATUSES = tuple(DECISION_STATUS_LABELS)
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
"""Largest file of the document area [bytes]."""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class EnergyTeamRow(Base):
    """An inter-municipal energy team (a union of municipalities) and its PAESC target.

    ``reduction_target_pct`` is the reduction of emissions [%] from the ``baseline_year`` to the ``target_year``
    (55 by 2030 for the PAESC); ``baseline_t_co2`` the union's baseline emissions [t CO2/year], when known.
    """

    __tablename__ = "energy_teams"
    __table_args__ = (
        CheckConstraint("reduction_target_pct >= 0 AND reduction_target_pct <= 100", name="target_pct"),
        CheckConstraint("target_year > baseline_year", name="years"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    baseline_year: Mapped[int] = mapped_column(Integer)
    target_year: Mapped[int] = mapped_column(Integer)
    reduction_target_pct: Mapped[float] = mapped_column(Double)
    baseline_t_co2: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class EnergyTeamMunicipalityRow(Base):
    """A municipality of the union."""

    __tablename__ = "energy_team_municipalities"
    __table_args__ = (UniqueConstraint("team_id", "municipality_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("energy_teams.id", ondelete="CASCADE"))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)


class EnergyTeamMemberRow(Base):
    """A user in one table of the team (``political`` or ``technical``), as ``coordinator`` or ``member``."""

    __tablename__ = "energy_team_members"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id", "team_table"),
        CheckConstraint(_in("team_table", TEAM_TABLES), name="team_table"),
        CheckConstraint(_in("role", MEMBER_ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("energy_teams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    team_table: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16), default="member")
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class EnergyMeetingRow(Base):
    """A meeting of one table: ``agenda`` is a list of ``{"title", "kind"}``, ``attendance`` the ids of the
    team members present (``energy_team_members.id``)."""

    __tablename__ = "energy_meetings"
    __table_args__ = (
        CheckConstraint(_in("team_table", TEAM_TABLES), name="team_table"),
        Index("ix_energy_meetings_team_id_starts_at", "team_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("energy_teams.id", ondelete="CASCADE"))
    team_table: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(300), default="")
    agenda: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    minutes: Mapped[str | None] = mapped_column(Text)
    attendance: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)


class EnergyDecisionRow(Base):
    """A decision taken in a meeting, or a technical table's report to the political table (``kind='report'``)."""

    __tablename__ = "energy_decisions"
    __table_args__ = (
        CheckConstraint(_in("kind", DECISION_KINDS), name="kind"),
        CheckConstraint(_in("status", DECISION_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("energy_teams.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("energy_meetings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="decision")
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200), default="")
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)


class EnergyDocumentRow(Base):
    """A file of the document area (at most :data:`MAX_DOCUMENT_BYTES`), for one table or both (``team_table``
    None)."""

    __tablename__ = "energy_documents"
    __table_args__ = (
        CheckConstraint(f"team_table IS NULL OR {_in('team_table', TEAM_TABLES)}", name="team_table"),
        CheckConstraint(f"size_bytes <= {MAX_DOCUMENT_BYTES}", name="size"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("energy_teams.id", ondelete="CASCADE"), index=True)
    team_table: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class EnergySubscriberRow(Base):
    """An external subscriber of the team's mailing list (members are on it through their accounts)."""

    __tablename__ = "energy_subscribers"
    __table_args__ = (UniqueConstraint("team_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("energy_teams.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class EnergyMailingRow(Base):
    """A message sent (or that failed to be sent) to the mailing list: ``status`` ``sent`` or ``failed``."""

    __tablename__ = "energy_mailings"
    __table_args__ = (CheckConstraint("status IN ('sent', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("energy_teams.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class EnergyActionRow(Base):
    """An action of the plan: ``municipality_id`` None for an inter-municipal action; energy [MWh/year],
    ``emission_factor`` [t CO2/MWh] (None: the placeholder default), ``cost_eur`` [€]."""

    __tablename__ = "energy_actions"
    __table_args__ = (
        UniqueConstraint("team_id", "code"),
        CheckConstraint(_in("status", ACTION_STATUSES), name="status"),
        CheckConstraint(_in("sector", ACTION_SECTORS), name="sector"),
        CheckConstraint(
            "cost_eur >= 0 AND savings_mwh >= 0 AND renewable_mwh >= 0"
            " AND (emission_factor IS NULL OR emission_factor >= 0)",
            name="figures",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("energy_teams.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    sector: Mapped[str] = mapped_column(String(32))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(String(200), default="")
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    cost_eur: Mapped[float] = mapped_column(Double, default=0.0)
    savings_mwh: Mapped[float] = mapped_column(Double, default=0.0)
    renewable_mwh: Mapped[float] = mapped_column(Double, default=0.0)
    emission_factor: Mapped[float | None] = mapped_column(Double)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    action_area: Mapped[str] = mapped_column(String(200), default="")
    instrument: Mapped[str] = mapped_column(String(32), default="not_applicable")
    origin: Mapped[str] = mapped_column(String(32), default="local_authority")
    responsible_body: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)


class EnergyActionChangeRow(Base):
    """A recorded change of an action (status before and after, equal when only figures or notes changed)."""

    __tablename__ = "energy_action_changes"
    __table_args__ = (Index("ix_energy_action_changes_team_id_changed_at", "team_id", "changed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("energy_teams.id", ondelete="CASCADE"))
    action_id: Mapped[int] = mapped_column(ForeignKey("energy_actions.id", ondelete="CASCADE"), index=True)
    status_from: Mapped[str] = mapped_column(String(16))
    status_to: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class EnergyIndicatorRow(Base):
    """An indicator of an action (name, unit, optional target value in the same unit)."""

    __tablename__ = "energy_indicators"
    __table_args__ = (UniqueConstraint("action_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("energy_actions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(50), default="")
    target: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class EnergyIndicatorValueRow(Base):
    """A value of an indicator on a date (one per date: a new value for the same date replaces it)."""

    __tablename__ = "energy_indicator_values"
    __table_args__ = (UniqueConstraint("indicator_id", "on_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("energy_indicators.id", ondelete="CASCADE"))
    on_date: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Double)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
