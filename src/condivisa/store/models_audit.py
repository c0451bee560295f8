"""Tables of the data-safety part of issue 9 (filled in by its step)."""

from __future__ import annotations
