"""Backups and restores: a consistent snapshot of the database (SQLite or PostgreSQL) plus a folder of files.

The archive (``.tar.gz``) holds:

- ``manifest.json``: format and version, Alembic revision, dialect, creation instant, rows per table, the
  SHA-256 of every other member of the archive;
- ``data/<table>.jsonl``: the **portable dump**, every table of the database in dependency order, one JSON object
  per row (dates and instants as ISO 8601 text, instants in UTC, bytes in base64), rows in primary-key order.
  It restores into either backend, so a SQLite installation can move to PostgreSQL and back;
- ``database.sqlite`` (SQLite) or ``database.pgdump`` (PostgreSQL, ``pg_dump --format=custom``, when
  ``pg_dump`` is on the PATH): the **native copy**, restored by default into the same kind of database;
- ``files/...``: the folder of uploaded and generated files, if one was given.

Consistency while the application runs:

- SQLite: the online backup API (:meth:`sqlite3.Connection.backup`) copies the database page by page as one
  consistent state even while others write; the portable dump is then read from that copy.
- PostgreSQL: one ``REPEATABLE READ`` transaction exports its snapshot (``pg_export_snapshot()``), ``pg_dump
  --snapshot`` dumps exactly that snapshot, and the portable dump is read in the same transaction: both dumps
  and the row counts describe the same instant.

Restoring checks the archive first (members and hashes against the manifest, a known revision), refuses a
database that holds data unless ``force`` (then everything in it is dropped), restores (native copy when the
dialect matches, else the portable dump into the schema of the backup's revision, with PostgreSQL sequences reset
after the data), checks the row counts against the manifest and upgrades the schema to the latest revision when
the backup is older.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import functools
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import JSON, Connection, Engine, MetaData, Table, func, insert, select, text
from sqlalchemy import types as sat
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from condivisa import __version__
from condivisa.store.db import make_engine, normalise_url
from condivisa.store.migrate import alembic_config, current_revision, head_revision, upgrade

FORMAT = "condivisa-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_COPY = "database.sqlite"
PG_DUMP = "database.pgdump"
ALEMBIC_TABLE = "alembic_version"
CHUNK_ROWS = 5000
"""Rows read or written per round trip."""


class BackupError(Exception):
    """A backup or restore that cannot be done; the message (Italian) says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    """What :func:`backup` wrote: the archive, its manifest and the SHA-256 of the manifest (keep it elsewhere:
    with it :func:`restore` also detects an archive rewritten together with its manifest)."""

    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str


@dataclass(frozen=True)
class RestoreResult:
    """What :func:`restore` did: method (``native`` or ``portable``), revisions, rows per table, files."""

    method: str
    backup_revision: str
    revision: str | None
    tables: dict[str, int]
    files: int
    warnings: list[str] = field(default_factory=list)


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, in lower-case hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def shown_url(url: str | URL) -> str:
    """The URL with its password masked, for messages."""
    return normalise_url(url).render_as_string(hide_password=True)


# Encoding of values ---------------------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _decoder(column: Any, dialect: str) -> Any:
    """A function turning a dumped value back into what the target column takes."""
    kind = column.type
    if isinstance(kind, sat.DateTime):
        aware = dialect == "postgresql" and bool(getattr(kind, "timezone", False))

        def instant(v: Any) -> Any:
            if v is None:
                return None
            value = dt.datetime.fromisoformat(v)
            if aware:
                return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
            return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo is not None else value

        return instant
    if isinstance(kind, sat.Date):
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    if isinstance(kind, sat.Time):
        return lambda v: None if v is None else dt.time.fromisoformat(v)
    if isinstance(kind, sat.LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v)
    if isinstance(kind, sat.Numeric) and not isinstance(kind, sat.Float):
        return lambda v: None if v is None else decimal.Decimal(str(v))
    return None


def _reflect(conn: Connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(conn)
    if ALEMBIC_TABLE in metadata.tables:
        metadata.remove(metadata.tables[ALEMBIC_TABLE])
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, JSON):
                column.type = JSON(none_as_null=True)
    return metadata


def _ordered(table: Table) -> Any:
    keys = list(table.primary_key.columns) or list(table.columns)
    return select(table).order_by(*keys)


