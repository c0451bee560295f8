"""Operations shared by the API and the pages: thin glue between the store and the engine.

Nothing here knows HTTP: bad input raises :class:`condivisa.errors.InputError`, a missing object
:class:`condivisa.store.NotFoundError`; the routes translate them.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from condivisa.engine.settle import settle
from condivisa.engine.timegrid import LOCAL_TZ, Period
from condivisa.errors import InputError, Problem
from condivisa.ingest import parse_readings_csv
from condivisa.model import Community, Member, Plant
from condivisa.report import settlement_document
from condivisa.rules.checks import check_coverage
from condivisa.store import (
    ImportResult,
    get_settlement,
    import_readings,
    list_settlements,
    load_community,
    load_prices,
    load_readings,
    save_community,
    save_settlement,
)


def validation_problems(exc: ValidationError, source: str) -> list[Problem]:
    """Problems of a pydantic validation error, each naming the path in the document."""
    return [Problem(str(e["msg"]), file=source, field=".".join(str(x) for x in e["loc"]) or None) for e in exc.errors()]


def _replace(session: Session, community: Community, changes: dict[str, Any], source: str) -> int:
    data = community.model_dump(mode="python")
    data.update(changes)
    try:
        updated = Community.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, source)) from exc
    return save_community(session, updated, source=source)


def add_member(session: Session, community_id: int, member: dict[str, str], *, user_id: int | None = None) -> str:
    """Add a member with one point (``id``, ``name``, ``kind``, ``pod``, ``cabina``) to a stored community.

    Returns
    -------
    str
        The new member's id.

    Raises
    ------
    InputError
        Invalid fields (each problem names its field) or an id or POD already in the community.
    """
    community = load_community(session, community_id)
    problems: list[Problem] = []
    if any(m.id == member.get("id") for m in community.members):
        problems.append(Problem("esiste gia' un socio con questo id", field="id"))
    if any(pt.pod == member.get("pod") for _, pt in community.points()):
        problems.append(Problem("POD gia' presente nella comunita'", field="pod"))
    try:
        new = Member.model_validate(
            {
                "id": member.get("id", ""),
                "name": member.get("name", ""),
                "kind": member.get("kind", ""),
                "pods": [{"pod": member.get("pod", ""), "cabina": member.get("cabina", "")}],
            }
        )
    except ValidationError as exc:
        problems += [Problem(str(e["msg"]), field=str(e["loc"][-1]) if e["loc"] else None) for e in exc.errors()]
        raise InputError(problems) from exc
    if problems:
        raise InputError(problems)
    _replace(session, community, {"members": [*community.members, new]}, "form")
    return new.id


def add_plant(session: Session, community_id: int, plant: dict[str, str]) -> str:
    """Add a plant (``id``, ``owner``, ``pod``, ``cabina``, ``technology``, ``power_kw``, ``commissioning_date``).

    Raises
    ------
    InputError
        Invalid fields or an id already in the community.
    """
    community = load_community(session, community_id)
    if any(p.id == plant.get("id") for p in community.plants):
        raise InputError.one("esiste gia' un impianto con questo id", field="id")
    try:
        new = Plant.model_validate({k: v for k, v in plant.items() if v != ""})
    except ValidationError as exc:
        raise InputError(
            [Problem(str(e["msg"]), field=str(e["loc"][-1]) if e["loc"] else None) for e in exc.errors()]
        ) from exc
    _replace(session, community, {"plants": [*community.plants, new]}, "form")
    return new.id


@dataclass(frozen=True)
class Upload:
    """Outcome of a readings upload: what the store did and the coverage warnings."""

    result: ImportResult
    warnings: list[str]


def upload_readings(
    engine: Engine, session: Session, community_id: int, text: str, *, name: str, user_id: int | None = None
) -> Upload:
    """Validate a readings CSV as the command line does and store it; nothing is stored when it is bad.

    Raises
    ------
    InputError
        Problems naming the row and field of the file.
    """
    community = load_community(session, community_id)
    readings = parse_readings_csv(io.StringIO(text), name=name)
    warnings = check_coverage(community, readings.pods)
    result = import_readings(engine, community_id, readings, source=name, user_id=user_id)
    return Upload(result, warnings)


def local_bounds(start: dt.date, end: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC instants of local midnight at ``start`` and the midnight after ``end`` (inclusive days)."""
    lo = pd.Timestamp(start).tz_localize(LOCAL_TZ).tz_convert("UTC")
    hi = pd.Timestamp(end + dt.timedelta(days=1)).tz_localize(LOCAL_TZ).tz_convert("UTC")
    return lo, hi


def run_settlement(engine: Engine, session: Session, community_id: int, start: dt.date, end: dt.date) -> int:
    """Settle the stored readings of a community over local days ``start`` .. ``end`` and store the result.

    Returns
    -------
    int
        The stored settlement's id.

    Raises
    ------
    InputError
        A bad period, no readings in it, or what the engine refuses.
    """
    if end < start:
        raise InputError.one("la fine del periodo precede l'inizio", field="end")
    if (end - start).days > 366:
        raise InputError.one("il periodo supera un anno", field="end")
    community = load_community(session, community_id)
    lo, hi = local_bounds(start, end)
    readings = load_readings(engine, community_id, start=lo, end=hi)
    if readings.frame.empty:
        raise InputError.one("nessuna lettura nel periodo", field="start")
    prices = load_prices(engine, start=lo, end=hi)
    result = settle(community, readings, prices if not prices.frame.empty else None, period=Period(start, end))
    document = settlement_document(result)
    return save_settlement(session, community_id, document, result.allocation.lines)


@dataclass(frozen=True)
class StatementLine:
    """One member in one stored settlement: energies [kWh] and money [€]."""

    settlement_id: int
    period_start: dt.date
    period_end: dt.date
    withdrawn_kwh: float
    shared_withdrawal_kwh: float
    amount_eur: float


def member_statement(session: Session, community_id: int, member: str) -> list[StatementLine]:
    """The member's energy and money in every stored settlement of the community, oldest first."""
    out = []
    for info in reversed(list_settlements(session, community_id, limit=1000)):
        stored = get_settlement(session, info.id)
        if stored is None:
            continue
        doc = stored.document
        energy: dict[str, Any] = next((m for m in doc.get("per_member", []) if m.get("id") == member), {})
        cents = sum(x.amount_cents for x in stored.lines if x.recipient == member)
        out.append(
            StatementLine(
                settlement_id=info.id,
                period_start=info.period_start,
                period_end=info.period_end,
                withdrawn_kwh=float(energy.get("withdrawn_kwh", 0.0)),
                shared_withdrawal_kwh=float(energy.get("shared_withdrawal_kwh", 0.0)),
                amount_eur=cents / 100,
            )
        )
    return out
