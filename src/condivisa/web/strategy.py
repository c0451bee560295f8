"""Pages of the strategy tools: a municipality's PESTLE analyses, barriers and opportunities maps, Theories of
Change, policy sandbox experiments and best practices, and the best-practice library shared by all municipalities.

Public (no login; public artefacts only, no request to another site):

- ``GET /comune/{slug}/strategia``: the public artefacts of the municipality's plan;
- ``GET /comune/{slug}/strategia/{kind}/{id}``: one public artefact (``kind`` is a URL name of :data:`KIND_URLS`);
- ``GET /comune/{slug}/strategia/{kind}/{id}.json|.md`` exports, and for a Theory of Change ``.svg`` and ``.mmd``
  (Mermaid text);
- ``GET /buone-pratiche``: the library of public best practices of every municipality (filters ``etichetta``,
  ``q``); ``GET /buone-pratiche/{id}``: one of them with its linked artefacts.

Officers of the municipality and platform admins (:func:`condivisa.web.civic.require_civic`) see the drafts too
and work under ``/comune/{slug}/strategia/gestione``: the list of every artefact, ``nuova/{kind}`` to create one,
``{kind}/{id}/modifica`` and ``{kind}/{id}/elimina``. The structured content is edited as JSON or YAML text;
errors come back in Italian with their path (422). ``POST /buone-pratiche/{id}/copia`` copies a best practice
into the plan of a municipality the officer runs (``target``: its slug; 403 otherwise; 409 if already copied).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from condivisa.errors import InputError, Problem
from condivisa.store import strategy as store
from condivisa.store.municipalities import MunicipalityInfo, list_municipalities
from condivisa.store.repository import NotFoundError
from condivisa.strategy.artefacts import (
    DECISIONS,
    DIMENSIONS,
    EXAMPLES,
    KIND_LABELS,
    KINDS,
    LEVEL_LABELS,
    LEVELS,
    LIKELIHOODS,
    MAP_CATEGORIES,
    SANDBOX_STATUSES,
    TRENDS,
    TheoryOfChange,
    parse_artefact,
    to_document,
    to_json,
    to_markdown,
    toc_mermaid,
    toc_svg,
)
from condivisa.strategy.replication import AlreadyCopiedError
from condivisa.web.access import Principal
from condivisa.web.civic import can_run, municipality_or_404, require_civic
from condivisa.web.deps import FormCsrf, OptionalUserDep, PageUserDep, SessionDep, render

router = APIRouter(include_in_schema=False)

KIND_URLS: dict[str, str] = {
    "pestle": "pestle",
    "map": "barriere-opportunita",
    "toc": "teoria-del-cambiamento",
    "sandbox": "sperimentazione",
    "practice": "buona-pratica",
}
"""URL name of each kind of artefact."""
URL_KINDS = {v: k for k, v in KIND_URLS.items()}
FLASH_PREFIX = "strategy:"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _flash(request: Request, message: str) -> None:
    request.session["flash"] = f"{FLASH_PREFIX}{message}"


def _kind(url_name: str) -> str:
    kind = URL_KINDS.get(url_name)
    if kind is None:
        raise HTTPException(status_code=404, detail="tipo di scheda sconosciuto")
    return kind


def artefact_url(info: store.ArtefactInfo) -> str:
    """The page of an artefact."""
    return f"/comune/{info.municipality_slug}/strategia/{KIND_URLS[info.kind]}/{info.id}"


def _common(municipality: MunicipalityInfo | None = None) -> dict[str, Any]:
    return {
        "municipality": municipality,
        "base": f"/comune/{municipality.slug}/strategia" if municipality else "",
        "kinds": KINDS,
        "kind_labels": KIND_LABELS,
        "kind_urls": KIND_URLS,
        "artefact_url": artefact_url,
        "dimensions": DIMENSIONS,
        "likelihoods": LIKELIHOODS,
        "trends": TRENDS,
        "categories": MAP_CATEGORIES,
        "levels": LEVELS,
        "level_labels": LEVEL_LABELS,
        "statuses": SANDBOX_STATUSES,
        "decisions": DECISIONS,
        "flash_prefix": FLASH_PREFIX,
    }


def _officer(db: SessionDep, slug: str, user: Principal) -> MunicipalityInfo:
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    return municipality


def _visible(
    db: SessionDep, slug: str, kind_url: str, artefact_id: int, user: Principal | None
) -> tuple[MunicipalityInfo, store.ArtefactInfo, bool]:
    """The artefact of a page: public ones for everybody, drafts for the municipality's officers only (404 for the
    others, so that drafts are not revealed)."""
    municipality = municipality_or_404(db, slug)
    kind = _kind(kind_url)
    info = store.get_artefact(db, artefact_id, municipality.id)
    officer = can_run(user, municipality)
    if info is None or info.kind != kind or not (info.public or officer):
        raise HTTPException(status_code=404, detail="scheda non trovata")
    return municipality, info, officer


# Public pages -----------------------------------------------------------------------------------------------------


@router.get("/comune/{slug}/strategia", response_class=HTMLResponse)
def strategy_page(request: Request, slug: str, db: SessionDep, user: OptionalUserDep) -> Response:
    """The public artefacts of the municipality's plan, by kind."""
    municipality = municipality_or_404(db, slug)
    items = store.list_artefacts(db, municipality.id, public_only=True)
    context = {
        **_common(municipality),
        "by_kind": {k: [a for a in items if a.kind == k] for k in KINDS},
        "officer": can_run(user, municipality),
        "manage": False,
    }
    return render(request, "strategy_list.html", context, user=user)


