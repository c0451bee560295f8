"""The national dataset on disk: Parquet partitions zone=/cabina=/month=, manifest and community files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from condivisa.errors import InputError
from condivisa.national.generator import NationalSpec, generate_community, national_slots
from condivisa.national.parquet import Dataset, open_dataset, readings_path, write_dataset, year_grid


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
