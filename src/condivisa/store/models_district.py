"""Tables of issue 8, points 3 and 4: energy and emissions inventories; district energy and water management.

Inventories (:mod:`condivisa.store.inventories`)

- ``energy_inventories``: one inventory of an entity (a municipality, a stored community or a district) for one
  year, ``baseline`` or ``monitoring``; ``entity_ref`` ("municipality:3", "community:7", "district:2") makes the
  (entity, year, kind) triple unique on both databases;
- ``energy_inventory_rows``: final consumption by sector and carrier [MWh];
- ``energy_inventory_production``: local renewable electricity production by technology [MWh];
- ``energy_inventory_factors``: local emission factors replacing the bundled ones (district heating) [t CO2/MWh].

District energy management, ISO 50001 style (:mod:`condivisa.store.district`)

- ``districts`` of a municipality; ``district_sites`` (buildings, plants, pumping stations);
- ``district_meters`` (electricity, heat, gas, water; kWh, Sm3, m3) with an optional link to a community POD, whose
  readings then come from the ``readings`` table; ``district_meter_readings``: the other meters' values per local
  day (or per period starting that day) in the meter's unit;
- ``district_variables`` and ``district_variable_values``: relevant variables per day (daily mean temperature
  [°C], activity in its unit);
- ``district_baselines``: a fitted energy baseline (boundary, period, variables, coefficients, statistics,
  acceptance); ``district_enpis`` and ``district_targets``;
- ``district_actions`` (action plan), ``district_savings`` (measurement and verification per reporting period),
  ``district_reviews`` (management reviews, summary and decisions);
- ``district_team_members`` and ``district_decisions``: the district transition team;
- ``district_alarms``: continuous monitoring (EnPI off target).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Double, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from condivisa.store.models import Base, UTCDateTime, utc_now

INVENTORY_KINDS = ("baseline", "monitoring")
ENTITY_KINDS = ("municipality", "community", "district")
SITE_KINDS = ("building", "plant", "pumping_station", "lighting", "other")
CARRIERS = ("electricity", "heat", "gas", "water")
UNITS = ("kWh", "Sm3", "m3")
VARIABLE_KINDS = ("temperature", "activity")
ENPI_KINDS = ("measured", "ratio", "regression")
DECISION_STATUSES = ("open", "in_progress", "done", "cancelled")
DISTRICT_ALARM_STATUSES = ("open", "closed")


# --- inventories -------------------------------------------------------------------------------------------------


class EnergyInventoryRow(Base):
    """An energy inventory of one entity and year; ``target_*`` (on a baseline) is the reduction commitment."""

    __tablename__ = "energy_inventories"
    __table_args__ = (UniqueConstraint("entity_ref", "year", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_ref: Mapped[str] = mapped_column(String(40), index=True)
    entity_name: Mapped[str] = mapped_column(String(200))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    population: Mapped[int | None] = mapped_column(Integer)
    shared_energy_mwh: Mapped[float] = mapped_column(Double, default=0.0)
    green_purchases_mwh: Mapped[float] = mapped_column(Double, default=0.0)
    electricity_rule: Mapped[str] = mapped_column(String(16), default="local")
    target_reduction_pct: Mapped[float | None] = mapped_column(Double)
    target_year: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class EnergyInventoryLineRow(Base):
    """Final consumption of one sector and carrier in an inventory [MWh]."""

    __tablename__ = "energy_inventory_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inventory_id: Mapped[int] = mapped_column(ForeignKey("energy_inventories.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sector: Mapped[str] = mapped_column(String(32))
    carrier: Mapped[str] = mapped_column(String(32))
    mwh: Mapped[float] = mapped_column(Double)
    note: Mapped[str] = mapped_column(String(500), default="")


class EnergyInventoryProductionRow(Base):
    """Local renewable electricity production of one technology in an inventory [MWh]."""

    __tablename__ = "energy_inventory_production"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inventory_id: Mapped[int] = mapped_column(ForeignKey("energy_inventories.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    technology: Mapped[str] = mapped_column(String(32))
    mwh: Mapped[float] = mapped_column(Double)
    note: Mapped[str] = mapped_column(String(500), default="")


class EnergyInventoryFactorRow(Base):
    """A local emission factor of an inventory, replacing the bundled one [t CO2/MWh], with its source."""

    __tablename__ = "energy_inventory_factors"
    __table_args__ = (UniqueConstraint("inventory_id", "carrier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inventory_id: Mapped[int] = mapped_column(ForeignKey("energy_inventories.id", ondelete="CASCADE"))
    carrier: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Double)
    source: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(String(500), default="")


# --- districts, sites, meters, variables -------------------------------------------------------------------------


class DistrictRow(Base):
    """A district of a municipality managed ISO 50001 style."""

    __tablename__ = "districts"
    __table_args__ = (UniqueConstraint("municipality_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    hdd_base_c: Mapped[float] = mapped_column(Double, default=20.0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class DistrictSiteRow(Base):
    """A site of a district: a building, a plant, a pumping station... (``floor_area_m2`` optional [m²])."""

    __tablename__ = "district_sites"
    __table_args__ = (UniqueConstraint("district_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300), default="")
    floor_area_m2: Mapped[float | None] = mapped_column(Double)


class DistrictMeterRow(Base):
    """A meter of a site. ``kwh_per_unit`` converts the meter's unit to kWh (1 for kWh, e.g. 10.69 for Sm3 of
    natural gas; unused for water, counted in m3); ``community_id`` + ``pod`` link an electricity meter to a
    community POD whose withdrawal in ``readings`` is the meter's consumption; ``use`` names the energy use."""

    __tablename__ = "district_meters"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("district_sites.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(50))
    carrier: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(8))
    kwh_per_unit: Mapped[float] = mapped_column(Double, default=1.0)
    use: Mapped[str] = mapped_column(String(100), default="")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"))
    pod: Mapped[str | None] = mapped_column(String(16))


