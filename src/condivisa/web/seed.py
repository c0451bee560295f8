"""Demo data for ``condivisa serve --demo`` and the web tests: community, readings, prices, settlements, users.

Demo logins (password for all of them: :data:`DEMO_PASSWORD`):

- ``admin@demo.condivisa.it``: platform administrator;
- ``gestore@demo.condivisa.it``: manager of "CER Borgo Demo";
- ``socio@demo.condivisa.it``: member ``m10`` of "CER Borgo Demo" (the member portal);
- ``comune@demo.condivisa.it``: officer of the municipality "Borgo Demo" (read-only).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from condivisa.demo import demo_community, demo_prices, demo_readings
from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.ingest import Readings, parse_prices_csv
from condivisa.store import (
    assign_role,
    create_user,
    find_community,
    get_user_by_email,
    import_prices,
    import_readings,
    list_settlements,
    member_row_id,
    save_community,
    session_factory,
)
from condivisa.store.municipalities import ensure_municipality
from condivisa.web.security import hash_password
from condivisa.web.services import run_settlement

DEMO_MUNICIPALITY = "Borgo Demo"
DEMO_PASSWORD = "demo-condivisa"
DEMO_USERS = {
    "admin": "admin@demo.condivisa.it",
    "manager": "gestore@demo.condivisa.it",
    "member": "socio@demo.condivisa.it",
    "officer": "comune@demo.condivisa.it",
}


@dataclass(frozen=True)
class DemoInstall:
    """What :func:`seed_demo` stored: the community id and the demo logins (email by role)."""

    community_id: int
    users: dict[str, str]
    settlements: int


def _user(session: Session, email: str, name: str) -> int:
    found = get_user_by_email(session, email=email)
    if found is not None:
        return found.id
    return create_user(session, email=email, password_hash=hash_password(DEMO_PASSWORD), display_name=name).id


def _window(readings: Readings, start: dt.date, end: dt.date) -> Readings:
    lo = pd.Timestamp(start).tz_localize(LOCAL_TZ)
    hi = pd.Timestamp(end + dt.timedelta(days=1)).tz_localize(LOCAL_TZ)
    f = readings.frame
    frame = f[(f["timestamp"] >= lo) & (f["timestamp"] < hi)].reset_index(drop=True)
    return Readings(frame=frame, interval_minutes=readings.interval_minutes, source=readings.source)


def seed_demo(engine: Engine, *, year: int = 2025, days: int | None = None, months: int = 3) -> DemoInstall:
    """Load the demo into a migrated database; running it again keeps what is there.

    Parameters
    ----------
    engine : Engine
    year : int
        Year of the readings and prices.
    days : int, optional
        Only the first ``days`` days of readings (tests); default the whole year.
    months : int
        Monthly settlements stored for the first months (only when the database has none).
    """
    sessions = session_factory(engine)
    community = demo_community()
    with sessions() as session:
        cid = find_community(session, community.name)
        fresh = cid is None
        if cid is None:
            cid = save_community(session, community, municipality=DEMO_MUNICIPALITY, source="demo")
    if fresh:
        readings = demo_readings(community, year)
        if days is not None:
            readings = _window(readings, dt.date(year, 1, 1), dt.date(year, 1, 1) + dt.timedelta(days=days - 1))
        import_readings(engine, cid, readings, source="demo")
        prices = demo_prices(year)
        import_prices(engine, parse_prices_csv(io.StringIO(prices.to_csv(index=False)), name="demo-prezzi.csv"))
    with sessions() as session:
        if not list_settlements(session, cid, limit=1):
            for k in range(months if days is None else 0):
                first = dt.date(year, k + 1, 1)
                last = (pd.Timestamp(first) + pd.offsets.MonthEnd(0)).date()
                run_settlement(engine, session, cid, first, last)
        admin = _user(session, DEMO_USERS["admin"], "Amministratore demo")
        assign_role(session, user_id=admin, role="platform_admin")
        manager = _user(session, DEMO_USERS["manager"], "Gestore CER Borgo Demo")
        assign_role(session, user_id=manager, role="manager", community_id=cid)
        member = _user(session, DEMO_USERS["member"], "Socio m10")
        mid = member_row_id(session, cid, "m10")
        if mid is not None:
            assign_role(session, user_id=member, role="member", community_id=cid, member_id=mid)
        ensure_municipality(
            session,
            DEMO_MUNICIPALITY,
            region="Piemonte",
            province="TO",
            latitude=45.07,
            longitude=7.69,
            slug="borgo-demo",
        )
        officer = _user(session, DEMO_USERS["officer"], "Ufficio tecnico Borgo Demo")
        assign_role(session, user_id=officer, role="municipality_officer", municipality=DEMO_MUNICIPALITY)
        count = len(list_settlements(session, cid, limit=1000))
    return DemoInstall(cid, dict(DEMO_USERS), count)
