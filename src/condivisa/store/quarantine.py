"""Meter data into the database with a quarantine: nothing bad is stored, nothing is silently dropped.

:func:`import_meter_data` is what the file imports (``condivisa db import-meter``) and the live channel (MQTT)
call. It stores the good readings of the community's PODs with :func:`condivisa.store.repository.import_readings`
(idempotent upsert; corrections recorded in ``reading_corrections``) and puts in ``quarantined_readings``, in
the same transaction, everything held back: lines, cells or messages a lenient reader rejected (malformed,
negative, conflicting duplicates, with file, row and field) and readings of PODs that are not points or plants of
the community. The reader's notes (gaps, exact duplicates, estimated data) go with the import's batch row.

A quarantined reading whose values could be read can be stored later with :func:`release_quarantined` (for
instance after the POD has been added to the community) or set aside with :func:`discard_quarantined`; either
way the row stays, with who resolved it and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.orm import Session

from condivisa.ingest.batching import MAX_GROUP_ROWS, import_groups, merge_readings
from condivisa.ingest.readings import Readings, Rejected
from condivisa.store.models import CommunityRow, ImportBatch, PlantRow, PointRow, QuarantinedReading, utc_now
from condivisa.store.repository import ImportResult, NotFoundError, import_readings

UNKNOWN_POD = "POD {pod} non appartiene alla comunita' (ne' punto di un socio ne' impianto)"


@dataclass(frozen=True)
class MeterImportResult:
    """What a meter-data import did: the upsert's counts, how many readings went to quarantine, the notes."""

    stored: ImportResult | None
    quarantined: int
    notes: tuple[str, ...]

    @property
    def inserted(self) -> int:
        return self.stored.inserted if self.stored else 0

    @property
    def updated(self) -> int:
        return self.stored.updated if self.stored else 0

    @property
    def unchanged(self) -> int:
        return self.stored.unchanged if self.stored else 0


@dataclass(frozen=True)
class QuarantineItem:
    """A quarantined reading as listed to a manager."""

    id: int
    source: str
    row: int | None
    field: str | None
    reason: str
    raw: str | None
    pod: str | None
    ts: dt.datetime | None
    withdrawn_kwh: float | None
    injected_kwh: float | None
    status: str
    created_at: dt.datetime


def community_pods(bind: Session | Connection, community_id: int) -> set[str]:
    """PODs of the community's points and plants."""
    points = bind.execute(select(PointRow.pod).where(PointRow.community_id == community_id)).scalars()
    plants = bind.execute(select(PlantRow.pod).where(PlantRow.community_id == community_id)).scalars()
    return set(points) | set(plants)


def _rows_of(community_id: int, batch_id: int | None, items: Iterable[Rejected]) -> list[dict[str, Any]]:
    now = utc_now()
    out: list[dict[str, Any]] = []
    for r in items:
        ts = None
        if r.timestamp is not None:
            ts = pd.Timestamp(r.timestamp).tz_convert("UTC").to_pydatetime()
        out.append(
            {
                "community_id": community_id,
                "batch_id": batch_id,
                "source": (r.source or "")[:500],
                "row": r.row,
                "field": r.field[:100] if r.field else None,
                "reason": r.reason[:1000],
                "raw": r.raw[:2000] if r.raw else None,
                "pod": r.pod[:32] if r.pod else None,
                "ts": ts,
                "interval_minutes": r.interval_minutes,
                "withdrawn_kwh": r.withdrawn_kwh,
                "injected_kwh": r.injected_kwh,
                "status": "open",
                "created_at": now,
            }
        )
    return out


def quarantine(conn: Connection, community_id: int, items: Sequence[Rejected], *, batch_id: int | None = None) -> int:
    """Insert held-back readings in the caller's transaction; returns how many."""
    rows = _rows_of(community_id, batch_id, items)
    if rows:
        conn.execute(insert(QuarantinedReading), rows)
    return len(rows)


def split_unknown_pods(readings: Readings, known: set[str]) -> tuple[Readings, list[Rejected]]:
    """The readings of known PODs, and those of other PODs as :class:`Rejected` with their values."""
    f = readings.frame
    mask = f["pod"].isin(list(known)).to_numpy()
    if mask.all():
        return readings, []
    other = f.loc[~mask]
    rejected = [
        Rejected(
            UNKNOWN_POD.format(pod=pod),
            source=readings.source,
            field="pod",
            pod=str(pod),
            timestamp=pd.Timestamp(ts),
            interval_minutes=readings.interval_minutes.get(str(pod)),
            withdrawn_kwh=float(w),
            injected_kwh=float(i),
        )
        for pod, ts, w, i in zip(
            other["pod"], other["timestamp"], other["withdrawn_kwh"], other["injected_kwh"], strict=True
        )
    ]
    kept = f.loc[mask].reset_index(drop=True)
    pods = set(kept["pod"].unique().tolist())
    return (
        Readings(
            frame=kept,
            interval_minutes={p: m for p, m in readings.interval_minutes.items() if p in pods},
            source=readings.source,
            notes=readings.notes,
            rejected=readings.rejected,
        ),
        rejected,
    )


