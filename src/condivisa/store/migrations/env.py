"""Alembic environment of the Condivisa database.

The metadata comes from :mod:`condivisa.store.models`; the URL is passed in code by :mod:`condivisa.store.migrate`
(``config.attributes["url"]``), or by hand with ``alembic -x url=...`` or ``sqlalchemy.url``.

On SQLite, migrations are rendered in batch mode (SQLite alters tables by copying them) and run with foreign keys
switched off for the duration, as SQLite's own procedure for schema changes prescribes; a foreign-key check then
runs before the commit, so a migration that would leave dangling references is rolled back.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.pool import NullPool

from condivisa.store.db import is_sqlite, make_engine
from condivisa.store.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = (
        config.attributes.get("url")
        or context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise RuntimeError("nessun database indicato: passare l'URL (condivisa db upgrade --db URL, alembic -x url=)")
    return str(url)


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our UTC type as the plain SQLAlchemy type it stores, so revisions do not import the package."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _options(sqlite: bool) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "render_as_batch": sqlite,
        "compare_type": True,
        "render_item": _render_item,
    }


def run_offline() -> None:
    """Write the SQL of the migrations instead of running them (``alembic upgrade head --sql``)."""
    url = _url()
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **_options(is_sqlite(url)))
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.driver_connection if sqlite else None
    if raw is not None:
        raw.execute("PRAGMA foreign_keys = OFF")  # outside any transaction, where SQLite honours it
    try:
        context.configure(connection=connection, **_options(sqlite))
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if dangling:
                    raise RuntimeError(f"la migrazione lascia riferimenti non validi: {dangling[:10]}")
    finally:
        if raw is not None:
            raw.execute("PRAGMA foreign_keys = ON")


def run_online() -> None:
    """Run the migrations on a connection of their own."""
    engine = make_engine(_url(), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
