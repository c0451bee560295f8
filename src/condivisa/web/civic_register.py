"""Pages of the municipality's register of local energy communities, its map, open data and quality label.

Public (no login): the register with filters and map ``/comune/{slug}/registro``, an entry
``/comune/{slug}/registro/{entry_id}``, the open data ``registro.csv`` and ``registro.geojson``, the registration
form ``/registro/iscrizione`` and the private manage page ``/registro/gestisci/{token}`` (whoever holds the link
edits that one entry and applies for the label). Officers of the municipality and platform admins
(:func:`condivisa.web.civic.require_civic`): ``/registro/gestione`` (review, add, edit), ``/registro/criteri``
(label guidelines) and ``/registro/etichetta/{application_id}`` (label review, award or refusal).

Public pages and exports show only published entries and only what a community chose to publish; they make no
request to another host (Leaflet is served locally, no tile layer).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from condivisa.civic.label import label_state, parse_value
from condivisa.civic.register import (
    CONFIGURATIONS,
    CSV_COLUMNS,
    PUBLICATION_LABELS,
    STATUS_LABELS,
    STATUSES,
    PublicEntry,
    RegisterFilter,
    entry_form,
    to_csv,
    to_geojson,
    validate_entry,
)
from condivisa.errors import InputError, Problem
from condivisa.store.models import CommunityRow
from condivisa.store.models_register import LabelApplicationRow, RegisterEntryRow
from condivisa.store.municipalities import MunicipalityInfo
from condivisa.store.register import (
    add_office_entry,
    applications_of_entry,
    award_label,
    criterion_of,
    current_label,
    entry_by_token,
    entry_data,
    evaluate_evidence,
    get_application,
    get_entry,
    label_settings,
    list_applications,
    list_criteria,
    list_entries,
    pending_application,
    public_entries,
    public_entry,
    publish_entry,
    refuse_label,
    register_entry,
    reject_entry,
    save_criterion,
    set_label_settings,
    submit_application,
    update_entry,
)
from condivisa.store.repository import NotFoundError
from condivisa.web.access import Principal
from condivisa.web.civic import can_run, municipality_or_404, require_civic
from condivisa.web.deps import FormCsrf, OptionalUserDep, PageUserDep, SessionDep, render

router = APIRouter(include_in_schema=False)

LOCAL_TZ = ZoneInfo("Europe/Rome")
ITALY_BOUNDS = [[36.5, 6.6], [47.1, 18.6]]
"""South-west and north-east corners of Italy [lat, lon], when a municipality has no coordinates."""
BOX_HALF_DEG = (0.04, 0.06)
"""Half height and width [°] of the outline drawn around a municipality's centre (lat, lon)."""


def today() -> dt.date:
    """Today in Italy (labels expire on Italian calendar days)."""
    return dt.datetime.now(LOCAL_TZ).date()


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as plain strings (files ignored)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


def _officer(db: SessionDep, slug: str, user: Principal) -> MunicipalityInfo:
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    return municipality


def _entry_or_404(db: SessionDep, municipality: MunicipalityInfo, entry_id: int) -> RegisterEntryRow:
    try:
        return get_entry(db, municipality.id, entry_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="voce non trovata") from exc


def _token_entry(db: SessionDep, municipality: MunicipalityInfo, token: str) -> RegisterEntryRow:
    row = entry_by_token(db, municipality.id, token)
    if row is None:
        raise HTTPException(status_code=404, detail="link di gestione non valido")
    return row


def _common(municipality: MunicipalityInfo) -> dict[str, Any]:
    return {
        "municipality": municipality,
        "status_labels": STATUS_LABELS,
        "publication_labels": PUBLICATION_LABELS,
        "statuses": STATUSES,
        "configurations": CONFIGURATIONS,
        "today": today(),
        "label_state": label_state,
    }


def _map_data(municipality: MunicipalityInfo, entries: list[PublicEntry], day: dt.date) -> dict[str, Any]:
    collection = to_geojson(entries, day)
    features = [f for f in collection["features"] if f["geometry"] is not None]
    box = None
    if municipality.latitude is not None and municipality.longitude is not None:
        dlat, dlon = BOX_HALF_DEG
        lat, lon = municipality.latitude, municipality.longitude
        box = [[lat - dlat, lon - dlon], [lat + dlat, lon + dlon]]
    return {"features": features, "box": box, "italy": ITALY_BOUNDS, "slug": municipality.slug}


