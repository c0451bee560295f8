"""Pages of the municipality's digital help desk ("sportello digitale").

Public (no login): the guided questionnaire ``/comune/{slug}/sportello`` (one form, works without JavaScript), its
result with the recommended form, the reasons and a first estimate, the request to be contacted (with an optional
appointment slot at a district office) and the follow-up page ``/comune/{slug}/sportello/richiesta/{token}``, which
shows the status and the adviser's answer and no personal data.

Officers of the municipality and platform admins (:func:`condivisa.web.civic.require_civic`): the tickets
(``/comune/{slug}/sportello/richieste``: list with filters, detail, assign, answer, close) and the district offices
with their appointment slots (``/comune/{slug}/sportello/uffici``).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from condivisa.civic import desk
from condivisa.errors import InputError, Problem
from condivisa.production.pvgis import haversine_km
from condivisa.production.weather import WeatherYear, typical_year
from condivisa.rules.rulebook import load_rulebook
from condivisa.store import desk as store
from condivisa.store.models import utc_now
from condivisa.store.models_desk import TICKET_STATUSES
from condivisa.store.municipalities import MunicipalityInfo
from condivisa.store.repository import NotFoundError
from condivisa.web.access import Principal
from condivisa.web.civic import can_run, municipality_or_404, require_civic
from condivisa.web.deps import FormCsrf, OptionalUserDep, PageUserDep, SessionDep, render

router = APIRouter(include_in_schema=False)

LOCAL = ZoneInfo("Europe/Rome")
STATUS_LABELS = {"open": "aperta", "assigned": "assegnata", "answered": "con risposta", "closed": "chiusa"}
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE_RE = re.compile(r"^\+?[0-9 ./-]{6,20}$")


@cache
def _weather() -> WeatherYear:
    """The bundled typical year near Turin (the desk works offline)."""
    return typical_year()


def _weather_note(municipality: MunicipalityInfo, weather: WeatherYear) -> str | None:
    if municipality.latitude is None or municipality.longitude is None:
        return "Coordinate del comune non note: si usa l'anno tipico incluso, vicino a Torino."
    km = haversine_km(municipality.latitude, municipality.longitude, weather.latitude, weather.longitude)
    if km > 150:
        return (
            f"Il comune dista circa {km:.0f} km dall'anno tipico incluso (vicino a Torino): la produzione stimata è "
            "solo indicativa per questo sito."
        )
    return None


async def _posted(request: Request) -> dict[str, str]:
    """The posted form as plain strings (files ignored)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


PostedForm = Annotated[dict[str, str], Depends(_posted)]


def _base(municipality: MunicipalityInfo) -> str:
    return f"/comune/{municipality.slug}/sportello"


def _choices() -> dict[str, Any]:
    return {
        "subjects": desk.SUBJECTS,
        "tenures": desk.TENURES,
        "buildings": desk.BUILDINGS,
        "orientations": desk.ORIENTATION_LABELS,
        "assembly_choices": desk.ASSEMBLY,
        "goals": desk.GOALS,
        "small_choices": desk.SMALL_MUNICIPALITY,
        "regions": sorted(load_rulebook().region_zone),
        "form_labels": desk.FORM_LABELS,
        "role_labels": desk.ROLES,
        "status_labels": STATUS_LABELS,
    }


def _form_page(
    request: Request,
    municipality: MunicipalityInfo,
    user: Principal | None,
    values: dict[str, str],
    problems: list[Problem] | None = None,
) -> HTMLResponse:
    context = {
        "municipality": municipality,
        "values": values,
        "problems": problems or [],
        "officer": can_run(user, municipality),
        **_choices(),
    }
    return render(request, "civic_desk_form.html", context, user=user, status_code=422 if problems else 200)


def _default_values(municipality: MunicipalityInfo) -> dict[str, str]:
    values = desk.Answers(subject="", region=municipality.region, yearly_kwh=None).to_form()
    values["small_municipality"] = "unknown"
    return values


@router.get("/comune/{slug}/sportello", response_class=HTMLResponse)
def desk_form(request: Request, slug: str, db: SessionDep, user: OptionalUserDep) -> HTMLResponse:
    """The guided questionnaire (public)."""
    municipality = municipality_or_404(db, slug)
    return _form_page(request, municipality, user, _default_values(municipality))


