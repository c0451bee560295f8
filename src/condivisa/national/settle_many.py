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
  :func:`settle_arrays` hands them to the engine's array core (:func:`~condivisa.engine.share_energy`,
  :func:`~condivisa.engine.value_energy`) and to the allocation exactly as :func:`condivisa.engine.settle` does after
  its hourly aggregation, skipping only the long-table round trip (about 0.6 s per community-year of 100 points,
  the whole budget of a national run). The tests check both paths give the same records, cent for cent, and
  ``engine="settle"`` runs the dataset through :func:`condivisa.engine.settle` itself.
"""

from __future__ import annotations

import datetime as dt
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

from condivisa.allocation import Bases, apply_regulation, eur_to_cents
from condivisa.engine.settle import ExcessSet, PlantResult, Settlement, _cu_af, _hourly_prices, settle
from condivisa.engine.sharing import Layout, share_energy, value_energy
from condivisa.engine.timegrid import Period
from condivisa.errors import InputError
from condivisa.ingest.prices import Prices
from condivisa.model.community import Community, Member, Point
from condivisa.rules.checks import check_community, check_coverage
from condivisa.rules.rulebook import Rulebook, canonical_region, load_rulebook
from condivisa.rules.tip import geographic_correction, grant_reduction, power_class, tip_eur_mwh

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

    The steps after the hourly aggregation of :func:`~condivisa.engine.settle` are the same, in the same order and
    on the same values (checks, groups and queue order, the array core, excess, allocation), so the
    :class:`~condivisa.engine.Settlement` is the same.

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
    region = canonical_region(community.region, rb)
    assert region is not None
    zone = rb.region_zone[region]
    conf = rb.configurations[community.configuration]
    hours = period.hours()
    if withdrawn_kwh.shape != (len(pods), len(hours)) or injected_kwh.shape != withdrawn_kwh.shape:
        raise ValueError(f"attese matrici {len(pods)} x {len(hours)} ore, trovate {withdrawn_kwh.shape}")

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
    zero = np.zeros(len(hours))

    def w_row(pod: str) -> FloatArray:
        return withdrawn_kwh[row_of[pod]] if pod in row_of else zero

    def i_row(pod: str) -> FloatArray:
        return injected_kwh[row_of[pod]] if pod in row_of else zero

    cabine = sorted({pt.cabina for _, pt in point_pairs} | {p.cabina for p in community.plants})
    cab_index = {c: i for i, c in enumerate(cabine)}
    exempt_kinds = rb.exempt_member_kinds

    def group_key(pair: tuple[Member, Point]) -> tuple[int, bool, str]:
        m, pt = pair
        return (cab_index[pt.cabina], m.kind in exempt_kinds, pt.voltage if conf.avoided_losses else "")

    points = sorted(point_pairs, key=group_key)
    keys = list(dict.fromkeys(group_key(pair) for pair in points))
    key_index = {k: g for g, k in enumerate(keys)}
    plants = sorted(community.plants, key=lambda p: (cab_index[p.cabina], p.commissioning_date, p.id))
    layout = Layout(
        point_group=np.array([key_index[group_key(pair)] for pair in points], dtype=np.intp),
        group_cabina=np.array([k[0] for k in keys], dtype=np.intp),
        plant_cabina=np.array([cab_index[p.cabina] for p in plants], dtype=np.intp),
        n_cabine=len(cabine),
    )
    if all(pt.pod in row_of for _, pt in points):
        withdrawn = withdrawn_kwh[[row_of[pt.pod] for _, pt in points]]
    else:
        withdrawn = np.stack([w_row(pt.pod) for _, pt in points])

    power_at_pod: dict[str, float] = {}
    for p in plants:
        power_at_pod[p.pod] = power_at_pod.get(p.pod, 0.0) + p.power_kw
    for pod in sorted(pod for pod in power_at_pod if sum(q.pod == pod for q in plants) > 1):
        warnings.append(f"piu' impianti sullo stesso POD {pod}: immissione ripartita in proporzione alla potenza")
    injected = np.zeros((len(plants), len(hours)))
    for j, p in enumerate(plants):
        injected[j] = i_row(p.pod) * (p.power_kw / power_at_pod[p.pod])
    plant_pod_set = set(plant_pods)
    stray = [pt.pod for _, pt in points if pt.pod not in plant_pod_set and i_row(pt.pod).any()]
    if stray:
        warnings.append("immissioni da POD senza impianto dichiarato, non conteggiate: " + ", ".join(stray[:10]))

    memo = {} if memo is None else memo
    price_key = ("price", id(prices), zone, period)
    if price_key not in memo:
        memo[price_key] = _hourly_prices(prices, zone, hours, rb)
    price, price_source, price_warnings = memo[price_key]
    warnings += price_warnings
    cu_key = ("cu_af", tuple(sorted(community.parameters.items())), period)
    if cu_key not in memo:
        memo[cu_key] = _cu_af(community, hours, rb)
    cu_af, loss_lv, loss_mv, cu_warnings = memo[cu_key]
    warnings += cu_warnings

    tariffs: dict[tuple[float, float], int] = {}
    plant_tariff = np.empty(len(plants), dtype=np.intp)
    for j, p in enumerate(plants):
        key = (power_class(p.power_kw, rb).max_power_kw, geographic_correction(p.technology, p.region or region, rb))
        plant_tariff[j] = tariffs.setdefault(key, len(tariffs))
    tariff = np.empty((len(tariffs), len(hours)))
    for (max_kw, fc), row in tariffs.items():
        tariff[row] = tip_eur_mwh(max_kw, price, fc_eur_mwh=fc, rulebook=rb)

    eligible = np.array([p.commissioning_date >= rb.min_commissioning_date for p in plants], dtype=bool)
    tip_share = np.array([p.tip_share for p in plants]) * eligible
    reduction = np.array([grant_reduction(p.grant_share, rb) for p in plants])
    loss = None
    if conf.avoided_losses:
        by_voltage = {"LV": loss_lv, "MV": loss_mv, "HV": np.zeros(len(hours))}
        loss = np.stack([by_voltage[k[2]] for k in keys])
    energy = share_energy(withdrawn, injected, layout)
    money = value_energy(
        energy,
        layout,
        tariff,
        plant_tariff,
        reduction,
        tip_share,
        cu_af,
        group_exempt=np.array([k[1] for k in keys], dtype=bool),
        exempt_first_to_grant_plants=rb.exempt_priority_to_grant_plants,
        group_loss_coefficient=loss,
        price_eur_mwh=price,
    )

    inj_tot = energy.plant_injected.sum(axis=1)
    inc_tot = energy.plant_incentivised.sum(axis=1)
    tip_tot = money.plant_tip
    excess_sets = []
    plant_excess = np.zeros(len(plants))
    for name, threshold, members in (
        (
            "sola tariffa premio",
            rb.excess_threshold_tip_only,
            [j for j, p in enumerate(plants) if tip_share[j] > 0 and p.grant_share == 0],
        ),
        (
            "tariffa premio e contributo in conto capitale",
            rb.excess_threshold_with_grant,
            [j for j, p in enumerate(plants) if tip_share[j] > 0 and p.grant_share > 0],
        ),
    ):
        if not members:
            continue
        s = ExcessSet(
            name,
            threshold,
            tuple(plants[j].id for j in members),
            float(inj_tot[members].sum()),
            float(inc_tot[members].sum()),
            float(tip_tot[members].sum()),
        )
        excess_sets.append(s)
        diff = max(0.0, s.share - threshold)
        plant_excess[members] = tip_tot[members] * diff
    if any(s.excess_eur > 0 for s in excess_sets) and not period.is_calendar_year():
        warnings.append("la quota eccedentaria si verifica sull'anno: il valore riportato e' calcolato sul periodo")
    if any(s.excess_eur > 0 for s in excess_sets) and community.excess_to is None:
        warnings.append(
            "quota eccedentaria positiva: va destinata ai consumatori diversi dalle imprese o a "
            "finalita' sociali (indicare excess_to nel file della comunita')"
        )

    plant_results = [
        PlantResult(
            p.id,
            p.owner,
            p.cabina,
            float(inj_tot[j]),
            float(inc_tot[j]),
            float(tip_tot[j]),
            float(plant_excess[j]),
            bool(tip_share[j] > 0),
            p.grant_share > 0,
        )
        for j, p in enumerate(plants)
    ]
    producers: dict[str, dict[str, float]] = {}
    for r in plant_results:
        b = producers.setdefault(r.owner, {"incentivised_injection": 0.0, "injected": 0.0})
        b["incentivised_injection"] += r.incentivised_kwh
        b["injected"] += r.injected_kwh
    consumers: dict[str, dict[str, float]] = {
        m.id: {"shared_withdrawal": 0.0, "withdrawn": 0.0} for m in community.members
    }
    for k, (m, _) in enumerate(points):
        consumers[m.id]["shared_withdrawal"] += float(energy.point_shared_withdrawal[k])
        consumers[m.id]["withdrawn"] += float(energy.point_withdrawn[k])
    bases = Bases(
        producers=producers,
        consumers=consumers,
        non_business=frozenset(m.id for m in community.members if m.kind != "business"),
    )
    total_cents = eur_to_cents(float(money.plant_tip.sum() + money.valorisation.sum() + money.avoided_losses.sum()))
    excess_cents = eur_to_cents(sum(s.excess_eur for s in excess_sets))
    allocation = apply_regulation(
        total_cents, community.regulation, bases, excess_cents=excess_cents, excess_to=community.excess_to
    )
    warnings += list(allocation.warnings)
    return Settlement(
        community=community,
        period=period,
        hours=hours,
        zone=zone,
        price_eur_mwh=price,
        price_source=price_source,
        cu_af_eur_mwh=cu_af,
        cabine=cabine,
        plants=plants,
        point_pods=[pt.pod for _, pt in points],
        point_members=[m.id for m, _ in points],
        energy=energy,
        money=money,
        plant_results=plant_results,
        excess_sets=excess_sets,
        allocation=allocation,
        warnings=warnings,
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


def _run_dataset(task: Task, out: TaskResult) -> None:
    from condivisa.national.parquet import open_dataset

    ds = open_dataset(task.location)
    if task.year is not None and task.year != ds.year:
        raise InputError.one(f"il dataset e' dell'anno {ds.year}, non del {task.year}", field="year")
    rb = load_rulebook()
    period = Period(dt.date(ds.year, 1, 1), dt.date(ds.year, 12, 31))
    all_prices = ds.prices()
    by_zone: dict[str, Prices] = {}
    memo: dict[Any, Any] = {}
    for cid in task.ids:
        t0 = time.perf_counter()
        try:
            entry = ds.entry(cid)
            community = ds.community(cid)
            prices = by_zone.get(entry.zone)
            if prices is None:
                frame = all_prices.frame[all_prices.frame["zone"] == entry.zone].reset_index(drop=True)
                prices = by_zone[entry.zone] = Prices(frame=frame, source=all_prices.source)
            if task.engine == "settle":
                readings = ds.read_readings(entry)
                t1 = time.perf_counter()
                s = settle(community, readings, prices, period=period, rulebook=rb, source=cid)
            else:
                arrays = ds.read_arrays(entry)
                w = arrays.withdrawn_wh / 1000.0
                i = arrays.injected_wh / 1000.0
                t1 = time.perf_counter()
                s = settle_arrays(community, arrays.pods, w, i, period, prices, rulebook=rb, source=cid, memo=memo)
            out.records.append(record_of(cid, s))
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
                client = Client(scheduler, timeout=30)  # type: ignore[no-untyped-call]
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
