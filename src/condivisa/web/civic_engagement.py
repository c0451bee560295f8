"""Pages of the municipality's training and engagement service: events, registrations, attendance, materials,
working tables, announcements, iCalendar feed.

Public (no login, no personal data of anybody else, no request to another site):

- ``GET /comune/{slug}/eventi``: upcoming published events with filters (kind, district) and current
  announcements;
- ``GET /comune/{slug}/eventi.ics``: the published events as iCalendar (Europe/Rome times);
- ``GET /comune/{slug}/eventi/{id}``: an event, its public materials, working-table organisations and public
  outcomes, and the registration form; ``POST /comune/{slug}/eventi/{id}/iscrizione`` registers (a place or the
  waiting list) and sends the person to the private link of the registration;
- ``GET /comune/{slug}/eventi/iscrizione/{token}`` shows the registration of a private link,
  ``POST .../{token}/annulla`` withdraws it (the first person waiting gets the place);
- ``GET /comune/{slug}/eventi/{id}/materiali/{material_id}``: a public material of a published event.

Officers of the municipality and platform admins (:func:`condivisa.web.civic.require_civic`) work under
``/comune/{slug}/eventi/gestione``: events (create, edit, publish), registrations and attendance, CSV export,
materials, working-table participants and outcomes, announcements, attendance statistics.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from condivisa.civic.engagement import (
    EVENT_KINDS,
    MAX_MATERIAL_BYTES,
    STAKEHOLDER_GROUPS,
    CalendarEvent,
    attendance_statistics,
    events_ical,
    local_input_value,
    parse_local_datetime,
)
from condivisa.errors import InputError, Problem
from condivisa.store import engagement as store
from condivisa.store.models import utc_now
from condivisa.store.municipalities import MunicipalityInfo
from condivisa.web.access import Principal
from condivisa.web.civic import can_run, municipality_or_404, require_civic
from condivisa.web.deps import FormCsrf, OptionalUserDep, PageUserDep, SessionDep, render

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {"confirmed": "Confermata", "waiting": "In lista d'attesa", "cancelled": "Annullata"}
FLASH_PREFIX = "engagement:"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _flash(request: Request, message: str, detail: str = "") -> None:
    """A notice for the next page: ``message`` is Italian source text (translated there), ``detail`` is shown as is."""
    request.session["flash"] = f"{FLASH_PREFIX}{message}|{detail}"


def _base(municipality: MunicipalityInfo) -> str:
    return f"/comune/{municipality.slug}/eventi"


def _officer(db: SessionDep, slug: str, user: Principal) -> MunicipalityInfo:
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    return municipality


def _common(municipality: MunicipalityInfo) -> dict[str, Any]:
    return {
        "municipality": municipality,
        "base": _base(municipality),
        "kinds": EVENT_KINDS,
        "groups": STAKEHOLDER_GROUPS,
        "status_labels": STATUS_LABELS,
        "max_material_mb": MAX_MATERIAL_BYTES // (1024 * 1024),
    }


# Form parsing -----------------------------------------------------------------------------------------------------


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _checked(form: FormData, name: str) -> bool:
    return _text(form, name) not in ("", "0", "false", "off")


def event_fields(form: FormData) -> store.EventFields:
    """The event described by an officer's form.

    Raises
    ------
    InputError
        Every field that is wrong, by name.
    """
    problems: list[Problem] = []
    instants: dict[str, dt.datetime] = {}
    for name, label in (("starts_at", "inizio"), ("ends_at", "fine")):
        try:
            instants[name] = parse_local_datetime(_text(form, name), label)
        except ValueError as exc:
            problems.append(Problem(str(exc), field=name))
    capacity: int | None = None
    raw = _text(form, "capacity")
    if raw:
        try:
            capacity = int(raw)
        except ValueError:
            problems.append(Problem(f"capienza non valida {raw!r}: un intero positivo, o vuoto", field="capacity"))
    if problems:
        raise InputError(problems)
    return store.EventFields(
        kind=_text(form, "kind"),
        title=_text(form, "title"),
        starts_at=instants["starts_at"],
        ends_at=instants["ends_at"],
        description=_text(form, "description"),
        audience=_text(form, "audience"),
        place=_text(form, "place"),
        capacity=capacity,
        registration_open=_checked(form, "registration_open"),
        published=_checked(form, "published"),
        district=_text(form, "district") or None,
    )


def _form_values(event: store.EventInfo | None) -> dict[str, Any]:
    if event is None:
        start = (utc_now() + dt.timedelta(days=14)).replace(minute=0, second=0, microsecond=0)
        return {
            "kind": "course_citizens",
            "title": "",
            "description": "",
            "audience": "",
            "place": "",
            "starts_at": local_input_value(start),
            "ends_at": local_input_value(start + dt.timedelta(hours=2)),
            "capacity": "",
            "registration_open": True,
            "published": False,
            "district": "",
        }
    return {
        "kind": event.kind,
        "title": event.title,
        "description": event.description,
        "audience": event.audience,
        "place": event.place,
        "starts_at": local_input_value(event.starts_at),
        "ends_at": local_input_value(event.ends_at),
        "capacity": "" if event.capacity is None else str(event.capacity),
        "registration_open": event.registration_open,
        "published": event.published,
        "district": event.district or "",
    }


def _posted_values(form: FormData) -> dict[str, Any]:
    names = ("kind", "title", "description", "audience", "place", "starts_at", "ends_at", "capacity", "district")
    values: dict[str, Any] = {n: _text(form, n) for n in names}
    values["registration_open"] = _checked(form, "registration_open")
    values["published"] = _checked(form, "published")
    return values


# Public pages -----------------------------------------------------------------------------------------------------


@router.get("/comune/{slug}/eventi", response_class=HTMLResponse)
def events_page(request: Request, slug: str, db: SessionDep, user: OptionalUserDep) -> Response:
    """Upcoming published events of the municipality (filters ``tipo`` and ``quartiere``) and its announcements."""
    municipality = municipality_or_404(db, slug)
    kind = request.query_params.get("tipo") or None
    district = request.query_params.get("quartiere") or None
    if kind is not None and kind not in EVENT_KINDS:
        kind = None
    now = utc_now()
    events = store.list_events(db, municipality.id, published_only=True, ending_after=now, kind=kind, district=district)
    by_kind = {k: [e for e in events if e.kind == k] for k in EVENT_KINDS}
    context = {
        **_common(municipality),
        "events": events,
        "by_kind": by_kind,
        "kind": kind,
        "district": district,
        "districts": store.list_districts(db, municipality.id),
        "announcements": store.list_announcements(db, municipality.id, current_at=now),
        "officer": can_run(user, municipality),
    }
    return render(request, "civic_engagement_list.html", context, user=user)


@router.get("/comune/{slug}/eventi.ics")
def events_ics(request: Request, slug: str, db: SessionDep) -> Response:
    """The municipality's published events as an iCalendar feed (no personal data)."""
    municipality = municipality_or_404(db, slug)
    root = str(request.base_url).rstrip("/")
    events = [
        CalendarEvent(
            id=e.id,
            kind=e.kind,
            title=e.title,
            description=e.description,
            place=e.place,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            url=f"{root}{_base(municipality)}/{e.id}",
            updated_at=e.updated_at,
        )
        for e in store.list_events(db, municipality.id, published_only=True)
    ]
    body = events_ical(municipality.name, municipality.slug, events)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="eventi-{municipality.slug}.ics"'},
    )


