"""Grouping meter files for import: every file once, in order, no overlapping reading inside a group."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.ingest.batching import import_groups, merge_readings
from condivisa.ingest.readings import Readings, Rejected

PODS = ["IT001E00000001", "IT001E00000002", "IT001E00000003"]
START = pd.Timestamp("2025-06-01T00:00Z")


def readings(pod: str, first: int, count: int, minutes: int = 15, name: str = "f.csv") -> Readings:
    times = START + pd.to_timedelta(np.arange(first, first + count) * minutes, unit="min")
    frame = pd.DataFrame(
        {
            "pod": [pod] * count,
            "timestamp": times,
            "withdrawn_kwh": np.full(count, 0.1),
            "injected_kwh": np.zeros(count),
        }
    )
    return Readings(frame=frame, interval_minutes={pod: minutes}, source=name, notes=[f"{name}: nota"])


def keys(r: Readings) -> set[tuple[str, pd.Timestamp]]:
    return set(zip(r.frame["pod"], r.frame["timestamp"], strict=True))


files = st.lists(
    st.tuples(st.sampled_from(PODS), st.integers(0, 40), st.integers(0, 12), st.sampled_from([15, 60])),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(files, st.integers(1, 40))
def test_groups_are_an_ordered_partition_without_overlap(spec: list[tuple[str, int, int, int]], max_rows: int) -> None:
    items = [readings(p, a, n, m, name=f"f{i}") for i, (p, a, n, m) in enumerate(spec)]
    groups = import_groups(items, max_rows=max_rows)
    assert [i for g in groups for i in g] == list(range(len(items)))
    for g in groups:
        seen: set[tuple[str, pd.Timestamp]] = set()
        resolution: dict[str, int] = {}
        for i in g:
            assert not keys(items[i]) & seen
            seen |= keys(items[i])
            for pod, m in items[i].interval_minutes.items():
                assert resolution.setdefault(pod, m) == m
        assert len(g) == 1 or sum(len(items[i].frame) for i in g) <= max_rows
        merged = merge_readings([items[i] for i in g])
        assert len(merged.frame) == sum(len(items[i].frame) for i in g)
        assert keys(merged) == seen
        assert merged.notes == [n for i in g for n in items[i].notes]
    # a group is only closed when the next file could not join it
    for before, after in itertools.pairwise(groups):
        nxt = items[after[0]]
        joined = set().union(*(keys(items[i]) for i in before))
        rows = sum(len(items[i].frame) for i in before)
        clash = any(items[i].interval_minutes.get(p, m) != m for i in before for p, m in nxt.interval_minutes.items())
        assert keys(nxt) & joined or clash or rows + len(nxt.frame) > max_rows


def test_month_files_of_many_pods_are_one_group_and_a_correction_starts_another() -> None:
    months = [readings(p, 96 * 30 * k, 96 * 30) for p in PODS for k in range(3)]
    correction = readings(PODS[0], 10, 4)
    assert import_groups([*months, correction]) == [list(range(9)), [9]]


def test_merge_keeps_rejections_and_estimated_flags() -> None:
    a = readings(PODS[0], 0, 2, name="a.csv")
    b = readings(PODS[1], 0, 2, name="b.csv")
    b = Readings(
        frame=b.frame.assign(estimated=[True, False]),
        interval_minutes=b.interval_minutes,
        source="b.csv",
        rejected=[Rejected("valore negativo", source="b.csv", row=3)],
    )
    merged = merge_readings([a, b], source="2 file")
    assert merged.frame["estimated"].tolist() == [False, False, True, False]
    assert [r.source for r in merged.rejected] == ["b.csv"] and merged.source == "2 file"
    with pytest.raises(ValueError, match="resolution"):
        merge_readings([a, readings(PODS[0], 100, 2, minutes=60)])
