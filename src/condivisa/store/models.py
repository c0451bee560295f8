"""Tables of the Condivisa database (SQLAlchemy 2 typed declarative models).

Storage shapes only: the community description users write is :class:`condivisa.model.Community`, readings are
:class:`condivisa.ingest.Readings`; :mod:`condivisa.store.repository` converts between them and these rows.
The schema itself is created and changed by the Alembic migrations in ``migrations/versions`` only; the test
suite checks that they agree with these models.

Units: energy in kWh (double precision), power in kW, prices in €/MWh, money in integer cents, instants in UTC
(timezone-aware on PostgreSQL, stored as UTC text by SQLite and given back timezone-aware).

Installations are multi-tenant: every community-owned row carries its community, and users get access through
:class:`RoleAssignment` rows scoped to a community, a member or a municipality.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint and index names, identical on SQLite and PostgreSQL (so migrations can name what they change)."""

ROLES = ("platform_admin", "manager", "member", "municipality_officer")
"""Roles a user can hold: ``platform_admin`` (whole installation), ``manager`` (one community), ``member``
(one member of one community), ``municipality_officer`` (read access to the communities of one municipality)."""

SETTLEMENT_STATUSES = ("computed", "approved", "superseded")
"""Life cycle of a stored settlement: computed by the engine, approved by the manager, replaced by a newer one."""

IMPORT_KINDS = ("community", "readings", "prices", "meter_file", "mqtt")
IMPORT_STATUSES = ("done", "failed")

QUARANTINE_STATUSES = ("open", "released", "discarded")
"""A quarantined reading waits (``open``) until it is stored after all (``released``) or rejected (``discarded``)."""

ALARM_KINDS = ("missing_data", "plant_underperformance", "abnormal_consumption", "sharing_below_target")
ALARM_STATUSES = ("open", "acknowledged", "closed")
ALARM_SEVERITIES = ("info", "warning", "critical")

CAMPAIGN_STATUSES = ("planned", "active", "closed", "rewarded")
PAYMENT_BATCH_STATUSES = ("prepared", "sent", "confirmed")
LEDGER_KINDS = ("settlement", "settlement_status", "campaign_rewards", "payment_batch", "payment_status")


def utc_now() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC instant on every backend.

    Values written must be timezone-aware (naive datetimes are refused: their meaning is ambiguous); they are
    converted to UTC. PostgreSQL stores ``timestamp with time zone``; SQLite stores the UTC wall time as text and
    the value read back gets ``tzinfo=UTC``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"istante senza fuso orario: {value!r} (serve un datetime con tzinfo, in UTC)")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base; its ``metadata`` is what the migrations must reproduce."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Community description ------------------------------------------------------------------------------------------


class CommunityRow(Base):
    """A configuration (CER, AUC, AID) of this installation: the header of :class:`condivisa.model.Community`."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    configuration: Mapped[str] = mapped_column(String(3))
    region: Mapped[str] = mapped_column(String(64))
    municipality: Mapped[str | None] = mapped_column(String(200), index=True)
    constitution_date: Mapped[dt.date | None] = mapped_column(Date)
    parameters: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    excess_to: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)

    members: Mapped[list[MemberRow]] = relationship(
        back_populates="community", order_by="MemberRow.position", cascade="all, delete-orphan"
    )
    plants: Mapped[list[PlantRow]] = relationship(order_by="PlantRow.position", cascade="all, delete-orphan")
    rules: Mapped[list[RegulationRuleRow]] = relationship(
        order_by="RegulationRuleRow.position", cascade="all, delete-orphan"
    )


class MemberRow(Base):
    """A member; ``external_id`` is the member's ``id`` in the community file, unique within the community."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("community_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    iban: Mapped[str | None] = mapped_column(String(34))

    community: Mapped[CommunityRow] = relationship(back_populates="members")
    points: Mapped[list[PointRow]] = relationship(
        back_populates="member", order_by="PointRow.position", cascade="all, delete-orphan"
    )


