"""Strategy artefacts of the municipalities' plans: store, change, list, and copy best practices between plans.

Content is validated by :func:`condivisa.strategy.artefacts.parse_artefact` before it gets here; this module checks
what needs the database: a best practice links only artefacts of its own plan, and a public practice only public
ones. Every save rewrites the artefact's action links (``strategy_action_links``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from condivisa.errors import InputError, Problem
from condivisa.store.models import MunicipalityRow, utc_now
from condivisa.store.models_strategy import StrategyActionLinkRow, StrategyArtefactRow
from condivisa.store.repository import NotFoundError
from condivisa.strategy.artefacts import Artefact, BestPractice, action_refs, kind_of, parse_artefact
from condivisa.strategy.replication import Provenance, Replication, StoredArtefact, copies_needing_ids, replicate


@dataclass(frozen=True)
class ArtefactInfo:
    """A stored artefact as pages show it."""

    id: int
    municipality_id: int
    municipality_name: str
    municipality_slug: str
    kind: str
    title: str
    public: bool
    content: Artefact
    provenance: Provenance | None
    copied_from_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def ref(self) -> str:
        """The artefact's reference inside its plan: ``<kind>:<id>``."""
        return f"{self.kind}:{self.id}"

    @property
    def stored(self) -> StoredArtefact:
        """The artefact as :mod:`condivisa.strategy.replication` takes it."""
        return StoredArtefact(self.id, self.public, self.content)


