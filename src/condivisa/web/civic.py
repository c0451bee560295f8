"""The municipality's public services: shared pieces and the public landing pages.

Every service of a municipality lives under ``/comune/{slug}/...``: public pages need no login and make no
request to another site; officers of the municipality (role ``municipality_officer`` with its name) and platform
admins run the services (action ``civic:write``). Each service has its own router module (``civic_desk``,
``civic_register``, ``civic_matching``, ``civic_buildings``, ``civic_engagement``); this one gives them
:func:`municipality_or_404` and :func:`require_civic`, and serves ``/comuni`` and ``/comune/{slug}``.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from condivisa.store.municipalities import MunicipalityInfo, list_municipalities, municipality_by_slug
from condivisa.store.repository import NotFoundError
from condivisa.web.access import Principal, authorize
from condivisa.web.deps import OptionalUserDep, SessionDep, render

router = APIRouter(include_in_schema=False)


def municipality_or_404(db: SessionDep, slug: str) -> MunicipalityInfo:
    """The municipality of ``/comune/{slug}``; 404 if there is none."""
    try:
        return municipality_by_slug(db, slug)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="comune non trovato") from exc


def can_run(user: Principal | None, municipality: MunicipalityInfo) -> bool:
    """Whether ``user`` runs the services of ``municipality`` (its officers, platform admins)."""
    return authorize(user, "civic:write", None, municipality=municipality.name)


def require_civic(user: Principal | None, municipality: MunicipalityInfo) -> None:
    """403 unless ``user`` runs the services of ``municipality`` (pages redirect to login first when needed)."""
    if not can_run(user, municipality):
        raise HTTPException(status_code=403, detail="accesso negato")


@router.get("/comuni", response_class=HTMLResponse)
def municipalities_page(request: Request, db: SessionDep, user: OptionalUserDep) -> HTMLResponse:
    """Public list of the municipalities offering services on this installation."""
    return render(request, "civic_municipalities.html", {"municipalities": list_municipalities(db)}, user=user)


@router.get("/comune/{slug}", response_class=HTMLResponse)
def municipality_home(request: Request, slug: str, db: SessionDep, user: OptionalUserDep) -> HTMLResponse:
    """Public home of a municipality's energy services: desk, register and map, matchmaking, buildings, events."""
    municipality = municipality_or_404(db, slug)
    return render(
        request,
        "civic_home.html",
        {"municipality": municipality, "officer": can_run(user, municipality)},
        user=user,
    )
