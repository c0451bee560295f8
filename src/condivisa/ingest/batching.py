"""Several files' readings imported as one: grouping that keeps the result of importing them one by one.

A manager imports a year of e-distribuzione exports at once: twelve month files per POD, a few thousand readings
each. Each database import has a fixed cost (a transaction, temporary tables, their statistics), so importing
them one by one spends most of the time on that cost. :func:`import_groups` puts consecutive files together as
long as the result cannot differ from the one-by-one import:

- no (POD, interval start) appears in two files of a group - otherwise the later file is a *correction* of the
  earlier one, which must be stored, and recorded, after it;
- a POD has the same resolution in every file of a group;
- a group holds at most ``max_rows`` readings (memory of one transaction).

:func:`merge_readings` then joins a group's :class:`~condivisa.ingest.readings.Readings` into one. Pure functions,
no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.ingest.readings import Readings

MAX_GROUP_ROWS = 500_000
"""Default bound on the readings imported in one transaction."""


def _minutes_by_pod(readings: Readings) -> dict[str, npt.NDArray[np.int64]]:
    """Sorted unique interval starts [minutes since 1970, UTC] of each POD of ``readings``."""
    f = readings.frame
    if not len(f):
        return {}
    ns = f["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]").view(np.int64)
    minutes = ns // 60_000_000_000
    local, uniques = pd.factorize(f["pod"].astype(str))
    if len(uniques) == 1:
        return {str(uniques[0]): np.unique(minutes)}
    return {str(p): np.unique(minutes[local == j]) for j, p in enumerate(uniques)}


def _overlaps(before: npt.NDArray[np.int64], new: npt.NDArray[np.int64]) -> bool:
    """Whether two sorted arrays share a value (ranges compared first: month files never touch)."""
    if not len(before) or not len(new) or new[-1] < before[0] or new[0] > before[-1]:
        return False
    return bool(np.isin(new, before, assume_unique=True).any())


def import_groups(items: Sequence[Readings], *, max_rows: int = MAX_GROUP_ROWS) -> list[list[int]]:
    """Consecutive runs of ``items`` (their indices, in order) that can be imported in one transaction each.

    Parameters
    ----------
    items : sequence of Readings
        In the order the user gave them: a later file corrects an earlier one.
    max_rows : int
        Most readings in a group; a single larger file is a group of its own.

    Returns
    -------
    list of list of int
        Every index exactly once, in order.
    """
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    groups: list[list[int]] = []
    seen: dict[str, npt.NDArray[np.int64]] = {}
    resolution: dict[str, int] = {}
    rows = 0
    for i, readings in enumerate(items):
        keys = _minutes_by_pod(readings)
        clash = any(resolution.get(p, m) != m for p, m in readings.interval_minutes.items())
        overlap = any(_overlaps(seen[p], k) for p, k in keys.items() if p in seen)
        if not groups or clash or overlap or rows + len(readings.frame) > max_rows:
            groups.append([])
            seen, resolution, rows = {}, {}, 0
        groups[-1].append(i)
        for p, k in keys.items():
            seen[p] = np.union1d(seen[p], k) if p in seen else k
        resolution.update(readings.interval_minutes)
        rows += len(readings.frame)
    return groups


def merge_readings(items: Sequence[Readings], *, source: str | None = None) -> Readings:
    """One :class:`Readings` holding the readings, notes and rejections of ``items``.

    Parameters
    ----------
    items : sequence of Readings
        A group of :func:`import_groups`: disjoint (POD, instant) keys, one resolution per POD.
    source : str, optional
        The merged source (default: the items' sources joined by ``"; "``).

    Raises
    ------
    ValueError
        Two items give a POD different resolutions.
    """
    if len(items) == 1 and source is None:
        return items[0]
    interval: dict[str, int] = {}
    for r in items:
        for pod, minutes in r.interval_minutes.items():
            if interval.setdefault(pod, minutes) != minutes:
                raise ValueError(f"{pod}: resolution {interval[pod]} and {minutes} min in the same group")
    frames = [r.frame for r in items if len(r.frame)]
    if any("estimated" in f.columns for f in frames):
        frames = [f if "estimated" in f.columns else f.assign(estimated=False) for f in frames]
    empty = items[0].frame.iloc[0:0] if items else pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True) if frames else empty
    return Readings(
        frame=frame,
        interval_minutes=interval,
        source=source if source is not None else "; ".join(r.source for r in items if r.source),
        notes=[n for r in items for n in r.notes],
        rejected=[x for r in items for x in r.rejected],
    )
