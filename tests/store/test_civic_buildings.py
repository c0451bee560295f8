"""Public buildings in the database, on SQLite and PostgreSQL: import (idempotent by municipality + code), ranking
stored and read back, households per cabina, cascade on the municipality."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from condivisa.civic.buildings import Households, read_buildings
from condivisa.store.buildings import (
    import_buildings,
    list_buildings,
    load_ranking,
    rank_municipality,
    set_households,
)
from condivisa.store.models import MunicipalityRow
from condivisa.store.models_buildings import CivicBuildingResultRow, CivicBuildingRow
from condivisa.store.municipalities import ensure_municipality
from condivisa.store.repository import NotFoundError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example(name: str = "edifici-pubblici.csv") -> list:  # type: ignore[type-arg]
    return read_buildings((EXAMPLES / name).read_text(encoding="utf-8"), name)


def test_round_trip_import_rank_and_reimport(session: Session) -> None:
    town = ensure_municipality(session, "Borgo Prova", region="Piemonte", slug="borgo-prova")
    other = ensure_municipality(session, "Altro Paese", region="Lombardia", slug="altro-paese")
    buildings = _example("edifici-pubblici.geojson")
    summary = import_buildings(session, town.id, buildings, source="edifici-pubblici.geojson")
    assert len(summary.created) == 12 and summary.updated == ()
    # the same codes in another municipality are other buildings
    import_buildings(session, other.id, buildings[:2], source="x.csv")

    stored = list_buildings(session, town.id)
    assert [b.code for b in stored] == sorted(b.code for b in buildings)
    original = {b.code: b for b in buildings}
    for b in stored:
        o = original[b.code]
        assert b == replace(o, footprint=b.footprint)  # every field survives the database
        assert b.footprint == o.footprint

    ranking = load_ranking(session, town.id)
    assert not ranking.assessed and all(e.result is None for e in ranking.entries)

    set_households(session, town.id, "AC001E00124", Households(40, 2_500.0))
    assessment = rank_municipality(session, town)
    assert assessment.parameters.region == "Piemonte"
    ranking = load_ranking(session, town.id)
    assert ranking.assessed and not ranking.stale
    assert ranking.households == {"AC001E00124": Households(40, 2_500.0)}
    assert [e.result.rank for e in ranking.entries if e.result] == list(range(1, 13))
    computed = assessment.by_code()
    for e in ranking.entries:
        assert e.result == computed[e.building.code]  # stored results read back exactly
    assert ranking.cabine and {c["cabina"] for c in ranking.cabine} == {"AC001E00123", "AC001E00124", "AC001E00125"}
    assert ranking.notes and ranking.parameters["region"] == "Piemonte"
    assert ranking.entry("MUN01").building.name == "Municipio"
    with pytest.raises(NotFoundError):
        ranking.entry("NOPE")

    # re-import: same codes are updated, not duplicated; the ranking becomes stale until recomputed
    changed = [
        replace(b, consumption_kwh_year=b.consumption_kwh_year * 2) if b.code == "MUN01" else b for b in buildings
    ]
    again = import_buildings(session, town.id, changed, source="v2.csv")
    assert again.created == () and len(again.updated) == 12
    count = session.scalar(
        select(func.count()).select_from(CivicBuildingRow).where(CivicBuildingRow.municipality_id == town.id)
    )
    assert count == 12
    assert load_ranking(session, town.id).stale
    assert {b.code: b for b in list_buildings(session, town.id)}["MUN01"].consumption_kwh_year == 76_000.0
    rank_municipality(session, town)
    assert not load_ranking(session, town.id).stale
    assert len(list_buildings(session, other.id)) == 2


def test_households_zero_removes_and_cascade_on_municipality(session: Session) -> None:
    town = ensure_municipality(session, "Borgo Cascata", region="Piemonte", slug="borgo-cascata")
    import_buildings(session, town.id, _example(), source="e.csv")
    set_households(session, town.id, "AC001E00123", Households(10))
    set_households(session, town.id, "AC001E00123", Households(0))
    assert load_ranking(session, town.id).households == {}
    with pytest.raises(ValueError):
        set_households(session, town.id, " ", Households(3))
    rank_municipality(session, town)
    assert session.scalar(select(func.count()).select_from(CivicBuildingResultRow)) == 12
    session.delete(session.get(MunicipalityRow, town.id))
    session.commit()
    assert session.scalar(select(func.count()).select_from(CivicBuildingRow)) == 0
    assert session.scalar(select(func.count()).select_from(CivicBuildingResultRow)) == 0


def test_ranking_without_buildings_is_an_error(session: Session) -> None:
    town = ensure_municipality(session, "Borgo Vuoto", region="Piemonte", slug="borgo-vuoto")
    with pytest.raises(ValueError, match="non ha edifici"):
        rank_municipality(session, town)
    assert load_ranking(session, town.id).entries == ()
