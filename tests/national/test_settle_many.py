"""Settling many communities: one code path in process, on a Dask LocalCluster and from a database, each community
identical to the single-community engine."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from condivisa.engine import settle
from condivisa.engine.timegrid import Period
from condivisa.errors import InputError
from condivisa.national.parquet import Dataset, write_dataset
from condivisa.national.settle_many import (
    CommunityRecord,
    read_records,
    record_of,
    settle_arrays,
    settle_many,
    write_records,
)
from condivisa.store import import_prices, import_readings, make_engine, save_community, session_factory, upgrade

YEAR = 2025
PERIOD = Period(dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    ds = write_dataset(tmp_path_factory.mktemp("nat") / "ds", 12, pods=10, year=YEAR, seed=4)
    assert any(len(e.cabine) > 1 for e in ds.entries), "the sample should hold a community over two cabine"
    return ds


@pytest.fixture(scope="module")
def in_process(dataset: Dataset) -> list[CommunityRecord]:
    r = settle_many(dataset.directory, batch=5)
    assert r.failures == [] and r.tasks == 3 and r.scheduler == "in-process"
    return r.records


def same(a: CommunityRecord, b: CommunityRecord, *, skip: tuple[str, ...] = ()) -> list[str]:
    """Fields that differ: floats to 1e-9 relative, everything else (cents, digests) exactly."""
    out = []
    for f in dataclasses.fields(CommunityRecord):
        if f.name in skip:
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, float):
            if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9):
                out.append(f.name)
        elif x != y:
            out.append(f.name)
    return out


def test_every_community_equals_the_single_community_engine(
    dataset: Dataset, in_process: list[CommunityRecord]
) -> None:
    prices = dataset.prices()
    assert [r.id for r in in_process] == sorted(e.id for e in dataset.entries)
    for rec in in_process:
        entry = dataset.entry(rec.id)
        community = dataset.community(rec.id)
        reference = settle(community, dataset.read_readings(entry), prices, period=PERIOD)
        assert same(record_of(rec.id, reference), rec) == [], rec.id
        # Beyond the record: every member's cents and every plant's TIP.
        arrays = dataset.read_arrays(entry)
        s = settle_arrays(
            community, arrays.pods, arrays.withdrawn_wh / 1000.0, arrays.injected_wh / 1000.0, PERIOD, prices
        )
        assert s.allocation == reference.allocation
        assert [p.tip_eur for p in s.plant_results] == pytest.approx([p.tip_eur for p in reference.plant_results])
        assert s.warnings == reference.warnings
        assert rec.total_cents == sum(s.allocation.by_recipient().values()) > 0
        assert rec.hours == 8760 and rec.pods == 10 and rec.shared_kwh > 0


def test_settle_engine_option_gives_the_same_records(dataset: Dataset, in_process: list[CommunityRecord]) -> None:
    ids = [dataset.entries[0].id, dataset.entries[-1].id]
    r = settle_many(dataset.directory, ids=ids, engine="settle", year=YEAR)
    by_id = {x.id: x for x in in_process}
    assert [x.id for x in r.records] == sorted(ids)
    for x in r.records:
        assert same(x, by_id[x.id]) == []


def test_local_cluster_equals_in_process(dataset: Dataset, in_process: list[CommunityRecord]) -> None:
    r = settle_many(dataset.directory, scheduler="local", workers=2, batch=3, memory_limit="2GiB")
    assert r.failures == [] and r.workers == 2 and r.tasks == 4
    assert [x.id for x in r.records] == [x.id for x in in_process]
    for a, b in zip(r.records, in_process, strict=True):
        assert same(a, b) == [], a.id
    assert 0 < max(r.worker_peak_mib.values()) < 2048
    assert all(":" in k for k in r.worker_peak_mib)


def _store_sample(url: str, dataset: Dataset) -> dict[str, str]:
    """Store three communities of the dataset (one over two cabine) with their readings and prices; returns the
    database id of each and the dataset id it came from."""
    upgrade(url)
    engine = make_engine(url)
    chosen = [e for e in dataset.entries if len(e.cabine) > 1][:1] + list(dataset.entries[:2])
    stored: dict[str, str] = {}
    try:
        with session_factory(engine)() as session:
            for e in chosen:
                cid = save_community(session, dataset.community(e.id), source="test")
                import_readings(engine, cid, dataset.read_readings(e), source="test", audit=False)
                stored[str(cid)] = e.id
        import_prices(engine, dataset.prices(), source="test")
    finally:
        engine.dispose()
    return stored


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh database on the PostgreSQL server of 127.0.0.1:5432."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nat.db'}"
        return
    import psycopg
    from psycopg import sql

    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
    try:
        psycopg.connect(admin).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL non raggiungibile su 127.0.0.1:5432: {exc}")
    name = f"condivisa_national_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_database_source(dataset: Dataset, in_process: list[CommunityRecord], database_url: str) -> None:
    stored = _store_sample(database_url, dataset)
    r = settle_many(database_url, year=YEAR)
    assert r.failures == []
    by_id = {x.id: x for x in in_process}
    assert sorted(x.id for x in r.records) == sorted(stored)
    for x in r.records:
        assert same(x, by_id[stored[x.id]], skip=("id",)) == [], x.id


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def remote_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Dask scheduler and two worker processes started with the ``dask`` command, on loopback."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask")
    common = ["--no-dashboard"]
    worker = ["worker", address, "--nthreads", "1", "--nworkers", "1", "--memory-limit", "2GiB"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), *common],
            stdout=subprocess.DEVNULL,
            stderr=(logs / "scheduler.log").open("wb"),
        )
    ]
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:  # type: ignore[no-untyped-call]
            for k in range(2):
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "dask", *worker, "--local-directory", str(logs), *common],
                        stdout=subprocess.DEVNULL,
                        stderr=(logs / f"worker{k}.log").open("wb"),
                    )
                )
            client.wait_for_workers(2, timeout=120)  # type: ignore[no-untyped-call]
        yield address
    finally:
        from distributed import Client

        # The scheduler closes its workers, then itself: quicker than SIGTERMs, after which each worker keeps trying
        # to reach the scheduler gone before it (8 s of teardown). If it never came up or is gone, signals follow.
        with contextlib.suppress(OSError, TimeoutError), Client(address, timeout=10) as client:  # type: ignore[no-untyped-call]
            client.shutdown()  # type: ignore[no-untyped-call]
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_remote_scheduler_over_tcp(dataset: Dataset, in_process: list[CommunityRecord], remote_scheduler: str) -> None:
    r = settle_many(dataset.directory, scheduler=remote_scheduler, batch=3)
    assert r.failures == [] and r.workers == 2 and r.scheduler == remote_scheduler
    assert [x.id for x in r.records] == [x.id for x in in_process]
    for a, b in zip(r.records, in_process, strict=True):
        assert same(a, b) == [], a.id
    # The tasks ran in the worker processes, not in this one.
    pids = {int(k.rsplit(":", 1)[1]) for k in r.worker_peak_mib}
    assert os.getpid() not in pids and len(pids) >= 1


def test_unreachable_scheduler_is_a_clear_error(dataset: Dataset) -> None:
    with pytest.raises(InputError, match="non raggiungibile"):
        settle_many(dataset.directory, scheduler=f"tcp://127.0.0.1:{_free_port()}", ids=["c0001"], connect_timeout=3)


def test_records_written_and_read_back(in_process: list[CommunityRecord], tmp_path: Path) -> None:
    for name in ("r.parquet", "r.json"):
        write_records(in_process, tmp_path / name)
        assert read_records(tmp_path / name) == in_process
    with pytest.raises(InputError, match=r"parquet o \.json"):
        write_records(in_process, tmp_path / "r.csv")


def test_bad_requests_are_refused_in_italian(dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="scheduler non valido"):
        settle_many(dataset.directory, scheduler="http://x")
    with pytest.raises(InputError, match="sconosciute"):
        settle_many(dataset.directory, ids=["c0001", "zzz"])
    with pytest.raises(InputError, match="manifesto"):
        settle_many(tmp_path)
    with pytest.raises(InputError, match="dell'anno 2025, non del 2024"):
        settle_many(dataset.directory, ids=["c0001"], year=2024)
