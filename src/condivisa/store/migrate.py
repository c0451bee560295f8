"""Run the database migrations from code (what ``condivisa db upgrade`` does).

The migration scripts ship inside the package (``condivisa/store/migrations``) and are found through
:mod:`importlib.resources`, so an installed Condivisa upgrades its database without a checkout or an
``alembic.ini``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import as_file, files
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from condivisa.store.db import make_engine, normalise_url

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported by the functions that use it: a quarter of a second off every command's start.


@contextmanager
def alembic_config(url: str | URL) -> Iterator[Config]:
    """An Alembic configuration for ``url`` with the packaged migration scripts.

    Parameters
    ----------
    url : str or sqlalchemy.engine.URL
        Database URL (see :func:`condivisa.store.db.make_engine`).

    Yields
    ------
    alembic.config.Config
        Ready for :mod:`alembic.command` functions; valid inside the ``with`` block.
    """
    from alembic.config import Config

    with as_file(files("condivisa.store").joinpath("migrations")) as location:
        config = Config()
        config.set_main_option("script_location", str(location))
        config.attributes["url"] = normalise_url(url).render_as_string(hide_password=False)
        yield config


def upgrade(url: str | URL, revision: str = "head") -> str | None:
    """Bring the database at ``url`` to ``revision`` (default: the latest), creating the tables if needed.

    Running it again on an up-to-date database changes nothing. All the steps run in one transaction on
    PostgreSQL and SQLite alike: a failed upgrade leaves the schema as it was.

    Returns
    -------
    str or None
        The revision the database is at afterwards.
    """
    from alembic import command

    with alembic_config(url) as config:
        command.upgrade(config, revision)
    return current_revision(url)


def current_revision(url: str | URL) -> str | None:
    """The revision the database at ``url`` is at, or None for a database never migrated."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The latest revision shipped with this version of Condivisa."""
    from alembic.script import ScriptDirectory

    with alembic_config("sqlite://") as config:
        head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise RuntimeError("nessuna migrazione trovata nel pacchetto")
    return head
