"""Server-rendered pages (Italian first, English second): login, dashboard, member portal, settlements, users.

Without login a page redirects to ``/login`` (303); a logged-in user without access gets 403, an unknown object
404. Every form carries the session's CSRF token in a hidden field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from condivisa.errors import InputError, Problem
from condivisa.rules.checks import check_coverage
from condivisa.store import (
    get_settlement,
    get_user_by_email,
    list_communities,
    list_settlements,
    load_community,
    member_row_id,
)
from condivisa.store.gdpr import export_member, record_export
from condivisa.store.models import ROLES, CommunityRow, MemberRow, User
from condivisa.store.repository import NotFoundError
from condivisa.web import charts, services
from condivisa.web.access import Principal, authorize
from condivisa.web.cache import aggregates as cached_aggregates
from condivisa.web.deps import (
    LANG_COOKIE,
    EngineDep,
    FormCsrf,
    OptionalUserDep,
    PageUserDep,
    SessionDep,
    community_or_404,
    locale_of,
    render,
    require,
)
from condivisa.web.i18n import LOCALES, gettext
from condivisa.web.security import new_csrf_token, verify_password

router = APIRouter(include_in_schema=False)

MEMBER_KINDS = (
    "household",
    "business",
    "municipality",
    "local_authority",
    "public_body",
    "third_sector",
    "religious",
    "environmental",
    "university",
    "other",
)
TECHNOLOGIES = ("pv", "wind", "hydro", "biomass", "biogas", "geothermal", "other")


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    """A local path to go back to (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, user: OptionalUserDep) -> Response:
    """The login page."""
    if user is not None:
        return _see_other("/")
    return render(request, "login.html", {"error": None, "email": ""})


@router.post("/login", response_class=HTMLResponse, dependencies=[FormCsrf])
def login(
    request: Request, db: SessionDep, email: Annotated[str, Form()] = "", password: Annotated[str, Form()] = ""
) -> Response:
    """Check the credentials; on success start a fresh session and go home."""
    try:
        found = get_user_by_email(db, email=email)
    except ValueError:
        found = None
    account = (found.id, found.active, found.password_hash) if found is not None else None
    # The argon2 check takes ~0.2 s of CPU: end the read transaction first, so that the database connection goes
    # back to the pool instead of being held by a login (under a burst of logins the pool ran dry).
    db.rollback()
    if account is None or not account[1] or not verify_password(password, account[2]):
        return render(request, "login.html", {"error": "Credenziali non valide", "email": email}, status_code=401)
    request.session.clear()
    request.session["uid"] = account[0]
    request.session["csrf"] = new_csrf_token()
    return _see_other("/")


@router.post("/logout", dependencies=[FormCsrf])
def logout(request: Request) -> Response:
    """End the session."""
    request.session.clear()
    return _see_other("/login")


@router.get("/lang/{code}")
def language(code: str, next: str | None = None) -> Response:
    """Switch the language (``it`` or ``en``), remembered in a cookie."""
    if code not in LOCALES:
        raise HTTPException(status_code=404, detail="lingua non disponibile")
    response = _see_other(_safe_next(next))
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, httponly=True, samesite="lax")
    return response


@router.get("/")
def home(db: SessionDep, user: OptionalUserDep) -> Response:
    """Send each user where their role works: login, the community list, a dashboard or the member portal."""
    if user is None:
        return _see_other("/login")
    if not user.is_admin and len(user.grants) == 1:
        g = user.grants[0]
        if g.role == "manager" and g.community_id is not None:
            return _see_other(f"/communities/{g.community_id}")
        if g.role == "member" and g.member_id is not None:
            member = db.get(MemberRow, g.member_id)
            if member is not None:
                return _see_other(f"/communities/{member.community_id}/members/{member.external_id}")
    return _see_other("/communities")


@router.get("/communities", response_class=HTMLResponse)
def communities(request: Request, db: SessionDep, user: PageUserDep) -> Response:
    """The communities the user may read, and their own member pages."""
    rows = [
        c
        for c in list_communities(db, limit=10_000)
        if authorize(user, "community:read", c.id, municipality=c.municipality)
    ]
    own = []
    for g in user.grants:
        if g.role == "member" and g.member_id is not None:
            m = db.get(MemberRow, g.member_id)
            if m is not None:
                own.append(m)
    return render(request, "communities.html", {"communities": rows, "own": own}, user=user)


def _dashboard_context(db: Session, engine: Any, row: CommunityRow, user: Principal) -> dict[str, Any]:
    community = load_community(db, row.id)
    agg, pods_with_readings = cached_aggregates(db, row.id)
    settled = list_settlements(db, row.id, limit=1000)
    warnings: list[str] = []
    if agg.empty:
        warnings.append("Nessuna lettura caricata")
    else:
        warnings += check_coverage(community, pods_with_readings)
    if settled:
        latest = get_settlement(db, settled[0].id)
        if latest is not None:
            warnings += [str(w) for w in latest.document.get("warnings", [])]
    return {
        "row": row,
        "community": community,
        "agg": agg,
        "settlements": settled,
        "warnings": warnings,
        "can_write": authorize(user, "community:write", row.id, municipality=row.municipality),
        "kinds": MEMBER_KINDS,
        "technologies": TECHNOLOGIES,
        "errors": {},
        "form": {},
    }


def _dashboard_charts(ctx: dict[str, Any], t: Any) -> dict[str, str]:
    agg: charts.Aggregates = ctx["agg"]
    if agg.empty:
        return {}
    month = charts.monthly(agg)
    names = {"withdrawn": t("Prelievo"), "injected": t("Immissione"), "shared": t("Energia condivisa")}
    series = {names[k]: [round(float(v), 1) for v in month[k]] for k in names}
    week = charts.last_days(agg, 7)
    hourly = {names[k]: [round(float(v), 2) for v in week[k]] for k in names}
    out = {
        "monthly": charts.bars(list(month.index), series, t("Energia per mese"), "chart-monthly", "kWh"),
        "hourly": charts.lines(
            [x.isoformat() for x in week.index], hourly, t("Energia oraria, ultimi 7 giorni"), "chart-hourly", "kWh"
        ),
    }
    settled = list(reversed(ctx["settlements"]))
    if settled:
        labels = [f"{s.period_start:%Y-%m-%d}/{s.period_end:%m-%d}" for s in settled]
        out["money"] = charts.bars(
            labels,
            {t("Incentivi"): [s.total_cents / 100 for s in settled]},
            t("Incentivi per periodo"),
            "chart-money",
            "€",
        )
    return out


def _dashboard(
    request: Request,
    db: Session,
    engine: Any,
    row: CommunityRow,
    user: Principal,
    *,
    errors: dict[str, list[Problem]] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _dashboard_context(db, engine, row, user)
    locale = locale_of(request)

    def t(message: str) -> str:
        return gettext(locale, message)

    ctx["charts"] = _dashboard_charts(ctx, t)
    ctx["errors"] = errors or {}
    ctx["form"] = form or {}
    return render(request, "dashboard.html", ctx, user=user, status_code=status_code)


@router.get("/communities/{community_id}", response_class=HTMLResponse)
def dashboard(request: Request, community_id: int, db: SessionDep, engine: EngineDep, user: PageUserDep) -> Response:
    """The manager's dashboard of one community."""
    row = community_or_404(db, community_id)
    require(user, "community:read", row)
    return _dashboard(request, db, engine, row, user)


def _form_change(
    request: Request,
    db: Session,
    engine: Any,
    row: CommunityRow,
    user: Principal,
    section: str,
    data: dict[str, str],
    change: Callable[[], object],
) -> Response:
    """Apply a dashboard form: on success back to the section with a flash, on bad input the dashboard again with
    the problems next to the form and the values typed (422)."""
    try:
        change()
    except InputError as exc:
        return _dashboard(request, db, engine, row, user, errors={section: exc.problems}, form=data, status_code=422)
    request.session["flash"] = f"{section}:{data['id']}"
    return _see_other(f"/communities/{row.id}#{section}s")


@router.post("/communities/{community_id}/members", response_class=HTMLResponse, dependencies=[FormCsrf])
def add_member(
    request: Request,
    community_id: int,
    db: SessionDep,
    engine: EngineDep,
    user: PageUserDep,
    id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "household",
    pod: Annotated[str, Form()] = "",
    cabina: Annotated[str, Form()] = "",
) -> Response:
    """Add a member with one withdrawal point."""
    row = community_or_404(db, community_id)
    require(user, "community:write", row)
    data = {"id": id.strip(), "name": name.strip(), "kind": kind, "pod": pod.strip(), "cabina": cabina.strip()}
    return _form_change(
        request,
        db,
        engine,
        row,
        user,
        "member",
        data,
        lambda: services.add_member(db, row.id, data, user_id=user.user_id),
    )


@router.post("/communities/{community_id}/plants", response_class=HTMLResponse, dependencies=[FormCsrf])
def add_plant(
    request: Request,
    community_id: int,
    db: SessionDep,
    engine: EngineDep,
    user: PageUserDep,
    id: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "",
    pod: Annotated[str, Form()] = "",
    cabina: Annotated[str, Form()] = "",
    technology: Annotated[str, Form()] = "pv",
    power_kw: Annotated[str, Form()] = "",
    commissioning_date: Annotated[str, Form()] = "",
) -> Response:
    """Add a plant."""
    row = community_or_404(db, community_id)
    require(user, "community:write", row)
    data = {
        "id": id.strip(),
        "owner": owner.strip(),
        "pod": pod.strip(),
        "cabina": cabina.strip(),
        "technology": technology,
        "power_kw": power_kw.strip().replace(",", "."),
        "commissioning_date": commissioning_date.strip(),
    }
    return _form_change(request, db, engine, row, user, "plant", data, lambda: services.add_plant(db, row.id, data))


@router.post("/communities/{community_id}/readings", response_class=HTMLResponse, dependencies=[FormCsrf])
async def upload_readings(
    request: Request, community_id: int, db: SessionDep, engine: EngineDep, user: PageUserDep, file: UploadFile
) -> Response:
    """Upload a readings CSV: problems are shown with row and field, and nothing is stored."""
    row = community_or_404(db, community_id)
    require(user, "community:write", row)
    raw = await file.read()
    name = file.filename or "letture.csv"
    try:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError.one("il file non e' testo UTF-8", file=name) from exc
        done = services.upload_readings(engine, db, community_id, text, name=name, user_id=user.user_id)
    except InputError as exc:
        return _dashboard(request, db, engine, row, user, errors={"readings": exc.problems}, status_code=422)
    request.session["flash"] = f"readings:{done.result.rows_in}"
    return _see_other(f"/communities/{community_id}#readings")


@router.post("/communities/{community_id}/settlements", response_class=HTMLResponse, dependencies=[FormCsrf])
def run_settlement(
    request: Request,
    community_id: int,
    db: SessionDep,
    engine: EngineDep,
    user: PageUserDep,
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
) -> Response:
    """Settle a period and show the stored settlement."""
    row = community_or_404(db, community_id)
    require(user, "community:write", row)
    try:
        try:
            first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError as exc:
            raise InputError.one("data non valida (AAAA-MM-GG)", field="start/end") from exc
        sid = services.run_settlement(engine, db, community_id, first, last)
    except InputError as exc:
        form = {"start": start, "end": end}
        return _dashboard(request, db, engine, row, user, errors={"settle": exc.problems}, form=form, status_code=422)
    return _see_other(f"/communities/{community_id}/settlements/{sid}")


def _stored(db: Session, community_id: int, settlement_id: int, user: Principal) -> tuple[CommunityRow, Any]:
    row = community_or_404(db, community_id)
    stored = get_settlement(db, settlement_id)
    if stored is None or stored.community_id != community_id:
        raise HTTPException(status_code=404, detail="ripartizione non trovata")
    require(user, "community:read", row)
    return row, stored


@router.get("/communities/{community_id}/settlements/{settlement_id}", response_class=HTMLResponse)
def settlement_page(
    request: Request, community_id: int, settlement_id: int, db: SessionDep, user: PageUserDep
) -> Response:
    """One stored settlement: totals, allocation per recipient, warnings."""
    row, stored = _stored(db, community_id, settlement_id, user)
    return render(request, "settlement.html", {"row": row, "s": stored, "doc": stored.document}, user=user)


@router.get("/communities/{community_id}/settlements/{settlement_id}/lines.csv")
def settlement_csv(community_id: int, settlement_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """The allocation lines of a settlement as CSV (amounts in euro with a dot)."""
    _, stored = _stored(db, community_id, settlement_id, user)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["recipient", "rule", "basis", "amount_eur"])
    for x in stored.lines:
        rule = "excess" if x.rule is None else x.rule
        writer.writerow([x.recipient, rule, x.basis or "", f"{x.amount_cents / 100:.2f}"])
    filename = f"ripartizione-{community_id}-{settlement_id}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/communities/{community_id}/members/{member}", response_class=HTMLResponse)
def member_portal(
    request: Request, community_id: int, member: str, db: SessionDep, engine: EngineDep, user: PageUserDep
) -> Response:
    """The member portal: own curve against the community's production, shared energy, earnings, best hours."""
    row = community_or_404(db, community_id)
    member_id = member_row_id(db, community_id, member)
    if member_id is None:
        raise HTTPException(status_code=404, detail="socio non trovato")
    require(user, "member:read", row, member_id)
    community = load_community(db, community_id)
    found = next(m for m in community.members if m.id == member)
    agg, _ = cached_aggregates(db, community_id, [p.pod for p in found.pods])
    statement = services.member_statement(db, community_id, member)
    locale = locale_of(request)

    def t(message: str) -> str:
        return gettext(locale, message)

    figures: dict[str, str] = {}
    if not agg.empty:
        week = charts.last_days(agg, 7)
        figures["curve"] = charts.lines(
            [x.isoformat() for x in week.index],
            {
                t("Il mio prelievo"): [round(float(v), 3) for v in week["own"]],
                t("Produzione immessa dalla comunità"): [round(float(v), 2) for v in week["injected"]],
            },
            t("Il mio consumo e la produzione della comunità, ultimi 7 giorni"),
            "chart-curve",
            "kWh",
        )
        surplus = charts.surplus_by_hour(agg)
        figures["hours"] = charts.bars(
            [f"{h:02d}:00" for h in surplus.index],
            {t("Eccedenza media della comunità"): [round(float(v), 2) for v in surplus]},
            t("Le ore migliori per consumare"),
            "chart-hours",
            "kWh",
        )
        best = [int(h) for h in surplus.sort_values(ascending=False).index[:3] if surplus[h] > 0]
    else:
        best = []
    if statement:
        figures["earnings"] = charts.bars(
            [f"{x.period_start:%Y-%m-%d}" for x in statement],
            {t("Il mio incentivo"): [x.amount_eur for x in statement]},
            t("I miei incentivi per periodo"),
            "chart-earnings",
            "€",
        )
    context = {
        "row": row,
        "member": found,
        "statement": statement,
        "total_eur": sum(x.amount_eur for x in statement),
        "shared_kwh": sum(x.shared_withdrawal_kwh for x in statement),
        "charts": figures,
        "best_hours": sorted(best),
    }
    return render(request, "member.html", context, user=user)


