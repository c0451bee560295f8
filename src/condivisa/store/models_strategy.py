"""Tables of the strategy tools (issue 8): the artefacts of a municipality's plan and their links to actions.

- ``strategy_artefacts``: one artefact (PESTLE analysis, barriers and opportunities map, Theory of Change, policy
  sandbox experiment, best practice) of a municipality; ``content`` is the validated document
  (:mod:`condivisa.strategy.artefacts`), ``title`` repeats its title for lists; only ``public`` artefacts are shown
  to visitors, and only public best practices are in the library. A copied artefact keeps the id of its source in
  ``copied_from_id`` (no foreign key: the source may be deleted later) and a copied best practice its
  ``provenance`` (:class:`condivisa.strategy.replication.Provenance` as JSON).
- ``strategy_action_links``: the action references (``action:PAESC-12``) found anywhere in an artefact, kept in
  step with ``content`` on every save, to find the artefacts of an action.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from condivisa.store.models import Base, UTCDateTime, utc_now

ARTEFACT_KINDS = ("pestle", "map", "toc", "sandbox", "practice")


class StrategyArtefactRow(Base):
    """An artefact of a municipality's plan (see the module docstring)."""

    __tablename__ = "strategy_artefacts"
    __table_args__ = (
        CheckConstraint("kind IN ('pestle', 'map', 'toc', 'sandbox', 'practice')", name="kind_known"),
        Index("ix_strategy_artefacts_municipality_id_kind", "municipality_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    copied_from_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class StrategyActionLinkRow(Base):
    """An action reference (``action:PAESC-12``, as written) found in an artefact."""

    __tablename__ = "strategy_action_links"
    __table_args__ = (UniqueConstraint("artefact_id", "action_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artefact_id: Mapped[int] = mapped_column(ForeignKey("strategy_artefacts.id", ondelete="CASCADE"), index=True)
    action_ref: Mapped[str] = mapped_column(String(100), index=True)
