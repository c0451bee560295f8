"""Data that lasts: SQLAlchemy tables, Alembic migrations and crud-style repository functions.

- :mod:`condivisa.store.db`: engines (SQLite file or PostgreSQL via psycopg 3) and sessions;
- :mod:`condivisa.store.models`: the tables;
- :mod:`condivisa.store.migrate`: ``upgrade(url)`` and ``current_revision(url)`` (Alembic, run from code);
- :mod:`condivisa.store.repository`: save and load communities, bulk import readings and prices (idempotent
  upserts in one transaction), settlements, users and roles.

Nothing here reads the environment or settings: the caller passes the database URL.
"""

from condivisa.store import audit
from condivisa.store.db import DEFAULT_URL, make_engine, session_factory
from condivisa.store.migrate import current_revision, head_revision, upgrade
from condivisa.store.repository import (
    CommunityInfo,
    ImportResult,
    NotFoundError,
    SettlementInfo,
    StoredLine,
    StoredSettlement,
    assign_role,
    create_user,
    find_community,
    get_settlement,
    get_user_by_email,
    import_prices,
    import_readings,
    list_communities,
    list_settlements,
    load_community,
    load_prices,
    load_readings,
    member_row_id,
    save_community,
    save_settlement,
)

# Every ORM change of the tables that matter is written to ``audit_log`` (by whom: web, api, cli, mqtt).
audit.install()

__all__ = [
    "DEFAULT_URL",
    "CommunityInfo",
    "ImportResult",
    "NotFoundError",
    "SettlementInfo",
    "StoredLine",
    "StoredSettlement",
    "assign_role",
    "create_user",
    "current_revision",
    "find_community",
    "get_settlement",
    "get_user_by_email",
    "head_revision",
    "import_prices",
    "import_readings",
    "list_communities",
    "list_settlements",
    "load_community",
    "load_prices",
    "load_readings",
    "make_engine",
    "member_row_id",
    "save_community",
    "save_settlement",
    "session_factory",
    "upgrade",
]
