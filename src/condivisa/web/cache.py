"""In-process cache of the chart aggregates of a community, keyed by its data version.

Dashboards and member pages aggregate a year of readings; doing that on every view makes pages slow and holds
database connections under load. The aggregates are recomputed only when a new import batch of the community has
been stored (the version is the id of its latest successful ``readings`` import), and one request computes them
while the others wait for it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from condivisa.store import load_readings
from condivisa.store.models import ImportBatch
from condivisa.web import charts

_MAX_ENTRIES = 1024
"""Entries kept per process: one per community (dashboards) and one per member looking at the portal. A month of
hourly aggregates is ~25 kB, a year ~300 kB; 64 entries made 200 communities and their members thrash the cache."""
_entries: OrderedDict[tuple[Any, ...], tuple[charts.Aggregates, list[str]]] = OrderedDict()
_locks: dict[tuple[Any, ...], threading.Lock] = {}
_guard = threading.Lock()


def data_version(db: Session, community_id: int) -> int:
    """Id of the community's latest successful import (0 when none)."""
    value = db.execute(
        select(func.max(ImportBatch.id)).where(ImportBatch.community_id == community_id, ImportBatch.status == "done")
    ).scalar()
    return int(value or 0)


def aggregates(db: Session, community_id: int, pods: list[str] | None = None) -> tuple[charts.Aggregates, list[str]]:
    """Chart aggregates of a community (or of some of its PODs) and the PODs that have readings, cached.

    Uses the request's own session (its one connection), so a page never waits for a second connection.
    """
    bind = db.get_bind()
    key = (str(bind.engine.url), community_id, data_version(db, community_id), tuple(pods or ()))
    with _guard:
        if key in _entries:
            _entries.move_to_end(key)
            return _entries[key]
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        with _guard:
            if key in _entries:
                return _entries[key]
        readings = load_readings(db, community_id)
        value = (charts.aggregate(readings, pods), readings.pods)
        with _guard:
            _entries[key] = value
            _locks.pop(key, None)
            while len(_entries) > _MAX_ENTRIES:
                _entries.popitem(last=False)
        return value