# Public pages ---------------------------------------------------------------------------------------------------


@router.get("/comune/{slug}/registro", response_class=HTMLResponse)
def register_page(request: Request, slug: str, db: SessionDep, user: OptionalUserDep) -> HTMLResponse:
    """The public register: filters (query string), map and list of the published entries."""
    municipality = municipality_or_404(db, slug)
    flt = RegisterFilter.from_query(dict(request.query_params))
    day = today()
    everything = public_entries(db, municipality.id)
    shown = flt.apply(everything, day)
    context = {
        **_common(municipality),
        "filter": flt,
        "entries": shown,
        "total": len(everything),
        "map_data": _map_data(municipality, shown, day),
        "officer": can_run(user, municipality),
        "query": request.url.query,
    }
    return render(request, "civic_register_list.html", context, user=user)


def _export_entries(request: Request, db: SessionDep, slug: str) -> tuple[MunicipalityInfo, list[PublicEntry]]:
    municipality = municipality_or_404(db, slug)
    flt = RegisterFilter.from_query(dict(request.query_params))
    return municipality, flt.apply(public_entries(db, municipality.id), today())


@router.get("/comune/{slug}/registro.csv")
def register_csv(request: Request, slug: str, db: SessionDep) -> Response:
    """Open data: the published entries as CSV (comma, UTF-8; columns in ``CSV_COLUMNS``; same filters)."""
    municipality, entries = _export_entries(request, db, slug)
    return Response(
        to_csv(entries, today()),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="registro-{municipality.slug}.csv"',
            "X-Columns": ",".join(CSV_COLUMNS),
        },
    )


@router.get("/comune/{slug}/registro.geojson")
def register_geojson(request: Request, slug: str, db: SessionDep) -> Response:
    """Open data: the published entries as a GeoJSON FeatureCollection (same filters)."""
    municipality, entries = _export_entries(request, db, slug)
    body = json.dumps(to_geojson(entries, today(), municipality=municipality.name), ensure_ascii=False)
    return Response(
        body,
        media_type="application/geo+json",
        headers={"Content-Disposition": f'inline; filename="registro-{municipality.slug}.geojson"'},
    )


