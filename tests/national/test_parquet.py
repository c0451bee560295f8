"""The national dataset on disk: Parquet partitions zone=/cabina=/month=, manifest and community files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from condivisa.errors import InputError
from condivisa.national.generator import NationalSpec, generate_community, national_slots
from condivisa.national.parquet import Dataset, Entry, open_dataset, readings_path, write_dataset, year_grid


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return write_dataset(tmp_path_factory.mktemp("nat") / "ds", 6, pods=8, year=2025, seed=21)


def test_year_grid_splits_local_months() -> None:
    g = year_grid(2025)
    assert len(g.hours) == 8760 and len(g.months) == 12
    lengths = np.diff(g.bounds)
    assert lengths[0] == 744 and lengths[1] == 672
    assert lengths[2] == 743 and lengths[9] == 745  # DST: March loses an hour, October gains one
    assert year_grid(2024).bounds[-1] == 8784


def test_roundtrip_equals_the_generator(dataset: Dataset) -> None:
    spec = NationalSpec(communities=6, pods=8, year=2025, seed=21)
    for slot in national_slots(spec):
        g = generate_community(spec, slot)
        entry = dataset.entry(slot.id)
        assert entry.zone == slot.zone and entry.cabine == tuple(dict.fromkeys(g.pod_cabina))
        assert dataset.community(slot.id) == g.community
        arrays = dataset.read_arrays(entry)
        order = [g.pods.index(p) for p in arrays.pods]
        assert sorted(arrays.pods) == sorted(g.pods)
        assert np.array_equal(arrays.withdrawn_wh, g.withdrawn_wh[order])
        assert np.array_equal(arrays.injected_wh, g.injected_wh[order])
        readings = dataset.read_readings(entry)
        assert len(readings.frame) == 8 * 8760
        first = readings.frame[readings.frame["pod"] == arrays.pods[0]]
        assert np.array_equal(first["withdrawn_kwh"].to_numpy(), arrays.withdrawn_wh[0] / 1000.0)
        assert first["timestamp"].iloc[0] == year_grid(2025).hours[0]


def test_partitions_are_a_hive_dataset(dataset: Dataset) -> None:
    root = dataset.directory / "readings"
    files = sorted(root.rglob("*.parquet"))
    assert len(files) == 12 * sum(len(e.cabine) for e in dataset.entries)
    e = dataset.entries[0]
    path = readings_path(dataset.directory, e.zone, e.cabine[0], "2025-03", e.id)
    assert path.relative_to(root).parts[:3] == (f"zone={e.zone}", f"cabina={e.cabine[0]}", "month=2025-03")
    table = pads.dataset(root, format="parquet", partitioning="hive").to_table()
    assert {"zone", "cabina", "month", "community", "pod", "timestamp", "withdrawn_wh"} <= set(table.column_names)
    assert table.num_rows == sum(x.pods for x in dataset.entries) * 8760
    march = pq.read_table(path)
    assert march.schema.field("withdrawn_wh").type == pa.int32()
    assert march.num_rows % 743 == 0


def test_manifest_and_prices(dataset: Dataset) -> None:
    data = json.loads((dataset.directory / "manifest.json").read_text(encoding="utf-8"))
    assert data["format"] == "condivisa-national/1" and data["year"] == 2025
    assert [c["id"] for c in data["communities"]] == [f"c{i:04d}" for i in range(1, 7)]
    prices = dataset.prices()
    zones = {e.zone for e in dataset.entries}
    assert set(prices.zones) == zones
    assert len(prices.frame) == 8760 * len(zones)


def test_errors_name_the_file(dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="manifesto"):
        open_dataset(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "altro"}', encoding="utf-8")
    with pytest.raises(InputError, match="formato del manifesto"):
        open_dataset(tmp_path)
    with pytest.raises(InputError, match="gia' un dataset"):
        write_dataset(dataset.directory, 1, pods=2)
    with pytest.raises(InputError, match="assente dal manifesto"):
        dataset.entry("c9999")

    # A copy of one community whose March file lacks an hour.
    e = dataset.entries[1]
    broken = Dataset(tmp_path, 2025, (e,))
    for src in (dataset.directory / "readings").rglob(f"part-{e.id}.parquet"):
        dst = tmp_path / src.relative_to(dataset.directory)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
    march = readings_path(tmp_path, e.zone, e.cabine[0], "2025-03", e.id)
    table = pq.read_table(march)
    pq.write_table(table.slice(1), march)
    with pytest.raises(InputError, match="2025-03") as info:
        broken.read_arrays(e)
    assert str(march) in str(info.value)
    march.unlink()
    with pytest.raises(InputError, match="non leggibili"):
        broken.read_arrays(e)


def _copy_community(dataset: Dataset, e: Entry, to: Path) -> Dataset:
    for src in (dataset.directory / "readings").rglob(f"part-{e.id}.parquet"):
        dst = to / src.relative_to(dataset.directory)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
    return Dataset(to, 2025, (e,))


@pytest.mark.parametrize(
    ("change", "message", "field"),
    [
        (lambda t: t.set_column(3, "withdrawn_wh", pc.negate(t.column("withdrawn_wh"))), "negativa", "withdrawn_wh"),
        (lambda t: t.slice(0, 0), "vuoto", None),
        (
            lambda t: t.set_column(4, "injected_wh", pc.add(t.column("injected_wh").cast(pa.float64()), 0.5)),
            "double",
            "injected_wh",
        ),
        (lambda t: t.set_column(3, "withdrawn_wh", t.column("withdrawn_wh").cast(pa.int64())), None, None),
        (
            lambda t: t.set_column(
                4, "injected_wh", pc.add(t.column("injected_wh").cast(pa.int64()), pa.scalar(2**31, pa.int64()))
            ),
            "fuori scala|diverso da int32",  # the months are read in one scan: the type differs first
            "injected_wh",
        ),
        (
            lambda t: t.set_column(2, "timestamp", pc.add(t.column("timestamp"), pa.scalar(1, pa.duration("s")))),
            "ora",
            None,
        ),
    ],
)
def test_each_file_is_checked_and_named(
    dataset: Dataset, tmp_path: Path, change: Any, message: str | None, field: str | None
) -> None:
    """Negative, missing or non-integer energies, or an empty month, are refused naming the file; a file of int64
    among int32 ones reads the same (the months are read in one scan, with a file-by-file fallback)."""
    e = dataset.entries[2]
    copy = _copy_community(dataset, e, tmp_path)
    june = readings_path(tmp_path, e.zone, e.cabine[0], "2025-06", e.id)
    pq.write_table(change(pq.read_table(june)), june)
    if message is None:
        assert np.array_equal(copy.read_arrays(e).withdrawn_wh, dataset.read_arrays(e).withdrawn_wh)
        return
    with pytest.raises(InputError, match=message) as info:
        copy.read_kwh(e)
    assert str(june) in str(info.value)
    if field is not None:
        assert field in str(info.value)


def test_kwh_equals_wh_over_1000_and_reuses_buffers(dataset: Dataset) -> None:
    e = dataset.entries[0]
    arrays = dataset.read_arrays(e)
    pods, w, i = dataset.read_kwh(e)
    assert pods == arrays.pods
    assert np.array_equal(w, arrays.withdrawn_wh / 1000.0) and np.array_equal(i, arrays.injected_wh / 1000.0)
    other = next(x for x in dataset.entries if x.pods == e.pods and x.id != e.id)
    _, w2, i2 = dataset.read_kwh(other, out=(w, i))
    assert w2 is w and i2 is i  # filled in place
    assert np.array_equal(w2, dataset.read_arrays(other).withdrawn_wh / 1000.0)
    wrong = (np.empty((1, 1)), np.empty((1, 1)))
    _, w3, _ = dataset.read_kwh(other, out=wrong)
    assert w3 is not wrong[0] and np.array_equal(w3, w2)


def test_rows_in_a_given_order(dataset: Dataset) -> None:
    """``order`` puts the listed points first in its order (others after, in file order), whatever the runs."""
    e = (
        next(x for x in dataset.entries if len(x.cabine) > 1)
        if any(len(x.cabine) > 1 for x in dataset.entries)
        else dataset.entries[0]
    )
    arrays = dataset.read_arrays(e)
    row = {pod: k for k, pod in enumerate(arrays.pods)}
    rng = np.random.default_rng(3)
    for order in (list(reversed(arrays.pods)), list(rng.permutation(arrays.pods))[:5], arrays.pods[::2], []):
        pods, w, i = dataset.read_kwh(e, order=order)
        assert pods[: len(order)] == order
        assert pods[len(order) :] == [p for p in arrays.pods if p not in set(order)]
        rows = [row[p] for p in pods]
        assert np.array_equal(w, arrays.withdrawn_wh[rows] / 1000.0)
        assert np.array_equal(i, arrays.injected_wh[rows] / 1000.0)


def test_written_in_the_engine_order(dataset: Dataset) -> None:
    from condivisa.engine.settle import point_order

    for e in dataset.entries:
        pods = dataset.read_arrays(e).pods
        order = point_order(dataset.community(e.id))
        assert pods[: len(order)] == order