# Officers' pages (declared before /eventi/{event_id} so that "gestione" is not read as an id) ---------------------


def _manage_context(db: SessionDep, municipality: MunicipalityInfo) -> dict[str, Any]:
    return {
        **_common(municipality),
        "events": store.list_events(db, municipality.id),
        "announcements": store.list_announcements(db, municipality.id),
        "stats": attendance_statistics(store.attendance_records(db, municipality.id)),
        "form": _form_values(None),
        "announcement_form": {"title": "", "body": "", "published_from": local_input_value(utc_now()), "until": ""},
        "problems": None,
        "announcement_problems": None,
        "now": utc_now(),
    }


@router.get("/comune/{slug}/eventi/gestione", response_class=HTMLResponse)
def manage_page(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> Response:
    """Officers: every event (drafts too), the form for a new one, announcements, attendance statistics."""
    municipality = _officer(db, slug, user)
    return render(request, "civic_engagement_manage.html", _manage_context(db, municipality), user=user)


@router.post("/comune/{slug}/eventi/gestione", response_class=HTMLResponse, dependencies=[FormCsrf])
async def create_event(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> Response:
    """Officers: create an event; bad fields are shown with the form (422)."""
    municipality = _officer(db, slug, user)
    form = await request.form()
    try:
        event_id = store.create_event(db, municipality.id, event_fields(form))
    except InputError as exc:
        context = _manage_context(db, municipality)
        context.update(form=_posted_values(form), problems=exc.problems)
        return render(request, "civic_engagement_manage.html", context, user=user, status_code=422)
    _flash(request, "Evento creato")
    return _see_other(f"{_base(municipality)}/gestione/{event_id}")


@router.post("/comune/{slug}/eventi/gestione/avvisi", response_class=HTMLResponse, dependencies=[FormCsrf])
def create_announcement(
    request: Request,
    slug: str,
    db: SessionDep,
    user: PageUserDep,
    title: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
    published_from: Annotated[str, Form()] = "",
    published_until: Annotated[str, Form()] = "",
) -> Response:
    """Officers: publish an announcement (plain text) from an instant, optionally until another."""
    municipality = _officer(db, slug, user)
    try:
        problems: list[Problem] = []
        start = end = None
        try:
            start = parse_local_datetime(published_from, "pubblicato dal") if published_from.strip() else utc_now()
        except ValueError as exc:
            problems.append(Problem(str(exc), field="published_from"))
        try:
            end = parse_local_datetime(published_until, "pubblicato fino al") if published_until.strip() else None
        except ValueError as exc:
            problems.append(Problem(str(exc), field="published_until"))
        if problems or start is None:
            raise InputError(problems)
        store.create_announcement(
            db, municipality.id, title=title, body=body, published_from=start, published_until=end
        )
    except InputError as exc:
        context = _manage_context(db, municipality)
        context["announcement_form"] = {
            "title": title,
            "body": body,
            "published_from": published_from,
            "until": published_until,
        }
        context["announcement_problems"] = exc.problems
        return render(request, "civic_engagement_manage.html", context, user=user, status_code=422)
    _flash(request, "Avviso pubblicato")
    return _see_other(f"{_base(municipality)}/gestione#avvisi")


@router.post("/comune/{slug}/eventi/gestione/avvisi/{announcement_id}/elimina", dependencies=[FormCsrf])
def delete_announcement(
    request: Request, slug: str, announcement_id: int, db: SessionDep, user: PageUserDep
) -> Response:
    """Officers: remove an announcement."""
    municipality = _officer(db, slug, user)
    if not store.delete_announcement(db, municipality.id, announcement_id):
        raise HTTPException(status_code=404, detail="avviso non trovato")
    _flash(request, "Avviso eliminato")
    return _see_other(f"{_base(municipality)}/gestione#avvisi")


def _officer_event(
    db: SessionDep, slug: str, event_id: int, user: Principal
) -> tuple[MunicipalityInfo, store.EventInfo]:
    municipality = _officer(db, slug, user)
    event = store.get_event(db, municipality.id, event_id)
    if event is None:
        raise HTTPException(status_code=404, detail="evento non trovato")
    return municipality, event


def _event_manage_context(db: SessionDep, municipality: MunicipalityInfo, event: store.EventInfo) -> dict[str, Any]:
    return {
        **_common(municipality),
        "event": event,
        "form": _form_values(event),
        "registrations": store.list_registrations(db, municipality.id, event.id),
        "materials": store.list_materials(db, municipality.id, event.id, public_only=False),
        "participants": store.list_participants(db, municipality.id, event.id),
        "outcomes": store.list_outcomes(db, municipality.id, event.id),
        "problems": None,
        "section_problems": {},
        "today": dt.datetime.now(dt.UTC).date().isoformat(),
    }


def _event_manage_error(
    request: Request,
    db: SessionDep,
    user: Principal,
    municipality: MunicipalityInfo,
    event: store.EventInfo,
    section: str,
    problems: list[Problem],
) -> Response:
    context = _event_manage_context(db, municipality, event)
    context["section_problems"] = {section: problems}
    return render(request, "civic_engagement_manage_event.html", context, user=user, status_code=422)


@router.get("/comune/{slug}/eventi/gestione/{event_id}", response_class=HTMLResponse)
def manage_event_page(request: Request, slug: str, event_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """Officers: edit an event, its registrations and attendance, materials, participants and outcomes."""
    municipality, event = _officer_event(db, slug, event_id, user)
    return render(
        request, "civic_engagement_manage_event.html", _event_manage_context(db, municipality, event), user=user
    )


@router.post("/comune/{slug}/eventi/gestione/{event_id}", response_class=HTMLResponse, dependencies=[FormCsrf])
async def update_event(request: Request, slug: str, event_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """Officers: change an event (publish it, open registrations, change capacity...)."""
    municipality, event = _officer_event(db, slug, event_id, user)
    form = await request.form()
    try:
        store.update_event(db, municipality.id, event_id, event_fields(form))
    except InputError as exc:
        context = _event_manage_context(db, municipality, event)
        context.update(form=_posted_values(form), problems=exc.problems)
        return render(request, "civic_engagement_manage_event.html", context, user=user, status_code=422)
    _flash(request, "Evento aggiornato")
    return _see_other(f"{_base(municipality)}/gestione/{event_id}")


@router.post("/comune/{slug}/eventi/gestione/{event_id}/presenze", dependencies=[FormCsrf])
async def record_attendance(request: Request, slug: str, event_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """Officers: mark present the ticked confirmed registrations (the others absent)."""
    municipality, _event = _officer_event(db, slug, event_id, user)
    form = await request.form()
    present = {int(v) for v in form.getlist("present") if isinstance(v, str) and v.isdigit()}
    count = store.set_attendance(db, municipality.id, event_id, present)
    _flash(request, "Presenze registrate", str(count))
    return _see_other(f"{_base(municipality)}/gestione/{event_id}#iscrizioni")


@router.post("/comune/{slug}/eventi/gestione/{event_id}/iscrizioni/{registration_id}/annulla", dependencies=[FormCsrf])
def officer_cancel(
    request: Request, slug: str, event_id: int, registration_id: int, db: SessionDep, user: PageUserDep
) -> Response:
    """Officers: withdraw a registration (the first person waiting gets the place)."""
    municipality, _event = _officer_event(db, slug, event_id, user)
    if not store.cancel_registration(db, municipality.id, event_id, registration_id):
        raise HTTPException(status_code=404, detail="iscrizione non trovata")
    _flash(request, "Iscrizione annullata")
    return _see_other(f"{_base(municipality)}/gestione/{event_id}#iscrizioni")


@router.get("/comune/{slug}/eventi/gestione/{event_id}/iscrizioni.csv")
def registrations_csv(slug: str, event_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """Officers: registrations and attendance as CSV (UTF-8 with BOM, ``;``-separated, Italian local times)."""
    municipality, event = _officer_event(db, slug, event_id, user)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        ["nome", "email", "organizzazione", "gruppo", "stato", "posizione_attesa", "presente", "iscritto_il"]
    )
    for r in store.list_registrations(db, municipality.id, event.id):
        writer.writerow(
            [
                r.name,
                r.email,
                r.organisation or "",
                r.group_label,
                STATUS_LABELS[r.status],
                "" if r.waiting_position is None else r.waiting_position,
                "sì" if r.attended else "no",
                local_input_value(r.created_at).replace("T", " "),
            ]
        )
    filename = f"iscrizioni-{municipality.slug}-{event.id}.csv"
    return Response(
        buffer.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.post(
    "/comune/{slug}/eventi/gestione/{event_id}/materiali", response_class=HTMLResponse, dependencies=[FormCsrf]
)
async def upload_material(
    request: Request,
    slug: str,
    event_id: int,
    db: SessionDep,
    user: PageUserDep,
    file: UploadFile | None = None,
    title: Annotated[str, Form()] = "",
    public: Annotated[str, Form()] = "",
) -> Response:
    """Officers: upload a material (any file up to 10 MB), public or for officers only."""
    municipality, event = _officer_event(db, slug, event_id, user)
    if file is None or not file.filename:
        problems = [Problem("scegli un file da caricare", field="file")]
        return _event_manage_error(request, db, user, municipality, event, "materials", problems)
    data = await file.read(MAX_MATERIAL_BYTES + 1)
    try:
        store.add_material(
            db,
            municipality.id,
            event_id,
            filename=file.filename,
            content_type=file.content_type or "",
            data=data,
            public=public not in ("", "0", "off"),
            title=title,
        )
    except InputError as exc:
        return _event_manage_error(request, db, user, municipality, event, "materials", exc.problems)
    _flash(request, "Materiale caricato")
    return _see_other(f"{_base(municipality)}/gestione/{event_id}#materiali")


@router.post("/comune/{slug}/eventi/gestione/{event_id}/materiali/{material_id}/{action}", dependencies=[FormCsrf])
def change_material(
    request: Request, slug: str, event_id: int, material_id: int, action: str, db: SessionDep, user: PageUserDep
) -> Response:
    """Officers: publish (``pubblica``), hide (``nascondi``) or delete (``elimina``) a material."""
    municipality, _event = _officer_event(db, slug, event_id, user)
    if action == "elimina":
        done = store.delete_material(db, municipality.id, event_id, material_id)
    elif action in ("pubblica", "nascondi"):
        done = store.set_material_public(db, municipality.id, event_id, material_id, action == "pubblica")
    else:
        raise HTTPException(status_code=404, detail="azione sconosciuta")
    if not done:
        raise HTTPException(status_code=404, detail="materiale non trovato")
    _flash(request, "Materiale aggiornato")
    return _see_other(f"{_base(municipality)}/gestione/{event_id}#materiali")


@router.post(
    "/comune/{slug}/eventi/gestione/{event_id}/partecipanti", response_class=HTMLResponse, dependencies=[FormCsrf]
)
def add_participant(
    request: Request,
    slug: str,
    event_id: int,
    db: SessionDep,
    user: PageUserDep,
    organisation: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    stakeholder_group: Annotated[str, Form()] = "",
) -> Response:
    """Officers: add an organisation to a working table."""
    municipality, event = _officer_event(db, slug, event_id, user)
    try:
        store.add_participant(
            db, municipality.id, event_id, organisation=organisation, role=role, stakeholder_group=stakeholder_group
        )
    except InputError as exc:
        return _event_manage_error(request, db, user, municipality, event, "participants", exc.problems)
    _flash(request, "Partecipante aggiunto")
    return _see_other(f"{_base(municipality)}/gestione/{event_id}#partecipanti")


@router.post("/comune/{slug}/eventi/gestione/{event_id}/partecipanti/{participant_id}/elimina", dependencies=[FormCsrf])
def remove_participant(
    request: Request, slug: str, event_id: int, participant_id: int, db: SessionDep, user: PageUserDep
) -> Response:
    """Officers: remove an organisation from a working table."""
    municipality, _event = _officer_event(db, slug, event_id, user)
    if not store.remove_participant(db, municipality.id, event_id, participant_id):
        raise HTTPException(status_code=404, detail="partecipante non trovato")
    _flash(request, "Partecipante rimosso")
    return _see_other(f"{_base(municipality)}/gestione/{event_id}#partecipanti")


@router.post("/comune/{slug}/eventi/gestione/{event_id}/esiti", response_class=HTMLResponse, dependencies=[FormCsrf])
def add_outcome(
    request: Request,
    slug: str,
    event_id: int,
    db: SessionDep,
    user: PageUserDep,
    meeting_date: Annotated[str, Form()] = "",
    public_summary: Annotated[str, Form()] = "",
    internal_notes: Annotated[str, Form()] = "",
) -> Response:
    """Officers: record what a meeting decided (public summary, internal notes)."""
    municipality, event = _officer_event(db, slug, event_id, user)
    try:
        try:
            day = dt.date.fromisoformat(meeting_date.strip())
        except ValueError as exc:
            raise InputError.one(
                f"data dell'incontro non valida {meeting_date!r} (AAAA-MM-GG)", field="meeting_date"
            ) from exc
        store.add_outcome(
            db,
            municipality.id,
            event_id,
            meeting_date=day,
            public_summary=public_summary,
            internal_notes=internal_notes,
        )
    except InputError as exc:
        return _event_manage_error(request, db, user, municipality, event, "outcomes", exc.problems)
    _flash(request, "Esito registrato")
    return _see_other(f"{_base(municipality)}/gestione/{event_id}#esiti")


# Private link of a registration -----------------------------------------------------------------------------------


def _by_token(db: SessionDep, slug: str, token: str) -> tuple[MunicipalityInfo, store.RegistrationInfo]:
    municipality = municipality_or_404(db, slug)
    found = store.registration_by_token(db, token) if 16 <= len(token) <= 100 else None
    if found is None or found[1] != municipality.id:
        raise HTTPException(status_code=404, detail="iscrizione non trovata")
    return municipality, found[0]


@router.get("/comune/{slug}/eventi/iscrizione/{token}", response_class=HTMLResponse)
def registration_page(request: Request, slug: str, token: str, db: SessionDep, user: OptionalUserDep) -> Response:
    """The registration of a private link: event, status, place in the waiting list, cancel button."""
    municipality, registration = _by_token(db, slug, token)
    event = store.get_event(db, municipality.id, registration.event_id)
    context = {
        **_common(municipality),
        "registration": registration,
        "event": event,
        "token": token,
        "new": request.query_params.get("nuova") == "1",
        "link": f"{str(request.base_url).rstrip('/')}{_base(municipality)}/iscrizione/{token}",
    }
    response = render(request, "civic_engagement_registration.html", context, user=user)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.post("/comune/{slug}/eventi/iscrizione/{token}/annulla", dependencies=[FormCsrf])
def cancel_registration(request: Request, slug: str, token: str, db: SessionDep) -> Response:
    """Withdraw the registration of a private link."""
    municipality, _registration = _by_token(db, slug, token)
    store.cancel_by_token(db, token)
    return _see_other(f"{_base(municipality)}/iscrizione/{token}")


# Public event page (after the fixed paths above) ------------------------------------------------------------------


def _public_event(
    db: SessionDep, slug: str, event_id: int, user: Principal | None
) -> tuple[MunicipalityInfo, store.EventInfo, bool]:
    municipality = municipality_or_404(db, slug)
    officer = can_run(user, municipality)
    event = store.get_event(db, municipality.id, event_id)
    if event is None or not (event.published or officer):
        raise HTTPException(status_code=404, detail="evento non trovato")
    return municipality, event, officer


def _event_context(
    db: SessionDep, municipality: MunicipalityInfo, event: store.EventInfo, officer: bool
) -> dict[str, Any]:
    return {
        **_common(municipality),
        "event": event,
        "officer": officer,
        "open": event.accepts_registrations(),
        "materials": store.list_materials(db, municipality.id, event.id, public_only=True),
        "participants": store.list_participants(db, municipality.id, event.id) if event.kind == "working_table" else [],
        "outcomes": [o for o in store.list_outcomes(db, municipality.id, event.id) if o.public_summary],
        "form": {"name": "", "email": "", "organisation": "", "stakeholder_group": ""},
        "problems": None,
    }


@router.get("/comune/{slug}/eventi/{event_id}", response_class=HTMLResponse)
def event_page(request: Request, slug: str, event_id: int, db: SessionDep, user: OptionalUserDep) -> Response:
    """A published event (officers also see drafts): details, places, materials, registration form."""
    municipality, event, officer = _public_event(db, slug, event_id, user)
    return render(request, "civic_engagement_event.html", _event_context(db, municipality, event, officer), user=user)


@router.post("/comune/{slug}/eventi/{event_id}/iscrizione", response_class=HTMLResponse, dependencies=[FormCsrf])
def register(
    request: Request,
    slug: str,
    event_id: int,
    db: SessionDep,
    user: OptionalUserDep,
    name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form()] = "",
    stakeholder_group: Annotated[str, Form()] = "",
    privacy: Annotated[str, Form()] = "",
) -> Response:
    """Register to an event; the person lands on the private link of the registration (problems: 422)."""
    municipality, event, officer = _public_event(db, slug, event_id, user)
    if not event.published:
        raise HTTPException(status_code=404, detail="evento non trovato")
    try:
        _registration, token = store.register(
            db,
            municipality.id,
            event_id,
            name=name,
            email=email,
            organisation=organisation,
            stakeholder_group=stakeholder_group,
            consent=privacy not in ("", "0", "off"),
        )
    except InputError as exc:
        context = _event_context(db, municipality, event, officer)
        context["form"] = {
            "name": name,
            "email": email,
            "organisation": organisation,
            "stakeholder_group": stakeholder_group,
        }
        context["problems"] = exc.problems
        return render(request, "civic_engagement_event.html", context, user=user, status_code=422)
    return _see_other(f"{_base(municipality)}/iscrizione/{token}?nuova=1")


@router.get("/comune/{slug}/eventi/{event_id}/materiali/{material_id}")
def download_material(slug: str, event_id: int, material_id: int, db: SessionDep, user: OptionalUserDep) -> Response:
    """A material: public ones of published events for everybody, any of them for officers."""
    municipality, event, officer = _public_event(db, slug, event_id, user)
    found = store.material_with_data(db, municipality.id, event.id, material_id)
    if found is None or not (officer or (event.published and found[0].public)):
        raise HTTPException(status_code=404, detail="materiale non trovato")
    info, data = found
    ascii_name = info.filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(info.filename)}"
    return Response(
        data,
        media_type=info.content_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )
