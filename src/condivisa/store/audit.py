"""The audit log: who changed what, when, through which channel (table ``audit_log``).

Two ways in:

- **Automatically**, for changes made through the ORM: :func:`install` puts a listener on SQLAlchemy's
  ``Session`` class (event ``after_flush``) that writes, in the same transaction as the change, one entry per
  inserted, updated or deleted object of the tables in :data:`AUDITED_TABLES` (members, points, plants, regulation
  rules, users, role assignments, settlements, payments, campaigns, the members' register...), with the
  before/after of the changed fields. Secrets are never written (password hashes, tokens: ``"[segreto]"``);
  large documents (a settlement's JSON) are left out. More than :data:`BULK_THRESHOLD` objects of one table in
  one flush (a whole community imported) make one ``bulk`` entry with their ids only. Bulk imports through Core
  (readings, prices, meter files) are already recorded in ``import_batches`` and are not repeated here.
- **Explicitly**, with :func:`record` (a GDPR export or erasure, a backup, a restore).

Who acted comes from :func:`actor` (a context manager setting a context variable: the command line, the MQTT
subscriber, a background job) or from :func:`bind_session` (the web app: the session of a request gets the
logged-in user, which is safer than a context variable when sync dependencies run in worker threads); without
either the entry says ``system`` with no user.

Installing is explicit, once per process, by the application (see ``docs/data-safety.md``)::

    from condivisa.store import audit; audit.install()

The listener writes only into databases that have the ``audit_log`` table (revision 0013 or later), so a
database still at an older revision keeps working (its changes are not logged until it is upgraded).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import math
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, event, insert, inspect, select
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.state import InstanceState

from condivisa.store.models_audit import AUDIT_ACTIONS, AUDIT_ACTORS, AuditLogRow

AUDIT_TABLE: Table = AuditLogRow.__table__  # type: ignore[assignment]

AUDITED_TABLES: dict[str, frozenset[str]] = {
    "communities": frozenset({"updated_at", "created_at"}),
    "members": frozenset(),
    "points": frozenset(),
    "plants": frozenset(),
    "regulation_rules": frozenset(),
    "users": frozenset(),
    "role_assignments": frozenset(),
    "settlements": frozenset({"document"}),
    "payment_batches": frozenset(),
    "payments": frozenset(),
    "campaigns": frozenset({"baseline"}),
    "campaign_rewards": frozenset(),
    "governance_profiles": frozenset({"updated_at"}),
    "governance_register": frozenset(),
    "municipalities": frozenset(),
    "alarms": frozenset({"last_seen", "details"}),
}
"""Tables whose ORM changes are logged, with the columns left out of the summaries (noise or large documents)."""

SECRET_MARKERS = ("password", "secret", "token")
"""A column whose name contains one of these is a secret: the summary says ``"[segreto]"``, never the value."""

PERSONAL_FIELDS = frozenset(
    {"name", "email", "iban", "phone", "display_name", "contact_name", "contact_email", "contact_phone"}
)
"""Fields of a summary holding personal data: :mod:`condivisa.store.gdpr` blanks them on erasure."""

BULK_THRESHOLD = 25
"""More objects than this of one table and action in one flush are logged as one ``bulk`` entry (ids only)."""

MAX_TEXT = 1000
"""Longer texts are cut in summaries [characters]."""

SECRET = "[segreto]"


@dataclass(frozen=True)
class Actor:
    """Who acts: a user id (None when nobody is logged in) and the channel (one of :data:`AUDIT_ACTORS`)."""

    user_id: int | None = None
    label: str = "system"


_ACTOR: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("condivisa_audit_actor", default=None)
_SESSION_KEY = "condivisa_audit_actor"
_SUSPEND_KEY = "condivisa_audit_suspended"


def _check_label(label: str) -> None:
    if label not in AUDIT_ACTORS:
        raise ValueError(f"canale {label!r} sconosciuto; ammessi: {', '.join(AUDIT_ACTORS)}")


@contextmanager
def actor(user_id: int | None = None, label: str = "cli") -> Iterator[Actor]:
    """Changes made inside the block are logged as made by ``user_id`` through ``label``.

    Examples
    --------
    >>> with actor(label="cli"):
    ...     pass
    """
    _check_label(label)
    who = Actor(user_id, label)
    token = _ACTOR.set(who)
    try:
        yield who
    finally:
        _ACTOR.reset(token)


def bind_session(session: Session, user_id: int | None, label: str = "web") -> None:
    """Log the changes of this session as made by ``user_id`` through ``label`` (wins over :func:`actor`)."""
    _check_label(label)
    session.info[_SESSION_KEY] = Actor(user_id, label)


@contextmanager
def suspended(session: Session) -> Iterator[None]:
    """No automatic entries for the flushes of ``session`` inside the block.

    For an operation that records one explicit entry of its own and must not leave before-values in the log (a
    GDPR erasure: the old name would otherwise be written as the ``before`` of the change).
    """
    previous = session.info.get(_SUSPEND_KEY, False)
    session.info[_SUSPEND_KEY] = True
    try:
        yield
    finally:
        session.info[_SUSPEND_KEY] = previous


def current_actor(session: Session | None = None) -> Actor:
    """The actor of a session (:func:`bind_session`), else the one of the context (:func:`actor`)."""
    if session is not None:
        bound = session.info.get(_SESSION_KEY)
        if isinstance(bound, Actor):
            return bound
    return _ACTOR.get() or Actor()


# Values in summaries --------------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of a column value: dates as ISO text, decimals as text, bytes as their size."""
    if value is None or isinstance(value, bool | int | str):
        return value[:MAX_TEXT] if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"[binario {len(bytes(value))} byte]"
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)[:MAX_TEXT]


def is_secret(column: str) -> bool:
    """Whether a column holds a secret (its value never reaches the log)."""
    lowered = column.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


# The listener ---------------------------------------------------------------------------------------------------

_has_table: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_installed = False


def _audit_table_exists(conn: Connection) -> bool:
    engine = conn.engine
    if _has_table.get(engine):
        return True
    found = inspect(conn).has_table(AuditLogRow.__tablename__)
    if found:
        _has_table[engine] = True
    return found


def _pk_text(state: InstanceState[Any]) -> str | None:
    mapper = state.mapper
    values = []
    for column in mapper.primary_key:
        prop = mapper.get_property_by_column(column)
        values.append(state.dict.get(prop.key))
    if any(v is None for v in values):
        return None
    return "/".join(str(jsonable(v)) for v in values)


def _community_of(session: Session, state: InstanceState[Any], table: str) -> int | None:
    d = state.dict
    if "community_id" in d and d["community_id"] is not None:
        return int(d["community_id"])
    parent: tuple[str, str] | None = {
        "payments": ("payment_batches", "batch_id"),
        "campaign_rewards": ("campaigns", "campaign_id"),
    }.get(table)
    if parent is None or d.get(parent[1]) is None:
        return None
    for obj in session.identity_map.values():
        other = inspect(obj)
        if other.mapper.local_table.name == parent[0] and other.dict.get("id") == d[parent[1]]:
            value = other.dict.get("community_id")
            return None if value is None else int(value)
    return None


def _value(column: str, value: Any) -> Any:
    return SECRET if is_secret(column) else jsonable(value)