def _outcome(
    db: Session, municipality: MunicipalityInfo, answers: desk.Answers
) -> tuple[desk.Orientation, list[desk.Estimate], list[str]]:
    nearby = store.nearby_communities(db, municipality.name)
    orientation = desk.decide(answers, nearby)
    weather = _weather()
    pv_kw = None
    community = orientation.recommended.community
    if community is not None and community.pv_kw > 0:
        pv_kw = community.pv_kw
    forms = [orientation.recommended.form]
    if orientation.recommended.form == "individual":
        forms += [o.form for o in orientation.alternatives if o.form in ("cer_join", "cer_new")][:1]
    estimates = [desk.estimate(answers, form, weather, community_pv_kw=pv_kw) for form in forms]
    notes = [n for n in [_weather_note(municipality, weather)] if n]
    return orientation, estimates, notes


def _result_page(
    request: Request,
    db: Session,
    municipality: MunicipalityInfo,
    user: Principal | None,
    answers: desk.Answers,
    *,
    contact: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    orientation, estimates, notes = _outcome(db, municipality, answers)
    slots = store.list_slots(db, municipality.id, free_only=True, after=utc_now())
    context = {
        "municipality": municipality,
        "answers": answers,
        "hidden": answers.to_form(),
        "orientation": orientation,
        "estimates": estimates,
        "weather_notes": notes,
        "slots": slots,
        "contact": contact or {},
        "problems": problems or [],
        **_choices(),
    }
    return render(request, "civic_desk_result.html", context, user=user, status_code=status_code)


@router.post("/comune/{slug}/sportello", response_class=HTMLResponse, dependencies=[FormCsrf])
def desk_submit(request: Request, slug: str, db: SessionDep, user: OptionalUserDep, posted: PostedForm) -> Response:
    """Check the answers, decide and estimate; bad answers re-show the form with the messages (422)."""
    municipality = municipality_or_404(db, slug)
    values = {name: posted.get(name, "") for name in desk.ANSWER_FIELDS}
    try:
        answers = desk.parse_answers(values)
    except InputError as exc:
        return _form_page(request, municipality, user, values, exc.problems)
    return _result_page(request, db, municipality, user, answers)


def _contact(posted: dict[str, str]) -> tuple[dict[str, str], int | None]:
    """Contact fields checked; raises InputError naming each bad field."""
    problems = []
    name = posted.get("contact_name", "").strip()
    email = posted.get("contact_email", "").strip().lower()
    phone = posted.get("contact_phone", "").strip()
    if not name:
        problems.append(Problem("nome e cognome: campo obbligatorio", field="contact_name"))
    elif len(name) > 200:
        problems.append(Problem("nome e cognome: al massimo 200 caratteri", field="contact_name"))
    if not EMAIL_RE.match(email) or len(email) > 320:
        problems.append(Problem("email: indirizzo non valido", field="contact_email"))
    if phone and not PHONE_RE.match(phone):
        problems.append(Problem("telefono: numero non valido (cifre, spazi, + iniziale)", field="contact_phone"))
    if posted.get("privacy") != "yes":
        problems.append(
            Problem("privacy: serve il consenso al trattamento dei dati per essere ricontattati", field="privacy")
        )
    slot_raw = posted.get("slot_id", "").strip()
    slot_id = None
    if slot_raw:
        try:
            slot_id = int(slot_raw)
        except ValueError:
            problems.append(Problem("appuntamento: scelta non valida", field="slot_id"))
    if problems:
        raise InputError(problems)
    return {"name": name, "email": email, "phone": phone}, slot_id


@router.post("/comune/{slug}/sportello/richiesta", response_class=HTMLResponse, dependencies=[FormCsrf])
def desk_request(request: Request, slug: str, db: SessionDep, user: OptionalUserDep, posted: PostedForm) -> Response:
    """Turn the result into a ticket for the advisers (and book the slot); redirects to the follow-up page."""
    municipality = municipality_or_404(db, slug)
    values = {name: posted.get(name, "") for name in desk.ANSWER_FIELDS}
    try:
        answers = desk.parse_answers(values)
    except InputError as exc:
        return _form_page(request, municipality, user, values, exc.problems)
    keep = {k: posted.get(k, "") for k in ("contact_name", "contact_email", "contact_phone", "slot_id")}
    try:
        contact, slot_id = _contact(posted)
    except InputError as exc:
        return _result_page(
            request, db, municipality, user, answers, contact=keep, problems=exc.problems, status_code=422
        )
    orientation, estimates, _notes = _outcome(db, municipality, answers)
    try:
        token = store.create_ticket(
            db,
            municipality.id,
            subject=answers.subject,
            form=orientation.recommended.form,
            answers=answers.to_form(),
            orientation=orientation.to_dict(),
            estimate=estimates[0].to_dict(),
            contact_name=contact["name"],
            contact_email=contact["email"],
            contact_phone=contact["phone"] or None,
            slot_id=slot_id,
        )
    except store.SlotTaken:
        problem = Problem("appuntamento: la fascia scelta non è più disponibile, scegline un'altra", field="slot_id")
        keep["slot_id"] = ""
        return _result_page(request, db, municipality, user, answers, contact=keep, problems=[problem], status_code=409)
    return RedirectResponse(f"{_base(municipality)}/richiesta/{token}", status_code=303)


@router.get("/comune/{slug}/sportello/richiesta/{token}", response_class=HTMLResponse)
def desk_follow_up(request: Request, slug: str, token: str, db: SessionDep, user: OptionalUserDep) -> HTMLResponse:
    """The citizen's follow-up page: status, appointment and answer of one ticket, no personal data."""
    municipality = municipality_or_404(db, slug)
    try:
        ticket = store.ticket_by_token(db, token)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="richiesta non trovata") from exc
    if ticket.municipality_id != municipality.id:
        raise HTTPException(status_code=404, detail="richiesta non trovata")
    return render(
        request,
        "civic_desk_follow_up.html",
        {"municipality": municipality, "ticket": ticket, **_choices()},
        user=user,
    )


