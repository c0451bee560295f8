"""The inner loop of reading a national dataset: check one monthly block of readings and convert it, in one pass.

A readings file holds, for each of its ``P`` points, the ``n`` hours of its month (rows sorted by point, then hour).
Checking it (every row of a point names the same point, every hour is the expected instant, no energy is negative
or beyond 2^31 Wh) and converting its energies into the community's (points x hours) arrays used to take one numpy
pass per check plus one per conversion, each over memory the previous pass had pushed out of the cache. Compiled
with numba, the whole block is read once: the national benchmark's reading time per community falls by about a
third.

Pure computation: arrays in, a status code out; :mod:`condivisa.national.parquet` turns a code into the error
message naming the file and field.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import numpy.typing as npt

OK = 0
POINT_MIXED = 1  # a row of a point names another point: rows not sorted by point, or a point short of hours
HOUR_WRONG = 2  # an hour missing, repeated or out of order
WITHDRAWN_NEGATIVE = 3
INJECTED_NEGATIVE = 4
WITHDRAWN_TOO_LARGE = 5
INJECTED_TOO_LARGE = 6

_INT32_MAX = 2_147_483_647


@numba.njit(cache=True, nogil=True)  # type: ignore[untyped-decorator]
def _first_problem(point: Any, ticks: Any, expected: Any, withdrawn: Any, injected: Any, base: int) -> int:
    """The code of the first problem in the ``n`` rows from ``base`` (once a point's rows are known bad)."""
    first = point[base]
    for h in range(expected.shape[0]):
        k = base + h
        if point[k] != first:
            return POINT_MIXED
        if ticks[k] != expected[h]:
            return HOUR_WRONG
        if withdrawn[k] < 0:
            return WITHDRAWN_NEGATIVE
        if injected[k] < 0:
            return INJECTED_NEGATIVE
        if withdrawn[k] > _INT32_MAX:
            return WITHDRAWN_TOO_LARGE
        if injected[k] > _INT32_MAX:
            return INJECTED_TOO_LARGE
    return OK


@numba.njit(cache=True, nogil=True)  # type: ignore[untyped-decorator]
def _check_and_convert(
    point: Any,
    ticks: Any,
    expected: Any,
    withdrawn: Any,
    injected: Any,
    rows: Any,
    first_hour: int,
    divisor: float,
    out_withdrawn: Any,
    out_injected: Any,
) -> int:
    n = expected.shape[0]
    for r in range(rows.shape[0]):
        base = r * n
        # Row views indexed from 0 (no negative-index fix-up in the loop), and no branch in it: the compiler
        # vectorises the loop; problems are or-ed, and told apart only if any.
        pts = point[base : base + n]
        tks = ticks[base : base + n]
        wh_w = withdrawn[base : base + n]
        wh_i = injected[base : base + n]
        out_w = out_withdrawn[rows[r], first_hour : first_hour + n]
        out_i = out_injected[rows[r], first_hour : first_hour + n]
        first = pts[0]
        bad = False
        for h in range(n):
            w = wh_w[h]
            i = wh_i[h]
            bad |= (pts[h] != first) | (tks[h] != expected[h]) | (w < 0) | (i < 0) | (w > _INT32_MAX) | (i > _INT32_MAX)
            out_w[h] = w / divisor
            out_i[h] = i / divisor
        if bad:
            return _first_problem(point, ticks, expected, withdrawn, injected, base)
    return OK


def check_and_convert(
    point: npt.NDArray[np.integer[Any]],
    ticks: npt.NDArray[np.int64],
    expected: npt.NDArray[np.int64],
    withdrawn_wh: npt.NDArray[np.integer[Any]],
    injected_wh: npt.NDArray[np.integer[Any]],
    rows: npt.NDArray[np.intp],
    first_hour: int,
    divisor: float,
    out_withdrawn: npt.NDArray[np.float64],
    out_injected: npt.NDArray[np.float64],
) -> int:
    """Check one file's block and write ``energy / divisor`` into the output rows, in one pass.

    Parameters
    ----------
    point : (P * n,) int array
        Dictionary index of each row's point.
    ticks : (P * n,) int64 array
        Each row's instant, in the file's ticks.
    expected : (n,) int64 array
        The month's hours in the same ticks.
    withdrawn_wh, injected_wh : (P * n,) int arrays [Wh]
    rows : (P,) intp array
        Output row of each of the file's points.
    first_hour : int
        Column of the month's first hour in the output arrays.
    divisor : float
        1000.0 for kWh (exactly ``wh / 1000.0``, as numpy divides), 1.0 for Wh.
    out_withdrawn, out_injected : (points, hours) float64 arrays
        Written only where the block lands; partly written when the block is refused.

    Returns
    -------
    int
        :data:`OK`, or the code of the first problem met (:data:`POINT_MIXED`, :data:`HOUR_WRONG`,
        :data:`WITHDRAWN_NEGATIVE`, ...).
    """
    return int(
        _check_and_convert(
            point, ticks, expected, withdrawn_wh, injected_wh, rows, first_hour, divisor, out_withdrawn, out_injected
        )
    )
