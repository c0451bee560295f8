"""Replication of a best practice: another municipality copies it, with the artefacts it links, into its own plan.

Pure: the caller gives the stored practice, the linked artefacts and the ids the copies will have (the store asks
the database for them first, see :func:`condivisa.store.strategy.copy_practice`); :func:`replicate` returns the
copies. A copy is a deep copy with new ids; the practice's references to its artefacts (``toc:12``) are remapped to
the copies; action references (``action:PAESC-12``) name actions of the source plan, so the copies leave them out
and the provenance keeps them (``source_actions``) for the target to link its own; linked artefacts that are not
public are not copied (``omitted``). The provenance (source municipality, practice id, date, adaptations, the
chain of earlier copies) is recorded with the copied practice; :func:`previous_copy` finds a copy made before,
so copying the same practice twice into the same plan is refused (:class:`AlreadyCopiedError`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from condivisa.errors import InputError, Problem
from condivisa.strategy.artefacts import MODELS, Artefact, BestPractice, Kind, action_refs, kind_of


@dataclass(frozen=True)
class StoredArtefact:
    """An artefact with its identity in a plan: database ``id``, ``public`` flag and validated ``content``."""

    id: int
    public: bool
    content: Artefact

    @property
    def kind(self) -> Kind:
        """The kind code (``toc``, ``practice``...)."""
        return kind_of(self.content)

    @property
    def ref(self) -> str:
        """How other artefacts refer to this one: ``<kind>:<id>``."""
        return f"{self.kind}:{self.id}"


class CopyStep(BaseModel):
    """One copy in the history of a practice: from which municipality, which practice, when."""

    model_config = ConfigDict(extra="forbid")

    source_municipality: str
    practice_id: int
    practice_title: str
    copied_on: dt.date
    target_municipality: str


class Provenance(CopyStep):
    """Where a copied practice comes from, as recorded with the copy.

    ``artefacts`` maps each source reference to the copy's (``toc:12`` → ``toc:31``); ``source_actions`` are the
    action references of the source plan left out of the copies; ``omitted`` the linked artefacts not copied (not
    public, or missing); ``adaptations`` the target's notes on what it changes; ``lineage`` the earlier copies the
    source practice itself came from (oldest first).
    """

    adaptations: str = ""
    artefacts: dict[str, str] = {}
    source_actions: list[str] = []
    omitted: list[str] = []
    lineage: list[CopyStep] = []


class AlreadyCopiedError(InputError):
    """The practice is already in the target plan (copied before, or the target is where it comes from)."""


@dataclass(frozen=True)
class Replication:
    """The result of :func:`replicate`: the copied practice, the copied artefacts, the provenance."""

    practice: StoredArtefact
    artefacts: list[StoredArtefact]
    provenance: Provenance


def to_copy(practice: StoredArtefact, linked: Mapping[str, StoredArtefact]) -> list[StoredArtefact]:
    """The linked artefacts that a copy of ``practice`` takes along: those it references that exist in ``linked``
    (by reference) and are public, in the practice's order."""
    if not isinstance(practice.content, BestPractice):
        raise TypeError("only a best practice can be copied")
    out: list[StoredArtefact] = []
    for ref in practice.content.artefacts:
        item = linked.get(ref)
        if item is not None and item.public and item.ref == ref and item not in out:
            out.append(item)
    return out


def previous_copy(practice_id: int, target_municipality: str, existing: Iterable[Provenance]) -> Provenance | None:
    """The provenance of an earlier copy of practice ``practice_id`` into ``target_municipality``, if any."""
    for p in existing:
        if p.practice_id == practice_id and p.target_municipality == target_municipality:
            return p
    return None


