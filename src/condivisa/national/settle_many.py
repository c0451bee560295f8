"""Settle many communities with one code path: in process, on a Dask ``LocalCluster``, or on a remote scheduler.

:func:`settle_many` splits the communities of a source (a national dataset directory, or a database) into tasks of
a few dozen. A task carries only the source's location and its communities' ids: it reads their descriptions and
readings itself (from their Parquet partitions, or from the database), settles each community with the engine, and
returns compact :class:`CommunityRecord` rows. Nothing but ids and records crosses between client and workers, so
the same code runs in the client process (``scheduler=None``), on ``distributed.LocalCluster`` workers
(``"local"``) or on a real cluster (``"tcp://host:8786"``, whose workers must see the same paths or database).

Each community is settled by the engine unchanged:

- a database source goes through :func:`condivisa.engine.settle` itself (community, readings and prices loaded
  with :mod:`condivisa.store`);
- a dataset source holds complete hourly series, already the engine's series-major arrays:
  :func:`settle_arrays` makes the same checks as :func:`condivisa.engine.settle` and hands them to
  :func:`condivisa.engine.settle.settle_hourly`, the part of the engine that :func:`condivisa.engine.settle` runs
  after its hourly aggregation, skipping only the long-table round trip (about 0.6 s per community-year of 100 points,
  the whole budget of a national run). The tests check both paths give the same records, cent for cent, and
  ``engine="settle"`` runs the dataset through :func:`condivisa.engine.settle` itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from condivisa.allocation import eur_to_cents
from condivisa.engine.settle import Settlement, point_order, settle, settle_hourly
from condivisa.engine.timegrid import Period
from condivisa.errors import InputError
from condivisa.ingest.prices import Prices
from condivisa.model.community import Community
from condivisa.rules.checks import check_community, check_coverage
from condivisa.rules.rulebook import Rulebook, canonical_region, load_rulebook

FloatArray = npt.NDArray[np.float64]
EngineKind = Literal["arrays", "settle"]
DEFAULT_BATCH = 20
DEFAULT_MEMORY_LIMIT = "4GiB"


# --------------------------------------------------------------------------------------------------------------------
# The engine on arrays


def settle_arrays(
    community: Community,
    pods: Sequence[str],
    withdrawn_kwh: FloatArray,
    injected_kwh: FloatArray,
    period: Period,
    prices: Prices | None = None,
    *,
    rulebook: Rulebook | None = None,
    source: str = "",
    memo: dict[Any, Any] | None = None,
) -> Settlement:
    """Settle a configuration from complete hourly series, as :func:`condivisa.engine.settle` would.

    The same checks as :func:`~condivisa.engine.settle` (community, perimeter, coverage), then the engine's own
    :func:`~condivisa.engine.settle.settle_hourly`, which :func:`~condivisa.engine.settle` also ends with.

    Parameters
    ----------
    community : Community
    pods : sequence of str
        Point of each row of the arrays (points of the community not listed have no readings: zero).
    withdrawn_kwh, injected_kwh : (P, H) float64 arrays [kWh]
        Hourly withdrawal and injection of each point over ``period.hours()``, series-major.
    period : Period
    prices : Prices, optional
        Hourly zonal prices; without them the rulebook's monthly table is used (with a warning).
    memo : dict, optional
        A cache kept across calls with the same ``prices`` and ``period`` (a task passes one): hourly prices per
        zone and CU_Af per set of parameters are computed once instead of once per community.
    """
    rb = rulebook or load_rulebook()
    problems, warnings = check_community(community, source=source, rulebook=rb)
    if problems:
        raise InputError(problems)
    point_pairs = community.points()
    plant_pods = [p.pod for p in community.plants]
    all_pods = list(dict.fromkeys([pt.pod for _, pt in point_pairs] + plant_pods))
    row_of = {pod: i for i, pod in enumerate(pods)}
    present = {pod for pod in all_pods if pod in row_of}
    if not present:
        raise InputError.one(
            f"nessuna lettura dei POD della configurazione tra il {period.start:%d/%m/%Y} e il {period.end:%d/%m/%Y}",
            file=source,
        )
    warnings += check_coverage(community, present)
    return settle_hourly(
        community, list(pods), withdrawn_kwh, injected_kwh, period, prices, rulebook=rb, warnings=warnings, memo=memo
    )


# --------------------------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class CommunityRecord:
    """Compact result of one community's settlement (energy [kWh], money [€] and cents).

    ``allocation_digest`` is a SHA-256 of the cents of every recipient (sorted by recipient): two settlements with
    the same digest gave every member and fund the same cents.
    """

    id: str
    name: str
    zone: str
    period_start: str
    period_end: str
    hours: int
    pods: int
    plants: int
    withdrawn_kwh: float
    injected_kwh: float
    shared_kwh: float
    incentivised_kwh: float
    tip_eur: float
    valorisation_eur: float
    total_eur: float
    total_cents: int
    excess_cents: int
    funds_cents: int
    members_cents: int
    recipients: int
    allocation_digest: str
    warnings: int


def record_of(community_id: str, s: Settlement) -> CommunityRecord:
    """The compact record of a settlement."""
    by_recipient = s.allocation.by_recipient()
    funds = sum(c for to, c in by_recipient.items() if to.startswith("fund:"))
    digest = hashlib.sha256(json.dumps(sorted(by_recipient.items())).encode()).hexdigest()
    e = s.energy
    return CommunityRecord(
        id=community_id,
        name=s.community.name,
        zone=s.zone,
        period_start=s.period.start.isoformat(),
        period_end=s.period.end.isoformat(),
        hours=len(s.hours),
        pods=len(s.point_pods),
        plants=len(s.plants),
        withdrawn_kwh=float(e.withdrawn.sum()),
        injected_kwh=float(e.injected.sum()),
        shared_kwh=float(e.shared.sum()),
        incentivised_kwh=float(e.incentivised.sum()),
        tip_eur=s.tip_eur,
        valorisation_eur=s.valorisation_eur,
        total_eur=s.total_eur,
        total_cents=s.allocation.total_cents,
        excess_cents=eur_to_cents(sum(x.excess_eur for x in s.excess_sets)),
        funds_cents=funds,
        members_cents=sum(by_recipient.values()) - funds,
        recipients=len(by_recipient),
        allocation_digest=digest,
        warnings=len(s.warnings),
    )


# --------------------------------------------------------------------------------------------------------------------
# Sources and tasks


@dataclass(frozen=True)
class Task:
    """What a worker needs: where the data is, which communities, which year; nothing else travels."""

    kind: Literal["dataset", "database"]
    location: str
    ids: tuple[str, ...]
    year: int | None
    engine: EngineKind = "arrays"


@dataclass
class TaskResult:
    """Records of a task, with where its time went [s] and the peak memory of the process that ran it [MiB]."""

    records: list[CommunityRecord]
    read_s: float
    engine_s: float
    peak_rss_mib: float
    pid: int
    host: str
    failures: list[tuple[str, str]] = field(default_factory=list)


def peak_rss_mib() -> float:
    """Peak resident set size of this process [MiB] (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def is_database_url(source: str | Path) -> bool:
    text = str(source)
    return text.startswith(("sqlite:", "postgresql:", "postgresql+", "postgres:"))


@dataclass
class _DatasetContext:
    """What every task of a process over one dataset shares: the dataset, its prices by zone and the engine's
    memo (hourly prices and CU_Af computed once per process, not once per task)."""

    dataset: Any
    prices: Prices
    by_zone: dict[str, Prices] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)

    def zone_prices(self, zone: str) -> Prices:
        got = self.by_zone.get(zone)
        if got is None:
            frame = self.prices.frame[self.prices.frame["zone"] == zone].reset_index(drop=True)
            got = self.by_zone[zone] = Prices(frame=frame, source=self.prices.source)
        return got


