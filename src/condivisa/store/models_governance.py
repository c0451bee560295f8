"""Tables of community governance: legal form and seat, members' register, assemblies with their agenda,
attendance and votes, and the energy-poverty fund's beneficiaries and disbursements.

Members are referred to by their ``id`` in the community file (``members.external_id``), not by a foreign key:
the register and the minutes are books that keep their history when a member leaves the stored community.
Money in integer cents. Fund inflows are not stored here: they are the ``fund:NAME`` lines of the stored
settlements (``settlement_lines``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from condivisa.store.models import Base, UTCDateTime, utc_now

ASSEMBLY_KINDS = ("ordinary", "extraordinary")
ASSEMBLY_CALLS = ("first", "second")
VOTE_CHOICES = ("yes", "no", "abstain")
ISEE_BANDS = ("0-6000", "6000-9530", "9530-15000", "15000-20000", "oltre-20000", "non-dichiarato")
"""ISEE bands of fund beneficiaries [€]: 9,530 € is the threshold of the electricity social bonus (2025)."""


class GovernanceProfileRow(Base):
    """The community's legal form, seat and statute parameters (one row per community)."""

    __tablename__ = "governance_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), unique=True)
    legal_form: Mapped[str] = mapped_column(String(64))
    seat_address: Mapped[str] = mapped_column(String(300), default="")
    seat_municipality: Mapped[str] = mapped_column(String(200), default="")
    max_proxies: Mapped[int] = mapped_column(SmallInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)


class RegisterEntryRow(Base):
    """One membership in the members' register: admission (date, decision) and, later, withdrawal (date, reason).

    A member readmitted after withdrawing gets a new row; at most one row per member is open (not withdrawn),
    which the repository checks.
    """

    __tablename__ = "governance_register"
    __table_args__ = (
        Index("ix_governance_register_community_id_member", "community_id", "member"),
        CheckConstraint("withdrawn_on IS NULL OR withdrawn_on >= admitted_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(32))
    admitted_on: Mapped[dt.date] = mapped_column(Date)
    admission_decision: Mapped[str] = mapped_column(String(300))
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)
    withdrawal_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class AssemblyRow(Base):
    """An assembly of the members: date, kind, call, place, chair and secretary."""

    __tablename__ = "governance_assemblies"
    __table_args__ = (
        CheckConstraint("kind IN ('ordinary', 'extraordinary')", name="kind"),
        CheckConstraint("call IN ('first', 'second')", name="call"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    call: Mapped[str] = mapped_column(String(8))
    place: Mapped[str] = mapped_column(String(300), default="")
    chair: Mapped[str] = mapped_column(String(200), default="")
    secretary: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class AgendaItemRow(Base):
    """An item of an assembly's agenda, in order."""

    __tablename__ = "governance_agenda_items"
    __table_args__ = (UniqueConstraint("assembly_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("governance_assemblies.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)


class AttendanceRow(Base):
    """A member present or represented at an assembly: ``delegate`` is None in person, else who holds the proxy."""

    __tablename__ = "governance_attendance"
    __table_args__ = (UniqueConstraint("assembly_id", "member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("governance_assemblies.id", ondelete="CASCADE"), index=True)
    member: Mapped[str] = mapped_column(String(100))
    delegate: Mapped[str | None] = mapped_column(String(100))


class VoteRow(Base):
    """The vote of one represented member on one agenda item."""

    __tablename__ = "governance_votes"
    __table_args__ = (
        UniqueConstraint("item_id", "member"),
        CheckConstraint("choice IN ('yes', 'no', 'abstain')", name="choice"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("governance_agenda_items.id", ondelete="CASCADE"), index=True)
    member: Mapped[str] = mapped_column(String(100))
    choice: Mapped[str] = mapped_column(String(8))


class FundBeneficiaryRow(Base):
    """A beneficiary of a community fund: a member (by id) or an external household under a pseudonym, with the
    ISEE band; no other personal data."""

    __tablename__ = "governance_fund_beneficiaries"
    __table_args__ = (UniqueConstraint("community_id", "fund", "pseudonym"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    fund: Mapped[str] = mapped_column(String(200))
    pseudonym: Mapped[str] = mapped_column(String(100))
    member: Mapped[str | None] = mapped_column(String(100))
    isee_band: Mapped[str] = mapped_column(String(32))
    admitted_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class FundDisbursementRow(Base):
    """Money paid out of a fund to a beneficiary [cents] (positive)."""

    __tablename__ = "governance_fund_disbursements"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="positive"),
        Index("ix_governance_fund_disbursements_community_id_fund", "community_id", "fund"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    fund: Mapped[str] = mapped_column(String(200))
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("governance_fund_beneficiaries.id", ondelete="CASCADE"), index=True
    )
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
