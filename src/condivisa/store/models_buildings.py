"""Tables of the municipality's buildings service: public buildings as hosts of shared PV plants.

- ``civic_buildings``: the building table a municipality imported (CSV or GeoJSON), one row per (municipality,
  code); re-importing a code updates its row. Buildings are public assets: no contact person is stored (columns
  of the file that are not in :data:`condivisa.civic.buildings.COLUMNS` are dropped on reading).
- ``civic_building_results``: the latest assessment of each building (potential, shared energy, incentive,
  economics, score and rank), replaced on every recomputation.
- ``civic_building_rankings``: one row per municipality describing its latest assessment (when, parameters,
  notes, per-cabina totals; ``stale`` once buildings changed after it).
- ``civic_cabina_households``: candidate households per cabina primaria, taking part of the shared energy.

Units: energy kWh, power kWp, money € (estimates, not settlements: floating point), angles degrees.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Double, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from condivisa.store.models import Base, UTCDateTime, utc_now


class CivicBuildingRow(Base):
    """A public building of a municipality, as its table described it (checked)."""

    __tablename__ = "civic_buildings"
    __table_args__ = (UniqueConstraint("municipality_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    use: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300))
    latitude: Mapped[float] = mapped_column(Double)
    longitude: Mapped[float] = mapped_column(Double)
    roof_area_m2: Mapped[float] = mapped_column(Double)
    roof_area_from_footprint: Mapped[bool] = mapped_column(Boolean)
    usable_share: Mapped[float] = mapped_column(Double)
    tilt_deg: Mapped[float] = mapped_column(Double)
    azimuth_deg: Mapped[float] = mapped_column(Double)
    flat: Mapped[bool] = mapped_column(Boolean)
    orientation: Mapped[str | None] = mapped_column(String(20))
    consumption_kwh_year: Mapped[float] = mapped_column(Double)
    cabina: Mapped[str] = mapped_column(String(64))
    constraints: Mapped[list[str]] = mapped_column(JSON)
    footprint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class CivicBuildingResultRow(Base):
    """The latest assessment of one building [kWh, kWp, €]; ``details`` holds the score components, the
    constraint penalties and the monthly (production, consumption, self-consumption, shared) figures."""

    __tablename__ = "civic_building_results"

    building_id: Mapped[int] = mapped_column(ForeignKey("civic_buildings.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Double)
    kwp: Mapped[float] = mapped_column(Double)
    capped: Mapped[bool] = mapped_column(Boolean)
    production_kwh: Mapped[float] = mapped_column(Double)
    consumption_kwh: Mapped[float] = mapped_column(Double)
    self_kwh: Mapped[float] = mapped_column(Double)
    surplus_kwh: Mapped[float] = mapped_column(Double)
    shared_kwh: Mapped[float] = mapped_column(Double)
    neighbours_demand_kwh: Mapped[float] = mapped_column(Double)
    yield_kwh_kwp: Mapped[float] = mapped_column(Double)
    incentive_eur: Mapped[float] = mapped_column(Double)
    savings_eur: Mapped[float] = mapped_column(Double)
    sale_eur: Mapped[float] = mapped_column(Double)
    opex_eur: Mapped[float] = mapped_column(Double)
    capex_eur: Mapped[float] = mapped_column(Double)
    grant_eur: Mapped[float] = mapped_column(Double)
    payback_years: Mapped[float | None] = mapped_column(Double)
    penalty: Mapped[float] = mapped_column(Double)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class CivicBuildingRankingRow(Base):
    """The latest assessment of a municipality's buildings: when, with which parameters, notes and cabine."""

    __tablename__ = "civic_building_rankings"

    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    notes: Mapped[list[str]] = mapped_column(JSON)
    cabine: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class CivicCabinaHouseholdsRow(Base):
    """Candidate households under one cabina primaria of a municipality (count and yearly kWh each)."""

    __tablename__ = "civic_cabina_households"

    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"), primary_key=True)
    cabina: Mapped[str] = mapped_column(String(64), primary_key=True)
    households: Mapped[int] = mapped_column(Integer)
    kwh_per_household: Mapped[float] = mapped_column(Double)
