"""Pages of the inter-municipal energy team and its action plan (PAES/PAESC).

Who may do what is decided by :func:`team_role` alone: the team's coordinators and the platform admins manage
everything (team, members, meetings, actions, documents, mailing list); the other members of the team read
everything of their team and may write minutes and decisions only in the meetings of their own table (political or
technical); anybody else gets 403, a visitor without login goes to ``/login``.

Routes (every form carries the CSRF token):

- ``GET /teams`` the user's teams (admins: all, and ``POST /teams`` creates one);
- ``GET /teams/{tid}`` overview; ``POST /teams/{tid}/target``, ``POST /teams/{tid}/members``,
  ``POST /teams/{tid}/members/{mid}/remove`` (coordinator);
- ``GET|POST /teams/{tid}/meetings`` meetings, monthly scheduling (coordinator);
  ``GET|POST /teams/{tid}/meetings/{mid}`` a meeting, its change (coordinator);
  ``POST /teams/{tid}/meetings/{mid}/minutes`` and ``.../decisions`` (the meeting's table);
  ``POST /teams/{tid}/decisions/{did}`` a decision's status (the meeting's table);
- ``GET|POST /teams/{tid}/actions`` the plan, a new action (coordinator); ``GET|POST /teams/{tid}/actions/{aid}``
  an action, its change; ``POST .../status``, ``POST .../indicators``, ``POST .../indicators/{iid}/values``
  (coordinator);
- ``GET|POST /teams/{tid}/documents``, ``GET /teams/{tid}/documents/{doc}``, ``POST .../{doc}/delete``;
- ``GET /teams/{tid}/mailing``, ``POST /teams/{tid}/mailing/subscribers``, ``.../subscribers/{sid}/remove``,
  ``POST /teams/{tid}/mailing/send`` (coordinator; SMTP from ``CONDIVISA_SMTP_*``, failures shown, not raised);
- ``GET /teams/{tid}/report`` progress report for the political table; ``GET /teams/{tid}/export.csv`` the plan in
  the shape of the Covenant of Mayors' reporting (see :mod:`condivisa.energy_team.plan`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from condivisa.energy_team.meetings import (
    DECISION_KINDS,
    DECISION_STATUSES,
    DEFAULT_AGENDAS,
    ITEM_KINDS,
    LOCAL_TZ,
    ROLES,
    TABLES,
    AgendaItem,
    MinutesDecision,
    agenda_text,
    local_instant,
    minutes_draft,
    monthly_schedule,
    parse_agenda,
)
from condivisa.energy_team.plan import (
    ACTION_AREAS,
    COVENANT_COLUMNS,
    DEFAULT_EMISSION_FACTOR,
    INSTRUMENTS,
    INTER_MUNICIPAL,
    ORIGINS,
    SECTORS,
    STATUSES,
    covenant_rows,
    figures,
    indicator_status,
    summarize,
)
from condivisa.errors import InputError, Problem
from condivisa.notify.email import SmtpSettings
from condivisa.store import energy_team as store
from condivisa.store.models import utc_now
from condivisa.store.models_energy_team import MAX_DOCUMENT_BYTES
from condivisa.store.municipalities import list_municipalities
from condivisa.store.repository import NotFoundError
from condivisa.web.access import Principal
from condivisa.web.deps import FormCsrf, PageUserDep, SessionDep, render

router = APIRouter(include_in_schema=False)

FLASH_PREFIX = "energy_team:"


# Access -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamAccess:
    """What a user may do in a team: ``admin`` (platform admin), ``places`` (``(table, role)`` in the team)."""

    team: store.TeamInfo
    admin: bool
    places: tuple[tuple[str, str], ...]

    @property
    def coordinator(self) -> bool:
        """Whether the user coordinates the team (in either table)."""
        return any(role == "coordinator" for _, role in self.places)

    @property
    def manage(self) -> bool:
        """Whether the user manages everything of the team (coordinators and platform admins)."""
        return self.admin or self.coordinator

    @property
    def tables(self) -> frozenset[str]:
        """The tables the user sits at."""
        return frozenset(t for t, _ in self.places)

    def can_write(self, table: str) -> bool:
        """Whether the user may write minutes and decisions of a meeting of ``table``."""
        return self.manage or table in self.tables


def team_role(session: Session, user: Principal | None, team_id: int) -> TeamAccess | None:
    """The one place where access to a team is decided.

    Returns
    -------
    TeamAccess or None
        None when there is no such team, no user, or the user is neither a member of the team nor a platform
        admin (the page answers 404, a redirect to login, or 403).
    """
    if user is None:
        return None
    team = store.get_team(session, team_id)
    if team is None:
        return None
    places = tuple(store.memberships(session, team_id, user.user_id))
    if not places and not user.is_admin:
        return None
    return TeamAccess(team, user.is_admin, places)


def _access(db: Session, user: Principal, tid: int) -> TeamAccess:
    access = team_role(db, user, tid)
    if access is None:
        if store.get_team(db, tid) is None:
            raise HTTPException(status_code=404, detail="gruppo non trovato")
        raise HTTPException(status_code=403, detail="accesso negato")
    return access


def _manager(db: Session, user: Principal, tid: int) -> TeamAccess:
    access = _access(db, user, tid)
    if not access.manage:
        raise HTTPException(status_code=403, detail="riservato al coordinatore del gruppo")
    return access


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _flash(request: Request, message: str, detail: str = "") -> None:
    """A notice for the next page: ``message`` is Italian source text (translated there), ``detail`` as is."""
    request.session["flash"] = f"{FLASH_PREFIX}{message}|{detail}"


def _common(access: TeamAccess, section: str) -> dict[str, Any]:
    return {
        "team": access.team,
        "access": access,
        "base": f"/teams/{access.team.id}",
        "section": section,
        "tables": TABLES,
        "roles": ROLES,
        "sectors": SECTORS,
        "statuses": STATUSES,
        "instruments": INSTRUMENTS,
        "origins": ORIGINS,
        "item_kinds": ITEM_KINDS,
        "decision_kinds": DECISION_KINDS,
        "decision_statuses": DECISION_STATUSES,
        "inter_municipal": INTER_MUNICIPAL,
        "default_factor": DEFAULT_EMISSION_FACTOR,
        "problems": None,
    }


# Form parsing -----------------------------------------------------------------------------------------------------


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse_number(text: str, field: str, label: str, problems: list[Problem]) -> float | None:
    """A number typed in a form (``1234.5``, ``1234,5`` or ``1.234,5``); None when empty; a problem when wrong."""
    raw = text.strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        return None
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        problems.append(Problem(f"{label}: numero non valido {text.strip()!r}", field=field))
        return None
    if value != value or value in (float("inf"), float("-inf")):
        problems.append(Problem(f"{label}: numero non valido {text.strip()!r}", field=field))
        return None
    return value


def parse_day(text: str, field: str, label: str, problems: list[Problem]) -> dt.date | None:
    """A date ``AAAA-MM-GG`` (or ``GG/MM/AAAA``); None when empty."""
    raw = text.strip()
    if not raw:
        return None
    try:
        if "/" in raw:
            d, m, y = raw.split("/")
            return dt.date(int(y), int(m), int(d))
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(Problem(f"{label}: data non valida {raw!r} (attesa AAAA-MM-GG)", field=field))
        return None


def parse_local(text: str, field: str, label: str, problems: list[Problem]) -> tuple[dt.date, dt.time] | None:
    """A ``datetime-local`` value (``2026-12-01T17:30``) as a local date and time."""
    raw = text.strip()
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        problems.append(Problem(f"{label}: data e ora non valide {raw!r} (atteso AAAA-MM-GGTHH:MM)", field=field))
        return None
    return value.date(), value.time().replace(second=0, microsecond=0)


def _local_value(instant: dt.datetime) -> str:
    return instant.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def action_fields(form: FormData) -> store.ActionFields:
    """The action described by a form; :class:`InputError` names every wrong field."""
    problems: list[Problem] = []
    town = _text(form, "municipality_id")
    municipality_id: int | None = None
    if town:
        try:
            municipality_id = int(town)
        except ValueError:
            problems.append(Problem(f"comune non valido {town!r}", field="municipality_id"))
    numbers = {
        name: parse_number(_text(form, name), name, label, problems)
        for name, label in (
            ("cost_eur", "costo"),
            ("savings_mwh", "risparmio atteso"),
            ("renewable_mwh", "produzione rinnovabile"),
            ("emission_factor", "fattore di emissione"),
        )
    }
    start = parse_day(_text(form, "start_date"), "start_date", "inizio", problems)
    end = parse_day(_text(form, "end_date"), "end_date", "fine", problems)
    if problems:
        raise InputError(problems)
    return store.ActionFields(
        code=_text(form, "code"),
        title=_text(form, "title"),
        sector=_text(form, "sector"),
        municipality_id=municipality_id,
        owner=_text(form, "owner"),
        description=_text(form, "description"),
        start_date=start,
        end_date=end,
        cost_eur=numbers["cost_eur"] or 0.0,
        savings_mwh=numbers["savings_mwh"] or 0.0,
        renewable_mwh=numbers["renewable_mwh"] or 0.0,
        emission_factor=numbers["emission_factor"],
        status=_text(form, "status") or "planned",
        action_area=_text(form, "action_area"),
        instrument=_text(form, "instrument") or "not_applicable",
        origin=_text(form, "origin") or "local_authority",
        responsible_body=_text(form, "responsible_body"),
    )


def _action_form(fields: store.ActionFields | None) -> dict[str, str]:
    if fields is None:
        return {
            "code": "",
            "title": "",
            "sector": "municipal_buildings",
            "municipality_id": "",
            "owner": "",
            "description": "",
            "start_date": "",
            "end_date": "",
            "cost_eur": "",
            "savings_mwh": "",
            "renewable_mwh": "",
            "emission_factor": "",
            "status": "planned",
            "action_area": "",
            "instrument": "not_applicable",
            "origin": "local_authority",
            "responsible_body": "",
        }
    return {
        "code": fields.code,
        "title": fields.title,
        "sector": fields.sector,
        "municipality_id": "" if fields.municipality_id is None else str(fields.municipality_id),
        "owner": fields.owner,
        "description": fields.description,
        "start_date": fields.start_date.isoformat() if fields.start_date else "",
        "end_date": fields.end_date.isoformat() if fields.end_date else "",
        "cost_eur": _number_text(fields.cost_eur),
        "savings_mwh": _number_text(fields.savings_mwh),
        "renewable_mwh": _number_text(fields.renewable_mwh),
        "emission_factor": _number_text(fields.emission_factor),
        "status": fields.status,
        "action_area": fields.action_area,
        "instrument": fields.instrument,
        "origin": fields.origin,
        "responsible_body": fields.responsible_body,
    }


def _posted(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    return {n: _text(form, n) for n in names}


_ACTION_NAMES = tuple(_action_form(None))


# Teams ------------------------------------------------------------------------------------------------------------


def _teams_context(db: Session, user: Principal) -> dict[str, Any]:
    return {
        "teams": store.list_teams(db, None if user.is_admin else user.user_id),
        "municipalities": list_municipalities(db) if user.is_admin else [],
        "form": {"name": "", "baseline_year": "2005", "target_year": "2030", "reduction_target_pct": "55"},
        "chosen": set(),
        "problems": None,
    }


@router.get("/teams", response_class=HTMLResponse)
def teams_page(request: Request, db: SessionDep, user: PageUserDep) -> Response:
    """The energy teams of the user (every team for platform admins, who may create one here)."""
    return render(request, "energy_team_list.html", _teams_context(db, user), user=user)


@router.post("/teams", response_class=HTMLResponse, dependencies=[FormCsrf])
async def create_team(request: Request, db: SessionDep, user: PageUserDep) -> Response:
    """Platform admins: create a team (a union of municipalities) with its PAESC target."""
    if not user.is_admin:
        raise HTTPException(status_code=403, detail="riservato agli amministratori")
    form = await request.form()
    problems: list[Problem] = []
    chosen = {int(v) for v in form.getlist("municipalities") if isinstance(v, str) and v.isdigit()}
    years = {
        n: parse_number(_text(form, n), n, label, problems)
        for n, label in (("baseline_year", "anno base"), ("target_year", "anno obiettivo"))
    }
    pct = parse_number(_text(form, "reduction_target_pct"), "reduction_target_pct", "obiettivo", problems)
    try:
        if problems:
            raise InputError(problems)
        tid = store.create_team(
            db,
            _text(form, "name"),
            sorted(chosen),
            baseline_year=int(years["baseline_year"] or 2005),
            target_year=int(years["target_year"] or 2030),
            reduction_target_pct=55.0 if pct is None else pct,
        )
    except InputError as exc:
        context = _teams_context(db, user)
        context.update(
            form=_posted(form, ("name", "baseline_year", "target_year", "reduction_target_pct")),
            chosen=chosen,
            problems=exc.problems,
        )
        return render(request, "energy_team_list.html", context, user=user, status_code=422)
    _flash(request, "Gruppo creato")
    return _see_other(f"/teams/{tid}")


def _overview_context(db: Session, access: TeamAccess) -> dict[str, Any]:
    tid = access.team.id
    now = utc_now()
    meetings = store.list_meetings(db, tid)
    summary = summarize(
        store.plan_actions(db, tid), baseline_t=access.team.baseline_t_co2, target_pct=access.team.reduction_target_pct
    )
    team = access.team
    return {
        **_common(access, "overview"),
        "members": store.list_members(db, tid),
        "upcoming": [m for m in meetings if m.starts_at >= now][:4],
        "summary": summary,
        "member_form": {"email": "", "table": "technical", "role": "member", "municipality_id": ""},
        "target_form": {
            "baseline_year": str(team.baseline_year),
            "target_year": str(team.target_year),
            "reduction_target_pct": _number_text(team.reduction_target_pct),
            "baseline_t_co2": _number_text(team.baseline_t_co2),
        },
        "member_problems": None,
        "target_problems": None,
    }


@router.get("/teams/{tid}", response_class=HTMLResponse)
def overview_page(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """A team: municipalities, target, the two tables, next meetings, the plan in figures."""
    access = _access(db, user, tid)
    return render(request, "energy_team_overview.html", _overview_context(db, access), user=user)


@router.post("/teams/{tid}/target", response_class=HTMLResponse, dependencies=[FormCsrf])
async def update_target(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: baseline year, target year, reduction target [%], baseline emissions [t CO2/year]."""
    access = _manager(db, user, tid)
    form = await request.form()
    problems: list[Problem] = []
    values = {
        n: parse_number(_text(form, n), n, label, problems)
        for n, label in (
            ("baseline_year", "anno base"),
            ("target_year", "anno obiettivo"),
            ("reduction_target_pct", "obiettivo di riduzione"),
            ("baseline_t_co2", "emissioni dell'anno base"),
        )
    }
    try:
        for n in ("baseline_year", "target_year", "reduction_target_pct"):
            if values[n] is None and not any(p.field == n for p in problems):
                problems.append(Problem("valore obbligatorio", field=n))
        if problems:
            raise InputError(problems)
        store.update_target(
            db,
            tid,
            baseline_year=int(values["baseline_year"] or 0),
            target_year=int(values["target_year"] or 0),
            reduction_target_pct=float(values["reduction_target_pct"] or 0),
            baseline_t_co2=values["baseline_t_co2"],
        )
    except InputError as exc:
        context = _overview_context(db, access)
        context.update(
            target_form=_posted(form, ("baseline_year", "target_year", "reduction_target_pct", "baseline_t_co2")),
            target_problems=exc.problems,
        )
        return render(request, "energy_team_overview.html", context, user=user, status_code=422)
    _flash(request, "Obiettivo aggiornato")
    return _see_other(f"/teams/{tid}")


