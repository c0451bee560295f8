"""Pages for running a community: monitoring and alarms, quarantine, demand-response campaigns, the ledger; for
members their green hours and statements; public green-hours feeds (iCalendar and JSON) behind a signed link.

The feeds need no login (a calendar application cannot log in): the link carries a token signed with the
application's secret key that names the community, and the feed holds only the community's forecast (no personal
data). Access to the pages goes through :func:`condivisa.web.access.authorize` like every other page.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.errors import InputError
from condivisa.model import Community
from condivisa.operations.community_forecast import (
    DEFAULT_HISTORY_DAYS,
    community_green_hours,
    history_window,
    site_of,
)
from condivisa.operations.forecast import DEFAULT_RATIO_DAYS
from condivisa.operations.green_hours import GreenHoursReport, green_hours_ical, green_hours_json
from condivisa.operations.monitoring import (
    ALARM_KIND_LABELS,
    DEFAULT_THRESHOLDS,
    daily_statistics,
    detect_alarms,
    hour_snapshot,
    latest_hour,
)
from condivisa.store import load_community, load_readings, member_row_id
from condivisa.store.alarms import acknowledge_alarm, close_alarm, list_alarms, sync_alarms
from condivisa.store.campaigns import compute_and_store_rewards, create_campaign, list_campaigns, rewards_of_member
from condivisa.store.ledger import verify_database
from condivisa.store.models import CommunityRow, ReadingRow
from condivisa.store.quarantine import list_quarantine, release_quarantined
from condivisa.web.access import Principal
from condivisa.web.deps import EngineDep, FormCsrf, PageUserDep, SessionDep, community_or_404, render, require

router = APIRouter(include_in_schema=False)

FEED_SALT = "condivisa-ore-verdi"


def feed_token(request: Request, community_id: int) -> str:
    """The signed token of a community's green-hours feed."""
    return URLSafeSerializer(request.app.state.secret_key, salt=FEED_SALT).dumps(community_id)


def _feed_community(request: Request, token: str) -> int:
    try:
        value = URLSafeSerializer(request.app.state.secret_key, salt=FEED_SALT).loads(token)
    except BadSignature as exc:
        raise HTTPException(status_code=404, detail="feed non trovato") from exc
    if not isinstance(value, int):
        raise HTTPException(status_code=404, detail="feed non trovato")
    return value


def _last_reading(db: Session, community_id: int) -> pd.Timestamp | None:
    value = db.execute(select(func.max(ReadingRow.ts)).where(ReadingRow.community_id == community_id)).scalar()
    return None if value is None else pd.Timestamp(value).tz_convert("UTC")


def forecast_day(db: Session, community_id: int) -> dt.date:
    """Tomorrow, or the day after the latest readings when they are older (a demo or a late data feed)."""
    tomorrow = (pd.Timestamp.now(tz=LOCAL_TZ) + pd.Timedelta(days=1)).date()
    last = _last_reading(db, community_id)
    if last is None:
        return tomorrow
    return min(tomorrow, last.tz_convert(LOCAL_TZ).date() + dt.timedelta(days=1))


def green_report(db: Session, community_id: int, day: dt.date) -> GreenHoursReport | None:
    """The community's green hours of ``day`` (None when its site is unknown)."""
    community = load_community(db, community_id)
    site = site_of(community)
    if site is None:
        return None
    window = history_window(day, DEFAULT_HISTORY_DAYS, DEFAULT_RATIO_DAYS)
    readings = load_readings(db, community_id, start=window.start_utc, end=window.end_utc)
    return community_green_hours(community, readings, day, site, window=window)


def _check_alarms(engine: Engine, db: Session, community: Community, community_id: int) -> None:
    """Run the alarm checks at the latest data (or now) and update the stored alarms."""
    last = _last_reading(db, community_id)
    now = pd.Timestamp.now(tz="UTC") if last is None else min(pd.Timestamp.now(tz="UTC"), last + pd.Timedelta(hours=1))
    start = now - DEFAULT_THRESHOLDS.lookback
    readings = load_readings(db, community_id, start=start, end=now)
    findings = detect_alarms(readings, community, now.to_pydatetime())
    sync_alarms(db, community_id, findings, now.to_pydatetime())


