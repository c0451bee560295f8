"""Pages of the municipality's matching service: profiles, ranked matches with explanations, consent before
contact, calls for interest.

Who sees what:

- everybody: the public listing ``/comune/{slug}/incontri`` (display names and public attributes), the form to add
  a profile, the open calls for interest and their answer forms;
- the holder of a profile's manage link ``/comune/{slug}/incontri/profilo/{token}`` (the token is the key; only its
  hash is stored): the ranked matches with explanations, the buttons to propose/accept or decline, and the
  counterpart's contact details once both sides consented;
- officers of the municipality and platform admins: counts, public data and the state of matches (never contact
  details: the officer is not a party), the calls and the CSV of their answers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from condivisa.civic.matching import FIELDS, KIND_LABELS, KINDS, PATTERN_LABELS
from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.errors import InputError, Problem
from condivisa.store.matching import (
    CallClosedError,
    CallInfo,
    ProfileInfo,
    answer_call,
    answer_counts,
    call_answers_csv,
    call_by_id,
    check_open,
    communities_of,
    create_call,
    create_profile,
    list_calls,
    list_profiles,
    match_states,
    profile_by_token,
    profile_counts,
    ranked_matches,
    set_consent,
)
from condivisa.store.municipalities import MunicipalityInfo
from condivisa.store.repository import NotFoundError
from condivisa.web.civic import can_run, municipality_or_404, require_civic
from condivisa.web.deps import FormCsrf, OptionalUserDep, PageUserDep, SessionDep, render

router = APIRouter(include_in_schema=False)

_COMMON_FIELDS = (
    "display_name",
    "description",
    "latitude",
    "longitude",
    "cabina",
    "contact_name",
    "contact_email",
    "contact_phone",
)


def today() -> dt.date:
    """Today in Italian local time."""
    return dt.datetime.now(ZoneInfo(LOCAL_TZ)).date()


def _base(municipality: MunicipalityInfo, user: Any) -> dict[str, Any]:
    return {
        "municipality": municipality,
        "officer": can_run(user, municipality),
        "kinds": KINDS,
        "kind_labels": KIND_LABELS,
        "fields": FIELDS,
        "pattern_labels": PATTERN_LABELS,
    }


def _shown(attrs: dict[str, Any], kind: str) -> list[tuple[str, str, Any]]:
    """Public attributes as (label, unit, value) in the order of the kind's fields; choices by their label."""
    out = []
    for spec in FIELDS.get(kind, ()):
        if spec.name not in attrs:
            continue
        value = attrs[spec.name]
        if spec.type == "choice":
            value = dict(spec.choices).get(str(value), value)
        out.append((spec.label, spec.unit, value))
    return out


# --------------------------------------------------------------------------------------------------------------------
# Public listing and new profiles


@router.get("/comune/{slug}/incontri", response_class=HTMLResponse)
def listing(request: Request, slug: str, db: SessionDep, user: OptionalUserDep) -> Response:
    """Public listing of the profiles by kind: display names, descriptions and public attributes only."""
    municipality = municipality_or_404(db, slug)
    profiles = list_profiles(db, municipality.id)
    by_kind = {k: [p for p in profiles if p.kind == k] for k in KINDS}
    context = _base(municipality, user) | {
        "by_kind": by_kind,
        "shown": _shown,
        "open_calls": list_calls(db, municipality.id, open_on=today()),
    }
    return render(request, "civic_matching_list.html", context, user=user)


def _form_context(
    db: SessionDep, municipality: MunicipalityInfo, user: Any, kind: str | None, values: dict[str, str]
) -> dict[str, Any]:
    return _base(municipality, user) | {
        "kind": kind,
        "values": values,
        "communities": communities_of(db, municipality.name),
        "problems": [],
    }


@router.get("/comune/{slug}/incontri/nuovo", response_class=HTMLResponse)
def new_profile_form(
    request: Request, slug: str, db: SessionDep, user: OptionalUserDep, tipo: str | None = None
) -> Response:
    """Choose a kind of profile, then fill in its public form (``?tipo=citizen``...)."""
    municipality = municipality_or_404(db, slug)
    kind = tipo if tipo in KINDS else None
    return render(request, "civic_matching_new.html", _form_context(db, municipality, user, kind, {}), user=user)