# Officers -------------------------------------------------------------------------------------------------------


def _officer(db: Session, slug: str, user: Principal) -> MunicipalityInfo:
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    return municipality


@router.get("/comune/{slug}/sportello/richieste", response_class=HTMLResponse)
def tickets_page(
    request: Request,
    slug: str,
    db: SessionDep,
    user: PageUserDep,
    stato: str = "",
    ufficio: str = "",
) -> HTMLResponse:
    """Tickets of the municipality, filtered by status and office (officers)."""
    municipality = _officer(db, slug, user)
    status = stato if stato in TICKET_STATUSES else None
    office_id = int(ufficio) if ufficio.isdigit() else None
    tickets = store.list_tickets(db, municipality.id, status=status, office_id=office_id)
    context = {
        "municipality": municipality,
        "tickets": tickets,
        "offices": store.list_offices(db, municipality.id),
        "statuses": TICKET_STATUSES,
        "status": status or "",
        "office_id": office_id,
        **_choices(),
    }
    return render(request, "civic_desk_tickets.html", context, user=user)


def _ticket_page(
    request: Request,
    db: Session,
    municipality: MunicipalityInfo,
    user: Principal,
    ticket_id: int,
    problems: list[Problem] | None = None,
) -> HTMLResponse:
    try:
        ticket = store.ticket_detail(db, municipality.id, ticket_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="richiesta non trovata") from exc
    people = dict(store.advisers(db, municipality.name))
    people.setdefault(user.user_id, user.display_name)
    context = {
        "municipality": municipality,
        "ticket": ticket,
        "advisers": sorted(people.items(), key=lambda p: p[1]),
        "problems": problems or [],
        "subjects": desk.SUBJECTS,
        **_choices(),
    }
    return render(request, "civic_desk_ticket.html", context, user=user, status_code=422 if problems else 200)