def _operations_context(db: Session, row: CommunityRow, user: Principal, request: Request) -> dict[str, Any]:
    community = load_community(db, row.id)
    last = _last_reading(db, row.id)
    snapshot = None
    daily: list[dict[str, Any]] = []
    if last is not None:
        readings = load_readings(db, row.id, start=last - pd.Timedelta(days=7), end=last + pd.Timedelta(hours=1))
        hour = latest_hour(readings, community, last + pd.Timedelta(hours=1))
        if hour is not None:
            snapshot = hour_snapshot(readings, community, hour)
        end = last.tz_convert(LOCAL_TZ).date()
        stats = daily_statistics(readings, community, start=end - dt.timedelta(days=6), end=end)
        daily = [{str(k): v for k, v in r.items()} for r in stats.reset_index().to_dict("records")]
    verify = verify_database(db)
    return {
        "row": row,
        "snapshot": snapshot,
        "daily": daily,
        "alarms": list_alarms(db, row.id, ["open", "acknowledged"]),
        "kind_labels": ALARM_KIND_LABELS,
        "quarantine": list_quarantine(db, row.id, limit=50),
        "campaigns": list_campaigns(db, row.id),
        "ledger": verify,
        "feed": feed_token(request, row.id),
    }


@router.get("/communities/{community_id}/operations", response_class=HTMLResponse)
def operations_page(request: Request, community_id: int, db: SessionDep, user: PageUserDep) -> Response:
    """Monitoring, alarms, quarantine, campaigns and ledger of a community."""
    row = community_or_404(db, community_id)
    require(user, "community:read", row)
    return render(request, "operations.html", _operations_context(db, row, user, request), user=user)


def _back(community_id: int, section: str) -> RedirectResponse:
    return RedirectResponse(f"/communities/{community_id}/operations#{section}", status_code=303)


@router.post("/communities/{community_id}/alarms/check", dependencies=[FormCsrf])
def check_alarms(community_id: int, db: SessionDep, engine: EngineDep, user: PageUserDep) -> Response:
    """Run the alarm checks now."""
    row = community_or_404(db, community_id)
    require(user, "community:write", row)
    _check_alarms(engine, db, load_community(db, community_id), community_id)
    return _back(community_id, "alarms")


@router.post("/communities/{community_id}/alarms/{alarm_id}/{action}", dependencies=[FormCsrf])
def change_alarm(community_id: int, alarm_id: int, action: str, db: SessionDep, user: PageUserDep) -> Response:
    """Acknowledge (``ack``) or close (``close``) an alarm of the community."""
    row = community_or_404(db, community_id)
    require(user, "community:write", row)
    if action not in ("ack", "close"):
        raise HTTPException(status_code=404, detail="azione sconosciuta")
    if not any(a.id == alarm_id for a in list_alarms(db, community_id)):
        raise HTTPException(status_code=404, detail="allarme non trovato")
    if action == "ack":
        acknowledge_alarm(db, alarm_id, user.user_id)
    else:
        close_alarm(db, alarm_id)
    return _back(community_id, "alarms")


@router.post("/communities/{community_id}/quarantine/release", dependencies=[FormCsrf])
def release(community_id: int, db: SessionDep, engine: EngineDep, user: PageUserDep) -> Response:
    """Store the quarantined readings that have become usable."""
    row = community_or_404(db, community_id)
    require(user, "community:write", row)
    db.rollback()  # no read transaction left open while another connection writes (SQLite)
    result = release_quarantined(engine, community_id, user_id=user.user_id)
    request_flash = f"{result.released}/{len(result.still_held)}"
    response = _back(community_id, "quarantine")
    response.headers["X-Condivisa-Released"] = request_flash
    return response


@router.post("/communities/{community_id}/campaigns", response_class=HTMLResponse, dependencies=[FormCsrf])
def new_campaign(
    request: Request,
    community_id: int,
    db: SessionDep,
    user: PageUserDep,
    title: Annotated[str, Form()] = "",
    start_date: Annotated[str, Form()] = "",
    end_date: Annotated[str, Form()] = "",
    window_start_hour: Annotated[str, Form()] = "",
    window_end_hour: Annotated[str, Form()] = "",
    budget_eur: Annotated[str, Form()] = "",
    message: Annotated[str, Form()] = "",
) -> Response:
    """Launch a demand-response campaign; bad fields are shown next to the form (422)."""
    row = community_or_404(db, community_id)
    require(user, "community:write", row)
    try:
        try:
            first, last = dt.date.fromisoformat(start_date), dt.date.fromisoformat(end_date)
        except ValueError as exc:
            raise InputError.one("data non valida (AAAA-MM-GG)", field="start_date/end_date") from exc
        try:
            hours = int(window_start_hour), int(window_end_hour)
            budget = round(float(budget_eur.replace(",", ".")) * 100)
        except ValueError as exc:
            raise InputError.one("ore e budget devono essere numeri", field="window/budget") from exc
        create_campaign(
            db,
            community_id,
            title=title.strip(),
            start_date=first,
            end_date=last,
            window_start_hour=hours[0],
            window_end_hour=hours[1],
            budget_cents=budget,
            message=message.strip(),
            created_by=user.user_id,
        )
    except InputError as exc:
        context = _operations_context(db, row, user, request)
        context["campaign_errors"] = exc.problems
        return render(request, "operations.html", context, user=user, status_code=422)
    return _back(community_id, "campaigns")