async def _form_values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def _profile_kwargs(values: dict[str, str], kind: str) -> dict[str, Any]:
    """Arguments of ``create_profile`` from the form (also checks the privacy consent)."""
    if values.get("privacy") != "1":
        raise InputError.one("serve il consenso al trattamento dei dati personali", field="privacy")
    community = (values.get("community_id") or "").strip()
    try:
        community_id = int(community) if community else None
    except ValueError as exc:
        raise InputError.one("comunità collegata non valida", field="community_id") from exc
    return {
        "display_name": values.get("display_name", ""),
        "description": values.get("description", ""),
        "attributes": {spec.name: values.get(spec.name, "") for spec in FIELDS[kind]},
        "contact_name": values.get("contact_name", ""),
        "contact_email": values.get("contact_email", ""),
        "contact_phone": values.get("contact_phone", ""),
        "latitude": values.get("latitude"),
        "longitude": values.get("longitude"),
        "cabina": values.get("cabina"),
        "vulnerable": values.get("vulnerable") == "1",
        "community_id": community_id if kind == "community" else None,
    }


def _manage_url(municipality: MunicipalityInfo, token: str) -> str:
    return f"/comune/{municipality.slug}/incontri/profilo/{token}"


@router.post("/comune/{slug}/incontri/nuovo", response_class=HTMLResponse, dependencies=[FormCsrf])
async def new_profile(request: Request, slug: str, db: SessionDep, user: OptionalUserDep) -> Response:
    """Create a profile from the public form; goes to its private manage page (422 with the problems)."""
    municipality = municipality_or_404(db, slug)
    values = await _form_values(request)
    kind = values.get("kind", "")
    if kind not in KINDS:
        context = _form_context(db, municipality, user, None, values)
        context["problems"] = [Problem("scegli il tipo di profilo", field="kind")]
        return render(request, "civic_matching_new.html", context, user=user, status_code=422)
    try:
        _, token = create_profile(db, municipality.id, kind=kind, **_profile_kwargs(values, kind))
    except InputError as exc:
        db.rollback()
        context = _form_context(db, municipality, user, kind, values)
        context["problems"] = exc.problems
        return render(request, "civic_matching_new.html", context, user=user, status_code=422)
    return RedirectResponse(_manage_url(municipality, token) + "?nuovo=1", status_code=303)


# --------------------------------------------------------------------------------------------------------------------
# Manage page of a profile (the token is the key)


def _profile_or_404(db: SessionDep, municipality: MunicipalityInfo, token: str) -> ProfileInfo:
    profile = profile_by_token(db, municipality.id, token)
    if profile is None:
        raise HTTPException(status_code=404, detail="profilo non trovato")
    return profile


@router.get("/comune/{slug}/incontri/profilo/{token}", response_class=HTMLResponse)
def manage(
    request: Request, slug: str, token: str, db: SessionDep, user: OptionalUserDep, nuovo: str | None = None
) -> Response:
    """The profile's own page: ranked matches with explanations, consent buttons, contacts after both consent."""
    municipality = municipality_or_404(db, slug)
    profile = _profile_or_404(db, municipality, token)
    views = ranked_matches(db, profile)
    context = _base(municipality, user) | {
        "profile": profile,
        "token": token,
        "views": views,
        "shown": _shown,
        "created": nuovo == "1",
        "manage_url": _manage_url(municipality, token),
    }
    return render(request, "civic_matching_manage.html", context, user=user)


@router.post("/comune/{slug}/incontri/profilo/{token}/abbinamenti/{other_id}/{action}", dependencies=[FormCsrf])
def consent(slug: str, token: str, other_id: int, action: str, db: SessionDep) -> Response:
    """Propose/accept (``accetta``) or decline (``rifiuta``) the match of the token's profile with ``other_id``."""
    municipality = municipality_or_404(db, slug)
    profile = _profile_or_404(db, municipality, token)
    if action not in ("accetta", "rifiuta"):
        raise HTTPException(status_code=404, detail="azione sconosciuta")
    try:
        set_consent(db, profile, other_id, action == "accetta")
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="abbinamento non disponibile") from exc
    return RedirectResponse(f"{_manage_url(municipality, token)}#abbinamento-{other_id}", status_code=303)


# --------------------------------------------------------------------------------------------------------------------
# Officers