def _form_page(
    request: Request,
    municipality: MunicipalityInfo,
    user: Principal | None,
    *,
    mode: str,
    values: dict[str, str],
    action: str,
    problems: list[Problem] | None = None,
    status_code: int = 200,
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    context = {
        **_common(municipality),
        "mode": mode,
        "values": values,
        "action": action,
        "problems": problems or [],
        "bad_fields": {(p.field or "").split(" ")[0] for p in problems or []},
        **(extra or {}),
    }
    return render(request, "civic_register_form.html", context, user=user, status_code=status_code)


@router.get("/comune/{slug}/registro/iscrizione", response_class=HTMLResponse)
def registration_form(request: Request, slug: str, db: SessionDep, user: OptionalUserDep) -> HTMLResponse:
    """The public registration form of a community."""
    municipality = municipality_or_404(db, slug)
    action = f"/comune/{slug}/registro/iscrizione"
    values = {"configuration": "CER", "status": "promoting"}
    return _form_page(request, municipality, user, mode="register", values=values, action=action)


@router.post("/comune/{slug}/registro/iscrizione", response_class=HTMLResponse, dependencies=[FormCsrf])
def registration_submit(
    request: Request, slug: str, db: SessionDep, user: OptionalUserDep, fields: FormFields
) -> Response:
    """Register a community: it waits for review; the private manage link is shown next (422 on bad fields)."""
    municipality = municipality_or_404(db, slug)
    try:
        data = validate_entry(fields)
    except InputError as exc:
        action = f"/comune/{slug}/registro/iscrizione"
        return _form_page(
            request,
            municipality,
            user,
            mode="register",
            values=fields,
            action=action,
            problems=exc.problems,
            status_code=422,
        )
    _, token = register_entry(db, municipality.id, data)
    request.session["flash"] = "registered"
    return RedirectResponse(f"/comune/{slug}/registro/gestisci/{token}", status_code=303)


def _manage_context(
    db: SessionDep, municipality: MunicipalityInfo, row: RegisterEntryRow, token: str
) -> dict[str, Any]:
    criteria = list_criteria(db, municipality.id, active_only=True)
    label = current_label(db, row.id)
    return {
        **_common(municipality),
        "row": row,
        "token": token,
        "base": f"/comune/{municipality.slug}/registro/gestisci/{token}",
        "criteria": criteria,
        "label": label,
        "pending": pending_application(db, row.id),
        "applications": applications_of_entry(db, row.id),
        "settings": label_settings(db, municipality.id),
    }


@router.get("/comune/{slug}/registro/gestisci/{token}", response_class=HTMLResponse)
def manage_page(request: Request, slug: str, token: str, db: SessionDep, user: OptionalUserDep) -> HTMLResponse:
    """The private page of one entry (whoever holds the link): state, edit form, label application."""
    municipality = municipality_or_404(db, slug)
    row = _token_entry(db, municipality, token)
    context = _manage_context(db, municipality, row, token)
    context.update(values=entry_form(entry_data(row)), problems=[], bad_fields=set(), evidence_problems=[])
    context["just_registered"] = request.session.pop("flash", None) == "registered"
    return render(request, "civic_register_manage.html", context, user=user)


@router.post("/comune/{slug}/registro/gestisci/{token}", response_class=HTMLResponse, dependencies=[FormCsrf])
def manage_submit(
    request: Request, slug: str, token: str, db: SessionDep, user: OptionalUserDep, fields: FormFields
) -> Response:
    """Change the entry of this link (back to review if it was published or rejected)."""
    municipality = municipality_or_404(db, slug)
    row = _token_entry(db, municipality, token)
    try:
        data = validate_entry(fields)
    except InputError as exc:
        context = _manage_context(db, municipality, row, token)
        context.update(
            values=fields,
            problems=exc.problems,
            bad_fields={(p.field or "").split(" ")[0] for p in exc.problems},
            evidence_problems=[],
            just_registered=False,
        )
        return render(request, "civic_register_manage.html", context, user=user, status_code=422)
    update_entry(db, row, data, by_office=False)
    return RedirectResponse(f"/comune/{slug}/registro/gestisci/{token}#stato", status_code=303)


@router.post("/comune/{slug}/registro/gestisci/{token}/etichetta", response_class=HTMLResponse, dependencies=[FormCsrf])
def apply_for_label(
    request: Request, slug: str, token: str, db: SessionDep, user: OptionalUserDep, fields: FormFields
) -> Response:
    """Apply for the label with one value and one note (text or URL) per active criterion (422 on bad values)."""
    municipality = municipality_or_404(db, slug)
    row = _token_entry(db, municipality, token)
    problems: list[Problem] = []
    evidence: dict[str, Any] = {}
    for c in list_criteria(db, municipality.id, active_only=True):
        raw = fields.get(f"value_{c.code}", "")
        note = fields.get(f"note_{c.code}", "").strip()[:1000]
        try:
            value = parse_value(c.kind, raw)
        except ValueError as exc:
            problems.append(Problem(str(exc), field=f"value_{c.code}"))
            continue
        evidence[c.code] = {"value": value, "note": note}
    if not problems:
        try:
            submit_application(db, row, evidence)
        except ValueError as exc:
            problems.append(Problem(str(exc), field="etichetta"))
    if problems:
        context = _manage_context(db, municipality, row, token)
        context.update(
            values=entry_form(entry_data(row)),
            problems=[],
            bad_fields=set(),
            evidence_problems=problems,
            evidence_values=fields,
            just_registered=False,
        )
        return render(request, "civic_register_manage.html", context, user=user, status_code=422)
    return RedirectResponse(f"/comune/{slug}/registro/gestisci/{token}#etichetta", status_code=303)


# Officer pages --------------------------------------------------------------------------------------------------


@router.get("/comune/{slug}/registro/gestione", response_class=HTMLResponse)
def office_page(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """The office's desk: submissions to review, every entry, label applications waiting."""
    municipality = _officer(db, slug, user)
    rows = list_entries(db, municipality.id)
    entries_by_id = {r.id: r for r in rows}
    context = {
        **_common(municipality),
        "submitted": [r for r in rows if r.publication == "submitted"],
        "rows": rows,
        "applications": list_applications(db, municipality.id, "submitted"),
        "decided": list_applications(db, municipality.id)[:20],
        "entries_by_id": entries_by_id,
        "labels": {r.id: current_label(db, r.id) for r in rows},
    }
    return render(request, "civic_register_office.html", context, user=user)


@router.post("/comune/{slug}/registro/gestione/{entry_id:int}/pubblica", dependencies=[FormCsrf])
def office_publish(slug: str, entry_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """Publish an entry."""
    municipality = _officer(db, slug, user)
    publish_entry(db, _entry_or_404(db, municipality, entry_id), user_id=user.user_id)
    return RedirectResponse(f"/comune/{slug}/registro/gestione", status_code=303)


@router.post(
    "/comune/{slug}/registro/gestione/{entry_id:int}/rifiuta", response_class=HTMLResponse, dependencies=[FormCsrf]
)
def office_reject(
    request: Request, slug: str, entry_id: int, db: SessionDep, user: PageUserDep, fields: FormFields
) -> Response:
    """Reject an entry with a reason (422 without one)."""
    municipality = _officer(db, slug, user)
    row = _entry_or_404(db, municipality, entry_id)
    try:
        reject_entry(db, row, user_id=user.user_id, reason=fields.get("reason", ""))
    except ValueError as exc:
        return render(
            request,
            "civic_register_office.html",
            {
                **_common(municipality),
                "submitted": [r for r in list_entries(db, municipality.id, "submitted")],
                "rows": list_entries(db, municipality.id),
                "applications": list_applications(db, municipality.id, "submitted"),
                "decided": [],
                "entries_by_id": {r.id: r for r in list_entries(db, municipality.id)},
                "labels": {},
                "problems": [Problem(str(exc), field=f"reason (voce {entry_id})")],
            },
            user=user,
            status_code=422,
        )
    return RedirectResponse(f"/comune/{slug}/registro/gestione", status_code=303)


def _communities_of(db: SessionDep, municipality: MunicipalityInfo) -> list[tuple[int, str]]:
    rows = db.execute(
        select(CommunityRow.id, CommunityRow.name)
        .where(CommunityRow.municipality == municipality.name)
        .order_by(CommunityRow.name)
    ).all()
    return [(int(i), str(n)) for i, n in rows]


def _linked_community(db: SessionDep, municipality: MunicipalityInfo, raw: str) -> int | None:
    if not raw.strip():
        return None
    ids = {i for i, _ in _communities_of(db, municipality)}
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value not in ids:
        raise InputError.one("comunità non trovata tra quelle del comune", field="community_id")
    return value


@router.get("/comune/{slug}/registro/gestione/nuova", response_class=HTMLResponse)
def office_new_form(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """The office adds an entry (published at once)."""
    municipality = _officer(db, slug, user)
    return _form_page(
        request,
        municipality,
        user,
        mode="office",
        values={"configuration": "CER", "status": "constituted"},
        action=f"/comune/{slug}/registro/gestione/nuova",
        extra={"communities": _communities_of(db, municipality)},
    )


@router.post("/comune/{slug}/registro/gestione/nuova", response_class=HTMLResponse, dependencies=[FormCsrf])
def office_new_submit(request: Request, slug: str, db: SessionDep, user: PageUserDep, fields: FormFields) -> Response:
    """Store the office's entry (422 on bad fields)."""
    municipality = _officer(db, slug, user)
    try:
        community_id = _linked_community(db, municipality, fields.get("community_id", ""))
        data = validate_entry(fields)
    except InputError as exc:
        return _form_page(
            request,
            municipality,
            user,
            mode="office",
            values=fields,
            problems=exc.problems,
            status_code=422,
            action=f"/comune/{slug}/registro/gestione/nuova",
            extra={"communities": _communities_of(db, municipality)},
        )
    entry_id = add_office_entry(db, municipality.id, data, user_id=user.user_id, community_id=community_id)
    return RedirectResponse(f"/comune/{slug}/registro/{entry_id}", status_code=303)


@router.get("/comune/{slug}/registro/gestione/{entry_id:int}/modifica", response_class=HTMLResponse)
def office_edit_form(request: Request, slug: str, entry_id: int, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """The office edits an entry (its publication state is kept)."""
    municipality = _officer(db, slug, user)
    row = _entry_or_404(db, municipality, entry_id)
    values = entry_form(entry_data(row))
    values["community_id"] = "" if row.community_id is None else str(row.community_id)
    return _form_page(
        request,
        municipality,
        user,
        mode="office_edit",
        values=values,
        action=f"/comune/{slug}/registro/gestione/{entry_id}/modifica",
        extra={"communities": _communities_of(db, municipality), "row": row},
    )


@router.post(
    "/comune/{slug}/registro/gestione/{entry_id:int}/modifica", response_class=HTMLResponse, dependencies=[FormCsrf]
)
def office_edit_submit(
    request: Request, slug: str, entry_id: int, db: SessionDep, user: PageUserDep, fields: FormFields
) -> Response:
    """Store the office's changes (422 on bad fields)."""
    municipality = _officer(db, slug, user)
    row = _entry_or_404(db, municipality, entry_id)
    try:
        community_id = _linked_community(db, municipality, fields.get("community_id", ""))
        data = validate_entry(fields)
    except InputError as exc:
        return _form_page(
            request,
            municipality,
            user,
            mode="office_edit",
            values=fields,
            problems=exc.problems,
            status_code=422,
            action=f"/comune/{slug}/registro/gestione/{entry_id}/modifica",
            extra={"communities": _communities_of(db, municipality), "row": row},
        )
    row.community_id = community_id
    update_entry(db, row, data, by_office=True)
    return RedirectResponse(f"/comune/{slug}/registro/{entry_id}", status_code=303)


def _criteria_page(
    request: Request,
    db: SessionDep,
    municipality: MunicipalityInfo,
    user: Principal,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        **_common(municipality),
        "criteria": list_criteria(db, municipality.id),
        "settings": label_settings(db, municipality.id),
        "problems": problems or [],
    }
    return render(request, "civic_register_criteria.html", context, user=user, status_code=status_code)


@router.get("/comune/{slug}/registro/criteri", response_class=HTMLResponse)
def criteria_page(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """The label guidelines of the municipality: criteria and settings."""
    municipality = _officer(db, slug, user)
    return _criteria_page(request, db, municipality, user)


def _number(raw: str, field: str) -> float:
    try:
        return float(raw.replace(",", ".").strip())
    except ValueError as exc:
        raise InputError.one(f"{raw!r} non è un numero", field=field) from exc


@router.post("/comune/{slug}/registro/criteri", response_class=HTMLResponse, dependencies=[FormCsrf])
def criteria_save(request: Request, slug: str, db: SessionDep, user: PageUserDep, fields: FormFields) -> Response:
    """Add a criterion (``criterion_id`` empty) or change one (422 on bad fields)."""
    municipality = _officer(db, slug, user)
    raw_id = fields.get("criterion_id", "").strip()
    try:
        kind = fields.get("kind", "")
        threshold = (
            None
            if kind == "boolean" or not fields.get("threshold", "").strip()
            else _number(fields.get("threshold", ""), "threshold")
        )
        weight = _number(fields.get("weight", "1"), "weight")
        try:
            save_criterion(
                db,
                municipality.id,
                criterion_id=int(raw_id) if raw_id else None,
                code=fields.get("code", ""),
                title=fields.get("title", ""),
                description=fields.get("description", ""),
                kind=kind,
                threshold=threshold,
                required=fields.get("required") == "on",
                weight=weight,
                active=fields.get("active") == "on",
                source=fields.get("source", ""),
                proposal=fields.get("proposal") == "on",
            )
        except ValueError as exc:
            field, _, message = str(exc).partition(": ")
            raise InputError.one(message or str(exc), field=field if message else "criterio") from exc
        except NotFoundError as exc:
            raise HTTPException(status_code=404, detail="criterio non trovato") from exc
    except InputError as exc:
        return _criteria_page(request, db, municipality, user, exc.problems, 422)
    return RedirectResponse(f"/comune/{slug}/registro/criteri", status_code=303)


@router.post("/comune/{slug}/registro/criteri/impostazioni", response_class=HTMLResponse, dependencies=[FormCsrf])
def settings_save(request: Request, slug: str, db: SessionDep, user: PageUserDep, fields: FormFields) -> Response:
    """Change the minimum score [%] and the validity [years] of the label (422 on bad values)."""
    municipality = _officer(db, slug, user)
    try:
        score = _number(fields.get("min_score_pct", ""), "min_score_pct") / 100
        years_raw = fields.get("validity_years", "").strip()
        if not years_raw.isdigit():
            raise InputError.one(f"{years_raw!r} non è un numero intero di anni", field="validity_years")
        try:
            set_label_settings(db, municipality.id, min_score=score, validity_years=int(years_raw))
        except ValueError as exc:
            raise InputError.one(str(exc), field="impostazioni") from exc
    except InputError as exc:
        return _criteria_page(request, db, municipality, user, exc.problems, 422)
    return RedirectResponse(f"/comune/{slug}/registro/criteri", status_code=303)


def _review_page(
    request: Request,
    db: SessionDep,
    municipality: MunicipalityInfo,
    user: Principal,
    application: LabelApplicationRow,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    entry = get_entry(db, municipality.id, application.entry_id)
    evaluation = evaluate_evidence(db, municipality.id, application.evidence)
    criteria = {c.code: criterion_of(c) for c in list_criteria(db, municipality.id)}
    context = {
        **_common(municipality),
        "application": application,
        "entry": entry,
        "evaluation": evaluation,
        "criteria": criteria,
        "settings": label_settings(db, municipality.id),
        "problems": problems or [],
    }
    return render(request, "civic_register_review.html", context, user=user, status_code=status_code)


def _application_or_404(db: SessionDep, municipality: MunicipalityInfo, application_id: int) -> LabelApplicationRow:
    try:
        return get_application(db, municipality.id, application_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="domanda non trovata") from exc


@router.get("/comune/{slug}/registro/etichetta/{application_id:int}", response_class=HTMLResponse)
def review_page(request: Request, slug: str, application_id: int, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """The office reviews a label application: evidence, automatic evaluation, own decision per criterion."""
    municipality = _officer(db, slug, user)
    return _review_page(request, db, municipality, user, _application_or_404(db, municipality, application_id))


@router.post(
    "/comune/{slug}/registro/etichetta/{application_id:int}", response_class=HTMLResponse, dependencies=[FormCsrf]
)
def review_decide(
    request: Request, slug: str, application_id: int, db: SessionDep, user: PageUserDep, fields: FormFields
) -> Response:
    """Award (``decision=award``, date) or refuse (``decision=refuse``, reason) with the officer's per-criterion
    decisions and notes (422 on bad input)."""
    municipality = _officer(db, slug, user)
    application = _application_or_404(db, municipality, application_id)
    review = {
        c.code: {"met": fields.get(f"met_{c.code}") == "yes", "note": fields.get(f"note_{c.code}", "").strip()[:1000]}
        for c in list_criteria(db, municipality.id, active_only=True)
    }
    decision = fields.get("decision", "")
    try:
        if decision == "award":
            try:
                awarded_on = dt.date.fromisoformat(fields.get("awarded_on", "").strip())
            except ValueError as exc:
                raise InputError.one("data non valida (AAAA-MM-GG)", field="awarded_on") from exc
            award_label(
                db,
                application,
                user_id=user.user_id,
                awarded_on=awarded_on,
                review=review,
                note=fields.get("note", ""),
            )
        elif decision == "refuse":
            refuse_label(db, application, user_id=user.user_id, reason=fields.get("reason", ""), review=review)
        else:
            raise InputError.one("scegliere se assegnare o rifiutare l'etichetta", field="decision")
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        problem = Problem(message, field="reason") if message and field == "motivo" else Problem(str(exc))
        return _review_page(request, db, municipality, user, application, [problem], 422)
    except InputError as exc:
        return _review_page(request, db, municipality, user, application, exc.problems, 422)
    return RedirectResponse(f"/comune/{slug}/registro/gestione#etichette", status_code=303)


# Entry detail (last: its path would match the fixed ones above) -------------------------------------------------


@router.get("/comune/{slug}/registro/{entry_id:int}", response_class=HTMLResponse)
def entry_page(request: Request, slug: str, entry_id: int, db: SessionDep, user: OptionalUserDep) -> HTMLResponse:
    """One entry of the register: published ones for everybody, any one for the municipality's officers."""
    municipality = municipality_or_404(db, slug)
    row = _entry_or_404(db, municipality, entry_id)
    officer = can_run(user, municipality)
    if row.publication != "published" and not officer:
        raise HTTPException(status_code=404, detail="voce non trovata")
    entry = public_entry(db, row)
    day = today()
    context = {
        **_common(municipality),
        "entry": entry,
        "row": row,
        "officer": officer,
        "regulation_text": row.regulation_text,
        "map_data": _map_data(municipality, [entry], day),
    }
    return render(request, "civic_register_entry.html", context, user=user)
