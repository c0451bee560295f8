"""The ledger in the database (table ``ledger_entries``), its verification and its export as JSON lines.

Appending
---------
:func:`append_entry` adds an entry *inside the caller's transaction* and does not commit: the entry and the thing
it records (a settlement, a payment batch...) commit together or not at all. Concurrent appends are serialised
before the head of the chain is read, so two transactions can never both chain onto the same entry:

- PostgreSQL: a transaction-level advisory lock (``pg_advisory_xact_lock(LEDGER_LOCK_KEY)``), held until the
  caller's commit or rollback; the head is read after it is granted (default isolation READ COMMITTED: each
  statement sees what the previous holder committed).
- SQLite: the database has one writer at a time; the append first takes the write lock (a write statement that
  changes no row) and waits for it up to the engine's busy timeout, then reads the head. A transaction that had
  already *read* before a concurrent writer committed cannot take the write lock any more (SQLite's snapshot
  rule) and fails with "database is locked": nothing is written, retry the transaction.

In any case ``seq`` is the primary key and ``hash`` is unique, so a forked chain cannot be stored.

Verifying without the database
------------------------------
:func:`export_jsonl` writes one entry per line, the canonical JSON (see :mod:`condivisa.ledger.chain`) of
``{"seq", "kind", "community_id", "created_at", "payload", "prev_hash", "hash"}`` with ``payload`` the stored text;
:func:`verify_jsonl` (or any program that follows the rules in :mod:`condivisa.ledger.chain`) checks such a file.
Payloads carry ids, periods, amounts in cents and hashes; no IBAN or other personal data beyond member ids.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from condivisa.ledger.chain import (
    GENESIS,
    ChainEntry,
    VerifyResult,
    canonical_json,
    make_entry,
    sha256_hex,
    verify_chain,
)
from condivisa.store.models import LEDGER_KINDS, LedgerEntry, SettlementRow, utc_now
from condivisa.store.repository import Bind, NotFoundError

LEDGER_LOCK_KEY = int.from_bytes(b"cdvledgr", "big")
"""Key of PostgreSQL's transaction-level advisory lock that serialises appends (a fixed 63-bit number)."""

_ENTRY_FIELDS = ("seq", "kind", "community_id", "created_at", "payload", "prev_hash", "hash")


@contextmanager
def _connect(bind: Bind) -> Iterator[Connection]:
    if isinstance(bind, Session):
        yield bind.connection()
    elif isinstance(bind, Engine):
        with bind.connect() as conn:
            yield conn
    else:
        yield bind


def lock_ledger(session: Session) -> None:
    """Take the ledger's append lock now, for the rest of the session's transaction.

    :func:`append_entry` takes it anyway; a function that reads data and then appends calls this first, so that
    on SQLite its reads and its append belong to one writer's turn (see the module's description).
    """
    _lock_head(session.connection())


def _lock_head(conn: Connection) -> None:
    """Hold the ledger's append lock until the end of the current transaction (see the module's description)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_LOCK_KEY})
    elif conn.dialect.name == "sqlite":
        conn.execute(text("UPDATE ledger_entries SET seq = seq WHERE 1 = 0"))


def append_entry(session: Session, kind: str, community_id: int | None, payload: dict[str, Any]) -> LedgerEntry:
    """Append an entry to the ledger in the session's transaction (the caller commits).

    Parameters
    ----------
    session : Session
        Its transaction gets the entry; commit it together with what the entry records.
    kind : str
        One of :data:`condivisa.store.models.LEDGER_KINDS`.
    community_id : int or None
        The community concerned (a plain number: the ledger outlives deleted communities).
    payload : dict
        What is recorded: integers (money in cents), strings, booleans, null, lists and objects; no floats.

    Returns
    -------
    LedgerEntry
        The new row, flushed (its ``seq`` and ``hash`` are set).

    Raises
    ------
    ValueError
        Unknown kind.
    condivisa.ledger.NotCanonicalError
        A float or a value JSON cannot write in the payload.
    """
    if kind not in LEDGER_KINDS:
        raise ValueError(f"tipo di voce {kind!r} sconosciuto; ammessi: {', '.join(LEDGER_KINDS)}")
    canonical_json(payload)  # refuse a bad payload before taking the lock
    conn = session.connection()
    _lock_head(conn)
    head = conn.execute(select(LedgerEntry.seq, LedgerEntry.hash).order_by(LedgerEntry.seq.desc()).limit(1)).first()
    seq, prev_hash = (int(head.seq) + 1, str(head.hash)) if head is not None else (1, GENESIS)
    created_at = utc_now().isoformat(timespec="microseconds")
    entry = make_entry(prev_hash, seq, kind, community_id, created_at, payload)
    row = LedgerEntry(**{name: getattr(entry, name) for name in _ENTRY_FIELDS})
    session.add(row)
    session.flush()
    return row


def _plain(row: Any) -> ChainEntry:
    return ChainEntry(
        seq=int(row.seq),
        kind=str(row.kind),
        community_id=None if row.community_id is None else int(row.community_id),
        created_at=str(row.created_at),
        payload=str(row.payload),
        prev_hash=str(row.prev_hash),
        hash=str(row.hash),
    )


def iter_entries(bind: Bind, *, community_id: int | None = None) -> Iterator[ChainEntry]:
    """The ledger's entries in ``seq`` order, as plain data, read in chunks.

    Parameters
    ----------
    bind : Session, Engine or Connection
    community_id : int, optional
        Only the entries of this community (a selection: it does not verify as a chain on its own).
    """
    columns = [getattr(LedgerEntry, name) for name in _ENTRY_FIELDS]
    query = select(*columns).order_by(LedgerEntry.seq)
    if community_id is not None:
        query = query.where(LedgerEntry.community_id == community_id)
    with _connect(bind) as conn:
        for row in conn.execution_options(yield_per=1000).execute(query):
            yield _plain(row)


def verify_database(bind: Bind, *, expected_head: str | None = None) -> VerifyResult:
    """Verify the whole ledger stored in the database (see :func:`condivisa.ledger.verify_chain`)."""
    return verify_chain(iter_entries(bind), expected_head=expected_head)


def export_jsonl(bind: Bind, path: Path | str) -> VerifyResult:
    """Write the whole ledger to ``path``, one entry per line (canonical JSON), atomically.

    The export is written even when the chain is broken (it is the evidence); the result says whether it is.

    Returns
    -------
    VerifyResult
        The verification of the entries written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:

            def written() -> Iterator[ChainEntry]:
                for e in iter_entries(bind):
                    fh.write(canonical_json(e.as_dict()) + "\n")
                    yield e

            entries = written()
            result = verify_chain(entries)
            for _ in entries:  # the verification stops at a break: write the rest all the same
                pass
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result


