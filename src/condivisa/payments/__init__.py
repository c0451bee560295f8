"""Paying members: SEPA credit-transfer files (pain.001) built from what a settlement gives them.

:mod:`condivisa.payments.sepa` is pure; storing batches and payments is in :mod:`condivisa.store.payments`.
"""

from condivisa.payments.sepa import (
    SCHEMA,
    Payout,
    Transfer,
    TransferFile,
    build_pain001,
    build_transfer_file,
    end_to_end_id,
    sepa_text,
)

__all__ = [
    "SCHEMA",
    "Payout",
    "Transfer",
    "TransferFile",
    "build_pain001",
    "build_transfer_file",
    "end_to_end_id",
    "sepa_text",
]
