"""The HTTP API under ``/api``: thin routes over :mod:`condivisa.web.services` and the store.

Authentication is the session cookie of the login page; every POST, PATCH and DELETE must echo the CSRF token
(``GET /api/me``) in the ``X-CSRF-Token`` header. 401 without login, 403 without access, 404 for unknown objects,
422 with the problems for bad input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, UploadFile
from pydantic import ValidationError
from sqlalchemy.orm import Session

from condivisa.errors import InputError, Problem
from condivisa.model import Community, parse_community
from condivisa.store import (
    NotFoundError,
    find_community,
    get_settlement,
    list_communities,
    list_settlements,
    load_community,
    member_row_id,
)
from condivisa.store import save_community as store_community
from condivisa.store.repository import SettlementInfo
from condivisa.web import services
from condivisa.web.access import Principal, authorize
from condivisa.web.deps import (
    ApiCsrf,
    ApiUserDep,
    EngineDep,
    SessionDep,
    community_or_404,
    csrf_token,
    require,
)
from condivisa.web.schemas import (
    CommunitiesPublic,
    CommunityPublic,
    Me,
    MemberCreate,
    MemberPublic,
    MembersPublic,
    MemberStatement,
    MemberUpdate,
    PlantCreate,
    PlantPublic,
    PlantsPublic,
    PlantUpdate,
    PointPublic,
    ReadingsImported,
    SettlementCreate,
    SettlementDetail,
    SettlementLinePublic,
    SettlementPublic,
    StatementPeriod,
)

router = APIRouter(prefix="/api", tags=["api"])
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def unprocessable(problems: list[Problem]) -> HTTPException:
    """422 whose detail lists the problems with their place."""
    detail = [{"message": p.message, "file": p.file, "row": p.row, "field": p.field} for p in problems[:200]]
    return HTTPException(status_code=422, detail=detail)


def _member_public(m: Any) -> MemberPublic:
    return MemberPublic(
        id=m.id,
        name=m.name,
        kind=m.kind,
        pods=[PointPublic(pod=p.pod, cabina=p.cabina, voltage=p.voltage) for p in m.pods],
    )


def _plant_public(p: Any) -> PlantPublic:
    return PlantPublic.model_validate(p if isinstance(p, dict) else p.model_dump(mode="python"))


def _write_row(db: Session, community_id: int, user: Principal) -> None:
    """404 for an unknown community, 403 unless the caller may change it (checked before the member or plant
    is looked up, so that who may not write learns nothing about them)."""
    require(user, "community:write", community_or_404(db, community_id))


def _settlement_public(s: SettlementInfo) -> SettlementPublic:
    return SettlementPublic(
        id=s.id,
        community_id=s.community_id,
        period_start=s.period_start,
        period_end=s.period_end,
        created_at=s.created_at,
        total_eur=s.total_cents / 100,
        status=s.status,
    )


@router.get("/me")
def me(request: Request, user: ApiUserDep) -> Me:
    """The logged-in user, the roles held and the CSRF token for API writes."""
    roles = [g.role for g in user.grants]
    return Me(email=user.email, display_name=user.display_name, roles=roles, csrf_token=csrf_token(request))


@router.get("/communities")
def communities(db: SessionDep, user: ApiUserDep) -> CommunitiesPublic:
    """The communities the caller may read."""
    rows = [
        c
        for c in list_communities(db, limit=10_000)
        if authorize(user, "community:read", c.id, municipality=c.municipality)
    ]
    data = [
        CommunityPublic(
            id=c.id,
            name=c.name,
            configuration=c.configuration,
            region=c.region,
            municipality=c.municipality,
            members=c.members,
        )
        for c in rows
    ]
    return CommunitiesPublic(data=data, count=len(data))


@router.post("/communities", status_code=201, dependencies=[ApiCsrf])
async def create_community(
    request: Request, db: SessionDep, user: ApiUserDep, municipality: str | None = None
) -> CommunityPublic:
    """Create a community from its YAML text (any text body) or JSON (``application/json``); admins only."""
    if not authorize(user, "platform:write", None):
        raise HTTPException(status_code=403, detail="accesso negato")
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                community = Community.model_validate(json.loads(body))
            except json.JSONDecodeError as exc:
                raise InputError.one(f"JSON non valido: {exc.msg}", row=exc.lineno) from exc
            except ValidationError as exc:
                raise InputError(services.validation_problems(exc, "body")) from exc
            except (ValueError, RecursionError) as exc:  # an integer of thousands of digits, nesting too deep
                raise InputError.one(
                    "JSON non valido: numero troppo lungo o annidamento troppo profondo", file="body"
                ) from exc
        else:
            community = parse_community(body, source="body")
    except InputError as exc:
        raise unprocessable(exc.problems) from exc
    if find_community(db, community.name) is not None:
        raise HTTPException(status_code=409, detail="esiste gia' una comunita' con questo nome")
    cid = store_community(db, community, municipality=municipality, source="api", user_id=user.user_id)
    return get_community(cid, db, user)


@router.get("/communities/{community_id}")
def get_community(community_id: int, db: SessionDep, user: ApiUserDep) -> CommunityPublic:
    """One community."""
    row = community_or_404(db, community_id)
    require(user, "community:read", row)
    return CommunityPublic(
        id=row.id,
        name=row.name,
        configuration=row.configuration,
        region=row.region,
        municipality=row.municipality,
        members=len(row.members),
    )


@router.get("/communities/{community_id}/members")
def members(
    community_id: int,
    db: SessionDep,
    user: ApiUserDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    kind: str | None = None,
) -> MembersPublic:
    """Members of a community, ``limit`` from ``offset``, optionally of one ``kind``."""
    row = community_or_404(db, community_id)
    require(user, "community:read", row)
    chosen = [m for m in load_community(db, community_id).members if kind is None or m.kind == kind]
    page = [_member_public(m) for m in chosen[offset : offset + limit]]
    return MembersPublic(data=page, count=len(chosen), offset=offset, limit=limit)


@contextmanager
def _service_errors(not_found: str = "oggetto non trovato") -> Iterator[None]:
    """Map the services' errors to HTTP: an unknown object is 404, invalid input 422 with the problems."""
    try:
        yield
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail=not_found) from exc
    except InputError as exc:
        raise unprocessable(exc.problems) from exc