@router.post("/communities/{community_id}/campaigns/{campaign_id}/rewards", dependencies=[FormCsrf])
def reward_campaign(
    community_id: int, campaign_id: int, db: SessionDep, engine: EngineDep, user: PageUserDep
) -> Response:
    """Measure the members' response to a campaign and store their rewards."""
    row = community_or_404(db, community_id)
    require(user, "community:write", row)
    if not any(c.id == campaign_id for c in list_campaigns(db, community_id)):
        raise HTTPException(status_code=404, detail="campagna non trovata")
    db.rollback()
    compute_and_store_rewards(engine, campaign_id)
    return _back(community_id, "campaigns")


@router.get("/communities/{community_id}/members/{member}/green-hours", response_class=HTMLResponse)
def member_green_hours(request: Request, community_id: int, member: str, db: SessionDep, user: PageUserDep) -> Response:
    """A member's view of the next day's green hours, the feed links and the member's campaign rewards."""
    row = community_or_404(db, community_id)
    member_id = member_row_id(db, community_id, member)
    if member_id is None:
        raise HTTPException(status_code=404, detail="socio non trovato")
    require(user, "member:read", row, member_id)
    day = forecast_day(db, community_id)
    report = green_report(db, community_id, day)
    rewards = rewards_of_member(db, community_id, member, dt.date(2000, 1, 1), dt.date(2100, 12, 31))
    context = {
        "row": row,
        "member": member,
        "forecast_day": day,
        "report": report,
        "rewards": rewards,
        "feed": feed_token(request, community_id),
    }
    return render(request, "green_hours.html", context, user=user)


@router.get("/feeds/{token}/ore-verdi.ics")
def feed_ics(request: Request, token: str, db: SessionDep) -> Response:
    """The community's green hours of the next day as iCalendar (no login: the signed link is the key)."""
    community_id = _feed_community(request, token)
    community_or_404(db, community_id)
    report = green_report(db, community_id, forecast_day(db, community_id))
    if report is None:
        raise HTTPException(status_code=404, detail="posizione degli impianti sconosciuta")
    return Response(green_hours_ical(report), media_type="text/calendar; charset=utf-8")


@router.get("/feeds/{token}/ore-verdi.json")
def feed_json(request: Request, token: str, db: SessionDep) -> Response:
    """The community's green hours of the next day as JSON (keys documented in ``green_hours_json``)."""
    community_id = _feed_community(request, token)
    community_or_404(db, community_id)
    report = green_report(db, community_id, forecast_day(db, community_id))
    if report is None:
        raise HTTPException(status_code=404, detail="posizione degli impianti sconosciuta")
    body = json.dumps(green_hours_json(report), ensure_ascii=False)
    return Response(body, media_type="application/json; charset=utf-8")


@router.get("/communities/{community_id}/members/{member}/statements/{settlement_id}.pdf")
def member_statement_pdf(
    community_id: int, member: str, settlement_id: int, db: SessionDep, user: PageUserDep
) -> Response:
    """A member's statement (estratto conto) of a stored settlement, as PDF in Italian."""
    from condivisa.report.statement import render_statement_pdf, statement_for
    from condivisa.store import get_settlement

    row = community_or_404(db, community_id)
    member_id = member_row_id(db, community_id, member)
    stored = get_settlement(db, settlement_id)
    if member_id is None or stored is None or stored.community_id != community_id:
        raise HTTPException(status_code=404, detail="estratto conto non trovato")
    require(user, "member:read", row, member_id)
    pdf = render_statement_pdf(statement_for(db, settlement_id, member))
    filename = f"estratto-{member}-{settlement_id}.pdf"
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )
