"""Strategy artefacts in the database (SQLite and PostgreSQL): save, change, list, action links, library, copy."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from condivisa.errors import InputError
from condivisa.store import strategy as store
from condivisa.store.models_strategy import StrategyArtefactRow
from condivisa.store.municipalities import ensure_municipality
from condivisa.store.repository import NotFoundError
from condivisa.strategy.artefacts import EXAMPLES, BestPractice, TheoryOfChange, parse_artefact
from condivisa.strategy.replication import AlreadyCopiedError


def test_save_change_list_and_copy(session: Session) -> None:
    borgo = ensure_municipality(session, "Borgo Demo", region="Piemonte", slug="borgo-demo")
    altrove = ensure_municipality(session, "Altrove", region="Piemonte", slug="altrove")
    toc_id = store.create_artefact(session, borgo.id, parse_artefact("toc", EXAMPLES["toc"]), public=True)
    draft_id = store.create_artefact(session, borgo.id, parse_artefact("map", EXAMPLES["map"]))
    info = store.get_artefact(session, toc_id)
    assert info is not None and isinstance(info.content, TheoryOfChange) and info.ref == f"toc:{toc_id}"
    assert info.content == parse_artefact("toc", EXAMPLES["toc"])  # JSON round trip keeps every field
    assert store.get_artefact(session, toc_id, altrove.id) is None

    # A public practice cannot link a draft, nor an artefact of another plan.
    data = copy.deepcopy(EXAMPLES["practice"]) | {"artefacts": [f"toc:{toc_id}", f"map:{draft_id}"]}
    with pytest.raises(InputError) as err:
        store.create_artefact(session, borgo.id, parse_artefact("practice", data), public=True)
    assert [p.field for p in err.value.problems] == ["practice.artefacts[1]"]
    with pytest.raises(InputError):
        store.create_artefact(session, altrove.id, parse_artefact("practice", data))
    data["artefacts"] = [f"toc:{toc_id}"]
    practice_id = store.create_artefact(session, borgo.id, parse_artefact("practice", data), public=True)

    assert [a.id for a in store.list_artefacts(session, borgo.id, public_only=True)] == [practice_id, toc_id]
    assert [a.id for a in store.list_artefacts(session, action_ref="action:PAESC-12")] == [draft_id, toc_id]
    assert [a.id for a in store.library(session, tag="SCUOLE")] == [practice_id]
    assert store.library(session, text="nessuna corrispondenza") == []

    # Change: title and links follow the content; the kind cannot change.
    changed = copy.deepcopy(EXAMPLES["toc"]) | {"title": "ToC rivista", "actions": ["action:PAESC-99"]}
    store.update_artefact(session, borgo.id, toc_id, parse_artefact("toc", changed), public=True)
    assert store.action_links(session, [toc_id]) == {toc_id: ["action:PAESC-12", "action:PAESC-99"]}
    with pytest.raises(InputError):
        store.update_artefact(session, borgo.id, toc_id, parse_artefact("map", EXAMPLES["map"]), public=True)
    with pytest.raises(NotFoundError):
        store.update_artefact(session, altrove.id, toc_id, parse_artefact("toc", changed), public=True)

    # Copy into Altrove: new rows, references remapped, provenance, original unchanged; a second copy is refused.
    rows_before = session.scalar(select(func.count()).select_from(StrategyArtefactRow))
    original = store.get_artefact(session, practice_id)
    copied = store.copy_practice(
        session, practice_id, altrove.id, adaptations="Una sola scuola", copied_on=dt.date(2026, 5, 4)
    )
    assert copied.municipality_id == altrove.id and copied.id not in (practice_id, toc_id) and not copied.public
    assert isinstance(copied.content, BestPractice)
    (toc_ref,) = copied.content.artefacts
    toc_copy = store.get_artefact(session, int(toc_ref.split(":")[1]), altrove.id)
    assert toc_copy is not None and toc_copy.title == "ToC rivista" and toc_copy.copied_from_id == toc_id
    assert copied.provenance is not None
    assert copied.provenance.source_municipality == "Borgo Demo" and copied.provenance.practice_id == practice_id
    assert copied.provenance.copied_on == dt.date(2026, 5, 4) and copied.provenance.adaptations == "Una sola scuola"
    assert copied.provenance.source_actions == ["action:PAESC-12", "action:PAESC-99"]
    assert store.action_links(session, [toc_copy.id]) == {toc_copy.id: []}
    assert store.get_artefact(session, practice_id) == original
    assert session.scalar(select(func.count()).select_from(StrategyArtefactRow)) == rows_before + 2
    with pytest.raises(AlreadyCopiedError):
        store.copy_practice(session, practice_id, altrove.id)
    with pytest.raises(AlreadyCopiedError):
        store.copy_practice(session, practice_id, borgo.id)
    assert session.scalar(select(func.count()).select_from(StrategyArtefactRow)) == rows_before + 2
    with pytest.raises(NotFoundError):  # a draft is not in the library
        store.copy_practice(session, copied.id, borgo.id)

    assert store.delete_artefact(session, borgo.id, toc_id)
    assert not store.delete_artefact(session, borgo.id, toc_id)
    linked = store.linked_artefacts(session, store.get_artefact(session, practice_id))  # type: ignore[arg-type]
    assert linked == [(f"toc:{toc_id}", None)]