@functools.lru_cache(maxsize=4)
def _dataset_context(location: str, stamp: int) -> _DatasetContext:
    from condivisa.national.parquet import open_dataset

    ds = open_dataset(location)
    return _DatasetContext(ds, ds.prices())


def _manifest_stamp(location: str) -> int:
    """Modification time of the dataset's manifest [ns]: a rewritten dataset is opened again."""
    from condivisa.national.parquet import MANIFEST

    try:
        return os.stat(Path(location) / MANIFEST).st_mtime_ns
    except OSError:
        return -1


def _run_dataset(task: Task, out: TaskResult) -> None:
    ctx = _dataset_context(task.location, _manifest_stamp(task.location))
    ds = ctx.dataset
    if task.year is not None and task.year != ds.year:
        raise InputError.one(f"il dataset e' dell'anno {ds.year}, non del {task.year}", field="year")
    rb = load_rulebook()
    period = Period(dt.date(ds.year, 1, 1), dt.date(ds.year, 12, 31))
    spare: tuple[FloatArray, FloatArray] | None = None  # the previous community's arrays, refilled by the next
    for cid in task.ids:
        t0 = time.perf_counter()
        try:
            entry = ds.entry(cid)
            community = ds.community(cid)
            prices = ctx.zone_prices(entry.zone)
            if task.engine == "settle":
                readings = ds.read_readings(entry)
                t1 = time.perf_counter()
                s = settle(community, readings, prices, period=period, rulebook=rb, source=cid)
            else:
                # Rows written straight in the engine's order: settle_hourly takes them without a copy.
                pods, w, i = ds.read_kwh(entry, out=spare, order=point_order(community, rb))
                t1 = time.perf_counter()
                s = settle_arrays(community, pods, w, i, period, prices, rulebook=rb, source=cid, memo=ctx.memo)
            out.records.append(record_of(cid, s))
            del s  # nothing of the settlement is kept: its arrays can be refilled
            if task.engine != "settle":
                spare = (w, i)
        except InputError as exc:
            t1 = time.perf_counter()
            out.failures.append((cid, str(exc)))
        t2 = time.perf_counter()
        out.read_s += t1 - t0
        out.engine_s += t2 - t1