@router.get("/comune/{slug}/incontri/gestione", response_class=HTMLResponse)
def officer_page(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> Response:
    """Counts by kind, profiles' public data and the state of matches (no contact details)."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    states = match_states(db, municipality.id)
    context = _base(municipality, user) | {
        "counts": profile_counts(db, municipality.id),
        "profiles": list_profiles(db, municipality.id),
        "states": states,
        "status_counts": {s: sum(1 for m in states if m.status == s) for s in ("proposed", "consented", "declined")},
        "shown": _shown,
    }
    return render(request, "civic_matching_officer.html", context, user=user)


def _calls_context(db: SessionDep, municipality: MunicipalityInfo, user: Any) -> dict[str, Any]:
    return _base(municipality, user) | {
        "calls": list_calls(db, municipality.id),
        "answers": answer_counts(db, municipality.id),
        "today": today(),
        "problems": [],
        "values": {},
    }


@router.get("/comune/{slug}/incontri/avvisi", response_class=HTMLResponse)
def calls_admin(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> Response:
    """Officers' list of the calls for interest with the form to publish one."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    return render(request, "civic_matching_calls_admin.html", _calls_context(db, municipality, user), user=user)


@router.post("/comune/{slug}/incontri/avvisi", response_class=HTMLResponse, dependencies=[FormCsrf])
def calls_create(
    request: Request,
    slug: str,
    db: SessionDep,
    user: PageUserDep,
    title: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
    opens_on: Annotated[str, Form()] = "",
    closes_on: Annotated[str, Form()] = "",
    profile_kind: Annotated[str, Form()] = "",
    questions: Annotated[str, Form()] = "",
) -> Response:
    """Publish a call for interest (422 with the problems)."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    try:
        create_call(
            db,
            municipality.id,
            title=title,
            body=body,
            opens_on=opens_on,
            closes_on=closes_on,
            profile_kind=profile_kind,
            questions=questions,
            created_by=user.user_id,
        )
    except InputError as exc:
        db.rollback()
        context = _calls_context(db, municipality, user)
        context["problems"] = exc.problems
        context["values"] = {
            "title": title,
            "body": body,
            "opens_on": opens_on,
            "closes_on": closes_on,
            "profile_kind": profile_kind,
            "questions": questions,
        }
        return render(request, "civic_matching_calls_admin.html", context, user=user, status_code=422)
    return RedirectResponse(f"/comune/{municipality.slug}/incontri/avvisi", status_code=303)


def _call_or_404(db: SessionDep, municipality: MunicipalityInfo, call_id: int) -> CallInfo:
    try:
        return call_by_id(db, municipality.id, call_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="avviso non trovato") from exc


@router.get("/comune/{slug}/incontri/avvisi/{call_id}/risposte.csv")
def calls_export(slug: str, call_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """The answers to a call as CSV (officers)."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    call = _call_or_404(db, municipality, call_id)
    return Response(
        "\ufeff" + call_answers_csv(db, call),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="manifestazione-{call.id}-risposte.csv"'},
    )


# --------------------------------------------------------------------------------------------------------------------
# Calls for interest: public side


@router.get("/comune/{slug}/manifestazioni", response_class=HTMLResponse)
def calls_public(request: Request, slug: str, db: SessionDep, user: OptionalUserDep) -> Response:
    """The open calls for interest of the municipality."""
    municipality = municipality_or_404(db, slug)
    context = _base(municipality, user) | {"calls": list_calls(db, municipality.id, open_on=today())}
    return render(request, "civic_matching_calls.html", context, user=user)


def _call_context(
    db: SessionDep, municipality: MunicipalityInfo, user: Any, call: CallInfo, values: dict[str, str]
) -> dict[str, Any]:
    return _form_context(db, municipality, user, call.profile_kind, values) | {
        "call": call,
        "is_open": call.is_open(today()),
        "closed_message": None,
    }


@router.get("/comune/{slug}/manifestazioni/{call_id}", response_class=HTMLResponse)
def call_page(request: Request, slug: str, call_id: int, db: SessionDep, user: OptionalUserDep) -> Response:
    """A call for interest with its answer form (only while it is open)."""
    municipality = municipality_or_404(db, slug)
    call = _call_or_404(db, municipality, call_id)
    return render(request, "civic_matching_call.html", _call_context(db, municipality, user, call, {}), user=user)


@router.post("/comune/{slug}/manifestazioni/{call_id}", response_class=HTMLResponse, dependencies=[FormCsrf])
async def call_answer(request: Request, slug: str, call_id: int, db: SessionDep, user: OptionalUserDep) -> Response:
    """Answer a call: stores the answers and creates the profile, then goes to its manage page; a closed call
    refuses the answer (409), bad fields give the form back (422)."""
    municipality = municipality_or_404(db, slug)
    call = _call_or_404(db, municipality, call_id)
    values = await _form_values(request)
    context = _call_context(db, municipality, user, call, values)
    answers = {q: values.get(f"q{i}", "") for i, q in enumerate(call.questions)}
    try:
        check_open(call, today())
        kwargs = _profile_kwargs(values, call.profile_kind)
        _, token = answer_call(db, call, today(), answers=answers, profile=kwargs)
    except CallClosedError as exc:
        context["closed_message"] = str(exc)
        return render(request, "civic_matching_call.html", context, user=user, status_code=409)
    except InputError as exc:
        db.rollback()
        context["problems"] = exc.problems
        return render(request, "civic_matching_call.html", context, user=user, status_code=422)
    return RedirectResponse(_manage_url(municipality, token) + "?nuovo=1", status_code=303)