def import_meter_data(
    engine: Engine,
    community_id: int,
    readings: Readings,
    *,
    source: str,
    user_id: int | None = None,
    kind: str = "meter_file",
    audit: bool = True,
) -> MeterImportResult:
    """Store a lenient reader's readings of a community and quarantine what it held back.

    Parameters
    ----------
    engine : Engine
    community_id : int
    readings : Readings
        From a lenient reader (``lenient=True``): ``rejected`` go to quarantine; readings of PODs that are not
        the community's go there too, with their values.
    source : str
        File or channel, for the audit and the quarantine rows.
    kind, audit
        As in :func:`condivisa.store.repository.import_readings`.

    Returns
    -------
    MeterImportResult

    Notes
    -----
    Good readings and quarantine rows are written in one transaction with the batch row (a failure stores
    neither): a re-import of the same file stores nothing new but quarantines its bad lines again (each import
    is accounted on its own).
    """
    with engine.connect() as conn:
        if conn.execute(select(CommunityRow.id).where(CommunityRow.id == community_id)).first() is None:
            raise NotFoundError(f"comunita' {community_id} non trovata")
        known = community_pods(conn, community_id)
    good, unknown = split_unknown_pods(readings, known)
    held = [*readings.rejected, *unknown]
    stored = None
    if len(good.frame):
        stored = import_readings(
            engine,
            community_id,
            good,
            source=source,
            user_id=user_id,
            kind=kind,
            audit=audit,
            within=lambda conn, batch_id: quarantine(conn, community_id, held, batch_id=batch_id),
        )
    elif held:
        with engine.begin() as conn:
            batch_id = None
            if audit:
                batch_id = int(
                    conn.execute(
                        insert(ImportBatch)
                        .values(
                            community_id=community_id,
                            user_id=user_id,
                            kind=kind,
                            source=source[:500],
                            rows_in=len(readings.frame) + len(readings.rejected),
                            rows_stored=0,
                            rows_inserted=0,
                            rows_updated=0,
                            status="done",
                            problems=list(readings.notes[:1000]),
                            started_at=utc_now(),
                            finished_at=utc_now(),
                        )
                        .returning(ImportBatch.id)
                    ).scalar_one()
                )
            quarantine(conn, community_id, held, batch_id=batch_id)
    return MeterImportResult(stored=stored, quarantined=len(held), notes=tuple(readings.notes))


@dataclass(frozen=True)
class FileGroupImport:
    """One transaction of :func:`import_meter_files`: the files it held and what it did."""

    sources: tuple[str, ...]
    result: MeterImportResult


def import_meter_files(
    engine: Engine,
    community_id: int,
    files: Sequence[tuple[str, Readings]],
    *,
    user_id: int | None = None,
    max_rows: int = MAX_GROUP_ROWS,
) -> list[FileGroupImport]:
    """Import many meter files with as few transactions as give the same result as importing them one by one.

    Consecutive files whose readings do not overlap (no POD and interval in two of them) are imported together
    (:func:`condivisa.ingest.batching.import_groups`): a year of month files of e-distribuzione is one
    transaction, not twelve per POD. A file that repeats intervals of an earlier one starts a new transaction,
    so that its values are stored after the earlier ones and recorded as corrections.

    Parameters
    ----------
    engine : Engine
    community_id : int
    files : sequence of (source, Readings)
        In the user's order, each from a lenient reader.
    user_id : int, optional
    max_rows : int
        Most readings per transaction.

    Returns
    -------
    list of FileGroupImport
        One per transaction, in order. A failing group raises (its batch is recorded as failed); the groups
        before it stay stored.
    """
    out: list[FileGroupImport] = []
    for group in import_groups([r for _, r in files], max_rows=max_rows):
        sources = tuple(files[i][0] for i in group)
        if len(group) == 1:
            readings, source = files[group[0]][1], sources[0]
        else:
            with engine.connect() as conn:
                known = community_pods(conn, community_id)
            parts = []
            for i in group:  # readings of other PODs quarantined with their own file's name
                good, unknown = split_unknown_pods(files[i][1], known)
                parts.append(replace(good, rejected=[*good.rejected, *unknown]))
            source = f"{len(sources)} file: " + "; ".join(sources)
            readings = merge_readings(parts, source=source)
        result = import_meter_data(engine, community_id, readings, source=source, user_id=user_id)
        out.append(FileGroupImport(sources, result))
    return out


