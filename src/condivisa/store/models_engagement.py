"""Tables of the municipality's training and engagement service: events (courses, school programmes, workshops,
working tables, information sessions), registrations with their waiting list and attendance, materials stored as
bytes, working-table participants and outcomes, announcements.

Personal data (registrants' names and emails) lives only in ``civic_event_registrations``; the private link of a
registration is stored as the SHA-256 of its random token, never the token itself.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from condivisa.store.models import Base, UTCDateTime, utc_now


class CivicEventRow(Base):
    """An event of a municipality. ``kind`` is a key of :data:`condivisa.civic.engagement.EVENT_KINDS`; times are
    UTC instants (shown in Europe/Rome time); ``capacity`` None means no limit; only ``published`` events are
    public."""

    __tablename__ = "civic_events"
    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        Index("ix_civic_events_municipality_id_starts_at", "municipality_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str] = mapped_column(String(200), default="")
    place: Mapped[str] = mapped_column(String(500), default="")
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int | None] = mapped_column(Integer)
    registration_open: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    district: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class CivicEventRegistrationRow(Base):
    """A person's registration to an event: ``status`` confirmed, waiting or cancelled; the queue order is
    ``queued_at`` then ``id``; ``token_hash`` is the SHA-256 (hex) of the private link's token."""

    __tablename__ = "civic_event_registrations"
    __table_args__ = (UniqueConstraint("event_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("civic_events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    organisation: Mapped[str | None] = mapped_column(String(200))
    stakeholder_group: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    consent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class CivicEventMaterialRow(Base):
    """A file of an event (slides, handouts), at most 10 MiB, stored as bytes; only ``public`` ones can be
    downloaded by visitors."""

    __tablename__ = "civic_event_materials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("civic_events.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class CivicEventParticipantRow(Base):
    """A member of a working table: an organisation with its role and stakeholder group (no personal data)."""

    __tablename__ = "civic_event_participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("civic_events.id", ondelete="CASCADE"), index=True)
    organisation: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200), default="")
    stakeholder_group: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class CivicEventOutcomeRow(Base):
    """What a meeting of a working table decided: a public summary and internal notes (officers only)."""

    __tablename__ = "civic_event_outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("civic_events.id", ondelete="CASCADE"), index=True)
    meeting_date: Mapped[dt.date] = mapped_column(Date)
    public_summary: Mapped[str] = mapped_column(Text, default="")
    internal_notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class CivicAnnouncementRow(Base):
    """An announcement of a municipality shown on its events page between ``published_from`` and
    ``published_until`` (None: until removed); ``body`` is plain text, paragraphs separated by blank lines."""

    __tablename__ = "civic_announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    published_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    published_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
