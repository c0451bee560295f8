"""Public buildings of a municipality: import (idempotent by code), candidate households per cabina, the stored
assessment and ranking, recomputation.

The computation is :mod:`condivisa.civic.buildings`; this module only converts between its objects and the rows
of :mod:`condivisa.store.models_buildings`. Every write is one transaction (committed here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from condivisa.civic.buildings import (
    Assessment,
    Building,
    BuildingResult,
    Households,
    Parameters,
    ScoreComponent,
    assess_buildings,
)
from condivisa.production.weather import WeatherYear
from condivisa.store.models import utc_now
from condivisa.store.models_buildings import (
    CivicBuildingRankingRow,
    CivicBuildingResultRow,
    CivicBuildingRow,
    CivicCabinaHouseholdsRow,
)
from condivisa.store.municipalities import MunicipalityInfo
from condivisa.store.repository import NotFoundError


@dataclass(frozen=True)
class ImportSummary:
    """Codes of the buildings created and of those updated by an import."""

    created: tuple[str, ...]
    updated: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated)


@dataclass(frozen=True)
class RankedBuilding:
    """A stored building and its latest result (None before the first assessment or when added since)."""

    building: Building
    result: BuildingResult | None


@dataclass(frozen=True)
class StoredRanking:
    """A municipality's buildings with their latest assessment, best first (unassessed ones last, by code)."""

    entries: tuple[RankedBuilding, ...]
    computed_at: dt.datetime | None
    stale: bool
    parameters: dict[str, Any]
    notes: tuple[str, ...]
    cabine: tuple[dict[str, Any], ...]
    households: dict[str, Households]

    @property
    def assessed(self) -> bool:
        """An assessment is stored."""
        return self.computed_at is not None

    def entry(self, code: str) -> RankedBuilding:
        """The building ``code``.

        Raises
        ------
        NotFoundError
            No such building.
        """
        for e in self.entries:
            if e.building.code == code:
                return e
        raise NotFoundError(f"edificio {code!r} non trovato")


def _to_building(row: CivicBuildingRow) -> Building:
    return Building(
        code=row.code,
        name=row.name,
        use=row.use,
        address=row.address,
        latitude=row.latitude,
        longitude=row.longitude,
        roof_area_m2=row.roof_area_m2,
        usable_share=row.usable_share,
        tilt_deg=row.tilt_deg,
        azimuth_deg=row.azimuth_deg,
        flat=row.flat,
        orientation=row.orientation,
        consumption_kwh_year=row.consumption_kwh_year,
        cabina=row.cabina,
        constraints=tuple(row.constraints or ()),
        footprint=row.footprint,
        roof_area_from_footprint=row.roof_area_from_footprint,
    )


def _fill(row: CivicBuildingRow, b: Building, source: str) -> None:
    row.name = b.name
    row.use = b.use
    row.address = b.address
    row.latitude = b.latitude
    row.longitude = b.longitude
    row.roof_area_m2 = b.roof_area_m2
    row.roof_area_from_footprint = b.roof_area_from_footprint
    row.usable_share = b.usable_share
    row.tilt_deg = b.tilt_deg
    row.azimuth_deg = b.azimuth_deg
    row.flat = b.flat
    row.orientation = b.orientation
    row.consumption_kwh_year = b.consumption_kwh_year
    row.cabina = b.cabina
    row.constraints = list(b.constraints)
    row.footprint = dict(b.footprint) if b.footprint is not None else None
    row.source = source[:200]
    row.updated_at = utc_now()


def import_buildings(
    session: Session, municipality_id: int, buildings: Sequence[Building], *, source: str
) -> ImportSummary:
    """Store checked buildings: a new code is added, a known code (same municipality) is updated in place.

    The stored assessment, if any, is marked stale. One transaction; nothing is stored on failure.
    """
    existing = {
        r.code: r
        for r in session.scalars(select(CivicBuildingRow).where(CivicBuildingRow.municipality_id == municipality_id))
    }
    created, updated = [], []
    try:
        for b in buildings:
            row = existing.get(b.code)
            if row is None:
                row = CivicBuildingRow(municipality_id=municipality_id, code=b.code, created_at=utc_now())
                session.add(row)
                existing[b.code] = row
                created.append(b.code)
            else:
                updated.append(b.code)
            _fill(row, b, source)
        ranking = session.get(CivicBuildingRankingRow, municipality_id)
        if ranking is not None:
            ranking.stale = True
        session.commit()
    except Exception:
        session.rollback()
        raise
    return ImportSummary(tuple(created), tuple(updated))


