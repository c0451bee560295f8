"""Weather observations of a community in ``weather_observations``: idempotent upsert and read-back.

The key is (community, ``ts``): storing the same observation again changes nothing, a different value for the
same instant replaces the stored one. Both SQLite and PostgreSQL run ``INSERT ... ON CONFLICT (community_id, ts)
DO UPDATE ... WHERE`` a value differs, so an unchanged row is not rewritten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from condivisa.live.payload import WeatherReading
from condivisa.store.models import WeatherObservation

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

CHUNK_ROWS = 1000
"""Rows per ``INSERT`` statement (5 bound values each: well within SQLite's limit on variables)."""


def _instant(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=us)


def upsert_weather(bind: Engine | Connection, community_id: int, observations: Sequence[WeatherReading]) -> int:
    """Store weather observations of a community (an idempotent upsert keyed by community and ``ts``).

    Parameters
    ----------
    bind : Engine or Connection
        An Engine runs its own transaction (committed before returning); a Connection writes in the caller's.
    community_id : int
        Must exist (foreign key).
    observations : sequence of WeatherReading
        ``ghi_w_m2`` [W/m²], ``temp_air_c`` [°C], ``wind_speed_m_s`` [m/s]; for the same ``ts`` twice the last
        one counts.

    Returns
    -------
    int
        Distinct instants written or confirmed.
    """
    last: dict[int, WeatherReading] = {}
    for obs in observations:
        last[obs.ts_us] = obs
    if not last:
        return 0
    rows = [
        {
            "community_id": community_id,
            "ts": _instant(o.ts_us),
            "ghi_w_m2": o.ghi_w_m2,
            "temp_air_c": o.temp_air_c,
            "wind_speed_m_s": o.wind_speed_m_s,
        }
        for o in sorted(last.values(), key=lambda o: o.ts_us)
    ]
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            _upsert(conn, rows)
    else:
        _upsert(bind, rows)
    return len(rows)


def _upsert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    for lo in range(0, len(rows), CHUNK_ROWS):
        _upsert_chunk(conn, rows[lo : lo + CHUNK_ROWS])


def _upsert_chunk(conn: Connection, rows: list[dict[str, Any]]) -> None:
    table = WeatherObservation.__table__
    assert isinstance(table, Table)
    stmt = (postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)).values(rows)
    new = stmt.excluded
    changed = (
        table.c.ghi_w_m2.is_distinct_from(new.ghi_w_m2)
        | table.c.temp_air_c.is_distinct_from(new.temp_air_c)
        | table.c.wind_speed_m_s.is_distinct_from(new.wind_speed_m_s)
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.c.community_id, table.c.ts],
            set_={"ghi_w_m2": new.ghi_w_m2, "temp_air_c": new.temp_air_c, "wind_speed_m_s": new.wind_speed_m_s},
            where=changed,
        )
    )


def load_weather(
    bind: Engine | Connection,
    community_id: int,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> pd.DataFrame:
    """Stored observations of a community with ``start <= ts < end``, by instant.

    Returns
    -------
    pandas.DataFrame
        ``timestamp`` (UTC), ``ghi_w_m2`` [W/m²], ``temp_air_c`` [°C], ``wind_speed_m_s`` [m/s] (NaN when not
        observed).
    """
    t = WeatherObservation
    query = (
        select(t.ts, t.ghi_w_m2, t.temp_air_c, t.wind_speed_m_s).where(t.community_id == community_id).order_by(t.ts)
    )
    if start is not None:
        query = query.where(t.ts >= start)
    if end is not None:
        query = query.where(t.ts < end)
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            rows = conn.execute(query).all()
    else:
        rows = bind.execute(query).all()
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex([r[0] for r in rows], dtype="datetime64[us, UTC]"),
            "ghi_w_m2": np.asarray([r[1] for r in rows], dtype=np.float64),
            "temp_air_c": np.asarray([np.nan if r[2] is None else r[2] for r in rows], dtype=np.float64),
            "wind_speed_m_s": np.asarray([np.nan if r[3] is None else r[3] for r in rows], dtype=np.float64),
        }
    )
