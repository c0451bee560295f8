"""Small builders shared by tests: communities and readings made in code."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from condivisa.ingest.readings import Readings, readings_from_arrays
from condivisa.model import Community


def pod(n: int) -> str:
    """A valid POD number ``n``."""
    return f"IT001E{n:08d}"


def community(members: list[dict[str, Any]], plants: list[dict[str, Any]], **extra: Any) -> Community:
    """Build a community from plain dicts (as a YAML file would give them)."""
    doc: dict[str, Any] = {
        "name": "Test CER",
        "configuration": "CER",
        "region": "Piemonte",
        "members": members,
        "plants": plants,
        "regulation": [
            {"to": "fund:social", "share": 0.1},
            {"to": "producers", "share": 0.3, "by": "incentivised_injection"},
            {"to": "consumers", "share": 0.6, "by": "shared_withdrawal"},
        ],
    }
    doc.update(extra)
    return Community.model_validate(doc)


def plant(
    pid: str,
    owner: str,
    n: int,
    cabina: str = "AC001E00001",
    power: float = 100.0,
    date: str = "2024-05-01",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": pid,
        "owner": owner,
        "pod": pod(n),
        "cabina": cabina,
        "technology": "pv",
        "power_kw": power,
        "commissioning_date": dt.date.fromisoformat(date),
        **extra,
    }


def member(
    mid: str, pods: list[int], cabina: str = "AC001E00001", kind: str = "household", **extra: Any
) -> dict[str, Any]:
    return {
        "id": mid,
        "name": mid.upper(),
        "kind": kind,
        "pods": [{"pod": pod(n), "cabina": cabina, **extra} for n in pods],
    }


START = pd.Timestamp("2025-06-01T00:00:00+02:00").tz_convert("UTC")


def readings(
    pods: list[str],
    withdrawn: np.ndarray,
    injected: np.ndarray,
    *,
    minutes: int = 60,
    start: pd.Timestamp = START,
) -> Readings:
    """Readings for ``pods`` from (intervals x pods) arrays."""
    return readings_from_arrays(
        pods,
        start,
        np.asarray(withdrawn, float),
        np.asarray(injected, float),
        interval_minutes=minutes,
        source="test",
    )
