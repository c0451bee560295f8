"""Benchmark of the bulk import of readings into PostgreSQL (:func:`condivisa.store.import_readings`).

What it does, in a database of its own (``condivisa_bench_<random>``, created on the server of ``--url`` and
dropped at the end unless ``--keep``):

1. migrates it to the latest schema and stores a one-member community to attach the readings to;
2. builds the :class:`~condivisa.ingest.Readings` of ``--pods`` PODs over ``--days`` days at ``--interval``
   minutes (synthetic withdrawal and injection, rounded to the Wh like meter data) - **timed apart**, it is not
   part of the import;
3. times the first import (all rows inserted): binary ``COPY`` into a temporary table, then one
   ``INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE`` the values differ, and the ``import_batches`` row,
   all in one transaction, commit included;
4. times the same import again (every row unchanged), then one with ``--changed`` of the rows corrected;
5. times :func:`~condivisa.store.load_readings` of everything (binary ``COPY`` out) unless ``--no-load``.

Figures are readings per second over the wall time of each call (one run each; the machine's cores and the
server's main settings are printed with them). Target: >= 50,000 readings/s for the first import of a year of
15-minute data of 500 PODs (17,520,000 readings).

Run from the project root::

    .venv/bin/python benchmarks/ingest_db.py --days 30            # 500 PODs, a month: 1,440,000 readings
    .venv/bin/python benchmarks/ingest_db.py                      # 500 PODs, a year: 17,520,000 readings
    .venv/bin/python benchmarks/ingest_db.py --url postgresql+psycopg://user:pw@host:5432/postgres
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

import condivisa.engine  # noqa: F401  (loaded before condivisa.ingest)
from condivisa.ingest.readings import Readings, readings_from_arrays
from condivisa.model import Community
from condivisa.store import import_readings, load_readings, make_engine, save_community, session_factory, upgrade
from condivisa.store.db import normalise_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database(server_url: str, keep: bool) -> Iterator[str]:
    """Create an empty database on the server of ``server_url``; yield its URL; drop it afterwards."""
    url = normalise_url(server_url)
    name = f"condivisa_bench_{secrets.token_hex(4)}"
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"database {name} kept")
        else:
            with psycopg.connect(conninfo, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def synthetic_readings(pods: int, days: int, interval: int, seed: int = 1) -> Readings:
    """Readings of ``pods`` PODs for ``days`` days from 2025-01-01 (UTC) at ``interval`` minutes [kWh]."""
    rng = np.random.default_rng(seed)
    steps = days * 24 * 60 // interval
    hour = (np.arange(steps) * interval / 60.0) % 24
    scale = interval / 60.0
    load = (0.3 + 0.4 * np.exp(-(((hour - 20.0) / 3.0) ** 2)))[:, None] * rng.uniform(0.5, 2.0, pods)
    sun = np.clip(np.sin((hour - 6.0) / 12.0 * np.pi), 0.0, None)[:, None] * rng.uniform(0.0, 3.0, pods)
    noise = rng.lognormal(0.0, 0.2, (steps, pods))
    net = (load * noise - sun) * scale
    withdrawn = np.round(np.maximum(net, 0.0), 3)
    injected = np.round(np.maximum(-net, 0.0), 3)
    names = [f"IT001E{20_000_000 + k:08d}" for k in range(pods)]
    return readings_from_arrays(
        names, pd.Timestamp("2025-01-01", tz="UTC"), withdrawn, injected, interval_minutes=interval, source="bench"
    )


def server_settings(url: str) -> str:
    conninfo = normalise_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        names = ("shared_buffers", "work_mem", "maintenance_work_mem", "max_wal_size", "synchronous_commit")
        values = [conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(n))).fetchone() for n in names]
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('readings'))").fetchone()
    settings = ", ".join(f"{n}={v[0] if v else '?'}" for n, v in zip(names, values, strict=True))
    return f"PostgreSQL {version[0] if version else '?'} ({settings}); readings table {size[0] if size else '?'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=500, help="number of PODs (default 500)")
    parser.add_argument("--days", type=int, default=365, help="days of readings (default 365)")
    parser.add_argument("--interval", type=int, default=15, choices=(15, 60), help="minutes per reading")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"a database URL on the server to use ({DEFAULT_URL})")
    parser.add_argument("--changed", type=float, default=0.01, help="share of readings corrected in step 4")
    parser.add_argument("--no-load", action="store_true", help="skip timing load_readings")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU cores")
    t0 = time.perf_counter()
    readings = synthetic_readings(args.pods, args.days, args.interval)
    n = len(readings.frame)
    print(f"built Readings: {n:,} readings ({args.pods} PODs x {args.days} days) in {time.perf_counter() - t0:.1f} s")

    with scratch_database(args.url, args.keep) as url:
        upgrade(url)
        engine = make_engine(url)
        community = Community.model_validate(
            {
                "name": "Benchmark",
                "region": "Piemonte",
                "members": [{"id": "m1", "pods": [{"pod": readings.pods[0], "cabina": "AC001E00001"}]}],
            }
        )
        with session_factory(engine)() as session:
            community_id = save_community(session, community, source="bench")

        def timed(label: str, data: Readings) -> None:
            start = time.perf_counter()
            result = import_readings(engine, community_id, data, source=label)
            seconds = time.perf_counter() - start
            print(
                f"{label:<22} {seconds:8.1f} s  {n / seconds:>12,.0f} readings/s  "
                f"(inserted {result.inserted:,}, updated {result.updated:,}, unchanged {result.unchanged:,})"
            )

        timed("first import", readings)
        timed("re-import (same)", readings)
        frame = readings.frame.copy()
        rng = np.random.default_rng(2)
        changed = rng.random(n) < args.changed
        frame.loc[changed, "withdrawn_kwh"] = frame.loc[changed, "withdrawn_kwh"] + 0.001
        timed(f"re-import ({args.changed:.0%} fixed)", Readings(frame, readings.interval_minutes, "bench"))
        del frame
        if not args.no_load:
            start = time.perf_counter()
            back = load_readings(engine, community_id, start=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
            seconds = time.perf_counter() - start
            print(f"{'load_readings':<22} {seconds:8.1f} s  {len(back.frame) / seconds:>12,.0f} readings/s")
        engine.dispose()
        print(server_settings(url))


if __name__ == "__main__":
    main()