@router.get("/communities/{community_id}/members/{member}/my-data.json")
def member_data_export(community_id: int, member: str, db: SessionDep, user: PageUserDep) -> Response:
    """The member's own data (GDPR art. 15 and 20) as a JSON download; recorded in the audit log.

    The member themself, and those who run the community for its members (its managers, the platform's
    administrator): the file holds email, IBAN and the audit trail, so municipal officers, who may look at the
    portal, may not download it.
    """
    row = community_or_404(db, community_id)
    member_id = member_row_id(db, community_id, member)
    if member_id is None:
        raise HTTPException(status_code=404, detail="socio non trovato")
    require(user, "member:read", row, member_id)
    own = any(g.role == "member" and g.member_id == member_id for g in user.grants)
    if not own and not authorize(user, "community:write", row.id):
        raise HTTPException(status_code=403, detail="accesso negato: solo il socio o chi gestisce la comunità")
    try:
        data = export_member(db, community_id, member)
        record_export(db, community_id, member)
    except NotFoundError as exc:
        db.rollback()
        raise HTTPException(status_code=404, detail="socio non trovato") from exc
    db.commit()
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", member).strip("-.") or "socio"
    filename = f"condivisa-dati-{safe}-{dt.datetime.now(ZoneInfo('Europe/Rome')).date().isoformat()}.json"
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n",
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _require_admin(user: Principal) -> None:
    if not authorize(user, "platform:write", None):
        raise HTTPException(status_code=403, detail="accesso negato")


def _users_page(
    request: Request,
    db: Session,
    user: Principal,
    *,
    errors: dict[str, list[Problem]] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    users = db.scalars(select(User).options(selectinload(User.roles)).order_by(User.email)).all()
    communities = {c.id: c.name for c in list_communities(db, limit=10_000)}
    members = {m.id: m.external_id for m in db.scalars(select(MemberRow))}
    listed = [
        {
            "id": u.id,
            "email": u.email,
            "display_name": u.display_name,
            "locale": u.locale,
            "active": u.active,
            "roles": [
                {
                    "role": r.role,
                    "community": communities.get(r.community_id) if r.community_id is not None else None,
                    "member": members.get(r.member_id) if r.member_id is not None else None,
                    "municipality": r.municipality,
                }
                for r in u.roles
            ],
        }
        for u in users
    ]
    context = {
        "users": listed,
        "communities": communities,
        "roles": ROLES,
        "locales": LOCALES,
        "errors": errors or {},
        "form": form or {},
    }
    return render(request, "admin_users.html", context, user=user, status_code=status_code)


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(request: Request, db: SessionDep, user: PageUserDep) -> Response:
    """Users of the installation with their roles; forms to create a user and to assign a role (admins only)."""
    _require_admin(user)
    return _users_page(request, db, user)


@router.post("/admin/users", response_class=HTMLResponse, dependencies=[FormCsrf])
def admin_create_user(
    request: Request,
    db: SessionDep,
    user: PageUserDep,
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    locale: Annotated[str, Form()] = "it",
) -> Response:
    """Create a user (password of at least 8 characters, stored as an argon2 hash)."""
    _require_admin(user)
    form = {"email": email.strip(), "display_name": display_name.strip(), "locale": locale}
    try:
        services.create_user_account(
            db, email=form["email"], display_name=form["display_name"], password=password, locale=locale
        )
    except InputError as exc:
        return _users_page(request, db, user, errors={"user": exc.problems}, form=form, status_code=422)
    request.session["flash"] = form["email"]
    return _see_other("/admin/users")


@router.post("/admin/users/roles", response_class=HTMLResponse, dependencies=[FormCsrf])
def admin_assign_role(
    request: Request,
    db: SessionDep,
    user: PageUserDep,
    user_id: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    community_id: Annotated[str, Form()] = "",
    member: Annotated[str, Form()] = "",
    municipality: Annotated[str, Form()] = "",
) -> Response:
    """Give a user a role with its scope: a community (manager, member), a member id (member), a municipality
    (officer)."""
    _require_admin(user)
    form = {
        "user_id": user_id,
        "role": role,
        "community_id": community_id,
        "member": member.strip(),
        "municipality": municipality.strip(),
    }
    try:
        try:
            uid = int(user_id)
            cid = int(community_id) if community_id.strip() else None
        except ValueError as exc:
            raise InputError.one("utente o comunita' non valido", field="user_id") from exc
        services.grant_role(
            db,
            user_id=uid,
            role=role,
            community_id=cid,
            member=form["member"] or None,
            municipality=form["municipality"] or None,
        )
    except InputError as exc:
        return _users_page(request, db, user, errors={"role": exc.problems}, form=form, status_code=422)
    request.session["flash"] = role
    return _see_other("/admin/users")