def list_buildings(session: Session, municipality_id: int) -> list[Building]:
    """The municipality's buildings, by code."""
    rows = session.scalars(
        select(CivicBuildingRow)
        .where(CivicBuildingRow.municipality_id == municipality_id)
        .order_by(CivicBuildingRow.code)
    )
    return [_to_building(r) for r in rows]


def households_of(session: Session, municipality_id: int) -> dict[str, Households]:
    """Candidate households by cabina."""
    rows = session.scalars(
        select(CivicCabinaHouseholdsRow)
        .where(CivicCabinaHouseholdsRow.municipality_id == municipality_id)
        .order_by(CivicCabinaHouseholdsRow.cabina)
    )
    return {r.cabina: Households(r.households, r.kwh_per_household) for r in rows}


def set_households(session: Session, municipality_id: int, cabina: str, households: Households) -> None:
    """Set the candidate households of a cabina (a count of 0 removes them); the assessment becomes stale."""
    cabina = cabina.strip()
    if not cabina or len(cabina) > 64:
        raise ValueError("cabina primaria: codice mancante o troppo lungo (al massimo 64 caratteri)")
    row = session.get(CivicCabinaHouseholdsRow, (municipality_id, cabina))
    if households.count == 0:
        if row is not None:
            session.delete(row)
    else:
        if row is None:
            row = CivicCabinaHouseholdsRow(municipality_id=municipality_id, cabina=cabina)
            session.add(row)
        row.households = households.count
        row.kwh_per_household = float(households.kwh_per_household)
    ranking = session.get(CivicBuildingRankingRow, municipality_id)
    if ranking is not None:
        ranking.stale = True
    session.commit()


def _details(r: BuildingResult) -> dict[str, Any]:
    return {
        "components": [
            {
                "key": c.key,
                "value": c.value,
                "unit": c.unit,
                "normalised": c.normalised,
                "weight": c.weight,
                "points": c.points,
            }
            for c in r.components
        ],
        "penalty_reasons": list(r.penalty_reasons),
        "monthly": [list(m) for m in r.monthly],
    }


def save_assessment(session: Session, municipality_id: int, assessment: Assessment) -> None:
    """Replace the stored assessment of the municipality's buildings with ``assessment`` (one transaction).

    Raises
    ------
    NotFoundError
        A result names a code that is not stored.
    """
    rows = {
        r.code: r
        for r in session.scalars(select(CivicBuildingRow).where(CivicBuildingRow.municipality_id == municipality_id))
    }
    now = utc_now()
    try:
        ids = [r.id for r in rows.values()]
        if ids:
            session.execute(delete(CivicBuildingResultRow).where(CivicBuildingResultRow.building_id.in_(ids)))
        for r in assessment.results:
            row = rows.get(r.code)
            if row is None:
                raise NotFoundError(f"edificio {r.code!r} non trovato")
            session.add(
                CivicBuildingResultRow(
                    building_id=row.id,
                    rank=r.rank,
                    score=r.score,
                    kwp=r.kwp,
                    capped=r.capped,
                    production_kwh=r.production_kwh,
                    consumption_kwh=r.consumption_kwh,
                    self_kwh=r.self_kwh,
                    surplus_kwh=r.surplus_kwh,
                    shared_kwh=r.shared_kwh,
                    neighbours_demand_kwh=r.neighbours_demand_kwh,
                    yield_kwh_kwp=r.yield_kwh_kwp,
                    incentive_eur=r.incentive_eur,
                    savings_eur=r.savings_eur,
                    sale_eur=r.sale_eur,
                    opex_eur=r.opex_eur,
                    capex_eur=r.capex_eur,
                    grant_eur=r.grant_eur,
                    payback_years=r.payback_years,
                    penalty=r.penalty,
                    details=_details(r),
                    computed_at=now,
                )
            )
        ranking = session.get(CivicBuildingRankingRow, municipality_id)
        if ranking is None:
            ranking = CivicBuildingRankingRow(municipality_id=municipality_id)
            session.add(ranking)
        ranking.computed_at = now
        ranking.stale = False
        ranking.parameters = dict(assessment.parameters.as_dict())
        ranking.notes = list(assessment.notes)
        ranking.cabine = [
            {
                "cabina": c.cabina,
                "buildings": c.buildings,
                "households": c.households,
                "households_kwh": c.households_kwh,
                "surplus_kwh": c.surplus_kwh,
                "residual_kwh": c.residual_kwh,
                "shared_kwh": c.shared_kwh,
            }
            for c in assessment.cabine
        ]
        session.commit()
    except Exception:
        session.rollback()
        raise