def read_jsonl(path: Path | str) -> Iterator[ChainEntry]:
    """The entries of an exported ledger, line by line.

    Raises
    ------
    ValueError
        A line that is not an entry (bad JSON, missing or mistyped field), with its line number.
    """
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                if not isinstance(d, dict) or set(d) != set(_ENTRY_FIELDS):
                    raise ValueError(f"campi attesi {', '.join(_ENTRY_FIELDS)}")
                community = d["community_id"]
                if not isinstance(d["seq"], int) or not (community is None or isinstance(community, int)):
                    raise ValueError("seq e community_id devono essere interi")
                if not all(isinstance(d[k], str) for k in ("kind", "created_at", "payload", "prev_hash", "hash")):
                    raise ValueError("kind, created_at, payload, prev_hash e hash devono essere testi")
            except ValueError as exc:
                raise ValueError(f"riga {number}: voce non leggibile: {exc}") from exc
            yield ChainEntry(**d)


def verify_jsonl(path: Path | str, *, expected_head: str | None = None) -> VerifyResult:
    """Verify an exported ledger file without any database.

    An unreadable line stops the verification: the result is not ``ok`` and its reason names the line.
    """
    errors: list[str] = []

    def entries() -> Iterator[ChainEntry]:
        try:
            yield from read_jsonl(path)
        except ValueError as exc:  # reached only when the chain is intact up to that line
            errors.append(str(exc))

    result = verify_chain(entries(), expected_head=expected_head)
    if errors:
        return VerifyResult(False, result.count, result.head, reason=errors[0])
    return result


# What the ledger records ----------------------------------------------------------------------------------------


def settlement_payload(row: SettlementRow) -> dict[str, Any]:
    """The ledger payload of a stored settlement: ids, period, total and cents per recipient, document hash.

    ``recipients`` maps each recipient (member id, ``fund:NAME``, plant owner...) to its cents summed over the
    settlement's lines; ``document_sha256`` is the SHA-256 of the canonical JSON of the settlement document
    (floats allowed, see :func:`condivisa.ledger.canonical_json`), so that the stored document can be checked
    against the ledger.
    """
    recipients: dict[str, int] = {}
    for line in row.lines:
        recipients[line.recipient] = recipients.get(line.recipient, 0) + int(line.amount_cents)
    return {
        "settlement_id": row.id,
        "community_id": row.community_id,
        "period": {"start": row.period_start.isoformat(), "end": row.period_end.isoformat()},
        "status": row.status,
        "total_cents": int(row.total_cents),
        "recipients": recipients,
        "document_sha256": sha256_hex(canonical_json(row.document, allow_floats=True)),
    }


def record_settlement(session: Session, settlement_id: int) -> LedgerEntry:
    """Append a ``settlement`` entry for a stored settlement, in the session's transaction (the caller commits).

    Raises
    ------
    NotFoundError
        No settlement with that id.
    """
    row = session.get(SettlementRow, settlement_id)
    if row is None:
        raise NotFoundError(f"ripartizione {settlement_id} non trovata")
    return append_entry(session, "settlement", row.community_id, settlement_payload(row))


def find_entries(
    session: Session, kind: str, key: str, value: int, *, community_id: int | None = None
) -> list[ChainEntry]:
    """Entries of ``kind`` whose payload has ``key == value`` (e.g. the ``settlement`` entry of a settlement id)."""
    query = select(*[getattr(LedgerEntry, n) for n in _ENTRY_FIELDS]).where(LedgerEntry.kind == kind)
    if community_id is not None:
        query = query.where(LedgerEntry.community_id == community_id)
    out = []
    for row in session.execute(query.order_by(LedgerEntry.seq)):
        if json.loads(row.payload).get(key) == value:
            out.append(_plain(row))
    return out
