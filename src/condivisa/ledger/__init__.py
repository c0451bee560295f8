"""The append-only, hash-chained ledger of what a community's money went through (settlements, payments...).

:mod:`condivisa.ledger.chain` holds the pure rules (canonical JSON, entry hash, verification); storage is in
:mod:`condivisa.store.ledger`.
"""

from condivisa.ledger.chain import (
    GENESIS,
    ChainEntry,
    EntryLike,
    NotCanonicalError,
    VerifyResult,
    canonical_json,
    entry_hash,
    make_entry,
    sha256_hex,
    verify_chain,
)

__all__ = [
    "GENESIS",
    "ChainEntry",
    "EntryLike",
    "NotCanonicalError",
    "VerifyResult",
    "canonical_json",
    "entry_hash",
    "make_entry",
    "sha256_hex",
    "verify_chain",
]
