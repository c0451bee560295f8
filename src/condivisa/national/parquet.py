"""A national dataset on disk: readings in Parquet partitioned by zone, cabina primaria and month, and the community
descriptions in a JSON manifest beside them.

Layout of a dataset directory::

    manifest.json                      format, year, and one entry per community (id, name, zone, region,
                                       cabine, number of points and plants)
    communities/<id>.json              the community description (the fields of the YAML file, as JSON)
    prices.parquet                     timestamp (UTC hour start), zone, price_eur_mwh [€/MWh]
    readings/zone=<Z>/cabina=<C>/month=<YYYY-MM>/part-<id>.parquet

A readings file holds the hourly readings of one community's points in one cabina over one local calendar month:
columns ``community`` and ``pod`` (dictionary-encoded strings), ``timestamp`` (UTC start of the hour, seconds),
``withdrawn_wh`` and ``injected_wh`` (int32, whole Wh, as meters register), sorted by point then hour, every point
with every hour of the month. The directory is a Hive-partitioned Parquet dataset: ``pyarrow.dataset`` (or Spark,
DuckDB, Dask) reads it as one table with ``zone``, ``cabina`` and ``month`` columns. A settlement task reads only
the files of its communities (12 per cabina and year) and never the whole dataset.

Files are written with LZ4 compression, timestamps delta-encoded and energies byte-stream-split: about 1.3 bytes
per reading, read back at memory speed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs
import pyarrow.parquet as pq

from condivisa.engine.timegrid import LOCAL_TZ, Period
from condivisa.errors import InputError
from condivisa.ingest.prices import Prices
from condivisa.ingest.readings import Readings
from condivisa.model.community import Community

FORMAT = "condivisa-national/1"
MANIFEST = "manifest.json"
WhArray = npt.NDArray[np.int32]

_WRITE_OPTIONS: dict[str, Any] = {
    "compression": "lz4",
    "use_dictionary": ["community", "pod"],
    "column_encoding": {
        "timestamp": "DELTA_BINARY_PACKED",
        "withdrawn_wh": "BYTE_STREAM_SPLIT",
        "injected_wh": "BYTE_STREAM_SPLIT",
    },
}
_READ_COLUMNS = ["pod", "timestamp", "withdrawn_wh", "injected_wh"]
_FORMAT = pads.ParquetFileFormat()
_LOCAL_FS = pyarrow.fs.LocalFileSystem()
# Every column required (no nulls, hence no definition levels to write or decode: about a fifth off reading).
_SCHEMA = pa.schema(
    [
        pa.field("community", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("pod", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("timestamp", pa.timestamp("s", tz="UTC"), nullable=False),
        pa.field("withdrawn_wh", pa.int32(), nullable=False),
        pa.field("injected_wh", pa.int32(), nullable=False),
    ]
)


@dataclass(frozen=True)
class YearGrid:
    """The UTC hours of a local calendar year and where each local month starts and ends in them."""

    year: int
    hours: pd.DatetimeIndex
    months: tuple[str, ...]  # "YYYY-MM"
    bounds: tuple[int, ...]  # len(months) + 1 positions in ``hours``

    @property
    def seconds(self) -> npt.NDArray[np.int64]:
        """UTC hour starts as seconds since the epoch."""
        return np.asarray(self.hours.as_unit("s").asi8, dtype=np.int64)


def year_grid(year: int) -> YearGrid:
    """Hours of ``year`` (Italian local calendar) split by local month."""
    hours = Period(pd.Timestamp(year, 1, 1).date(), pd.Timestamp(year, 12, 31).date()).hours()
    month = hours.tz_convert(LOCAL_TZ).month.to_numpy()
    starts = np.flatnonzero(np.diff(month, prepend=0))
    return YearGrid(
        year,
        hours,
        tuple(f"{year}-{m:02d}" for m in month[starts]),
        (*(int(s) for s in starts), len(hours)),
    )


@dataclass(frozen=True)
class Entry:
    """One community of a dataset, as the manifest lists it."""

    id: str
    name: str
    zone: str
    region: str
    cabine: tuple[str, ...]
    pods: int
    plants: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "zone": self.zone,
            "region": self.region,
            "cabine": list(self.cabine),
            "pods": self.pods,
            "plants": self.plants,
        }


@dataclass(frozen=True)
class CommunityArrays:
    """A community's hourly readings as arrays (series-major: one row per point).

    Attributes
    ----------
    pods : list of str
    withdrawn_wh, injected_wh : (P, H) int32 arrays [Wh]
    """

    pods: list[str]
    withdrawn_wh: WhArray
    injected_wh: WhArray


def readings_path(directory: Path, zone: str, cabina: str, month: str, community_id: str) -> Path:
    """Path of the readings file of one community, cabina and month."""
    return (
        directory / "readings" / f"zone={zone}" / f"cabina={cabina}" / f"month={month}" / f"part-{community_id}.parquet"
    )


def _check_name(value: str, what: str) -> str:
    if not value or any(ch in value for ch in "/\\=\0") or value in (".", ".."):
        raise InputError.one(f"{what} non valido per un nome di file: {value!r}", field=what)
    return value


def write_community_readings(
    directory: Path,
    grid: YearGrid,
    community_id: str,
    zone: str,
    pods: list[str],
    pod_cabina: list[str],
    withdrawn_wh: WhArray,
    injected_wh: WhArray,
) -> list[Path]:
    """Write a community's year of hourly readings, one file per (cabina, month).

    Parameters
    ----------
    directory : Path
        The dataset directory.
    grid : YearGrid
    community_id, zone : str
    pods, pod_cabina : list of str
        Point of each row of the arrays, and its cabina.
    withdrawn_wh, injected_wh : (P, H) int arrays [Wh]
        ``H`` is the number of hours of the year.

    Returns
    -------
    list of Path
        The files written.
    """
    _check_name(community_id, "community")
    _check_name(zone, "zone")
    h = len(grid.hours)
    if withdrawn_wh.shape != (len(pods), h) or injected_wh.shape != (len(pods), h):
        raise ValueError(f"{community_id}: attese matrici {len(pods)} x {h}, trovate {withdrawn_wh.shape}")
    seconds = grid.seconds
    written = []
    for cabina in dict.fromkeys(pod_cabina):
        _check_name(cabina, "cabina")
        rows = np.array([i for i, c in enumerate(pod_cabina) if c == cabina], dtype=np.intp)
        names = pa.array([pods[i] for i in rows])
        for m, month in enumerate(grid.months):
            a, b = grid.bounds[m], grid.bounds[m + 1]
            n = b - a
            table = pa.Table.from_arrays(
                [
                    pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows.size * n, dtype=np.int32)), [community_id]),
                    pa.DictionaryArray.from_arrays(pa.array(np.repeat(np.arange(rows.size, dtype=np.int32), n)), names),
                    pa.array(np.tile(seconds[a:b], rows.size), type=pa.int64()).cast(pa.timestamp("s", tz="UTC")),
                    pa.array(np.ascontiguousarray(withdrawn_wh[rows, a:b], dtype=np.int32).ravel()),
                    pa.array(np.ascontiguousarray(injected_wh[rows, a:b], dtype=np.int32).ravel()),
                ],
                schema=_SCHEMA,
            )
            path = readings_path(directory, zone, cabina, month, community_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, path, **_WRITE_OPTIONS)
            written.append(path)
    return written


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def write_dataset(
    directory: Path,
    communities: int,
    *,
    pods: int | None = None,
    year: int = 2025,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Dataset:
    """Generate a national dataset (:mod:`condivisa.national.generator`) into ``directory``.

    Communities are generated and written one at a time: memory stays that of one community.

    Parameters
    ----------
    directory : Path
        Created if missing; must not already hold a dataset.
    communities, pods, year, seed
        See :class:`~condivisa.national.generator.NationalSpec`.
    progress : callable, optional
        Called with (done, total) after each community.
    """
    from condivisa.engine.settle import point_order
    from condivisa.national.generator import NationalSpec, generate_community, national_slots, zone_prices
    from condivisa.rules.rulebook import load_rulebook

    rulebook = load_rulebook()

    spec = NationalSpec(communities=communities, pods=pods, year=year, seed=seed)
    directory = Path(directory)
    if (directory / MANIFEST).exists():
        raise InputError.one("la cartella contiene gia' un dataset nazionale", file=str(directory / MANIFEST))
    (directory / "communities").mkdir(parents=True, exist_ok=True)
    grid = year_grid(year)
    slots = national_slots(spec)
    zones = sorted({s.zone for s in slots})
    prices = zone_prices(year, seed, tuple(zones))
    pq.write_table(pa.Table.from_pandas(prices, preserve_index=False), directory / "prices.parquet")
    entries = []
    for k, slot in enumerate(slots):
        gen = generate_community(spec, slot)
        # Points in the engine's row order (plants' PODs after them): a settlement reads them without permuting.
        rank = {pod: k for k, pod in enumerate(point_order(gen.community, rulebook))}
        rows = sorted(range(len(gen.pods)), key=lambda r: (rank.get(gen.pods[r], len(rank)), r))
        write_community_readings(
            directory,
            grid,
            slot.id,
            slot.zone,
            [gen.pods[r] for r in rows],
            [gen.pod_cabina[r] for r in rows],
            gen.withdrawn_wh[rows],
            gen.injected_wh[rows],
        )
        (directory / "communities" / f"{slot.id}.json").write_text(gen.community.model_dump_json(), encoding="utf-8")
        entries.append(
            Entry(
                slot.id,
                gen.community.name,
                slot.zone,
                slot.region,
                tuple(dict.fromkeys(gen.pod_cabina)),
                len(gen.pods),
                len(gen.community.plants),
            )
        )
        if progress is not None:
            progress(k + 1, len(slots))
    write_manifest(directory, year, entries, generator={"communities": communities, "pods": pods, "seed": seed})
    return open_dataset(directory)


def write_manifest(
    directory: Path, year: int, entries: Iterable[Entry], *, generator: dict[str, Any] | None = None
) -> None:
    """Write ``manifest.json`` (last, atomically: a dataset without it is incomplete)."""
    data: dict[str, Any] = {"format": FORMAT, "year": year, "communities": [e.as_json() for e in entries]}
    if generator is not None:
        data["generator"] = generator
    _write_json(Path(directory) / MANIFEST, data)


def _entry(raw: Any, where: str) -> Entry:
    try:
        return Entry(
            id=_check_name(str(raw["id"]), "id"),
            name=str(raw["name"]),
            zone=_check_name(str(raw["zone"]), "zone"),
            region=str(raw["region"]),
            cabine=tuple(_check_name(str(c), "cabina") for c in raw["cabine"]),
            pods=int(raw["pods"]),
            plants=int(raw["plants"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError.one(f"voce del manifesto non valida ({exc!r})", file=where) from None


@dataclass(frozen=True)
class Dataset:
    """A national dataset directory (see the module notes); cheap to pickle: tasks reopen what they need."""

    directory: Path
    year: int
    entries: tuple[Entry, ...]

    @cached_property
    def grid(self) -> YearGrid:
        return year_grid(self.year)

    @cached_property
    def _by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}

    def entry(self, community_id: str) -> Entry:
        got = self._by_id.get(community_id)
        if got is not None:
            return got
        raise InputError.one(f"comunita' {community_id!r} assente dal manifesto", file=str(self.directory / MANIFEST))

    def community(self, community_id: str) -> Community:
        """The description of one community."""
        path = self.directory / "communities" / f"{_check_name(community_id, 'id')}.json"
        try:
            return Community.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            raise InputError.one("descrizione della comunita' mancante", file=str(path)) from None
        except ValueError as exc:
            raise InputError.one(f"descrizione della comunita' non valida: {exc}", file=str(path)) from None

    def prices(self) -> Prices:
        """The hourly zonal prices of the dataset."""
        path = self.directory / "prices.parquet"
        try:
            frame = pq.read_table(path).to_pandas()
        except (FileNotFoundError, OSError, pa.ArrowInvalid) as exc:
            raise InputError.one(f"prezzi non leggibili ({exc})", file=str(path)) from None
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        return Prices(frame=frame.sort_values(["zone", "timestamp"]).reset_index(drop=True), source=str(path))

    @cached_property
    def _month_ticks(self) -> dict[tuple[int, int], npt.NDArray[np.int64]]:
        """Expected instants of each month, by (month index, ticks per second): filled as files are read."""
        return {}

    def _expected_ticks(self, m: int, per_second: int) -> npt.NDArray[np.int64]:
        key = (m, per_second)
        got = self._month_ticks.get(key)
        if got is None:
            grid = self.grid
            got = self._month_ticks[key] = grid.seconds[grid.bounds[m] : grid.bounds[m + 1]] * per_second
        return got

    def _cabina_table(self, paths: list[Path]) -> pa.Table:
        """The files of one cabina (its months, in order) read by one scan: one chunk per file.

        One call into Arrow for the twelve files instead of twelve: less set-up per file, and the GIL released once.
        On any failure the files are read one by one, so that the error names the file at fault.
        """
        try:
            schema = pq.read_schema(paths[0])
            scan = pads.FileSystemDataset.from_paths(
                [str(path) for path in paths], schema=schema, format=_FORMAT, filesystem=_LOCAL_FS
            )
            # One thread: a task is one core's work (a Dask worker has one thread, the client loop too).
            table = scan.to_table(columns=_READ_COLUMNS, use_threads=False, batch_size=1 << 30)
        except (FileNotFoundError, OSError, pa.ArrowException, KeyError) as scan_error:
            first: pa.Schema | None = None
            for path in paths:
                try:
                    schema = pq.ParquetFile(path).read(columns=_READ_COLUMNS, use_threads=False).schema
                except (FileNotFoundError, OSError, pa.ArrowException, KeyError) as exc:
                    raise InputError.one(f"letture non leggibili ({exc})", file=str(path)) from None
                first = first or schema
                for name in _READ_COLUMNS:
                    if schema.field(name).type != first.field(name).type:
                        raise InputError.one(
                            f"tipo {schema.field(name).type} diverso da {first.field(name).type} del primo mese",
                            file=str(path),
                            field=name,
                        ) from None
            raise InputError.one(f"letture non leggibili insieme ({scan_error})", file=str(paths[0])) from None
        return table

    def _blocks(self, entry: Entry) -> Iterator[_Block]:
        """A community's (cabina, month) blocks, cabina by cabina, month by month, with their structure checked
        (one chunk per file, rows a whole number of points times the month's hours, the same points every month,
        energies of an integer type without nulls); :func:`~condivisa.national.block_kernel.check_and_convert`
        checks the values as it converts them."""
        grid = self.grid
        base = self.directory / "readings" / f"zone={entry.zone}"
        name = f"part-{entry.id}.parquet"
        for c, cabina in enumerate(entry.cabine):
            paths = [base / f"cabina={cabina}" / f"month={month}" / name for month in grid.months]
            table = self._cabina_table(paths)
            chunks = {column: table.column(column).chunks for column in _READ_COLUMNS}
            sizes = [len(chunk) for chunk in chunks["pod"]]
            if len(sizes) != len(paths) or any([len(x) for x in chunks[k]] != sizes for k in _READ_COLUMNS):
                # A file with no rows, or split in more than one chunk: tell which.
                for path in paths:
                    if not pq.ParquetFile(path).metadata.num_rows:
                        raise InputError.one("file di letture vuoto", file=str(path))
                raise InputError.one("file di letture in piu' parti non previste", file=str(paths[0]))
            cab_pods: list[str] | None = None
            for m, path in enumerate(paths):
                n = grid.bounds[m + 1] - grid.bounds[m]
                rows = sizes[m]
                if not rows:
                    raise InputError.one("file di letture vuoto", file=str(path))
                pod_arr = chunks["pod"][m]
                if not isinstance(pod_arr, pa.DictionaryArray) or rows % n or pod_arr.indices.null_count:
                    raise InputError.one(f"attese {n} ore per POD, righe {rows}", file=str(path))
                point = pod_arr.indices.to_numpy(zero_copy_only=False)
                names = pod_arr.dictionary.to_pylist()
                file_pods = [str(names[i]) for i in point[::n]]
                if cab_pods is None:
                    cab_pods = file_pods
                elif file_pods != cab_pods:
                    raise InputError.one(f"POD diversi da quelli di {grid.months[0]}", file=str(path))
                ticks, per_second = _ticks(chunks["timestamp"][m], table.schema.field("timestamp").type, path)
                yield _Block(
                    c,
                    m,
                    path,
                    cab_pods,
                    point,
                    ticks,
                    self._expected_ticks(m, per_second),
                    _energy(chunks["withdrawn_wh"][m], path, "withdrawn_wh"),
                    _energy(chunks["injected_wh"][m], path, "injected_wh"),
                )

    def _read_into(
        self,
        entry: Entry,
        divisor: float,
        out: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None,
        order: Sequence[str] | None = None,
    ) -> tuple[list[str], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Read every block (the files' memory, not copied), then check and convert each, in one pass, into one
        (P, H) float64 array per energy (``Wh / divisor``), ``out``'s arrays where they have the shape (a caller
        reading many communities reuses them).

        Rows are the points in file order (cabina by cabina), or with ``order`` the points it lists first, in its
        order, then the others in file order.
        """
        from condivisa.national import block_kernel

        blocks = list(self._blocks(entry))
        first_row: dict[int, int] = {}
        file_pods: list[str] = []
        for block in blocks:
            if block.cabina not in first_row:
                first_row[block.cabina] = len(file_pods)
                file_pods += block.pods
        position = np.arange(len(file_pods), dtype=np.intp)
        if order is not None:
            rank = {pod: k for k, pod in enumerate(dict.fromkeys(order))}
            ordered = sorted(range(len(file_pods)), key=lambda r: (rank.get(file_pods[r], len(rank)), r))
            position[np.asarray(ordered, dtype=np.intp)] = np.arange(len(file_pods))
        pods = [""] * len(file_pods)
        for r, pod in enumerate(file_pods):
            pods[position[r]] = pod
        shape = (len(pods), len(self.grid.hours))
        if out is not None and all(a.shape == shape and a.dtype == np.float64 and a.flags.writeable for a in out):
            w, inj = out
        else:
            w, inj = np.empty(shape), np.empty(shape)
        bounds = self.grid.bounds
        for block in blocks:
            start = first_row[block.cabina]
            code = block_kernel.check_and_convert(
                block.point,
                block.ticks,
                block.expected,
                block.withdrawn_wh,
                block.injected_wh,
                position[start : start + len(block.pods)],
                bounds[block.month],
                divisor,
                w,
                inj,
            )
            if code != block_kernel.OK:
                raise _block_error(code, block, self.grid.months[block.month])
        return pods, w, inj

    def read_arrays(self, entry: Entry) -> CommunityArrays:
        """Read a community's year of readings [Wh]: for each of its cabine, its 12 monthly files.

        Raises
        ------
        InputError
            A file missing or unreadable, or not holding every hour of its month for each of its points, or
            holding a missing or negative energy.
        """
        pods, w, inj = self._read_into(entry, 1.0)
        return CommunityArrays(pods, w.astype(np.int32), inj.astype(np.int32))

    def read_kwh(
        self,
        entry: Entry,
        out: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None,
        order: Sequence[str] | None = None,
    ) -> tuple[list[str], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """A community's points and hourly withdrawal and injection [kWh] (float64, series-major), as the engine
        takes them: the same numbers as ``read_arrays(entry).withdrawn_wh / 1000.0``, converted while reading.

        Parameters
        ----------
        entry : Entry
        out : pair of (P, H) float64 arrays, optional
            Arrays to fill and return when they have the community's shape (they are overwritten): a loop over
            many communities passes the previous community's arrays, once it is done with them, instead of
            allocating about 14 MB per community of 100 points.
        order : sequence of str, optional
            PODs to put first, in this order (the others follow in file order):
            :func:`condivisa.engine.settle.point_order` gives the engine's own row order, which spares the engine
            a copy of the withdrawals.

        Raises
        ------
        InputError
            As :meth:`read_arrays`.
        """
        return self._read_into(entry, 1000.0, out, order)

    def read_readings(self, entry: Entry) -> Readings:
        """A community's readings as :class:`~condivisa.ingest.readings.Readings` (kWh), as the engine takes."""
        arrays = self.read_arrays(entry)
        return arrays_to_readings(arrays, self.grid.hours, source=f"{self.directory} ({entry.id})")


def arrays_to_readings(arrays: CommunityArrays, hours: pd.DatetimeIndex, *, source: str = "") -> Readings:
    """Long readings [kWh] from series-major Wh arrays (one row per point and hour)."""
    p, h = arrays.withdrawn_wh.shape
    frame = pd.DataFrame(
        {
            "pod": np.repeat(np.asarray(arrays.pods, dtype=object), h),
            "timestamp": np.tile(hours.to_numpy(), p),
            "withdrawn_kwh": arrays.withdrawn_wh.reshape(-1) / 1000.0,
            "injected_kwh": arrays.injected_wh.reshape(-1) / 1000.0,
        }
    )
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame = frame.sort_values(["pod", "timestamp"], kind="stable").reset_index(drop=True)
    return Readings(frame=frame, interval_minutes=dict.fromkeys(arrays.pods, 60), source=source)


_TICKS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _ticks(array: pa.Array, type_: pa.DataType, path: Path) -> tuple[npt.NDArray[np.int64], int]:
    """A timestamp array as its raw int64 ticks since the epoch, and the ticks per second of its unit.

    Read without casting (Parquet stores the instants as milliseconds): a cast to seconds cost about as much as
    decoding the file. Callers compare against ``seconds * ticks_per_second``, which also refuses instants that
    are not on the whole second.
    """
    if not pa.types.is_timestamp(type_) or type_.tz is None:
        raise InputError.one(
            "timestamp deve essere un istante con fuso orario (UTC)", file=str(path), field="timestamp"
        )
    if array.null_count:
        raise InputError.one("istanti mancanti", file=str(path), field="timestamp")
    values = np.asarray(array.to_numpy(zero_copy_only=False)).view(np.int64)
    return values, _TICKS_PER_SECOND[type_.unit]


@dataclass(frozen=True)
class _Block:
    """One readings file, its structure checked: its cabina and month (indices), path, points, and its columns as
    flat arrays (the file's memory, not copied), with the instants its month should have in its ticks."""

    cabina: int
    month: int
    path: Path
    pods: list[str]
    point: npt.NDArray[np.integer[Any]]
    ticks: npt.NDArray[np.int64]
    expected: npt.NDArray[np.int64]
    withdrawn_wh: npt.NDArray[np.integer[Any]]
    injected_wh: npt.NDArray[np.integer[Any]]


def _energy(array: pa.Array, path: Path, name: str) -> npt.NDArray[np.integer[Any]]:
    """An energy column's values (zero-copy), refusing nulls and non-integer types (the values themselves are
    checked as they are converted)."""
    if array.null_count:
        raise InputError.one("letture mancanti (valori nulli)", file=str(path), field=name)
    if not pa.types.is_integer(array.type):
        raise InputError.one(f"energia in Wh interi attesa, trovato {array.type}", file=str(path), field=name)
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _block_error(code: int, block: _Block, month: str) -> InputError:
    """The error naming the file (and field) of a block that :func:`block_kernel.check_and_convert` refused."""
    from condivisa.national import block_kernel as k

    path = str(block.path)
    if code in (k.POINT_MIXED, k.HOUR_WRONG):
        return InputError.one(
            f"le letture devono coprire ogni ora del mese {month} per ogni POD, ordinate per POD e ora", file=path
        )
    field = "withdrawn_wh" if code in (k.WITHDRAWN_NEGATIVE, k.WITHDRAWN_TOO_LARGE) else "injected_wh"
    if code in (k.WITHDRAWN_NEGATIVE, k.INJECTED_NEGATIVE):
        return InputError.one("energia negativa nelle letture", file=path, field=field)
    return InputError.one("energia fuori scala (oltre 2^31 Wh)", file=path, field=field)


def open_dataset(directory: Path | str) -> Dataset:
    """Open a dataset directory by its manifest.

    Raises
    ------
    InputError
        No manifest, or a manifest of another format.
    """
    directory = Path(directory)
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError.one("manifesto del dataset nazionale mancante", file=str(path)) from None
    except (OSError, ValueError) as exc:
        raise InputError.one(f"manifesto non leggibile ({exc})", file=str(path)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError.one(f"formato del manifesto non riconosciuto (atteso {FORMAT})", file=str(path))
    try:
        year = int(data["year"])
        raw = list(data["communities"])
    except (KeyError, TypeError, ValueError):
        raise InputError.one("il manifesto deve indicare year e communities", file=str(path)) from None
    entries = tuple(_entry(r, str(path)) for r in raw)
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise InputError.one("id di comunita' ripetuti nel manifesto", file=str(path))
    return Dataset(directory, year, entries)