@router.get("/buone-pratiche", response_class=HTMLResponse)
def library_page(request: Request, db: SessionDep, user: OptionalUserDep) -> Response:
    """The library of the public best practices of every municipality (filters ``etichetta`` and ``q``)."""
    tag = request.query_params.get("etichetta") or None
    text = request.query_params.get("q") or None
    practices = store.library(db, tag=tag, text=text)
    tags = sorted({t for p in store.library(db) for t in getattr(p.content, "tags", [])}, key=str.casefold)
    context = {**_common(), "practices": practices, "tag": tag, "q": text or "", "tags": tags}
    return render(request, "strategy_library.html", context, user=user)


def _practice_context(db: SessionDep, practice_id: int, user: Principal | None) -> dict[str, Any]:
    info = store.get_artefact(db, practice_id)
    if info is None or info.kind != "practice" or not info.public:
        raise HTTPException(status_code=404, detail="buona pratica non trovata")
    targets = [m for m in list_municipalities(db) if m.id != info.municipality_id and can_run(user, m)]
    return {
        **_common(),
        "practice": info,
        "linked": store.linked_artefacts(db, info),
        "targets": targets,
        "problems": None,
        "adaptations": "",
    }


@router.get("/buone-pratiche/{practice_id}", response_class=HTMLResponse)
def practice_page(request: Request, practice_id: int, db: SessionDep, user: OptionalUserDep) -> Response:
    """A public best practice with its linked artefacts; officers may copy it into their own plan."""
    return render(request, "strategy_practice.html", _practice_context(db, practice_id, user), user=user)


@router.post("/buone-pratiche/{practice_id}/copia", response_class=HTMLResponse, dependencies=[FormCsrf])
def copy_practice(
    request: Request,
    practice_id: int,
    db: SessionDep,
    user: PageUserDep,
    target: Annotated[str, Form()] = "",
    adaptations: Annotated[str, Form()] = "",
) -> Response:
    """Officers: copy a public best practice with its artefacts into the plan of ``target`` (a slug of a
    municipality they run: 403 otherwise); 409 when it is there already."""
    context = _practice_context(db, practice_id, user)
    municipality = municipality_or_404(db, target)
    require_civic(user, municipality)
    try:
        copied = store.copy_practice(db, practice_id, municipality.id, adaptations=adaptations[:2000])
    except AlreadyCopiedError as exc:
        context.update(problems=exc.problems, adaptations=adaptations)
        return render(request, "strategy_practice.html", context, user=user, status_code=409)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="buona pratica non trovata") from exc
    _flash(request, "Buona pratica copiata nel piano: adattala e pubblicala quando è pronta")
    return _see_other(artefact_url(copied))