def _run_database(task: Task, out: TaskResult) -> None:
    from condivisa.store import load_community, load_prices, load_readings, make_engine, session_factory

    engine = make_engine(task.location)
    rb = load_rulebook()
    try:
        with session_factory(engine)() as session:
            for cid in task.ids:
                t0 = time.perf_counter()
                try:
                    community = load_community(session, int(cid))
                    period = None
                    start = end = None
                    if task.year is not None:
                        period = Period(dt.date(task.year, 1, 1), dt.date(task.year, 12, 31))
                        start, end = period.start_utc, period.end_utc
                    readings = load_readings(engine, int(cid), start=start, end=end)
                    region = canonical_region(community.region, rb)
                    zone = rb.region_zone[region] if region is not None else None
                    prices = None
                    if zone is not None:
                        stored = load_prices(engine, zones=[zone, "PUN"], start=start, end=end)
                        prices = stored if len(stored.frame) else None
                    t1 = time.perf_counter()
                    s = settle(community, readings, prices, period=period, rulebook=rb, source=f"comunita' {cid}")
                    out.records.append(record_of(cid, s))
                except (InputError, LookupError) as exc:
                    t1 = time.perf_counter()
                    out.failures.append((cid, str(exc)))
                t2 = time.perf_counter()
                out.read_s += t1 - t0
                out.engine_s += t2 - t1
    finally:
        engine.dispose()


def run_task(task: Task) -> TaskResult:
    """Settle the communities of one task (runs in the client or in a worker); reads its data itself."""
    import socket

    out = TaskResult([], 0.0, 0.0, 0.0, os.getpid(), socket.gethostname())
    if task.kind == "dataset":
        _run_dataset(task, out)
    else:
        _run_database(task, out)
    out.peak_rss_mib = peak_rss_mib()
    return out


