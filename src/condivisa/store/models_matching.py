"""Tables of the municipality's matching service: profiles, matches with both sides' consent, calls for interest
and their answers.

Private data of a profile (``vulnerable``, ``contact_*``) is never shown before both sides of a match consent; the
manage link of a profile is a random token of which only the SHA-256 hash is stored (``token_hash``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Double, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from condivisa.store.models import Base, UTCDateTime, utc_now

MATCH_STATUSES = ("proposed", "consented", "declined")
"""A stored match: one side consented (``proposed``), both (``consented``), one side declined (``declined``)."""


class MatchCallRow(Base):
    """A call for interest ("manifestazione di interesse") of a municipality; answers create profiles of
    ``profile_kind``; ``questions`` are the extra questions (list of texts)."""

    __tablename__ = "match_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    opens_on: Mapped[dt.date] = mapped_column(Date)
    closes_on: Mapped[dt.date] = mapped_column(Date)
    profile_kind: Mapped[str] = mapped_column(String(20))
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class MatchProfileRow(Base):
    """A profile of the matchmaking: public part (display name, description, place, attributes) and private part
    (vulnerable flag, contact details) shown only to a counterpart after both consent."""

    __tablename__ = "match_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    cabina: Mapped[str | None] = mapped_column(String(32))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("match_calls.id", ondelete="SET NULL"))
    vulnerable: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class MatchRow(Base):
    """A pair of profiles on which at least one side acted; ``low_id`` < ``high_id``; ``score`` and
    ``components`` are the scoring when the first side acted."""

    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("low_id", "high_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    low_id: Mapped[int] = mapped_column(ForeignKey("match_profiles.id", ondelete="CASCADE"))
    high_id: Mapped[int] = mapped_column(ForeignKey("match_profiles.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Double)
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    low_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    high_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    declined_by: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)
    consented_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class MatchCallAnswerRow(Base):
    """An answer to a call for interest: the answers to its extra questions and the profile it created."""

    __tablename__ = "match_call_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("match_calls.id", ondelete="CASCADE"), index=True)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("match_profiles.id", ondelete="SET NULL"))
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
