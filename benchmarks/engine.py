"""Benchmark of the settlement array core (:func:`share_energy` and :func:`value_energy`).

Two measurements, in one run, on synthetic float32 arrays in the engine's series-major layout (one row per POD,
one column per hour: ``P`` PODs x ``H`` hours, of which ``N`` are prosumers with a plant, over ``C`` cabine):

1. **Throughput against a numpy floor.** For each of ``--throughput-communities`` distinct generated
   communities (``--batch`` of them per engine call), the same arrays ``W`` (withdrawals, P x H) and ``I``
   (injections, P x H, zero outside the plant rows) go through

   * the *floor*: ``np.minimum(W.sum(axis=0), I.sum(axis=0)).sum()`` per community, the least a vectorised
     hourly shared-energy computation can do;
   * the *engine*: plant rows picked out of ``I``, each plant's tariff row (the per-class TIP table is computed
     once per zone price, as a national run does), grant reductions, ``share_energy`` and ``value_energy``
     with the exempt groups, tip shares and CU_Af, and the yearly totals (shared kWh, incentivised kWh, TIP €).

   Each is timed with :func:`time.perf_counter`; the figure kept for a call is the **best of ``--repeats``**
   runs (array generation is not timed here, and the arrays are warm in cache for both). Throughput is
   cell-hours (P x H) per second, total cells / sum of the best times. Target: engine/floor >= 0.5.

2. **Streamed national-size year.** ``--communities`` communities (default 2,000) of P PODs over H hours,
   ``--batch`` at a time: generate the arrays (a daily load shape and a PV shape tiled over the year, with
   per-community random scaling, day-to-day variation and a little hourly noise) and run the engine on them,
   accumulating shared kWh, incentivised kWh and TIP €. Generation time is included in the wall time. Peak
   memory is the process's ``ru_maxrss``. Targets: < 30 s, < 2 GiB, on a 2-core machine.

Run from the project root::

    .venv/bin/python benchmarks/engine.py            # full run (50 + 2,000 communities)
    .venv/bin/python benchmarks/engine.py --quick    # a few seconds
    .venv/bin/python benchmarks/engine.py --batch 5  # five communities per engine call
    .venv/bin/python benchmarks/engine.py --profile  # cProfile of a few streamed communities as well
    .venv/bin/python benchmarks/engine.py --blas-threads 0   # BLAS threads as the environment says

By default the script restarts itself with one BLAS thread: on 2 cores OpenBLAS's spinning worker threads slow
the numpy code around them, and a national run uses one engine process per core instead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import numpy.typing as npt

from condivisa.engine.sharing import Layout, share_energy, value_energy
from condivisa.rules.rulebook import Rulebook, load_rulebook
from condivisa.rules.tip import grant_reduction, power_class, tip_eur_mwh

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

THROUGHPUT_RATIO_TARGET = 0.5
STREAM_SECONDS_TARGET = 30.0
STREAM_MIB_TARGET = 2048.0
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Shapes:
    """What every community shares: tiled daily shapes, an hourly noise pool, prices and CU_Af."""

    hours: int
    days: int
    load_day: F32  # (24,) relative load by hour of day, mean 1
    pv_day: F32  # (24,) kWh per kWp by hour of day on a clear summer day
    load_season: F32  # (days,)
    pv_season: F32  # (days,)
    noise: F32  # (2 * hours, pods) multiplicative noise pool around 1; a community takes a window of it
    price: F64  # (hours,) hourly zonal price [€/MWh]
    cu_af: F64  # (hours,) CU_Af [€/MWh]
    tariff: F32  # (K, hours) TIP before reduction of each (power class, FC) [€/MWh], once per zone
    tariff_row: dict[tuple[float, float], int]  # (class max kW, FC) -> row of ``tariff``


@dataclass(frozen=True)
class Community:
    """One synthetic configuration, points sorted by cabina, plants in queue order."""

    withdrawn: F32  # W (P, H), one row per POD (the engine's series-major layout)
    injected_all: F32  # I (P, H), zero outside the plant rows
    plant_cols: IntArray  # (N,) columns of I holding a plant
    layout: Layout  # points grouped by (cabina, exempt), plants by cabina in queue order
    group_exempt: npt.NDArray[np.bool_]  # (G,) groups exempt from the grant reduction
    plant_kw: F64  # (N,)
    plant_fc: F64  # (N,) geographic correction [€/MWh]
    plant_grant: F64  # (N,) capital grant share
    plant_tip_share: F64  # (N,)


@dataclass
class Totals:
    """Accumulated results of engine runs."""

    shared_kwh: float = 0.0
    incentivised_kwh: float = 0.0
    tip_eur: float = 0.0
    valorisation_eur: float = 0.0

    def add(self, other: Totals) -> None:
        self.shared_kwh += other.shared_kwh
        self.incentivised_kwh += other.incentivised_kwh
        self.tip_eur += other.tip_eur
        self.valorisation_eur += other.valorisation_eur


@dataclass
class StageTimes:
    """Seconds spent in each stage of the engine run, accumulated."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, dt: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + dt


