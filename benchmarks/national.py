"""National scale: the settlement of thousands of communities, in one process and on a Dask LocalCluster.

In one run:

0. generate a national dataset (:mod:`condivisa.national`) of ``--communities`` x ``--pods`` points x one year of
   hourly readings into a temporary directory (timed separately, not part of the targets), or reuse ``--dataset``;
1. settle it in a single process, streamed (``settle_many(scheduler=None)``: one task after the other, one
   community's data in memory at a time);
2. settle it on a ``distributed.LocalCluster`` of ``--workers`` worker processes, one thread each
   (``settle_many(scheduler="local")``), with and without the cluster's start-up;
3. check a sample of communities against the single-community engine (:func:`condivisa.engine.settle` on the
   community's long readings): every record field equal (cents and allocation digest exactly, energies and euros to
   1e-9 relative), and both runs giving the same records for every community.

Each timed run is a fresh Python process (``--phase``), so that its peak memory (``ru_maxrss``) is its own: the
client's, and each worker's as reported by the tasks it ran.

Targets: single process < 60 s; Dask no slower than 1.2 x single process; memory per worker < 4 GiB.

Run from the project root::

    .venv/bin/python benchmarks/national.py                       # 2,000 communities x 100 PODs x 8,760 h
    .venv/bin/python benchmarks/national.py --communities 100     # quick
    .venv/bin/python benchmarks/national.py --dataset /tmp/nat --keep   # reuse or keep the dataset
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

SINGLE_TARGET_S = 60.0
RATIO_TARGET = 1.2
WORKER_MIB_TARGET = 4096.0
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def phase(args: argparse.Namespace) -> int:
    """One timed run in this (fresh) process; prints one JSON line."""
    from condivisa.national.settle_many import peak_rss_mib, settle_many, write_records

    rss0 = peak_rss_mib()
    scheduler = None if args.phase == "single" else "local"
    r = settle_many(args.dataset, scheduler=scheduler, workers=args.workers, batch=args.batch)
    out = Path(args.records)
    write_records(r.records, out)
    print(
        json.dumps(
            {
                "wall_s": r.wall_s,
                "startup_s": r.startup_s,
                "read_s": r.read_s,
                "engine_s": r.engine_s,
                "tasks": r.tasks,
                "workers": r.workers,
                "records": len(r.records),
                "failures": r.failures[:5],
                "client_peak_mib": r.client_peak_mib,
                "client_start_mib": rss0,
                "worker_peak_mib": r.worker_peak_mib,
            }
        )
    )
    return 0


def run_phase(name: str, args: argparse.Namespace, dataset: Path, records: Path) -> dict[str, object]:
    cmd = [
        sys.executable,
        __file__,
        "--phase",
        name,
        "--dataset",
        str(dataset),
        "--records",
        str(records),
        "--workers",
        str(args.workers),
        "--batch",
        str(args.batch),
    ]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
        raise SystemExit(f"phase {name} failed")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = elapsed
    return result


def compare(a: dict[str, object], b: dict[str, object]) -> list[str]:
    """Fields that differ: exact for ints and strings, 1e-9 relative for floats."""
    diff = []
    for k, va in a.items():
        vb = b[k]
        if isinstance(va, float) and isinstance(vb, float):
            if abs(va - vb) > 1e-9 * max(1.0, abs(va), abs(vb)):
                diff.append(f"{k}: {va} != {vb}")
        elif va != vb:
            diff.append(f"{k}: {va!r} != {vb!r}")
    return diff


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--communities", type=int, default=2000)
    ap.add_argument("--pods", type=int, default=100)
    ap.add_argument("--year", type=int, default=2025)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=20, help="communities per task (20)")
    ap.add_argument("--sample", type=int, default=12, help="communities checked against the engine (12)")
    ap.add_argument("--dataset", type=Path, help="dataset directory: reused if it has a manifest, else generated")
    ap.add_argument("--keep", action="store_true", help="keep the generated dataset")
    ap.add_argument("--phase", choices=["single", "dask"], help=argparse.SUPPRESS)
    ap.add_argument("--records", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if any(os.environ.get(v) != "1" for v in BLAS_THREAD_VARS):
        # One BLAS thread per process (as Dask's workers get): set before numpy is imported.
        env = {**os.environ, **dict.fromkeys(BLAS_THREAD_VARS, "1")}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    if args.phase:
        return phase(args)

    from condivisa.national.parquet import open_dataset, write_dataset
    from condivisa.national.settle_many import read_records, settle_many

    print(
        f"condivisa national benchmark: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    tmp = Path(tempfile.mkdtemp(prefix="condivisa-national-"))
    dataset = args.dataset or tmp / "dataset"
    try:
        if (dataset / "manifest.json").exists():
            ds = open_dataset(dataset)
            print(f"\n== 0. Dataset reused: {dataset} ({len(ds.entries):,} communities, year {ds.year}) ==")
        else:
            print(f"\n== 0. Generating {args.communities:,} communities x {args.pods} PODs x year {args.year} ==")
            t0 = time.perf_counter()
            ds = write_dataset(dataset, args.communities, pods=args.pods, year=args.year, seed=args.seed)
            gen = time.perf_counter() - t0
            size = sum(f.stat().st_size for f in (dataset / "readings").rglob("*.parquet"))
            files = sum(1 for _ in (dataset / "readings").rglob("*.parquet"))
            print(f"  generated and written in {gen:.1f} s: {files:,} Parquet files, {size / 2**30:.2f} GiB")
        pods = sum(e.pods for e in ds.entries)
        print(f"  {len(ds.entries):,} communities, {pods:,} PODs, {pods * 8760:,} hourly readings")

        print(f"\n== 1. Single process, streamed (batch {args.batch}) ==")
        single = run_phase("single", args, dataset, tmp / "single.parquet")
        print(
            f"  wall {single['wall_s']:.2f} s (reading {single['read_s']:.1f} s, engine {single['engine_s']:.1f} s); "
            f"peak RSS {single['client_peak_mib']:.0f} MiB"
        )
        print(f"\n== 2. Dask LocalCluster, {args.workers} workers x 1 thread ==")
        dask = run_phase("dask", args, dataset, tmp / "dask.parquet")
        work = float(dask["wall_s"]) - float(dask["startup_s"])  # type: ignore[arg-type]
        peaks = dask["worker_peak_mib"]
        assert isinstance(peaks, dict)
        print(
            f"  wall {dask['wall_s']:.2f} s including cluster start-up {dask['startup_s']:.2f} s "
            f"({work:.2f} s without); task time summed over workers: reading {dask['read_s']:.1f} s, "
            f"engine {dask['engine_s']:.1f} s"
        )
        print(f"  client (and scheduler) peak RSS {dask['client_peak_mib']:.0f} MiB")
        for w, mib in sorted(peaks.items()):
            print(f"  worker {w}: peak RSS {mib:.0f} MiB")

        print(f"\n== 3. Check against the single-community engine (sample of {args.sample}) ==")
        rec_single = {r.id: asdict(r) for r in read_records(tmp / "single.parquet")}
        rec_dask = {r.id: asdict(r) for r in read_records(tmp / "dask.parquet")}
        mismatch = [i for i in rec_single if compare(rec_single[i], rec_dask.get(i, {k: None for k in rec_single[i]}))]
        print(f"  single process vs Dask: {len(rec_single):,} vs {len(rec_dask):,} records, {len(mismatch)} differ")
        step = max(1, len(ds.entries) // max(1, args.sample))
        sample = [e.id for e in ds.entries[::step][: args.sample]]
        t0 = time.perf_counter()
        ref = settle_many(dataset, ids=sample, engine="settle")
        print(f"  engine.settle on {len(sample)} communities' long readings: {time.perf_counter() - t0:.1f} s")
        bad = 0
        for r in ref.records:
            d = compare(asdict(r), rec_single[r.id])
            if d:
                bad += 1
                print(f"  {r.id}: {d[:3]}")
        print(f"  {len(ref.records) - bad} of {len(ref.records)} identical (cents and allocation digest exact)")

        single_s = float(single["wall_s"])  # type: ignore[arg-type]
        dask_s = float(dask["wall_s"])  # type: ignore[arg-type]
        ratio = dask_s / single_s
        ratio_work = work / single_s
        worst = max(peaks.values()) if peaks else 0.0
        print(f"\n== Summary ({len(ds.entries):,} communities x {args.pods} PODs x 8,760 h) ==")
        rows = [
            (f"single process < {SINGLE_TARGET_S:g} s", f"{single_s:.2f} s", single_s < SINGLE_TARGET_S),
            (
                f"Dask {args.workers} workers <= {RATIO_TARGET} x single",
                f"{dask_s:.2f} s, ratio {ratio:.2f} ({ratio_work:.2f} without start-up)",
                ratio <= RATIO_TARGET,
            ),
            (f"memory per worker < {WORKER_MIB_TARGET / 1024:g} GiB", f"{worst:.0f} MiB", worst < WORKER_MIB_TARGET),
            (
                "identical to engine.settle (sample)",
                f"{len(ref.records) - bad}/{len(sample)}",
                bad == 0 and len(ref.records) == len(sample),
            ),
            (
                "single process == Dask (all)",
                f"{len(mismatch)} differ",
                not mismatch and len(rec_dask) == len(rec_single),
            ),
        ]
        for name, value, ok in rows:
            print(f"  [{'PASS' if ok else 'FAIL'}] {name:<40} {value}")
        print(f"  client peak RSS: single {single['client_peak_mib']:.0f} MiB, Dask {dask['client_peak_mib']:.0f} MiB")
        print(f"  load average at end: {os.getloadavg()[0]:.1f} (other processes on the machine skew timings)")
    finally:
        if args.keep or args.dataset:
            print(f"  dataset kept in {dataset}")
            shutil.rmtree(tmp / "single.parquet", ignore_errors=True)
        if not args.keep and not args.dataset:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
