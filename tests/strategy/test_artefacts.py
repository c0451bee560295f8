"""Strategy artefacts: validation with Italian messages naming the path, the Theory of Change graph rules
(property-tested with hypothesis), and the exports."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.errors import InputError
from condivisa.strategy.artefacts import (
    EXAMPLES,
    KINDS,
    LEVELS,
    TheoryOfChange,
    action_refs,
    parse_artefact,
    to_json,
    to_markdown,
    toc_layout,
    toc_mermaid,
    toc_svg,
)


def problems(kind: str, data: Any) -> dict[str, str]:
    """``{path: message}`` of the problems of a document (fails if it is valid)."""
    with pytest.raises(InputError) as info:
        parse_artefact(kind, data)
    return {str(p.field): p.message for p in info.value.problems}


def toc() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES["toc"])


@pytest.mark.parametrize("kind", KINDS)
def test_examples_are_valid_and_round_trip(kind: str) -> None:
    artefact = parse_artefact(kind, EXAMPLES[kind])
    again = parse_artefact(kind, json.dumps(artefact.model_dump(mode="json")))
    assert again == artefact
    assert json.loads(to_json(artefact, id=3))["content"]["title"] == EXAMPLES[kind]["title"]


def test_yaml_text_is_read() -> None:
    text = "title: Analisi\nfactors:\n  - dimension: social\n    title: Fiducia\n    impact: -1\n"
    pestle = parse_artefact("pestle", text)
    assert pestle.factors[0].impact == -1  # type: ignore[union-attr]


def test_unreadable_text_names_the_line() -> None:
    found = problems("pestle", "title: [unclosed\nfactors: x: y")
    assert "pestle" in found and "riga" in found["pestle"]


def test_toc_cycle_is_named() -> None:
    data = toc()
    data["edges"].append({"source": "e1", "target": "o1"})
    found = problems("toc", data)
    assert "toc.edges" in found and "ciclo" in found["toc.edges"]
    assert "o1 → e1 → o1" in found["toc.edges"]
    assert "toc.edges[4]" in found and "all'indietro" in found["toc.edges[4]"]


def test_toc_backward_edge_is_named() -> None:
    data = toc()
    data["edges"].append({"source": "i1", "target": "a1"})  # impact -> activities, no cycle through a1 back to i1?
    found = problems("toc", data)
    assert "all'indietro" in found["toc.edges[4]"]
    assert "'i1'" in found["toc.edges[4]"] and "'a1'" in found["toc.edges[4]"]


def test_toc_same_level_edge_is_refused() -> None:
    data = toc()
    data["nodes"].append({"id": "a2", "level": "activities", "title": "Sportello"})
    data["edges"].append({"source": "a1", "target": "a2"})
    assert "nello stesso livello" in problems("toc", data)["toc.edges[4]"]


def test_toc_missing_indicator_names_the_node() -> None:
    data = toc()
    data["nodes"][3]["indicators"] = []
    found = problems("toc", data)
    assert list(found) == ["toc.nodes[3].indicators"]
    assert "almeno un indicatore" in found["toc.nodes[3].indicators"]


def test_toc_indicator_needs_unit_and_target_year() -> None:
    data = toc()
    del data["nodes"][2]["indicators"][0]["unit"]
    data["nodes"][2]["indicators"][0]["target_year"] = 1990
    found = problems("toc", data)
    assert found["toc.nodes[2].indicators[0].unit"] == "campo obbligatorio mancante"
    assert "almeno 2000" in found["toc.nodes[2].indicators[0].target_year"]


def test_toc_outcome_must_be_reachable_from_an_activity() -> None:
    data = toc()
    data["edges"] = [e for e in data["edges"] if e["target"] != "e1"]
    found = problems("toc", data)
    assert "non è raggiungibile" in found["toc.nodes[3]"]


def test_toc_unknown_node_and_duplicate_id() -> None:
    data = toc()
    data["edges"].append({"source": "a1", "target": "zz"})
    data["nodes"].append({"id": "a1", "level": "activities", "title": "Doppione"})
    found = problems("toc", data)
    assert "inesistente" in found["toc.edges[4].target"]
    assert "ripetuto" in found["toc.nodes[5].id"]


@pytest.mark.parametrize("impact", [3, -3, 10])
def test_pestle_impact_out_of_range(impact: int) -> None:
    data = copy.deepcopy(EXAMPLES["pestle"])
    data["factors"][1]["impact"] = impact
    found = problems("pestle", data)
    assert list(found) == ["pestle.factors[1].impact"]
    assert "fuori intervallo" in found["pestle.factors[1].impact"] and str(impact) in found["pestle.factors[1].impact"]


def test_pestle_bad_dimension_and_extra_field() -> None:
    data = copy.deepcopy(EXAMPLES["pestle"])
    data["factors"][0]["dimension"] = "military"
    data["factors"][0]["weight"] = 3
    found = problems("pestle", data)
    assert "non ammesso" in found["pestle.factors[0].dimension"]
    assert "non previsto" in found["pestle.factors[0].weight"]


def test_map_rules() -> None:
    data = copy.deepcopy(EXAMPLES["map"])
    data["items"][0]["severity"] = None
    data["items"][1]["severity"] = 2
    found = problems("map", data)
    assert "gravità" in found["map.items[0].severity"]
    assert "barriere" in found["map.items[1].severity"]
    data["items"][1]["actions"] = ["PAESC 12"]  # structural errors come first, alone
    assert list(problems("map", data)) == ["map.items[1].actions[0]"]
    assert "action:PAESC-12" in problems("map", data)["map.items[1].actions[0]"]


def test_sandbox_rules() -> None:
    data = copy.deepcopy(EXAMPLES["sandbox"])
    data["end"] = "2026-01-01"
    data["decision"] = "stop"
    found = problems("sandbox", data)
    assert "precede" in found["sandbox.end"] and "conclusa" in found["sandbox.decision"]
    data = copy.deepcopy(EXAMPLES["sandbox"]) | {"status": "concluded"}
    found = problems("sandbox", data)
    assert set(found) == {"sandbox.result", "sandbox.decision"}
    ok = parse_artefact("sandbox", data | {"result": "+12%", "decision": "scale_up"})
    assert ok.decision == "scale_up"  # type: ignore[union-attr]
    assert "data non valida" in problems("sandbox", EXAMPLES["sandbox"] | {"start": "1 marzo"})["sandbox.start"]
    assert "almeno 1" in problems("sandbox", EXAMPLES["sandbox"] | {"metrics": []})["sandbox.metrics"]


def test_practice_artefact_refs() -> None:
    data = EXAMPLES["practice"] | {"artefacts": ["toc:3", "toc:3", "practice:4"]}
    found = problems("practice", data)
    assert "tipo:numero" in found["practice.artefacts[2]"]
    found = problems("practice", EXAMPLES["practice"] | {"artefacts": ["toc:3", "toc:3"]})
    assert "due volte" in found["practice.artefacts[1]"]


def test_action_refs_are_collected_everywhere() -> None:
    toc_model = parse_artefact("toc", toc() | {"actions": ["action:PAESC-1", "action:PAESC-12"]})
    assert action_refs(toc_model) == ["action:PAESC-12", "action:PAESC-1"]  # node a1 first, no repeats


def test_markdown_exports() -> None:
    md = to_markdown(parse_artefact("pestle", EXAMPLES["pestle"]), municipality="Borgo Demo")
    assert md.startswith("# Analisi PESTLE del piano energetico\n")
    assert "## Legale" in md and "| +2 | alta | stabile |" in md and "`action:PAESC-12`" not in md.split("## Legale")[0]
    md = to_markdown(parse_artefact("toc", toc()))
    assert "## Attività" in md and "da 0 a 400 kWp entro il 2027" in md and "ipotesi: I consumi" in md
    md = to_markdown(parse_artefact("practice", EXAMPLES["practice"]))
    assert "## Condizioni per replicarla" in md and "440.000 €" in md
    md = to_markdown(parse_artefact("map", EXAMPLES["map"] | {"title": "A | B"}))
    assert "# A \\| B" in md


def test_toc_svg_draws_levels_as_columns() -> None:
    model = parse_artefact("toc", toc() | {"title": "<script>alert(1)</script>"})
    assert isinstance(model, TheoryOfChange)
    svg = toc_svg(model)
    root = ET.fromstring(svg)  # well-formed XML, texts escaped
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ns = {"s": "http://www.w3.org/2000/svg"}
    groups = root.findall("s:g", ns)
    xs = {g.get("id"): int(g.find("s:rect", ns).get("x")) for g in groups}  # type: ignore[union-attr, arg-type]
    assert xs["node-r1"] < xs["node-a1"] < xs["node-o1"] < xs["node-e1"] < xs["node-i1"]
    assert len(root.findall("s:path", ns)) == len(model.edges)
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    mermaid = toc_mermaid(model)
    assert mermaid.startswith("flowchart LR\n") and "n1 --> n2" in mermaid


def test_layout_orders_by_predecessors() -> None:
    model = parse_artefact(
        "toc",
        {
            "title": "T",
            "nodes": [
                {"id": "a", "level": "activities", "title": "A"},
                {"id": "b", "level": "activities", "title": "B"},
                {"id": "y", "level": "outputs", "title": "Y", "indicators": [_indicator()]},
                {"id": "x", "level": "outputs", "title": "X", "indicators": [_indicator()]},
            ],
            "edges": [{"source": "a", "target": "x"}, {"source": "b", "target": "y"}],
        },
    )
    layout = toc_layout(model)  # type: ignore[arg-type]
    assert layout["x"][1] == 0 and layout["y"][1] == 1  # x follows a (row 0), y follows b (row 1)


def _indicator() -> dict[str, Any]:
    return {"name": "Indicatore", "unit": "kWh", "baseline": 0, "target": 1, "target_year": 2030}


@st.composite
def level_dags(draw: st.DrawFn) -> dict[str, Any]:
    """A Theory of Change whose edges all go to a later level, with indicators where needed and every outcome fed
    by an activity."""
    counts = [draw(st.integers(0, 3)) for _ in LEVELS]
    if counts[3] and not counts[1]:
        counts[1] = 1
    nodes = []
    for level, count in zip(LEVELS, counts, strict=True):
        for i in range(count):
            node: dict[str, Any] = {"id": f"L{LEVELS.index(level)}n{i}", "level": level, "title": f"{level} {i}"}
            if level in ("outputs", "outcomes", "impact"):
                node["indicators"] = [_indicator()]
            nodes.append(node)
    rank = {n["id"]: LEVELS.index(n["level"]) for n in nodes}
    pairs = [(a, b) for a in rank for b in rank if rank[a] < rank[b]]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=12)) if pairs else []
    activities = [n["id"] for n in nodes if n["level"] == "activities"]
    for n in nodes:
        if n["level"] == "outcomes":
            edge = (draw(st.sampled_from(activities)), n["id"])
            if edge not in edges:
                edges.append(edge)
    return {"title": "Generata", "nodes": nodes, "edges": [{"source": a, "target": b} for a, b in edges]}


@settings(max_examples=150, deadline=None)
@given(level_dags(), st.data())
def test_property_dags_respecting_levels_are_valid_and_a_backward_edge_breaks_them(
    data: dict[str, Any], extra: st.DataObject
) -> None:
    model = parse_artefact("toc", data)
    assert isinstance(model, TheoryOfChange)
    ET.fromstring(toc_svg(model))
    rank = {n["id"]: LEVELS.index(n["level"]) for n in data["nodes"]}
    backward = [(a, b) for a in rank for b in rank if rank[a] > rank[b]]
    if not backward:
        return
    a, b = extra.draw(st.sampled_from(backward))
    broken = copy.deepcopy(data)
    broken["edges"].append({"source": a, "target": b})
    found = problems("toc", broken)
    where = f"toc.edges[{len(broken['edges']) - 1}]"
    assert where in found and "all'indietro" in found[where]