@router.post("/communities/{community_id}/members", status_code=201, dependencies=[ApiCsrf])
def create_member(community_id: int, body: MemberCreate, db: SessionDep, user: ApiUserDep) -> MemberPublic:
    """Add a member with its points; the whole community is validated again (422 with the problems)."""
    _write_row(db, community_id, user)
    with _service_errors():
        done = services.create_item(db, community_id, "members", body.model_dump(), user_id=user.user_id)
    return MemberPublic.model_validate(done)


@router.patch("/communities/{community_id}/members/{member}", dependencies=[ApiCsrf])
def update_member(community_id: int, member: str, body: MemberUpdate, db: SessionDep, user: ApiUserDep) -> MemberPublic:
    """Change a member's name, kind or points (fields left out stay); 404 for an unknown member."""
    _write_row(db, community_id, user)
    changes = body.model_dump(exclude_unset=True)
    with _service_errors("socio non trovato"):
        done = services.update_item(db, community_id, "members", member, changes, user_id=user.user_id)
    return MemberPublic.model_validate(done)


@router.delete("/communities/{community_id}/members/{member}", status_code=204, dependencies=[ApiCsrf])
def delete_member(community_id: int, member: str, db: SessionDep, user: ApiUserDep) -> Response:
    """Remove a member with its points and roles; 422 when the rest would not be valid (e.g. a regulation rule
    naming it)."""
    _write_row(db, community_id, user)
    with _service_errors("socio non trovato"):
        services.delete_item(db, community_id, "members", member, user_id=user.user_id)
    return Response(status_code=204)


@router.get("/communities/{community_id}/plants")
def plants(community_id: int, db: SessionDep, user: ApiUserDep) -> PlantsPublic:
    """The plants of a community."""
    row = community_or_404(db, community_id)
    require(user, "community:read", row)
    data = [_plant_public(p) for p in load_community(db, community_id).plants]
    return PlantsPublic(data=data, count=len(data))


@router.post("/communities/{community_id}/plants", status_code=201, dependencies=[ApiCsrf])
def create_plant(community_id: int, body: PlantCreate, db: SessionDep, user: ApiUserDep) -> PlantPublic:
    """Add a plant; the whole community is validated again (422 with the problems)."""
    _write_row(db, community_id, user)
    with _service_errors():
        done = services.create_item(db, community_id, "plants", body.model_dump(), user_id=user.user_id)
    return _plant_public(done)


@router.patch("/communities/{community_id}/plants/{plant}", dependencies=[ApiCsrf])
def update_plant(community_id: int, plant: str, body: PlantUpdate, db: SessionDep, user: ApiUserDep) -> PlantPublic:
    """Change fields of a plant (those left out stay); 404 for an unknown plant."""
    _write_row(db, community_id, user)
    changes = body.model_dump(exclude_unset=True)
    with _service_errors("impianto non trovato"):
        done = services.update_item(db, community_id, "plants", plant, changes, user_id=user.user_id)
    return _plant_public(done)