def _source_ids(source: str | Path, year: int | None) -> tuple[Literal["dataset", "database"], str, list[str]]:
    if is_database_url(source):
        from condivisa.store import list_communities, make_engine, session_factory

        engine = make_engine(str(source))
        ids: list[str] = []
        try:
            with session_factory(engine)() as session:
                while True:
                    page = list_communities(session, offset=len(ids), limit=1000)
                    ids += [str(c.id) for c in page]
                    if len(page) < 1000:
                        break
        finally:
            engine.dispose()
        return "database", str(source), ids
    from condivisa.national.parquet import open_dataset

    ds = open_dataset(source)
    if year is not None and year != ds.year:
        raise InputError.one(f"il dataset e' dell'anno {ds.year}, non del {year}", field="year")
    # Communities of the same cabina next to each other: a task reads neighbouring partitions.
    ordered = sorted(ds.entries, key=lambda e: (e.zone, e.cabine[0], e.id))
    return "dataset", str(Path(source).resolve()), [e.id for e in ordered]


def make_tasks(
    source: str | Path,
    *,
    year: int | None = None,
    batch: int = DEFAULT_BATCH,
    ids: Sequence[str] | None = None,
    engine: EngineKind = "arrays",
) -> list[Task]:
    """Split a source's communities into tasks of ``batch`` communities (only ids travel)."""
    if batch < 1:
        raise InputError.one(f"dimensione del lotto non valida: {batch}", field="batch")
    kind, location, all_ids = _source_ids(source, year)
    if ids is not None:
        wanted = [str(i) for i in ids]
        unknown = sorted(set(wanted) - set(all_ids))
        if unknown:
            raise InputError.one(f"comunita' sconosciute: {', '.join(unknown[:10])}", field="ids")
        keep = set(wanted)
        all_ids = [i for i in all_ids if i in keep]
    return [Task(kind, location, tuple(all_ids[k : k + batch]), year, engine) for k in range(0, len(all_ids), batch)]


@dataclass
class SettleManyResult:
    """Records of every community settled (sorted by id), failures, and how the run went."""

    records: list[CommunityRecord]
    failures: list[tuple[str, str]]
    scheduler: str
    workers: int
    tasks: int
    wall_s: float
    startup_s: float
    read_s: float
    engine_s: float
    client_peak_mib: float
    worker_peak_mib: dict[str, float]

    def totals(self) -> dict[str, float]:
        """National totals: energy [kWh], money [€] and cents."""
        keys = ("withdrawn_kwh", "injected_kwh", "shared_kwh", "incentivised_kwh", "tip_eur", "valorisation_eur")
        out = {k: float(sum(getattr(r, k) for r in self.records)) for k in keys}
        out["total_cents"] = float(sum(r.total_cents for r in self.records))
        return out


def _collect(results: Iterator[TaskResult], progress: Callable[[int, int], None] | None, total: int) -> dict[str, Any]:
    records: list[CommunityRecord] = []
    failures: list[tuple[str, str]] = []
    read_s = engine_s = 0.0
    peaks: dict[str, float] = {}
    for r in results:
        records += r.records
        failures += r.failures
        read_s += r.read_s
        engine_s += r.engine_s
        key = f"{r.host}:{r.pid}"
        peaks[key] = max(peaks.get(key, 0.0), r.peak_rss_mib)
        if progress is not None:
            progress(len(records) + len(failures), total)
    records.sort(key=lambda r: r.id)
    return {"records": records, "failures": failures, "read_s": read_s, "engine_s": engine_s, "peaks": peaks}