def _without_actions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ([] if k == "actions" else _without_actions(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_actions(v) for v in value]
    return value


def _fresh(content: Artefact) -> Artefact:
    """A deep copy of ``content`` without the action references of the source plan."""
    data = _without_actions(content.model_dump())
    model = MODELS[kind_of(content)].model_validate(data)
    assert isinstance(model, type(content))
    return model


def replicate(
    practice: StoredArtefact,
    linked: Mapping[str, StoredArtefact],
    *,
    new_ids: Mapping[str, int],
    source_municipality: str,
    target_municipality: str,
    copied_on: dt.date,
    adaptations: str = "",
    existing: Iterable[Provenance] = (),
    source_provenance: Provenance | None = None,
) -> Replication:
    """Copy a best practice and the artefacts it links into another municipality's plan.

    Parameters
    ----------
    practice : StoredArtefact
        The public best practice to copy.
    linked : Mapping[str, StoredArtefact]
        The source plan's artefacts by reference (at least those the practice links).
    new_ids : Mapping[str, int]
        The id of each copy by source reference: the practice's and those of :func:`to_copy`.
    source_municipality, target_municipality : str
        Names of the municipalities (the target runs the copy).
    copied_on : datetime.date
        Date of the copy.
    adaptations : str
        What the target changes or must check (kept in the provenance).
    existing : Iterable[Provenance]
        Provenances of the practices already in the target plan.
    source_provenance : Provenance, optional
        The provenance of the source practice, when it is itself a copy (its chain goes on in ``lineage``).

    Returns
    -------
    Replication
        New artefacts (new ids, not public: a draft for the target), the references remapped, the provenance.

    Raises
    ------
    AlreadyCopiedError
        The practice was copied into the target plan before, or comes from it.
    ValueError
        ``new_ids`` misses a copy or reuses a source id.
    """
    if not isinstance(practice.content, BestPractice):
        raise TypeError("only a best practice can be copied")
    if source_municipality == target_municipality:
        raise AlreadyCopiedError(
            [Problem(f"la buona pratica è già nel piano di {target_municipality}", field="target")]
        )
    earlier = previous_copy(practice.id, target_municipality, existing)
    if earlier is not None:
        raise AlreadyCopiedError(
            [
                Problem(
                    f"la buona pratica {practice.ref} è già stata copiata nel piano di {target_municipality} "
                    f"il {earlier.copied_on.strftime('%d/%m/%Y')}",
                    field="target",
                )
            ]
        )
    lineage: list[CopyStep] = []
    if source_provenance is not None:
        step = CopyStep(**source_provenance.model_dump(include=set(CopyStep.model_fields)))
        lineage = [*source_provenance.lineage, step]
    if any(step.source_municipality == target_municipality for step in lineage):
        raise AlreadyCopiedError(
            [Problem(f"la buona pratica viene dal piano di {target_municipality}", field="target")]
        )
    copies = to_copy(practice, linked)
    wanted = [practice.ref, *(a.ref for a in copies)]
    missing = [ref for ref in wanted if ref not in new_ids]
    if missing:
        raise ValueError(f"new ids missing for {missing}")
    old_ids = {practice.id, *(a.id for a in linked.values())}
    values = [new_ids[ref] for ref in wanted]
    if len(set(values)) != len(values) or old_ids & set(values):
        raise ValueError("new ids must be distinct and different from the source ids")
    mapping = {a.ref: f"{a.kind}:{new_ids[a.ref]}" for a in copies}
    copied = [StoredArtefact(new_ids[a.ref], False, _fresh(a.content)) for a in copies]
    content = _fresh(practice.content)
    assert isinstance(content, BestPractice)
    content = content.model_copy(update={"artefacts": [mapping[r] for r in practice.content.artefacts if r in mapping]})
    source_actions: list[str] = []
    for item in (practice, *copies):
        source_actions.extend(r for r in action_refs(item.content) if r not in source_actions)
    provenance = Provenance(
        source_municipality=source_municipality,
        practice_id=practice.id,
        practice_title=practice.content.title,
        copied_on=copied_on,
        target_municipality=target_municipality,
        adaptations=adaptations.strip(),
        artefacts={practice.ref: f"practice:{new_ids[practice.ref]}", **mapping},
        source_actions=source_actions,
        omitted=[r for r in practice.content.artefacts if r not in mapping],
        lineage=lineage,
    )
    return Replication(StoredArtefact(new_ids[practice.ref], False, content), copied, provenance)


def copies_needing_ids(practice: StoredArtefact, linked: Mapping[str, StoredArtefact]) -> Sequence[str]:
    """The references that need a new id for a copy: the practice's, then those of :func:`to_copy`."""
    return [practice.ref, *(a.ref for a in to_copy(practice, linked))]
