"""Benchmark of distributor meter files into the database: rows per second, parse and import end to end.

What it does, in a PostgreSQL database of its own (created on the server of ``--url`` and dropped at the end; or
``--url sqlite:///file.db`` for the embedded default):

1. writes realistic distributor files into a temporary folder - **not timed**:
   * PCF-LONG (Unareti and others): one file of ``--pods`` PODs x ``--days`` days, one row per quarter-hour,
     with the DST flag; the period starts on 1 March so it crosses the spring change (23-hour day with its
     placeholder rows);
   * ED-WIDE (e-distribuzione): one file per POD and month, one row per day with 96 quarter-hour columns;
2. stores a community whose members own those PODs;
3. times ``condivisa db import-meter``'s path for each format: the lenient reader
   (:func:`condivisa.cli.db.read_meter_file`) then :func:`condivisa.store.quarantine.import_meter_files`
   (idempotent upsert, corrections recorded, quarantine; consecutive files that do not overlap share one
   transaction, as in the command), commit included;
4. times the re-import of the same files (nothing changes).

Rows are the file's quarter-hour readings (PCF-LONG: lines; ED-WIDE: day-lines x 96 cells). Target: >= 50,000
rows/s end to end.

Run from the project root::

    .venv/bin/python benchmarks/ingest_files.py                     # 50 PODs x 90 days each format
    .venv/bin/python benchmarks/ingest_files.py --pods 200 --days 31
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

import condivisa.engine  # noqa: F401  (loaded before condivisa.ingest)
from condivisa.cli.db import read_meter_file
from condivisa.ingest.readings import Readings
from condivisa.model import Community
from condivisa.store import make_engine, save_community, session_factory, upgrade
from condivisa.store.quarantine import import_meter_files

try:  # the scratch database helper of the database benchmark
    from ingest_db import DEFAULT_URL, scratch_database
except ImportError:  # run as a module from elsewhere
    from benchmarks.ingest_db import DEFAULT_URL, scratch_database

ROME = ZoneInfo("Europe/Rome")
PCF_HEADER = (
    "POD;DATA;ORA;FL_ORA_LEGALE;ATTIVA_PRELEVATA;ATTIVA_IMMESSA;REATTIVA_CAPACITIVA_IMMESSA;"
    "REATTIVA_CAPACITIVA_PRELEVATA;REATTIVA_INDUTTIVA_IMMESSA;REATTIVA_INDUTTIVA_PRELEVATA;PICCO_PRELEVATA;"
    "CONSUMO_PICCO_IMMESSA;TIPO_DATO;"
)


def quarter_hours(first: dt.date, days: int) -> list[dt.datetime]:
    """Local (Europe/Rome, aware) starts of every quarter-hour of ``days`` local days from ``first``."""
    start = dt.datetime.combine(first, dt.time(0), tzinfo=ROME).astimezone(dt.UTC)
    end = dt.datetime.combine(first + dt.timedelta(days=days), dt.time(0), tzinfo=ROME).astimezone(dt.UTC)
    n = int((end - start) / dt.timedelta(minutes=15))
    return [(start + dt.timedelta(minutes=15 * k)).astimezone(ROME) for k in range(n)]


def pod_name(k: int) -> str:
    """PODs 0..n-1 have PCF-LONG files, n..2n-1 ED-WIDE files (the two imports do not overlap)."""
    return f"IT012E{30_000_000 + k:08d}"


def write_pcf(folder: Path, pods: int, first: dt.date, days: int, rng: np.random.Generator) -> tuple[Path, int]:
    """One PCF-LONG file of every POD; returns (path, data rows)."""
    stamps = quarter_hours(first, days)
    prefix = [f"{s:%Y%m%d};{s:%H%M%S};{2 if s.utcoffset() == dt.timedelta(hours=2) else 1}" for s in stamps]
    lines = [PCF_HEADER]
    for k in range(pods):
        pod = pod_name(k)
        values = rng.integers(0, 900, len(stamps))
        lines += [f"{pod};{p};0,{v:03d};;;;;0,011;3,105;;E;" for p, v in zip(prefix, values, strict=True)]
    path = folder / "pcf-curve_bench.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(lines) - 1


def write_edist(folder: Path, pods: int, first: dt.date, days: int, rng: np.random.Generator) -> tuple[list[Path], int]:
    """ED-WIDE files, one per POD and calendar month (96 columns; the autumn day would be refused, so the
    period is chosen without it); returns (paths, quarter-hour cells)."""
    labels = [
        f"{h:02d}:{m:02d}-{(h + (m + 15) // 60) % 24:02d}:{(m + 15) % 60:02d}"
        for h in range(24)
        for m in (0, 15, 30, 45)
    ]
    header = "Giorno;" + ";".join(labels)
    day_list = [first + dt.timedelta(days=d) for d in range(days)]
    paths: list[Path] = []
    cells = 0
    spring = [i for i, label in enumerate(labels) if label.startswith("02:")]
    for k in range(pods, 2 * pods):
        by_month: dict[tuple[int, int], list[str]] = {}
        for day in day_list:
            values = rng.integers(0, 900, 96)
            text = [f"0,{v:03d}" for v in values]
            if len(quarter_hours(day, 1)) == 92:  # the spring day: the missing hour's cells are empty
                for i in spring:
                    text[i] = ""
            by_month.setdefault((day.year, day.month), []).append(f"{day:%d/%m/%Y};" + ";".join(text))
            cells += len(quarter_hours(day, 1))
        for (year, month), rows in by_month.items():
            path = folder / f"edist-wide_{pod_name(k)}_prelievo_ExportData_{year}{month:02d}.csv"
            path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
            paths.append(path)
    return paths, cells


def timed_import(engine_url: str, community_id: int, fmt: str, paths: list[Path], rows: int, label: str) -> None:
    engine = make_engine(engine_url)
    try:
        start = time.perf_counter()
        files: list[tuple[str, Readings]] = [(str(path), read_meter_file(path, fmt)) for path in paths]
        parse_s = time.perf_counter() - start
        groups = import_meter_files(engine, community_id, files)
        seconds = time.perf_counter() - start
    finally:
        engine.dispose()
    inserted = sum(g.result.inserted for g in groups)
    quarantined = sum(g.result.quarantined for g in groups)
    print(
        f"{label:<28} {seconds:7.2f} s  {rows / seconds:>10,.0f} rows/s end to end   "
        f"(parse alone {rows / parse_s:>10,.0f} rows/s; {len(paths)} files in {len(groups)} transactions; "
        f"inserted {inserted:,}, quarantined {quarantined})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=50, help="PODs per format (default 50)")
    parser.add_argument("--days", type=int, default=90, help="days (default 90, from 1 March: spring DST change)")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"PostgreSQL server URL, or sqlite:///FILE ({DEFAULT_URL})")
    args = parser.parse_args()
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU cores")
    rng = np.random.default_rng(7)
    first = dt.date(2025, 3, 1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        pcf, pcf_rows = write_pcf(folder, args.pods, first, args.days, rng)
        edist, edist_rows = write_edist(folder, args.pods, first, args.days, rng)
        print(
            f"files: PCF-LONG {pcf_rows:,} rows ({pcf.stat().st_size / 1e6:.1f} MB); ED-WIDE {len(edist)} files, "
            f"{edist_rows:,} quarter-hour cells; written in {time.perf_counter() - t:.1f} s"
        )
        community = Community.model_validate(
            {
                "name": "Benchmark file",
                "region": "Lombardia",
                "members": [
                    {"id": f"m{k}", "pods": [{"pod": pod_name(k), "cabina": "AC001E00001"}]}
                    for k in range(2 * args.pods)
                ],
            }
        )

        def run(url: str) -> None:
            upgrade(url)
            engine = make_engine(url)
            with session_factory(engine)() as session:
                community_id = save_community(session, community, source="bench")
            engine.dispose()
            timed_import(url, community_id, "pcf-long", [pcf], pcf_rows, "PCF-LONG first import")
            timed_import(url, community_id, "pcf-long", [pcf], pcf_rows, "PCF-LONG re-import")
            timed_import(url, community_id, "edist-wide", edist, edist_rows, "ED-WIDE first import")
            timed_import(url, community_id, "edist-wide", edist, edist_rows, "ED-WIDE re-import")

        if args.url.startswith("sqlite"):
            run(args.url)
        else:
            with scratch_database(args.url, keep=False) as url:
                run(url)


if __name__ == "__main__":
    main()
