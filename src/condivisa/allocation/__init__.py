"""Sharing the community's money by its own regulation: exact cents, explicit remainders."""

from condivisa.allocation.cents import eur_to_cents, split_cents
from condivisa.allocation.regulation import (
    UNALLOCATED,
    Allocation,
    AllocationLine,
    Bases,
    apply_regulation,
)

__all__ = [
    "UNALLOCATED",
    "Allocation",
    "AllocationLine",
    "Bases",
    "apply_regulation",
    "eur_to_cents",
    "split_cents",
]
