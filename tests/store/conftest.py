"""Database fixtures: every test that takes ``db_url`` runs on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL is the server on 127.0.0.1:5432 (user ``postgres``, trust authentication). The test session creates
its own databases ``condivisa_test_<random>...`` and drops them at the end; the PostgreSQL parameters carry the
``postgres`` marker and are skipped when the server cannot be reached.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from condivisa.demo import demo_community, demo_prices, demo_readings
from condivisa.engine.timegrid import Period
from condivisa.ingest import Prices, Readings, parse_prices_csv
from condivisa.model import Community
from condivisa.store import make_engine, session_factory, upgrade
from condivisa.store.models import Base

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

DEMO_PERIOD = Period(dt.date(2025, 6, 1), dt.date(2025, 6, 3))
"""Three local days of the demo year: small enough for fast tests, with PV and a full regulation."""


class PgDatabases:
    """Creates databases on the local server and drops them all at the end of the session."""

    def __init__(self) -> None:
        self.prefix = f"condivisa_test_{secrets.token_hex(4)}"
        self.names: list[str] = []

    def create(self) -> str:
        name = f"{self.prefix}_{len(self.names)}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.names.append(name)
        return PG_URL.format(name=name)

    def drop_all(self) -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            for name in self.names:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    try:
        psycopg.connect(PG_ADMIN).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL non raggiungibile su 127.0.0.1:5432: {exc}")
    dbs = PgDatabases()
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def pg_migrated(pg_databases: PgDatabases) -> str:
    """One PostgreSQL database at the latest revision, shared by the tests (emptied after each)."""
    url = pg_databases.create()
    upgrade(url)
    return url


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """URL of a database with no tables at all."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    dbs: PgDatabases = request.getfixturevalue("pg_databases")
    return dbs.create()


def _truncate(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a database at the latest revision, empty; emptied again after the test."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'condivisa.db'}"
        upgrade(url)
        yield url
        return
    url = str(request.getfixturevalue("pg_migrated"))
    yield url
    _truncate(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as s:
        yield s


@dataclass(frozen=True)
class Demo:
    """The demo community with three days of its readings and prices."""

    community: Community
    readings: Readings
    prices: Prices
    period: Period


def in_period(frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    mask = (frame["timestamp"] >= period.start_utc) & (frame["timestamp"] < period.end_utc)
    return frame[mask].reset_index(drop=True)


@pytest.fixture(scope="session")
def demo() -> Demo:
    community = demo_community()
    year = demo_readings(community, 2025)
    readings = Readings(
        frame=in_period(year.frame, DEMO_PERIOD), interval_minutes=dict(year.interval_minutes), source="demo"
    )
    prices = parse_prices_csv(io.StringIO(demo_prices(2025).to_csv(index=False)), name="prices.csv")
    prices = Prices(frame=in_period(prices.frame, DEMO_PERIOD), source=prices.source)
    return Demo(community, readings, prices, DEMO_PERIOD)
