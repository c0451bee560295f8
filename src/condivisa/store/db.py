"""Engines and sessions for SQLite (one-file installations, tests) and PostgreSQL (servers).

The URL always comes from the caller (the command line's ``--db``, later the settings object): nothing in
:mod:`condivisa.store` reads the environment.

SQLite connections get foreign keys on, write-ahead logging (readers do not block the writer), a busy timeout
and real transactions: the driver's own implicit transaction handling is switched off and every transaction
starts with an explicit ``BEGIN``, so that reads, writes and schema changes (migrations) are atomic together.
PostgreSQL goes through psycopg 3 (``postgresql+psycopg://``); ``postgresql://`` and ``postgres://`` URLs are
taken to mean the same.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

DEFAULT_URL = "sqlite:///condivisa.db"
"""Database used when none is given: a SQLite file ``condivisa.db`` in the working directory."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for another writer's lock before failing [ms]."""


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL; plain PostgreSQL URLs are pointed at the psycopg 3 driver.

    Parameters
    ----------
    url : str or sqlalchemy.engine.URL
        ``sqlite:///path.db``, ``sqlite://`` (in memory), ``postgresql+psycopg://user@host:port/db``;
        ``postgresql://`` and ``postgres://`` are accepted as ``postgresql+psycopg://``.

    Raises
    ------
    sqlalchemy.exc.ArgumentError
        The text is not a database URL.
    """
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(url: str | URL) -> bool:
    """Whether the URL names a SQLite database."""
    return normalise_url(url).get_backend_name() == "sqlite"


def _sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Autocommit at the driver level: SQLAlchemy's "begin" event below then emits BEGIN itself, so every
    # statement of a transaction (SELECT and DDL included) is inside it. PRAGMAs must run outside transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create the engine for a database URL.

    Parameters
    ----------
    url : str or sqlalchemy.engine.URL
        See :func:`normalise_url`. In-memory SQLite (``sqlite://``) works but each pooled connection sees its
        own empty database; use a file for anything but quick experiments.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine` (``echo=True`` to log SQL, pool settings...).

    Returns
    -------
    sqlalchemy.Engine
        For SQLite: foreign keys, WAL journal, 30 s busy timeout and explicit ``BEGIN`` on every connection.
        For PostgreSQL: psycopg 3 with ``pool_pre_ping`` (connections dropped by the server are replaced).
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_connect)

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session maker bound to ``engine``; objects stay readable after commit (``expire_on_commit=False``).

    Examples
    --------
    >>> engine = make_engine("sqlite://")
    >>> Session = session_factory(engine)
    >>> with Session() as session:
    ...     pass
    """
    return sessionmaker(bind=engine, expire_on_commit=False)
