"""Replication of a best practice into another plan: new ids, remapped references, provenance, original unchanged,
second copy refused."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from condivisa.strategy.artefacts import EXAMPLES, BestPractice, parse_artefact
from condivisa.strategy.replication import (
    AlreadyCopiedError,
    StoredArtefact,
    copies_needing_ids,
    replicate,
)

DAY = dt.date(2026, 5, 4)


def source() -> tuple[StoredArtefact, dict[str, StoredArtefact]]:
    toc = StoredArtefact(7, True, parse_artefact("toc", EXAMPLES["toc"]))
    pestle = StoredArtefact(8, True, parse_artefact("pestle", EXAMPLES["pestle"]))
    hidden = StoredArtefact(9, False, parse_artefact("map", EXAMPLES["map"]))
    practice_data = copy.deepcopy(EXAMPLES["practice"])
    practice_data |= {"artefacts": ["toc:7", "map:9", "pestle:8", "sandbox:99"], "actions": ["action:PAESC-3"]}
    practice = StoredArtefact(10, True, parse_artefact("practice", practice_data))
    return practice, {a.ref: a for a in (toc, pestle, hidden)}


def test_copy_has_new_ids_remapped_refs_and_provenance() -> None:
    practice, linked = source()
    before = (practice.content.model_dump(), {r: a.content.model_dump() for r, a in linked.items()})
    wanted = copies_needing_ids(practice, linked)
    assert wanted == ["practice:10", "toc:7", "pestle:8"]  # the non-public map and the missing sandbox stay out
    result = replicate(
        practice,
        linked,
        new_ids={"practice:10": 31, "toc:7": 32, "pestle:8": 33},
        source_municipality="Borgo Demo",
        target_municipality="Altrove",
        copied_on=DAY,
        adaptations="Solo due scuole",
    )
    assert result.practice.id == 31 and [a.id for a in result.artefacts] == [32, 33]
    assert not result.practice.public and not any(a.public for a in result.artefacts)
    content = result.practice.content
    assert isinstance(content, BestPractice)
    assert content.artefacts == ["toc:32", "pestle:33"]
    assert content.actions == [] and content.title == practice.content.title
    toc_copy = result.artefacts[0].content
    assert toc_copy.model_dump(exclude={"nodes"}) == linked["toc:7"].content.model_dump(
        exclude={"nodes", "actions"}
    ) | {"actions": []}
    assert all(n.actions == [] for n in toc_copy.nodes)  # type: ignore[union-attr]
    p = result.provenance
    assert (p.source_municipality, p.practice_id, p.copied_on, p.target_municipality) == (
        "Borgo Demo",
        10,
        DAY,
        "Altrove",
    )
    assert p.adaptations == "Solo due scuole"
    assert p.artefacts == {"practice:10": "practice:31", "toc:7": "toc:32", "pestle:8": "pestle:33"}
    assert p.source_actions == ["action:PAESC-3", "action:PAESC-12"]
    assert p.omitted == ["map:9", "sandbox:99"]
    # The original is unchanged (deep copy).
    assert before == (practice.content.model_dump(), {r: a.content.model_dump() for r, a in linked.items()})
    assert result.artefacts[0].content is not linked["toc:7"].content


def test_second_copy_is_detected_and_lineage_kept() -> None:
    practice, linked = source()
    ids = {"practice:10": 31, "toc:7": 32, "pestle:8": 33}
    kwargs = {"source_municipality": "Borgo Demo", "copied_on": DAY}
    first = replicate(practice, linked, new_ids=ids, target_municipality="Altrove", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(AlreadyCopiedError) as info:
        replicate(
            practice,
            linked,
            new_ids={"practice:10": 41, "toc:7": 42, "pestle:8": 43},
            target_municipality="Altrove",
            existing=[first.provenance],
            **kwargs,  # type: ignore[arg-type]
        )
    assert "già stata copiata nel piano di Altrove il 04/05/2026" in str(info.value)
    # Another municipality may still copy it; into its own plan nobody can.
    replicate(practice, linked, new_ids=ids, target_municipality="Terzo", existing=[first.provenance], **kwargs)  # type: ignore[arg-type]
    with pytest.raises(AlreadyCopiedError):
        replicate(practice, linked, new_ids=ids, target_municipality="Borgo Demo", **kwargs)  # type: ignore[arg-type]
    # A copy of the copy remembers where it comes from, and cannot go back to its origin.
    copied = StoredArtefact(31, True, first.practice.content)
    second = replicate(
        copied,
        {},
        new_ids={"practice:31": 50},
        source_municipality="Altrove",
        target_municipality="Terzo",
        copied_on=DAY,
        source_provenance=first.provenance,
    )
    assert [s.source_municipality for s in second.provenance.lineage] == ["Borgo Demo"]
    with pytest.raises(AlreadyCopiedError):
        replicate(
            copied,
            {},
            new_ids={"practice:31": 51},
            source_municipality="Altrove",
            target_municipality="Borgo Demo",
            copied_on=DAY,
            source_provenance=first.provenance,
        )


def test_new_ids_must_be_new_and_complete() -> None:
    practice, linked = source()
    kwargs = {"source_municipality": "Borgo Demo", "target_municipality": "Altrove", "copied_on": DAY}
    with pytest.raises(ValueError):
        replicate(practice, linked, new_ids={"practice:10": 31}, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        replicate(practice, linked, new_ids={"practice:10": 31, "toc:7": 8, "pestle:8": 33}, **kwargs)  # type: ignore[arg-type]