def make_shapes(hours: int, pods: int, rb: Rulebook, seed: int) -> Shapes:
    """Precompute the shapes every community reuses (not part of any timing except the streamed total)."""
    rng = np.random.default_rng(seed)
    days = -(-hours // 24)
    h = np.arange(24)
    # Residential-ish load: morning and evening peaks over a base; mean 1.
    load = 0.55 + 0.5 * np.exp(-((h - 8) ** 2) / 6.0) + 0.9 * np.exp(-((h - 20) ** 2) / 8.0)
    load_day = (load / load.mean()).astype(np.float32)
    # PV: a bell between 6 and 19, about 6 kWh/kWp on a clear summer day.
    pv = np.clip(np.sin(np.pi * (h - 5.5) / 14.0), 0.0, None) ** 1.5
    pv_day = (6.0 * pv / pv.sum()).astype(np.float32)
    d = np.arange(days)
    load_season = (1.0 + 0.2 * np.cos(2 * np.pi * d / 365.0)).astype(np.float32)  # winter peak
    pv_season = (0.65 - 0.35 * np.cos(2 * np.pi * (d + 10) / 365.0)).astype(np.float32)  # summer peak
    noise = rng.uniform(0.85, 1.15, size=(pods, 2 * hours)).astype(np.float32)

    params, _ = rb.year(2025)
    month = np.minimum((np.arange(hours) // 24) * 12 // 365, 11)
    monthly = np.asarray(params.monthly_price_eur_mwh, dtype=np.float64)[month]
    hod = np.arange(hours) % 24
    duck = 1.0 + 0.25 * np.cos(2 * np.pi * (hod - 20) / 24.0) - 0.2 * np.exp(-((hod - 13) ** 2) / 8.0)
    price = np.maximum(0.0, monthly * duck * rng.normal(1.0, 0.08, hours))
    cu_af = np.full(hours, params.cu_af_eur_mwh)
    tariff_row: dict[tuple[float, float], int] = {}
    rows = []
    for cls in rb.classes:
        for fc in (0.0, 4.0, 10.0):
            tariff_row[(cls.max_power_kw, fc)] = len(rows)
            rows.append(tip_eur_mwh(cls.max_power_kw, price, fc_eur_mwh=fc, rulebook=rb))
    return Shapes(
        hours,
        days,
        load_day,
        pv_day,
        load_season,
        pv_season,
        noise,
        price,
        cu_af,
        np.stack(rows).astype(np.float32),
        tariff_row,
    )


def make_community(shapes: Shapes, pods: int, plants: int, cabine: int, seed: int) -> Community:
    """Generate one community cheaply: tiled shapes, per-POD and per-day scaling, pooled hourly noise."""
    rng = np.random.default_rng(seed)
    h, days = shapes.hours, shapes.days

    scale = rng.uniform(0.15, 0.8, pods).astype(np.float32)  # mean withdrawal [kWh/h], ~1.3-7 MWh/year
    day_f = shapes.load_season[:, None] * rng.uniform(0.7, 1.3, (days, pods)).astype(np.float32) * scale
    w = np.ascontiguousarray((day_f.T[:, :, None] * shapes.load_day[None, None, :]).reshape(pods, days * 24)[:, :h])
    off = int(rng.integers(0, shapes.noise.shape[1] - h + 1))
    w *= shapes.noise[:, off : off + h]

    kw = rng.choice([4.5, 6.0, 10.0, 20.0, 50.0, 100.0], size=plants, p=[0.3, 0.3, 0.2, 0.1, 0.07, 0.03])
    if plants:
        kw[0] = 200.0  # one plant of the community's promoter
    cloud = rng.uniform(0.25, 1.0, (days, plants)).astype(np.float32)
    pv_f = shapes.pv_season[:, None] * cloud * kw.astype(np.float32)
    pv = (pv_f.T[:, :, None] * shapes.pv_day[None, None, :]).reshape(plants, days * 24)[:, :h]
    plant_cols = np.sort(rng.choice(pods, size=plants, replace=False)).astype(np.intp)
    inj = np.zeros((pods, h), dtype=np.float32)
    inj[plant_cols] = pv

    point_cabina = np.sort(rng.integers(0, cabine, pods)).astype(np.intp)  # points sorted by cabina
    # Columns are exchangeable, so the first ~10 % of each cabina's points are its exempt group.
    exempt = np.zeros(pods, dtype=bool)
    for c in range(cabine):
        cols = np.flatnonzero(point_cabina == c)
        exempt[cols[: max(1, cols.size // 10)]] = cols.size > 0
    group_key = point_cabina * 2 + (~exempt)  # exempt group first within each cabina
    groups, point_group = np.unique(group_key, return_inverse=True)
    layout = Layout(
        point_group=point_group.astype(np.intp),
        group_cabina=(groups // 2).astype(np.intp),
        plant_cabina=point_cabina[plant_cols],  # plants in queue order = column order
        n_cabine=cabine,
    )
    return Community(
        withdrawn=w,
        injected_all=inj,
        plant_cols=plant_cols,
        layout=layout,
        group_exempt=(groups % 2 == 0),
        plant_kw=kw,
        plant_fc=rng.choice([0.0, 4.0, 10.0], size=plants),
        plant_grant=np.where(rng.random(plants) < 0.25, 0.4, 0.0),
        plant_tip_share=np.ones(plants),
    )


def batch(communities: list[Community]) -> Community:
    """Stack communities of equal size into one engine input: rows concatenated, cabine and groups renumbered,
    one configuration per community."""
    pods = communities[0].withdrawn.shape[0]
    groups = cabine = 0
    point_group, group_cabina, plant_cabina, cab_conf, plant_cols = [], [], [], [], []
    for i, c in enumerate(communities):
        lay = c.layout
        point_group.append(lay.point_group + groups)
        group_cabina.append(lay.group_cabina + cabine)
        plant_cabina.append(lay.plant_cabina + cabine)
        cab_conf.append(np.full(lay.n_cabine, i, dtype=np.intp))
        plant_cols.append(c.plant_cols + i * pods)
        groups += lay.group_cabina.size
        cabine += lay.n_cabine
    return Community(
        withdrawn=np.concatenate([c.withdrawn for c in communities]),
        injected_all=np.concatenate([c.injected_all for c in communities]),
        plant_cols=np.concatenate(plant_cols),
        layout=Layout(
            point_group=np.concatenate(point_group),
            group_cabina=np.concatenate(group_cabina),
            plant_cabina=np.concatenate(plant_cabina),
            n_cabine=cabine,
            cabina_configuration=np.concatenate(cab_conf),
        ),
        group_exempt=np.concatenate([c.group_exempt for c in communities]),
        plant_kw=np.concatenate([c.plant_kw for c in communities]),
        plant_fc=np.concatenate([c.plant_fc for c in communities]),
        plant_grant=np.concatenate([c.plant_grant for c in communities]),
        plant_tip_share=np.concatenate([c.plant_tip_share for c in communities]),
    )


def run_floor(c: Community) -> float:
    """The numpy floor: hourly shared energy of each configuration (min of summed withdrawal and injection)."""
    k, h = c.layout.n_configurations, c.withdrawn.shape[1]
    w = c.withdrawn.reshape(k, -1, h).sum(axis=1)
    i = c.injected_all.reshape(k, -1, h).sum(axis=1)
    return float(np.minimum(w, i).sum())


def run_engine(c: Community, shapes: Shapes, rb: Rulebook, stages: StageTimes | None = None) -> Totals:
    """The engine core on one community: rates, reductions, share_energy, value_energy, totals."""
    t0 = time.perf_counter()
    injected = c.injected_all[c.plant_cols]  # the plants' series (N, H)
    plant_tariff = np.array(
        [
            shapes.tariff_row[(power_class(float(kw), rb).max_power_kw, float(fc))]
            for kw, fc in zip(c.plant_kw, c.plant_fc, strict=True)
        ],
        dtype=np.intp,
    )
    reduction = np.array([grant_reduction(float(g), rb) for g in c.plant_grant])
    t1 = time.perf_counter()
    energy = share_energy(c.withdrawn, injected, c.layout)
    t2 = time.perf_counter()
    money = value_energy(
        energy,
        c.layout,
        shapes.tariff,
        plant_tariff,
        reduction,
        c.plant_tip_share,
        shapes.cu_af,
        group_exempt=c.group_exempt,
        exempt_first_to_grant_plants=rb.exempt_priority_to_grant_plants,
    )
    t3 = time.perf_counter()
    out = Totals(
        shared_kwh=float(energy.shared.sum()),
        incentivised_kwh=float(energy.cabina_incentivised.sum()),
        tip_eur=float(money.plant_tip.sum()),
        valorisation_eur=float(money.valorisation.sum()),
    )
    if stages is not None:
        t4 = time.perf_counter()
        stages.add("inputs (slice I, TIP rates, reductions)", t1 - t0)
        stages.add("share_energy", t2 - t1)
        stages.add("value_energy", t3 - t2)
        stages.add("totals", t4 - t3)
    return out


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls of ``fn`` [s]."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def peak_rss_mib() -> float:
    """Process-wide peak resident set size [MiB] (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def fmt_rate(x: float) -> str:
    return f"{x / 1e6:,.1f} M cell-hours/s"


def throughput(args: argparse.Namespace, shapes: Shapes, rb: Rulebook) -> dict[str, float]:
    k, h, p, b = args.throughput_communities, args.hours, args.pods, args.batch
    calls = max(1, k // b)
    print(
        f"\n== 1. Throughput vs numpy floor: {calls * b} communities x {p} PODs x {h} hours "
        f"({args.plants} plants, {args.cabine} cabine each), {b} communities per call, "
        f"best of {args.repeats} per call =="
    )
    floor_t, engine_t = [], []
    stages = StageTimes()
    worst_rel = 0.0
    for i in range(calls):
        c = batch(
            [
                make_community(shapes, p, args.plants, args.cabine, seed=args.seed + 1_000_000 + i * b + j)
                for j in range(b)
            ]
        )
        floor_val = run_floor(c)
        run_engine(c, shapes, rb)  # warm-up
        floor_t.append(best_of(partial(run_floor, c), args.repeats))
        engine_t.append(best_of(partial(run_engine, c, shapes, rb), args.repeats))
        eng = run_engine(c, shapes, rb, stages)
        worst_rel = max(worst_rel, abs(eng.shared_kwh - floor_val) / max(abs(floor_val), 1e-9))
    cells = b * h * p
    floor_rate = calls * cells / sum(floor_t)
    engine_rate = calls * cells / sum(engine_t)
    ratio = engine_rate / floor_rate
    for name, rate, times in (("floor", floor_rate, floor_t), ("engine", engine_rate, engine_t)):
        per_community_ms = statistics.median(times) * 1e3 / b
        print(f"  {name:<6}: {fmt_rate(rate):>24}   median {per_community_ms:8.3f} ms/community")
    print(f"  ratio engine/floor: {ratio:.3f}  (target >= {THROUGHPUT_RATIO_TARGET})")
    print(f"  check: shared kWh, engine vs floor (both float32), worst relative gap {worst_rel:.1e}")
    total = sum(stages.seconds.values())
    print("  engine time by stage (one extra timed run per call):")
    for name, sec in stages.seconds.items():
        print(f"    {name:<42} {sec / (calls * b) * 1e3:8.3f} ms/community  {100 * sec / total:5.1f} %")
    return {"floor_rate": floor_rate, "engine_rate": engine_rate, "ratio": ratio}


def stream(args: argparse.Namespace, rb: Rulebook) -> dict[str, float]:
    n, h, p, b = args.communities, args.hours, args.pods, args.batch
    print(f"\n== 2. Streamed year: {n:,} communities x {p} PODs x {h} hours, {b} at a time, generation included ==")
    t0 = time.perf_counter()
    shapes = make_shapes(h, p, rb, seed=args.seed)
    totals = Totals()
    gen_s = 0.0
    for start in range(0, n, b):
        tg = time.perf_counter()
        c = batch(
            [
                make_community(shapes, p, args.plants, args.cabine, seed=args.seed + i)
                for i in range(start, min(n, start + b))
            ]
        )
        gen_s += time.perf_counter() - tg
        totals.add(run_engine(c, shapes, rb))
        del c
    wall = time.perf_counter() - t0
    rss = peak_rss_mib()
    print(
        f"  wall time      : {wall:8.2f} s  (generation {gen_s:.2f} s, engine and rest "
        f"{wall - gen_s:.2f} s; {wall / max(n, 1) * 1e3:.2f} ms/community)"
    )
    print(f"  cell-hours     : {n * h * p:,}  ({fmt_rate(n * h * p / wall)} end to end)")
    print(f"  peak RSS       : {rss:8.1f} MiB (ru_maxrss, whole process)")
    print(f"  shared         : {totals.shared_kwh / 1e6:14,.3f} GWh")
    print(f"  incentivised   : {totals.incentivised_kwh / 1e6:14,.3f} GWh")
    print(f"  TIP            : {totals.tip_eur / 1e6:14,.3f} M€")
    print(f"  valorisation   : {totals.valorisation_eur / 1e6:14,.3f} M€")
    return {"wall": wall, "rss": rss, "n": n}


def profile(args: argparse.Namespace, rb: Rulebook) -> None:
    n = min(args.communities, 50)
    print(f"\n== cProfile of {n} streamed communities (top 15 by internal time) ==")
    shapes = make_shapes(args.hours, args.pods, rb, seed=args.seed)
    prof = cProfile.Profile()
    prof.enable()
    for i in range(n):
        c = make_community(shapes, args.pods, args.plants, args.cabine, seed=args.seed + i)
        run_engine(c, shapes, rb)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    print(buf.getvalue())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--communities", type=int, default=2000, help="communities streamed in part 2 (2000)")
    ap.add_argument("--throughput-communities", type=int, default=50, help="distinct communities timed in part 1 (50)")
    ap.add_argument("--pods", type=int, default=100, help="PODs per community (100)")
    ap.add_argument("--plants", type=int, default=20, help="prosumer PODs with a plant (20)")
    ap.add_argument("--cabine", type=int, default=2, help="cabine primarie per community (2)")
    ap.add_argument("--batch", type=int, default=1, help="communities settled per engine call (1)")
    ap.add_argument("--hours", type=int, default=8760, help="hours (8760)")
    ap.add_argument("--repeats", type=int, default=5, help="repeats per community in part 1, best kept (5)")
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: 100 streamed communities, 5 timed communities, 3 repeats"
    )
    ap.add_argument("--only", choices=["throughput", "stream"], help="run one part only")
    ap.add_argument("--profile", action="store_true", help="also print a cProfile of the streamed loop")
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="restart with OPENBLAS/OMP/MKL_NUM_THREADS set to this (default 1: one engine process per core, as "
        "the streamed and distributed runs use; 0 leaves the environment as is)",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.communities = min(args.communities, 100)
        args.throughput_communities = min(args.throughput_communities, 5)
        args.repeats = min(args.repeats, 3)
    if not 0 <= args.plants <= args.pods:
        ap.error("--plants must be between 0 and --pods")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.blas_threads and any(os.environ.get(v) != str(args.blas_threads) for v in BLAS_THREAD_VARS):
        # BLAS reads its thread count when numpy is imported: start again with the variables set.
        env = {**os.environ, **dict.fromkeys(BLAS_THREAD_VARS, str(args.blas_threads))}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    rb = load_rulebook()
    threads = {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS")}
    print(
        f"condivisa engine benchmark: Python {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}" + (f", {threads}" if threads else "")
    )

    results: list[tuple[str, str, bool]] = []
    if args.only in (None, "throughput"):
        shapes = make_shapes(args.hours, args.pods, rb, seed=args.seed)
        tp = throughput(args, shapes, rb)
        del shapes
        results.append(
            (
                f"engine/floor throughput >= {THROUGHPUT_RATIO_TARGET}",
                f"{tp['ratio']:.3f} ({fmt_rate(tp['engine_rate'])} vs {fmt_rate(tp['floor_rate'])})",
                tp["ratio"] >= THROUGHPUT_RATIO_TARGET,
            )
        )
        print(f"  peak RSS after part 1: {peak_rss_mib():.1f} MiB")
    if args.only in (None, "stream"):
        st = stream(args, rb)
        scaled = "" if st["n"] == 2000 else f" [{st['n']:,} communities, not 2,000]"
        results.append(
            (
                f"streamed year wall time < {STREAM_SECONDS_TARGET:g} s",
                f"{st['wall']:.2f} s{scaled}",
                st["wall"] < STREAM_SECONDS_TARGET,
            )
        )
        results.append(
            (f"peak memory < {STREAM_MIB_TARGET / 1024:g} GiB", f"{st['rss']:.1f} MiB", st["rss"] < STREAM_MIB_TARGET)
        )
    if args.profile:
        profile(args, rb)

    blas = os.environ.get("OPENBLAS_NUM_THREADS", "unset (OpenBLAS default: one per CPU)")
    print(f"\n== Summary (BLAS threads: {blas}) ==")
    for name, value, ok in results:
        print(f"  [{'PASS' if ok else 'FAIL'}] {name:<36} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