class DistrictMeterReadingRow(Base):
    """Consumption of a meter in the period starting on local day ``day`` [meter unit]; re-importing replaces."""

    __tablename__ = "district_meter_readings"

    meter_id: Mapped[int] = mapped_column(
        ForeignKey("district_meters.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    value: Mapped[float] = mapped_column(Double)


class DistrictVariableRow(Base):
    """A relevant variable of a district: ``temperature`` (daily mean [°C], gives degree days) or ``activity``."""

    __tablename__ = "district_variables"
    __table_args__ = (UniqueConstraint("district_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(30), default="")


class DistrictVariableValueRow(Base):
    """Value of a variable on local day ``day`` (temperature: daily mean [°C]; activity: amount of the period
    starting that day)."""

    __tablename__ = "district_variable_values"

    variable_id: Mapped[int] = mapped_column(
        ForeignKey("district_variables.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    value: Mapped[float] = mapped_column(Double)


# --- baselines, EnPIs, targets, actions, M&V, reviews -------------------------------------------------------------


class DistrictBaselineRow(Base):
    """A fitted energy baseline: boundary (a site or the whole district, one carrier), period, variables
    (``hdd``, ``cdd`` or activity variable names), coefficients [kWh, kWh per unit], statistics and acceptance."""

    __tablename__ = "district_baselines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("district_sites.id", ondelete="CASCADE"))
    carrier: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(8))
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    variables: Mapped[list[str]] = mapped_column(JSON)
    coefficients: Mapped[dict[str, float]] = mapped_column(JSON)
    statistics: Mapped[dict[str, Any]] = mapped_column(JSON)
    accepted: Mapped[bool] = mapped_column(Boolean)
    failures: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class DistrictEnpiRow(Base):
    """An energy performance indicator on a baseline's boundary: ``measured`` (energy per period), ``ratio``
    (energy per unit of ``variable``) or ``regression`` (actual / expected by the baseline)."""

    __tablename__ = "district_enpis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    baseline_id: Mapped[int] = mapped_column(ForeignKey("district_baselines.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    variable: Mapped[str | None] = mapped_column(String(50))
    lower_is_better: Mapped[bool] = mapped_column(Boolean, default=True)


class DistrictTargetRow(Base):
    """A target on an EnPI: ``target_value`` reached by ``due``; with ``baseline_value`` the path is the straight
    line from it over the periods from ``start`` to ``due``; ``tolerance`` a relative margin."""

    __tablename__ = "district_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enpi_id: Mapped[int] = mapped_column(ForeignKey("district_enpis.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    start: Mapped[dt.date] = mapped_column(Date)
    due: Mapped[dt.date] = mapped_column(Date)
    baseline_value: Mapped[float | None] = mapped_column(Double)
    target_value: Mapped[float] = mapped_column(Double)
    tolerance: Mapped[float] = mapped_column(Double, default=0.0)


class DistrictActionRow(Base):
    """An action plan item (ISO 50001 6.2) with expected and verified savings per year [kWh]."""

    __tablename__ = "district_actions"
    __table_args__ = (UniqueConstraint("district_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("district_sites.id", ondelete="SET NULL"))
    significant_use: Mapped[str | None] = mapped_column(String(100))
    responsible: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    due: Mapped[dt.date | None] = mapped_column(Date)
    expected_savings_kwh: Mapped[float | None] = mapped_column(Double)
    verified_savings_kwh: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class DistrictSavingsRow(Base):
    """Verified savings of a reporting period against a baseline (IPMVP Option C) [kWh], with uncertainty."""

    __tablename__ = "district_savings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    baseline_id: Mapped[int] = mapped_column(ForeignKey("district_baselines.id", ondelete="CASCADE"), index=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("district_actions.id", ondelete="SET NULL"))
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    confidence: Mapped[float] = mapped_column(Double)
    adjusted_baseline_kwh: Mapped[float] = mapped_column(Double)
    actual_kwh: Mapped[float] = mapped_column(Double)
    non_routine_kwh: Mapped[float] = mapped_column(Double)
    avoided_kwh: Mapped[float] = mapped_column(Double)
    savings_fraction: Mapped[float | None] = mapped_column(Double)
    uncertainty_kwh: Mapped[float] = mapped_column(Double)
    fsu_68: Mapped[float | None] = mapped_column(Double)
    meets_ashrae14: Mapped[bool] = mapped_column(Boolean)
    periods: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class DistrictReviewRow(Base):
    """A management review (ISO 50001 9.3): the numbers' summary, the decisions taken, on ``review_date``."""

    __tablename__ = "district_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), index=True)
    baseline_id: Mapped[int | None] = mapped_column(ForeignKey("district_baselines.id", ondelete="SET NULL"))
    review_date: Mapped[dt.date] = mapped_column(Date)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    decisions: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


# --- transition team, monitoring ----------------------------------------------------------------------------------


class DistrictTeamMemberRow(Base):
    """A member of the district transition team (shown only to the municipality's officers)."""

    __tablename__ = "district_team_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(200), default="")


class DistrictDecisionRow(Base):
    """A decision of the transition team: date, owner, status (open, in_progress, done, cancelled)."""

    __tablename__ = "district_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), index=True)
    decided_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    due: Mapped[dt.date | None] = mapped_column(Date)


class DistrictAlarmRow(Base):
    """An alarm of continuous monitoring: an EnPI off its target in ``period`` (the latest period checked)."""

    __tablename__ = "district_alarms"
    __table_args__ = (UniqueConstraint("district_id", "enpi_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), index=True)
    enpi_id: Mapped[int] = mapped_column(ForeignKey("district_enpis.id", ondelete="CASCADE"))
    period: Mapped[dt.date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(String(1000))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
