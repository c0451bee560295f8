"""Settling many communities: one code path in process, on a Dask LocalCluster and from a database, each community
identical to the single-community engine."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
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


def test_database_source_on_sqlite(dataset: Dataset, in_process: list[CommunityRecord], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nat.db'}"
    upgrade(url)
    engine = make_engine(url)
    chosen = [e for e in dataset.entries if len(e.cabine) > 1][:1] + list(dataset.entries[:2])
    stored: dict[str, str] = {}
    with session_factory(engine)() as session:
        for e in chosen:
            cid = save_community(session, dataset.community(e.id), source="test")
            import_readings(engine, cid, dataset.read_readings(e), source="test", audit=False)
            stored[str(cid)] = e.id
    import_prices(engine, dataset.prices(), source="test")
    engine.dispose()

    r = settle_many(url, year=YEAR)
    assert r.failures == []
    by_id = {x.id: x for x in in_process}
    assert sorted(x.id for x in r.records) == sorted(stored)
    for x in r.records:
        assert same(x, by_id[stored[x.id]], skip=("id",)) == [], x.id


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