def _to_result(code: str, row: CivicBuildingResultRow) -> BuildingResult:
    details = row.details or {}
    components = tuple(
        ScoreComponent(
            key=str(c["key"]),
            value=float(c["value"]),
            unit=str(c["unit"]),
            normalised=float(c["normalised"]),
            weight=float(c["weight"]),
            points=float(c["points"]),
        )
        for c in details.get("components", [])
    )
    monthly_raw = details.get("monthly", [])
    monthly = tuple((float(m[0]), float(m[1]), float(m[2]), float(m[3])) for m in monthly_raw)
    return BuildingResult(
        code=code,
        kwp=row.kwp,
        capped=row.capped,
        production_kwh=row.production_kwh,
        consumption_kwh=row.consumption_kwh,
        self_kwh=row.self_kwh,
        surplus_kwh=row.surplus_kwh,
        shared_kwh=row.shared_kwh,
        neighbours_demand_kwh=row.neighbours_demand_kwh,
        yield_kwh_kwp=row.yield_kwh_kwp,
        incentive_eur=row.incentive_eur,
        savings_eur=row.savings_eur,
        sale_eur=row.sale_eur,
        opex_eur=row.opex_eur,
        capex_eur=row.capex_eur,
        grant_eur=row.grant_eur,
        payback_years=row.payback_years,
        score=row.score,
        rank=row.rank,
        components=components,
        penalty=row.penalty,
        penalty_reasons=tuple(str(x) for x in details.get("penalty_reasons", [])),
        monthly=monthly,
    )


def load_ranking(session: Session, municipality_id: int) -> StoredRanking:
    """The municipality's buildings with their latest results, best first (possibly none stored)."""
    rows = list(
        session.scalars(
            select(CivicBuildingRow)
            .where(CivicBuildingRow.municipality_id == municipality_id)
            .order_by(CivicBuildingRow.code)
        )
    )
    results = {
        r.building_id: r
        for r in session.scalars(
            select(CivicBuildingResultRow).where(CivicBuildingResultRow.building_id.in_([r.id for r in rows]))
        )
    }
    entries = [
        RankedBuilding(_to_building(r), _to_result(r.code, results[r.id]) if r.id in results else None) for r in rows
    ]
    entries.sort(key=lambda e: (e.result is None, e.result.rank if e.result else 0, e.building.code))
    ranking = session.get(CivicBuildingRankingRow, municipality_id)
    stale = bool(ranking.stale) if ranking is not None else False
    if ranking is not None and any(e.result is None for e in entries):
        stale = True
    return StoredRanking(
        entries=tuple(entries),
        computed_at=ranking.computed_at if ranking is not None else None,
        stale=stale,
        parameters=dict(ranking.parameters) if ranking is not None else {},
        notes=tuple(ranking.notes) if ranking is not None else (),
        cabine=tuple(ranking.cabine) if ranking is not None else (),
        households=households_of(session, municipality_id),
    )


def rank_municipality(
    session: Session,
    municipality: MunicipalityInfo,
    *,
    params: Parameters | None = None,
    weather: WeatherYear | None = None,
) -> Assessment:
    """Assess every stored building of ``municipality`` with its candidate households, store the results and the
    ranking, and return the assessment.

    The region of the municipality sets the PV geographic correction (``params.region`` is replaced by it).

    Raises
    ------
    ValueError
        The municipality has no building.
    """
    buildings = list_buildings(session, municipality.id)
    if not buildings:
        raise ValueError(f"il comune {municipality.name} non ha edifici: importare prima il loro elenco")
    p = replace(params or Parameters(), region=municipality.region)
    assessment = assess_buildings(
        buildings, weather=weather, params=p, households=households_of(session, municipality.id)
    )
    save_assessment(session, municipality.id, assessment)
    return assessment
