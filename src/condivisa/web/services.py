"""Operations shared by the API and the pages: thin glue between the store and the engine.

Nothing here knows HTTP: bad input raises :class:`condivisa.errors.InputError`, a missing object
:class:`condivisa.store.NotFoundError`; the routes translate them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

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
    NotFoundError,
    assign_role,
    create_user,
    get_settlement,
    import_readings,
    list_settlements,
    load_community,
    load_prices,
    load_readings,
    member_row_id,
    save_community,
    save_settlement,
)
from condivisa.web.i18n import LOCALES
from condivisa.web.security import hash_password


def validation_problems(exc: ValidationError, source: str) -> list[Problem]:
    """Problems of a pydantic validation error, each naming the path in the document."""
    return [Problem(str(e["msg"]), file=source, field=".".join(str(x) for x in e["loc"]) or None) for e in exc.errors()]


def _replace(
    session: Session, community: Community, changes: dict[str, Any], source: str, *, user_id: int | None = None
) -> int:
    data = community.model_dump(mode="python")
    data.update(changes)
    try:
        updated = Community.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, source)) from exc
    return save_community(session, updated, source=source, user_id=user_id)


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


Part = Literal["members", "plants"]


def _edit(
    session: Session,
    community_id: int,
    part: Part,
    change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    *,
    user_id: int | None,
) -> Community:
    """Apply ``change`` to the members or plants of a stored community, re-validate the whole description and
    store it; returns the stored description."""
    community = load_community(session, community_id)
    items = [x.model_dump(mode="python") for x in getattr(community, part)]
    _replace(session, community, {part: change(items)}, "api", user_id=user_id)
    return load_community(session, community_id)


def _index(items: list[dict[str, Any]], item_id: str, what: str) -> int:
    for i, x in enumerate(items):
        if x["id"] == item_id:
            return i
    raise NotFoundError(f"{what} {item_id!r} non trovato")


def create_item(
    session: Session, community_id: int, part: Part, data: dict[str, Any], *, user_id: int | None = None
) -> dict[str, Any]:
    """Add a member or a plant (``part``) to a stored community; the whole description is validated again.

    Returns
    -------
    dict
        The stored member or plant as the community model dumps it.

    Raises
    ------
    InputError
        What the community model refuses (each problem names its path, e.g. ``members.39.pods.0.pod``).
    NotFoundError
        No such community.
    """
    community = _edit(session, community_id, part, lambda items: [*items, data], user_id=user_id)
    added: dict[str, Any] = getattr(community, part)[-1].model_dump(mode="python")  # appended last, order kept
    return added


def update_item(
    session: Session,
    community_id: int,
    part: Part,
    item_id: str,
    changes: dict[str, Any],
    *,
    user_id: int | None = None,
) -> dict[str, Any]:
    """Change fields of a member or a plant; the whole description is validated again.

    Raises
    ------
    InputError
        What the community model refuses.
    NotFoundError
        No such community, member or plant.
    """
    what = "socio" if part == "members" else "impianto"

    def change(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        i = _index(items, item_id, what)
        items[i] = {**items[i], **changes}
        return items

    community = _edit(session, community_id, part, change, user_id=user_id)
    return next(x.model_dump(mode="python") for x in getattr(community, part) if x.id == item_id)


def delete_item(session: Session, community_id: int, part: Part, item_id: str, *, user_id: int | None = None) -> None:
    """Remove a member (with its points and roles) or a plant; refused when the rest would not be valid (e.g.
    a regulation rule naming the member).

    Raises
    ------
    InputError
        What the community model refuses.
    NotFoundError
        No such community, member or plant.
    """
    what = "socio" if part == "members" else "impianto"

    def change(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        i = _index(items, item_id, what)
        return items[:i] + items[i + 1 :]

    _edit(session, community_id, part, change, user_id=user_id)


def create_user_account(session: Session, *, email: str, display_name: str, password: str, locale: str) -> int:
    """Create a user with an argon2 hash of ``password``; returns the new user's id.

    Raises
    ------
    InputError
        Password shorter than 8 characters, bad or taken email, empty name, unknown language.
    """
    problems: list[Problem] = []
    if not display_name.strip():
        problems.append(Problem("il nome e' obbligatorio", field="display_name"))
    if locale not in LOCALES:
        problems.append(Problem(f"lingua {locale!r} non disponibile", field="locale"))
    if len(password) < 8:
        problems.append(Problem("la password deve avere almeno 8 caratteri", field="password"))
    if problems:
        raise InputError(problems)
    try:
        user = create_user(
            session,
            email=email,
            password_hash=hash_password(password),
            display_name=display_name.strip(),
            locale=locale,
        )
    except ValueError as exc:
        raise InputError.one(str(exc), field="email") from exc
    return user.id


def grant_role(
    session: Session,
    *,
    user_id: int,
    role: str,
    community_id: int | None = None,
    member: str | None = None,
    municipality: str | None = None,
) -> None:
    """Give a user a role: ``community_id`` for managers and members, ``member`` (the member's id in the
    community) for members, ``municipality`` for officers.

    Raises
    ------
    InputError
        Unknown role, user, community or member, or a scope that does not fit the role.
    """
    member_id: int | None = None
    if member:
        if community_id is None:
            raise InputError.one("il socio richiede una comunita'", field="community_id")
        member_id = member_row_id(session, community_id, member)
        if member_id is None:
            raise InputError.one(f"socio {member!r} non trovato nella comunita'", field="member")
    try:
        assign_role(
            session,
            user_id=user_id,
            role=role,
            community_id=community_id,
            member_id=member_id,
            municipality=municipality or None,
        )
    except (ValueError, NotFoundError) as exc:
        raise InputError.one(str(exc), field="role") from exc


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
    if start.year < 1900 or end.year > 2199:
        raise InputError.one("periodo fuori dagli anni 1900-2199", field="start" if start.year < 1900 else "end")
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
