"""Tables of the strategy tools of issue 8 (filled in by its step)."""

from __future__ import annotations