@router.post("/teams/{tid}/members", response_class=HTMLResponse, dependencies=[FormCsrf])
async def add_member(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: put a registered user in a table (or change their role there)."""
    access = _manager(db, user, tid)
    form = await request.form()
    town = _text(form, "municipality_id")
    try:
        store.add_member(
            db,
            tid,
            email=_text(form, "email"),
            table=_text(form, "table"),
            role=_text(form, "role") or "member",
            municipality_id=int(town) if town.isdigit() else None,
        )
    except InputError as exc:
        context = _overview_context(db, access)
        context.update(
            member_form=_posted(form, ("email", "table", "role", "municipality_id")), member_problems=exc.problems
        )
        return render(request, "energy_team_overview.html", context, user=user, status_code=422)
    _flash(request, "Componente aggiunto", _text(form, "email"))
    return _see_other(f"/teams/{tid}#tavoli")


@router.post("/teams/{tid}/members/{member_id}/remove", dependencies=[FormCsrf])
def remove_member(request: Request, tid: int, member_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: take a member out of a table."""
    _manager(db, user, tid)
    if not store.remove_member(db, tid, member_id):
        raise HTTPException(status_code=404, detail="componente non trovato")
    _flash(request, "Componente rimosso")
    return _see_other(f"/teams/{tid}#tavoli")


# Meetings ---------------------------------------------------------------------------------------------------------


def _meetings_context(db: Session, access: TeamAccess) -> dict[str, Any]:
    now = utc_now()
    meetings = store.list_meetings(db, access.team.id)
    start = (now + dt.timedelta(days=14)).astimezone(LOCAL_TZ).replace(hour=17, minute=30, second=0, microsecond=0)
    return {
        **_common(access, "meetings"),
        "upcoming": [m for m in meetings if m.starts_at >= now],
        "past": list(reversed([m for m in meetings if m.starts_at < now])),
        "form": {
            "table": "political",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "count": "1",
            "place": "",
            "agenda": "\n".join(DEFAULT_AGENDAS["political"]),
        },
        "default_agendas": {k: "\n".join(v) for k, v in DEFAULT_AGENDAS.items()},
    }


@router.get("/teams/{tid}/meetings", response_class=HTMLResponse)
def meetings_page(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Meetings of both tables, upcoming and past; the coordinator schedules new ones here."""
    access = _access(db, user, tid)
    return render(request, "energy_team_meetings.html", _meetings_context(db, access), user=user)


@router.post("/teams/{tid}/meetings", response_class=HTMLResponse, dependencies=[FormCsrf])
async def schedule_meetings(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: schedule one meeting, or a monthly series (same day of the month, same local time)."""
    access = _manager(db, user, tid)
    form = await request.form()
    problems: list[Problem] = []
    first = parse_local(_text(form, "starts_at"), "starts_at", "data e ora", problems)
    count_value = parse_number(_text(form, "count") or "1", "count", "numero di riunioni", problems)
    table = _text(form, "table")
    if table not in TABLES:
        problems.append(Problem(f"tavolo sconosciuto {table!r}", field="table"))
    agenda: list[AgendaItem] = []
    try:
        agenda = parse_agenda(_text(form, "agenda"))
    except ValueError as exc:
        problems.append(Problem(str(exc), field="agenda"))
    count = int(count_value or 1)
    if count_value is not None and (count_value != count or not 1 <= count <= 12):
        problems.append(Problem("numero di riunioni: da 1 a 12", field="count"))
    try:
        if problems or first is None:
            raise InputError(problems)
        starts = monthly_schedule(first[0], first[1], count)
        ids = store.schedule_meetings(
            db, tid, table=table, starts=starts, place=_text(form, "place"), agenda=agenda, created_by=user.user_id
        )
    except InputError as exc:
        context = _meetings_context(db, access)
        context.update(form=_posted(form, ("table", "starts_at", "count", "place", "agenda")), problems=exc.problems)
        return render(request, "energy_team_meetings.html", context, user=user, status_code=422)
    _flash(request, "Riunione programmata" if count == 1 else "Riunioni programmate", str(len(ids)))
    return _see_other(f"/teams/{tid}/meetings/{ids[0]}" if count == 1 else f"/teams/{tid}/meetings")


def _meeting_or_404(db: Session, tid: int, mid: int) -> store.MeetingInfo:
    meeting = store.get_meeting(db, tid, mid)
    if meeting is None:
        raise HTTPException(status_code=404, detail="riunione non trovata")
    return meeting


def _meeting_context(db: Session, access: TeamAccess, meeting: store.MeetingInfo) -> dict[str, Any]:
    members = store.list_members(db, access.team.id)
    table_members = [m for m in members if m.table == meeting.table]
    present = set(meeting.attendance) if meeting.attendance else set()
    draft = meeting.minutes or minutes_draft(
        access.team.name,
        meeting.table,
        meeting.starts_at,
        meeting.place,
        meeting.agenda,
        [m.name for m in table_members if m.id in present],
        [m.name for m in table_members if m.id not in present] if present else [],
        [MinutesDecision(d.text, d.kind, d.owner, d.due_date) for d in meeting.decisions],
    )
    return {
        **_common(access, "meetings"),
        "meeting": meeting,
        "table_members": table_members,
        "present": present,
        "writable": access.can_write(meeting.table),
        "edit_form": {
            "starts_at": _local_value(meeting.starts_at),
            "place": meeting.place,
            "agenda": agenda_text(meeting.agenda),
        },
        "minutes_text": draft,
        "decision_form": {"text": "", "kind": "decision", "owner": "", "due_date": ""},
        "edit_problems": None,
        "minutes_problems": None,
        "decision_problems": None,
    }


@router.get("/teams/{tid}/meetings/{mid}", response_class=HTMLResponse)
def meeting_page(request: Request, tid: int, mid: int, db: SessionDep, user: PageUserDep) -> Response:
    """A meeting: agenda, attendance and minutes, decisions (writable by the meeting's table and the coordinator)."""
    access = _access(db, user, tid)
    meeting = _meeting_or_404(db, tid, mid)
    return render(request, "energy_team_meeting.html", _meeting_context(db, access, meeting), user=user)


@router.post("/teams/{tid}/meetings/{mid}", response_class=HTMLResponse, dependencies=[FormCsrf])
async def update_meeting(request: Request, tid: int, mid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: move a meeting, change its place or agenda."""
    access = _manager(db, user, tid)
    meeting = _meeting_or_404(db, tid, mid)
    form = await request.form()
    problems: list[Problem] = []
    when = parse_local(_text(form, "starts_at"), "starts_at", "data e ora", problems)
    agenda: list[AgendaItem] = []
    try:
        agenda = parse_agenda(_text(form, "agenda"))
    except ValueError as exc:
        problems.append(Problem(str(exc), field="agenda"))
    try:
        if problems or when is None:
            raise InputError(problems)
        store.update_meeting(
            db, tid, mid, starts_at=local_instant(when[0], when[1]), place=_text(form, "place"), agenda=agenda
        )
    except InputError as exc:
        context = _meeting_context(db, access, meeting)
        context.update(edit_form=_posted(form, ("starts_at", "place", "agenda")), edit_problems=exc.problems)
        return render(request, "energy_team_meeting.html", context, user=user, status_code=422)
    _flash(request, "Riunione aggiornata")
    return _see_other(f"/teams/{tid}/meetings/{mid}")


def _writer(db: Session, user: Principal, tid: int, mid: int) -> tuple[TeamAccess, store.MeetingInfo]:
    access = _access(db, user, tid)
    meeting = _meeting_or_404(db, tid, mid)
    if not access.can_write(meeting.table):
        raise HTTPException(status_code=403, detail="riservato ai componenti del tavolo della riunione")
    return access, meeting


@router.post("/teams/{tid}/meetings/{mid}/minutes", response_class=HTMLResponse, dependencies=[FormCsrf])
async def save_minutes(request: Request, tid: int, mid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Members of the meeting's table, coordinator: the minutes and who was present."""
    access, meeting = _writer(db, user, tid, mid)
    form = await request.form()
    present = [int(v) for v in form.getlist("present") if isinstance(v, str) and v.isdigit()]
    try:
        store.save_minutes(db, tid, mid, minutes=_text(form, "minutes"), attendance=present)
    except InputError as exc:
        context = _meeting_context(db, access, meeting)
        context.update(minutes_text=_text(form, "minutes"), minutes_problems=exc.problems)
        return render(request, "energy_team_meeting.html", context, user=user, status_code=422)
    _flash(request, "Verbale salvato")
    return _see_other(f"/teams/{tid}/meetings/{mid}#verbale")


@router.post("/teams/{tid}/meetings/{mid}/decisions", response_class=HTMLResponse, dependencies=[FormCsrf])
async def add_decision(request: Request, tid: int, mid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Members of the meeting's table, coordinator: record a decision or a report to the political table."""
    access, meeting = _writer(db, user, tid, mid)
    form = await request.form()
    problems: list[Problem] = []
    due = parse_day(_text(form, "due_date"), "due_date", "scadenza", problems)
    try:
        if problems:
            raise InputError(problems)
        store.add_decision(
            db,
            tid,
            mid,
            text=_text(form, "text"),
            kind=_text(form, "kind") or "decision",
            owner=_text(form, "owner"),
            due_date=due,
            created_by=user.user_id,
        )
    except InputError as exc:
        context = _meeting_context(db, access, meeting)
        context.update(
            decision_form=_posted(form, ("text", "kind", "owner", "due_date")), decision_problems=exc.problems
        )
        return render(request, "energy_team_meeting.html", context, user=user, status_code=422)
    _flash(request, "Decisione registrata")
    return _see_other(f"/teams/{tid}/meetings/{mid}#decisioni")


@router.post("/teams/{tid}/decisions/{did}", dependencies=[FormCsrf])
async def decision_status(request: Request, tid: int, did: int, db: SessionDep, user: PageUserDep) -> Response:
    """Members of the decision's table, coordinator: change the status of a decision."""
    access = _access(db, user, tid)
    decision = store.get_decision(db, tid, did)
    if decision is None:
        raise HTTPException(status_code=404, detail="decisione non trovata")
    if not access.can_write(decision.table):
        raise HTTPException(status_code=403, detail="riservato ai componenti del tavolo della riunione")
    form = await request.form()
    status = _text(form, "status")
    if status not in DECISION_STATUSES:
        raise HTTPException(status_code=422, detail=f"stato sconosciuto {status!r}")
    store.set_decision_status(db, tid, did, status)
    _flash(request, "Stato della decisione aggiornato")
    return _see_other(f"/teams/{tid}/meetings/{decision.meeting_id}#decisioni")


# Actions ----------------------------------------------------------------------------------------------------------


def _actions_context(db: Session, access: TeamAccess) -> dict[str, Any]:
    tid = access.team.id
    actions = store.list_actions(db, tid)
    summary = summarize(
        [a.plan_action() for a in actions],
        baseline_t=access.team.baseline_t_co2,
        target_pct=access.team.reduction_target_pct,
    )
    return {
        **_common(access, "actions"),
        "actions": actions,
        "figures": {f.action.id: f for f in summary.actions},
        "summary": summary,
        "form": _action_form(None),
        "action_areas": ACTION_AREAS,
    }


@router.get("/teams/{tid}/actions", response_class=HTMLResponse)
def actions_page(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """The action plan: actions, totals by sector, municipality and status; the coordinator adds actions here."""
    access = _access(db, user, tid)
    return render(request, "energy_team_actions.html", _actions_context(db, access), user=user)


@router.post("/teams/{tid}/actions", response_class=HTMLResponse, dependencies=[FormCsrf])
async def create_action(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: add an action to the plan."""
    access = _manager(db, user, tid)
    form = await request.form()
    try:
        aid = store.create_action(db, tid, action_fields(form), user_id=user.user_id)
    except InputError as exc:
        context = _actions_context(db, access)
        context.update(form=_posted(form, _ACTION_NAMES), problems=exc.problems)
        return render(request, "energy_team_actions.html", context, user=user, status_code=422)
    _flash(request, "Azione aggiunta al piano")
    return _see_other(f"/teams/{tid}/actions/{aid}")


def _action_or_404(db: Session, tid: int, aid: int) -> store.ActionInfo:
    action = store.get_action(db, tid, aid)
    if action is None:
        raise HTTPException(status_code=404, detail="azione non trovata")
    return action


def _action_context(db: Session, access: TeamAccess, action: store.ActionInfo) -> dict[str, Any]:
    return {
        **_common(access, "actions"),
        "action": action,
        "figures": figures(action.plan_action()),
        "indicators": [indicator_status(i) for i in store.list_indicators(db, action.id)],
        "changes": store.list_changes(db, access.team.id, action.id),
        "form": _action_form(action.fields),
        "action_areas": ACTION_AREAS,
        "status_form": {"status": action.fields.status, "note": ""},
        "indicator_form": {"name": "", "unit": "", "target": ""},
        "value_form": {"on": dt.datetime.now(LOCAL_TZ).date().isoformat(), "value": ""},
        "status_problems": None,
        "indicator_problems": None,
    }


@router.get("/teams/{tid}/actions/{aid}", response_class=HTMLResponse)
def action_page(request: Request, tid: int, aid: int, db: SessionDep, user: PageUserDep) -> Response:
    """An action: figures, emissions avoided, indicators over time, history of changes; the coordinator edits."""
    access = _access(db, user, tid)
    action = _action_or_404(db, tid, aid)
    return render(request, "energy_team_action.html", _action_context(db, access, action), user=user)


@router.post("/teams/{tid}/actions/{aid}", response_class=HTMLResponse, dependencies=[FormCsrf])
async def update_action(request: Request, tid: int, aid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: change any field of an action (the change is recorded)."""
    access = _manager(db, user, tid)
    action = _action_or_404(db, tid, aid)
    form = await request.form()
    try:
        store.update_action(db, tid, aid, action_fields(form), note=_text(form, "note"), user_id=user.user_id)
    except InputError as exc:
        context = _action_context(db, access, action)
        context.update(form=_posted(form, _ACTION_NAMES), problems=exc.problems)
        return render(request, "energy_team_action.html", context, user=user, status_code=422)
    _flash(request, "Azione aggiornata")
    return _see_other(f"/teams/{tid}/actions/{aid}")


@router.post("/teams/{tid}/actions/{aid}/status", response_class=HTMLResponse, dependencies=[FormCsrf])
async def action_status(request: Request, tid: int, aid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: change the status of an action, with a note for the progress report."""
    access = _manager(db, user, tid)
    action = _action_or_404(db, tid, aid)
    form = await request.form()
    try:
        store.set_action_status(db, tid, aid, _text(form, "status"), note=_text(form, "note"), user_id=user.user_id)
    except InputError as exc:
        context = _action_context(db, access, action)
        context.update(status_form=_posted(form, ("status", "note")), status_problems=exc.problems)
        return render(request, "energy_team_action.html", context, user=user, status_code=422)
    _flash(request, "Stato dell'azione aggiornato")
    return _see_other(f"/teams/{tid}/actions/{aid}")


@router.post("/teams/{tid}/actions/{aid}/indicators", response_class=HTMLResponse, dependencies=[FormCsrf])
async def add_indicator(request: Request, tid: int, aid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: add an indicator to an action."""
    access = _manager(db, user, tid)
    action = _action_or_404(db, tid, aid)
    form = await request.form()
    problems: list[Problem] = []
    target = parse_number(_text(form, "target"), "target", "obiettivo", problems)
    try:
        if problems:
            raise InputError(problems)
        store.add_indicator(db, tid, aid, name=_text(form, "name"), unit=_text(form, "unit"), target=target)
    except InputError as exc:
        context = _action_context(db, access, action)
        context.update(indicator_form=_posted(form, ("name", "unit", "target")), indicator_problems=exc.problems)
        return render(request, "energy_team_action.html", context, user=user, status_code=422)
    _flash(request, "Indicatore aggiunto")
    return _see_other(f"/teams/{tid}/actions/{aid}#indicatori")


@router.post("/teams/{tid}/actions/{aid}/indicators/{iid}/values", response_class=HTMLResponse, dependencies=[FormCsrf])
async def add_indicator_value(
    request: Request, tid: int, aid: int, iid: int, db: SessionDep, user: PageUserDep
) -> Response:
    """Coordinator: record the value of an indicator on a date."""
    access = _manager(db, user, tid)
    action = _action_or_404(db, tid, aid)
    form = await request.form()
    problems: list[Problem] = []
    on = parse_day(_text(form, "on"), "on", "data", problems)
    value = parse_number(_text(form, "value"), "value", "valore", problems)
    if value is None and not problems:
        problems.append(Problem("valore obbligatorio", field="value"))
    try:
        if problems or on is None or value is None:
            raise InputError(problems or [Problem("data obbligatoria", field="on")])
        store.record_indicator_value(db, tid, aid, iid, on=on, value=value, user_id=user.user_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="indicatore non trovato") from exc
    except InputError as exc:
        context = _action_context(db, access, action)
        context.update(indicator_problems=exc.problems)
        return render(request, "energy_team_action.html", context, user=user, status_code=422)
    _flash(request, "Valore registrato")
    return _see_other(f"/teams/{tid}/actions/{aid}#indicatori")


# Documents --------------------------------------------------------------------------------------------------------


def _documents_context(db: Session, access: TeamAccess) -> dict[str, Any]:
    return {
        **_common(access, "documents"),
        "documents": store.list_documents(db, access.team.id),
        "max_mb": MAX_DOCUMENT_BYTES // (1024 * 1024),
        "form": {"title": "", "table": ""},
    }


@router.get("/teams/{tid}/documents", response_class=HTMLResponse)
def documents_page(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """The shared document area of the team."""
    access = _access(db, user, tid)
    return render(request, "energy_team_documents.html", _documents_context(db, access), user=user)


@router.post("/teams/{tid}/documents", response_class=HTMLResponse, dependencies=[FormCsrf])
async def upload_document(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: upload a file (at most 10 MB) to the document area."""
    access = _manager(db, user, tid)
    form = await request.form()
    upload = form.get("file")
    table = _text(form, "table") or None
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InputError.one("nessun file scelto", field="file")
        data = await upload.read(MAX_DOCUMENT_BYTES + 1)
        store.add_document(
            db,
            tid,
            title=_text(form, "title"),
            filename=upload.filename or "",
            content_type=upload.content_type or "application/octet-stream",
            data=data,
            table=table,
            uploaded_by=user.user_id,
        )
    except InputError as exc:
        context = _documents_context(db, access)
        context.update(form=_posted(form, ("title", "table")), problems=exc.problems)
        return render(request, "energy_team_documents.html", context, user=user, status_code=422)
    _flash(request, "Documento caricato")
    return _see_other(f"/teams/{tid}/documents")


@router.get("/teams/{tid}/documents/{doc_id}")
def download_document(tid: int, doc_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """Team members: download a document (as an attachment)."""
    _access(db, user, tid)
    found = store.get_document(db, tid, doc_id)
    if found is None:
        raise HTTPException(status_code=404, detail="documento non trovato")
    info, data = found
    ascii_name = "".join(c if c.isascii() and c not in '"\\' else "_" for c in info.filename)
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(info.filename)}"
    return Response(
        data,
        media_type=info.content_type,
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
    )


@router.post("/teams/{tid}/documents/{doc_id}/delete", dependencies=[FormCsrf])
def delete_document(request: Request, tid: int, doc_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: remove a document."""
    _manager(db, user, tid)
    if not store.delete_document(db, tid, doc_id):
        raise HTTPException(status_code=404, detail="documento non trovato")
    _flash(request, "Documento eliminato")
    return _see_other(f"/teams/{tid}/documents")


# Mailing list -----------------------------------------------------------------------------------------------------


def _mailing_context(db: Session, access: TeamAccess) -> dict[str, Any]:
    tid = access.team.id
    return {
        **_common(access, "mailing"),
        "recipients": store.mailing_recipients(db, tid),
        "subscribers": store.list_subscribers(db, tid),
        "mailings": store.list_mailings(db, tid),
        "subscriber_form": {"email": "", "name": ""},
        "send_form": {"subject": "", "body": ""},
        "subscriber_problems": None,
        "send_problems": None,
    }


@router.get("/teams/{tid}/mailing", response_class=HTMLResponse)
def mailing_page(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """The team's mailing list: members and external subscribers, messages sent; the coordinator sends here."""
    access = _access(db, user, tid)
    return render(request, "energy_team_mailing.html", _mailing_context(db, access), user=user)


@router.post("/teams/{tid}/mailing/subscribers", response_class=HTMLResponse, dependencies=[FormCsrf])
async def add_subscriber(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: add an external address to the list."""
    access = _manager(db, user, tid)
    form = await request.form()
    try:
        store.add_subscriber(db, tid, email=_text(form, "email"), name=_text(form, "name"))
    except InputError as exc:
        context = _mailing_context(db, access)
        context.update(subscriber_form=_posted(form, ("email", "name")), subscriber_problems=exc.problems)
        return render(request, "energy_team_mailing.html", context, user=user, status_code=422)
    _flash(request, "Iscritto aggiunto", _text(form, "email").lower())
    return _see_other(f"/teams/{tid}/mailing")


@router.post("/teams/{tid}/mailing/subscribers/{sid}/remove", dependencies=[FormCsrf])
def remove_subscriber(request: Request, tid: int, sid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: take an external address off the list."""
    _manager(db, user, tid)
    if not store.remove_subscriber(db, tid, sid):
        raise HTTPException(status_code=404, detail="iscritto non trovato")
    _flash(request, "Iscritto rimosso")
    return _see_other(f"/teams/{tid}/mailing")


@router.post("/teams/{tid}/mailing/send", response_class=HTMLResponse, dependencies=[FormCsrf])
async def send_mailing(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Coordinator: send a message to the list; a server failure is recorded and shown (never a 500)."""
    access = _manager(db, user, tid)
    form = await request.form()
    subject, body = _text(form, "subject"), _text(form, "body")
    try:
        try:
            settings = SmtpSettings.from_env()
        except InputError as exc:
            store.record_failed_mailing(db, tid, subject=subject, body=body, error=str(exc), sent_by=user.user_id)
            raise
        sent = store.send_mailing(db, tid, settings, subject=subject, body=body, sent_by=user.user_id)
    except InputError as exc:
        context = _mailing_context(db, access)
        context.update(send_form={"subject": subject, "body": body}, send_problems=exc.problems)
        return render(request, "energy_team_mailing.html", context, user=user, status_code=422)
    if sent.status == "failed":
        context = _mailing_context(db, access)
        context.update(
            send_form={"subject": subject, "body": body},
            send_problems=[Problem(sent.error or "invio non riuscito", field="smtp")],
        )
        return render(request, "energy_team_mailing.html", context, user=user, status_code=502)
    _flash(request, "Messaggio inviato", str(sent.recipients))
    return _see_other(f"/teams/{tid}/mailing")


# Progress report and export ---------------------------------------------------------------------------------------


@router.get("/teams/{tid}/report", response_class=HTMLResponse)
def report_page(request: Request, tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Progress report for the political table: changes since the last meeting, actions by status, savings
    achieved against planned, progress against the target, latest decisions."""
    access = _access(db, user, tid)
    report = store.team_report(db, tid)
    codes = {a.fields.code: a.id for a in store.list_actions(db, tid)}
    context = {**_common(access, "report"), "report": report, "action_ids": codes}
    return render(request, "energy_team_report.html", context, user=user)


@router.get("/teams/{tid}/export.csv")
def export_csv(tid: int, db: SessionDep, user: PageUserDep) -> Response:
    """The plan's actions in the columns of the Covenant of Mayors' template (UTF-8 with BOM, comma-separated,
    decimal point), see :func:`condivisa.energy_team.plan.covenant_rows`."""
    access = _access(db, user, tid)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COVENANT_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(covenant_rows(store.plan_actions(db, tid)))
    name = "".join(c if c.isalnum() else "-" for c in access.team.name.lower()).strip("-")[:60] or "piano"
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="paesc-{name}.csv"'},
    )
