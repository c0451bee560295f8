"""Tables of the municipality's digital help desk: district offices, appointment slots, tickets for advisers.

A ticket is a citizen's request to be contacted, with the questionnaire's answers, the desk's orientation and
estimate (JSON) and the contact data (personal: shown to the municipality's officers only). Its ``token`` is the
public follow-up reference. A slot holds at most one ticket: ``desk_tickets.slot_id`` is unique, so two concurrent
bookings of one slot cannot both be stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from condivisa.store.models import Base, UTCDateTime, utc_now

TICKET_STATUSES = ("open", "assigned", "answered", "closed")
"""Life cycle of a ticket: open -> assigned (to an adviser) -> answered (text shown to the citizen) -> closed."""


class DeskOfficeRow(Base):
    """A district desk office of a municipality, where appointments take place."""

    __tablename__ = "desk_offices"
    __table_args__ = (UniqueConstraint("municipality_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class DeskSlotRow(Base):
    """An appointment slot at an office, ``starts_at`` to ``ends_at`` (UTC); booked by at most one ticket."""

    __tablename__ = "desk_slots"
    __table_args__ = (
        UniqueConstraint("office_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="slot_order"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("desk_offices.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class DeskTicketRow(Base):
    """A citizen's request to be contacted by an adviser of the municipality."""

    __tablename__ = "desk_tickets"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'assigned', 'answered', 'closed')", name="status"),
        Index("ix_desk_tickets_municipality_id_status", "municipality_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    subject: Mapped[str] = mapped_column(String(32))
    form: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    orientation: Mapped[dict[str, Any]] = mapped_column(JSON)
    estimate: Mapped[dict[str, Any]] = mapped_column(JSON)
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    consent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    office_id: Mapped[int | None] = mapped_column(ForeignKey("desk_offices.id", ondelete="SET NULL"), index=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("desk_slots.id", ondelete="SET NULL"), unique=True)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)