@router.get("/comune/{slug}/sportello/richieste/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, slug: str, ticket_id: int, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """One ticket with the citizen's contact data, answers, orientation and estimate (officers)."""
    municipality = _officer(db, slug, user)
    return _ticket_page(request, db, municipality, user, ticket_id)


@router.post(
    "/comune/{slug}/sportello/richieste/{ticket_id}/{action}", response_class=HTMLResponse, dependencies=[FormCsrf]
)
def ticket_action(
    request: Request,
    slug: str,
    ticket_id: int,
    action: str,
    db: SessionDep,
    user: PageUserDep,
    adviser_id: Annotated[str, Form()] = "",
    answer: Annotated[str, Form()] = "",
) -> Response:
    """``assegna`` (to an officer of the municipality or oneself), ``rispondi`` (text shown to the citizen),
    ``chiudi``; bad input re-shows the ticket with the message (422)."""
    municipality = _officer(db, slug, user)
    if action not in ("assegna", "rispondi", "chiudi"):
        raise HTTPException(status_code=404, detail="azione sconosciuta")
    try:
        if action == "assegna":
            allowed = {uid for uid, _ in store.advisers(db, municipality.name)} | {user.user_id}
            if not adviser_id.isdigit():
                raise InputError.one("scegli un consulente", field="adviser_id")
            store.assign_ticket(db, municipality.id, ticket_id, int(adviser_id), allowed=allowed)
        elif action == "rispondi":
            store.answer_ticket(db, municipality.id, ticket_id, answer, by_user=user.user_id)
        else:
            store.close_ticket(db, municipality.id, ticket_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="richiesta non trovata") from exc
    except InputError as exc:
        db.rollback()
        return _ticket_page(request, db, municipality, user, ticket_id, exc.problems)
    return RedirectResponse(f"{_base(municipality)}/richieste/{ticket_id}", status_code=303)


def _offices_page(
    request: Request,
    db: Session,
    municipality: MunicipalityInfo,
    user: Principal,
    problems: list[Problem] | None = None,
) -> HTMLResponse:
    context = {
        "municipality": municipality,
        "offices": store.list_offices(db, municipality.id),
        "slots": store.list_slots(db, municipality.id, after=utc_now() - dt.timedelta(days=1)),
        "problems": problems or [],
    }
    return render(request, "civic_desk_offices.html", context, user=user, status_code=422 if problems else 200)


@router.get("/comune/{slug}/sportello/uffici", response_class=HTMLResponse)
def offices_page(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """District offices and appointment slots (officers)."""
    municipality = _officer(db, slug, user)
    return _offices_page(request, db, municipality, user)


@router.post("/comune/{slug}/sportello/uffici", response_class=HTMLResponse, dependencies=[FormCsrf])
def new_office(
    request: Request,
    slug: str,
    db: SessionDep,
    user: PageUserDep,
    name: Annotated[str, Form()] = "",
    district: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
) -> Response:
    """Add a district office (officers)."""
    municipality = _officer(db, slug, user)
    try:
        store.create_office(db, municipality.id, name=name, district=district, address=address)
    except InputError as exc:
        db.rollback()
        return _offices_page(request, db, municipality, user, exc.problems)
    return RedirectResponse(f"{_base(municipality)}/uffici", status_code=303)


def _local_instant(day: str, time: str, field: str) -> dt.datetime:
    try:
        naive = dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(time))
    except ValueError as exc:
        raise InputError.one("data o ora non valida (AAAA-MM-GG e HH:MM)", field=field) from exc
    return naive.replace(tzinfo=LOCAL).astimezone(dt.UTC)


@router.post("/comune/{slug}/sportello/fasce", response_class=HTMLResponse, dependencies=[FormCsrf])
def new_slot(
    request: Request,
    slug: str,
    db: SessionDep,
    user: PageUserDep,
    office_id: Annotated[str, Form()] = "",
    day: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
) -> Response:
    """Add an appointment slot at an office; date and times in Italian local time (officers)."""
    municipality = _officer(db, slug, user)
    try:
        if not office_id.isdigit():
            raise InputError.one("scegli un ufficio", field="office_id")
        store.create_slot(
            db,
            municipality.id,
            int(office_id),
            starts_at=_local_instant(day, start, "start"),
            ends_at=_local_instant(day, end, "end"),
        )
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="ufficio non trovato") from exc
    except InputError as exc:
        db.rollback()
        return _offices_page(request, db, municipality, user, exc.problems)
    return RedirectResponse(f"{_base(municipality)}/uffici", status_code=303)


@router.post("/comune/{slug}/sportello/fasce/{slot_id}/elimina", response_class=HTMLResponse, dependencies=[FormCsrf])
def remove_slot(request: Request, slug: str, slot_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """Remove a free slot (officers)."""
    municipality = _officer(db, slug, user)
    try:
        store.delete_slot(db, municipality.id, slot_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="fascia non trovata") from exc
    except InputError as exc:
        return _offices_page(request, db, municipality, user, exc.problems)
    return RedirectResponse(f"{_base(municipality)}/uffici", status_code=303)