def list_quarantine(
    session: Session, community_id: int, *, status: str | None = "open", limit: int = 1000
) -> list[QuarantineItem]:
    """Quarantined readings of a community, oldest first (``status`` None for all)."""
    query = select(QuarantinedReading).where(QuarantinedReading.community_id == community_id)
    if status is not None:
        query = query.where(QuarantinedReading.status == status)
    rows = session.scalars(query.order_by(QuarantinedReading.id).limit(limit)).all()
    return [
        QuarantineItem(
            id=r.id,
            source=r.source,
            row=r.row,
            field=r.field,
            reason=r.reason,
            raw=r.raw,
            pod=r.pod,
            ts=r.ts,
            withdrawn_kwh=r.withdrawn_kwh,
            injected_kwh=r.injected_kwh,
            status=r.status,
            created_at=r.created_at,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class ReleaseResult:
    """Quarantined readings stored after all (``released``) and those still held, with why."""

    released: int
    still_held: tuple[tuple[int, str], ...]


def release_quarantined(
    engine: Engine, community_id: int, ids: Iterable[int] | None = None, *, user_id: int | None = None
) -> ReleaseResult:
    """Store open quarantined readings whose values are complete and whose POD now belongs to the community.

    Parameters
    ----------
    ids : iterable of int, optional
        Which entries; default every open one of the community.

    Returns
    -------
    ReleaseResult
        Entries without values (a malformed line) or of a POD still unknown stay open, listed with the reason.
        Two open entries for the same POD and instant (the two sides of a conflicting duplicate) are not
        released: the manager discards the wrong one first.
    """
    with Session(engine) as session:
        query = select(QuarantinedReading).where(
            QuarantinedReading.community_id == community_id, QuarantinedReading.status == "open"
        )
        if ids is not None:
            query = query.where(QuarantinedReading.id.in_(list(ids)))
        rows = session.scalars(query.order_by(QuarantinedReading.id)).all()
        known = community_pods(session, community_id)
        held: list[tuple[int, str]] = []
        usable = []
        for r in rows:
            if r.pod is None or r.ts is None or r.withdrawn_kwh is None or r.injected_kwh is None:
                held.append((r.id, "valori non leggibili: correggere il file e reimportarlo"))
            elif r.pod not in known:
                held.append((r.id, UNKNOWN_POD.format(pod=r.pod)))
            elif r.withdrawn_kwh < 0 or r.injected_kwh < 0:
                held.append((r.id, "energia negativa"))
            else:
                usable.append(r)
        keys = pd.Series([(r.pod, r.ts) for r in usable], dtype=object)
        twice = set(keys[keys.duplicated(keep=False)].tolist()) if len(keys) else set()
        for r in [r for r in usable if (r.pod, r.ts) in twice]:
            held.append((r.id, "piu' valori per lo stesso POD e istante: scartare quello errato"))
        usable = [r for r in usable if (r.pod, r.ts) not in twice]
        if not usable:
            return ReleaseResult(0, tuple(held))
        frame = pd.DataFrame(
            {
                "pod": [r.pod for r in usable],
                "timestamp": pd.to_datetime([r.ts for r in usable if r.ts is not None], utc=True),
                "withdrawn_kwh": [float(r.withdrawn_kwh or 0.0) for r in usable],
                "injected_kwh": [float(r.injected_kwh or 0.0) for r in usable],
            }
        )
        interval = {str(r.pod): int(r.interval_minutes or 15) for r in usable}
        released = [r.id for r in usable]
    # The readings are stored first, then the entries marked: if the process stops in between, releasing again
    # stores the same values again, which changes nothing (the import is an idempotent upsert).
    readings = Readings(frame=frame, interval_minutes=interval, source="quarantena")
    import_readings(engine, community_id, readings, source="quarantena (rilascio)", user_id=user_id)
    with engine.begin() as conn:
        conn.execute(
            update(QuarantinedReading)
            .where(QuarantinedReading.id.in_(released))
            .values(status="released", resolved_at=utc_now(), resolved_by=user_id)
        )
    return ReleaseResult(len(released), tuple(held))


def discard_quarantined(session: Session, community_id: int, ids: Iterable[int], *, user_id: int | None = None) -> int:
    """Set open quarantined readings aside (status ``discarded``); returns how many changed."""
    result = session.execute(
        update(QuarantinedReading)
        .where(
            QuarantinedReading.community_id == community_id,
            QuarantinedReading.status == "open",
            QuarantinedReading.id.in_(list(ids)),
        )
        .values(status="discarded", resolved_at=utc_now(), resolved_by=user_id)
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