class PointRow(Base):
    """A withdrawal point (POD) of a member; a POD belongs to at most one member of a community."""

    __tablename__ = "points"
    __table_args__ = (UniqueConstraint("community_id", "pod"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    pod: Mapped[str] = mapped_column(String(16))
    cabina: Mapped[str] = mapped_column(String(32))
    voltage: Mapped[str] = mapped_column(String(2))
    building: Mapped[str | None] = mapped_column(String(100))

    member: Mapped[MemberRow] = relationship(back_populates="points")


class PlantRow(Base):
    """A renewable plant of a community (``power_kw`` [kW], shares as fractions)."""

    __tablename__ = "plants"
    __table_args__ = (UniqueConstraint("community_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str] = mapped_column(String(100))
    owner: Mapped[str] = mapped_column(String(200))
    pod: Mapped[str] = mapped_column(String(16))
    cabina: Mapped[str] = mapped_column(String(32))
    technology: Mapped[str] = mapped_column(String(16))
    power_kw: Mapped[float] = mapped_column(Double)
    commissioning_date: Mapped[dt.date] = mapped_column(Date)
    grant_share: Mapped[float] = mapped_column(Double)
    tip_share: Mapped[float] = mapped_column(Double)
    region: Mapped[str | None] = mapped_column(String(64))
    building: Mapped[str | None] = mapped_column(String(100))


class RegulationRuleRow(Base):
    """One line of the regulation: ``recipient`` and ``basis`` are the ``to`` and ``by`` of the file."""

    __tablename__ = "regulation_rules"
    __table_args__ = (UniqueConstraint("community_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(200))
    share: Mapped[float] = mapped_column(Double)
    basis: Mapped[str | None] = mapped_column(String(32))


# Time series ----------------------------------------------------------------------------------------------------


class ReadingRow(Base):
    """One meter interval: energies [kWh] of ``pod`` in the ``interval_minutes`` [min] starting at ``ts`` (UTC).

    The key (community_id, pod, ts) makes imports idempotent; the second index serves the settlement's query
    (a community over a time range). ``pod`` is not a foreign key: readings may arrive for plant PODs and before
    the points are described.
    """

    __tablename__ = "readings"
    __table_args__ = (Index("ix_readings_community_id_ts", "community_id", "ts"),)

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    pod: Mapped[str] = mapped_column(String(16), primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    interval_minutes: Mapped[int] = mapped_column(SmallInteger)
    withdrawn_kwh: Mapped[float] = mapped_column(Double)
    injected_kwh: Mapped[float] = mapped_column(Double)
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)


class PriceRow(Base):
    """Hourly price of a market zone (or ``PUN``) [€/MWh] for the hour starting at ``ts`` (UTC)."""

    __tablename__ = "prices"

    zone: Mapped[str] = mapped_column(String(8), primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    price_eur_mwh: Mapped[float] = mapped_column(Double)


# Settlements ----------------------------------------------------------------------------------------------------


class SettlementRow(Base):
    """A stored settlement: the settlement JSON document as issued, its period and total [cents]."""

    __tablename__ = "settlements"
    __table_args__ = (Index("ix_settlements_community_id_period_start", "community_id", "period_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="computed")

    lines: Mapped[list[SettlementLineRow]] = relationship(
        order_by="SettlementLineRow.position", cascade="all, delete-orphan"
    )


class SettlementLineRow(Base):
    """Cents given to one recipient by one rule (``rule`` 1-based as in the document, NULL for the excess)."""

    __tablename__ = "settlement_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(200))
    rule: Mapped[int | None] = mapped_column(Integer)
    basis: Mapped[str | None] = mapped_column(String(32))
    amount_cents: Mapped[int] = mapped_column(BigInteger)


# Users and access -----------------------------------------------------------------------------------------------


class User(Base):
    """A person who logs in. ``email`` is stored lower-case; ``password_hash`` is made by the web layer."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(16), default="it")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", order_by="RoleAssignment.id", cascade="all, delete-orphan"
    )


_ROLE_SCOPE = (
    "(role = 'platform_admin' AND community_id IS NULL AND member_id IS NULL AND municipality IS NULL)"
    " OR (role = 'manager' AND community_id IS NOT NULL AND member_id IS NULL AND municipality IS NULL)"
    " OR (role = 'member' AND community_id IS NOT NULL AND member_id IS NOT NULL AND municipality IS NULL)"
    " OR (role = 'municipality_officer' AND community_id IS NULL AND member_id IS NULL AND municipality IS NOT NULL)"
)


class RoleAssignment(Base):
    """A role of a user and its scope: a community (manager), a member (member), a municipality (officer)."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        CheckConstraint("role IN ('platform_admin', 'manager', 'member', 'municipality_officer')", name="role"),
        CheckConstraint(_ROLE_SCOPE, name="scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    municipality: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)

    user: Mapped[User] = relationship(back_populates="roles")


# Audit ----------------------------------------------------------------------------------------------------------


class ImportBatch(Base):
    """One import (community file, readings, prices): what came in, what was stored, what went wrong.

    A successful import writes its batch in the same transaction as its data (status ``done``); a failed one
    leaves the data untouched and records a batch with status ``failed`` and its problems.
    """

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(500))
    rows_in: Mapped[int] = mapped_column(Integer)
    rows_stored: Mapped[int] = mapped_column(Integer)
    rows_inserted: Mapped[int] = mapped_column(Integer)
    rows_updated: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# Operations (issue 6): corrections and quarantine of meter data, live weather, alarms, demand response,
# payments and the hash-chained ledger ----------------------------------------------------------------------------


class ReadingCorrection(Base):
    """A stored reading replaced by a later import: the values before and after [kWh], and the import that did it."""

    __tablename__ = "reading_corrections"
    __table_args__ = (Index("ix_reading_corrections_community_id_pod_ts", "community_id", "pod", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", ondelete="SET NULL"), index=True)
    pod: Mapped[str] = mapped_column(String(16))
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    old_withdrawn_kwh: Mapped[float] = mapped_column(Double)
    old_injected_kwh: Mapped[float] = mapped_column(Double)
    new_withdrawn_kwh: Mapped[float] = mapped_column(Double)
    new_injected_kwh: Mapped[float] = mapped_column(Double)
    corrected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class QuarantinedReading(Base):
    """A reading (or a line of a meter file, or a message) held back: where it came from, why, and its values
    when they could be read, so that it can be stored later (``released``) once the cause is fixed (a POD added
    to the community, say) or ``discarded``."""

    __tablename__ = "quarantined_readings"
    __table_args__ = (Index("ix_quarantined_readings_community_id_status", "community_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(500))
    row: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(1000))
    raw: Mapped[str | None] = mapped_column(String(2000))
    pod: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    interval_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    withdrawn_kwh: Mapped[float | None] = mapped_column(Double)
    injected_kwh: Mapped[float | None] = mapped_column(Double)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class WeatherObservation(Base):
    """Measured weather at a community (a station or a plant's sensors) for the interval starting at ``ts``:
    global horizontal irradiance ``ghi_w_m2`` [W/m²], air temperature [°C], wind speed [m/s]."""

    __tablename__ = "weather_observations"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    ghi_w_m2: Mapped[float] = mapped_column(Double)
    temp_air_c: Mapped[float | None] = mapped_column(Double)
    wind_speed_m_s: Mapped[float | None] = mapped_column(Double)


class AlarmRow(Base):
    """An alarm of a community: what (``kind`` on ``subject``, a POD, a plant or the configuration), since when,
    its state (open, acknowledged, closed) and whether it was sent by email."""

    __tablename__ = "alarms"
    __table_args__ = (Index("ix_alarms_community_id_status", "community_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(2000))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CampaignRow(Base):
    """A demand-response campaign: members are asked to move consumption into the local hours
    ``[window_start_hour, window_end_hour)`` of the days ``start_date``..``end_date``; ``budget_cents`` is shared
    among those who respond (see :mod:`condivisa.operations.demand_response`)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(String(2000), default="")
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    window_start_hour: Mapped[int] = mapped_column(SmallInteger)
    window_end_hour: Mapped[int] = mapped_column(SmallInteger)
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    baseline: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    rewards: Mapped[list[CampaignRewardRow]] = relationship(
        order_by="CampaignRewardRow.member", cascade="all, delete-orphan"
    )


class CampaignRewardRow(Base):
    """A member's measured response to a campaign [kWh in the window, against the baseline] and reward [cents]."""

    __tablename__ = "campaign_rewards"
    __table_args__ = (UniqueConstraint("campaign_id", "member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    member: Mapped[str] = mapped_column(String(100))
    baseline_kwh: Mapped[float] = mapped_column(Double)
    actual_kwh: Mapped[float] = mapped_column(Double)
    response_kwh: Mapped[float] = mapped_column(Double)
    reward_cents: Mapped[int] = mapped_column(BigInteger)


class PaymentBatchRow(Base):
    """A SEPA credit-transfer file (pain.001) paying out a settlement: its message id, totals and file hash."""

    __tablename__ = "payment_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id", ondelete="SET NULL"))
    message_id: Mapped[str] = mapped_column(String(35), unique=True)
    execution_date: Mapped[dt.date] = mapped_column(Date)
    debtor_name: Mapped[str] = mapped_column(String(140))
    debtor_iban: Mapped[str] = mapped_column(String(34))
    count: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    file_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="prepared")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)

    payments: Mapped[list[PaymentRow]] = relationship(order_by="PaymentRow.id", cascade="all, delete-orphan")


class PaymentRow(Base):
    """One credit transfer of a batch: to a member [cents], with its end-to-end id."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payment_batches.id", ondelete="CASCADE"), index=True)
    member: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(140))
    iban: Mapped[str] = mapped_column(String(34))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    end_to_end_id: Mapped[str] = mapped_column(String(35))
    remittance: Mapped[str] = mapped_column(String(140))


class LedgerEntry(Base):
    """One entry of the append-only, hash-chained ledger (see :mod:`condivisa.ledger`).

    ``hash`` = SHA-256 of ``prev_hash`` and the canonical JSON of (seq, kind, community, created_at, payload);
    the first entry's ``prev_hash`` is 64 zeros. Changing, removing or reordering any entry breaks the chain
    from that entry on.
    """

    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    community_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(String)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# The municipality's public services (issue 7) -------------------------------------------------------------------


class MunicipalityRow(Base):
    """A municipality (or a union of municipalities) offering the public services: desk, register, matchmaking,
    public buildings, training. ``name`` is the text stored in ``communities.municipality`` and in officers' roles;
    ``slug`` names its public pages (``/comune/{slug}``)."""

    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    region: Mapped[str] = mapped_column(String(64))
    province: Mapped[str | None] = mapped_column(String(2))
    istat_code: Mapped[str | None] = mapped_column(String(6))
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


# Tables of each public service live in their own modules; importing them here registers them in the metadata.
from condivisa.store import (  # noqa: E402, F401
    models_audit,
    models_buildings,
    models_desk,
    models_district,
    models_energy_team,
    models_engagement,
    models_governance,
    models_matching,
    models_register,
    models_strategy,
)
