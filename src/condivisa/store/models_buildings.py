"""Tables of the municipality's buildings service (filled in by its issue-7 step)."""

from __future__ import annotations
