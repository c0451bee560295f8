"""Coverage-guided fuzzing of Condivisa's readers with atheris (libFuzzer), run by hand, not by pytest.

Usage (atheris needs CPython built with a recent clang; ``pip install atheris``)::

    python tests/fuzz/atheris_readers.py -atheris_runs=100000
    python tests/fuzz/atheris_readers.py -max_total_time=600 corpus/      # keep the interesting inputs

Each input's first byte picks the reader, the rest is the file (decoded as UTF-8 with replacement where the
reader takes text, raw bytes where it reads a file or a payload). A reader may return a result or raise its
documented error (``InputError`` whose problems all name a place; ``ValueError`` starting "bolletta" for bills);
anything else is a crash that libFuzzer reports with the input that caused it (saved as ``crash-<sha1>``).
Replay one with ``python tests/fuzz/atheris_readers.py crash-<sha1>``.

The file name does not start with ``test_`` so pytest never collects it; without atheris it says so and exits 0.
"""

from __future__ import annotations

import io
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import atheris
except ImportError:  # pragma: no cover - depends on the machine
    atheris = None

SCRATCH = Path(tempfile.mkdtemp(prefix="condivisa-atheris-"))


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _file(data: bytes, name: str) -> Path:
    path = SCRATCH / name
    path.write_bytes(data)
    return path


def _named(exc: Any) -> None:
    """The documented rejection: every problem has a message and a place."""
    problems = exc.problems
    if not problems:
        raise AssertionError("InputError without problems")
    for p in problems:
        if not p.message or not (p.file or p.row is not None or p.field):
            raise AssertionError(f"problem without a place: {p!r}")


def _readers() -> list[Callable[[bytes], object]]:
    from condivisa.civic.buildings import read_buildings
    from condivisa.ingest.distributors import (
        ColumnMapping,
        parse_edistribuzione_wide,
        parse_mapped_csv,
        parse_pcf_long,
    )
    from condivisa.ingest.prices import parse_prices_csv
    from condivisa.ingest.readings import parse_readings_csv
    from condivisa.live.payload import parse_message
    from condivisa.model import parse_community, parse_project

    mapping = ColumnMapping(pod_column="pod", date_column="data", time_column="ora", withdrawn_column="prelievo")

    def meter_toml(data: bytes) -> object:
        from condivisa.cli.db import read_meter_file

        csv_path = _file(b"pod;data;ora;prelievo\nIT001E12345678;26/10/2025;02:00;0,5\n", "m.csv")
        return read_meter_file(csv_path, "mapped", mapping=_file(data, "m.toml"))

    def bills(data: bytes) -> object:
        from condivisa.planning.profiles import Bill

        project = parse_project(_text(data), source="p.yaml")
        for m in project.members:
            if m.bill is not None:
                yearly = dict(m.bill.yearly) if m.bill.yearly is not None else None
                monthly = {k: dict(v) for k, v in m.bill.monthly.items()} if m.bill.monthly is not None else None
                Bill(year=project.year, yearly=yearly, monthly=monthly)
        return project

    def mqtt(data: bytes) -> object:
        topic, _, payload = data.partition(b"\n")
        return parse_message(_text(topic), payload)

    return [
        lambda d: parse_readings_csv(io.StringIO(_text(d)), name="r.csv"),
        lambda d: parse_prices_csv(io.StringIO(_text(d)), name="p.csv"),
        lambda d: parse_edistribuzione_wide(_file(d, "ed.csv"), pod="IT001E12345678", direction="withdrawn"),
        lambda d: parse_edistribuzione_wide(
            _file(d, "ed.csv"), pod="IT001E12345678", direction="injected", lenient=True
        ),
        lambda d: parse_pcf_long(_file(d, "pcf.csv")),
        lambda d: parse_pcf_long(_file(d, "pcf.csv"), lenient=True),
        lambda d: parse_mapped_csv(_text(d) + "\n", mapping, name="m.csv", lenient=bool(d[:1] == b"L")),
        meter_toml,
        mqtt,
        lambda d: parse_community(_text(d), source="c.yaml"),
        bills,
        lambda d: read_buildings(_text(d), "b.csv"),
        lambda d: read_buildings(_text(d), "b.geojson"),
    ]


READERS: list[Callable[[bytes], object]] = []


def one_input(data: bytes) -> None:
    """libFuzzer's entry point: one input, one reader."""
    from condivisa.errors import InputError

    if not data:
        return
    reader = READERS[data[0] % len(READERS)]
    try:
        reader(data[1:])
    except InputError as exc:
        _named(exc)
    except ValueError as exc:
        if not str(exc).startswith("bolletta"):
            raise


def main() -> int:
    if atheris is None:
        print("atheris non installato: pip install atheris (serve CPython compilato con clang)")  # noqa: T201
        return 0
    with atheris.instrument_imports(include=["condivisa"]):
        READERS.extend(_readers())
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