@router.delete("/communities/{community_id}/plants/{plant}", status_code=204, dependencies=[ApiCsrf])
def delete_plant(community_id: int, plant: str, db: SessionDep, user: ApiUserDep) -> Response:
    """Remove a plant."""
    _write_row(db, community_id, user)
    with _service_errors("impianto non trovato"):
        services.delete_item(db, community_id, "plants", plant, user_id=user.user_id)
    return Response(status_code=204)


@router.post("/communities/{community_id}/readings", dependencies=[ApiCsrf])
async def upload_readings(
    community_id: int, file: UploadFile, db: SessionDep, engine: EngineDep, user: ApiUserDep
) -> ReadingsImported:
    """Store a readings CSV (the long format of the command line); nothing is stored if any row is bad."""
    row = community_or_404(db, community_id)
    require(user, "community:write", row)
    raw = await file.read(MAX_UPLOAD_BYTES + 1)
    try:
        if len(raw) > MAX_UPLOAD_BYTES:
            raise InputError.one("file troppo grande", file=file.filename)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError.one("il file non e' testo UTF-8", file=file.filename) from exc
        done = services.upload_readings(
            engine, db, community_id, text, name=file.filename or "upload.csv", user_id=user.user_id
        )
    except InputError as exc:
        raise unprocessable(exc.problems) from exc
    r = done.result
    return ReadingsImported(
        rows_in=r.rows_in, inserted=r.inserted, updated=r.updated, unchanged=r.unchanged, warnings=done.warnings
    )


@router.post("/communities/{community_id}/settlements", status_code=201, dependencies=[ApiCsrf])
def create_settlement(
    community_id: int, period: SettlementCreate, db: SessionDep, engine: EngineDep, user: ApiUserDep
) -> SettlementDetail:
    """Settle the stored readings over ``start`` .. ``end`` (local days, included) and store the result."""
    row = community_or_404(db, community_id)
    require(user, "community:write", row)
    try:
        sid = services.run_settlement(engine, db, community_id, period.start, period.end)
    except InputError as exc:
        raise unprocessable(exc.problems) from exc
    return settlement(community_id, sid, db, user)


@router.get("/communities/{community_id}/settlements")
def settlements(
    community_id: int,
    db: SessionDep,
    user: ApiUserDep,
    offset: Annotated[int, Query(ge=0, lt=2**63)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SettlementPublic]:
    """Stored settlements of a community, newest first."""
    row = community_or_404(db, community_id)
    require(user, "community:read", row)
    return [_settlement_public(s) for s in list_settlements(db, community_id, offset=offset, limit=limit)]


@router.get("/communities/{community_id}/settlements/{settlement_id}")
def settlement(community_id: int, settlement_id: int, db: SessionDep, user: ApiUserDep) -> SettlementDetail:
    """One stored settlement with its document and allocation lines."""
    row = community_or_404(db, community_id)
    stored = get_settlement(db, settlement_id) if 0 < settlement_id < 2**63 else None
    if stored is None or stored.community_id != community_id:
        raise HTTPException(status_code=404, detail="ripartizione non trovata")
    require(user, "community:read", row)
    lines = [
        SettlementLinePublic(recipient=x.recipient, rule=x.rule, basis=x.basis, amount_eur=x.amount_cents / 100)
        for x in stored.lines
    ]
    return SettlementDetail(**_settlement_public(stored).model_dump(), document=stored.document, lines=lines)


@router.get("/communities/{community_id}/members/{member}/statement")
def statement(community_id: int, member: str, db: SessionDep, user: ApiUserDep) -> MemberStatement:
    """A member's energy and money per stored settlement: the member, the manager, admins and officers."""
    row = community_or_404(db, community_id)
    member_id = member_row_id(db, community_id, member)
    if member_id is None:
        raise HTTPException(status_code=404, detail="socio non trovato")
    require(user, "member:read", row, member_id)
    try:
        found = next(m for m in load_community(db, community_id).members if m.id == member)
    except (StopIteration, NotFoundError) as exc:
        raise HTTPException(status_code=404, detail="socio non trovato") from exc
    periods = [StatementPeriod(**vars(x)) for x in services.member_statement(db, community_id, member)]
    return MemberStatement(
        community_id=community_id,
        member=_member_public(found),
        periods=periods,
        total_eur=round(sum(p.amount_eur for p in periods), 2),
    )