def _dump_portable(conn: Connection, folder: Path) -> tuple[list[str], dict[str, int]]:
    """Write every table to ``folder/<table>.jsonl``; returns the dependency order and the row counts."""
    metadata = _reflect(conn)
    order = [t.name for t in metadata.sorted_tables]
    counts: dict[str, int] = {}
    folder.mkdir(parents=True, exist_ok=True)
    for table in metadata.sorted_tables:
        n = 0
        names = [c.name for c in table.columns]
        with open(folder / f"{table.name}.jsonl", "w", encoding="utf-8", newline="\n") as fh:
            result = conn.execution_options(yield_per=CHUNK_ROWS).execute(_ordered(table))
            for row in result:
                record = {name: _encode(value) for name, value in zip(names, row, strict=True)}
                fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
        counts[table.name] = n
    return order, counts


def _revision_of(conn: Connection) -> str | None:
    if not conn.dialect.has_table(conn, ALEMBIC_TABLE):
        return None
    value = conn.execute(text(f"SELECT version_num FROM {ALEMBIC_TABLE}")).scalar()
    return None if value is None else str(value)


def _known_revisions() -> list[str]:
    """Revisions shipped with this version, oldest first."""
    from alembic.script import ScriptDirectory

    with alembic_config("sqlite://") as config:
        script = ScriptDirectory.from_config(config)
        return [s.revision for s in reversed(list(script.walk_revisions()))]


# PostgreSQL client tools ----------------------------------------------------------------------------------------


