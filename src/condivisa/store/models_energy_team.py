"""Tables of the energy_team part of issue 8 (filled in by its step)."""

from __future__ import annotations