def settle_many(
    source: str | Path,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    batch: int = DEFAULT_BATCH,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    year: int | None = None,
    ids: Sequence[str] | None = None,
    engine: EngineKind = "arrays",
    connect_timeout: float = 30.0,
    progress: Callable[[int, int], None] | None = None,
) -> SettleManyResult:
    """Settle every community of a source.

    Parameters
    ----------
    source : str or Path
        A national dataset directory (:mod:`condivisa.national.parquet`) or a database URL (``sqlite:///...``,
        ``postgresql+psycopg://...``).
    scheduler : str, optional
        ``None``: in this process, one task after the other (streamed: one community's data in memory at a time);
        ``"local"``: a ``distributed.LocalCluster`` of ``workers`` processes with one thread each, started and
        closed here; ``"tcp://host:port"``: an existing Dask scheduler (its workers must reach the same source).
    workers : int
        Worker processes of the local cluster.
    batch : int
        Communities per task.
    memory_limit : str
        Memory limit of each local worker (Dask's notation, ``"4GiB"``).
    year : int, optional
        Calendar year to settle (a dataset must be of that year); default: a dataset's year, or the days spanned
        by a community's stored readings.
    ids : sequence of str, optional
        Only these communities (dataset ids or database ids).
    engine : {"arrays", "settle"}
        For a dataset: the engine's array core on the stored series (default) or :func:`condivisa.engine.settle`
        on long readings. A database always goes through :func:`condivisa.engine.settle`.
    connect_timeout : float
        Seconds to wait for a remote scheduler before giving up [s].
    progress : callable, optional
        Called with (communities done, total).

    Returns
    -------
    SettleManyResult
    """
    t0 = time.perf_counter()
    tasks = make_tasks(source, year=year, batch=batch, ids=ids, engine=engine)
    total = sum(len(t.ids) for t in tasks)
    if scheduler is None:
        startup = time.perf_counter() - t0
        got = _collect((run_task(t) for t in tasks), progress, total)
        n_workers = 1
        label = "in-process"
    else:
        if scheduler != "local" and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
            raise InputError.one(
                f"scheduler non valido: {scheduler!r} (attesi 'local' o un indirizzo tcp://host:porta)",
                field="scheduler",
            )
        if workers < 1:
            raise InputError.one(f"numero di worker non valido: {workers}", field="workers")
        from distributed import Client, LocalCluster, as_completed

        cluster = None
        if scheduler == "local":
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                memory_limit=memory_limit,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)  # type: ignore[no-untyped-call]
        else:
            try:
                client = Client(scheduler, timeout=connect_timeout)  # type: ignore[no-untyped-call]
            except OSError as exc:
                raise InputError.one(f"scheduler {scheduler} non raggiungibile ({exc})", field="scheduler") from None
        try:
            n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
            startup = time.perf_counter() - t0
            futures = client.map(run_task, tasks, pure=False)
            done = as_completed(futures)  # type: ignore[no-untyped-call]
            got = _collect((f.result() for f in done), progress, total)
        finally:
            client.close()  # type: ignore[no-untyped-call]
            if cluster is not None:
                cluster.close()  # type: ignore[no-untyped-call]
        label = scheduler
    return SettleManyResult(
        records=got["records"],
        failures=got["failures"],
        scheduler=label,
        workers=n_workers,
        tasks=len(tasks),
        wall_s=time.perf_counter() - t0,
        startup_s=startup,
        read_s=got["read_s"],
        engine_s=got["engine_s"],
        client_peak_mib=peak_rss_mib(),
        worker_peak_mib=got["peaks"],
    )


def write_records(records: Sequence[CommunityRecord], path: Path) -> None:
    """Write records as Parquet (``.parquet``) or JSON (``.json``: ``{"records": [...]}``)."""
    rows = [asdict(r) for r in records]
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(rows) if rows else pa.table({name: [] for name in _FIELDS})
        pq.write_table(table, path)
    elif suffix == ".json":
        path.write_text(json.dumps({"records": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        raise InputError.one("formato di uscita non riconosciuto: usare .parquet o .json", file=str(path))


_FIELDS = list(CommunityRecord.__dataclass_fields__)


def read_records(path: Path) -> list[CommunityRecord]:
    """Read records written by :func:`write_records`."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
    else:
        rows = json.loads(path.read_text(encoding="utf-8"))["records"]
    return [CommunityRecord(**r) for r in rows]
