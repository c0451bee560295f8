"""Public buildings: reading and checking the building table, PV potential with pvlib, sharing with neighbours in
the same cabina primaria, incentive, ranking."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from condivisa.civic.buildings import (
    COLUMNS,
    FLAT_LAYOUT_FACTOR,
    M2_PER_KWP,
    Building,
    Households,
    Parameters,
    assess_buildings,
    building_load_kwh,
    parse_buildings_csv,
    parse_buildings_geojson,
    plant_kwp,
    pv_potential,
    ranking_document,
    read_buildings,
    use_category,
)
from condivisa.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HEADER = ",".join(COLUMNS)


def row(**kw: object) -> str:
    values: dict[str, object] = {
        "code": "B1",
        "name": "Scuola",
        "use": "scuola",
        "address": "Via Roma 1",
        "latitude": 45.07,
        "longitude": 7.69,
        "roof_area_m2": 300,
        "usable_share": 0.6,
        "tilt_deg": 20,
        "azimuth_deg": 180,
        "consumption_kwh_year": 30000,
        "cabina": "AC1",
        "orientation": "",
        "constraints": "",
    }
    values.update(kw)
    return ",".join(str(values[c]) for c in COLUMNS)


def csv_of(*rows: str) -> str:
    return HEADER + "\n" + "\n".join(rows) + "\n"


def building(code: str = "B1", **kw: object) -> Building:
    base: dict[str, object] = {
        "code": code,
        "name": f"Edificio {code}",
        "use": "uffici",
        "latitude": 45.07,
        "longitude": 7.69,
        "roof_area_m2": 100.0,
        "consumption_kwh_year": 20_000.0,
        "cabina": "AC1",
        "tilt_deg": 30.0,
        "azimuth_deg": 180.0,
        "usable_share": 1.0,
    }
    base.update(kw)
    return Building(**base)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------------
# Reading


def test_example_csv_reads_twelve_buildings_with_orientations() -> None:
    text = (EXAMPLES / "edifici-pubblici.csv").read_text(encoding="utf-8")
    buildings = parse_buildings_csv(text, "edifici-pubblici.csv")
    assert len(buildings) == 12
    by = {b.code: b for b in buildings}
    assert by["SCM01"].flat and by["SCM01"].tilt_deg == 10.0 and by["SCM01"].azimuth_deg == 180.0
    assert by["PAL01"].flat  # tilt 2° -> flat
    assert by["UFT01"].azimuth_deg == 270.0  # orientation W
    assert by["AMB01"].azimuth_deg == 0.0  # orientation N
    assert by["SCP01"].azimuth_deg == 165.0  # azimuth_deg wins
    assert by["MUN01"].constraints == ("vincolo storico",)
    assert by["BIB01"].constraints == ("vincolo storico", "ombreggiamenti")
    assert by["SCP01"].name == 'Scuola primaria "G. Rodari"'
    assert {b.category for b in buildings} >= {"town_hall", "school", "kindergarten", "gym", "library", "office"}


def test_example_geojson_matches_csv_and_uses_footprints() -> None:
    csv_b = {b.code: b for b in read_buildings((EXAMPLES / "edifici-pubblici.csv").read_text(), "e.csv")}
    geo = read_buildings((EXAMPLES / "edifici-pubblici.geojson").read_text(), "edifici-pubblici.geojson")
    assert [b.code for b in geo] == list(csv_b)
    for g in geo:
        c = csv_b[g.code]
        assert g.latitude == pytest.approx(c.latitude, abs=1e-5)  # centroid of the footprint
        assert g.longitude == pytest.approx(c.longitude, abs=1e-5)
        assert g.footprint is not None and g.footprint["type"] == "Polygon"
        if g.roof_area_from_footprint:
            # the footprint is the roof's horizontal projection: area × cos(tilt) for pitched roofs
            expected = c.roof_area_m2 * (1.0 if c.flat else np.cos(np.radians(c.tilt_deg)))
            assert g.roof_area_m2 == pytest.approx(expected, rel=0.01)
        else:
            assert g.roof_area_m2 == c.roof_area_m2
    assert sum(g.roof_area_from_footprint for g in geo) == 4


def test_semicolon_and_decimal_comma_are_read() -> None:
    text = HEADER.replace(",", ";") + "\n" + row(latitude="45,07", usable_share="0,5").replace(",", ";") + "\n"
    # the comma-separated row became ;-separated, and the decimal commas survive as commas
    text = text.replace("45;07", "45,07").replace("0;5", "0,5")
    [b] = parse_buildings_csv(text, "e.csv")
    assert b.latitude == 45.07 and b.usable_share == 0.5


def test_unknown_columns_are_dropped() -> None:
    text = HEADER + ",referente\n" + row() + ",mario.rossi@example.it\n"
    [b] = parse_buildings_csv(text, "e.csv")
    assert "mario" not in repr(b)


@pytest.mark.parametrize(
    ("kw", "field", "words"),
    [
        ({"roof_area_m2": ""}, "roof_area_m2", "mancante"),
        ({"consumption_kwh_year": "-5"}, "consumption_kwh_year", "negativo"),
        ({"latitude": "95"}, "latitude", "fuori dall'intervallo"),
        ({"longitude": "abc"}, "longitude", "non è un numero"),
        ({"orientation": "SUDOVEST-ISH", "azimuth_deg": ""}, "orientation", "sconosciuto"),
        ({"azimuth_deg": "", "orientation": ""}, "azimuth_deg", "orientamento"),
        ({"usable_share": "1.5"}, "usable_share", "fuori"),
        ({"code": "a b"}, "code", "non valido"),
        ({"code": "importa"}, "code", "riservato"),
        ({"cabina": ""}, "cabina", "mancante"),
    ],
)
def test_bad_rows_are_named_with_file_row_and_field(kw: dict[str, object], field: str, words: str) -> None:
    text = csv_of(row(code="OK1"), row(**kw) if "code" in kw else row(code="B2", **kw))
    with pytest.raises(InputError) as info:
        parse_buildings_csv(text, "edifici.csv")
    [p] = info.value.problems
    assert (p.file, p.row, p.field) == ("edifici.csv", 3, field)
    assert words in p.message
    assert str(p).startswith("edifici.csv, riga 3, " + field)


def test_every_problem_is_reported_and_duplicates_too() -> None:
    text = csv_of(row(code="A", latitude=-100), row(code="B", roof_area_m2=0), row(code="A"), row(code="C"))
    with pytest.raises(InputError) as info:
        parse_buildings_csv(text, "e.csv")
    found = {(p.row, p.field) for p in info.value.problems}
    assert found == {(2, "latitude"), (3, "roof_area_m2"), (4, "code")}


def test_missing_columns_and_empty_files() -> None:
    with pytest.raises(InputError) as info:
        parse_buildings_csv("code,name\nA,B\n", "e.csv")
    assert {p.field for p in info.value.problems} >= {"cabina", "roof_area_m2", "consumption_kwh_year"}
    assert all(p.row == 1 for p in info.value.problems)
    for text in ("", "  \n", HEADER + "\n"):
        with pytest.raises(InputError):
            parse_buildings_csv(text, "e.csv")


def test_geojson_problems_name_the_feature_index() -> None:
    doc = json.loads((EXAMPLES / "edifici-pubblici.geojson").read_text())
    doc["features"][2]["properties"]["consumption_kwh_year"] = -1
    doc["features"][1]["properties"]["orientation"] = "boh"
    doc["features"][1]["properties"].pop("azimuth_deg", None)
    doc["features"][4]["geometry"] = {"type": "LineString", "coordinates": [[7.6, 45.0], [7.7, 45.1]]}
    with pytest.raises(InputError) as info:
        parse_buildings_geojson(json.dumps(doc), "e.geojson")
    fields = {p.field for p in info.value.problems}
    assert fields == {
        "features[2].properties.consumption_kwh_year",
        "features[1].properties.orientation",
        "features[4].geometry",
    }
    with pytest.raises(InputError):
        parse_buildings_geojson("[1, 2]", "e.geojson")
    with pytest.raises(InputError):
        parse_buildings_geojson("{not json", "e.geojson")


def test_geojson_without_area_and_point_geometry_is_an_error() -> None:
    feature = {
        "type": "Feature",
        "properties": {"code": "P", "name": "X", "use": "uffici", "consumption_kwh_year": 1, "cabina": "C"},
        "geometry": {"type": "Point", "coordinates": [7.69, 45.07]},
    }
    with pytest.raises(InputError) as info:
        parse_buildings_geojson(json.dumps({"type": "FeatureCollection", "features": [feature]}), "e.geojson")
    assert {p.field for p in info.value.problems} == {
        "features[0].properties.roof_area_m2",
        "features[0].properties.azimuth_deg",
    }
    feature["properties"].update(roof_area_m2=50, orientation="S")  # type: ignore[attr-defined]
    [b] = parse_buildings_geojson(json.dumps({"type": "FeatureCollection", "features": [feature]}), "e.geojson")
    assert (b.latitude, b.longitude, b.azimuth_deg, b.footprint) == (45.07, 7.69, 180.0, None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_fuzz_csv_text_only_input_errors(text: str) -> None:
    try:
        parse_buildings_csv(text, "fuzz.csv")
    except InputError as exc:
        assert exc.problems and all(p.message for p in exc.problems)


cell = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**6), 10**6).map(str),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(cell, min_size=14, max_size=14), min_size=1, max_size=5))
def test_fuzz_rows_under_a_good_header(rows: list[list[str]]) -> None:
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(COLUMNS)
    w.writerows(rows)
    try:
        buildings = parse_buildings_csv(out.getvalue(), "fuzz.csv")
    except InputError as exc:
        assert all(p.file == "fuzz.csv" for p in exc.problems)
    else:
        for b in buildings:
            assert -90 <= b.latitude <= 90 and b.roof_area_m2 > 0 and b.consumption_kwh_year >= 0


def test_use_categories() -> None:
    assert use_category("Scuola primaria") == "school"
    assert use_category("Scuola dell'infanzia") == "kindergarten"
    assert use_category("Palestra scolastica") == "gym"
    assert use_category("Municipio") == "town_hall"
    assert use_category("Uffici comunali") == "office"
    assert use_category("Serra botanica") == "other"


# ---------------------------------------------------------------------------------------------------------------------
# Potential


def test_south_roof_near_turin_gives_a_plausible_yield_by_pvlib() -> None:
    roof = building(roof_area_m2=100.0, usable_share=1.0, tilt_deg=30.0, azimuth_deg=180.0)
    potential = pv_potential(roof)
    assert potential.kwp == pytest.approx(100.0 / M2_PER_KWP)
    assert 1_150 <= potential.yield_kwh_kwp <= 1_450
    hourly = potential.hourly_kwh.to_numpy()
    assert len(hourly) == 8760 and hourly.min() >= 0
    assert hourly.max() <= potential.kwp  # AC energy of an hour never exceeds the DC peak
    local_hours = potential.hourly_kwh.index.tz_convert("Europe/Rome").hour
    assert hourly[(local_hours < 4) | (local_hours > 22)].sum() == 0  # no sun at night


def test_north_roof_yields_less_than_south_and_flat_roofs_hold_less_power() -> None:
    south = pv_potential(building(azimuth_deg=180.0))
    north = pv_potential(building(azimuth_deg=0.0))
    assert north.yield_kwh_kwp < 0.8 * south.yield_kwh_kwp
    flat = building(flat=True, tilt_deg=10.0)
    assert plant_kwp(flat)[0] == pytest.approx(100.0 / (M2_PER_KWP / FLAT_LAYOUT_FACTOR))


def test_power_is_capped_at_the_plant_limit() -> None:
    kwp, capped = plant_kwp(building(roof_area_m2=50_000.0))
    assert (kwp, capped) == (1000.0, True)


def test_load_profiles_keep_the_yearly_total_and_schools_close_in_august() -> None:
    school = building_load_kwh("school", 50_000.0, 2025)
    office = building_load_kwh("office", 50_000.0, 2025)
    assert school.sum() == pytest.approx(50_000.0) and office.sum() == pytest.approx(50_000.0)
    assert len(school) == 8760
    from condivisa.civic.buildings import year_hours

    months = year_hours(2025).tz_convert("Europe/Rome").month
    assert school[months == 8].sum() < 0.3 * office[months == 8].sum()


# ---------------------------------------------------------------------------------------------------------------------
# Sharing and ranking


def test_shared_never_exceeds_surplus_or_neighbours_demand() -> None:
    buildings = [
        building("SUN", roof_area_m2=800.0, consumption_kwh_year=5_000.0, use="magazzino"),
        building("A", roof_area_m2=50.0, consumption_kwh_year=60_000.0, use="uffici"),
        building("B", roof_area_m2=120.0, consumption_kwh_year=30_000.0, use="scuola"),
        building("LONE", roof_area_m2=500.0, consumption_kwh_year=1_000.0, cabina="AC2"),
    ]
    result = assess_buildings(buildings, households={"AC1": Households(20)}, keep_hourly=True)
    h = result.hourly
    assert h is not None
    assert np.all(h.shared <= h.surplus + 1e-9)
    assert np.all(h.shared <= h.neighbours + 1e-9)
    assert np.all(h.shared >= 0)
    np.testing.assert_allclose(h.shared, np.minimum(h.surplus, h.neighbours))
    by = result.by_code()
    assert by["LONE"].shared_kwh == 0.0  # alone in its cabina
    assert by["LONE"].incentive_eur == 0.0
    assert by["SUN"].shared_kwh > 0
    # energy balance of each building
    for r in result.results:
        assert r.self_kwh + r.surplus_kwh == pytest.approx(r.production_kwh)
        assert r.self_kwh <= min(r.production_kwh, r.consumption_kwh) + 1e-6
        assert sum(m[0] for m in r.monthly) == pytest.approx(r.production_kwh)
        assert sum(m[3] for m in r.monthly) == pytest.approx(r.shared_kwh)
    cabina = {c.cabina: c for c in result.cabine}
    assert cabina["AC2"].shared_kwh == 0.0
    assert cabina["AC1"].shared_kwh <= min(cabina["AC1"].surplus_kwh, cabina["AC1"].residual_kwh)


def test_households_add_to_the_neighbours_demand() -> None:
    alone = [building("SUN", roof_area_m2=500.0, consumption_kwh_year=2_000.0)]
    without = assess_buildings(alone).results[0]
    with_homes = assess_buildings(alone, households={"AC1": Households(30, 2_700.0)}).results[0]
    assert without.shared_kwh == 0.0
    assert with_homes.shared_kwh > 0.0
    assert with_homes.neighbours_demand_kwh == pytest.approx(30 * 2_700.0, rel=1e-6)


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(10, 3_000),
            st.floats(0, 200_000),
            st.sampled_from(["AC1", "AC2"]),
            st.sampled_from([0.0, 90.0, 180.0, 270.0]),
        ),
        min_size=1,
        max_size=5,
    ),
    st.integers(0, 50),
)
def test_sharing_invariants_hold_for_any_buildings(specs: list[tuple[float, float, str, float]], homes: int) -> None:
    buildings = [
        building(f"B{i}", roof_area_m2=a, consumption_kwh_year=c, cabina=cab, azimuth_deg=az)
        for i, (a, c, cab, az) in enumerate(specs)
    ]
    result = assess_buildings(buildings, households={"AC1": Households(homes)}, keep_hourly=True)
    h = result.hourly
    assert h is not None
    assert np.all(h.shared <= np.minimum(h.surplus, h.neighbours) + 1e-9)
    assert sorted(r.rank for r in result.results) == list(range(1, len(buildings) + 1))
    scores = [r.score for r in result.results]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 100 for s in scores)
    for cab in ("AC1", "AC2"):
        members = [b for b in buildings if b.cabina == cab]
        if len(members) == 1 and (cab == "AC2" or homes == 0):
            assert result.by_code()[members[0].code].shared_kwh == 0.0


def test_score_is_explained_and_constraints_lower_it() -> None:
    plain = building("A", roof_area_m2=400.0, consumption_kwh_year=10_000.0)
    historic = replace(plain, code="H", constraints=("vincolo storico",))
    neighbour = building("N", roof_area_m2=20.0, consumption_kwh_year=80_000.0)
    result = assess_buildings([plain, historic, neighbour])
    by = result.by_code()
    assert by["H"].score == pytest.approx(by["A"].score * 0.7, rel=1e-3)
    assert by["A"].rank < by["H"].rank
    for r in result.results:
        assert {c.key for c in r.components} == {"shared", "self", "yield"}
        assert r.score == pytest.approx(sum(c.points for c in r.components) * (1 - r.penalty), abs=0.01)
    assert by["H"].penalty_reasons and "storico" in by["H"].penalty_reasons[0]


def test_incentive_follows_the_rulebook_and_grants_reduce_it() -> None:
    from condivisa.rules.rulebook import load_rulebook
    from condivisa.rules.tip import tip_eur_mwh

    buildings = [
        building("SUN", roof_area_m2=600.0, consumption_kwh_year=2_000.0),
        building("USER", roof_area_m2=10.0, consumption_kwh_year=200_000.0),
    ]
    base = assess_buildings(buildings).by_code()["SUN"]
    rb = load_rulebook()
    year, _ = rb.year(2025)
    low = tip_eur_mwh(base.kwp, max(year.monthly_price_eur_mwh), fc_eur_mwh=10.0)[()]
    high = tip_eur_mwh(base.kwp, min(year.monthly_price_eur_mwh), fc_eur_mwh=10.0)[()]
    per_mwh = base.incentive_eur / base.shared_kwh * 1000
    assert low + year.cu_af_eur_mwh <= per_mwh + 1e-6 <= high + year.cu_af_eur_mwh + 1e-6
    granted = assess_buildings(buildings, params=Parameters(grant_share=0.4)).by_code()["SUN"]
    assert granted.incentive_eur < base.incentive_eur
    assert granted.grant_eur == pytest.approx(0.4 * granted.capex_eur)
    assert base.payback_years is not None and 2 < base.payback_years < 30


def test_ranking_document_and_speed() -> None:
    import time

    buildings = read_buildings((EXAMPLES / "edifici-pubblici.csv").read_text(), "e.csv")
    assess_buildings(buildings)  # warm the caches (typical year, profiles)
    start = time.perf_counter()
    result = assess_buildings(buildings, households={"AC001E00124": Households(40)})
    assert time.perf_counter() - start < 5.0
    doc = ranking_document(result, buildings)
    assert [b["rank"] for b in doc["buildings"]] == list(range(1, 13))
    assert doc["sources"] and doc["notes"]
    assert json.loads(json.dumps(doc)) == doc
    lone = next(b for b in doc["buildings"] if b["code"] == "CIM01")
    assert lone["shared_kwh"] == 0.0


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="grant_share"):
        Parameters(grant_share=0.5)
    with pytest.raises(ValueError, match="somma"):
        Parameters(weight_shared=0.9)
    with pytest.raises(ValueError):
        Households(-1)
    with pytest.raises(ValueError, match="nessun edificio"):
        assess_buildings([])
