"""The compiled block check-and-convert against a plain numpy statement of the same rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.national import block_kernel as k


def _block(points: int, hours: int, seed: int, dtype: type[np.integer] = np.int32) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    expected = 1_735_686_000 + 3600 * np.arange(hours, dtype=np.int64)
    return {
        "point": np.repeat(rng.permutation(points + 3)[:points].astype(np.int32), hours),
        "ticks": np.tile(expected, points),
        "expected": expected,
        "withdrawn_wh": rng.integers(0, 5_000, points * hours).astype(dtype),
        "injected_wh": rng.integers(0, 5_000, points * hours).astype(dtype),
    }


def _reference(b: dict[str, np.ndarray], points: int, hours: int) -> int:
    """The rules, one numpy statement each, in the kernel's order of precedence within a point's rows."""
    for r in range(points):
        rows = slice(r * hours, (r + 1) * hours)
        checks = [
            (b["point"][rows] != b["point"][r * hours], k.POINT_MIXED),
            (b["ticks"][rows] != b["expected"], k.HOUR_WRONG),
            (b["withdrawn_wh"][rows] < 0, k.WITHDRAWN_NEGATIVE),
            (b["injected_wh"][rows] < 0, k.INJECTED_NEGATIVE),
            (b["withdrawn_wh"][rows] > np.iinfo(np.int32).max, k.WITHDRAWN_TOO_LARGE),
            (b["injected_wh"][rows] > np.iinfo(np.int32).max, k.INJECTED_TOO_LARGE),
        ]
        found = [(int(np.argmax(bad)), code) for bad, code in checks if bad.any()]
        if found:
            return min(found)[1]  # first hour with a problem, first rule at that hour
    return k.OK


def _run(b: dict[str, np.ndarray], rows: np.ndarray, first_hour: int, divisor: float, width: int):
    out_w = np.full((len(rows), width), -1.0)
    out_i = np.full((len(rows), width), -1.0)
    code = k.check_and_convert(
        b["point"],
        b["ticks"],
        b["expected"],
        b["withdrawn_wh"],
        b["injected_wh"],
        rows,
        first_hour,
        divisor,
        out_w,
        out_i,
    )
    return code, out_w, out_i


@settings(max_examples=60, deadline=None)
@given(
    points=st.integers(1, 6),
    hours=st.integers(1, 30),
    seed=st.integers(0, 2**16),
    offset=st.integers(0, 5),
    divisor=st.sampled_from([1000.0, 1.0]),
)
def test_converts_exactly_as_numpy_divides(points: int, hours: int, seed: int, offset: int, divisor: float) -> None:
    b = _block(points, hours, seed)
    rows = np.random.default_rng(seed).permutation(points).astype(np.intp)
    code, out_w, out_i = _run(b, rows, offset, divisor, offset + hours + 2)
    assert code == k.OK
    w = b["withdrawn_wh"].reshape(points, hours) / divisor
    i = b["injected_wh"].reshape(points, hours) / divisor
    assert np.array_equal(out_w[rows, offset : offset + hours], w)  # bit for bit
    assert np.array_equal(out_i[rows, offset : offset + hours], i)
    untouched = np.ones(out_w.shape[1], dtype=bool)
    untouched[offset : offset + hours] = False
    assert (out_w[:, untouched] == -1.0).all() and (out_i[:, untouched] == -1.0).all()


@settings(max_examples=120, deadline=None)
@given(
    points=st.integers(1, 5),
    hours=st.integers(2, 24),
    seed=st.integers(0, 2**16),
    faults=st.lists(
        st.tuples(
            st.sampled_from(["point", "ticks", "withdrawn_wh", "injected_wh", "big_w", "big_i"]), st.integers(0, 10**6)
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_every_fault_is_found_with_the_first_code(
    points: int, hours: int, seed: int, faults: list[tuple[str, int]]
) -> None:
    b = _block(points, hours, seed, np.int64)
    for what, where in faults:
        at = where % (points * hours)
        if what == "point":
            b["point"][at] += 1 + (at % hours == 0)  # another point (at a point's first row: its other rows differ)
        elif what == "ticks":
            b["ticks"][at] += 3600
        elif what in ("withdrawn_wh", "injected_wh"):
            b[what][at] = -1 - where
        else:
            b["withdrawn_wh" if what == "big_w" else "injected_wh"][at] = 2**31 + where
    expected = _reference(b, points, hours)
    assert expected != k.OK
    code, _, _ = _run(b, np.arange(points, dtype=np.intp), 0, 1000.0, hours)
    assert code == expected


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64, np.uint32])
def test_any_integer_type(dtype: type[np.integer]) -> None:
    b = _block(3, 10, 1, dtype)
    code, out_w, _ = _run(b, np.arange(3, dtype=np.intp), 0, 1000.0, 10)
    assert code == k.OK
    assert np.array_equal(out_w, b["withdrawn_wh"].reshape(3, 10) / 1000.0)
