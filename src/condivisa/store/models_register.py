"""Tables of the municipality's register service: register entries, label criteria and settings, applications.

Units: power in kW, coordinates WGS84 degrees, shares in percent, scores as fractions [0..1]; instants UTC.
Manage tokens are never stored: only their SHA-256 (hex), so a leaked database cannot be used to edit entries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Double, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from condivisa.store.models import Base, UTCDateTime, utc_now


class RegisterEntryRow(Base):
    """A local energy community (CER, AUC, AID) in a municipality's public register.

    ``publication`` is ``submitted`` (waiting for the office), ``published`` (public) or ``rejected``;
    ``source`` is ``self`` (registered through the public form) or ``office``. ``plants`` is a list of
    ``{"technology", "kw", "name"}``; ``cabina_area`` a GeoJSON Polygon/MultiPolygon (lon/lat).
    """

    __tablename__ = "register_entries"
    __table_args__ = (Index("ix_register_entries_municipality_id_publication", "municipality_id", "publication"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    configuration: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    members_count: Mapped[int | None] = mapped_column(Integer)
    plants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total_kw: Mapped[float] = mapped_column(Double, default=0.0)
    cabina_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    cabina_area: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    area_description: Mapped[str] = mapped_column(String(500), default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_public: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(String(2000), default="")
    regulation_url: Mapped[str] = mapped_column(String(500), default="")
    regulation_text: Mapped[str] = mapped_column(Text, default="")
    publication: Mapped[str] = mapped_column(String(16), default="submitted")
    rejection_reason: Mapped[str | None] = mapped_column(String(2000))
    source: Mapped[str] = mapped_column(String(16), default="self")
    manage_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)


class LabelCriterionRow(Base):
    """One criterion of a municipality's label guidelines (see :class:`condivisa.civic.label.Criterion`)."""

    __tablename__ = "label_criteria"
    __table_args__ = (UniqueConstraint("municipality_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    kind: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[float | None] = mapped_column(Double)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    weight: Mapped[float] = mapped_column(Double, default=1.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(1000), default="")
    proposal: Mapped[bool] = mapped_column(Boolean, default=False)


class LabelSettingsRow(Base):
    """A municipality's label settings: least weighted score [0..1], validity of a label [years]."""

    __tablename__ = "label_settings"

    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"), primary_key=True)
    min_score: Mapped[float] = mapped_column(Double)
    validity_years: Mapped[int] = mapped_column(Integer)


class LabelApplicationRow(Base):
    """A community's application for the label, with its evidence and the office's decision.

    ``status``: ``submitted``, ``awarded``, ``refused``. ``evidence`` maps criterion code to ``{"value", "note"}``;
    ``evaluation`` is the automatic evaluation at submission (score, eligible, per-criterion met and reason);
    ``review`` maps criterion code to the officer's ``{"met": bool, "note"}``.
    """

    __tablename__ = "label_applications"
    __table_args__ = (Index("ix_label_applications_municipality_id_status", "municipality_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    review: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decision_note: Mapped[str | None] = mapped_column(String(2000))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    awarded_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