def _info(row: StrategyArtefactRow, municipality: MunicipalityRow) -> ArtefactInfo:
    return ArtefactInfo(
        id=row.id,
        municipality_id=row.municipality_id,
        municipality_name=municipality.name,
        municipality_slug=municipality.slug,
        kind=row.kind,
        title=row.title,
        public=row.public,
        content=parse_artefact(row.kind, row.content),
        provenance=Provenance.model_validate(row.provenance) if row.provenance else None,
        copied_from_id=row.copied_from_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _links_problems(session: Session, municipality_id: int, content: Artefact, public: bool) -> list[Problem]:
    if not isinstance(content, BestPractice):
        return []
    problems: list[Problem] = []
    for i, ref in enumerate(content.artefacts):
        kind, _, number = ref.partition(":")
        row = session.get(StrategyArtefactRow, int(number))
        if row is None or row.municipality_id != municipality_id or row.kind != kind:
            problems.append(Problem(f"scheda {ref} inesistente in questo piano", field=f"practice.artefacts[{i}]"))
        elif public and not row.public:
            problems.append(
                Problem(
                    f"la scheda {ref} non è pubblica: una buona pratica pubblica collega solo schede pubbliche",
                    field=f"practice.artefacts[{i}]",
                )
            )
    return problems


def _write_links(session: Session, artefact_id: int, content: Artefact) -> None:
    session.execute(delete(StrategyActionLinkRow).where(StrategyActionLinkRow.artefact_id == artefact_id))
    for ref in action_refs(content):
        session.add(StrategyActionLinkRow(artefact_id=artefact_id, action_ref=ref))


def create_artefact(session: Session, municipality_id: int, content: Artefact, *, public: bool = False) -> int:
    """Store a new artefact of a municipality's plan (committed); returns its id.

    Raises
    ------
    InputError
        A best practice links an artefact that is not in this plan, or (when public) one that is not public.
    """
    problems = _links_problems(session, municipality_id, content, public)
    if problems:
        raise InputError(problems)
    row = StrategyArtefactRow(
        municipality_id=municipality_id,
        kind=kind_of(content),
        title=content.title,
        public=public,
        content=content.model_dump(mode="json"),
    )
    session.add(row)
    session.flush()
    _write_links(session, row.id, content)
    session.commit()
    return row.id


def update_artefact(
    session: Session, municipality_id: int, artefact_id: int, content: Artefact, *, public: bool
) -> None:
    """Replace the content and the public flag of an artefact (of the same kind), committed.

    Raises
    ------
    NotFoundError
        No such artefact in this municipality.
    InputError
        The kind changes, or the links of a best practice are wrong (see :func:`create_artefact`).
    """
    row = session.get(StrategyArtefactRow, artefact_id)
    if row is None or row.municipality_id != municipality_id:
        raise NotFoundError(f"scheda {artefact_id} non trovata")
    if kind_of(content) != row.kind:
        raise InputError.one("il tipo di una scheda non si cambia", field="kind")
    problems = _links_problems(session, municipality_id, content, public)
    if problems:
        raise InputError(problems)
    row.title = content.title
    row.public = public
    row.content = content.model_dump(mode="json")
    row.updated_at = utc_now()
    _write_links(session, row.id, content)
    session.commit()


def delete_artefact(session: Session, municipality_id: int, artefact_id: int) -> bool:
    """Delete an artefact of a municipality (committed); False if there is none. References to it in best practices
    stay as written (they show as missing)."""
    row = session.get(StrategyArtefactRow, artefact_id)
    if row is None or row.municipality_id != municipality_id:
        return False
    session.delete(row)
    session.commit()
    return True


def get_artefact(session: Session, artefact_id: int, municipality_id: int | None = None) -> ArtefactInfo | None:
    """The artefact ``artefact_id`` (of ``municipality_id`` when given), or None."""
    pair = session.execute(
        select(StrategyArtefactRow, MunicipalityRow)
        .join(MunicipalityRow, MunicipalityRow.id == StrategyArtefactRow.municipality_id)
        .where(StrategyArtefactRow.id == artefact_id)
    ).first()
    if pair is None or (municipality_id is not None and pair[0].municipality_id != municipality_id):
        return None
    return _info(pair[0], pair[1])


def list_artefacts(
    session: Session,
    municipality_id: int | None = None,
    *,
    kind: str | None = None,
    public_only: bool = False,
    action_ref: str | None = None,
) -> list[ArtefactInfo]:
    """Artefacts by municipality name, kind and title; filters: municipality, kind, public only, linked action."""
    query = select(StrategyArtefactRow, MunicipalityRow).join(
        MunicipalityRow, MunicipalityRow.id == StrategyArtefactRow.municipality_id
    )
    if municipality_id is not None:
        query = query.where(StrategyArtefactRow.municipality_id == municipality_id)
    if kind is not None:
        query = query.where(StrategyArtefactRow.kind == kind)
    if public_only:
        query = query.where(StrategyArtefactRow.public.is_(True))
    if action_ref is not None:
        linked = select(StrategyActionLinkRow.artefact_id).where(StrategyActionLinkRow.action_ref == action_ref)
        query = query.where(StrategyArtefactRow.id.in_(linked))
    query = query.order_by(
        MunicipalityRow.name, StrategyArtefactRow.kind, StrategyArtefactRow.title, StrategyArtefactRow.id
    )
    return [_info(a, m) for a, m in session.execute(query)]


def library(session: Session, *, tag: str | None = None, text: str | None = None) -> list[ArtefactInfo]:
    """The best-practice library: public best practices of every municipality, optionally with a tag or a text in
    title, problem, solution or tags (case-insensitive)."""
    out = []
    for info in list_artefacts(session, kind="practice", public_only=True):
        practice = info.content
        assert isinstance(practice, BestPractice)
        tags = [t.casefold() for t in practice.tags]
        if tag and tag.casefold() not in tags:
            continue
        haystack = " ".join([practice.title, practice.problem, practice.solution, *practice.tags]).casefold()
        if text and text.casefold() not in haystack:
            continue
        out.append(info)
    return out


def linked_artefacts(session: Session, practice: ArtefactInfo) -> list[tuple[str, ArtefactInfo | None]]:
    """The references of a best practice with the artefact each names (None when it is missing from its plan)."""
    assert isinstance(practice.content, BestPractice)
    out: list[tuple[str, ArtefactInfo | None]] = []
    for ref in practice.content.artefacts:
        kind, _, number = ref.partition(":")
        info = get_artefact(session, int(number), practice.municipality_id)
        out.append((ref, info if info is not None and info.kind == kind else None))
    return out


def copy_practice(
    session: Session,
    practice_id: int,
    target_municipality_id: int,
    *,
    adaptations: str = "",
    copied_on: dt.date | None = None,
) -> ArtefactInfo:
    """Copy a public best practice with its public linked artefacts into another municipality's plan (committed).

    The copies are new rows (new ids, not public), references remapped, provenance stored with the practice (see
    :func:`condivisa.strategy.replication.replicate`).

    Raises
    ------
    NotFoundError
        No such public best practice, or no such target municipality.
    AlreadyCopiedError
        Already copied into the target plan, or it comes from there.
    """
    source = get_artefact(session, practice_id)
    if source is None or source.kind != "practice" or not source.public:
        raise NotFoundError(f"buona pratica {practice_id} non trovata nella biblioteca")
    target = session.get(MunicipalityRow, target_municipality_id)
    if target is None:
        raise NotFoundError(f"comune {target_municipality_id} non trovato")
    linked = {ref: info.stored for ref, info in linked_artefacts(session, source) if info is not None}
    existing = [
        Provenance.model_validate(p)
        for p in session.scalars(
            select(StrategyArtefactRow.provenance).where(
                StrategyArtefactRow.municipality_id == target_municipality_id,
                StrategyArtefactRow.kind == "practice",
                StrategyArtefactRow.provenance.is_not(None),
            )
        )
        if p
    ]

    def run(new_ids: dict[str, int]) -> Replication:
        return replicate(
            source.stored,
            linked,
            new_ids=new_ids,
            source_municipality=source.municipality_name,
            target_municipality=target.name,
            copied_on=copied_on or dt.date.today(),
            adaptations=adaptations,
            existing=existing,
            source_provenance=source.provenance,
        )

    # First a dry run with placeholder ids, so that a refused copy writes nothing.
    wanted = copies_needing_ids(source.stored, linked)
    base = max([source.id, *(a.id for a in linked.values())]) + 1
    run({ref: base + i for i, ref in enumerate(wanted)})
    rows: dict[str, StrategyArtefactRow] = {}
    for ref in wanted:
        original = source.stored if ref == source.ref else linked[ref]
        row = StrategyArtefactRow(
            municipality_id=target_municipality_id,
            kind=original.kind,
            title=original.content.title,
            public=False,
            content={},
            copied_from_id=original.id,
        )
        session.add(row)
        rows[ref] = row
    session.flush()
    result = run({ref: row.id for ref, row in rows.items()})
    for copy in (result.practice, *result.artefacts):
        row = next(r for r in rows.values() if r.id == copy.id)
        row.content = copy.content.model_dump(mode="json")
        if copy.id == result.practice.id:
            row.provenance = result.provenance.model_dump(mode="json")
        _write_links(session, row.id, copy.content)
    session.commit()
    copied = get_artefact(session, result.practice.id)
    assert copied is not None
    return copied


def action_links(session: Session, artefact_ids: Sequence[int]) -> dict[int, list[str]]:
    """The action references of each artefact, by id."""
    out: dict[int, list[str]] = {i: [] for i in artefact_ids}
    if not artefact_ids:
        return out
    rows = session.scalars(
        select(StrategyActionLinkRow)
        .where(StrategyActionLinkRow.artefact_id.in_(list(artefact_ids)))
        .order_by(StrategyActionLinkRow.id)
    )
    for row in rows:
        out[row.artefact_id].append(row.action_ref)
    return out
