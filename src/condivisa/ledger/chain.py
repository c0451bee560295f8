"""The hash chain of the ledger: canonical JSON, the hash of an entry, verification of a sequence of entries.

Pure functions, no I/O. The rules are simple enough for anyone to check an exported ledger with any language:

- **Canonical JSON** (:func:`canonical_json`): UTF-8 text of ``json.dumps(obj, sort_keys=True,
  separators=(",", ":"), ensure_ascii=False)``: keys sorted, no spaces, non-ASCII characters as they are (not
  ``\\uXXXX``), control characters escaped as JSON requires. Payloads of the ledger hold integers (money in
  cents), strings (dates as ``YYYY-MM-DD``, hashes as hex), booleans, null, lists and objects; floats are refused
  there, because their text is not the same in every language. Hashing a document that has floats (a settlement
  document: energies in kWh) goes through ``allow_floats=True``: finite floats are written as Python writes them
  (the shortest text that reads back to the same number, ``repr``), NaN and infinities are refused.
- **Hash of an entry** (:func:`entry_hash`): SHA-256, in lower-case hex, of the UTF-8 bytes of the canonical JSON
  of the object ``{"community_id", "created_at", "kind", "payload", "prev_hash", "seq"}``, where ``payload`` is
  the entry's payload *as stored*, a string (the canonical JSON of the payload), so that verifying never has to
  write JSON again.
- **Chain** (:func:`verify_chain`): the entries, in order, have ``seq`` 1, 2, 3...; the first has
  ``prev_hash`` :data:`GENESIS` (64 zeros), each other one the ``hash`` of the entry before; each ``hash`` is
  :func:`entry_hash` of the entry's own fields. Changing, removing, inserting or reordering any entry breaks the
  chain at that entry. Removing the *last* entries cannot be seen from the entries alone: compare the head hash
  with one kept elsewhere (``expected_head``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

GENESIS = "0" * 64
"""``prev_hash`` of the first entry of a ledger."""


class NotCanonicalError(TypeError):
    """A value that canonical JSON does not write (a float where floats are refused, NaN, a set, an object...)."""


def _check(value: Any, path: str, allow_floats: bool) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not allow_floats:
            raise NotCanonicalError(f"{path}: numero decimale {value!r} non ammesso (usare interi, es. centesimi)")
        if not math.isfinite(value):
            raise NotCanonicalError(f"{path}: numero non finito {value!r}")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonicalError(f"{path}: chiave {key!r} non testuale")
            _check(item, f"{path}.{key}", allow_floats)
        return
    if isinstance(value, list | tuple):
        for k, item in enumerate(value):
            _check(item, f"{path}[{k}]", allow_floats)
        return
    raise NotCanonicalError(f"{path}: valore di tipo {type(value).__name__} non ammesso in JSON")


def canonical_json(obj: Any, *, allow_floats: bool = False) -> str:
    """The canonical JSON text of ``obj`` (see the module's description).

    Parameters
    ----------
    obj : dict, list, str, int, bool or None
        Nested dicts (string keys) and lists (tuples are written as lists).
    allow_floats : bool
        Accept finite floats, written as Python's ``repr`` (for hashing documents that have them); default:
        refuse them (ledger payloads: money in integer cents).

    Returns
    -------
    str
        Keys sorted, no spaces, non-ASCII characters unescaped.

    Raises
    ------
    NotCanonicalError
        A float (unless allowed), NaN or infinity, a non-string key, or a value JSON has no form for.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": ["è", None]})
    '{"a":["è",null],"b":1}'
    """
    _check(obj, "$", allow_floats)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_hex(text: str) -> str:
    """SHA-256 of the UTF-8 bytes of ``text``, lower-case hex (64 characters)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(
    prev_hash: str, seq: int, kind: str, community_id: int | None, created_at: str, payload_json: str
) -> str:
    """The hash of a ledger entry: SHA-256 (hex) of the canonical JSON of its fields and of ``prev_hash``.

    Parameters
    ----------
    prev_hash : str
        Hash of the entry before (:data:`GENESIS` for the first).
    seq : int
        Position in the ledger, from 1.
    kind : str
        What the entry records (``settlement``, ``payment_batch``...).
    community_id : int or None
        The community concerned.
    created_at : str
        ISO 8601 instant with its UTC offset, as stored.
    payload_json : str
        The payload as stored (its canonical JSON): hashed as a string, never re-read.
    """
    return sha256_hex(
        canonical_json(
            {
                "community_id": community_id,
                "created_at": created_at,
                "kind": kind,
                "payload": payload_json,
                "prev_hash": prev_hash,
                "seq": seq,
            }
        )
    )


class EntryLike(Protocol):
    """What :func:`verify_chain` reads of an entry (a :class:`ChainEntry`, a stored ``LedgerEntry``...)."""

    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def community_id(self) -> int | None: ...
    @property
    def created_at(self) -> str: ...
    @property
    def payload(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


@dataclass(frozen=True)
class ChainEntry:
    """One ledger entry as plain data (``payload``: its canonical JSON text)."""

    seq: int
    kind: str
    community_id: int | None
    created_at: str
    payload: str
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """The entry as a JSON-ready dict (the line of an exported ledger)."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "community_id": self.community_id,
            "created_at": self.created_at,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def make_entry(
    prev_hash: str, seq: int, kind: str, community_id: int | None, created_at: str, payload: dict[str, Any]
) -> ChainEntry:
    """The entry that follows ``prev_hash`` at position ``seq``, with its payload's canonical JSON and its hash.

    Raises
    ------
    NotCanonicalError
        The payload has floats or values JSON cannot write.
    """
    payload_json = canonical_json(payload)
    return ChainEntry(
        seq=seq,
        kind=kind,
        community_id=community_id,
        created_at=created_at,
        payload=payload_json,
        prev_hash=prev_hash,
        hash=entry_hash(prev_hash, seq, kind, community_id, created_at, payload_json),
    )


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a verification.

    Attributes
    ----------
    ok : bool
        The whole chain is intact (and ends at ``expected_head`` when one was given).
    count : int
        Entries found intact, from the first (all of them when ``ok``).
    head : str
        Hash of the last intact entry (:data:`GENESIS` when none).
    bad_seq : int or None
        ``seq`` of the first entry that breaks the chain, as read (None when ``ok`` or when the break is not an
        entry, e.g. an unreadable line or a wrong head).
    position : int or None
        0-based position of that entry in the sequence read (line index in an exported file).
    reason : str or None
        Why, in Italian.
    """

    ok: bool
    count: int
    head: str
    bad_seq: int | None = None
    position: int | None = None
    reason: str | None = None

    @property
    def message(self) -> str:
        """One line in Italian for people."""
        if self.ok:
            return f"registro integro: {self.count} voci, hash di testa {self.head}"
        where = f"voce {self.bad_seq}: " if self.bad_seq is not None else ""
        return f"registro alterato: {where}{self.reason} ({self.count} voci integre prima)"


def verify_chain(entries: Iterable[EntryLike], *, expected_head: str | None = None) -> VerifyResult:
    """Check a ledger, entry by entry in the order given, and stop at the first that breaks the chain.

    For each entry, in this order: its ``seq`` must follow the one before (first 1; a repeated ``seq`` is a
    duplicate, a lower one a reordering, a higher one a gap: entries missing), its ``prev_hash`` must be the hash
    of the entry before (:data:`GENESIS` for the first), and its ``hash`` must be :func:`entry_hash` of its own
    fields. A single changed field of any entry is therefore reported at exactly that entry.

    Parameters
    ----------
    entries : iterable of EntryLike
        Read once, lazily (a database cursor works).
    expected_head : str, optional
        The head hash known from elsewhere (a printed report, a previous export): also detects entries removed
        from the end.

    Returns
    -------
    VerifyResult
    """
    head, count = GENESIS, 0
    last_seq: int | None = None
    for position, e in enumerate(entries):
        reason = _break(e, last_seq, head)
        if reason is not None:
            return VerifyResult(False, count, head, bad_seq=e.seq, position=position, reason=reason)
        head, count, last_seq = e.hash, count + 1, e.seq
    if expected_head is not None and expected_head != head:
        reason = f"hash di testa {head[:16]}... diverso da quello atteso {expected_head[:16]}... (voci tolte in fondo?)"
        return VerifyResult(False, count, head, reason=reason)
    return VerifyResult(True, count, head)


def _break(e: EntryLike, last_seq: int | None, head: str) -> str | None:
    """Why ``e`` does not follow the entry ``last_seq`` whose hash is ``head`` (None when it does)."""
    expected_seq = 1 if last_seq is None else last_seq + 1
    if e.seq != expected_seq:
        if e.seq == last_seq:
            return f"voce {e.seq} duplicata"
        if e.seq < expected_seq:
            return f"voce fuori ordine: numero {e.seq} dopo {last_seq}, attesa la {expected_seq}"
        missing = f"{expected_seq}" if e.seq == expected_seq + 1 else f"da {expected_seq} a {e.seq - 1}"
        return f"voci mancanti: {missing} (attesa la voce {expected_seq}, trovata la {e.seq})"
    if e.prev_hash != head:
        if last_seq is None:
            return f"prev_hash {e.prev_hash[:16]}... della prima voce diverso da quello iniziale (64 zeri)"
        return f"prev_hash {e.prev_hash[:16]}... diverso dall'hash della voce precedente {head[:16]}..."
    computed = entry_hash(e.prev_hash, e.seq, e.kind, e.community_id, e.created_at, e.payload)
    if e.hash != computed:
        return f"hash registrato {e.hash[:16]}... diverso da quello ricalcolato {computed[:16]}..."
    return None