def _summary(state: InstanceState[Any], action: str, skip: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in skip:
            continue
        if action == "insert":
            if key in state.dict and state.dict[key] is not None:
                out[key] = {"after": _value(key, state.dict[key])}
        elif action == "delete":
            if key in state.dict:
                out[key] = {"before": _value(key, state.dict[key])}
        else:
            history = state.attrs[key].history
            if not history.added and not history.deleted:
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before == after and history.deleted:
                continue
            out[key] = {"before": _value(key, before), "after": _value(key, after)}
    return out


def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    if session.info.get(_SUSPEND_KEY):
        return
    groups: dict[tuple[str, str], list[tuple[InstanceState[Any], str]]] = {}
    for action, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            state = inspect(obj)
            table = state.mapper.local_table.name
            if table not in AUDITED_TABLES:
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            groups.setdefault((table, action), []).append((state, table))
    if not groups:
        return
    conn = session.connection()
    if not _audit_table_exists(conn):
        return
    who = current_actor(session)
    at = dt.datetime.now(dt.UTC)
    rows: list[dict[str, Any]] = []
    for (table, action), states in groups.items():
        skip = AUDITED_TABLES[table]
        if len(states) > BULK_THRESHOLD:
            communities = {_community_of(session, s, table) for s, _ in states}
            ids = [_pk_text(s) for s, _ in states]
            rows.append(
                {
                    "at": at,
                    "user_id": who.user_id,
                    "actor": who.label,
                    "action": "bulk",
                    "object_type": table,
                    "object_id": None,
                    "community_id": communities.pop() if len(communities) == 1 else None,
                    "changes": {"action": action, "count": len(ids), "ids": ids[:1000]},
                }
            )
            continue
        for state, _ in states:
            summary = _summary(state, action, skip)
            if action == "update" and not summary:
                continue
            rows.append(
                {
                    "at": at,
                    "user_id": who.user_id,
                    "actor": who.label,
                    "action": action,
                    "object_type": table,
                    "object_id": _pk_text(state),
                    "community_id": _community_of(session, state, table),
                    "changes": summary,
                }
            )
    if rows:
        conn.execute(insert(AUDIT_TABLE), rows)


def install() -> None:
    """Start logging ORM changes of every session of this process (idempotent)."""
    global _installed
    with _lock:
        if not _installed:
            event.listen(Session, "after_flush", _after_flush)
            _installed = True


def uninstall() -> None:
    """Stop logging ORM changes (tests; idempotent)."""
    global _installed
    with _lock:
        if _installed:
            event.remove(Session, "after_flush", _after_flush)
            _installed = False


def installed() -> bool:
    """Whether :func:`install` is in force."""
    return _installed


# Explicit entries and reading -----------------------------------------------------------------------------------


def record(
    bind: Session | Connection | Engine,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    *,
    community_id: int | None = None,
    changes: dict[str, Any] | None = None,
    who: Actor | None = None,
) -> None:
    """Write one entry (in the session's or connection's transaction; with an engine, in its own one).

    Parameters
    ----------
    bind : Session, Connection or Engine
    action : str
        One of :data:`condivisa.store.models_audit.AUDIT_ACTIONS`.
    object_type, object_id
        What the action was about (a table name and primary key, or e.g. ``"database"``).
    community_id : int, optional
    changes : dict, optional
        The summary: no personal data beyond ids, no secrets.
    who : Actor, optional
        Default: :func:`current_actor`.
    """
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"azione {action!r} sconosciuta; ammesse: {', '.join(AUDIT_ACTIONS)}")
    if who is None:
        who = current_actor(bind if isinstance(bind, Session) else None)
    row = {
        "at": dt.datetime.now(dt.UTC),
        "user_id": who.user_id,
        "actor": who.label,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "community_id": community_id,
        "changes": jsonable(changes or {}),
    }
    statement = insert(AUDIT_TABLE)
    if isinstance(bind, Session):
        bind.connection().execute(statement, [row])
    elif isinstance(bind, Engine):
        with bind.begin() as conn:
            conn.execute(statement, [row])
    else:
        bind.execute(statement, [row])


def record_if_logged(
    engine: Engine,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    *,
    community_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> bool:
    """Like :func:`record` in a transaction of its own, when the database has the log (revision 0013 or later).

    Returns
    -------
    bool
        Whether the entry was written.
    """
    with engine.begin() as conn:
        if not _audit_table_exists(conn):
            return False
        record(conn, action, object_type, object_id, community_id=community_id, changes=changes)
    return True


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the log, as plain data."""

    id: int
    at: dt.datetime
    user_id: int | None
    actor: str
    action: str
    object_type: str
    object_id: str | None
    community_id: int | None
    changes: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``at`` as ISO text)."""
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "user_id": self.user_id,
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "community_id": self.community_id,
            "changes": self.changes,
        }


def list_entries(
    bind: Session | Connection | Engine,
    *,
    community_id: int | None = None,
    object_type: str | None = None,
    object_ids: list[str] | None = None,
    user_id: int | None = None,
    action: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The most recent entries first, filtered by community, object (type and ids), user or action."""
    t = AUDIT_TABLE
    query = select(t).order_by(t.c.id.desc()).limit(limit)
    if community_id is not None:
        query = query.where(t.c.community_id == community_id)
    if object_type is not None:
        query = query.where(t.c.object_type == object_type)
    if object_ids is not None:
        query = query.where(t.c.object_id.in_(object_ids))
    if user_id is not None:
        query = query.where(t.c.user_id == user_id)
    if action is not None:
        query = query.where(t.c.action == action)

    def rows(conn: Connection) -> list[AuditEntry]:
        return [
            AuditEntry(
                id=int(r.id),
                at=r.at,
                user_id=r.user_id,
                actor=r.actor,
                action=r.action,
                object_type=r.object_type,
                object_id=r.object_id,
                community_id=r.community_id,
                changes=dict(r.changes or {}),
            )
            for r in conn.execute(query)
        ]

    if isinstance(bind, Session):
        return rows(bind.connection())
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return rows(conn)
    return rows(bind)