def _pg_env(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", None if url.port is None else str(url.port)),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[key] = str(value)
    sslmode = url.query.get("sslmode")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return env


def _run_pg_tool(args: list[str], url: URL) -> None:
    done = subprocess.run(args, env=_pg_env(url), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} non riuscito (codice {done.returncode}): {done.stderr.strip()[-2000:]}")


# Backup ---------------------------------------------------------------------------------------------------------


def _add_files(files_dir: Path, staging: Path) -> tuple[dict[str, str], list[str]]:
    hashes: dict[str, str] = {}
    skipped: list[str] = []
    target = staging / "files"
    for path in sorted(files_dir.rglob("*")):
        rel = path.relative_to(files_dir).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            skipped.append(rel)
            continue
        if path.is_dir():
            continue
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        hashes[f"files/{rel}"] = sha256_file(dest)
    return hashes, skipped


def backup(
    url: str | URL,
    out: Path | str,
    *,
    files_dir: Path | str | None = None,
    native: bool = True,
) -> BackupResult:
    """Write a consistent backup of the database at ``url`` (and of ``files_dir``) to ``out`` (``.tar.gz``).

    Parameters
    ----------
    url : str or URL
        The database; it may be in use (see the module's description).
    out : Path or str
        The archive to write (atomically: a temporary file renamed at the end).
    files_dir : Path or str, optional
        A folder whose regular files go under ``files/`` (symbolic links are skipped and listed in the manifest).
    native : bool
        Also include the native copy (SQLite file, ``pg_dump``); the portable dump is always written.

    Raises
    ------
    BackupError
        Unknown database kind, a database never migrated, ``files_dir`` not a folder, ``pg_dump`` failing.
    """
    parsed = normalise_url(url)
    dialect = parsed.get_backend_name()
    if dialect not in ("sqlite", "postgresql"):
        raise BackupError(f"database {dialect!r} non gestito: solo SQLite e PostgreSQL")
    target = Path(out)
    folder = None if files_dir is None else Path(files_dir)
    if folder is not None and not folder.is_dir():
        raise BackupError(f"--files: {folder} non e' una cartella")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="condivisa-backup-") as tmp:
        staging = Path(tmp) / "archive"
        staging.mkdir()
        hashes: dict[str, str] = {}
        native_kind: str | None = None
        if dialect == "sqlite":
            revision, order, counts = _snapshot_sqlite(parsed, staging, native)
            native_kind = "sqlite" if native else None
        else:
            revision, order, counts, native_kind = _snapshot_postgres(parsed, staging, native)
        if revision is None:
            raise BackupError(
                f"il database {shown_url(parsed)} non e' mai stato migrato (nessuna revisione Alembic): "
                "non c'e' nulla da salvare"
            )
        for path in sorted(staging.rglob("*")):
            if path.is_file():
                hashes[path.relative_to(staging).as_posix()] = sha256_file(path)
        skipped: list[str] = []
        if folder is not None:
            file_hashes, skipped = _add_files(folder, staging)
            hashes.update(file_hashes)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "condivisa_version": __version__,
            "dialect": dialect,
            "revision": revision,
            "native": None if native_kind is None else {"kind": native_kind, "member": _native_member(native_kind)},
            "table_order": order,
            "tables": counts,
            "files": sorted(k for k in hashes if k.startswith("files/")),
            "files_skipped": skipped,
            "sha256": dict(sorted(hashes.items())),
        }
        manifest_bytes = (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
        (staging / MANIFEST).write_bytes(manifest_bytes)
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        try:
            with tarfile.open(partial, "w:gz") as tar:
                tar.add(staging / MANIFEST, arcname=MANIFEST)
                for name in manifest["sha256"]:
                    tar.add(staging / name, arcname=name)
            os.chmod(partial, 0o600)
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    result = BackupResult(target, manifest, hashlib.sha256(manifest_bytes).hexdigest())
    _log(
        parsed,
        "backup",
        {"archive": target.name, "manifest_sha256": result.manifest_sha256, "revision": revision, "tables": counts},
    )
    return result


def _log(url: URL, action: str, changes: dict[str, Any]) -> None:
    from condivisa.store import audit

    engine = make_engine(url, poolclass=NullPool)
    try:
        audit.record_if_logged(engine, action, "database", changes=changes)
    finally:
        engine.dispose()


def _native_member(kind: str) -> str:
    return SQLITE_COPY if kind == "sqlite" else PG_DUMP


def _snapshot_sqlite(url: URL, staging: Path, native: bool) -> tuple[str | None, list[str], dict[str, int]]:
    path = url.database
    if not path or path == ":memory:":
        raise BackupError("un database SQLite in memoria non si puo' salvare: indicare un file")
    if not Path(path).exists():
        raise BackupError(f"il database {path} non esiste")
    copy = staging / SQLITE_COPY
    source = sqlite3.connect(path, timeout=30)
    try:
        dest = sqlite3.connect(copy)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    engine = make_engine(f"sqlite:///{copy}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            revision = _revision_of(conn)
            order, counts = _dump_portable(conn, staging / "data")
    finally:
        engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    if not native:
        copy.unlink()
    return revision, order, counts


def _snapshot_postgres(
    url: URL, staging: Path, native: bool
) -> tuple[str | None, list[str], dict[str, int], str | None]:
    engine = make_engine(url, poolclass=NullPool)
    native_kind: str | None = None
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            revision = _revision_of(conn)
            if native and shutil.which("pg_dump"):
                _run_pg_tool(
                    [
                        "pg_dump",
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--snapshot={snapshot}",
                        f"--file={staging / PG_DUMP}",
                    ],
                    url,
                )
                native_kind = "pg_dump-custom"
            order, counts = _dump_portable(conn, staging / "data")
    finally:
        engine.dispose()
    return revision, order, counts, native_kind


# Reading an archive ---------------------------------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name


def open_archive(archive: Path | str, into: Path, *, manifest_sha256: str | None = None) -> dict[str, Any]:
    """Unpack ``archive`` into the folder ``into`` after checking it; returns its manifest.

    Every member must be a plain file listed in the manifest with the SHA-256 written there, and every listed
    file must be present.

    Raises
    ------
    BackupError
        Not an archive of this format, a member added, missing or changed (its name and both hashes are given),
        a manifest other than ``manifest_sha256``.
    """
    path = Path(archive)
    if not path.is_file():
        raise BackupError(f"l'archivio {path} non esiste")
    seen: dict[str, str] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if not _safe_name(member.name):
                    raise BackupError(f"archivio non valido: nome di file non ammesso {member.name!r}")
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BackupError(f"archivio non valido: {member.name} non e' un file normale")
                if member.name in seen:
                    raise BackupError(f"archivio non valido: {member.name} compare due volte")
                dest = into / member.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                stream = tar.extractfile(member)
                assert stream is not None  # a regular file
                h = hashlib.sha256()
                with stream, open(dest, "wb") as fh:
                    for block in iter(functools.partial(stream.read, 1 << 20), b""):
                        h.update(block)
                        fh.write(block)
                seen[member.name] = h.hexdigest()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"archivio {path} illeggibile o danneggiato: {exc}") from exc
    if MANIFEST not in seen:
        raise BackupError(f"{path} non e' un backup di Condivisa: manca {MANIFEST}")
    if manifest_sha256 is not None and seen[MANIFEST] != manifest_sha256.lower():
        raise BackupError(
            f"archivio alterato: il manifesto ha SHA-256 {seen[MANIFEST]}, atteso {manifest_sha256.lower()}"
        )
    try:
        manifest = json.loads((into / MANIFEST).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"manifesto di {path} illeggibile: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} non e' un backup di Condivisa (formato {manifest.get('format')!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"versione del formato {manifest.get('format_version')!r} non gestita (questa versione legge la "
            f"{FORMAT_VERSION}): usare la versione di Condivisa che ha fatto il backup"
        )
    expected: dict[str, str] = manifest.get("sha256") or {}
    problems = []
    for name, digest in sorted(expected.items()):
        if name not in seen:
            problems.append(f"{name} manca")
        elif seen[name] != digest:
            problems.append(f"{name} ha SHA-256 {seen[name]}, il manifesto dice {digest}")
    for name in sorted(set(seen) - set(expected) - {MANIFEST}):
        problems.append(f"{name} non e' nel manifesto")
    if problems:
        raise BackupError("archivio alterato o danneggiato, nulla e' stato ripristinato: " + "; ".join(problems))
    return manifest


def read_manifest(archive: Path | str) -> dict[str, Any]:
    """The manifest of an archive, after checking every member's hash (see :func:`open_archive`)."""
    with tempfile.TemporaryDirectory(prefix="condivisa-restore-") as tmp:
        return open_archive(archive, Path(tmp))


# Target database ------------------------------------------------------------------------------------------------


def data_counts(url: str | URL) -> dict[str, int]:
    """Rows of every table of the database that has any (the Alembic table aside)."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            metadata = _reflect(conn)
            out = {}
            for table in metadata.sorted_tables:
                n = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                if n:
                    out[table.name] = n
            return out
    finally:
        engine.dispose()


def wipe(url: str | URL) -> None:
    """Drop every table (data and schema, the Alembic version included) of the database at ``url``."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            return
        raw = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            raw.execute("PRAGMA foreign_keys = OFF")
            raw.execute("BEGIN IMMEDIATE")
            rows = raw.execute(
                "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND type IN ('table', 'view')"
            ).fetchall()
            for kind, name in rows:
                quoted = '"' + name.replace('"', '""') + '"'
                raw.execute(f"DROP {kind.upper()} IF EXISTS {quoted}")
            raw.execute("COMMIT")
        finally:
            raw.close()
        return
    engine = make_engine(parsed, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            names = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
            quoted = [conn.dialect.identifier_preparer.quote(n) for n in names]
            if quoted:
                conn.execute(text(f"DROP TABLE IF EXISTS {', '.join(quoted)} CASCADE"))
            sequences = conn.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            ).scalars()
            for name in sequences:
                conn.execute(text(f"DROP SEQUENCE IF EXISTS {conn.dialect.identifier_preparer.quote(name)}"))
    finally:
        engine.dispose()


def _reset_sequences(conn: Connection) -> None:
    """Point every serial/identity sequence of the schema after the largest id of its column (PostgreSQL)."""
    rows = conn.execute(
        text(
            "SELECT c.table_name, c.column_name, pg_get_serial_sequence(quote_ident(c.table_name), c.column_name)"
            " AS seq FROM information_schema.columns c WHERE c.table_schema = current_schema()"
            " AND (c.column_default LIKE 'nextval(%' OR c.is_identity = 'YES')"
        )
    ).all()
    prep = conn.dialect.identifier_preparer
    for table, column, seq in rows:
        if seq is None:
            continue
        conn.execute(
            text(
                f"SELECT setval(:seq, COALESCE((SELECT MAX({prep.quote(column)}) FROM {prep.quote(table)}), 1), "
                f"(SELECT MAX({prep.quote(column)}) FROM {prep.quote(table)}) IS NOT NULL)"
            ),
            {"seq": seq},
        )


def _load_portable(engine: Engine, folder: Path, manifest: dict[str, Any]) -> dict[str, int]:
    """Insert the dumped rows into the (empty) schema, check the counts, in one transaction."""
    counts: dict[str, int] = {}
    expected: dict[str, int] = manifest["tables"]
    with engine.begin() as conn:
        dialect = conn.dialect.name
        metadata = _reflect(conn)
        missing = [name for name in manifest["table_order"] if name not in metadata.tables]
        if missing:
            raise BackupError(f"tabelle del backup assenti nello schema ricreato: {', '.join(missing)}")
        for name in manifest["table_order"]:
            table = metadata.tables[name]
            decoders = {c.name: _decoder(c, dialect) for c in table.columns}
            unknown: set[str] = set()
            n = 0
            batch: list[dict[str, Any]] = []
            with open(folder / f"{name}.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    record = json.loads(line)
                    row = {}
                    for key, value in record.items():
                        if key not in decoders:
                            unknown.add(key)
                            continue
                        decode = decoders[key]
                        row[key] = decode(value) if decode is not None else value
                    batch.append(row)
                    n += 1
                    if len(batch) >= CHUNK_ROWS:
                        conn.execute(insert(table), batch)
                        batch = []
            if batch:
                conn.execute(insert(table), batch)
            if unknown:
                raise BackupError(f"tabella {name}: colonne del backup assenti nello schema: {', '.join(unknown)}")
            counts[name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        _check_counts(counts, expected)
        if dialect == "postgresql":
            _reset_sequences(conn)
    return counts


def _check_counts(found: dict[str, int], expected: dict[str, int]) -> None:
    wrong = [f"{t}: {found.get(t, 0)} righe, attese {n}" for t, n in sorted(expected.items()) if found.get(t, 0) != n]
    if wrong:
        raise BackupError("il ripristino non ha riprodotto il numero di righe del backup: " + "; ".join(wrong))


def _table_counts(engine: Engine, names: list[str]) -> dict[str, int]:
    with engine.connect() as conn:
        metadata = _reflect(conn)
        return {
            n: int(conn.execute(select(func.count()).select_from(metadata.tables[n])).scalar_one())
            for n in names
            if n in metadata.tables
        }


def _restore_native_sqlite(copy: Path, url: URL) -> None:
    path = url.database
    assert path  # checked by the caller
    source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(path, timeout=30)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()


def _restore_files(folder: Path, target: Path, names: list[str], force: bool) -> int:
    if target.exists() and any(target.iterdir()) and not force:
        raise BackupError(f"la cartella {target} non e' vuota: usare --force per sovrascrivere i file")
    n = 0
    for name in names:
        rel = name.removeprefix("files/")
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / name, dest)
        n += 1
    return n


def restore(
    archive: Path | str,
    url: str | URL,
    *,
    force: bool = False,
    files_dir: Path | str | None = None,
    method: str = "auto",
    manifest_sha256: str | None = None,
) -> RestoreResult:
    """Restore a backup made by :func:`backup` into the database at ``url`` (and its files into ``files_dir``).

    Parameters
    ----------
    archive : Path or str
    url : str or URL
        The target; SQLite files are created if missing.
    force : bool
        Drop whatever the database holds (and overwrite ``files_dir``); without it a database with data is
        refused. A database with the schema but no rows (just migrated) needs no ``force``.
    files_dir : Path or str, optional
        Where the archive's files go; without it they are not restored (a warning says so).
    method : str
        ``auto`` (native copy when the archive has one for this kind of database, else portable), ``native`` or
        ``portable``.
    manifest_sha256 : str, optional
        The manifest's hash printed by the backup: refuse an archive whose manifest is different.

    Raises
    ------
    BackupError
        A bad or altered archive, a revision newer than this version knows, a database with data (no
        ``force``), a failed load or wrong row counts (a portable load is rolled back).
    """
    if method not in ("auto", "native", "portable"):
        raise BackupError(f"metodo {method!r} sconosciuto: auto, native o portable")
    parsed = normalise_url(url)
    dialect = parsed.get_backend_name()
    if dialect not in ("sqlite", "postgresql"):
        raise BackupError(f"database {dialect!r} non gestito: solo SQLite e PostgreSQL")
    if dialect == "sqlite" and (not parsed.database or parsed.database == ":memory:"):
        raise BackupError("indicare un file SQLite, non un database in memoria")
    with tempfile.TemporaryDirectory(prefix="condivisa-restore-") as tmp:
        folder = Path(tmp)
        manifest = open_archive(archive, folder, manifest_sha256=manifest_sha256)
        revision = str(manifest["revision"])
        known = _known_revisions()
        if revision not in known:
            raise BackupError(
                f"il backup e' alla revisione {revision}, che questa versione di Condivisa non conosce (ultima: "
                f"{known[-1]}): ripristinarlo con una versione piu' recente"
            )
        native_kind = (manifest.get("native") or {}).get("kind")
        native_ok = (dialect == "sqlite" and native_kind == "sqlite") or (
            dialect == "postgresql" and native_kind == "pg_dump-custom" and shutil.which("pg_restore") is not None
        )
        if method == "native" and not native_ok:
            raise BackupError(
                f"l'archivio non ha una copia nativa ripristinabile in {dialect} (backup da {manifest['dialect']}): "
                "usare il metodo portable"
            )
        chosen = "native" if (method == "native" or (method == "auto" and native_ok)) else "portable"
        if dialect == "sqlite":
            Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
        present = data_counts(parsed)
        if present and not force:
            listed = ", ".join(f"{t} {n}" for t, n in list(present.items())[:8])
            raise BackupError(
                f"il database {shown_url(parsed)} contiene dati (righe: {listed}"
                f"{', ...' if len(present) > 8 else ''}): usare --force per cancellarli e ripristinare il backup"
            )
        target_files = None if files_dir is None else Path(files_dir)
        if target_files is not None and target_files.exists() and any(target_files.iterdir()) and not force:
            raise BackupError(f"la cartella {target_files} non e' vuota: usare --force per sovrascrivere i file")
        wipe(parsed)
        warnings: list[str] = []
        if chosen == "native":
            if dialect == "sqlite":
                _restore_native_sqlite(folder / SQLITE_COPY, parsed)
            else:
                _run_pg_tool(
                    [
                        "pg_restore",
                        "--no-owner",
                        "--no-privileges",
                        "--exit-on-error",
                        "--single-transaction",
                        f"--dbname={parsed.database}",
                        str(folder / PG_DUMP),
                    ],
                    parsed,
                )
            engine = make_engine(parsed, poolclass=NullPool)
            try:
                counts = _table_counts(engine, list(manifest["tables"]))
            finally:
                engine.dispose()
            _check_counts(counts, manifest["tables"])
        else:
            upgrade(parsed, revision)
            engine = make_engine(parsed, poolclass=NullPool)
            try:
                counts = _load_portable(engine, folder / "data", manifest)
            finally:
                engine.dispose()
        if revision != head_revision():
            upgrade(parsed)
            warnings.append(f"schema aggiornato dalla revisione {revision} del backup alla {head_revision()}")
        files = 0
        names = list(manifest.get("files") or [])
        if names and target_files is not None:
            files = _restore_files(folder, target_files, names, force=True)
        elif names:
            warnings.append(f"{len(names)} file nell'archivio non ripristinati: indicare --files CARTELLA")
    result = RestoreResult(chosen, revision, current_revision(parsed), counts, files, warnings)
    _log(
        parsed,
        "restore",
        {
            "method": chosen,
            "backup_created_at": manifest.get("created_at"),
            "backup_revision": revision,
            "backup_dialect": manifest.get("dialect"),
            "tables": counts,
        },
    )
    return result


def iter_tables(manifest: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """(table, rows) of a manifest, in dependency order."""
    for name in manifest["table_order"]:
        yield name, int(manifest["tables"][name])