# Officers' pages (declared before /strategia/{kind}/{id} so that "gestione" is not read as a kind) ----------------


@router.get("/comune/{slug}/strategia/gestione", response_class=HTMLResponse)
def manage_page(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> Response:
    """Officers: every artefact of the plan (drafts too) and the links to create new ones."""
    municipality = _officer(db, slug, user)
    items = store.list_artefacts(db, municipality.id)
    context = {
        **_common(municipality),
        "by_kind": {k: [a for a in items if a.kind == k] for k in KINDS},
        "officer": True,
        "manage": True,
    }
    return render(request, "strategy_list.html", context, user=user)


def _form_context(
    municipality: MunicipalityInfo,
    kind: str,
    *,
    text: str,
    public: bool,
    action: str,
    info: store.ArtefactInfo | None = None,
    problems: list[Problem] | None = None,
) -> dict[str, Any]:
    return {
        **_common(municipality),
        "kind": kind,
        "text": text,
        "public": public,
        "action": action,
        "info": info,
        "problems": problems,
        "example": json.dumps(EXAMPLES[kind], ensure_ascii=False, indent=2),
    }


def _dump(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)


@router.get("/comune/{slug}/strategia/gestione/nuova/{kind_url}", response_class=HTMLResponse)
def new_page(request: Request, slug: str, kind_url: str, db: SessionDep, user: PageUserDep) -> Response:
    """Officers: the editor for a new artefact, filled with an example to change."""
    municipality = _officer(db, slug, user)
    kind = _kind(kind_url)
    action = f"/comune/{slug}/strategia/gestione/nuova/{kind_url}"
    context = _form_context(municipality, kind, text=_dump(EXAMPLES[kind]), public=False, action=action)
    return render(request, "strategy_form.html", context, user=user)


@router.post("/comune/{slug}/strategia/gestione/nuova/{kind_url}", response_class=HTMLResponse, dependencies=[FormCsrf])
def create(
    request: Request,
    slug: str,
    kind_url: str,
    db: SessionDep,
    user: PageUserDep,
    content: Annotated[str, Form()] = "",
    public: Annotated[str, Form()] = "",
) -> Response:
    """Officers: store a new artefact; errors shown with the editor (422)."""
    municipality = _officer(db, slug, user)
    kind = _kind(kind_url)
    is_public = public not in ("", "0", "off")
    try:
        artefact_id = store.create_artefact(db, municipality.id, parse_artefact(kind, content), public=is_public)
    except InputError as exc:
        action = f"/comune/{slug}/strategia/gestione/nuova/{kind_url}"
        context = _form_context(
            municipality, kind, text=content, public=is_public, action=action, problems=exc.problems
        )
        return render(request, "strategy_form.html", context, user=user, status_code=422)
    _flash(request, "Scheda salvata")
    return _see_other(f"/comune/{slug}/strategia/{kind_url}/{artefact_id}")


def _officer_artefact(
    db: SessionDep, slug: str, kind_url: str, artefact_id: int, user: Principal
) -> tuple[MunicipalityInfo, store.ArtefactInfo]:
    municipality = _officer(db, slug, user)
    info = store.get_artefact(db, artefact_id, municipality.id)
    if info is None or info.kind != _kind(kind_url):
        raise HTTPException(status_code=404, detail="scheda non trovata")
    return municipality, info


@router.get("/comune/{slug}/strategia/{kind_url}/{artefact_id}/modifica", response_class=HTMLResponse)
def edit_page(
    request: Request, slug: str, kind_url: str, artefact_id: int, db: SessionDep, user: PageUserDep
) -> Response:
    """Officers: the editor of an artefact."""
    municipality, info = _officer_artefact(db, slug, kind_url, artefact_id, user)
    context = _form_context(
        municipality,
        info.kind,
        text=_dump(to_document(info.content)),
        public=info.public,
        action=f"{artefact_url(info)}/modifica",
        info=info,
    )
    return render(request, "strategy_form.html", context, user=user)


@router.post(
    "/comune/{slug}/strategia/{kind_url}/{artefact_id}/modifica", response_class=HTMLResponse, dependencies=[FormCsrf]
)
def update(
    request: Request,
    slug: str,
    kind_url: str,
    artefact_id: int,
    db: SessionDep,
    user: PageUserDep,
    content: Annotated[str, Form()] = "",
    public: Annotated[str, Form()] = "",
) -> Response:
    """Officers: change an artefact; errors shown with the editor (422)."""
    municipality, info = _officer_artefact(db, slug, kind_url, artefact_id, user)
    is_public = public not in ("", "0", "off")
    try:
        store.update_artefact(db, municipality.id, artefact_id, parse_artefact(info.kind, content), public=is_public)
    except InputError as exc:
        context = _form_context(
            municipality,
            info.kind,
            text=content,
            public=is_public,
            action=f"{artefact_url(info)}/modifica",
            info=info,
            problems=exc.problems,
        )
        return render(request, "strategy_form.html", context, user=user, status_code=422)
    _flash(request, "Scheda salvata")
    return _see_other(artefact_url(info))


@router.post("/comune/{slug}/strategia/{kind_url}/{artefact_id}/elimina", dependencies=[FormCsrf])
def delete(request: Request, slug: str, kind_url: str, artefact_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """Officers: delete an artefact."""
    municipality, _info = _officer_artefact(db, slug, kind_url, artefact_id, user)
    store.delete_artefact(db, municipality.id, artefact_id)
    _flash(request, "Scheda eliminata")
    return _see_other(f"/comune/{slug}/strategia/gestione")


# Artefact pages and exports (exports first: "12.json" must not be read as an id) -----------------------------------

EXPORT_TYPES = {
    "json": "application/json; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "svg": "image/svg+xml",
    "mmd": "text/plain; charset=utf-8",
}


@router.get("/comune/{slug}/strategia/{kind_url}/{artefact_id}.{fmt}")
def export(
    request: Request, slug: str, kind_url: str, artefact_id: int, fmt: str, db: SessionDep, user: OptionalUserDep
) -> Response:
    """An artefact as JSON or Markdown; a Theory of Change also as SVG or Mermaid text (same visibility as its
    page)."""
    municipality, info, _officer_flag = _visible(db, slug, kind_url, artefact_id, user)
    if fmt not in EXPORT_TYPES or (fmt in ("svg", "mmd") and not isinstance(info.content, TheoryOfChange)):
        raise HTTPException(status_code=404, detail="formato non disponibile")
    if fmt == "json":
        meta: dict[str, Any] = {
            "id": info.id,
            "municipality": municipality.name,
            "public": info.public,
            "provenance": info.provenance.model_dump(mode="json") if info.provenance else None,
        }
        body = to_json(info.content, **meta)
    elif fmt == "md":
        body = to_markdown(info.content, municipality=municipality.name)
    elif fmt == "svg":
        assert isinstance(info.content, TheoryOfChange)
        body = toc_svg(info.content)
    else:
        assert isinstance(info.content, TheoryOfChange)
        body = toc_mermaid(info.content)
    filename = f"{KIND_URLS[info.kind]}-{info.id}.{fmt}"
    return Response(
        body, media_type=EXPORT_TYPES[fmt], headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )


@router.get("/comune/{slug}/strategia/{kind_url}/{artefact_id}", response_class=HTMLResponse)
def artefact_page(
    request: Request, slug: str, kind_url: str, artefact_id: int, db: SessionDep, user: OptionalUserDep
) -> Response:
    """An artefact of the plan: public ones for everybody, drafts for the municipality's officers."""
    municipality, info, officer = _visible(db, slug, kind_url, artefact_id, user)
    context = {
        **_common(municipality),
        "info": info,
        "a": info.content,
        "officer": officer,
        "svg": toc_svg(info.content) if isinstance(info.content, TheoryOfChange) else None,
        "linked": store.linked_artefacts(db, info) if info.kind == "practice" else [],
    }
    return render(request, "strategy_view.html", context, user=user)
