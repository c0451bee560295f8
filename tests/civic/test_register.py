"""The register's pure part: form validation, GeoJSON areas, filters, open-data shapes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from condivisa.civic.register import (
    CSV_COLUMNS,
    Plant,
    PublicEntry,
    RegisterFilter,
    entry_form,
    parse_plants,
    to_csv,
    to_geojson,
    validate_area,
    validate_entry,
)
from condivisa.errors import InputError

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[7.68, 45.06], [7.70, 45.06], [7.70, 45.08], [7.68, 45.08], [7.68, 45.06]]],
}
BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
TODAY = dt.date(2026, 6, 1)


def fields(**extra: str) -> dict[str, str]:
    base = {"name": "CER Solare", "configuration": "CER", "status": "promoting"}
    return {**base, **extra}


def test_minimal_entry_and_round_trip_through_the_form() -> None:
    data = validate_entry(
        fields(
            plants="fotovoltaico; 60; Scuola\neolico; 19,5",
            cabina_codes="AC001E00123, ac001e00124",
            cabina_area=json.dumps(SQUARE),
            contact_email="info@cer.it",
            contact_public="on",
            members_count="41",
        )
    )
    assert data.plants == (Plant("fotovoltaico", 60.0, "Scuola"), Plant("eolico", 19.5, ""))
    assert data.total_kw == 79.5
    assert data.cabina_codes == ("AC001E00123", "AC001E00124")
    assert data.cabina_area == SQUARE
    assert data.contact_public and data.members_count == 41
    assert validate_entry(entry_form(data)) == data


@pytest.mark.parametrize(
    ("area", "words"),
    [
        ("{not json", "JSON illeggibile"),
        (json.dumps(BOWTIE), "il contorno si interseca"),
        (json.dumps({"type": "Point", "coordinates": [7.6, 45.0]}), "Polygon o MultiPolygon"),
        (
            json.dumps(
                {"type": "Polygon", "coordinates": [[[45.06, 7.68], [45.06, 200], [45.08, 7.7], [45.06, 7.68]]]}
            ),
            "fuori da WGS84",
        ),
        (json.dumps({"type": "Polygon", "coordinates": [[[1, 1], [2, 2]]]}), "poligono non valido"),
        (json.dumps({"type": "FeatureCollection", "features": []}), "un solo poligono"),
    ],
)
def test_bad_areas_are_named(area: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        validate_entry(fields(cabina_area=area))
    problem = caught.value.problems[0]
    assert problem.field == "cabina_area"
    assert problem.message.startswith("poligono non valido")
    assert words in problem.message


def test_area_as_feature_and_multipolygon() -> None:
    feature = {"type": "Feature", "properties": {}, "geometry": SQUARE}
    assert validate_area(json.dumps(feature)) == SQUARE
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]}
    assert validate_area(json.dumps(multi)) == multi
    assert validate_area("  ") is None


def test_every_bad_field_is_named() -> None:
    with pytest.raises(InputError) as caught:
        validate_entry(
            {
                "name": "",
                "configuration": "XYZ",
                "status": "forse",
                "members_count": "-3",
                "plants": "nucleare; 10\nfotovoltaico; 1500\nfotovoltaico",
                "latitude": "95",
                "longitude": "7",
                "website": "www.senza-schema.it",
                "contact_email": "non-una-email",
                "contact_public": "on",
            }
        )
    named = {p.field for p in caught.value.problems}
    assert {
        "name",
        "configuration",
        "status",
        "members_count",
        "plants riga 1",
        "plants riga 2",
        "plants riga 3",
        "latitude",
        "website",
        "contact_email",
    } <= named


def test_point_needs_both_coordinates_and_public_contact_needs_email() -> None:
    with pytest.raises(InputError) as caught:
        validate_entry(fields(latitude="45.1", contact_public="on"))
    named = {p.field for p in caught.value.problems}
    assert named == {"latitude/longitude", "contact_email"}


def test_plants_over_one_megawatt_are_refused() -> None:
    plants, problems = parse_plants("fotovoltaico; 1000\nfotovoltaico; 1000,1")
    assert [p.kw for p in plants] == [1000.0]
    assert problems[0].field == "plants riga 2"


def entry(k: int, **kw: object) -> PublicEntry:
    base: dict[str, object] = {
        "id": k,
        "name": f"CER {k}",
        "configuration": "CER",
        "status": "operating",
        "members_count": 10 + k,
        "plants": (Plant("fotovoltaico", 50.0, "Tetto"),),
        "cabina_codes": ("AC001E00123",),
        "cabina_area": None,
        "latitude": 45.07,
        "longitude": 7.69,
        "area_description": "Borgo Po",
        "website": "",
        "public_email": "",
        "description": "",
        "regulation_url": "",
        "has_regulation_text": False,
        "published_on": dt.date(2026, 1, 1),
    }
    base.update(kw)
    return PublicEntry(**base)  # type: ignore[arg-type]


ENTRIES = [
    entry(1),
    entry(2, configuration="AUC", status="promoting", name="Condominio Aurora", area_description="Aurora"),
    entry(3, label_awarded_on=dt.date(2025, 1, 1), label_expires_on=dt.date(2027, 1, 1)),
    entry(
        4,
        label_awarded_on=dt.date(2023, 1, 1),
        label_expires_on=dt.date(2025, 1, 1),
        cabina_area=SQUARE,
        latitude=None,
        longitude=None,
    ),
]


def ids(flt: RegisterFilter) -> list[int]:
    return [e.id for e in flt.apply(ENTRIES, TODAY)]


def test_filters() -> None:
    assert ids(RegisterFilter.from_query({})) == [1, 2, 3, 4]
    assert ids(RegisterFilter.from_query({"status": "promoting"})) == [2]
    assert ids(RegisterFilter.from_query({"configuration": "auc"})) == [2]
    assert ids(RegisterFilter.from_query({"label": "yes"})) == [3]
    assert ids(RegisterFilter.from_query({"label": "no"})) == [1, 2, 4]  # 4's label expired
    assert ids(RegisterFilter.from_query({"q": "aurora"})) == [2]
    assert ids(RegisterFilter.from_query({"q": "ac001e00123"})) == [1, 2, 3, 4]
    bad = RegisterFilter.from_query({"status": "boh", "label": "maybe", "configuration": "ZZZ"})
    assert ids(bad) == [1, 2, 3, 4]
    assert {p.field for p in bad.problems} == {"status", "label", "configuration"}


@given(
    st.sampled_from(["", "promoting", "operating"]),
    st.sampled_from(["", "CER", "AUC"]),
    st.sampled_from(["", "yes", "no"]),
    st.sampled_from(["", "cer", "aurora", "zzz"]),
)
def test_filters_only_narrow(status: str, configuration: str, label: str, q: str) -> None:
    flt = RegisterFilter.from_query({"status": status, "configuration": configuration, "label": label, "q": q})
    kept = flt.apply(ENTRIES, TODAY)
    assert set(e.id for e in kept) <= {e.id for e in ENTRIES}
    for single in (
        RegisterFilter(status=status),
        RegisterFilter(configuration=configuration),
        RegisterFilter(label=label),
        RegisterFilter(q=q),
    ):
        assert {e.id for e in kept} <= {e.id for e in single.apply(ENTRIES, TODAY)}


def test_geojson_shapes_and_label_states() -> None:
    collection = to_geojson(ENTRIES, TODAY, municipality="Borgo Demo")
    assert collection["type"] == "FeatureCollection"
    features = {f["id"]: f for f in collection["features"]}
    assert features[1]["geometry"] == {"type": "Point", "coordinates": [7.69, 45.07]}
    assert features[4]["geometry"] == SQUARE
    assert features[3]["properties"]["etichetta"] == "valida"
    assert features[3]["properties"]["etichetta_scadenza"] == "2027-01-01"
    assert features[4]["properties"]["etichetta"] == "scaduta"
    assert features[1]["properties"]["etichetta"] is None
    json.dumps(collection)  # serialisable


def test_csv_columns_and_no_private_email() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv([*ENTRIES, entry(5, public_email="pubblico@cer.it")], TODAY))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert [r["etichetta"] for r in rows] == ["", "", "valida", "scaduta", ""]
    assert rows[3]["latitudine"] == "45.070000" and rows[3]["longitudine"] == "7.690000"  # centroid of the area
    assert rows[0]["impianti"] == "fotovoltaico:50"
    assert [r["email_contatto"] for r in rows] == ["", "", "", "", "pubblico@cer.it"]
